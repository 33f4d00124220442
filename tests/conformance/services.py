"""The suggestion services the conformance suite runs against, and what each must answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from katib_nas.api import api_pb2
from tests.conformance import experiments


@dataclass(frozen=True)
class ServiceUnderTest:
    algorithm: str
    valid_experiment: Callable[[], api_pb2.Experiment]
    assignment_names: tuple[str, ...]
    valid_setting: tuple[str, str]
    # A setting of the right name whose value is out of range, and words its error must name.
    out_of_range_setting: tuple[str, str]
    # An operation type this service accepts without parameters.
    parameterless_operation: str
    extra_args: tuple[str, ...] = ()


SERVICES: dict[str, ServiceUnderTest] = {
    "darts": ServiceUnderTest(
        algorithm="darts",
        valid_experiment=experiments.katib_darts_experiment,
        assignment_names=("algorithm-settings", "search-space", "num-layers"),
        valid_setting=("num_epochs", "3"),
        out_of_range_setting=("num_epochs", "0"),
        parameterless_operation="skip_connection",
    ),
    "enas": ServiceUnderTest(
        algorithm="enas",
        valid_experiment=experiments.katib_enas_experiment,
        assignment_names=("architecture", "nn_config"),
        valid_setting=("controller_learning_rate", "0.001"),
        out_of_range_setting=("controller_baseline_decay", "1.01"),
        parameterless_operation="identity",
        extra_args=("--state-dir", "{workdir}/state"),
    ),
}
