"""The report: genotype parsing, the pictures and the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from katib_nas.runner.report import parse_genotype, write_report

GENOTYPE = (
    "Genotype(normal=[[('separable_convolution_3x3',0),('skip_connection',1)],"
    "[('max_pooling_3x3',0),('separable_convolution_3x3',2)]],normal_concat=range(2,4),"
    "reduce=[[('max_pooling_3x3',0),('max_pooling_3x3',1)],[('skip_connection',2),"
    "('max_pooling_3x3',1)]],reduce_concat=range(2,4))"
)


def test_parse_genotype() -> None:
    cells = parse_genotype(GENOTYPE)
    assert cells["normal"] == [
        [("separable_convolution_3x3", 0), ("skip_connection", 1)],
        [("max_pooling_3x3", 0), ("separable_convolution_3x3", 2)],
    ]
    assert cells["reduce"][1] == [("skip_connection", 2), ("max_pooling_3x3", 1)]
    one_layer = (
        "Genotype(normal=[[('max_pooling_3x3',0),('max_pooling_3x3',1)]],"
        "normal_concat=range(2,3),reduce=[],reduce_concat=range(2,3))"
    )
    assert parse_genotype(one_layer)["reduce"] == []


def test_parse_genotype_rejects_other_text() -> None:
    with pytest.raises(ValueError, match="not a genotype"):
        parse_genotype("__import__('os').system('true')")


def results(algorithm: str, metric: str, trials: list[dict]) -> dict:
    best = trials[-1]
    return {
        "experiment": {
            "name": "x",
            "algorithm": algorithm,
            "objective": {
                "type": "maximize",
                "metric": metric,
                "goal": None,
                "strategies": {metric: "max"},
            },
        },
        "status": {"state": "Succeeded", "reason": "MaxTrialsReached", "message": ""},
        "trials": trials,
        "best_trial": {
            "name": best["name"],
            "metric": metric,
            "value": best["metrics"][metric]["latest"],
            "assignments": best["assignments"],
            "metrics": best["metrics"],
        },
    }


def record(name: str, metric: str, value: str, assignments: dict) -> dict:
    return {
        "name": name,
        "condition": "SUCCEEDED",
        "assignments": assignments,
        "metrics": {metric: {"min": value, "max": value, "latest": value}},
        "start_time": "",
        "end_time": "",
        "log": f"trials/{name}/trial.log",
    }


def test_enas_report(tmp_path: Path) -> None:
    nn_config = (
        "{'num_layers': 3, 'input_sizes': [28, 28, 1], 'output_sizes': [10], "
        "'embedding': {'0': {'opt_id': 0, 'opt_type': 'convolution', 'opt_params': "
        "{'filter_size': '3'}}, '4': {'opt_id': 4, 'opt_type': 'reduction', "
        "'opt_params': {'reduction_type': 'max_pooling', 'pool_size': 2}}}}"
    )
    assignments = {"architecture": "[[0], [4, 1], [0, 1, 0]]", "nn_config": nn_config}
    trials = [
        record(f"t{i}", "Validation-Accuracy", v, assignments)
        for i, v in enumerate(["0.5", "0.8", "0.7"])
    ]
    page = write_report(results("enas", "Validation-Accuracy", trials), tmp_path)
    text = page.read_text()
    assert 'src="objective.png"' in text and 'src="best-architecture.png"' in text
    assert "t2" in text
    for name in ("objective.png", "best-architecture.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_darts_report(tmp_path: Path) -> None:
    trials = [record("d0", "Best-Genotype", GENOTYPE, {"num-layers": "2"})]
    page = write_report(results("darts", "Best-Genotype", trials), tmp_path)
    assert 'src="best-architecture.png"' in page.read_text()
    assert (tmp_path / "best-architecture.png").stat().st_size > 1000
    assert "no numeric" not in page.read_text()  # the page text; the plot says it instead
