"""``python -m katib_nas.manifests FILE...``: check Experiment YAMLs before ``kubectl apply``.

Prints ``FILE: PATH: problem`` for every problem (nothing when all is well) and exits 1 if any
was found, 2 if a file cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import yaml

from katib_nas.manifests.check import check_manifest, is_experiment, load_documents


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m katib_nas.manifests",
        description="Check Katib Experiments for katib-nas as Katib's webhook, Katib's types "
        "and the katib-nas trial images would.",
    )
    parser.add_argument("files", nargs="+", help="YAML files (several documents allowed)")
    args = parser.parse_args(argv)

    found = 0
    for name in args.files:
        try:
            documents = load_documents(name)
        except (OSError, yaml.YAMLError) as error:
            print(f"{name}: cannot read: {error}", file=sys.stderr)
            return 2
        for doc in filter(is_experiment, documents):
            for problem in check_manifest(doc):
                print(f"{name}: {problem}")
                found += 1
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
