"""The portable NumPy path: every fused loss + gradient on canonical 2-D arrays.

These are the reference semantics the numba kernels reproduce. Inputs are valid
(checked by ``logloss._validation``) and already in the compute dtype (float32 or
float64); only non-finite logits are detected here, from the row statistics the
computation needs anyway (a NaN or +inf makes the row max or row sum non-finite).

Each function returns per-row (or per-element) values in float64 and, when
``grad_out`` is given, writes the gradient with respect to the logits into it.
``grad_out`` may be the logits array itself: everything is read before it is written.
"""

from __future__ import annotations

import numpy as np

from .._validation import fmt_value, raise_bad_row

# ---------------------------------------------------------------------------
# shared row statistics
# ---------------------------------------------------------------------------


def _softcap(z: np.ndarray, softcap: float | None) -> np.ndarray:
    """z' = s * tanh(z / s); masked entries (-inf) stay masked."""
    if softcap is None:
        return z
    with np.errstate(invalid="ignore"):
        capped = softcap * np.tanh(z / softcap)
    return np.where(np.isneginf(z), z, capped)


def _row_lse(zc: np.ndarray, rows_that_matter: np.ndarray | None, name: str):
    """Row max, shifted exponentials, row sum and log-sum-exp of canonical logits.

    Returns (e, s, lse): e = exp(z - m) (N, C), s = sum e (N,), lse = m + log s (N,).
    A NaN or +inf makes m or s non-finite: that row is reported. A row of only -inf
    is an error when it matters (a counted row); otherwise its statistics are zeroed.
    """
    m = np.max(zc, axis=1) if zc.shape[1] else np.zeros(zc.shape[0], zc.dtype)
    bad = np.isnan(m) | np.isposinf(m)
    if bad.any():
        raise_bad_row(name, int(np.argmax(bad)))
    empty = np.isneginf(m)
    if empty.any():
        counted = empty if rows_that_matter is None else empty & rows_that_matter
        if counted.any():
            raise_bad_row(name, int(np.argmax(counted)), "a row with no finite entry (all -inf)")
        m = np.where(empty, 0.0, m).astype(zc.dtype, copy=False)
    with np.errstate(over="ignore"):  # z - m may round to -inf near the dtype's max: e = 0
        e = np.exp(zc - m[:, None])
    s = np.sum(e, axis=1)
    with np.errstate(divide="ignore"):
        lse = m + np.log(s)
    return e, s, lse


def _capped_derivative(zc: np.ndarray, softcap: float | None) -> np.ndarray | None:
    """d z'/d z = 1 - tanh^2(z/s) = 1 - (z'/s)^2 (0 for masked entries)."""
    if softcap is None:
        return None
    with np.errstate(invalid="ignore"):
        d = 1.0 - np.square(zc / softcap)
    return np.where(np.isneginf(zc), 0.0, d).astype(zc.dtype, copy=False)


# ---------------------------------------------------------------------------
# softmax cross-entropy, integer labels
# ---------------------------------------------------------------------------


def ce_labels(
    z: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    ignore_index: int,
    eps: float,
    softcap: float | None,
    z_loss: float,
    scale_main: float,
    scale_z: float,
    grad_out: np.ndarray | None = None,
    name: str = "logits",
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax cross-entropy with integer labels, per row, and its gradient.

    For a counted row i (``y_i != ignore_index``), with z' = softcap(z), lse_i = LSE(z'_i),
    p = softmax(z'_i), unmasked classes U_i = {c : z_ic > -inf} and W_i = sum_{c in U_i} w_c:

        main_i = (1 - eps) w_{y_i} (lse_i - z'_{i y_i}) + (eps / C) sum_{c in U_i} w_c (lse_i - z'_ic)

    and ``main_i = lse_i = 0`` for ignored rows. The gradient written to ``grad_out`` is that of
    ``scale_main * sum_i main_i + scale_z * z_loss * sum_i lse_i**2``:

        d/dz'_ic = scale_main [(1 - eps) w_y (p_c - [c = y]) + (eps / C)(W_i p_c - w_c [c in U_i])]
                   + scale_z * 2 z_loss lse_i p_c

    times dz'/dz for a softcap; ignored rows get 0. Returns (main, lse) as float64 (N,).
    """
    n, c = z.shape
    rows = np.arange(n)
    valid = y != ignore_index
    yv = np.where(valid, y, 0)
    zc = _softcap(z, softcap)
    e, s, lse = _row_lse(zc, valid, name)
    lse = np.where(valid, lse, 0.0).astype(zc.dtype, copy=False)  # ignored rows may be all -inf
    z_y = zc[rows, yv]
    masked_target = valid & np.isneginf(z_y)
    if masked_target.any():
        raise_bad_row(name, int(np.argmax(masked_target)), "-inf at the target class")
    w_y = np.ones(n, zc.dtype) if w is None else w[yv]
    w_y = np.where(valid, w_y, 0.0).astype(zc.dtype, copy=False)
    # -log p_y = lse - z'_y
    main = (1.0 - eps) * w_y * (lse - np.where(valid, z_y, 0.0))
    masked = None
    if eps > 0.0:
        masked = np.isneginf(zc)
        wc = np.ones(c, zc.dtype) if w is None else w
        # sum_{c unmasked} w_c (lse - z'_c): masked classes take no smoothing mass
        terms = np.where(masked, 0.0, (lse[:, None] - zc) * wc)
        main = main + (eps / c) * np.sum(terms, axis=1) * valid
    main = np.where(valid, main, 0.0).astype(np.float64)
    lse_out = np.where(valid, lse, 0.0).astype(np.float64)

    if grad_out is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            p = e / s[:, None]
        coef = (1.0 - eps) * w_y * scale_main + 2.0 * z_loss * scale_z * np.where(valid, lse, 0.0)
        if eps > 0.0:
            wc = np.ones(c, zc.dtype) if w is None else w
            w_unmasked = np.where(masked, 0.0, wc)
            W = np.sum(w_unmasked, axis=1)
            coef = coef + (eps / c) * scale_main * W * valid
        g = p * coef[:, None]
        g[rows, yv] -= (1.0 - eps) * w_y * scale_main
        if eps > 0.0:
            g -= (eps / c) * scale_main * w_unmasked * valid[:, None]
        d = _capped_derivative(zc, softcap)
        if d is not None:
            g *= d
        g[~valid] = 0.0
        np.copyto(grad_out, g, casting="same_kind")
    return main, lse_out


# ---------------------------------------------------------------------------
# softmax cross-entropy, probability targets
# ---------------------------------------------------------------------------


def ce_probs(
    z: np.ndarray,
    t: np.ndarray,
    w: np.ndarray | None,
    eps: float,
    softcap: float | None,
    z_loss: float,
    scale_main: float,
    scale_z: float,
    grad_out: np.ndarray | None = None,
    name: str = "logits",
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax cross-entropy with probability targets, per row, and its gradient.

    With t' = t (1 - eps) + eps / C and U_i the unmasked classes of row i:

        main_i = sum_{c in U_i} w_c t'_ic (lse_i - z'_ic)
        d/dz'_ic = scale_main (T_i p_c - w_c t'_ic [c in U_i]) + scale_z * 2 z_loss lse_i p_c,
        T_i = sum_{c in U_i} w_c t'_ic.

    A target putting mass on a masked class (t_ic > 0 where z_ic = -inf) is an error:
    its loss is infinite. Returns (main, lse) as float64 (N,).
    """
    n, c = z.shape
    zc = _softcap(z, softcap)
    e, s, lse = _row_lse(zc, None, name)
    masked = np.isneginf(zc)
    if masked.any():
        bad = (masked & (t > 0)).any(axis=1)
        if bad.any():
            raise_bad_row(name, int(np.argmax(bad)), "-inf at a class with positive target")
    tt = t * (1.0 - eps) + eps / c if eps > 0.0 else t
    wt = tt if w is None else tt * w
    wt = np.where(masked, 0.0, wt).astype(zc.dtype, copy=False)
    # -sum_c w_c t'_c log p_c = sum_c w_c t'_c (lse - z'_c)
    diff = np.where(masked, 0.0, lse[:, None] - zc)
    main = np.sum(wt * diff, axis=1).astype(np.float64)
    if grad_out is not None:
        T = np.sum(wt, axis=1)
        p = e / s[:, None]
        g = p * (T * scale_main + 2.0 * z_loss * scale_z * lse)[:, None] - scale_main * wt
        d = _capped_derivative(zc, softcap)
        if d is not None:
            g *= d
        np.copyto(grad_out, g, casting="same_kind")
    return main, lse.astype(np.float64)


# ---------------------------------------------------------------------------
# sigmoid binary cross-entropy with logits
# ---------------------------------------------------------------------------


def _softplus(x: np.ndarray) -> np.ndarray:
    # softplus(x) = max(x, 0) + log1p(e^-|x|)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def bce_logits(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    pw: np.ndarray | None,
    eps: float,
    scale: float,
    grad_out: np.ndarray | None = None,
    name: str = "logits",
) -> np.ndarray:
    """Elementwise sigmoid BCE on logits and its gradient; `w`, `pw` broadcast to `x`.

    With y' = y (1 - eps) + eps / 2 and -log s(x) = softplus(-x):

        l = w [pw y' softplus(-x) + (1 - y') softplus(x)]
        dl/dx = w [(1 - y') sigmoid(x) - pw y' sigmoid(-x)]

    Both loss terms are non-negative, so nothing cancels (the equivalent textbook form
    (1 - y) x + softplus(-x) loses all digits at x = -30, y = 0).

    The gradient of ``scale * sum(l)`` is written to ``grad_out``. Returns l (float64, x's shape).
    """
    yy = y * (1.0 - eps) + 0.5 * eps if eps > 0.0 else y
    with np.errstate(invalid="ignore", over="ignore"):
        pos = yy if pw is None else pw * yy
        loss = pos * _softplus(-x) + (1.0 - yy) * _softplus(x)
        if w is not None:
            loss = loss * w
    bad = ~np.isfinite(loss)
    if bad.any():
        where = np.unravel_index(int(np.argmax(bad)), bad.shape)
        where = tuple(int(i) for i in where)
        raise ValueError(f"`{name}` must be finite; got {fmt_value(x[where])} at index {where}")
    if grad_out is not None:
        g = (1.0 - yy) * _sigmoid(x) - pos * _sigmoid(-x)
        if w is not None:
            g = g * w
        g = g * scale
        np.copyto(grad_out, np.broadcast_to(g, grad_out.shape), casting="same_kind")
    return np.asarray(loss, dtype=np.float64)
