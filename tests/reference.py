"""Independent float64 references, written from the formulas and nothing else.

No logloss code is used here: these are the plain textbook definitions, computed
in float64 (or with mpmath) so tests compare logloss against them.
"""

from __future__ import annotations

import math

import numpy as np


def log_softmax64(z: np.ndarray, axis: int = -1) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    m = np.max(np.where(np.isneginf(z), -np.inf, z), axis=axis, keepdims=True)
    return z - (m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True)))


def ce_rows64(z, y, *, weight=None, eps=0.0, z_loss=0.0, softcap=None):
    """Per-row CE (hard labels) of a 2-D float64 array: the weighted nll + smoothing + z-loss."""
    z = np.asarray(z, dtype=np.float64)
    if softcap is not None:
        z = np.where(np.isneginf(z), -np.inf, softcap * np.tanh(z / softcap))
    n, c = z.shape
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    out = np.zeros(n)
    lse_all = np.zeros(n)
    for i in range(n):
        row = z[i]
        finite = np.isfinite(row)
        m = row[finite].max()
        lse = m + math.log(sum(math.exp(v - m) for v in row[finite]))
        nll = lse - row[y[i]]
        smooth = sum(w[k] * (lse - row[k]) for k in range(c) if finite[k])
        out[i] = (1 - eps) * w[y[i]] * nll + eps / c * smooth
        lse_all[i] = lse
    return out, z_loss * lse_all**2


def mp_cross_entropy(row, label, dps: int = 50) -> float:
    """-log softmax(row)[label] with mpmath at `dps` digits."""
    import mpmath

    with mpmath.workdps(dps):
        vals = [mpmath.mpf(float(v)) for v in row]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in vals))
        return float(lse - vals[label])


def mp_bce_logits(x, y, dps: int = 50) -> float:
    """-[y log sigma(x) + (1 - y) log sigma(-x)] with mpmath."""
    import mpmath

    with mpmath.workdps(dps):
        x = mpmath.mpf(float(x))
        y = mpmath.mpf(float(y))
        ls = -mpmath.log1p(mpmath.exp(-x))
        lsn = -mpmath.log1p(mpmath.exp(x))
        return float(-(y * ls + (1 - y) * lsn))


def numeric_grad(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central finite differences of scalar f at float64 x."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    flat = x.reshape(-1)
    gf = g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = f(x)
        flat[i] = old - h
        fm = f(x)
        flat[i] = old
        gf[i] = (fp - fm) / (2 * h)
    return g
