"""katib-nas: drop-in ENAS and DARTS suggestion services and trials for Kubeflow Katib."""

__version__ = "0.1.0"
