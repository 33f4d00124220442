"""The run's report: an HTML page with the objective per trial and a picture of the best result.

Written into the work directory with matplotlib (no Graphviz binary needed):

* ``objective.png``: the objective value of every trial with a numeric value, in the order the
  trials were created, and the best value so far as a step line;
* ``best-architecture.png``: for ENAS, the best trial's network, one box per layer with its
  operation and parameters, the always present link from the previous layer and every skip
  connection (skip bit ``i`` of layer ``l`` links layer ``i``, layer 0 being the input); for
  DARTS, the normal and reduction cells of the best genotype;
* ``report.html``: both pictures and a table of every trial.

The genotype string is parsed, never evaluated: ``Genotype(normal=[[('op',i),...],...],
normal_concat=range(a,b),reduce=[...],reduce_concat=range(a,b))``.
"""

from __future__ import annotations

import ast
import html
import json
import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import MaxNLocator

from katib_nas import swapped_json
from katib_nas.runner.metrics import parse_float

Cell = list[list[tuple[str, int]]]
_FIELD = re.compile(r"(normal|reduce)=(\[.*?\]\])(?=,\w+=|\))|(normal|reduce)=\[\]")


def parse_genotype(text: str) -> dict[str, Cell]:
    """``{'normal': [[(op, input), ...] per node], 'reduce': [...]}`` from a genotype string."""
    body = text.strip()
    if not body.startswith("Genotype(") or not body.endswith(")"):
        raise ValueError(f"not a genotype: {text[:60]!r}")
    cells: dict[str, Cell] = {"normal": [], "reduce": []}
    for match in _FIELD.finditer(body):
        if match.group(1):
            nodes = ast.literal_eval(match.group(2))
            cells[match.group(1)] = [[(str(op), int(i)) for op, i in node] for node in nodes]
    return cells


def write_report(results: dict[str, Any], workdir: Path) -> Path:
    """Write the pictures and report.html into ``workdir``; returns the page's path."""
    objective_png = workdir / "objective.png"
    _plot_objective(results, objective_png)
    best = results.get("best_trial")
    picture = workdir / "best-architecture.png"
    drawn = False
    if best is not None:
        if results["experiment"]["algorithm"] == "enas":
            drawn = _draw_enas(best["assignments"], picture)
        else:
            drawn = _draw_darts(str(best["value"]), picture)
    page = workdir / "report.html"
    page.write_text(
        _html(results, objective_png.name, picture.name if drawn else None), encoding="utf-8"
    )
    return page


def _plot_objective(results: dict[str, Any], path: Path) -> None:
    objective = results["experiment"]["objective"]
    metric, maximise = objective["metric"], objective["type"] == "maximize"
    strategy = objective["strategies"].get(metric, "max" if maximise else "min")
    xs: list[int] = []
    ys: list[float] = []
    best_so_far: list[float] = []
    for index, trial in enumerate(results["trials"], start=1):
        if trial["condition"] != "SUCCEEDED":
            continue
        values = trial["metrics"].get(metric) or {}
        raw = values.get(strategy, "unavailable")
        if raw == "unavailable":
            raw = values.get("latest", "")
        number = parse_float(raw)
        if number is None:
            continue
        xs.append(index)
        ys.append(number)
        previous = best_so_far[-1] if best_so_far else number
        best_so_far.append(max(previous, number) if maximise else min(previous, number))
    fig, ax = plt.subplots(figsize=(7, 4))
    if xs:
        ax.plot(xs, ys, "o", label=f"{metric} ({strategy}) per trial")
        ax.step(xs, best_so_far, where="post", label="best so far")
        ax.legend(loc="best")
    else:
        ax.text(
            0.5,
            0.5,
            f"no numeric {metric} to plot",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial (in order of creation)")
    ax.set_ylabel(metric)
    ax.set_title(f"{results['experiment']['name']}: {objective['type']} {metric}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _box(ax: Any, x: float, y: float, text: str, colour: str) -> None:
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=8,
        zorder=3,
        bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": "#444"},
    )


def _arrow(
    ax: Any,
    start: tuple[float, float],
    end: tuple[float, float],
    rad: float = 0.0,
    colour: str = "#333",
) -> None:
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=10,
            color=colour,
            connectionstyle=f"arc3,rad={rad}",
            zorder=1,
            shrinkA=12,
            shrinkB=12,
        )
    )


# Skip connections leave and enter the layers right of the widest box (a separable convolution
# with all four parameters), so no arrowhead hides behind a box.
SKIP_X = 1.8


def _draw_enas(assignments: dict[str, str], path: Path) -> bool:
    try:
        arch = json.loads(assignments["architecture"])
        config = swapped_json.loads(assignments["nn_config"])
    except (KeyError, ValueError):
        return False
    embedding = config.get("embedding", {})
    layers = len(arch)
    fig, ax = plt.subplots(figsize=(7, 1.0 + 0.9 * (layers + 2)))
    y = lambda level: float(layers + 1 - level)  # noqa: E731 - level 0 is the input, at the top
    _box(ax, 0, y(0), f"input {config.get('input_sizes')}", "#dde8f7")
    for level, row in enumerate(arch, start=1):
        op = embedding.get(str(row[0]), {})
        params = ", ".join(f"{k}={v}" for k, v in (op.get("opt_params") or {}).items())
        _box(ax, 0, y(level), f"{level}: {op.get('opt_type', row[0])}\n{params}", "#f7ecd9")
        _arrow(ax, (0, y(level - 1)), (0, y(level)))
        for source, bit in enumerate(row[1:]):
            if bit == 1:  # drawn on the right: out of the source, down, into the target
                arm = 12 + 14 * (level - source) + 4 * source
                ax.add_patch(
                    FancyArrowPatch(
                        (SKIP_X, y(source)),
                        (SKIP_X, y(level)),
                        arrowstyle="-|>",
                        mutation_scale=10,
                        color="#c0392b",
                        connectionstyle=f"arc,angleA=0,angleB=0,armA={arm},armB={arm},rad=6",
                        zorder=3,
                    )
                )
    _box(
        ax, 0, y(layers + 1), f"global average pool, dense {config.get('output_sizes')}", "#dff2e1"
    )
    _arrow(ax, (0, y(layers)), (0, y(layers + 1)))
    ax.set_xlim(-2.5, 4.2)
    ax.set_ylim(-0.7, layers + 1.7)
    ax.axis("off")
    ax.set_title("best ENAS architecture (red: skip connections)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _draw_darts(genotype: str, path: Path) -> bool:
    try:
        cells = parse_genotype(genotype)
    except (ValueError, SyntaxError):
        return False
    kinds = [kind for kind in ("normal", "reduce") if cells[kind]]
    if not kinds:
        return False
    nodes = max(len(cells[kind]) for kind in kinds)
    fig, axes = plt.subplots(
        1, len(kinds), figsize=((3.0 + 2.2 * nodes) * len(kinds), 4.0), squeeze=False
    )
    for ax, kind in zip(axes[0], kinds, strict=True):
        cell = cells[kind]
        # inputs on the left, intermediate nodes left to right on alternating heights
        position = {0: (0.0, 1.6), 1: (0.0, -1.6)}
        for node in range(len(cell)):
            position[node + 2] = (3.0 + 3.0 * node, 0.8 if node % 2 == 0 else -0.8)
        output = (3.0 + 3.0 * len(cell), 0.0)
        for index, (x, y) in position.items():
            label = ("c_{k-2}", "c_{k-1}")[index] if index < 2 else str(index - 2)
            _box(ax, x, y, label, "#dde8f7" if index < 2 else "#f7ecd9")
        _box(ax, *output, "c_{k}", "#dff2e1")
        for node, edges in enumerate(cell):
            target = position[node + 2]
            for number, (op, source) in enumerate(edges):
                start = position.get(source, position[0])
                rad = 0.2 if number % 2 else -0.2
                _arrow(ax, start, target, rad=rad)
                ax.text(
                    start[0] + 0.55 * (target[0] - start[0]),
                    start[1] + 0.55 * (target[1] - start[1]),
                    op,
                    fontsize=7,
                    ha="center",
                    va="center",
                    color="#1f4e79",
                    zorder=2,
                    bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"},
                )
            _arrow(ax, target, output, colour="#aaa")
        ax.set_xlim(-1, output[0] + 1)
        ax.set_ylim(-2.6, 2.6)
        ax.axis("off")
        ax.set_title(f"{kind} cell")
    fig.suptitle("best DARTS genotype")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _html(results: dict[str, Any], objective_png: str, picture: str | None) -> str:
    experiment, status = results["experiment"], results["status"]
    metric = experiment["objective"]["metric"]
    rows = []
    for trial in results["trials"]:
        value = trial["metrics"].get(metric) or {}
        shown = {k: value.get(k, "") for k in ("min", "max", "latest")}
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(cell))}</td>"
                for cell in (
                    trial["name"],
                    trial["condition"],
                    shown["min"],
                    shown["max"],
                    shown["latest"],
                    trial["start_time"],
                    trial["end_time"],
                    trial["log"],
                )
            )
            + "</tr>"
        )
    best = results.get("best_trial")
    best_text = (
        "none yet"
        if best is None
        else (
            f"{html.escape(best['name'])}: {html.escape(metric)} = "
            f"{html.escape(str(best['value']))}"
        )
    )
    picture_html = (
        f'<h2>Best result</h2><img src="{picture}" alt="best architecture">' if picture else ""
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(experiment["name"])}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px}}
table{{border-collapse:collapse;font-size:90%}}</style></head><body>
<h1>{html.escape(experiment["name"])} ({html.escape(experiment["algorithm"])})</h1>
<p>Status: {html.escape(status["state"])} {html.escape(status.get("reason", ""))}.
Best trial: {best_text}.</p>
<img src="{objective_png}" alt="objective per trial">
{picture_html}
<h2>Trials</h2>
<table><tr><th>name</th><th>condition</th><th>{html.escape(metric)} min</th><th>max</th>
<th>latest</th><th>start</th><th>end</th><th>log</th></tr>
{"".join(rows)}
</table></body></html>
"""
