"""Katib's DARTS trial command: ``python3 run_trial.py --algorithm-settings=... ...``.

The same program as ``python -m katib_nas.trials.darts_cnn``; this file only exists so that
the command in Katib's DARTS examples works unchanged inside the image.
"""

import sys

from katib_nas.trials.darts_cnn.cli import main

if __name__ == "__main__":
    sys.exit(main())
