"""linear_cross_entropy: the chunked loss of ``hidden @ weight.T + bias`` and its three gradients.

References: ``ll.cross_entropy`` on the full logits, a plain float64 NumPy formula for
the gradient with respect to the logits (then g_h = G W, g_w = G^T h, g_b = sum G), and
PyTorch autograd when it is installed.
"""

from __future__ import annotations

import itertools
import os
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import eps_of, import_torch

import logloss as ll
from logloss import _kernels
from logloss.losses.linear import default_chunk_size

lce = ll.linear_cross_entropy
REDUCTIONS = ["mean", "sum", "none"]


# ---------------------------------------------------------------------------
# an independent float64 reference, from the formulas
# ---------------------------------------------------------------------------


def ref_loss_and_logit_grad(
    z,
    target,
    *,
    class_weight=None,
    ignore_index=-100,
    eps=0.0,
    z_loss=0.0,
    softcap=None,
    reduction="mean",
):
    """Loss of the logits z (n, V) and G = dL/dz (for 'none': of the sum), in float64."""
    z = np.asarray(z, np.float64)
    n, v = z.shape
    zc = z if softcap is None else np.where(np.isneginf(z), -np.inf, softcap * np.tanh(z / softcap))
    unmasked = ~np.isneginf(zc)
    m = np.max(np.where(unmasked, zc, -np.inf), axis=1, keepdims=True)
    lse = (m + np.log(np.sum(np.exp(zc - m), axis=1, keepdims=True)))[:, 0]
    p = np.exp(zc - lse[:, None])
    w = np.ones(v) if class_weight is None else np.asarray(class_weight, np.float64)
    zc_safe = np.where(unmasked, zc, 0.0)
    target = np.asarray(target)
    if target.ndim == 2:  # probabilities
        t = target * (1 - eps) + eps / v
        wt = np.where(unmasked, w * t, 0.0)
        main = np.sum(wt * (lse[:, None] - zc_safe), axis=1)
        g_main = p * wt.sum(axis=1, keepdims=True) - wt
        counted = np.ones(n, bool)
        s_main = s_z = 1.0 / n if reduction == "mean" else 1.0
    else:
        counted = target != ignore_index
        y = np.where(counted, target, 0)
        onehot = np.eye(v)[y]
        w_y = np.where(counted, w[y], 0.0)
        smooth = np.sum(np.where(unmasked, w * (lse[:, None] - zc_safe), 0.0), axis=1)
        main = (1 - eps) * w_y * (lse - zc[np.arange(n), y]) + eps / v * smooth * counted
        w_un = np.where(unmasked, w, 0.0)
        # d/dz' of (1-eps) w_y (lse - z'_y) + eps/V sum_c w_c (lse - z'_c)
        g_main = (1 - eps) * w_y[:, None] * (p - onehot) + eps / v * (
            w_un.sum(axis=1, keepdims=True) * p - w_un
        )
        if reduction == "mean":
            total = w_y.sum()
            s_main = 1.0 / total if total > 0 else 0.0
            s_z = 1.0 / counted.sum() if counted.any() else 0.0
        else:
            s_main = s_z = 1.0
    main = np.where(counted, main, 0.0)
    zterm = np.where(counted, z_loss * lse**2, 0.0)
    # d/dz' zeta lse^2 = 2 zeta lse p
    g = s_main * g_main + s_z * 2 * z_loss * lse[:, None] * p
    g = np.where(counted[:, None], g, 0.0)
    if softcap is not None:
        g = g * np.where(unmasked, 1 - (zc_safe / softcap) ** 2, 0.0)
    if reduction == "none":
        value = main + zterm
    else:
        value = s_main * main.sum() + s_z * zterm.sum()
    return value, g


def ref_all(h, W, target, b=None, **kw):
    h64, W64 = np.asarray(h, np.float64), np.asarray(W, np.float64)
    z = h64 @ W64.T
    if b is not None:
        z = z + np.asarray(b, np.float64)
    value, G = ref_loss_and_logit_grad(z, target, **kw)
    return value, G @ W64, G.T @ h64, G.sum(axis=0)


def make(n=37, d=7, v=23, seed=0, dtype=np.float64, ignore_frac=0.2, bias=True):
    rng = np.random.default_rng(seed)
    h = rng.normal(0, 1, (n, d)).astype(dtype)
    W = rng.normal(0, 0.7, (v, d)).astype(dtype)
    b = rng.normal(0, 0.5, v).astype(dtype) if bias else None
    y = rng.integers(0, v, n)
    y[rng.random(n) < ignore_frac] = -100
    return h, W, y, b


def close(actual, expected, tol):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=tol, atol=tol)


def all_grads(h, W, y, b=None, **kw):
    if b is None:
        value, (gh, gw) = ll.value_and_grad(lce, argnums=(0, 1))(h, W, y, **kw)
        return value, gh, gw, None
    value, (gh, gw, gb) = ll.value_and_grad(lce, argnums=(0, 1, 2))(h, W, y, bias=b, **kw)
    return value, gh, gw, gb


# ---------------------------------------------------------------------------
# against the unfused computation, every option, float64
# ---------------------------------------------------------------------------

OPTIONS = [
    dict(),
    dict(label_smoothing=0.1),
    dict(z_loss=1e-2),
    dict(softcap=3.0),
    dict(class_weight="random"),
    dict(label_smoothing=0.2, z_loss=1e-3, softcap=2.5, class_weight="random"),
]


@pytest.mark.parametrize(
    "opts, reduction, chunk",
    list(itertools.product(OPTIONS, REDUCTIONS, [5, 37, 100, None])),
    ids=lambda x: str(x),
)
def test_against_full_logits_and_formula(opts, reduction, chunk):
    h, W, y, b = make()
    kw = dict(opts)
    if kw.get("class_weight") == "random":
        kw["class_weight"] = np.random.default_rng(1).uniform(0.2, 2.0, W.shape[0])
    ref_kw = dict(
        class_weight=kw.get("class_weight"),
        eps=kw.get("label_smoothing", 0.0),
        z_loss=kw.get("z_loss", 0.0),
        softcap=kw.get("softcap"),
        reduction=reduction,
    )
    value, gh, gw, gb = all_grads(h, W, y, b, chunk_size=chunk, reduction=reduction, **kw)
    full = ll.cross_entropy(
        h @ W.T + b,
        y,
        weight=kw.get("class_weight"),
        label_smoothing=ref_kw["eps"],
        z_loss=ref_kw["z_loss"],
        softcap=ref_kw["softcap"],
        reduction=reduction,
    )
    r_value, r_gh, r_gw, r_gb = ref_all(h, W, y, b, **ref_kw)
    tol = 64 * eps_of(np.float64)
    close(value, full, tol)
    close(value, r_value, tol)
    close(gh, r_gh, tol)
    close(gw, r_gw, tol)
    close(gb, r_gb, tol)
    # the value-only call gives the same value
    close(lce(h, W, y, bias=b, chunk_size=chunk, reduction=reduction, **kw), r_value, tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("chunk", [4, None])
def test_probability_targets(reduction, chunk):
    h, W, _, b = make(n=13, v=11)
    t = np.random.default_rng(3).dirichlet(np.ones(11), size=13)
    cw = np.linspace(0.5, 1.5, 11)
    kw = dict(label_smoothing=0.1, z_loss=1e-2, class_weight=cw, reduction=reduction)
    value, gh, gw, gb = all_grads(h, W, t, b, chunk_size=chunk, **kw)
    full = ll.cross_entropy(h @ W.T + b, t, weight=cw, label_smoothing=0.1, z_loss=1e-2,
                            reduction=reduction)  # fmt: skip
    r_value, r_gh, r_gw, r_gb = ref_all(
        h, W, t, b, class_weight=cw, eps=0.1, z_loss=1e-2, reduction=reduction
    )
    tol = 64 * eps_of(np.float64)
    close(value, full, tol)
    close(value, r_value, tol)
    close(gh, r_gh, tol)
    close(gw, r_gw, tol)
    close(gb, r_gb, tol)


def test_integer_labels_equal_one_hot_targets():
    h, W, y, b = make(ignore_frac=0.0)
    onehot = np.eye(W.shape[0])[y]
    a = all_grads(h, W, y, b, chunk_size=6)
    c = all_grads(h, W, onehot, b, chunk_size=6)
    for x, r in zip(a, c, strict=True):
        close(x, r, 64 * eps_of(np.float64))


def test_batch_dimensions_are_flattened():
    h, W, y, b = make(n=24)
    h3, y3 = h.reshape(2, 3, 4, -1), y.reshape(2, 3, 4)
    v, gh, gw, gb = all_grads(h3, W, y3, b, chunk_size=5)
    v_flat, gh_flat, gw_flat, gb_flat = all_grads(h, W, y, b, chunk_size=5)
    assert gh.shape == h3.shape
    close(v, v_flat, 0)
    close(gh.reshape(h.shape), gh_flat, 0)
    close(gw, gw_flat, 1e-15)
    none = lce(h3, W, y3, bias=b, reduction="none")
    assert none.shape == (2, 3, 4)


@pytest.mark.parametrize("n, d, v, chunk", [(5, 0, 4, 2), (1, 3, 1, None), (3, 3, 5, 1)])
def test_degenerate_shapes(n, d, v, chunk):
    h, W, y, b = make(n=n, d=d, v=v, ignore_frac=0.0)
    got = all_grads(h, W, y, b, chunk_size=chunk, z_loss=0.1)
    ref = ref_all(h, W, y, b, z_loss=0.1)
    for x, r in zip(got, ref, strict=True):
        close(x, r, 64 * eps_of(np.float64))


def test_single_row_and_scalar_label():
    h, W, y, b = make(n=1, ignore_frac=0.0)
    assert lce(h[0], W, y[0], bias=b) == pytest.approx(lce(h, W, y, bias=b), rel=1e-15)


def test_ignored_rows_equal_dropped_rows_and_skip_whole_chunks():
    h, W, y, b = make(n=30, ignore_frac=0.0)
    y[:12] = -100  # the first two chunks of 6 are fully ignored
    y[20] = -100
    keep = y != -100
    value, gh, gw, gb = all_grads(h, W, y, b, chunk_size=6)
    value_k, gh_k, gw_k, gb_k = all_grads(h[keep], W, y[keep], b, chunk_size=6)
    tol = 64 * eps_of(np.float64)
    close(value, value_k, tol)
    assert not gh[~keep].any()
    close(gh[keep], gh_k, tol)
    close(gw, gw_k, tol)
    close(gb, gb_k, tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_all_rows_ignored_gives_zero_not_nan(reduction):
    h, W, y, b = make(n=9)
    y[:] = -100
    value, gh, gw, gb = all_grads(h, W, y, b, chunk_size=4, reduction=reduction)
    assert np.all(np.asarray(value) == 0)
    assert not gh.any() and not gw.any() and not gb.any()


def test_empty_batch_mean_is_error_sum_is_zero():
    h, W, y, b = make(n=0)
    with pytest.raises(ValueError, match="`hidden` is empty"):
        lce(h, W, y)
    value, gh, gw, gb = all_grads(h, W, y, b, reduction="sum")
    assert value == 0 and gh.shape == (0, 7) and not gw.any() and not gb.any()


def test_minus_inf_bias_masks_classes():
    h, W, y, b = make(ignore_frac=0.0)
    b[[3, 5]] = -np.inf
    y[np.isin(y, [3, 5])] = 0
    kw = dict(label_smoothing=0.1, z_loss=1e-2, chunk_size=8)
    value, gh, gw, gb = all_grads(h, W, y, b, **kw)
    full, g_full = ll.value_and_grad(ll.cross_entropy)(
        h @ W.T + b, y, label_smoothing=0.1, z_loss=1e-2
    )
    tol = 64 * eps_of(np.float64)
    close(value, full, tol)
    close(gh, g_full @ W, tol)
    close(gw, g_full.T @ h, tol)
    assert gb[3] == 0 and gb[5] == 0 and not gw[[3, 5]].any()


@given(
    n=st.integers(1, 20),
    d=st.integers(1, 6),
    v=st.integers(1, 9),
    chunk=st.integers(1, 25),
    seed=st.integers(0, 2**16),
)
def test_any_chunk_size_matches_reference(n, d, v, chunk, seed):
    h, W, y, b = make(n=n, d=d, v=v, seed=seed, ignore_frac=0.3)
    if not (y != -100).any():
        y[0] = 0
    value, gh, gw, gb = all_grads(h, W, y, b, chunk_size=chunk)
    r = ref_all(h, W, y, b)
    tol = 64 * eps_of(np.float64)
    for x, ref in zip((value, gh, gw, gb), r, strict=True):
        close(x, ref, tol)


# ---------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype, factor", [(np.float32, 64), (np.float16, 8)])
def test_lower_precision_agrees_with_float64_in_eps_units(dtype, factor):
    h, W, y, b = make(n=64, d=16, v=50)
    h, W, b = h.astype(dtype), W.astype(dtype), b.astype(dtype)
    value, gh, gw, gb = all_grads(h, W, y, b, chunk_size=24, label_smoothing=0.1)
    assert np.asarray(value).dtype == dtype
    assert gh.dtype == gw.dtype == gb.dtype == dtype
    # the reference gets the same (rounded) inputs, computed in float64
    r_value, r_gh, r_gw, r_gb = ref_all(h, W, y, b, eps=0.1)
    eps = eps_of(dtype)
    close(value, r_value, factor * eps * abs(r_value))
    for g, r in ((gh, r_gh), (gw, r_gw), (gb, r_gb)):
        np.testing.assert_allclose(
            g.astype(np.float64), r, rtol=0, atol=factor * eps * np.abs(r).max()
        )


def test_mixed_dtypes_promote_and_each_gradient_keeps_its_argument_dtype():
    h, W, y, b = make()
    h32 = h.astype(np.float32)
    value, gh, gw, gb = all_grads(h32, W, y, b)
    assert np.asarray(value).dtype == np.float64
    assert gh.dtype == np.float32 and gw.dtype == np.float64 and gb.dtype == np.float64
    r = ref_all(h32, W, y, b)
    close(value, r[0], 1e-13)
    close(gw, r[2], 1e-13)


def test_non_contiguous_inputs():
    h, W, y, b = make(n=20, d=6, v=15)
    hf, Wf = np.asfortranarray(h), np.asfortranarray(W)
    h_strided = np.repeat(h, 2, axis=0)[::2]
    ref = all_grads(h, W, y, b, chunk_size=7)
    for hh, WW in ((hf, Wf), (h_strided, W), (h, W[:, ::-1][:, ::-1])):
        got = all_grads(hh, WW, y, b, chunk_size=7)
        for x, r in zip(got, ref, strict=True):
            close(x, r, 1e-14)


# ---------------------------------------------------------------------------
# argnums and out
# ---------------------------------------------------------------------------


def test_argnums_select_gradients_and_skip_the_others(monkeypatch):
    import logloss.losses.linear

    h, W, y, b = make(d=6)  # (V, D) = (23, 6) differs from every chunk's shapes
    _, gh_all, gw_all, gb_all = all_grads(h, W, y, b, chunk_size=8)
    products = []

    class NumpySpy:  # logloss.losses.linear's `np`, recording the output shape of each product
        def __getattr__(self, name):
            return getattr(np, name)

        def matmul(self, a, b, out=None):
            products.append(out.shape)
            return np.matmul(a, b, out=out)

    accumulated = []
    real_accumulate = logloss.losses.linear._accumulate_grad_weight

    def accumulate_spy(g, hc, gw, first, buf):
        accumulated.append(first)
        real_accumulate(g, hc, gw, first, buf)

    monkeypatch.setattr(logloss.losses.linear, "np", NumpySpy())
    monkeypatch.setattr(logloss.losses.linear, "_accumulate_grad_weight", accumulate_spy)
    v0, g0 = ll.value_and_grad(lce)(h, W, y, bias=b, chunk_size=8)  # argnums=0: an array
    assert isinstance(g0, np.ndarray)
    close(g0, gh_all, 0)
    # per chunk (5 of them): the logits and G W, no G^T h
    assert products == [(8, 23), (8, 6)] * 4 + [(5, 23), (5, 6)]
    assert not accumulated
    products.clear()
    v2, (g2,) = ll.value_and_grad(lce, argnums=(2,))(h, W, y, bias=b, chunk_size=8)
    close(g2, gb_all, 0)
    assert products == [(8, 23)] * 4 + [(5, 23)]  # the logits only
    products.clear()
    v1, g1 = ll.value_and_grad(lce, argnums=1)(h, W, y, bias=b, chunk_size=8)
    close(g1, gw_all, 0)
    # the logits, then G^T h in slices of 16 classes (the buffer's floor) into W's gradient
    assert products == [(8, 23), (16, 6), (7, 6)] * 4 + [(5, 23), (16, 6), (7, 6)]
    assert accumulated == [True, False, False, False, False]
    v02, (g0b, g2b) = ll.value_and_grad(lce, argnums=(0, 2))(h, W, y, bias=b, chunk_size=8)
    close(g0b, gh_all, 0)
    close(g2b, gb_all, 0)
    assert v0 == v1 == v2 == v02 == lce(h, W, y, bias=b, chunk_size=8)


def test_keyword_arguments_are_accepted_by_value_and_grad():
    h, W, y, b = make()
    v, (gh, gb) = ll.value_and_grad(lce, argnums=(0, 2))(hidden=h, weight=W, target=y, bias=b)
    r = ref_all(h, W, y, b)
    close(gh, r[1], 1e-14)
    close(gb, r[3], 1e-14)


def test_bias_gradient_without_bias_is_an_error():
    h, W, y, _ = make()
    with pytest.raises(ValueError, match="`bias`"):
        ll.value_and_grad(lce, argnums=(0, 2))(h, W, y)
    with pytest.raises(ValueError, match="not differentiable"):
        ll.value_and_grad(lce, argnums=3)


def test_out_receives_gradients_and_hidden_can_be_overwritten():
    h, W, y, b = make(dtype=np.float32)
    _, gh, gw, gb = all_grads(h, W, y, b, chunk_size=6)
    outs = (np.empty_like(h), np.empty_like(W), np.empty_like(b))
    f = ll.value_and_grad(lce, argnums=(0, 1, 2))
    _, got = f(h, W, y, bias=b, chunk_size=6, out=outs)
    assert all(g is o for g, o in zip(got, outs, strict=True))
    np.testing.assert_array_equal(got[0], gh)
    np.testing.assert_array_equal(got[1], gw)
    np.testing.assert_array_equal(got[2], gb)
    # out=hidden: each chunk of hidden is read before its gradient is written there
    h2 = h.copy()
    _, g = ll.value_and_grad(lce)(h2, W, y, bias=b, chunk_size=6, out=h2)
    assert g is h2
    np.testing.assert_array_equal(h2, gh)


def test_out_in_another_dtype_or_layout():
    h, W, y, b = make(dtype=np.float32)
    _, gh, gw, _ = all_grads(h, W, y, None, chunk_size=6)
    h16 = h.astype(np.float16)
    out = np.empty_like(h16)
    _, g = ll.value_and_grad(lce)(h16, W, y, chunk_size=6, out=out)
    assert g is out
    close(out, gh, 2e-2)
    out_f = np.empty(W.shape, np.float32, order="F")
    _, g = ll.value_and_grad(lce, argnums=1)(h, W, y, chunk_size=6, out=out_f)
    assert g is out_f
    np.testing.assert_array_equal(out_f, gw)


def test_out_overlapping_an_operand_is_an_error():
    h, W, y, b = make()
    with pytest.raises(ValueError, match="must not share memory with `weight`"):
        ll.value_and_grad(lce, argnums=1)(h, W, y, out=W)
    with pytest.raises(ValueError, match="must not share memory with `hidden`"):
        ll.value_and_grad(lce)(h[:-1], W, y[:-1], out=h[1:])
    with pytest.raises(ValueError, match="`out` must have shape"):
        ll.value_and_grad(lce)(h, W, y, out=np.empty((3, 3)))


# ---------------------------------------------------------------------------
# against PyTorch autograd
# ---------------------------------------------------------------------------


def torch_reference(torch, h, W, y, b, *, class_weight, eps, z_loss, softcap, reduction):
    F = torch.nn.functional
    ht = torch.tensor(h, requires_grad=True)
    Wt = torch.tensor(W, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    z = ht @ Wt.T + bt
    if softcap is not None:
        z = softcap * torch.tanh(z / softcap)
    yt = torch.tensor(y)
    cw = None if class_weight is None else torch.tensor(class_weight)
    loss = F.cross_entropy(z, yt, weight=cw, label_smoothing=eps, reduction=reduction)
    if z_loss:
        counted = (yt != -100).to(z.dtype)
        zl = z_loss * torch.logsumexp(z, dim=-1) ** 2 * counted
        loss = loss + (
            zl if reduction == "none" else zl.sum() / (counted.sum() if reduction == "mean" else 1)
        )
    (loss.sum() if reduction == "none" else loss).backward()
    return loss.detach().numpy(), ht.grad.numpy(), Wt.grad.numpy(), bt.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "opts",
    [dict(), dict(eps=0.1, class_weight=True), dict(z_loss=1e-3, softcap=4.0, eps=0.05)],
    ids=["plain", "smooth+weight", "zloss+softcap+smooth"],
)
def test_against_torch_autograd(dtype, reduction, opts):
    torch = import_torch()
    h, W, y, b = make(n=70, d=24, v=130, dtype=dtype)
    cw = (
        np.random.default_rng(5).uniform(0.3, 2.0, 130).astype(dtype)
        if opts.get("class_weight")
        else None
    )
    kw = dict(eps=opts.get("eps", 0.0), z_loss=opts.get("z_loss", 0.0), softcap=opts.get("softcap"))
    expected = torch_reference(torch, h, W, y, b, class_weight=cw, reduction=reduction, **kw)
    got = all_grads(
        h, W, y, b, chunk_size=32, class_weight=cw, reduction=reduction,
        label_smoothing=kw["eps"], z_loss=kw["z_loss"], softcap=kw["softcap"],
    )  # fmt: skip
    eps = eps_of(dtype)
    for x, r in zip(got, expected, strict=True):
        r = np.asarray(r, np.float64)
        scale = max(np.abs(r).max(), 1e-30)
        np.testing.assert_allclose(
            np.asarray(x, np.float64), r, rtol=256 * eps, atol=256 * eps * scale
        )


# ---------------------------------------------------------------------------
# bad input: each error names the argument
# ---------------------------------------------------------------------------


BAD = [
    (dict(hidden=np.ones((4, 7), int)), TypeError, "`hidden` must be a real floating-point"),
    (dict(weight=np.ones((23, 6))), ValueError, r"`hidden`.*\(4, 7\).*`weight`.*\(23, 6\)"),
    (dict(weight=np.ones(23)), ValueError, r"`weight` must have shape \(V, D\)"),
    (dict(weight=np.ones((0, 7))), ValueError, "`weight` must have at least one row"),
    (dict(bias=np.ones(22)), ValueError, r"`bias` must have shape \(23,\)"),
    (dict(bias=np.full(23, np.nan)), ValueError, "`bias` must not contain NaN"),
    (dict(target=np.zeros(5, int)), ValueError, r"`target` must have shape \(4,\)"),
    (dict(target=np.array([0, 1, 23, 2])), ValueError, "`target` labels must be in"),
    (dict(target=np.full((4, 23), 1.5)), ValueError, r"`target` must be in \[0, 1\]"),
    (dict(reduction="avg"), ValueError, "`reduction`"),
    (dict(chunk_size=0), ValueError, "`chunk_size` must be a positive integer"),
    (dict(chunk_size=2.5), TypeError, "`chunk_size`"),
    (dict(chunk_size=True), TypeError, "`chunk_size`"),
    (dict(class_weight=np.ones(7)), ValueError, r"`class_weight` must have shape \(23,\)"),
    (dict(class_weight=-np.ones(23)), ValueError, "`class_weight` must be non-negative"),
    (dict(label_smoothing=1.0), ValueError, "`label_smoothing`"),
    (dict(z_loss=-1.0), ValueError, "`z_loss`"),
    (dict(softcap=0.0), ValueError, "`softcap`"),
    (dict(ignore_index=1.5), TypeError, "`ignore_index`"),
]


@pytest.mark.parametrize("change, exc, match", BAD, ids=[b[2][:30] for b in BAD])
def test_bad_input_names_the_argument(change, exc, match):
    rng = np.random.default_rng(0)
    args = dict(hidden=rng.normal(size=(4, 7)), weight=rng.normal(size=(23, 7)),
                target=np.array([0, 1, 2, 3]))  # fmt: skip
    args.update(change)
    kwargs = {k: args.pop(k) for k in list(args) if k not in ("hidden", "weight", "target")}
    with pytest.raises(exc, match=match):
        lce(args["hidden"], args["weight"], args["target"], **kwargs)


def test_non_finite_operands_are_reported_by_name():
    h, W, y, b = make(n=20)
    bad_h = h.copy()
    bad_h[13, 2] = np.nan
    with pytest.raises(ValueError, match=r"`hidden\[10:15\]` must be finite; got .*nan.* \(3, 2\)"):
        lce(bad_h, W, y, chunk_size=5)
    bad_W = W.copy()
    bad_W[4, 1] = np.inf
    with pytest.raises(ValueError, match=r"`weight` must be finite; got .*inf.* \(4, 1\)"):
        ll.value_and_grad(lce, argnums=(0, 1))(h, bad_W, y)
    # finite operands whose product overflows float32 in row 6
    big = h.astype(np.float32)
    big[6] = 1e38
    y[6] = 0
    with pytest.raises(ValueError, match="overflow float32 in row 6 of `hidden`"):
        lce(big, np.abs(W).astype(np.float32) + 1, y, chunk_size=4)


def test_masked_target_class_is_reported():
    h, W, y, b = make(n=20, ignore_frac=0.0)
    b[y[7]] = -np.inf
    with pytest.raises(ValueError, match=r"`bias` is -inf .* target class; found in row \d+"):
        lce(h, W, y, bias=b, chunk_size=3)
    with pytest.raises(ValueError, match="`bias` masks every class"):
        lce(h, W, y, bias=np.full(W.shape[0], -np.inf), chunk_size=3)


def test_default_chunk_size_rule():
    assert default_chunk_size(4096, 32000, 4) == 400  # 1/10 of the logits, multiple of 16
    assert default_chunk_size(8192, 128256, 4) == 128  # the 64 MiB cap
    assert default_chunk_size(100, 10, 8) == 16  # the 16-row floor
    assert default_chunk_size(5, 10, 8) == 5
    assert default_chunk_size(0, 10, 8) == 1
    for n, v in [(4096, 32000), (8192, 128256), (1000, 50000), (64, 7)]:
        rows = default_chunk_size(n, v, 4)
        assert rows * v * 4 <= max(n * v * 4 / 10, 16 * v * 4) and rows * v * 4 <= 64 * 2**20


# ---------------------------------------------------------------------------
# memory: the (N, V) logits are never materialised
# ---------------------------------------------------------------------------


def _peak_extra(fn, returned_bytes=0):
    """Peak bytes NumPy allocated (tracemalloc) during fn(), beyond what fn returns."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - before - returned_bytes
    finally:
        tracemalloc.stop()
    del result
    return peak


def test_peak_extra_memory_is_a_fraction_of_the_logits():
    n, d, v = 2048, 32, 4096  # logits: 32 MiB in float32
    rng = np.random.default_rng(0)
    h = rng.standard_normal((n, d), dtype=np.float32)
    W = rng.standard_normal((v, d), dtype=np.float32)
    b = np.zeros(v, np.float32)
    y = rng.integers(0, v, n)
    logits_bytes = n * v * 4
    grads_bytes = h.nbytes + W.nbytes + b.nbytes
    f = ll.value_and_grad(lce, argnums=(0, 1, 2))
    f(h[:64], W, y[:64], bias=b)  # imports and compiles outside the measurement
    # any kernel path: 64-row chunks (1 MiB) keep the peak far below the logits, even with
    # the portable kernel's (rows, V) temporaries
    peak_grad = _peak_extra(lambda: f(h, W, y, bias=b, chunk_size=64), grads_bytes)
    peak_value = _peak_extra(lambda: lce(h, W, y, bias=b, chunk_size=64))
    assert peak_grad < logits_bytes / 4, (peak_grad, logits_bytes)
    assert peak_value < logits_bytes / 4, (peak_value, logits_bytes)
    chunk_bytes = default_chunk_size(n, v) * v * 4
    assert chunk_bytes <= logits_bytes / 10
    fused = np.empty((4, v), np.float32)
    if _kernels.which_path(fused, fused) == "numba":
        # the fused kernel allocates no (rows, V) temporaries: with the default chunk size
        # the extra memory is the chunk buffer and vectors of length N and V
        peak_default = _peak_extra(lambda: f(h, W, y, bias=b), grads_bytes)
        assert peak_default < chunk_bytes + 2**20, (peak_default, chunk_bytes)
        assert peak_default < logits_bytes / 4
    if os.environ.get("LOGLOSS_VERBOSE_MEMORY"):
        print(f"peak extra: grad {peak_grad / 2**20:.1f} MiB, value {peak_value / 2**20:.1f} MiB")
