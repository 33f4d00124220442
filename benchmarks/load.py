"""Load on the suggestion services: many concurrent clients, latency, errors and memory.

For each service (a real ``python -m katib_nas.<algorithm>`` process on a loopback port):

1. **Load**: 32 client threads, each on its own channel, share 500 GetSuggestions calls over 4
   experiments (2 suggestions a call; every suggestion returns in later requests as a SUCCEEDED
   trial, so the history grows as Katib sends it and ENAS learns on every call). Printed: calls,
   errors, calls a second, p50 / p99 / max latency, and the service's peak resident memory
   (``VmHWM``).
2. **Memory over 2,000 calls**: the same load continued for 2,000 more calls on the same
   process, on 4 new experiments, each request carrying the newest 100 trials of its history
   (so that every call does the same work: the full history would make requests, and the
   memory that parses them, grow with the experiment, which is not a leak). The resident memory
   (``VmRSS``) is sampled every 100 calls. Printed: memory after the first 500 of them (warm),
   at the end, and the growth between the two in MiB and as a ratio; flat memory means a
   ratio near 1.00 while ENAS keeps learning on every call.

Run: ``python benchmarks/load.py [--algorithms darts enas] [--calls 500] [--memory-calls 2000]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from katib_nas.api import api_pb2  # noqa: E402
from tests.conformance import experiments as ex  # noqa: E402
from tests.hardening.load import LoadResult, run_load  # noqa: E402
from tests.processes import start_service  # noqa: E402


def darts_experiment(name: str) -> api_pb2.Experiment:
    experiment = ex.katib_darts_experiment()
    experiment.name = name
    return experiment


def enas_experiment(name: str) -> api_pb2.Experiment:
    experiment = ex.katib_enas_experiment()
    experiment.name = name
    return experiment


EXPERIMENTS: dict[str, Callable[[str], api_pb2.Experiment]] = {
    "darts": darts_experiment,
    "enas": enas_experiment,
}


HISTORY_WINDOW = 100


def service_args(algorithm: str, workdir: Path) -> list[str]:
    return ["--state-dir", str(workdir / "state"), "--seed", "0"] if algorithm == "enas" else []


def report_load(algorithm: str, result: LoadResult, clients: int, experiments: int) -> None:
    print(
        f"{algorithm}: load {result.calls} calls, {clients} clients, {experiments} experiments: "
        f"errors={len(result.errors)} calls_per_s={result.calls / result.seconds:.1f} "
        f"p50_ms={result.percentile(0.50):.1f} p99_ms={result.percentile(0.99):.1f} "
        f"max_ms={max(result.latencies_ms):.1f} peak_rss_mib={result.peak_kib / 1024:.1f}"
    )
    for error in sorted(set(result.errors))[:5]:
        print(f"  error: {error}")


def report_memory(algorithm: str, result: LoadResult) -> None:
    samples = dict(result.memory)
    warm_at = min(samples, key=lambda calls: abs(calls - result.calls / 4))
    warm, end = samples[warm_at], result.memory[-1][1]
    print(
        f"{algorithm}: memory over {result.calls} more calls: errors={len(result.errors)} "
        f"rss_mib_after_{warm_at}={warm / 1024:.1f} rss_mib_end={end / 1024:.1f} "
        f"growth_mib={(end - warm) / 1024:+.1f} ratio_end_to_warm={end / warm:.3f} "
        f"p50_ms={result.percentile(0.50):.1f} p99_ms={result.percentile(0.99):.1f}"
    )
    print("  rss_mib by calls: " + " ".join(f"{c}:{k / 1024:.0f}" for c, k in result.memory))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithms", nargs="+", default=sorted(EXPERIMENTS))
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--experiments", type=int, default=4)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--memory-calls", type=int, default=2000)
    args = parser.parse_args()

    failed = False
    for algorithm in args.algorithms:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            service = start_service(algorithm, workdir, *service_args(algorithm, workdir))
            try:
                options = {"clients": args.clients, "experiments": args.experiments}
                make = EXPERIMENTS[algorithm]
                load = run_load(
                    service.address, service.process.pid, make, calls=args.calls, **options
                )
                report_load(algorithm, load, args.clients, args.experiments)
                memory = run_load(
                    service.address,
                    service.process.pid,
                    make,
                    calls=args.memory_calls,
                    memory_every=100,
                    seed=1,
                    name_prefix="memory",
                    history_window=HISTORY_WINDOW,
                    **options,
                )
                report_memory(algorithm, memory)
                failed |= bool(load.errors or memory.errors)
            finally:
                service.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
