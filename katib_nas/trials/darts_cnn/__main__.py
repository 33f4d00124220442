"""Entry point for ``python -m katib_nas.trials.darts_cnn``."""

import sys

from katib_nas.trials.darts_cnn.cli import main

if __name__ == "__main__":
    sys.exit(main())
