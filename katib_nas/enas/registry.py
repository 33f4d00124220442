"""The experiments a service process holds in memory, with locking and idle eviction.

One :class:`ExperimentRegistry` serves every experiment of a process. Calls for the same
experiment run one at a time (a lock per experiment); calls for different experiments run in
parallel. An experiment not asked about for ``idle_seconds`` is dropped from memory; its state
stays on disk and is read back on its next call.

When the search space or the settings of a request differ from those stored for the same
experiment name (a fingerprint mismatch), the name now denotes a different experiment: Katib
never changes a running experiment's ``nas_config`` or algorithm settings, so this happens
when an experiment is deleted and created again under the same name while the service or its
volume lives on. The old state is moved aside (``<file>.replaced-<fingerprint>.npz``), a
warning names what changed, and the experiment starts afresh. Answering with an error instead
would not help: Katib retries ``GetSuggestions`` forever on any error, so the new experiment
would hang.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from katib_nas.enas.experiment import EnasExperiment, describe_changes, fingerprint_of
from katib_nas.enas.history import Objective
from katib_nas.enas.search_space import SearchSpace
from katib_nas.enas.state import StateStore

logger = logging.getLogger(__name__)

DEFAULT_IDLE_SECONDS = 1800.0
TRIM_EVERY_CALLS = 20


@dataclass
class _Entry:
    experiment: EnasExperiment
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = 0.0
    users: int = 0


class ExperimentRegistry:
    def __init__(
        self,
        store: StateStore,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        seed: int | None = None,
    ) -> None:
        self.store = store
        self.idle_seconds = idle_seconds
        self.clock = clock
        self.seed = seed
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @contextlib.contextmanager
    def use(
        self, name: str, space: SearchSpace, settings: dict[str, Any], objective: Objective
    ) -> Iterator[EnasExperiment]:
        """The live experiment ``name``, loaded or created, held exclusively while in use."""
        entry = self._acquire(name, space, settings, objective)
        try:
            with entry.lock:
                fingerprint, _ = fingerprint_of(space, settings, objective)
                if entry.experiment.fingerprint != fingerprint:
                    entry.experiment = self._replace(entry.experiment, space, settings, objective)
                traced_before = entry.experiment.controller.tracing_count()
                yield entry.experiment
                traced = entry.experiment.controller.tracing_count() > traced_before
            with self._lock:
                self._calls += 1
                periodic = self._calls % TRIM_EVERY_CALLS == 0
            if traced or periodic:
                release_free_heap()
        finally:
            with self._lock:
                entry.users -= 1
                entry.last_used = self.clock()

    def evict_idle(self) -> list[str]:
        """Drop experiments idle for ``idle_seconds`` from memory; returns their names."""
        now = self.clock()
        with self._lock:
            idle = [
                name
                for name, entry in self._entries.items()
                if entry.users == 0 and now - entry.last_used >= self.idle_seconds
            ]
            for name in idle:
                del self._entries[name]
        for name in idle:
            logger.info("experiment evicted from memory experiment=%s", name)
        return idle

    def _acquire(
        self, name: str, space: SearchSpace, settings: dict[str, Any], objective: Objective
    ) -> _Entry:
        self.evict_idle()
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                entry = _Entry(self._load_or_create(name, space, settings, objective))
                self._entries[name] = entry
            entry.users += 1
            return entry

    def _load_or_create(
        self, name: str, space: SearchSpace, settings: dict[str, Any], objective: Objective
    ) -> EnasExperiment:
        try:
            stored = self.store.load(name)
        except ValueError as exc:
            archived = self.store.archive(name, "unreadable0000")
            logger.warning(
                "state unreadable, starting afresh experiment=%s error=%s moved_to=%s",
                name,
                exc,
                archived,
            )
            stored = None
        fingerprint, description = fingerprint_of(space, settings, objective)
        if stored is not None and stored.fingerprint != fingerprint:
            self._archive_replaced(name, stored.fingerprint, stored.description, description)
            stored = None
        experiment = EnasExperiment(
            name, space, settings, objective, self.store, stored, self.seed
        )
        if stored is not None:
            logger.info(
                "experiment restored experiment=%s learned=%d calls=%d",
                name,
                len(stored.learned),
                stored.calls,
            )
        return experiment

    def _replace(
        self,
        old: EnasExperiment,
        space: SearchSpace,
        settings: dict[str, Any],
        objective: Objective,
    ) -> EnasExperiment:
        _, description = fingerprint_of(space, settings, objective)
        self._archive_replaced(old.name, old.fingerprint, old.description, description)
        return EnasExperiment(old.name, space, settings, objective, self.store, None, self.seed)

    def _archive_replaced(
        self, name: str, fingerprint: str, old: dict[str, Any], new: dict[str, Any]
    ) -> None:
        """Move the state of a replaced experiment aside and say what changed."""
        archived = self.store.archive(name, fingerprint)
        logger.warning(
            "search space or settings differ from the stored state, starting afresh "
            "experiment=%s changes=%r old_state=%s",
            name,
            describe_changes(old, new),
            archived,
        )


def release_free_heap() -> None:
    """Return freed heap pages to the OS (glibc ``malloc_trim``); a no-op elsewhere.

    Tracing the controller's TensorFlow functions (on an experiment's first sampling and first
    training call) allocates and frees tens of MiB; glibc keeps those pages, which count as
    anonymous memory against a container's limit although nothing uses them. The registry calls
    this after every call that traced and every ``TRIM_EVERY_CALLS`` calls.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, looked up once (finding libc runs ``ldconfig``), or None."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    trim: Callable[[int], int] | None = getattr(ctypes.CDLL(name), "malloc_trim", None)
    return trim
