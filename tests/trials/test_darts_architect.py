"""The second-order DARTS gradient against the exact hypergradient of small networks.

The exact value of d/dalpha L_val(w - xi * (mu * m + grad_w L_train(w, alpha) + lambda * w),
alpha) is computed by double backward (autograd through the virtual step). The architect's
finite-difference version (eq. 7-8 of Liu et al. 2019) must match it. In float64 the only
difference is the O(eps^2) error of the central difference, as long as the +-eps perturbation
crosses no kink of the loss:

* a smooth mixed-operation model (tanh/softplus candidates) with the paper's
  eps = 0.01 / ||v||: relative error (norm of the difference over norm of the exact gradient)
  below 1e-5 (measured 2.4e-6, shrinking 100x for every 10x smaller eps, as O(eps^2) should);
* the real search network, whose ReLUs and max-pooling are kinked: in a network this small
  (two channels) the paper's eps moves every weight far enough to cross kinks, so this check
  uses eps = 1e-6 / ||v||: relative error below 1e-7 (measured 5e-10).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

from katib_nas.trials.darts_cnn.architect import Architect
from katib_nas.trials.darts_cnn.network import Alphas, SearchNetwork

PRIMITIVES = ("max_pooling_3x3", "convolution_3x3", "skip_connection", "none")
XI = 0.05
MOMENTUM = 0.9
WEIGHT_DECAY = 3e-4
SMOOTH_TOLERANCE = 1e-5
KINKED_TOLERANCE = 1e-7


class SmoothMixedModel(nn.Module):
    """A two-node "cell" of smooth candidate operations, called like SearchNetwork."""

    def __init__(self, width: int = 5, classes: int = 3) -> None:
        super().__init__()
        self.inp = nn.Linear(4, width)
        self.a = nn.Linear(width, width)
        self.b = nn.Linear(width, width)
        self.out = nn.Linear(width, classes)

    def candidates(self, h: torch.Tensor) -> list[torch.Tensor]:
        return [torch.tanh(self.a(h)), nn.functional.softplus(self.b(h)), h, h * 0.0]

    def forward(self, x, alpha_normal, alpha_reduce):
        h0 = torch.tanh(self.inp(x))
        nodes = [h0]
        for node_alpha in [*alpha_normal, *alpha_reduce]:
            weights = torch.softmax(node_alpha, dim=-1)
            total = 0.0
            for edge, source in enumerate(nodes[-2:] if len(nodes) > 1 else nodes * 2):
                total = total + sum(
                    w * c for w, c in zip(weights[edge], self.candidates(source), strict=True)
                )
            nodes.append(total)
        return self.out(nodes[-1])


def _smooth_setup() -> tuple[nn.Module, Alphas, torch.optim.SGD, list, list]:
    torch.manual_seed(3)
    net = SmoothMixedModel().double()
    alphas = Alphas(num_nodes=2, num_ops=4, has_reduction=True).double()
    with torch.no_grad():
        for a in alphas.parameters():
            a.normal_(0.0, 0.5)
    x, xv = torch.randn(8, 4, dtype=torch.float64), torch.randn(8, 4, dtype=torch.float64)
    y, yv = torch.randint(0, 3, (8,)), torch.randint(0, 3, (8,))
    return net, alphas, _one_sgd_step(net, alphas, x, y), [(x, y)], [(xv, yv)]


def _one_sgd_step(net, alphas, x, y) -> torch.optim.SGD:
    """One real SGD step, so that momentum buffers exist and enter the virtual step."""
    w_optim = torch.optim.SGD(
        net.parameters(), lr=XI, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY
    )
    nn.functional.cross_entropy(net(x, *alphas.detached()), y).backward()
    w_optim.step()
    w_optim.zero_grad()
    return w_optim


def _setup(seed: int = 0) -> tuple[SearchNetwork, Alphas, torch.optim.SGD, list, list]:
    torch.manual_seed(seed)
    net = SearchNetwork(
        PRIMITIVES,
        in_channels=1,
        num_classes=3,
        num_layers=2,
        num_nodes=2,
        init_channels=2,
        stem_multiplier=1,
    ).double()
    alphas = net.new_alphas().double()
    with torch.no_grad():  # alphas away from uniform so the mixed weights differ per edge
        for a in alphas.parameters():
            a.normal_(0.0, 0.5)
    x = torch.randn(6, 1, 8, 8, dtype=torch.float64)
    y = torch.randint(0, 3, (6,))
    xv = torch.randn(6, 1, 8, 8, dtype=torch.float64)
    yv = torch.randint(0, 3, (6,))
    return net, alphas, _one_sgd_step(net, alphas, x, y), [(x, y)], [(xv, yv)]


def _exact_hypergradient(net, alphas, w_optim, train, val) -> list[torch.Tensor]:
    names = [n for n, _ in net.named_parameters()]
    weights = list(net.parameters())
    a_normal, a_reduce = alphas.tensors()
    (x, y), (xv, yv) = train[0], val[0]
    train_loss = nn.functional.cross_entropy(net(x, a_normal, a_reduce), y)
    grads = torch.autograd.grad(train_loss, weights, create_graph=True)
    virtual = {}
    for name, w, g in zip(names, weights, grads, strict=True):
        buffer = w_optim.state[w]["momentum_buffer"]
        virtual[name] = w - XI * (MOMENTUM * buffer + g + WEIGHT_DECAY * w)
    val_loss = nn.functional.cross_entropy(
        functional_call(net, virtual, (xv, a_normal, a_reduce)), yv
    )
    return list(torch.autograd.grad(val_loss, list(alphas.parameters())))


def _relative_error(got: list[torch.Tensor], want: list[torch.Tensor]) -> float:
    diff = torch.cat([(g - w).flatten() for g, w in zip(got, want, strict=True)])
    scale = torch.cat([w.flatten() for w in want])
    return float(diff.norm() / scale.norm())


def _check_against_exact(net, alphas, w_optim, train, val, fd_scale, tolerance) -> None:
    exact = _exact_hypergradient(net, alphas, w_optim, train, val)
    state_before = {k: v.clone() for k, v in net.state_dict().items()}

    architect = Architect(
        net, alphas, w_momentum=MOMENTUM, w_weight_decay=WEIGHT_DECAY, fd_scale=fd_scale
    )
    architect.backward(train, val, XI, w_optim, second_order=True)
    got = [a.grad for a in alphas.parameters()]
    assert _relative_error(got, exact) < tolerance

    # Weights and batch-norm statistics are restored bit for bit.
    for key, value in net.state_dict().items():
        assert torch.equal(value, state_before[key]), key

    # The unrolled term matters: the first-order gradient is measurably different.
    first_order = torch.autograd.grad(
        nn.functional.cross_entropy(net(val[0][0], *alphas.tensors()), val[0][1]),
        list(alphas.parameters()),
    )
    assert _relative_error(list(first_order), exact) > 10 * tolerance


def test_second_order_gradient_matches_exact_hypergradient_smooth_model() -> None:
    _check_against_exact(*_smooth_setup(), fd_scale=0.01, tolerance=SMOOTH_TOLERANCE)


def test_second_order_gradient_matches_exact_hypergradient_search_network() -> None:
    _check_against_exact(*_setup(), fd_scale=1e-6, tolerance=KINKED_TOLERANCE)


def test_alpha_step_changes_alphas_and_only_alphas() -> None:
    net, alphas, w_optim, train, val = _setup(seed=1)
    weights_before = [w.detach().clone() for w in net.parameters()]
    alphas_before = [a.detach().clone() for a in alphas.parameters()]
    alpha_optim = torch.optim.Adam(alphas.parameters(), lr=3e-4, betas=(0.5, 0.999))

    architect = Architect(net, alphas, w_momentum=MOMENTUM, w_weight_decay=WEIGHT_DECAY)
    architect.backward(train, val, XI, w_optim, second_order=True)
    alpha_optim.step()

    assert all(torch.equal(w, b) for w, b in zip(net.parameters(), weights_before, strict=True))
    changed = [
        not torch.equal(a, b) for a, b in zip(alphas.parameters(), alphas_before, strict=True)
    ]
    assert all(changed)
    assert not any(a is w for a in alphas.parameters() for w in net.parameters())


def test_first_order_gradient_is_validation_gradient_at_current_weights() -> None:
    net, alphas, w_optim, train, val = _setup(seed=2)
    want = torch.autograd.grad(
        nn.functional.cross_entropy(net(val[0][0], *alphas.tensors()), val[0][1]),
        list(alphas.parameters()),
    )
    Architect(net, alphas, w_momentum=MOMENTUM, w_weight_decay=WEIGHT_DECAY).backward(
        train, val, XI, w_optim, second_order=False
    )
    for a, g in zip(alphas.parameters(), want, strict=True):
        torch.testing.assert_close(a.grad, g, rtol=1e-12, atol=1e-14)
