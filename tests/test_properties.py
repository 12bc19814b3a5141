"""Property tests (hypothesis): any shape, dtype and magnitude gives finite, accurate results.

`make test` runs the "quick" profile; `make test-long` the "long" one (10,000 examples each).
Magnitudes go up to a quarter of the dtype's largest value: beyond that the exact loss
itself (a difference of two logits) can exceed the dtype's range.
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import logloss as ll

DTYPES = st.sampled_from([np.float16, np.float32, np.float64])


@st.composite
def logits_and_labels(draw, allow_ignore=True):
    dtype = draw(DTYPES)
    n = draw(st.integers(1, 12))
    c = draw(st.integers(1, 9))
    limit = float(np.finfo(dtype).max) / 4
    mag = draw(st.sampled_from([1e-3, 1.0, 10.0, 1e3, 1e4, limit]))
    mag = min(mag, limit)
    elems = st.floats(-mag, mag, allow_nan=False, allow_infinity=False, width=64)
    z = draw(hnp.arrays(np.float64, (n, c), elements=elems)).astype(dtype)
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    if allow_ignore and draw(st.booleans()):
        ignore = draw(hnp.arrays(np.bool_, (n,)))
        labels = np.where(ignore, -100, labels)
    return z, labels


def _reference_rows(z, y):
    """float64 CE per row from the textbook formula, 0 for ignored rows."""
    z64 = z.astype(np.float64)
    m = z64.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(z64 - m).sum(axis=1, keepdims=True)))[:, 0]
    out = np.zeros(len(y))
    valid = y != -100
    out[valid] = lse[valid] - z64[np.arange(len(y))[valid], y[valid]]
    return out


@given(logits_and_labels(), st.sampled_from([0.0, 0.1]))
def test_cross_entropy_is_finite_and_accurate(data, eps):
    z, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = ll.cross_entropy(z, y, reduction="none", label_smoothing=eps)
        value, grad = ll.value_and_grad(ll.cross_entropy)(z, y, label_smoothing=eps)
    assert np.isfinite(rows).all() and np.isfinite(value) and np.isfinite(grad).all()
    assert rows.dtype == z.dtype and grad.dtype == z.dtype
    if eps == 0.0:
        ref = _reference_rows(z, y)
        scale = np.maximum(np.abs(z.astype(np.float64)).max(), 1.0)
        tol = 16 * np.finfo(z.dtype).eps * scale + 16 * np.finfo(z.dtype).eps * np.abs(ref)
        assert (np.abs(rows.astype(np.float64) - ref) <= tol).all()
    # every row of the gradient sums to zero (softmax minus a distribution)
    assert np.allclose(
        grad.astype(np.float64).sum(axis=1), 0.0, atol=1e-2 if z.dtype == np.float16 else 1e-5
    )
    if (y == -100).all():
        assert value == 0.0 and not grad.any()


@given(logits_and_labels(allow_ignore=False), st.floats(0.0, 5.0))
def test_softmax_focal_loss_is_finite_and_bounded_by_ce(data, gamma):
    z, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # per-row values: a float16 *sum* of representable losses may itself exceed 65504
        focal = ll.softmax_focal_loss(z, y, gamma=gamma, reduction="none")
        _, grad = ll.value_and_grad(ll.softmax_focal_loss)(z, y, gamma=gamma)
        ce = ll.cross_entropy(z, y, reduction="none")
    assert np.isfinite(focal).all() and np.isfinite(grad).all()
    assert (focal.astype(np.float64) <= ce.astype(np.float64) * (1 + 1e-3) + 1e-6).all()


@st.composite
def binary_data(draw):
    dtype = draw(DTYPES)
    n = draw(st.integers(1, 20))
    mag = min(draw(st.sampled_from([1e-3, 1.0, 30.0, 1e3, 1e30])), float(np.finfo(dtype).max) / 4)
    x = draw(hnp.arrays(np.float64, (n,), elements=st.floats(-mag, mag, width=64))).astype(dtype)
    y = draw(hnp.arrays(np.float64, (n,), elements=st.floats(0.0, 1.0)))
    return x, y


@given(binary_data())
def test_bce_with_logits_is_finite_and_accurate(data):
    x, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = ll.binary_cross_entropy_with_logits(x, y, reduction="none")
        _, grad = ll.value_and_grad(ll.binary_cross_entropy_with_logits)(x, y)
    assert np.isfinite(rows).all() and np.isfinite(grad).all()
    x64 = x.astype(np.float64)
    # the loss sees the target rounded to the compute dtype (float32 for float16 logits)
    y = y.astype(np.float32 if x.dtype == np.float16 else x.dtype).astype(np.float64)
    # -[y log s(x) + (1-y) log s(-x)] with log s(x) = -logaddexp(0, -x)
    ref = y * np.logaddexp(0.0, -x64) + (1 - y) * np.logaddexp(0.0, x64)
    if x.dtype != np.float16:  # float16 results round to 3 digits; checked for finiteness only
        tol = 8 * np.finfo(x.dtype).eps * np.maximum(np.abs(ref), 1.0)
        assert (np.abs(rows.astype(np.float64) - ref) <= tol).all()


@given(binary_data(), st.floats(0.0, 4.0), st.one_of(st.none(), st.floats(0.0, 1.0)))
def test_sigmoid_focal_loss_is_finite(data, gamma, alpha):
    x, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v, g = ll.value_and_grad(ll.sigmoid_focal_loss)(x, y, gamma=gamma, alpha=alpha)
    assert np.isfinite(v) and np.isfinite(g).all()


@given(
    hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(0.0, 1.0)),
    hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(0.0, 1.0)),
)
def test_binary_cross_entropy_from_probabilities_is_finite(p, y):
    n = min(len(p), len(y))
    p, y = p[:n], y[:n]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = ll.binary_cross_entropy(p, y, reduction="none")
        _, g = ll.value_and_grad(ll.binary_cross_entropy)(p, y)
    assert np.isfinite(rows).all() and (rows <= 100 + 1e-9).all() and np.isfinite(g).all()


# ---------------------------------------------------------------------------
# nll_loss, probability targets, z-loss / soft-capping / class weights
# ---------------------------------------------------------------------------


def _tol(dtype, scale, ref, k=16.0):
    eps = np.finfo(dtype).eps
    return k * eps * np.maximum(scale, 1.0) + k * eps * np.abs(ref)


@given(logits_and_labels())
def test_nll_loss_of_log_softmax_equals_cross_entropy(data):
    z, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logp = ll.log_softmax(z)
        rows = ll.nll_loss(logp, y, reduction="none")
        value, grad = ll.value_and_grad(ll.nll_loss)(logp, y)
        ce = ll.cross_entropy(z, y, reduction="none")
    assert np.isfinite(logp).all() and np.isfinite(rows).all()
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert rows.dtype == z.dtype and grad.dtype == z.dtype
    # nll is -logp[y]; its gradient is -1 at the target of each counted row, 0 elsewhere
    valid = y != -100
    ref = np.zeros(len(y))
    ref[valid] = -logp.astype(np.float64)[np.arange(len(y))[valid], y[valid]]
    assert (rows.astype(np.float64) == ref.astype(z.dtype)).all() or np.allclose(
        rows.astype(np.float64), ref, rtol=4 * np.finfo(z.dtype).eps, atol=0
    )
    scale = np.abs(z.astype(np.float64)).max()
    assert (
        np.abs(rows.astype(np.float64) - ce.astype(np.float64)) <= _tol(z.dtype, scale, ref)
    ).all()
    assert (grad[~valid] == 0).all() and (grad <= 0).all()


@st.composite
def logits_and_distributions(draw):
    z, y = draw(logits_and_labels(allow_ignore=False))
    n, c = z.shape
    raw = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(0.0, 1.0)))
    one_hot = draw(st.booleans())
    if one_hot:
        t = np.eye(c)[y]
    else:
        raw[np.arange(n), y] += 1e-3  # no all-zero row
        t = raw / raw.sum(axis=1, keepdims=True)
    return z, t.astype(z.dtype), y, one_hot


@given(logits_and_distributions(), st.sampled_from([0.0, 0.2]))
def test_probability_targets_are_finite_and_match_the_reference(data, eps):
    z, t, y, one_hot = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = ll.cross_entropy(z, t, reduction="none", label_smoothing=eps)
        value, grad = ll.value_and_grad(ll.cross_entropy)(z, t, label_smoothing=eps)
    assert np.isfinite(rows).all() and np.isfinite(value) and np.isfinite(grad).all()
    assert rows.dtype == z.dtype and grad.dtype == z.dtype
    z64 = z.astype(np.float64)
    c = z.shape[1]
    # targets become t (1 - eps) + eps / C; loss -sum_c t_c log p_c with log p = z - LSE(z)
    compute = np.float32 if z.dtype == np.float16 else z.dtype
    t64 = t.astype(compute).astype(np.float64) * (1 - eps) + eps / c
    m = z64.max(axis=1, keepdims=True)
    logp = z64 - (m + np.log(np.exp(z64 - m).sum(axis=1, keepdims=True)))
    ref = -(t64 * logp).sum(axis=1)
    scale = np.abs(z64).max()
    assert (np.abs(rows.astype(np.float64) - ref) <= _tol(z.dtype, scale, ref, k=16.0 * c)).all()
    # d/dz = p * sum(t) - t: each row of the gradient sums to 0 for normalised targets
    atol = 1e-2 if z.dtype == np.float16 else 1e-4
    assert np.allclose(grad.astype(np.float64).sum(axis=1), 0.0, atol=atol)
    if one_hot:  # integer labels are the same as their one-hot targets
        hard = ll.cross_entropy(z, y, reduction="none", label_smoothing=eps)
        assert (np.abs(hard.astype(np.float64) - rows.astype(np.float64))
                <= _tol(z.dtype, scale, ref, k=16.0 * c)).all()  # fmt: skip


@st.composite
def bounded_logits_and_labels(draw):
    """Logits whose LSE squared is still representable (for the z-loss term)."""
    z, y = draw(logits_and_labels())
    limit = np.sqrt(float(np.finfo(z.dtype).max)) / 4
    peak = float(np.abs(z.astype(np.float64)).max())
    if peak > limit:
        z = (z.astype(np.float64) * (limit / peak)).astype(z.dtype)
    return z, y


@given(
    bounded_logits_and_labels(),
    st.floats(0.0, 1.0),
    st.one_of(st.none(), st.floats(0.5, 100.0)),
    st.booleans(),
)
def test_z_loss_softcap_and_class_weights_are_finite_and_match_the_reference(
    data, zeta, softcap, weighted
):
    z, y = data
    c = z.shape[1]
    w = np.linspace(0.0, 2.0, c) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kw = dict(z_loss=zeta, softcap=softcap, weight=w)
        rows = ll.cross_entropy(z, y, reduction="none", **kw)
        value = ll.cross_entropy(z, y, **kw)
        v2, grad = ll.value_and_grad(ll.cross_entropy)(z, y, **kw)
    assert np.isfinite(rows).all() and np.isfinite(value) and np.isfinite(grad).all()
    assert rows.dtype == z.dtype and grad.dtype == z.dtype
    # the value-only and the value-and-gradient passes may round tanh differently (1 ulp)
    assert abs(float(v2) - float(value)) <= 4 * np.finfo(z.dtype).eps * max(1.0, abs(float(value)))
    zz = z.astype(np.float64)
    if softcap is not None:
        zz = softcap * np.tanh(zz / softcap)
    m = zz.max(axis=1)
    lse = m + np.log(np.exp(zz - m[:, None]).sum(axis=1))
    valid = y != -100
    idx = np.where(valid, y, 0)
    wy = np.where(valid, 1.0 if w is None else w[idx], 0.0)
    ce = wy * (lse - zz[np.arange(len(y)), idx])
    ref_rows = np.where(valid, ce + zeta * lse**2, 0.0)
    scale = np.abs(zz).max() ** 2 * max(zeta, np.finfo(z.dtype).eps) + np.abs(zz).max()
    assert (np.abs(rows.astype(np.float64) - ref_rows) <= _tol(z.dtype, scale, ref_rows, 32)).all()
    # mean: sum(w_y l) / sum(w_y) + zeta * sum(LSE^2) / n, over counted rows; 0 when none count
    n_valid = valid.sum()
    ref = (ce.sum() / wy.sum() if wy.sum() > 0 else 0.0) + (
        zeta * (lse[valid] ** 2).sum() / n_valid if n_valid else 0.0
    )
    if n_valid == 0 or wy.sum() > 0:
        assert abs(float(value) - ref) <= _tol(z.dtype, scale, ref, 64)


# ---------------------------------------------------------------------------
# invariants
# ---------------------------------------------------------------------------


@given(logits_and_labels(), st.sampled_from([0.5, -3.0, 1e3, -1e4]), st.sampled_from([0.0, 0.1]))
def test_adding_a_constant_to_every_logit_changes_nothing(data, shift, eps):
    z, y = data
    limit = float(np.finfo(z.dtype).max) / 4
    z64 = z.astype(np.float64)
    shift = float(np.clip(shift, -limit + np.abs(z64).max(), limit - np.abs(z64).max()))
    shifted = (z64 + shift).astype(z.dtype)
    if not np.isfinite(shifted).all():
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = ll.cross_entropy(z, y, reduction="none", label_smoothing=eps).astype(np.float64)
        b = ll.cross_entropy(shifted, y, reduction="none", label_smoothing=eps).astype(np.float64)
    # the shifted logits are rounded: each moves by at most eps/2 * |z + shift|
    scale = np.abs(z64).max() + abs(shift)
    assert (np.abs(a - b) <= _tol(z.dtype, scale, a, 16)).all()


@given(logits_and_labels(), st.sampled_from([0.0, 0.1]), st.booleans())
def test_ignore_index_equals_dropping_the_rows(data, eps, weighted):
    z, y = data
    w = np.linspace(0.5, 2.0, z.shape[1]) if weighted else None
    keep = y != -100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = ll.value_and_grad(ll.cross_entropy)(z, y, label_smoothing=eps, weight=w)
        total = ll.cross_entropy(z, y, label_smoothing=eps, weight=w, reduction="sum")
        if keep.any():
            kept, kept_grad = ll.value_and_grad(ll.cross_entropy)(
                z[keep], y[keep], label_smoothing=eps, weight=w
            )
            kept_total = ll.cross_entropy(
                z[keep], y[keep], label_smoothing=eps, weight=w, reduction="sum"
            )
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert not grad[~keep].any()  # ignored rows get exactly zero gradient
    if not keep.any():  # all rows ignored: 0 and a zero gradient (PyTorch gives nan)
        assert value == 0 and total == 0 and not grad.any()
        return
    scale = np.abs(z.astype(np.float64)).max()
    v, k = float(value), float(kept)
    assert abs(v - k) <= _tol(z.dtype, scale, k, 16)
    # a sum of many huge rows may truly exceed the dtype's range; below it, it must agree
    rows = ll.cross_entropy(z[keep], y[keep], label_smoothing=eps, weight=w, reduction="none")
    exact = float(np.abs(rows.astype(np.float64)).sum())
    if exact < float(np.finfo(z.dtype).max) / 2:
        assert np.isfinite(total) and np.isfinite(kept_total)
        bound = float(scale) * int(keep.sum())
        assert abs(float(total) - float(kept_total)) <= _tol(z.dtype, bound, exact, 16)
    atol = _tol(z.dtype, 1.0, 0.0, 16)
    assert np.allclose(grad[keep].astype(np.float64), kept_grad.astype(np.float64), atol=atol)


# ---------------------------------------------------------------------------
# linear_cross_entropy
# ---------------------------------------------------------------------------


@st.composite
def linear_problem(draw):
    dtype = draw(DTYPES)
    n = draw(st.integers(1, 40))
    d = draw(st.integers(1, 8))
    v = draw(st.integers(1, 12))
    mag = draw(st.sampled_from([1e-2, 1.0, 8.0]))
    el = st.floats(-mag, mag, allow_nan=False, width=64)
    h = draw(hnp.arrays(np.float64, (n, d), elements=el)).astype(dtype)
    W = draw(hnp.arrays(np.float64, (v, d), elements=el)).astype(dtype)
    b = draw(st.one_of(st.none(), hnp.arrays(np.float64, (v,), elements=el)))
    b = None if b is None else b.astype(dtype)
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, v - 1)))
    if draw(st.booleans()):
        y = np.where(draw(hnp.arrays(np.bool_, (n,))), -100, y)
    chunk = draw(st.one_of(st.none(), st.integers(1, n + 3)))
    return h, W, b, y, chunk


@given(linear_problem(), st.sampled_from([0.0, 0.1]), st.sampled_from([0.0, 1e-3]))
def test_linear_cross_entropy_equals_cross_entropy_of_the_logits(problem, eps, zeta):
    h, W, b, y, chunk = problem
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kw = dict(bias=b, label_smoothing=eps, z_loss=zeta)
        rows = ll.linear_cross_entropy(h, W, y, chunk_size=chunk, reduction="none", **kw)
        argnums = (0, 1) if b is None else (0, 1, 2)
        value, grads = ll.value_and_grad(ll.linear_cross_entropy, argnums=argnums)(
            h, W, y, chunk_size=chunk, **kw
        )
    gh, gw = grads[0], grads[1]
    assert np.isfinite(rows).all() and np.isfinite(value)
    assert np.isfinite(gh).all() and np.isfinite(gw).all()
    assert gh.shape == h.shape and gw.shape == W.shape
    if b is not None:
        assert grads[2].shape == b.shape and np.isfinite(grads[2]).all()
    # float64 reference: cross_entropy of the float64 logits
    z = h.astype(np.float64) @ W.astype(np.float64).T
    if b is not None:
        z = z + b.astype(np.float64)
    ref = ll.cross_entropy(z, y, reduction="none", label_smoothing=eps, z_loss=zeta)
    eps_d = np.finfo(rows.dtype).eps
    # the products carry d roundings of |h| |W| each
    bound = np.abs(h.astype(np.float64)) @ np.abs(W.astype(np.float64)).T
    scale = bound.max(initial=0.0) * h.shape[1] + 1.0
    tol = 16 * eps_d * scale * (1 + 2 * zeta * scale) + 16 * eps_d * np.abs(ref)
    assert (np.abs(rows.astype(np.float64) - ref) <= tol).all()
    assert not gh[y == -100].any()
