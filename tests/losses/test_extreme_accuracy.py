"""Every loss at extreme logits against an mpmath reference (issue #11, part 1).

The loss of a row is formed as ``log sum exp(z - m) - (z_y - m)``: the order that cannot
cancel when |m| is large against the loss. These rows break the other order
(``(m + log sum) - z_y``): ties of +-1e30 (true loss log 2, which the other order gave as
0), ties of +-1e4, and rows at the exp overflow/underflow thresholds of each dtype.

The bound, for a result of dtype d with eps = finfo(d).eps and mpmath reference r:

    |got - r| <= 4 eps max(|r|, 1/2)

that is 4 ulp relative to the loss, except for losses below 1/2: there the row sum
s = sum exp(z - m) lies in [1, 2) and its rounding (eps/2 relative) is an absolute error
of up to eps/2 in log s, which no order of the final subtraction removes (log1p of the sum
minus one would; neither PyTorch nor these kernels form it). 4 eps * 1/2 = 2 eps covers it.

Paths: the numba kernel (C-contiguous float32/float64, and a strided view, which the
losses copy), the portable path reached by ``LOGLOSS_DISABLE_NUMBA=1`` (the kernel-level
strided call is in tests/kernels), and float16 (always portable, computed in
float32, the result in float16; a contiguous float32 copy of it takes the kernel).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.reference import mp_logsumexp, mp_softmax_row

import logloss as ll
from logloss import _kernels as K

pytest.importorskip("mpmath")

F16, F32, F64 = np.float16, np.float32, np.float64

# rows valid in every dtype that follows, then each dtype's own thresholds
_TIES16 = [[1e4, 1e4, -1e4], [-1e4, -1e4, 1e4], [1e4, -1e4, 1e4]]
ROWS = {
    F16: _TIES16
    + [
        [65504.0, 65504.0, -65504.0],
        [11.0, 11.09, 10.5],  # exp overflows float16 above ~11.09
        [-17.0, -16.5, -17.3],  # and underflows below ~-17.3
        [88.0, 89.0, 90.0],
    ],
    F32: _TIES16
    + [
        [1e30, 1e30, -1e30],
        [-1e30, -1e30, 1e30],
        [1e38, 1e38, -1e38],
        [88.0, 89.0, 90.0],
        [88.0, 88.7, 88.72],  # exp overflows float32 above ~88.72
        [-103.0, -104.0, -87.3],  # underflows below ~-103.9 (normal below ~-87.3)
        [-745.0, -746.0, -744.0],
    ],
    F64: _TIES16
    + [
        [1e30, 1e30, -1e30],
        [-1e30, -1e30, 1e30],
        [1e300, 1e300, -1e300],
        [88.0, 89.0, 90.0],
        [709.0, 709.7, 709.78],  # exp overflows float64 above ~709.78
        [-745.0, -746.0, -744.0],  # underflows below ~-745.1
        [-708.0, -709.0, -707.0],
    ],
}
# rows that a softcap saturates (tanh(z / cap) rounds to +-1): the capped logits are exact,
# so the 4-ulp bound is fair; elsewhere the rounding of tanh itself dominates
CAP_ROWS = {
    F16: _TIES16,
    F32: _TIES16 + [[1e30, 1e30, -1e30]],
    F64: _TIES16 + [[1e30, 1e30, -1e30]],
}
CASES = [(dt, i) for dt in (F16, F32, F64) for i in range(len(ROWS[dt]))]
PATHS = ["kernel", "strided", "disabled"]


def _bound(got, ref, dtype, what, cond=1.0):
    """4 eps max(|ref|, 1/2) times `cond` (the condition number of a function applied
    after the loss: exp in perplexity); a loss beyond the dtype's max must be inf."""
    eps = float(np.finfo(dtype).eps)
    ref = float(ref)
    with np.errstate(over="ignore"):
        beyond = bool(np.isinf(np.asarray(ref).astype(dtype)))  # rounds to inf in the dtype
    if beyond:
        assert np.isinf(got), f"{what}: got {float(got)!r}, mpmath {ref!r} (beyond the dtype)"
        return
    err = abs(float(got) - ref)
    tol = 4.0 * eps * max(abs(ref), 0.5) * cond
    assert err <= tol, (
        f"{what}: got {float(got)!r}, mpmath {ref!r}: {err / (eps * max(abs(ref), 0.5)):.1f} eps"
    )


def _logits(row, dtype, path, monkeypatch, rows=1):
    """(rows, C) logits of `dtype` reaching the requested path."""
    z = np.tile(np.asarray(row, dtype), (rows, 1))
    if path == "strided":
        wide = np.zeros((rows, 2 * z.shape[1]), dtype)
        wide[:, ::2] = z
        z = wide[:, ::2]
    elif path == "disabled":
        monkeypatch.setenv("LOGLOSS_DISABLE_NUMBA", "1")
    else:
        monkeypatch.delenv("LOGLOSS_DISABLE_NUMBA", raising=False)
    return z


def _check_path(dtype, path):
    # the public losses copy a strided view into a C-contiguous one (then the kernel);
    # float16 is computed in float32, so its copy takes the kernel too
    expect = "numba" if path == "kernel" else "portable"
    if path != "strided" and K.last_path() is not None and (dtype != F16 or path == "disabled"):
        assert K.last_path() == expect


def _exact(row, dtype):
    return [float(v) for v in np.asarray(row, dtype)]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("dtype", "i"), CASES)
def test_hard_labels(dtype, i, path, monkeypatch):
    row = _exact(ROWS[dtype][i], dtype)
    z = _logits(row, dtype, path, monkeypatch)
    for y in range(3):
        got = ll.cross_entropy(z, np.array([y]))
        _check_path(dtype, path)
        assert got.dtype == dtype
        ref, _ = mp_softmax_row(row, label=y)
        _bound(got, ref, dtype, f"{row} y={y}")
        # the gradient path forms the same value
        val, _ = ll.value_and_grad(ll.cross_entropy)(
            z.copy() if path != "strided" else z, np.array([y])
        )
        _bound(val, ref, dtype, f"value_and_grad {row} y={y}")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("dtype", "i"), CASES)
def test_smoothing_weights_z_loss(dtype, i, path, monkeypatch):
    row = _exact(ROWS[dtype][i], dtype)
    z = _logits(row, dtype, path, monkeypatch)
    w = np.array([0.5, 2.0, 1.5], dtype)
    for y in range(3):
        ref, lse = mp_softmax_row(row, label=y, eps=0.1)
        _bound(
            ll.cross_entropy(z, np.array([y]), label_smoothing=0.1),
            ref,
            dtype,
            f"smooth {row} y={y}",
        )
        ref, _ = mp_softmax_row(row, label=y, eps=0.1, weight=w)
        got = ll.cross_entropy(z, np.array([y]), label_smoothing=0.1, weight=w, reduction="sum")
        _bound(got, ref, dtype, f"weighted {row} y={y}")
        ref, lse = mp_softmax_row(row, label=y)
        if float(1e-4 * lse * lse) < float(np.finfo(dtype).max):
            got = ll.cross_entropy(z, np.array([y]), z_loss=1e-4)
            _bound(got, ref + 1e-4 * lse * lse, dtype, f"z_loss {row} y={y}")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("dtype", "i"), CASES)
def test_probability_targets(dtype, i, path, monkeypatch):
    row = _exact(ROWS[dtype][i], dtype)
    z = _logits(row, dtype, path, monkeypatch)
    # sums to 1; does not (the general case T log s + sum t_c (m - z_c)); one-hot
    for t in ([0.5, 0.3, 0.2], [0.75, 0.5, 0.25], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]):
        ta = np.array([t], dtype)
        ref, _ = mp_softmax_row(row, probs=_exact(t, dtype))
        _bound(ll.cross_entropy(z, ta), ref, dtype, f"probs {t} {row}")
        ref, _ = mp_softmax_row(row, probs=_exact(t, dtype), eps=0.1)
        _bound(ll.cross_entropy(z, ta, label_smoothing=0.1), ref, dtype, f"probs smooth {t} {row}")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", [F16, F32, F64])
def test_softcap_saturated(dtype, path, monkeypatch):
    for row in CAP_ROWS[dtype]:
        row = _exact(row, dtype)
        z = _logits(row, dtype, path, monkeypatch)
        for y in range(3):
            ref, _ = mp_softmax_row(row, label=y, softcap=30.0)
            _bound(ll.cross_entropy(z, np.array([y]), softcap=30.0), ref, dtype, f"cap {row} y={y}")
            ref, _ = mp_softmax_row(row, probs=[0.5, 0.3, 0.2], softcap=30.0)
            t = np.array([[0.5, 0.3, 0.2]], dtype)
            ref, _ = mp_softmax_row(row, probs=_exact(t[0], dtype), softcap=30.0)
            _bound(ll.cross_entropy(z, t, softcap=30.0), ref, dtype, f"cap probs {row}")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("dtype", "i"), CASES)
def test_focal_nll_logsumexp_perplexity(dtype, i, path, monkeypatch):
    import mpmath

    row = _exact(ROWS[dtype][i], dtype)
    z = _logits(row, dtype, path, monkeypatch)
    _bound(ll.logsumexp(z)[0], mp_logsumexp(row), dtype, f"logsumexp {row}")
    logp = ll.log_softmax(z)
    for y in range(3):
        nll, _ = mp_softmax_row(row, label=y)
        if float(nll) > float(np.finfo(dtype).max):
            continue  # log p_y is -inf in this dtype: nll_loss rejects it as masked
        _bound(ll.nll_loss(logp, np.array([y])), nll, dtype, f"nll_loss {row} y={y}")
        _bound(logp[0, y], -nll, dtype, f"log_softmax {row} y={y}")
        with mpmath.workdps(80):
            u = -mpmath.expm1(-nll)  # 1 - p_y
            ref = u**2 * nll
        got = ll.softmax_focal_loss(z, np.array([y]), gamma=2.0)
        _bound(got, ref, dtype, f"focal {row} y={y}")
        if nll < 50:
            with mpmath.workdps(80):
                ref = mpmath.exp(nll)
            # exp turns an absolute error d of the loss into a relative one: cond = max(1, nll)
            got = ll.metrics.perplexity(z, np.array([y]))
            _bound(got, ref, F64, f"perplexity {row} y={y}", cond=max(1.0, float(nll)))


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("i", range(10))
def test_linear_cross_entropy(dtype, i):
    """hidden (1, 1) = [[1]] and weight (C, 1) = the row: the logits are the row exactly."""
    if i >= len(ROWS[dtype]):
        pytest.skip("fewer rows")
    row = _exact(ROWS[dtype][i], dtype)
    h = np.ones((1, 1), dtype)
    w = np.asarray(row, dtype)[:, None]
    for y in range(3):
        ref, _ = mp_softmax_row(row, label=y)
        _bound(ll.linear_cross_entropy(h, w, np.array([y])), ref, dtype, f"linear {row} y={y}")
        ref, _ = mp_softmax_row(row, label=y, eps=0.1)
        got = ll.linear_cross_entropy(h, w, np.array([y]), label_smoothing=0.1)
        _bound(got, ref, dtype, f"linear smooth {row} y={y}")


def test_issue_example():
    """The example of issue #11: log 2 on both paths, float32 and float64 (was 0.0)."""
    for dtype in (F32, F64):
        z = np.array([[1e30, 1e30, -1e30]], dtype)
        assert ll.cross_entropy(z, np.array([0])) == pytest.approx(math.log(2), rel=4e-7)
        wide = np.zeros((1, 6), dtype)
        wide[:, ::2] = z
        assert ll.cross_entropy(wide[:, ::2], np.array([0])) == pytest.approx(math.log(2), rel=4e-7)


@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize(("dtype", "i"), [c for c in CASES if c[0] != F16])
def test_kernel_entry_points(dtype, i, layout):
    """The kernels' own entry points: a strided view takes the portable path (the public
    losses copy it first), a C-contiguous array the numba kernel; same bound."""
    row = _exact(ROWS[dtype][i], dtype)
    z = np.tile(np.asarray(row, dtype), (3, 1))
    if layout == "strided":
        wide = np.zeros((3, 6), dtype)
        wide[:, ::2] = z
        z = wide[:, ::2]
    y = np.arange(3)
    main, _ = K.ce_labels(z, y, smoothing=0.1)
    assert K.last_path() == ("numba" if layout == "contiguous" else "portable")
    t = np.tile(np.array([0.75, 0.5, 0.25], dtype), (3, 1))  # does not sum to 1
    probs, _ = K.ce_probs(z, t)
    for k in range(3):
        ref, _ = mp_softmax_row(row, label=k, eps=0.1)
        _bound(main[k].astype(dtype), ref, dtype, f"ce_labels {layout} {row} y={k}")
    ref, _ = mp_softmax_row(row, probs=_exact(t[0], dtype))
    _bound(probs[0].astype(dtype), ref, dtype, f"ce_probs {layout} {row}")
