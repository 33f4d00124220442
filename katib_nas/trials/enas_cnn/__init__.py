"""ENAS trial: builds the network an ENAS suggestion describes, in Keras 3, and trains it.

``python -m katib_nas.trials.enas_cnn --architecture=... --nn_config=...`` (see :mod:`.cli`).
Modules: :mod:`.architecture` decodes and checks Katib's values (no TensorFlow),
:mod:`.model` builds the Keras network, :mod:`.devices` picks CPU / GPU / MirroredStrategy,
:mod:`.training` runs the data pipeline and prints the metric lines.
"""
