"""``python -m katib_nas.darts``: the DARTS suggestion service."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from katib_nas.darts.service import DartsServicer
from katib_nas.entrypoint import main_for

DESCRIPTION = (
    "Katib DARTS suggestion service: validates the search space and settings and answers "
    "GetSuggestions with the inputs of the one-shot DARTS search trial."
)


def main(argv: Sequence[str] | None = None) -> int:
    return main_for("python -m katib_nas.darts", DESCRIPTION, lambda _: DartsServicer(), argv)


if __name__ == "__main__":
    sys.exit(main())
