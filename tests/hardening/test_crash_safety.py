"""SIGKILL an ENAS service at random moments, including while it writes state, and restart it.

See :mod:`tests.hardening.crash` for what each kill mode does and what must hold after it;
``benchmarks/crash_safety.py`` runs many more rounds.
"""

from __future__ import annotations

import random

from tests.conformance import experiments as ex
from tests.hardening.crash import KatibLikeClient, check_state, crash_round

TEST_KILL_MODES = ("write", "random")


def test_kills_at_any_moment_lose_nothing_and_learn_nothing_twice(tmp_path):
    state_dir = tmp_path / "state"
    client = KatibLikeClient(ex.katib_enas_experiment(), per_call=2, seed=7)
    rng = random.Random(7)
    learned: set[str] = set()
    mid_write = 0

    # The test run kills twice (mid-write, then at a random moment); the benchmark also kills
    # right after replies, over many more rounds.
    for number, mode in enumerate(TEST_KILL_MODES):
        result = crash_round(client, tmp_path / f"run-{number}", state_dir, mode, rng)
        assert result.completed_calls >= 1, mode
        mid_write += result.killed_mid_write
        learned = set(check_state(state_dir, client, learned))

    # Each round after the first began by resending the request the kill interrupted, so the
    # restarted service answered it and learned from its trials (checked by check_state).
    assert len(learned) >= 2 * (len(TEST_KILL_MODES) - 1)
    assert mid_write >= 1, "no kill landed while the state was being written"
