"""Entry point of ``python -m katib_nas.trials.enas_cnn``."""

import sys

from katib_nas.trials.enas_cnn.cli import main

sys.exit(main())
