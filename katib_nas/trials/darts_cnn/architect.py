"""The bilevel gradient of DARTS: how the validation loss changes with the alphas.

DARTS (Liu, Simonyan and Yang, "DARTS: Differentiable Architecture Search", ICLR 2019) searches
by solving

    min_alpha  L_val(w*(alpha), alpha)   where   w*(alpha) = argmin_w L_train(w, alpha).

It approximates w*(alpha) by one step of the weight optimizer, the *virtual step*

    w' = w - xi * (mu * m + grad_w L_train(w, alpha) + lambda * w),

where xi is the current weight learning rate, m the SGD momentum buffer, mu the momentum and
lambda the weight decay (this is exactly the next SGD step, without gradient clipping). The
chain rule then gives the architecture gradient (paper, eq. 7)

    dL_val(w', alpha)/dalpha = grad_alpha L_val(w', alpha)
                               - xi * grad^2_{alpha,w} L_train(w, alpha) . grad_w' L_val(w', alpha)

and the mixed second derivative times the vector v = grad_w' L_val(w', alpha) is replaced by a
central finite difference (eq. 8):

    grad^2_{alpha,w} L_train(w, alpha) . v
        ~ (grad_alpha L_train(w+, alpha) - grad_alpha L_train(w-, alpha)) / (2 eps),
    w+- = w +- eps * v,   eps = 0.01 / ||v||.

That costs two extra forward/backward passes instead of a Hessian. The first-order variant
sets xi = 0, leaving grad_alpha L_val(w, alpha).

The central difference has an O(eps^2) error where the loss is smooth; ReLU and max-pooling
make it piecewise smooth, and a perturbation that crosses a kink adds an error of its own.
The paper's eps keeps per-weight perturbations tiny in a network of realistic size; the
tests check the formula against double backward on a smooth model at the paper's eps and on
a small real search network at a smaller eps (``fd_scale``).

``Architect.backward`` computes this gradient into ``alpha.grad``. It perturbs the network's
own weights for the finite difference and copies the saved originals back afterwards, so the
weights (and the batch-norm running statistics, also saved and restored) are bit for bit what
they were before. Each loss is the mean over the given micro-batches; ``reduce_mean`` averages
a list of tensors across processes in place (the identity in one process), and is applied
where every process must hold the same value: the training gradient before the virtual step,
v before eps is computed from it, and the final alpha gradient.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call

from katib_nas.trials.darts_cnn.network import Alphas

Batch = tuple[torch.Tensor, torch.Tensor]
ReduceMean = Callable[[list[torch.Tensor]], None]


def full_precision(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` in at least float32 (mixed-precision logits are upcast for the loss)."""
    return tensor.to(torch.promote_types(tensor.dtype, torch.float32))


def no_reduction(tensors: list[torch.Tensor]) -> None:
    """The single-process ``reduce_mean``: every tensor is already the mean."""


class Architect:
    """Computes the DARTS architecture gradient for a network and its alphas.

    ``net`` is called as ``net(x, alpha_normal, alpha_reduce)`` and returns logits (a
    :class:`~katib_nas.trials.darts_cnn.network.SearchNetwork`); ``fd_scale`` is the 0.01 in
    eps = 0.01 / ||v||.
    """

    def __init__(
        self,
        net: nn.Module,
        alphas: Alphas,
        *,
        w_momentum: float,
        w_weight_decay: float,
        fd_scale: float = 0.01,
        reduce_mean: ReduceMean = no_reduction,
        autocast: Callable[[], contextlib.AbstractContextManager[object]] = contextlib.nullcontext,
    ) -> None:
        self.net = net
        self.alphas = alphas
        self.w_momentum = w_momentum
        self.w_weight_decay = w_weight_decay
        self.fd_scale = fd_scale
        self.reduce_mean = reduce_mean
        self.autocast = autocast

    def _loss(
        self, x: torch.Tensor, y: torch.Tensor, params: dict[str, torch.Tensor] | None
    ) -> torch.Tensor:
        alpha_normal, alpha_reduce = self.alphas.tensors()
        if params is None:
            logits = self.net(x, alpha_normal, alpha_reduce)
        else:
            logits = functional_call(self.net, params, (x, alpha_normal, alpha_reduce))
        return nn.functional.cross_entropy(full_precision(logits), y)

    def _grads(
        self,
        batches: Sequence[Batch],
        inputs: Sequence[torch.Tensor],
        params: dict[str, torch.Tensor] | None = None,
        *,
        mixed_precision: bool = True,
    ) -> list[torch.Tensor]:
        """Gradient of the mean loss over ``batches`` with respect to ``inputs`` (local)."""
        total: list[torch.Tensor] = []
        context = self.autocast if mixed_precision else contextlib.nullcontext
        for x, y in batches:
            with context():
                loss = self._loss(x, y, params) / len(batches)
            grads = torch.autograd.grad(loss, list(inputs))
            total = (
                list(grads) if not total else [t + g for t, g in zip(total, grads, strict=True)]
            )
        return total

    def virtual_weights(
        self, train: Sequence[Batch], xi: float, w_optim: torch.optim.Optimizer
    ) -> list[torch.Tensor]:
        """w' = w - xi * (mu * m + grad_w L_train(w, alpha) + lambda * w)."""
        weights = list(self.net.parameters())
        grads = self._grads(train, weights)
        self.reduce_mean(grads)
        with torch.no_grad():
            virtual = []
            for w, g in zip(weights, grads, strict=True):
                buffer = w_optim.state.get(w, {}).get("momentum_buffer")
                momentum = buffer * self.w_momentum if buffer is not None else torch.zeros_like(w)
                virtual.append(w - xi * (momentum + g + self.w_weight_decay * w))
        return virtual

    def hessian_vector_product(
        self, vector: Sequence[torch.Tensor], train: Sequence[Batch]
    ) -> list[torch.Tensor]:
        """(grad_alpha L_train(w + eps v) - grad_alpha L_train(w - eps v)) / (2 eps), local.

        ``vector`` must already be identical on every process (eps is computed from it). The
        weights are perturbed in place and the saved originals copied back at the end.
        """
        weights = list(self.net.parameters())
        alphas = list(self.alphas.parameters())
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(v) for v in vector]))
        eps = self.fd_scale / float(norm)

        originals = [w.detach().clone() for w in weights]
        try:
            with torch.no_grad():
                for w, w0, v in zip(weights, originals, vector, strict=True):
                    w.copy_(w0 + eps * v)
            grads_plus = self._grads(train, alphas, mixed_precision=False)

            with torch.no_grad():
                for w, w0, v in zip(weights, originals, vector, strict=True):
                    w.copy_(w0 - eps * v)
            grads_minus = self._grads(train, alphas, mixed_precision=False)
        finally:
            with torch.no_grad():
                for w, w0 in zip(weights, originals, strict=True):
                    w.copy_(w0)

        return [(p - m) / (2.0 * eps) for p, m in zip(grads_plus, grads_minus, strict=True)]

    def backward(
        self,
        train: Sequence[Batch],
        val: Sequence[Batch],
        xi: float,
        w_optim: torch.optim.Optimizer,
        *,
        second_order: bool = True,
    ) -> None:
        """Set ``alpha.grad`` to the (unrolled or first-order) architecture gradient.

        ``train`` are the micro-batches of the weight half of the data, ``val`` those of the
        alpha half; ``xi`` is the current weight learning rate.
        """
        alphas = list(self.alphas.parameters())
        buffers = [b.detach().clone() for b in self.net.buffers()]
        try:
            if second_order:
                alpha_grads = self._unrolled_gradient(train, val, xi, w_optim)
            else:
                alpha_grads = self._grads(val, alphas)
            self.reduce_mean(alpha_grads)
        finally:
            with torch.no_grad():
                for b, saved in zip(self.net.buffers(), buffers, strict=True):
                    b.copy_(saved)

        for alpha, grad in zip(alphas, alpha_grads, strict=True):
            alpha.grad = grad.detach().clone()

    def _unrolled_gradient(
        self,
        train: Sequence[Batch],
        val: Sequence[Batch],
        xi: float,
        w_optim: torch.optim.Optimizer,
    ) -> list[torch.Tensor]:
        alphas = list(self.alphas.parameters())
        names = [name for name, _ in self.net.named_parameters()]

        # Step 1: the virtual step w' (identical on every process).
        virtual = [w.requires_grad_() for w in self.virtual_weights(train, xi, w_optim)]

        # Step 2: grad_alpha L_val(w', alpha) and v = grad_w' L_val(w', alpha).
        params = dict(zip(names, virtual, strict=True))
        grads = self._grads(val, [*alphas, *virtual], params)
        d_alpha, vector = grads[: len(alphas)], grads[len(alphas) :]
        self.reduce_mean(vector)

        # Step 3: the finite-difference Hessian-vector product, then eq. 7.
        hessian = self.hessian_vector_product(vector, train)
        return [da - xi * h for da, h in zip(d_alpha, hessian, strict=True)]
