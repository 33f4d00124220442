"""Pictures of a genotype's normal and reduction cells, drawn with graphviz.

Each cell is a left-to-right graph: the two inputs ``c_{k-2}`` and ``c_{k-1}``, one box per
intermediate node, an edge labelled with its primitive for every chosen input, and every node
joined into the output ``c_{k}``. The ``.dot`` source is always written; the PNG needs the
graphviz ``dot`` program, and when it is missing a warning says so and the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import graphviz

from katib_nas.trials.darts_cnn.genotype import Genotype, Node

logger = logging.getLogger(__name__)


def cell_graph(nodes: Sequence[Node], title: str) -> graphviz.Digraph:
    graph = graphviz.Digraph(name=title, format="png")
    graph.attr(rankdir="LR", label=title, fontname="helvetica")
    graph.attr("node", shape="box", style="rounded,filled", fontname="helvetica")
    graph.node("c_{k-2}", fillcolor="darkseagreen2")
    graph.node("c_{k-1}", fillcolor="darkseagreen2")
    for index in range(len(nodes)):
        graph.node(str(index), fillcolor="lightblue")

    inputs = ["c_{k-2}", "c_{k-1}"] + [str(i) for i in range(len(nodes))]
    for index, node in enumerate(nodes):
        for primitive, source in node:
            graph.edge(inputs[source], str(index), label=primitive)

    graph.node("c_{k}", fillcolor="palegoldenrod")
    for index in range(len(nodes)):
        graph.edge(str(index), "c_{k}")
    return graph


def draw_genotype(genotype: Genotype, output_dir: Path) -> list[Path]:
    """Write ``normal.dot``/``reduce.dot`` and, when ``dot`` is installed, the PNG pictures."""
    written: list[Path] = []
    cells = [("normal", genotype.normal), ("reduce", genotype.reduce)]
    for name, nodes in cells:
        if not nodes:
            continue
        graph = cell_graph(nodes, f"{name} cell")
        source = output_dir / f"{name}.dot"
        graph.save(filename=source.name, directory=str(output_dir))
        written.append(source)
        try:
            png = graph.pipe(format="png")
        except graphviz.ExecutableNotFound:
            logger.warning(
                "plot=skipped cell=%s reason='graphviz dot program not found' source=%s "
                "hint='install graphviz (apt-get install graphviz) to get PNG pictures'",
                name,
                source,
            )
            continue
        picture = output_dir / f"{name}.png"
        picture.write_bytes(png)
        written.append(picture)
    return written
