"""``katib-nas run EXPERIMENT.yaml``: the command line of the local runner.

Exit status: 0 when the experiment succeeded (goal or maxTrialCount reached), 1 when it failed
(more than maxFailedTrialCount trials failed), 2 when the Experiment or the options are invalid or
the suggestion service rejected the algorithm settings, 3 when the suggestion service could not be
used, 4 when the work directory could not be written (a full or read-only disk; what was saved
before is kept), 130 when interrupted (run the same command again to continue).
"""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from tqdm import tqdm

from katib_nas.logs import FORMAT
from katib_nas.runner.experiment import ExperimentError, load_experiment
from katib_nas.runner.loop import Runner, RunnerError, RunOptions
from katib_nas.runner.suggestion_client import SettingsRejected, SuggestionError

log = logging.getLogger(__name__)

# Errors of a work directory that cannot be written: full, over quota, read-only, not permitted.
# A path through a file (ENOTDIR) or onto a directory (EISDIR) cannot be written either.
WORKDIR_ERRNOS = (
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EFBIG,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.ENOTDIR,
    errno.EISDIR,
)


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="katib-nas run",
        description="Run a Katib NAS Experiment (enas or darts) on this machine: the suggestion "
        "service, the trials as local processes, results in a work directory.",
    )
    parser.add_argument("experiment", type=Path, help="the Experiment YAML (as for kubectl)")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where results, logs and state go (default: runs/<experiment name>); running "
        "again with the same one continues the run",
    )
    parser.add_argument(
        "--max-trials", type=_positive, default=None, help="override spec.maxTrialCount"
    )
    parser.add_argument(
        "--parallel", type=_positive, default=None, help="override spec.parallelTrialCount"
    )
    parser.add_argument(
        "--suggestion-address",
        default=None,
        metavar="HOST:PORT",
        help="use a running suggestion service instead of starting one",
    )
    parser.add_argument(
        "--trial-timeout",
        type=_positive_seconds,
        default=None,
        metavar="SECONDS",
        help="stop a trial running longer than this and mark it FAILED (DeadlineExceeded); "
        "default: the trial Job's activeDeadlineSeconds, else no limit",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step to stderr")
    return parser


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run ``katib-nas run`` with ``argv`` (without the program name; a leading 'run' is ok)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["run"]:
        args_list = args_list[1:]
    args = build_parser().parse_args(args_list)

    try:
        experiment = load_experiment(args.experiment)
    except ExperimentError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    workdir = args.workdir or Path("runs") / experiment.name
    options = RunOptions(
        workdir=workdir,
        max_trials=args.max_trials,
        parallel=args.parallel,
        suggestion_address=args.suggestion_address,
        progress=not args.no_progress,
        trial_timeout=args.trial_timeout,
    )

    previous = signal.signal(signal.SIGTERM, _terminate)
    handlers: list[logging.Handler] = []
    try:
        handlers = _configure_logging(workdir, verbose=args.verbose)
        outcome = Runner(experiment, options).run()
    except RunnerError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except SettingsRejected as exc:
        sys.stderr.write(
            f"error: the {experiment.algorithm_name} service rejected the Experiment: {exc}\n"
        )
        return 2
    except SuggestionError as exc:
        sys.stderr.write(
            f"error: {exc}\nThe trials that finished are kept in {workdir / 'results.json'}; "
            "run the same command again to continue.\n"
        )
        return 3
    except OSError as exc:
        if exc.errno not in WORKDIR_ERRNOS:
            raise
        sys.stderr.write(
            f"error: cannot write to the work directory {workdir.resolve()}: {exc}\n"
            "Trials recorded as finished in results.json are kept; make the directory "
            "writable (or free space) and run the same command again to continue.\n"
        )
        return 4
    finally:
        signal.signal(signal.SIGTERM, previous)
        root = logging.getLogger()
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()

    hint = f"; {outcome.message}" if outcome.message else ""
    sys.stderr.write(f"{experiment.name}: {outcome.state} ({outcome.reason}{hint})\n")
    sys.stderr.write(f"results: {outcome.results_path}\n")
    if outcome.report_path is not None:
        sys.stderr.write(f"report:  {outcome.report_path}\n")
    if outcome.state == "Interrupted":
        return 130
    return 0 if outcome.state == "Succeeded" else 1


class _ProgressSafeHandler(logging.Handler):
    """Log records to stderr through tqdm, so they do not tear the progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:
            self.handleError(record)


def _configure_logging(workdir: Path, verbose: bool) -> list[logging.Handler]:
    """INFO and above to ``workdir/runner.log``; warnings (everything with -v) to stderr."""
    workdir.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter(FORMAT)
    to_file = logging.FileHandler(workdir / "runner.log", encoding="utf-8")
    to_file.setLevel(logging.INFO)
    to_console = _ProgressSafeHandler(logging.INFO if verbose else logging.WARNING)
    handlers: list[logging.Handler] = [to_file, to_console]
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    return handlers
