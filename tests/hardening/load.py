"""A load generator for a suggestion service: many concurrent clients over a few experiments.

Each client has its own channel (its own HTTP/2 connection, as separate controllers would)
and takes call tickets from a shared counter until the planned number of calls is done. Call
``i`` goes to experiment ``i mod E`` and carries that experiment's whole trial history, as
Katib's controller sends it; every suggestion that comes back joins the history as a
SUCCEEDED trial with a random objective value, so the services learn on every call. The
service's resident memory is sampled from ``/proc`` as calls complete.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from katib_nas.api import api_pb2, api_pb2_grpc
from tests.conformance import experiments as ex

SUCCEEDED = ex.CONDITIONS.SUCCEEDED


def memory_kib(pid: int, field_name: str = "VmRSS") -> int:
    """A memory figure of a process from /proc (VmRSS now, VmHWM the peak), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    raise KeyError(f"{field_name} not in /proc/{pid}/status")


@dataclass
class LoadResult:
    calls: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # (calls completed, resident KiB) pairs.
    memory: list[tuple[int, int]] = field(default_factory=list)
    peak_kib: int = 0
    seconds: float = 0.0

    def percentile(self, q: float) -> float:
        """The ``q``-quantile (0..1) of the latencies, nearest-rank."""
        ordered = sorted(self.latencies_ms)
        rank = max(1, round(q * len(ordered) + 0.5 - 1e-9))
        return ordered[min(rank, len(ordered)) - 1]


class _History:
    """The trials of one experiment so far; appended to by whichever client got the reply."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.trials: list[api_pb2.Trial] = []
        self.lock = threading.Lock()

    def snapshot(self, window: int | None = None) -> list[api_pb2.Trial]:
        """The whole history, or its newest ``window`` trials."""
        with self.lock:
            return list(self.trials if window is None else self.trials[-window:])

    def record(self, reply: api_pb2.GetSuggestionsReply, rng: random.Random) -> None:
        with self.lock:
            for entry in reply.parameter_assignments:
                assignments = [(a.name, a.value) for a in entry.assignments]
                metric = ("Validation-Accuracy", f"{rng.uniform(0.1, 0.9):.4f}")
                name = f"{self.name}-trial-{len(self.trials)}"
                self.trials.append(ex.trial(name, SUCCEEDED, assignments, [metric]))


def run_load(
    address: str,
    pid: int,
    make_experiment: Callable[[str], api_pb2.Experiment],
    *,
    clients: int = 32,
    experiments: int = 4,
    calls: int = 500,
    per_call: int = 2,
    memory_every: int = 50,
    seed: int = 0,
    name_prefix: str = "load",
    history_window: int | None = None,
    timeout_s: float = 120.0,
) -> LoadResult:
    """Make ``calls`` GetSuggestions calls from ``clients`` threads; never raises for RPCs.

    The experiments are named ``{name_prefix}-0`` ... ``{name_prefix}-{experiments - 1}``.
    ``history_window`` sends only the newest trials of each history (Katib sends them all), so
    that every call does the same work and memory growth can only be a leak.
    """
    histories = [_History(f"{name_prefix}-{index}") for index in range(experiments)]
    specs = [make_experiment(history.name) for history in histories]
    result = LoadResult()
    tickets = iter(range(calls))
    guard = threading.Lock()

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        with grpc.insecure_channel(address) as channel:
            stub = api_pb2_grpc.SuggestionStub(channel)
            while True:
                with guard:
                    ticket = next(tickets, None)
                if ticket is None:
                    return
                history = histories[ticket % experiments]
                trials = history.snapshot(history_window)
                request = ex.request(specs[ticket % experiments], per_call, trials)
                started = time.perf_counter()
                try:
                    reply = stub.GetSuggestions(request, timeout=timeout_s)
                except grpc.RpcError as error:
                    with guard:
                        result.errors.append(f"{error.code().name}: {error.details()}")
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                if len(reply.parameter_assignments) != per_call:
                    with guard:
                        result.errors.append(f"{len(reply.parameter_assignments)} suggestions")
                history.record(reply, rng)
                with guard:
                    result.latencies_ms.append(elapsed)
                    result.calls += 1
                    if result.calls % memory_every == 0:
                        result.memory.append((result.calls, memory_kib(pid)))

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    result.peak_kib = memory_kib(pid, "VmHWM")
    return result
