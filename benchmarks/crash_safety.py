"""Crash safety of the ENAS service's state: many SIGKILLs, each followed by a restart.

One experiment (Katib's ENAS unit-test search space, 2 suggestions a call) is driven as Katib
drives it, on one state directory, through ``--rounds`` service processes; each is killed with
SIGKILL, in turn at a random moment, while it writes state, and right after a reply (see
``tests/hardening/crash.py``). After every kill the state is checked: it loads, no trial is
learned twice, nothing learned before the last completed call is lost.

Printed: rounds, kills that landed mid-write (the temporary file was left behind), calls
completed, trials learned, property violations (must be 0), temporary files left in the state
directory, and seconds.

Run: ``python benchmarks/crash_safety.py [--rounds 12] [--seed 0]``
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conformance import experiments as ex  # noqa: E402
from tests.hardening.crash import (  # noqa: E402
    KILL_MODES,
    KatibLikeClient,
    check_state,
    crash_round,
    temporary_files,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    client = KatibLikeClient(ex.katib_enas_experiment(), per_call=2, seed=args.seed)
    learned: set[str] = set()
    violations: list[str] = []
    mid_write = {mode: 0 for mode in KILL_MODES}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        state_dir = Path(tmp) / "state"
        for number in range(args.rounds):
            mode = KILL_MODES[number % len(KILL_MODES)]
            result = crash_round(client, Path(tmp) / f"run-{number}", state_dir, mode, rng)
            mid_write[mode] += result.killed_mid_write
            try:
                learned = set(check_state(state_dir, client, learned))
            except AssertionError as error:
                violations.append(f"round {number} ({mode}): {error}")
            print(
                f"round={number} kill={mode} calls={result.completed_calls} "
                f"mid_write={result.killed_mid_write} learned={len(learned)}",
                flush=True,
            )
        left = len(temporary_files(state_dir))

    print(
        f"enas crash safety: rounds={args.rounds} "
        + " ".join(f"mid_write_{m}={n}" for m, n in mid_write.items())
        + f" calls_completed={client.completed_calls} trials_learned={len(learned)} "
        f"violations={len(violations)} temporary_files_left={left} "
        f"seconds={time.perf_counter() - started:.0f}"
    )
    for violation in violations:
        print(f"  violation: {violation}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
