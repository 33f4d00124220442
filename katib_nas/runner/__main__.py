"""``python -m katib_nas.runner [run] EXPERIMENT.yaml ...``: the same as ``katib-nas run``."""

import sys

from katib_nas.runner.cli import main

if __name__ == "__main__":
    sys.exit(main())
