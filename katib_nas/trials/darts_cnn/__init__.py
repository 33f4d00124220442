"""The DARTS search trial: Katib's ``darts-cnn`` trial image, rebuilt on PyTorch.

``python -m katib_nas.trials.darts_cnn --algorithm-settings=... --search-space=...
--num-layers=...`` runs one complete DARTS search (Liu et al. 2019) and prints Katib's metric
lines and, last, ``Best-Genotype=Genotype(...)``. See ``cli`` for the flags.
"""
