"""The DARTS Suggestion servicer: a thin adapter over :mod:`katib_nas.darts.suggestion`."""

from __future__ import annotations

from katib_nas import wire
from katib_nas.darts import suggestion
from katib_nas.servicer import SuggestionServicer


class DartsServicer(SuggestionServicer):
    algorithm_name = "darts"

    def validate(self, experiment: wire.Experiment) -> None:
        suggestion.validate(experiment.nas, experiment.settings)

    def suggest(
        self, experiment: wire.Experiment, trials: list[wire.TrialRecord], count: int
    ) -> list[wire.Assignments]:
        return suggestion.suggestions(experiment.nas, experiment.settings, count)
