"""The long wire-fuzzing run: the properties of ``tests/hardening/test_fuzz_wire.py``, with a
fresh random seed and many more examples, against one long-lived process per service.

Each service gets ``--examples`` examples, split as in the test run (35 % ValidateAlgorithm-
Settings, 40 % GetSuggestions with ValidateAlgorithmSettings on the same experiment, 25 % raw
corrupted bytes). The first failing example stops the run with hypothesis's minimal
reproduction and the seed to replay it.

Printed per service: examples run, outcomes by RPC and status code, examples a second, the
service's resident memory at the start and the end (``VmRSS``) and its peak (``VmHWM``).

Run: ``python benchmarks/fuzz_long.py [--examples 10000] [--seed N] [--algorithms darts enas]``
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.hardening import properties  # noqa: E402
from tests.hardening.load import memory_kib  # noqa: E402
from tests.hardening.profiles import FuzzProfile, profiles, start_args  # noqa: E402
from tests.processes import ServiceProcess, start_service  # noqa: E402

SHARES = {"validate": 0.35, "suggest": 0.40, "bytes": 0.25}


def fuzz(profile: FuzzProfile, process: ServiceProcess, examples: int, run_seed: int) -> Counter:
    outcomes: Counter[str] = Counter()

    def options(kind: str) -> settings:
        return settings(
            max_examples=max(1, round(examples * SHARES[kind])),
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )

    @seed(run_seed)
    @options("validate")
    @given(data=st.data())
    def validate(data: st.DataObject) -> None:
        experiment = data.draw(profile.experiments(), label="experiment")
        outcomes[properties.validate_property(process, experiment)] += 1

    @seed(run_seed + 1)
    @options("suggest")
    @given(data=st.data())
    def suggest(data: st.DataObject) -> None:
        request = data.draw(profile.requests(), label="request")
        outcomes[properties.suggest_property(profile, process, request)] += 1

    @seed(run_seed + 2)
    @options("bytes")
    @given(data=st.data())
    def raw_bytes(data: st.DataObject) -> None:
        method = data.draw(st.sampled_from(properties.METHODS), label="method")
        strategy = properties.corrupted_requests(profile.algorithm, method)
        outcomes[properties.bytes_property(process, method, data.draw(strategy))] += 1

    validate()
    suggest()
    raw_bytes()
    return outcomes


def main() -> int:
    available = profiles()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10000, help="examples per service")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one")
    parser.add_argument("--algorithms", nargs="+", default=sorted(available))
    args = parser.parse_args()
    run_seed = random.randrange(2**32) if args.seed is None else args.seed
    print(f"seed={run_seed} (replay with --seed {run_seed})", flush=True)

    for algorithm in args.algorithms:
        profile = available[algorithm]
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            process = start_service(algorithm, workdir, *start_args(profile, workdir))
            try:
                start_kib = memory_kib(process.process.pid)
                started = time.perf_counter()
                outcomes = fuzz(profile, process, args.examples, run_seed)
                seconds = time.perf_counter() - started
                end_kib = memory_kib(process.process.pid)
                peak_kib = memory_kib(process.process.pid, "VmHWM")
            finally:
                code = process.stop()
            total = sum(outcomes.values())
            print(
                f"{algorithm}: examples={total} failures=0 examples_per_s={total / seconds:.0f} "
                f"rss_mib_start={start_kib / 1024:.0f} rss_mib_end={end_kib / 1024:.0f} "
                f"peak_rss_mib={peak_kib / 1024:.0f} exit_code={code}"
            )
            for label, count in sorted(outcomes.items()):
                print(f"  {label}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
