"""The trial history as Katib's Suggestion controller sends it in a GetSuggestions request.

Every trial of the experiment is sent, in any state, except those that ended
METRICSUNAVAILABLE. Each carries its own objective, the assignments it was given, its start and
completion times (RFC 3339, empty while unset), its condition and, per metric it reported, the
value its metric strategy chooses (``min``, ``max`` or ``latest``; an empty string for a metric
without a strategy). ``total_request_number`` counts every trial so far plus the ones asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

from katib_nas.api import api_pb2
from katib_nas.runner.experiment import Objective, objective_to_api
from katib_nas.runner.results import (
    CREATED,
    FAILED,
    KILLED,
    METRICS_UNAVAILABLE,
    RUNNING,
    SUCCEEDED,
    TrialRecord,
)

CONDITIONS = {
    CREATED: api_pb2.TrialStatus.CREATED,
    RUNNING: api_pb2.TrialStatus.RUNNING,
    SUCCEEDED: api_pb2.TrialStatus.SUCCEEDED,
    FAILED: api_pb2.TrialStatus.FAILED,
    KILLED: api_pb2.TrialStatus.KILLED,
    METRICS_UNAVAILABLE: api_pb2.TrialStatus.METRICSUNAVAILABLE,
}


def trial_to_api(record: TrialRecord, objective: Objective) -> api_pb2.Trial:
    """One trial as Katib sends it: objective, assignments, times, condition, metrics."""
    trial = api_pb2.Trial(name=record.name)
    trial.spec.objective.CopyFrom(objective_to_api(objective))
    for name, value in record.assignments.items():
        trial.spec.parameter_assignments.assignments.add(name=name, value=value)
    trial.status.start_time = record.start_time
    trial.status.completion_time = record.end_time
    trial.status.condition = CONDITIONS[record.condition]
    for name in record.metrics:
        value = record.summary(name).value(objective.metric_strategies.get(name, ""))
        trial.status.observation.metrics.add(name=name, value=value)
    return trial


def suggestions_request(
    experiment: api_pb2.Experiment,
    records: Sequence[TrialRecord],
    objective: Objective,
    add: int,
) -> api_pb2.GetSuggestionsRequest:
    """The request for ``add`` new trials given every trial created so far."""
    return api_pb2.GetSuggestionsRequest(
        experiment=experiment,
        trials=[trial_to_api(r, objective) for r in records if r.condition != METRICS_UNAVAILABLE],
        current_request_number=add,
        total_request_number=len(records) + add,
    )
