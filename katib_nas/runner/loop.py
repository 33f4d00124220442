"""The controller loop: Katib's experiment and suggestion controllers, for one machine.

Each turn of the loop, as Katib's controllers do (contract section 9):

1. Finished trial processes are collected: exit code 0 with the objective metric reported is
   SUCCEEDED, exit code 0 without it METRICSUNAVAILABLE, any other exit FAILED. A trial running
   longer than its deadline (the trial Job's ``activeDeadlineSeconds``, or ``--trial-timeout``)
   is stopped and FAILED with reason ``DeadlineExceeded``, as Kubernetes fails such a Job.
2. The experiment ends when a SUCCEEDED trial's objective value reaches the goal
   (``>= goal`` when maximising, ``<= goal`` when minimising; running trials are stopped), when
   more than ``maxFailedTrialCount`` trials have FAILED, or when ``maxTrialCount`` trials have
   completed.
3. Otherwise ``add = min(parallel, maxTrialCount - completed) - active`` new trials are asked
   for: one ``GetSuggestions`` call with ``current_request_number = add``,
   ``total_request_number = len(trials) + add`` and the full trial history (every trial of any
   state except METRICSUNAVAILABLE, metric values chosen by the metric strategies).

State lives in the work directory: ``results.json`` (rewritten atomically at every change), one
directory and log per trial, the suggestion service's log and, for ENAS, its controller state.
Running the same command again continues: finished trials are kept, trials that were running
when the runner stopped are run again with the same assignments, and the ENAS service restarts
from its saved state.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import math
import os
import secrets
import string
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from katib_nas.api import api_pb2
from katib_nas.runner import report
from katib_nas.runner.admission import ALGORITHM_ASSIGNMENTS
from katib_nas.runner.experiment import Experiment, to_api
from katib_nas.runner.history import suggestions_request
from katib_nas.runner.metrics import collect_file, parse_float
from katib_nas.runner.results import (
    CREATED,
    FAILED,
    INTERRUPTED,
    KILLED,
    METRICS_UNAVAILABLE,
    RUNNING,
    SUCCEEDED,
    Results,
    TrialRecord,
    now,
)
from katib_nas.runner.suggestion_client import SuggestionError, SuggestionService
from katib_nas.runner.trials import (
    TrialCommandError,
    TrialProcess,
    build_command,
    trial_environment,
)

log = logging.getLogger(__name__)


DEADLINE_EXCEEDED = "DeadlineExceeded"


class RunnerError(RuntimeError):
    """The run cannot go on (a work directory of another experiment, a bad suggestion...)."""


@dataclass
class RunOptions:
    workdir: Path
    max_trials: int | None = None
    parallel: int | None = None
    suggestion_address: str | None = None
    poll_interval: float = 0.25
    stop_grace: float = 10.0
    progress: bool = True
    trial_timeout: float | None = None


RESUME_HINT = "run the same command again to continue"


@dataclass
class Outcome:
    state: str
    reason: str
    message: str
    results_path: Path
    report_path: Path | None


class Runner:
    """Runs one Experiment in one work directory; :meth:`run` returns how it ended."""

    def __init__(self, experiment: Experiment, options: RunOptions) -> None:
        self.experiment = experiment
        self.options = options
        self.workdir = options.workdir.resolve()
        self.results_path = self.workdir / "results.json"
        self.max_trials = options.max_trials or experiment.max_trial_count
        self.parallel = options.parallel or experiment.parallel_trial_count
        self.max_failed = experiment.max_failed_trial_count
        self.trial_timeout = options.trial_timeout or _active_deadline(experiment)
        self.running: dict[str, TrialProcess] = {}
        self._lock = self._lock_workdir()
        self.results = self._load_or_create()
        self.env = trial_environment(experiment)
        self.bar: tqdm[Any] | None = None
        self._shown: tuple[int, str] | None = None

    # -- state -------------------------------------------------------------------------------

    def _lock_workdir(self) -> IO[str]:
        """Hold ``runner.lock`` so that a second runner on the same work directory stops.

        Two runners would start the same trials twice and overwrite each other's results. The
        lock is the kernel's (``flock``): it goes with the process, even one killed by SIGKILL.
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        handle = open(self.workdir / "runner.lock", "a+", encoding="utf-8")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            raise RunnerError(
                f"{self.workdir} is in use by another katib-nas run (pid {owner}); wait for it "
                "to end or stop it, or choose another --workdir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return handle

    def _load_or_create(self) -> Results:
        self.workdir.mkdir(parents=True, exist_ok=True)
        objective = self.experiment.objective
        header = {
            "name": self.experiment.name,
            "algorithm": self.experiment.algorithm_name,
            "objective": {
                "type": objective.type,
                "metric": objective.objective_metric_name,
                "goal": objective.goal,
                "strategies": objective.metric_strategies,
            },
            "fingerprint": self.experiment.fingerprint(),
            "file": str(self.experiment.source_dir),
        }
        if not self.results_path.exists():
            results = Results(experiment=header)
            results.save(self.results_path)
            return results

        try:
            results = Results.load(self.results_path)
        except (ValueError, KeyError, TypeError) as exc:
            raise RunnerError(
                f"{self.results_path} cannot be read ({type(exc).__name__}: {exc}); it is left "
                "as it is: move it away to start afresh, or choose another --workdir"
            ) from exc
        if results.experiment.get("fingerprint") != header["fingerprint"]:
            raise RunnerError(
                f"{self.workdir} holds a run of a different experiment "
                f"({results.experiment.get('name')!r}, or the same name with another search "
                "space, objective or trial template); choose another --workdir"
            )
        for record in results.trials:
            if record.condition in (RUNNING, CREATED) or record.reason == INTERRUPTED:
                log.info("trial=%s resumed: runs again with the same assignments", record.name)
                record.condition, record.reason = CREATED, ""
                record.metrics, record.exit_code = {}, None
                record.start_time = record.end_time = ""
        results.experiment = header
        results.status = {"state": "Running", "reason": "", "message": ""}
        results.save(self.results_path)
        return results

    def _save(self) -> None:
        self.results.save(self.results_path)

    def _count(self, *conditions: str) -> int:
        return sum(1 for t in self.results.trials if t.condition in conditions and t.finished)

    @property
    def completed(self) -> int:
        return sum(1 for t in self.results.trials if t.finished)

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> Outcome:
        """Run until the experiment ends or the user interrupts it (KeyboardInterrupt)."""
        try:
            return self._run()
        finally:
            self._lock.close()  # releases the work directory for the next run

    def _run(self) -> Outcome:
        state_dir = (
            self.workdir / "enas-state" if self.experiment.algorithm_name == "enas" else None
        )
        service = SuggestionService(
            self.experiment.algorithm_name,
            self.workdir,
            address=self.options.suggestion_address,
            state_dir=state_dir,
        )
        self.bar = tqdm(
            total=self.max_trials,
            unit="trial",
            file=sys.stderr,
            disable=not self.options.progress,
            dynamic_ncols=True,
            desc=self.experiment.name,
        )
        try:
            service.start()
            service.validate(self._api_experiment)
            log.info(
                "experiment=%s algorithm=%s validated max_trials=%s parallel=%d",
                self.experiment.name,
                self.experiment.algorithm_name,
                self.max_trials,
                self.parallel,
            )
            state, reason = self._drive(service)
        except KeyboardInterrupt:
            self._stop_running(INTERRUPTED)
            state, reason = "Interrupted", INTERRUPTED
        except BaseException:
            self._stop_running(INTERRUPTED)
            self.results.status = {"state": "Failed", "reason": "RunnerError", "message": ""}
            self._save()
            raise
        finally:
            service.close()
            self.bar.close()
        message = RESUME_HINT if state == "Interrupted" else ""
        self.results.status = {"state": state, "reason": reason, "message": message}
        self._save()
        report_path = self._write_report()
        log.info(
            "experiment=%s state=%s reason=%s results=%s",
            self.experiment.name,
            state,
            reason,
            self.results_path,
        )
        return Outcome(state, reason, message, self.results_path, report_path)

    def _drive(self, service: SuggestionService) -> tuple[str, str]:
        self._refresh_bar()
        while True:
            self._collect_finished()
            ended = self._termination()
            if ended is not None:
                state, reason = ended
                self._stop_running(reason)
                return state, reason
            self._start_pending()
            add = self._wanted()
            if add > 0:
                self._request(service, add)
                self._start_pending()
            self._refresh_bar()
            time.sleep(self.options.poll_interval)

    def _termination(self) -> tuple[str, str] | None:
        goal = self.experiment.objective.goal
        if goal is not None and self._goal_reached(goal):
            return "Succeeded", "GoalReached"
        failed = self._count(FAILED)
        if self.max_failed is not None and failed > self.max_failed:
            return "Failed", "MaxFailedTrialsReached"
        if self.max_trials is not None and self.completed >= self.max_trials and not self.running:
            return "Succeeded", "MaxTrialsReached"
        return None

    def _goal_reached(self, goal: float) -> bool:
        maximise = self.experiment.objective.type == "maximize"
        for record in self.results.trials:
            if record.condition != SUCCEEDED:
                continue
            value = parse_float(self.results.objective_value(record))
            if value is None or math.isnan(value):
                continue
            if (maximise and value >= goal) or (not maximise and value <= goal):
                return True
        return False

    def _wanted(self) -> int:
        active = sum(1 for t in self.results.trials if t.condition in (CREATED, RUNNING))
        if self.max_trials is None:
            return self.parallel - active
        return min(self.parallel, self.max_trials - self.completed) - active

    # -- suggestions -------------------------------------------------------------------------

    @functools.cached_property
    def _api_experiment(self) -> api_pb2.Experiment:
        """The Experiment as sent on the wire; the same for every call of the run."""
        return to_api(
            self.experiment, parallel_trial_count=self.parallel, max_trial_count=self.max_trials
        )

    def build_request(self, add: int) -> api_pb2.GetSuggestionsRequest:
        """The GetSuggestions request for ``add`` new trials, with the whole trial history."""
        return suggestions_request(
            self._api_experiment, self.results.trials, self.experiment.objective, add
        )

    def _request(self, service: SuggestionService, add: int) -> None:
        reply = service.get_suggestions(self.build_request(add))
        expected = set(ALGORITHM_ASSIGNMENTS[self.experiment.algorithm_name])
        for entry in reply.parameter_assignments:
            assignments = {a.name: a.value for a in entry.assignments}
            if set(assignments) != expected or len(entry.assignments) != len(expected):
                raise SuggestionError(
                    f"the {self.experiment.algorithm_name} service returned assignments "
                    f"{[a.name for a in entry.assignments]}, expected {sorted(expected)}"
                )
            name = entry.trial_name or self._new_trial_name()
            self.results.trials.append(TrialRecord(name=name, assignments=assignments))
            log.info("trial=%s created assignments=%s", name, assignments)
        self._save()

    def _new_trial_name(self) -> str:
        alphabet = string.ascii_lowercase + string.digits
        taken = {t.name for t in self.results.trials}
        while True:
            name = f"{self.experiment.name}-{''.join(secrets.choice(alphabet) for _ in range(8))}"
            if name not in taken:
                return name

    # -- trials ------------------------------------------------------------------------------

    def _start_pending(self) -> None:
        for record in self.results.trials:
            if record.condition != CREATED or len(self.running) >= self.parallel:
                continue
            trial_dir = self.workdir / "trials" / record.name
            log_path = trial_dir / "trial.log"
            record.log = str(log_path.relative_to(self.workdir))
            record.start_time = now()
            try:
                record.command = build_command(self.experiment, record.name, record.assignments)
                self.running[record.name] = TrialProcess.start(
                    record.name, record.command, self.env, trial_dir, log_path
                )
            except (TrialCommandError, OSError) as exc:
                trial_dir.mkdir(parents=True, exist_ok=True)
                log_path.write_text(f"the trial could not be started: {exc}\n")
                record.condition, record.reason, record.end_time = FAILED, "StartFailed", now()
                log.error("trial=%s start_failed error=%s", record.name, exc)
                continue
            record.condition = RUNNING
        self._save()

    def _collect_finished(self) -> None:
        for name, process in list(self.running.items()):
            code = process.poll()
            if code is None and self._past_deadline(process):
                log.warning(
                    "trial=%s deadline_s=%s exceeded: stopping it", name, self.trial_timeout
                )
                code = process.stop(self.options.stop_grace)
                del self.running[name]
                self._finish(self.results.trial(name), code, DEADLINE_EXCEEDED, FAILED)
                continue
            if code is None:
                continue
            del self.running[name]
            self._finish(self.results.trial(name), code)
        self._save()

    def _past_deadline(self, process: TrialProcess) -> bool:
        return self.trial_timeout is not None and process.running_for() > self.trial_timeout

    def _finish(
        self, record: TrialRecord, code: int, reason: str = "", condition: str = KILLED
    ) -> None:
        objective = self.experiment.objective
        summaries = collect_file(
            str(self.workdir / record.log), objective.metric_names, self.experiment.metrics_formats
        )
        record.metrics = {name: s.as_dict() for name, s in summaries.items()}
        record.exit_code = code
        record.end_time = now()
        if reason:
            record.condition, record.reason = condition, reason
        elif code != 0:
            record.condition, record.reason = FAILED, "TrialFailed"
        elif not summaries[objective.objective_metric_name].reported:
            record.condition, record.reason = METRICS_UNAVAILABLE, "MetricsUnavailable"
        else:
            record.condition, record.reason = SUCCEEDED, "TrialSucceeded"
        if record.condition == FAILED:
            # Shown on the console as it happens: why a trial failed is the first thing to fix.
            log.warning(
                "trial=%s condition=FAILED exit_code=%d log=%s last_line=%r",
                record.name,
                code,
                self.workdir / record.log,
                last_line(self.workdir / record.log),
            )
        log.info(
            "trial=%s condition=%s exit_code=%d %s=%s",
            record.name,
            record.condition,
            code,
            objective.objective_metric_name,
            summaries[objective.objective_metric_name].value(
                objective.metric_strategies[objective.objective_metric_name]
            ),
        )
        self._refresh_bar()

    def _stop_running(self, reason: str) -> None:
        for name, process in list(self.running.items()):
            code = process.stop(self.options.stop_grace)
            del self.running[name]
            self._finish(self.results.trial(name), code, reason=reason)
            log.info("trial=%s stopped reason=%s", name, reason)
        self._save()

    # -- reporting ---------------------------------------------------------------------------

    def _refresh_bar(self) -> None:
        if self.bar is None:
            return
        best = self.results.best_trial()
        value = "-" if best is None else _short(best["value"])
        postfix = f"running={len(self.running)} failed={self._count(FAILED)} best={value}"
        if self._shown == (self.completed, postfix):
            return  # nothing new to show: no redraw, so a redirected stderr stays short
        self._shown = (self.completed, postfix)
        self.bar.n = self.completed
        self.bar.set_postfix_str(postfix, refresh=False)
        self.bar.refresh()

    def _write_report(self) -> Path | None:
        try:
            return report.write_report(self.results.to_dict(), self.workdir)
        except Exception:  # a report failure must not lose the run's result
            log.exception("report failed; results are in %s", self.results_path)
            return None


def last_line(path: Path, limit: int = 300) -> str:
    """The last non-empty line of a trial's log (at most ``limit`` characters), or ""."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - 8192))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    if not lines:
        return ""
    return lines[-1] if len(lines[-1]) <= limit else lines[-1][: limit - 3] + "..."


def _active_deadline(experiment: Experiment) -> float | None:
    """The trial Job's ``spec.activeDeadlineSeconds``: the time-out Kubernetes gives a trial."""
    job_spec = experiment.trial_spec.get("spec") or {}
    value = job_spec.get("activeDeadlineSeconds") if isinstance(job_spec, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise RunnerError(
            f"trialSpec.spec.activeDeadlineSeconds must be a positive number, got {value!r}"
        )
    return float(value)


def _short(value: str) -> str:
    number = parse_float(value)
    if number is not None:
        return f"{number:.4g}"
    return value if len(value) <= 24 else value[:21] + "..."
