"""Kill an ENAS service with SIGKILL at chosen moments and check its state after each kill.

A :class:`KatibLikeClient` drives one experiment as Katib's controller does: every request
carries the whole trial history, every suggestion comes back later as a SUCCEEDED trial with a
reward, and a request that failed (the service died) is sent again to the restarted service.

A round starts the service on the shared state directory, makes calls until the service is
killed, and then checks the state files (:func:`check_state`). Kill moments:

* ``random``: a uniformly random delay after the round's first completed call;
* ``write``: the moment a temporary state file appears, i.e. while the service writes state
  (the round reports whether the kill landed before the file was renamed into place);
* ``after_reply``: right after a reply arrived, before the next call.

What must hold after every kill: each state file loads; no trial name is learned twice and the
reward baseline has consumed exactly one reward per learned trial; every trial of the last
completed request is learned (nothing learned before the last completed call is lost); the
learned set only grows from round to round; and only trials that were sent are learned.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np

from katib_nas.api import api_pb2
from tests.conformance import experiments as ex
from tests.processes import ServiceProcess, start_service

SUCCEEDED = ex.CONDITIONS.SUCCEEDED
KILL_MODES = ("random", "write", "after_reply")


class KatibLikeClient:
    def __init__(self, experiment: api_pb2.Experiment, per_call: int = 2, seed: int = 0):
        self.experiment = experiment
        self.per_call = per_call
        self.rng = random.Random(seed)
        self.history: list[api_pb2.Trial] = []
        self.sent_succeeded: set[str] = set()
        # The SUCCEEDED trials of the last request the service answered.
        self.last_completed: set[str] = set()
        self.completed_calls = 0

    def request(self) -> api_pb2.GetSuggestionsRequest:
        return ex.request(self.experiment, self.per_call, self.history)

    def call(self, service: ServiceProcess) -> bool:
        """One call; False when the service did not answer (it was killed)."""
        request = self.request()
        names = {t.name for t in request.trials if t.status.condition == SUCCEEDED}
        self.sent_succeeded |= names
        try:
            reply = service.stub.GetSuggestions(request, timeout=120)
        except grpc.RpcError:
            return False
        assert len(reply.parameter_assignments) == self.per_call
        self.last_completed = names
        self.completed_calls += 1
        for entry in reply.parameter_assignments:
            assignments = [(a.name, a.value) for a in entry.assignments]
            metric = ("Validation-Accuracy", f"{self.rng.uniform(0.1, 0.9):.4f}")
            name = f"trial-{len(self.history)}"
            self.history.append(ex.trial(name, SUCCEEDED, assignments, [metric]))
        return True


@dataclass
class RoundResult:
    mode: str
    completed_calls: int
    # For "write": whether the kill left the temporary file behind (it landed mid-write).
    killed_mid_write: bool = False
    learned: list[str] = field(default_factory=list)


def temporary_files(state_dir: Path) -> set[str]:
    return {p.name for p in state_dir.glob(".*.tmp")} if state_dir.exists() else set()


class _Killer(threading.Thread):
    """Sends SIGKILL to the service when the round's kill moment comes."""

    def __init__(self, mode: str, service: ServiceProcess, state_dir: Path, rng: random.Random):
        super().__init__(daemon=True)
        self.mode = mode
        self.service = service
        self.state_dir = state_dir
        self.rng = rng
        self.armed = threading.Event()
        self.done = threading.Event()
        self.mid_write = False

    def run(self) -> None:
        if not self.armed.wait(120) or self.mode == "after_reply":
            return
        if self.mode == "random":
            time.sleep(self.rng.uniform(0.0, 1.5))
        else:
            before = temporary_files(self.state_dir)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not self.done.is_set():
                if temporary_files(self.state_dir) - before:
                    break
        self.kill()

    def kill(self) -> None:
        if self.service.process.poll() is None:
            os.kill(self.service.process.pid, signal.SIGKILL)


def crash_round(
    client: KatibLikeClient, workdir: Path, state_dir: Path, mode: str, rng: random.Random
) -> RoundResult:
    """Start the service, call it until it is killed in ``mode``, and wait for it to die.

    ``workdir`` must be new (it receives the service's port file and log).
    """
    workdir.mkdir(parents=True)
    left_before = temporary_files(state_dir)
    service = start_service(
        "enas", workdir, "--state-dir", str(state_dir), "--seed", "0", timeout=120
    )
    killer = _Killer(mode, service, state_dir, rng)
    killer.start()
    completed = 0
    calls_before_kill = rng.randint(1, 3)
    try:
        while client.call(service):
            completed += 1
            if completed >= calls_before_kill:
                killer.armed.set()
                if mode == "after_reply":
                    killer.kill()
            if completed > 200:
                raise AssertionError(f"the {mode} kill never came")
    finally:
        killer.done.set()
        killer.kill()
        service.process.wait(30)
        service.channel.close()
        killer.join(5)
    mid_write = bool(temporary_files(state_dir) - left_before)
    return RoundResult(mode, completed, killed_mid_write=mid_write)


def check_state(state_dir: Path, client: KatibLikeClient, learned_before: set[str]) -> list[str]:
    """Assert every property a kill must not break; returns the learned trial names."""
    from katib_nas.enas.state import StateStore

    for path in state_dir.glob("enas-*.npz"):
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                data[key]  # every array must read back in full
    state = StateStore(state_dir).load(client.experiment.name)
    assert state is not None, (
        f"no state for {client.experiment.name} in {sorted(os.listdir(state_dir))}"
    )
    learned = list(state.learned)

    assert len(learned) == len(set(learned)), f"a trial learned twice: {learned}"
    assert state.baseline_count == len(learned), (state.baseline_count, len(learned))
    lost = client.last_completed - set(learned)
    assert not lost, f"learned before the last completed call, then lost: {sorted(lost)}"
    assert learned_before <= set(learned), sorted(learned_before - set(learned))
    assert set(learned) <= client.sent_succeeded, sorted(set(learned) - client.sent_succeeded)
    return learned
