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
    assert np.allclose(grad.astype(np.float64).sum(axis=1), 0.0, atol=1e-2 if z.dtype == np.float16 else 1e-5)
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


@given(hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(0.0, 1.0)),
       hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(0.0, 1.0)))
def test_binary_cross_entropy_from_probabilities_is_finite(p, y):
    n = min(len(p), len(y))
    p, y = p[:n], y[:n]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = ll.binary_cross_entropy(p, y, reduction="none")
        _, g = ll.value_and_grad(ll.binary_cross_entropy)(p, y)
    assert np.isfinite(rows).all() and (rows <= 100 + 1e-9).all() and np.isfinite(g).all()
