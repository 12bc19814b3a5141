"""Parity with PyTorch 2.13 (CPU): values and gradients over a grid of every option."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest
from support import eps_of, import_torch

import logloss as ll

torch = import_torch()
F = torch.nn.functional

REDUCTIONS = ["mean", "sum", "none"]
DTYPES = [np.float32, np.float64]


def _torch_grad(fn, x_np, reduction):
    x = torch.tensor(x_np, requires_grad=True)
    val = fn(x)
    (val.sum() if reduction == "none" else val).backward()
    return val.detach().numpy(), x.grad.numpy()


def _close(actual, expected, dtype, scale=1.0, factor=64):
    tol = factor * eps_of(dtype) * max(1.0, scale)
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=tol, atol=tol)


def _case(layout, n, c, rng, dtype):
    if layout == "2d":
        return rng.normal(0, 3, (n, c)).astype(dtype), 1, (n,)
    # PyTorch's (N, C, d1) layout with the class axis 1
    return rng.normal(0, 3, (n, c, 3)).astype(dtype), 1, (n, 3)


GRID = list(
    itertools.product(
        ["2d", "nd"], [False, True], [False, True], [0.0, 0.1], REDUCTIONS, ["hard", "soft"], DTYPES
    )
)


@pytest.mark.parametrize("layout,use_weight,use_ignore,eps,reduction,kind,dtype", GRID)
def test_cross_entropy_matches_torch(layout, use_weight, use_ignore, eps, reduction, kind, dtype):
    seed = zlib.crc32(repr((layout, use_weight, use_ignore, eps, reduction, kind)).encode())
    rng = np.random.default_rng(seed)
    n, c = 7, 5
    logits, axis, label_shape = _case(layout, n, c, rng, dtype)
    weight = rng.uniform(0.2, 2.0, c).astype(dtype) if use_weight else None
    if kind == "hard":
        target = rng.integers(0, c, label_shape)
        if use_ignore:
            target.reshape(-1)[::3] = -100
        t_torch = torch.tensor(target)
    else:
        target = rng.dirichlet(np.ones(c), size=label_shape).astype(dtype)
        target = np.moveaxis(target, -1, 1) if layout == "nd" else target
        t_torch = torch.tensor(target)
    kw = dict(weight=weight, label_smoothing=eps, reduction=reduction)
    w_t = None if weight is None else torch.tensor(weight)

    def torch_fn(x):
        return F.cross_entropy(x, t_torch, weight=w_t, label_smoothing=eps, reduction=reduction)

    expected_val, expected_grad = _torch_grad(torch_fn, logits, reduction)
    value, grad = ll.value_and_grad(ll.cross_entropy)(logits, target, axis=axis, **kw)
    assert np.asarray(value).dtype == dtype and grad.dtype == dtype
    assert grad.shape == logits.shape
    _close(value, expected_val, dtype, scale=float(np.max(np.abs(expected_val))))
    _close(grad, expected_grad, dtype)
    # the value-only call gives the same value
    _close(
        ll.cross_entropy(logits, target, axis=axis, **kw),
        expected_val,
        dtype,
        scale=float(np.max(np.abs(expected_val))),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_class_axis_last_equals_torch_moved(dtype):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4, 3, 6)).astype(dtype)  # classes last
    target = rng.integers(0, 6, (4, 3))
    expected = F.cross_entropy(torch.tensor(np.moveaxis(logits, -1, 1)), torch.tensor(target))
    _close(ll.cross_entropy(logits, target), expected.item(), dtype)


@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_nll_loss_matches_torch(use_weight, reduction, dtype):
    rng = np.random.default_rng(2)
    logp = np.log(rng.dirichlet(np.ones(4), size=9)).astype(dtype)
    target = rng.integers(0, 4, 9)
    target[::4] = -100
    weight = rng.uniform(0.5, 2, 4).astype(dtype) if use_weight else None
    w_t = None if weight is None else torch.tensor(weight)

    def torch_fn(x):
        return F.nll_loss(x, torch.tensor(target), weight=w_t, reduction=reduction)

    ev, eg = _torch_grad(torch_fn, logp, reduction)
    v, g = ll.value_and_grad(ll.nll_loss)(logp, target, weight=weight, reduction=reduction)
    _close(v, ev, dtype, scale=float(np.max(np.abs(ev))))
    _close(g, eg, dtype)


@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_matches_torch(use_weight, reduction, dtype):
    rng = np.random.default_rng(3)
    p = rng.uniform(0.001, 0.999, (6, 4)).astype(dtype)
    p[0, :2] = [0.0, 1.0]  # exact 0 and 1: PyTorch clamps each log at -100
    y = rng.uniform(0, 1, (6, 4)).astype(dtype)
    y[0, :2] = [1.0, 0.0]
    weight = rng.uniform(0.5, 2, 4).astype(dtype) if use_weight else None
    w_t = None if weight is None else torch.tensor(weight)
    expected = F.binary_cross_entropy(
        torch.tensor(p), torch.tensor(y), weight=w_t, reduction=reduction
    )
    value = ll.binary_cross_entropy(p, y, weight=weight, reduction=reduction)
    _close(value, expected.numpy(), dtype, scale=100.0)
    # gradients at interior points (PyTorch's gradient at exactly 0/1 is also reproduced)
    interior = p.copy()
    interior[0, :2] = [0.3, 0.6]

    def torch_fn(x):
        return F.binary_cross_entropy(x, torch.tensor(y), weight=w_t, reduction=reduction)

    ev, eg = _torch_grad(torch_fn, interior, reduction)
    v, g = ll.value_and_grad(ll.binary_cross_entropy)(
        interior, y, weight=weight, reduction=reduction
    )
    _close(g, eg, dtype, scale=float(np.max(np.abs(eg))))


@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("use_pos_weight", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_matches_torch(use_weight, use_pos_weight, reduction, dtype):
    rng = np.random.default_rng(4)
    x = rng.normal(0, 4, (8, 3)).astype(dtype)
    x[0] = [-60.0, 60.0, 0.0]
    y = rng.uniform(0, 1, (8, 3)).astype(dtype)
    weight = rng.uniform(0.5, 2, (8, 1)).astype(dtype) if use_weight else None
    pos_weight = rng.uniform(0.5, 3, 3).astype(dtype) if use_pos_weight else None
    w_t = None if weight is None else torch.tensor(weight)
    pw_t = None if pos_weight is None else torch.tensor(pos_weight)

    def torch_fn(z):
        return F.binary_cross_entropy_with_logits(
            z, torch.tensor(y), weight=w_t, pos_weight=pw_t, reduction=reduction
        )

    ev, eg = _torch_grad(torch_fn, x, reduction)
    v, g = ll.value_and_grad(ll.binary_cross_entropy_with_logits)(
        x, y, weight=weight, pos_weight=pos_weight, reduction=reduction
    )
    _close(v, ev, dtype, scale=float(np.max(np.abs(ev))))
    _close(g, eg, dtype)


def test_sigmoid_focal_loss_matches_torchvision_formula():
    # torchvision.ops.sigmoid_focal_loss written out with torch primitives (autograd: gradient)
    rng = np.random.default_rng(5)
    x = rng.normal(0, 3, 20)
    y = (rng.uniform(size=20) > 0.5).astype(np.float64)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.tensor(y)
    p = torch.sigmoid(xt)
    ce = F.binary_cross_entropy_with_logits(xt, yt, reduction="none")
    p_t = p * yt + (1 - p) * (1 - yt)
    loss = ce * (1 - p_t) ** 2.0
    loss = (0.25 * yt + 0.75 * (1 - yt)) * loss
    loss.mean().backward()
    v, g = ll.value_and_grad(ll.sigmoid_focal_loss)(x, y, alpha=0.25, gamma=2.0)
    np.testing.assert_allclose(v, loss.mean().item(), rtol=1e-12)
    np.testing.assert_allclose(g, xt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_softmax_focal_loss_matches_torch_autograd():
    rng = np.random.default_rng(6)
    z = rng.normal(0, 2, (10, 4))
    y = rng.integers(0, 4, 10)
    y[3] = -100
    w = rng.uniform(0.5, 2, 4)
    zt = torch.tensor(z, requires_grad=True)
    logp = F.log_softmax(zt, dim=1)
    valid = torch.tensor(y != -100)
    yv = torch.tensor(np.where(y == -100, 0, y))
    lp_y = logp.gather(1, yv[:, None])[:, 0]
    w_y = torch.tensor(w)[yv] * valid
    per_row = -w_y * (1 - lp_y.exp()) ** 1.5 * lp_y
    loss = per_row.sum() / w_y.sum()
    loss.backward()
    v, g = ll.value_and_grad(ll.softmax_focal_loss)(z, y, gamma=1.5, weight=w)
    np.testing.assert_allclose(v, loss.item(), rtol=1e-12)
    np.testing.assert_allclose(g, zt.grad.numpy(), rtol=1e-9, atol=1e-14)


def test_torch_gives_nan_when_all_ignored_and_logloss_gives_zero():
    z = np.random.default_rng(0).normal(size=(3, 4))
    y = np.full(3, -100)
    assert np.isnan(F.cross_entropy(torch.tensor(z), torch.tensor(y)).item())
    value, grad = ll.value_and_grad(ll.cross_entropy)(z, y)
    assert value == 0.0 and not grad.any()


@pytest.mark.parametrize("ignore_index", [-100, -1, 0, 2])
def test_probability_targets_with_ignore_index_follow_torch(torch, ignore_index):
    rng = np.random.default_rng(5)
    z = rng.standard_normal((4, 3))
    t = rng.dirichlet(np.ones(3), size=4)
    try:
        want = torch.nn.functional.cross_entropy(
            torch.tensor(z), torch.tensor(t), ignore_index=ignore_index
        ).item()
    except RuntimeError as err:  # PyTorch refuses a label that could be ignored
        assert "ignore_index is not supported for floating point target" in str(err)
        with pytest.raises(ValueError, match=r"`ignore_index` is not supported.*got ignore_index="):
            ll.cross_entropy(z, t, ignore_index=ignore_index)
        return
    got = ll.cross_entropy(z, t, ignore_index=ignore_index)
    assert got == pytest.approx(want, rel=1e-12)


def test_linear_cross_entropy_on_cpu_tensors_or_a_clear_error(torch):
    h, w = np.ones((2, 3)), np.ones((4, 3))
    y = np.array([0, 1])
    # CPU tensors run the NumPy path on views of their memory and come back as tensors
    loss = ll.linear_cross_entropy(torch.tensor(h), torch.tensor(w), torch.tensor(y))
    assert isinstance(loss, torch.Tensor) and float(loss) == pytest.approx(np.log(4.0))
    f = ll.value_and_grad(ll.linear_cross_entropy, argnums=(0, 1))
    _, (gh, gw) = f(torch.tensor(h), torch.tensor(w), torch.tensor(y))
    assert isinstance(gh, torch.Tensor) and gw.shape == (4, 3)
    # beside NumPy `hidden` (which decides the namespace), a tensor is refused by name
    for name, args, kwargs in [
        ("weight", (h, torch.tensor(w), y), {}),
        ("bias", (h, w, y), {"bias": torch.zeros(4, dtype=torch.float64)}),
    ]:
        with pytest.raises(TypeError, match=rf"NumPy arrays.*torch.*for `{name}`"):
            ll.linear_cross_entropy(*args, **kwargs)
        with pytest.raises(TypeError, match=rf"for `{name}`"):
            ll.value_and_grad(ll.linear_cross_entropy)(*args, **kwargs)
    # a bfloat16 tensor (no NumPy view) is refused by name too
    with pytest.raises(TypeError, match="for `hidden`"):
        ll.linear_cross_entropy(torch.tensor(h).bfloat16(), w, y)
    assert ll.linear_cross_entropy(h, w, torch.tensor(y)) == pytest.approx(np.log(4.0))
