"""GetSuggestions latency and memory of the ENAS service, over the wire, as Katib calls it.

Starts ``python -m katib_nas.enas`` as a real process on a loopback port and drives it with
Katib-shaped requests on Katib's enas-cpu search space (106 operation ids) with 8 layers:
5 suggestions per call; after each call the 5 suggested architectures come back in the next
request as SUCCEEDED trials with a reward, so every call learns from 5 new trials. The history
sent grows to 100 trials and then stays at the newest 100 (Katib would send all; the window keeps
request sizes equal while the service keeps learning on every call).

Figures: the first call's latency (it includes TensorFlow tracing), the median and 90th
percentile of calls 3 and later (the second call is the first that trains, so it traces the
training step), and the service's anonymous resident memory (``RssAnon`` in
``/proc/PID/status``, what a container memory limit cannot reclaim) after calls 20, 100 and 200,
with the growth from call 20 to call 200.

Run: ``python benchmarks/enas_latency_memory.py [--calls 200]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from katib_nas.api import api_pb2, api_pb2_grpc  # noqa: E402
from tests.conformance import experiments as ex  # noqa: E402

PER_CALL, WINDOW = 5, 100


def enas_cpu_experiment() -> api_pb2.Experiment:
    filters = ex.parameter("filter_size", "categorical", ["3", "5", "7"])
    channels = ex.parameter("num_filter", "categorical", ["32", "48", "64", "96", "128"])
    stride = ex.parameter("stride", "categorical", ["1", "2"])
    multiplier = ex.parameter("depth_multiplier", "int", min="1", max="2", step="1")
    operations = [
        ex.operation("convolution", filters, channels, stride),
        ex.operation("separable_convolution", filters, channels, stride, multiplier),
        ex.operation("depthwise_convolution", filters, stride, multiplier),
        ex.operation(
            "reduction",
            ex.parameter("reduction_type", "categorical", ["max_pooling", "avg_pooling"]),
            ex.parameter("pool_size", "int", min="2", max="3", step="1"),
        ),
    ]
    return ex.experiment("enas-cpu", "enas", operations, num_layers=8, parallel=5, max_trials=1000)


def memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile", "VmRSS"):
            fields[key] = int(value.split()[0])
    return fields


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        port_file = Path(workdir) / "port"
        log = (Path(workdir) / "service.log").open("w")
        command = [
            sys.executable,
            "-m",
            "katib_nas.enas",
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--port-file",
            str(port_file),
            "--state-dir",
            str(Path(workdir) / "state"),
        ]
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        try:
            while not port_file.exists():
                if process.poll() is not None:
                    raise RuntimeError(
                        "service exited: " + (Path(workdir) / "service.log").read_text()
                    )
                time.sleep(0.05)
            startup = time.perf_counter() - started
            channel = grpc.insecure_channel(f"127.0.0.1:{port_file.read_text().strip()}")
            stub = api_pb2_grpc.SuggestionStub(channel)
            experiment = enas_cpu_experiment()
            rng = np.random.default_rng(0)
            history: list[api_pb2.Trial] = []
            latencies: list[float] = []
            memory: dict[int, dict[str, int]] = {}
            for call in range(1, args.calls + 1):
                request = ex.request(experiment, PER_CALL, history[-WINDOW:])
                t0 = time.perf_counter()
                reply = stub.GetSuggestions(request, timeout=60)
                latencies.append(time.perf_counter() - t0)
                assert len(reply.parameter_assignments) == PER_CALL
                for index, entry in enumerate(reply.parameter_assignments):
                    assignments = [(a.name, a.value) for a in entry.assignments]
                    metric = [("Validation-Accuracy", f"{rng.uniform(0.5, 0.9):.4f}")]
                    history.append(
                        ex.trial(
                            f"trial-{call}-{index}", ex.CONDITIONS.SUCCEEDED, assignments, metric
                        )
                    )
                if call in (1, 2, 20, 100, 200) or call == args.calls:
                    memory[call] = memory_kib(process.pid)
            channel.close()
        finally:
            process.terminate()
            process.wait(30)
            log.close()

    warm = latencies[2:]
    print(
        f"ENAS GetSuggestions, enas-cpu space (106 ids, 8 layers), {PER_CALL} per call, "
        f"history up to {WINDOW} trials, {args.calls} calls"
    )
    print(f"service start (import, listen): {startup:.2f} s")
    print(
        f"first call (includes tracing): {latencies[0] * 1000:.0f} ms; second call "
        f"(first training step, traced): {latencies[1] * 1000:.0f} ms"
    )
    print(
        f"calls 3..{args.calls}: median {statistics.median(warm) * 1000:.1f} ms, "
        f"p90 {np.percentile(warm, 90) * 1000:.1f} ms, max {max(warm) * 1000:.1f} ms"
    )
    for call, fields in sorted(memory.items()):
        print(
            f"after call {call:>3}: RssAnon {fields['RssAnon'] / 1024:6.1f} MiB, RssFile "
            f"{fields['RssFile'] / 1024:6.1f} MiB, VmRSS {fields['VmRSS'] / 1024:6.1f} MiB"
        )
    last = max(memory)
    if 20 in memory and last > 20:
        growth = memory[last]["RssAnon"] / memory[20]["RssAnon"] - 1
        print(f"RssAnon growth from call 20 to call {last}: {growth * 100:+.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
