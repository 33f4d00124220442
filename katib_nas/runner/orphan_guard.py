"""Run a command that dies with the process that started it, even when that one is SIGKILLed.

``python -m katib_nas.runner.orphan_guard PARENT_PID -- COMMAND...`` asks Linux
(``prctl(PR_SET_PDEATHSIG)``) to kill this process when its parent exits, checks the parent is
still ``PARENT_PID`` (it may have died before the request), then replaces itself with
``COMMAND``; the request survives ``exec``. The runner starts trials and the suggestion service
this way, so killing the runner never leaves them running in the background.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: python -m katib_nas.runner.orphan_guard PARENT_PID -- CMD...\n")
        return 2
    parent = int(argv[0])
    command = argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        sys.stderr.write(f"orphan_guard: prctl failed: {os.strerror(ctypes.get_errno())}\n")
    if os.getppid() != parent:
        return 1
    os.execvp(command[0], command)
    return 127  # not reached: execvp replaces this process or raises


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
