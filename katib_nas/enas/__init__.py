"""ENAS suggestion service: a TensorFlow 2 LSTM controller that learns from evaluated trials.

The package splits by concept: ``search_space`` (operation ids), ``encoding`` (the
``architecture`` and ``nn_config`` strings), ``settings`` (Katib's ten algorithm settings),
``controller`` (the policy network), ``reinforce`` (the learning rule), ``state`` (what survives
a restart) and ``service`` (the thin gRPC adapter). Only ``service`` and ``__main__`` know gRPC.
"""
