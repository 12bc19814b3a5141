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


def mp_softmax_row(row, *, label=None, probs=None, weight=None, eps=0.0, softcap=None, dps=80):
    """(main, lse) of one row with mpmath at `dps` digits, as mpf.

    main is the weighted, smoothed cross-entropy of the row (PyTorch's formulas):
    hard label y:   (1 - eps) w_y (lse - z'_y) + (eps / C) sum_{c unmasked} w_c (lse - z'_c);
    probabilities:  sum_{c unmasked} w_c t'_c (lse - z'_c), t' = (1 - eps) t + eps / C;
    z' = softcap tanh(z / softcap) when a softcap is given; -inf entries are masked.
    """
    import mpmath

    with mpmath.workdps(dps):
        c = len(row)
        w = [mpmath.mpf(1)] * c if weight is None else [mpmath.mpf(float(v)) for v in weight]
        z = []
        for v in row:
            v = float(v)
            if v == -math.inf:
                z.append(None)
            elif softcap is None:
                z.append(mpmath.mpf(v))
            else:
                s = mpmath.mpf(float(softcap))
                z.append(s * mpmath.tanh(mpmath.mpf(v) / s))
        # lse - z_k = log sum_j exp(z_j - m) - (z_k - m): at `dps` digits either order is
        # exact for moderate z, but only this one for |z| ~ 1e300 (no 300-digit lse needed)
        m = max(v for v in z if v is not None)
        logs = mpmath.log(mpmath.fsum(mpmath.exp(v - m) for v in z if v is not None))
        nll = [None if v is None else logs - (v - m) for v in z]
        e = mpmath.mpf(float(eps))
        if probs is None:
            main = (1 - e) * w[label] * nll[label]
            if eps:
                main += e / c * mpmath.fsum(w[k] * nll[k] for k in range(c) if z[k] is not None)
        else:
            t = [(1 - e) * mpmath.mpf(float(p)) + e / c for p in probs]
            main = mpmath.fsum(w[k] * t[k] * nll[k] for k in range(c) if z[k] is not None)
        return main, m + logs


def mp_logsumexp(row, dps: int = 80) -> float:
    """log sum_c exp(z_c) with mpmath."""
    import mpmath

    with mpmath.workdps(dps):
        z = [mpmath.mpf(float(v)) for v in row]
        m = max(z)
        return float(m + mpmath.log(mpmath.fsum(mpmath.exp(v - m) for v in z)))
