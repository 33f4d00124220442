"""Choosing the reported genotype among the epochs."""

from __future__ import annotations

import pytest

from katib_nas.trials.darts_cnn.genotype import Genotype
from katib_nas.trials.darts_cnn.search import EpochRecord, best_record


def _record(epoch: int, accuracy: float) -> EpochRecord:
    node = (("skip_connection", 0), (f"max_pooling_{epoch}x{epoch}", 1))
    return EpochRecord(epoch, 0.0, 2.3, accuracy, 2.3, Genotype((node,), (), 1))


def test_best_epoch_is_reported_even_when_accuracy_stays_zero() -> None:
    history = [_record(1, 0.0), _record(2, 0.0), _record(3, 0.0)]
    assert best_record(history).epoch == 3  # ties go to the later, longer-trained alphas


def test_best_epoch_is_the_highest_validation_accuracy() -> None:
    history = [_record(1, 0.2), _record(2, 0.5), _record(3, 0.4)]
    assert best_record(history).epoch == 2
    lines = best_record(history).metric_lines()
    assert lines[2] == "Validation-Accuracy=0.5"


def test_no_epoch_no_genotype() -> None:
    with pytest.raises(ValueError, match="no epoch"):
        best_record([])
