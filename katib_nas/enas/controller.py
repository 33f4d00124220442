"""The ENAS macro-search controller: an LSTM policy over operations and skip connections.

The controller follows the macro search space of Pham et al., "Efficient Neural Architecture
Search via Parameter Sharing" (ICML 2018), with the shapes Katib uses. One Keras ``LSTMCell``
of ``H`` units is stepped twice per layer ``l = 0 .. L-1``:

1. from the current input it produces ``h``; the operation logits are ``z = h W_soft``
   (``W_soft`` is ``H x N`` for ``N`` operation ids) and the operation ``o_l ~ softmax(s(z))``;
2. the embedding ``E[o_l]`` of that operation is fed back, giving the layer's anchor ``a_l``;
3. for ``l > 0`` an attention query scores each earlier layer ``j < l``:
   ``q_j = v^T tanh(W_1 a_j + W_2 a_l)``; the skip bit ``s_{l,j}`` is a two-way choice with
   logits ``s([-q_j, q_j])``, so ``P(s_{l,j} = 1) = sigmoid(2 s(q_j))``;
   the next input is ``(sum_j s_{l,j} a_j) / (1 + sum_j s_{l,j})``; for ``l = 0`` it is the
   learned start embedding ``g``.

``s`` shapes logits as Katib does: ``s(z) = c * tanh(z / T)`` with temperature ``T`` and tanh
constant ``c`` (either step is left out when its setting is ``None``).

The log-probability of an architecture is the sum of the log-probabilities of its ``L``
operation choices and ``L(L-1)/2`` skip choices. The same unrolled computation either samples
(inverse-CDF sampling from uniform noise the caller supplies, so the caller's seeded numpy
generator alone decides the samples) or scores a given architecture by teacher forcing.

Each computation is a ``tf.function`` with a fixed input signature (only the batch size
varies), so it is traced once per controller and the TensorFlow graph does not grow with calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from katib_nas.enas.encoding import Architecture

_INIT_RANGE = 0.1


@dataclass(frozen=True)
class ControllerConfig:
    num_layers: int
    num_operations: int
    hidden_size: int
    temperature: float | None
    tanh_const: float | None
    skip_target: float
    learning_rate: float


@dataclass(frozen=True)
class Scores:
    """Per-architecture quantities of a batch, as numpy arrays of shape ``[B]`` or ``[B, D]``."""

    log_prob: np.ndarray
    decision_log_probs: np.ndarray
    entropy: np.ndarray
    skip_kl: np.ndarray


class Controller:
    """The policy network, its Adam optimizer and the traced functions that use them."""

    def __init__(self, config: ControllerConfig, rng: np.random.Generator) -> None:
        self.config = config
        size, n_ops = config.hidden_size, config.num_operations

        def uniform(*shape: int) -> np.ndarray:
            return rng.uniform(-_INIT_RANGE, _INIT_RANGE, size=shape).astype(np.float32)

        self.cell = keras.layers.LSTMCell(size)
        self.cell.build((None, size))
        for variable in self.cell.trainable_variables:
            variable.assign(uniform(*variable.shape))
        self.g_emb = tf.Variable(uniform(1, size), name="g_emb")
        self.op_emb = tf.Variable(uniform(n_ops, size), name="op_emb")
        self.w_soft = tf.Variable(uniform(size, n_ops), name="w_soft")
        self.w_attn_1 = tf.Variable(uniform(size, size), name="w_attn_1")
        self.w_attn_2 = tf.Variable(uniform(size, size), name="w_attn_2")
        self.v_attn = tf.Variable(uniform(size, 1), name="v_attn")

        self.optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate)
        self.optimizer.build(self.variables)

        layers = config.num_layers
        noise = [
            tf.TensorSpec([None, layers], tf.float32),
            tf.TensorSpec([None, layers, layers], tf.float32),
        ]
        given = [
            tf.TensorSpec([None, layers], tf.int32),
            tf.TensorSpec([None, layers, layers], tf.float32),
        ]
        weights = [
            tf.TensorSpec([None], tf.float32),
            tf.TensorSpec([], tf.float32),
            tf.TensorSpec([], tf.float32),
        ]
        self._sample_fn = tf.function(self._sample, input_signature=noise)
        self._score_fn = tf.function(self._score, input_signature=given)
        self._train_fn = tf.function(self._train_step, input_signature=given + weights)

    def tracing_count(self) -> int:
        """How many times this controller's functions were traced (each trace costs memory)."""
        functions = (self._sample_fn, self._score_fn, self._train_fn)
        return sum(f.experimental_get_tracing_count() for f in functions)

    @property
    def variables(self) -> list[tf.Variable]:
        """Trainable variables in a fixed order (the order of saved weights)."""
        own = [self.g_emb, self.op_emb, self.w_soft, self.w_attn_1, self.w_attn_2, self.v_attn]
        return [*self.cell.trainable_variables, *own]

    # ----------------------------------------------------------------------------------------
    # Public numpy interface

    def sample(self, rng: np.random.Generator, count: int) -> list[Architecture]:
        """Draw ``count`` architectures; ``rng`` supplies all randomness."""
        layers = self.config.num_layers
        u_ops = rng.random((count, layers), dtype=np.float32)
        u_skips = rng.random((count, layers, layers), dtype=np.float32)
        ops, skips = self._sample_fn(tf.constant(u_ops), tf.constant(u_skips))
        return _to_architectures(ops.numpy(), skips.numpy())

    def score(self, architectures: list[Architecture]) -> Scores:
        """Log-probabilities (and entropy, skip KL) of given architectures, teacher forced."""
        ops, skips = self._as_tensors(architectures)
        log_prob, decisions, entropy, kl = self._score_fn(ops, skips)
        return Scores(log_prob.numpy(), decisions.numpy(), entropy.numpy(), kl.numpy())

    def train_step(
        self,
        architectures: list[Architecture],
        advantages: np.ndarray,
        entropy_weight: float,
        skip_weight: float,
    ) -> dict[str, float]:
        """One Adam step on the REINFORCE loss of :mod:`katib_nas.enas.reinforce`."""
        ops, skips = self._as_tensors(architectures)
        loss, entropy, kl, grad_norm = self._train_fn(
            ops,
            skips,
            tf.constant(advantages, tf.float32),
            tf.constant(entropy_weight, tf.float32),
            tf.constant(skip_weight, tf.float32),
        )
        return {
            "loss": float(loss),
            "entropy": float(entropy),
            "skip_kl": float(kl),
            "grad_norm": float(grad_norm),
        }

    def get_weights(self) -> list[np.ndarray]:
        return [v.numpy() for v in self.variables]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        _assign_all(self.variables, weights, "controller weights")

    def get_optimizer_state(self) -> list[np.ndarray]:
        return [np.asarray(v.numpy()) for v in self.optimizer.variables]

    def set_optimizer_state(self, values: list[np.ndarray]) -> None:
        _assign_all(self.optimizer.variables, values, "optimizer state")

    def _as_tensors(self, architectures: list[Architecture]) -> tuple[tf.Tensor, tf.Tensor]:
        layers = self.config.num_layers
        ops = np.zeros((len(architectures), layers), np.int32)
        skips = np.zeros((len(architectures), layers, layers), np.float32)
        for i, arc in enumerate(architectures):
            ops[i] = arc.ops
            for layer, bits in enumerate(arc.skips):
                skips[i, layer, :layer] = bits
        return tf.constant(ops), tf.constant(skips)

    # ----------------------------------------------------------------------------------------
    # Traced computations

    def _shape_logits(self, logits: tf.Tensor) -> tf.Tensor:
        if self.config.temperature is not None:
            logits = logits / self.config.temperature
        if self.config.tanh_const is not None:
            logits = self.config.tanh_const * tf.tanh(logits)
        return logits

    def _unroll(
        self,
        batch: tf.Tensor,
        u_ops: tf.Tensor | None,
        u_skips: tf.Tensor | None,
        given_ops: tf.Tensor | None,
        given_skips: tf.Tensor | None,
    ) -> dict[str, tf.Tensor]:
        """Run the controller over all layers, sampling (``u_*``) or teacher forcing (``given_*``).

        Returns ``ops [B, L]``, ``skips [B, L, L]`` (row ``l`` uses its first ``l`` entries),
        ``decisions [B, L + L(L-1)/2]`` (log-probability of each choice, operations first in
        layer order, then skips row by row), ``entropy [B]`` (sum of the entropies of every
        choice's distribution) and ``skip_kl [B]`` (mean over skip choices of
        ``KL(Bernoulli(p) || Bernoulli(skip_target))``).

        The layers run in a ``tf.while_loop`` whose state has fixed shapes (earlier layers'
        anchors sit in an ``[B, L, H]`` buffer, masked to ``j < l``), so the graph, and the
        memory TensorFlow keeps for it, does not grow with the number of layers.
        """
        layers, size = self.config.num_layers, self.config.hidden_size
        log_target = (math.log1p(-self.config.skip_target), math.log(self.config.skip_target))
        g_emb = tf.tile(self.g_emb, [batch, 1])

        def body(layer: tf.Tensor, state: dict[str, tf.Tensor]) -> tuple[tf.Tensor, dict]:
            row = tf.one_hot(layer, layers)  # [L], selects this layer's slot
            earlier = tf.cast(tf.range(layers) < layer, tf.float32)  # [L], mask j < l

            out, (h, c) = self.cell(state["inputs"], [state["h"], state["c"]])
            log_p = tf.nn.log_softmax(self._shape_logits(out @ self.w_soft))
            if given_ops is not None:
                op = tf.gather(given_ops, layer, axis=1)
            else:
                assert u_ops is not None
                cdf = tf.cumsum(tf.exp(log_p), axis=1)
                u = tf.gather(u_ops, [layer], axis=1)
                below = tf.reduce_sum(tf.cast(cdf < u, tf.int32), axis=1)
                op = tf.minimum(below, self.config.num_operations - 1)
            op_log_prob = tf.gather(log_p, op, axis=1, batch_dims=1)
            entropy = -tf.reduce_sum(tf.exp(log_p) * log_p, axis=1)

            out, (h, c) = self.cell(tf.gather(self.op_emb, op), [h, c])
            query = tf.tanh(state["anchors_w1"] + tf.expand_dims(out @ self.w_attn_2, 1))
            q = self._shape_logits(tf.squeeze(query @ self.v_attn, -1))  # [B, L]
            log_on, log_off = tf.math.log_sigmoid(2 * q), tf.math.log_sigmoid(-2 * q)
            p_on = tf.exp(log_on)
            if given_skips is not None:
                skip = tf.gather(given_skips, layer, axis=1) * earlier
            else:
                assert u_skips is not None
                u = tf.gather(u_skips, layer, axis=1)
                skip = tf.cast(u < p_on, tf.float32) * earlier
            skip_log_prob = earlier * (skip * log_on + (1 - skip) * log_off)  # [B, L]
            entropy -= tf.reduce_sum(earlier * (p_on * log_on + (1 - p_on) * log_off), axis=1)
            kl = tf.reduce_sum(
                earlier
                * (p_on * (log_on - log_target[1]) + (1 - p_on) * (log_off - log_target[0])),
                axis=1,
            )
            chosen = tf.squeeze(tf.expand_dims(skip, 1) @ state["anchors"], 1)
            first = tf.cast(tf.equal(layer, 0), tf.float32)
            inputs = first * g_emb + chosen / (1.0 + tf.reduce_sum(skip, axis=1, keepdims=True))

            slot = row[None, :, None]
            return layer + 1, {
                "h": h,
                "c": c,
                "inputs": inputs,
                "anchors": state["anchors"] + slot * tf.expand_dims(out, 1),
                "anchors_w1": state["anchors_w1"] + slot * tf.expand_dims(out @ self.w_attn_1, 1),
                "ops": state["ops"] + tf.cast(row, tf.int32)[None, :] * op[:, None],
                "op_log_probs": state["op_log_probs"] + row[None, :] * op_log_prob[:, None],
                "skips": state["skips"] + slot * tf.expand_dims(skip, 1),
                "skip_log_probs": state["skip_log_probs"]
                + slot * tf.expand_dims(skip_log_prob, 1),
                "entropy": state["entropy"] + entropy,
                "kl": state["kl"] + kl,
            }

        zeros_bh, zeros_bl = tf.zeros([batch, size]), tf.zeros([batch, layers])
        zeros_blh, zeros_bll = tf.zeros([batch, layers, size]), tf.zeros([batch, layers, layers])
        initial = {
            "h": zeros_bh,
            "c": zeros_bh,
            "inputs": g_emb,
            "anchors": zeros_blh,
            "anchors_w1": zeros_blh,
            "ops": tf.zeros([batch, layers], tf.int32),
            "op_log_probs": zeros_bl,
            "skips": zeros_bll,
            "skip_log_probs": zeros_bll,
            "entropy": tf.zeros([batch]),
            "kl": tf.zeros([batch]),
        }
        _, final = tf.while_loop(
            lambda layer, _: layer < layers, body, (tf.constant(0), initial), parallel_iterations=1
        )

        rows, cols = np.tril_indices(layers, k=-1)  # skip choices row by row
        skip_indices = np.stack([rows, cols], axis=1).astype(np.int32)
        if layers > 1:
            skip_decisions = tf.transpose(
                tf.gather_nd(tf.transpose(final["skip_log_probs"], [1, 2, 0]), skip_indices)
            )
        else:
            skip_decisions = tf.zeros([batch, 0])
        decisions = tf.concat([final["op_log_probs"], skip_decisions], axis=1)
        num_skips = layers * (layers - 1) // 2
        return {
            "ops": final["ops"],
            "skips": final["skips"],
            "decisions": decisions,
            "log_prob": tf.reduce_sum(decisions, axis=1),
            "entropy": final["entropy"],
            "skip_kl": final["kl"] / max(num_skips, 1),
        }

    def _sample(self, u_ops: tf.Tensor, u_skips: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        result = self._unroll(tf.shape(u_ops)[0], u_ops, u_skips, None, None)
        return result["ops"], tf.cast(result["skips"], tf.int32)

    def _score(self, ops: tf.Tensor, skips: tf.Tensor) -> tuple[tf.Tensor, ...]:
        result = self._unroll(tf.shape(ops)[0], None, None, ops, skips)
        return result["log_prob"], result["decisions"], result["entropy"], result["skip_kl"]

    def _train_step(
        self,
        ops: tf.Tensor,
        skips: tf.Tensor,
        advantages: tf.Tensor,
        entropy_weight: tf.Tensor,
        skip_weight: tf.Tensor,
    ) -> tuple[tf.Tensor, ...]:
        with tf.GradientTape() as tape:
            result = self._unroll(tf.shape(ops)[0], None, None, ops, skips)
            policy = -tf.reduce_mean(advantages * result["log_prob"])
            entropy = tf.reduce_mean(result["entropy"])
            kl = tf.reduce_mean(result["skip_kl"])
            loss = policy - entropy_weight * entropy + skip_weight * kl
        grads = tape.gradient(loss, self.variables)
        self.optimizer.apply_gradients(zip(grads, self.variables, strict=True))
        return loss, entropy, kl, tf.linalg.global_norm(grads)


def _to_architectures(ops: np.ndarray, skips: np.ndarray) -> list[Architecture]:
    result = []
    for row_ops, row_skips in zip(ops, skips, strict=True):
        skip_bits = tuple(
            tuple(int(b) for b in row_skips[layer, :layer]) for layer in range(len(row_ops))
        )
        result.append(Architecture(tuple(int(o) for o in row_ops), skip_bits))
    return result


def _assign_all(variables: list, values: list[np.ndarray], what: str) -> None:
    if len(variables) != len(values):
        raise ValueError(f"{what}: expected {len(variables)} arrays, got {len(values)}")
    for variable, value in zip(variables, values, strict=True):
        if tuple(variable.shape) != tuple(np.shape(value)):
            raise ValueError(
                f"{what}: {variable.name} has shape {tuple(variable.shape)}, "
                f"stored value has {tuple(np.shape(value))}"
            )
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)
