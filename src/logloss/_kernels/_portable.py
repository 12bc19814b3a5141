"""The portable path: every fused loss + gradient on canonical 2-D arrays, in any namespace.

These are the reference semantics the numba kernels reproduce. Inputs are valid
(checked by ``logloss._validation``) and already in the compute dtype (float32 or
float64); only non-finite logits are detected here, from the row statistics the
computation needs anyway (a NaN or +inf makes the row max or row sum non-finite).

Each computation is written once, with the operations of an array namespace ``xp``
only (``where``, ``take_along_axis``, no fancy indexing, no in-place writes), so it runs
on NumPy arrays (``xp`` is the ``numpy`` module itself) and on any Array API array
(PyTorch, CuPy, JAX, array-api-strict) on that array's device.

Two entry points per loss:

- ``ce_labels_xp``, ``ce_probs_xp``, ``bce_logits_xp``: any namespace; they take ``xp``
  first, the arrays, and the options by keyword (``need_grad`` among them), and return
  per-row (or per-element) values and the gradient with respect to the logits as a new
  array (or None). Their docstrings hold the formulas.
- ``ce_labels``, ``ce_probs``, ``bce_logits``: NumPy arrays, the portable path of
  ``logloss._kernels``: the same keywords with ``grad_out`` instead of ``need_grad``;
  they return the values in float64 and write the gradient into ``grad_out`` when given.
  ``grad_out`` may be the logits array itself: everything is read before it is written.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from .._array import (
    acc_dtype,
    any_true,
    arange_like,
    astype,
    first_index,
    first_true,
    ones_like_shape,
)
from .._stable import sigmoid, softplus
from .._validation import fmt_value, raise_bad_row

_INF = math.inf

# ``np.errstate`` below silences NumPy's floating-point warnings for the NumPy path and for
# array-api-strict (NumPy underneath); other libraries do not warn and ignore it.

# ---------------------------------------------------------------------------
# shared row statistics
# ---------------------------------------------------------------------------


def _softcap(xp, z, softcap: float | None):
    """z' = s * tanh(z / s); masked entries (-inf) stay masked."""
    if softcap is None:
        return z
    with np.errstate(invalid="ignore"):
        capped = softcap * xp.tanh(z / softcap)
    return xp.where(z == -_INF, z, capped)


def _row_lse(xp, zc, rows_that_matter, name: str):
    """Row max, shifted exponentials, row sum and log-sum-exp of canonical logits.

    Returns (e, s, m, logs): e = exp(z - m) (N, C), s = sum e (N,), the row max m (N,; 0
    for a row of only -inf) and log s (N,). lse = m + log s; a loss is formed from log s
    and z - m, never as lse - z (which cancels when |m| is large against the loss).
    A NaN or +inf makes m or s non-finite: that row is reported. A row of only -inf
    is an error when it matters (a counted row); otherwise its statistics are zeroed.
    """
    m = xp.max(zc, axis=1)  # the class axis is never empty (checked by the caller)
    bad = xp.isnan(m) | (m == _INF)
    if any_true(xp, bad):
        raise_bad_row(name, first_true(xp, bad))
    empty = m == -_INF
    if any_true(xp, empty):
        counted = empty if rows_that_matter is None else empty & rows_that_matter
        if any_true(xp, counted):
            raise_bad_row(name, first_true(xp, counted), "a row with no finite entry (all -inf)")
        m = astype(xp, xp.where(empty, 0.0, m), zc.dtype)
    with np.errstate(over="ignore"):  # z - m may round to -inf near the dtype's max: e = 0
        e = xp.exp(zc - m[:, None])
    s = xp.sum(e, axis=1)
    with np.errstate(divide="ignore"):
        logs = xp.log(s)
    return e, s, m, logs


def _through_softcap(xp, g, zc, softcap: float | None):
    """The gradient `g` over z' = softcap(z) taken back to z: times d z'/d z."""
    if softcap is None:
        return g
    # d z'/d z = 1 - tanh^2(z/s) = 1 - (z'/s)^2 (0 for masked entries)
    with np.errstate(invalid="ignore"):
        d = 1.0 - xp.square(zc / softcap)
    return g * astype(xp, xp.where(zc == -_INF, 0.0, d), zc.dtype)


def _float(xp, mask, dtype):
    """A boolean mask as 0/1 in `dtype` (``x * mask`` is not portable; ``x * 1.0`` is exact)."""
    return astype(xp, mask, dtype)


# ---------------------------------------------------------------------------
# softmax cross-entropy, integer labels
# ---------------------------------------------------------------------------


def ce_labels_xp(
    xp: Any,
    z: Any,
    y: Any,
    *,
    weight: Any | None = None,
    ignore_index: int = -100,
    smoothing: float = 0.0,
    softcap: float | None = None,
    z_loss: float = 0.0,
    scale: float = 1.0,
    scale_z: float = 0.0,
    need_grad: bool = False,
    name: str = "logits",
):
    """Softmax cross-entropy with integer labels, per row, and its gradient.

    For a counted row i (``y_i != ignore_index``), with z' = softcap(z), lse_i = LSE(z'_i),
    p = softmax(z'_i), unmasked classes U_i = {c : z_ic > -inf}, W_i = sum_{c in U_i} w_c,
    w = `weight` (ones if None) and eps = `smoothing`:

        main_i = (1 - eps) w_{y_i} (lse_i - z'_{i y_i})
                 + (eps / C) sum_{c in U_i} w_c (lse_i - z'_ic)

    and ``main_i = lse_i = 0`` for ignored rows. The gradient (with `need_grad`) is that of
    ``scale * sum_i main_i + scale_z * z_loss * sum_i lse_i**2``:

        d/dz'_ic = scale [(1 - eps) w_y (p_c - [c = y]) + (eps / C)(W_i p_c - w_c [c in U_i])]
                   + scale_z * 2 z_loss lse_i p_c

    times dz'/dz for a softcap; ignored rows get 0. Returns (main, lse, gradient or None),
    main and lse as float64 (N,) (the float32 accumulation dtype where there is no float64).
    """
    n, c = z.shape
    eps = smoothing
    valid = y != ignore_index
    yv = xp.where(valid, y, 0)
    zc = _softcap(xp, z, softcap)
    e, s, m, logs = _row_lse(xp, zc, valid, name)
    logs = astype(xp, xp.where(valid, logs, 0.0), zc.dtype)  # ignored rows may be all -inf
    lse = m + logs
    z_y = xp.take_along_axis(zc, yv[:, None], axis=1)[:, 0]
    masked_target = valid & (z_y == -_INF)
    if any_true(xp, masked_target):
        raise_bad_row(name, first_true(xp, masked_target), "-inf at the target class")
    wc = ones_like_shape(xp, (c,), zc.dtype, zc) if weight is None else weight
    w_y = astype(xp, xp.where(valid, xp.take(wc, yv), 0.0), zc.dtype)
    fvalid = _float(xp, valid, zc.dtype)
    # -log p_y = log s - (z'_y - m), never lse - z'_y: both terms are >= 0, nothing cancels
    with np.errstate(invalid="ignore"):  # ignored rows of only -inf: -inf - 0
        shifted_y = xp.where(valid, z_y - m, 0.0)
    main = (1.0 - eps) * w_y * (logs - shifted_y)
    masked = None
    if eps > 0.0:
        masked = zc == -_INF
        # sum_{c unmasked} w_c (lse - z'_c), each term formed as w_c (log s + (m - z'_c)):
        # two terms >= 0, no cancellation; masked classes take no smoothing mass
        terms = xp.where(masked, 0.0, (logs[:, None] + (m[:, None] - zc)) * wc)
        with np.errstate(over="ignore"):
            smooth = (eps / c) * xp.sum(terms, axis=1)
        if not bool(xp.all(xp.isfinite(smooth))):
            # C terms near the dtype's max overflow their sum; scaled first, they do not
            smooth = xp.where(xp.isfinite(smooth), smooth, xp.sum(terms * (eps / c), axis=1))
        main = main + smooth * fvalid
    main = astype(xp, xp.where(valid, main, 0.0), acc_dtype(xp, z))
    lse_out = astype(xp, xp.where(valid, lse, 0.0), acc_dtype(xp, z))
    if not need_grad:
        return main, lse_out, None

    with np.errstate(invalid="ignore", divide="ignore"):
        p = e / s[:, None]
    coef = (1.0 - eps) * w_y * scale + 2.0 * z_loss * scale_z * xp.where(valid, lse, 0.0)
    if eps > 0.0:
        w_unmasked = xp.where(masked, 0.0, wc)
        W = xp.sum(w_unmasked, axis=1)
        coef = coef + (eps / c) * scale * W * fvalid
    g = p * coef[:, None]
    # minus (1 - eps) w_y at the target class: subtracting 0 elsewhere leaves g exact
    onehot = arange_like(xp, c, zc)[None, :] == yv[:, None]
    g = g - xp.where(onehot, ((1.0 - eps) * w_y * scale)[:, None], 0.0)
    if eps > 0.0:
        g = g - (eps / c) * scale * w_unmasked * fvalid[:, None]
    g = _through_softcap(xp, g, zc, softcap)
    g = xp.where(valid[:, None], g, 0.0)
    return main, lse_out, g


# ---------------------------------------------------------------------------
# softmax cross-entropy, probability targets
# ---------------------------------------------------------------------------


def ce_probs_xp(
    xp: Any,
    z: Any,
    t: Any,
    *,
    weight: Any | None = None,
    smoothing: float = 0.0,
    softcap: float | None = None,
    z_loss: float = 0.0,
    scale: float = 1.0,
    scale_z: float = 0.0,
    need_grad: bool = False,
    name: str = "logits",
):
    """Softmax cross-entropy with probability targets, per row, and its gradient.

    With t' = t (1 - eps) + eps / C (eps = `smoothing`), w = `weight` and U_i the unmasked
    classes of row i:

        main_i = sum_{c in U_i} w_c t'_ic (lse_i - z'_ic)
        d/dz'_ic = scale (T_i p_c - w_c t'_ic [c in U_i]) + scale_z * 2 z_loss lse_i p_c,
        T_i = sum_{c in U_i} w_c t'_ic.

    A target putting mass on a masked class (t_ic > 0 where z_ic = -inf) is an error:
    its loss is infinite. Returns (main, lse, gradient or None), main and lse as float64 (N,).
    """
    n, c = z.shape
    eps = smoothing
    zc = _softcap(xp, z, softcap)
    e, s, m, logs = _row_lse(xp, zc, None, name)
    lse = m + logs
    masked = zc == -_INF
    if any_true(xp, masked):
        bad = xp.any(masked & (t > 0), axis=1)
        if any_true(xp, bad):
            raise_bad_row(name, first_true(xp, bad), "-inf at a class with positive target")
    tt = t * (1.0 - eps) + eps / c if eps > 0.0 else t
    wt = tt if weight is None else tt * weight
    wt = astype(xp, xp.where(masked, 0.0, wt), zc.dtype)
    # -sum_c w_c t'_c log p_c = sum_c w_c t'_c (log s + (m - z'_c)): terms >= 0, no
    # cancellation (also when sum_c t_c != 1, which gives T log s + sum_c wt_c (m - z'_c))
    diff = xp.where(masked, 0.0, logs[:, None] + (m[:, None] - zc))
    main = astype(xp, xp.sum(wt * diff, axis=1), acc_dtype(xp, z))
    lse_out = astype(xp, lse, acc_dtype(xp, z))
    if not need_grad:
        return main, lse_out, None
    T = xp.sum(wt, axis=1)
    p = e / s[:, None]
    g = p * (T * scale + 2.0 * z_loss * scale_z * lse)[:, None] - scale * wt
    g = _through_softcap(xp, g, zc, softcap)
    return main, lse_out, g


# ---------------------------------------------------------------------------
# sigmoid binary cross-entropy with logits
# ---------------------------------------------------------------------------


def bce_logits_xp(
    xp: Any,
    x: Any,
    y: Any,
    *,
    weight: Any | None = None,
    pos_weight: Any | None = None,
    smoothing: float = 0.0,
    scale: float = 1.0,
    need_grad: bool = False,
    name: str = "logits",
):
    """Elementwise sigmoid BCE on logits and its gradient; `weight`, `pos_weight` broadcast to `x`.

    With y' = y (1 - eps) + eps / 2 (eps = `smoothing`), w = `weight`, pw = `pos_weight`
    and -log s(x) = softplus(-x):

        l = w [pw y' softplus(-x) + (1 - y') softplus(x)]
        dl/dx = w [(1 - y') sigmoid(x) - pw y' sigmoid(-x)]

    Both loss terms are non-negative, so nothing cancels (the equivalent textbook form
    (1 - y) x + softplus(-x) loses all digits at x = -30, y = 0).

    The gradient (with `need_grad`) is that of ``scale * sum(l)``. Returns (l, gradient or
    None), both of x's shape, l in float64.
    """
    yy = y * (1.0 - smoothing) + 0.5 * smoothing if smoothing > 0.0 else y
    with np.errstate(invalid="ignore", over="ignore"):
        pos = yy if pos_weight is None else pos_weight * yy
        loss = pos * softplus(-x, xp) + (1.0 - yy) * softplus(x, xp)
        if weight is not None:
            loss = loss * weight
    bad = ~xp.isfinite(loss)
    if any_true(xp, bad):
        where = first_index(xp, bad)
        where = where if isinstance(where, tuple) else (where,)
        raise ValueError(f"`{name}` must be finite; got {fmt_value(x[where])} at index {where}")
    loss = astype(xp, loss, acc_dtype(xp, x))
    if not need_grad:
        return loss, None
    g = (1.0 - yy) * sigmoid(x, xp) - pos * sigmoid(-x, xp)
    if weight is not None:
        g = g * weight
    g = g * scale
    return loss, xp.broadcast_to(g, x.shape)


# ---------------------------------------------------------------------------
# the NumPy entry points: the same computations, the gradient written in place
# ---------------------------------------------------------------------------


def _numpy_entry(fn_xp: Any, name: str) -> Any:
    """The NumPy entry point of `fn_xp`: its signature without ``xp``, and with ``grad_out``
    (an array the gradient is written into, or None) in place of ``need_grad``.

    It returns the values without the gradient. `grad_out` may be the logits themselves:
    everything is read before it is written.
    """

    def entry(*arrays: np.ndarray, grad_out: np.ndarray | None = None, **options: Any):
        *values, g = fn_xp(np, *arrays, need_grad=grad_out is not None, **options)
        if grad_out is not None:
            np.copyto(grad_out, g, casting="same_kind")
        return values[0] if len(values) == 1 else tuple(values)

    params = []
    for param in inspect.signature(fn_xp).parameters.values():
        if param.name == "need_grad":
            param = param.replace(name="grad_out", default=None, annotation="np.ndarray | None")
        if param.name != "xp":
            params.append(param)
    entry.__signature__ = inspect.Signature(params)
    entry.__name__ = entry.__qualname__ = name
    entry.__doc__ = f"{name}(...): :func:`{fn_xp.__name__}` on NumPy arrays, with ``grad_out``."
    return entry


ce_labels = _numpy_entry(ce_labels_xp, "ce_labels")
ce_probs = _numpy_entry(ce_probs_xp, "ce_probs")
bce_logits = _numpy_entry(bce_logits_xp, "bce_logits")
