"""Katib-compatible entry point of the ENAS trial image.

Answers Katib's example command ``python3 -u RunTrial.py --num_epochs=1
--architecture="..." --nn_config="..."`` (and every other flag of
``python -m katib_nas.trials.enas_cnn``) by running this project's trial, so an existing
Katib Experiment works with only its image swapped.
"""

import sys

from katib_nas.trials.enas_cnn.cli import main

if __name__ == "__main__":
    sys.exit(main())
