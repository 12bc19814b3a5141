"""numba kernel: elementwise sigmoid binary cross-entropy on logits, and its gradient.

Semantics are those of ``_portable.bce_logits_xp``; with y' = y (1 - eps) + eps / 2,
pos = pw y' and u = exp(-|x|) (computed once per element):

    softplus(+-x) = max(+-x, 0) + log1p(u)              (= -log sigmoid(-+x))
    l      = w [pos softplus(-x) + (1 - y') softplus(x)]  (two non-negative terms: no cancellation)
    dl/dx  = w [(1 - y') sigmoid(x) - pos sigmoid(-x)],
    sigmoid(x) = (1 if x >= 0 else u) / (1 + u),  sigmoid(-x) = (u if x >= 0 else 1) / (1 + u)

The flat arrays are cut into blocks spread over threads (``prange``). The weights `w`
and `pw` come either full-size (indexed like x) or as one block-length tile that repeats
with a period dividing the block length (a per-class ``pos_weight`` of shape (C,) for
logits (N, C), say): the caller prepares them. A non-finite loss (NaN or +-inf in x)
is flagged per block (NaN - NaN and inf - inf are NaN, so sum(l - l) is NaN exactly
then); the caller finds the first bad element and raises. Where the loss is not finite
the gradient slot keeps x's value, so an in-place call still shows the bad value.
Targets outside [0, 1] (NaN included) are flagged per block too, from the same reads.

With ``reduce`` the per-element losses never reach memory: each block writes one
float64 partial sum of ``scale * l`` (blocks are fixed by the block length, so the
result does not depend on the number of threads). Scaling before summing keeps a mean
of float64 losses near the dtype's maximum finite.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._numba_math import fexp_nonpos, flog1p_unit, like, like_scalar, same_memory

_FM = {"contract"}
_FMR = {"contract", "reassoc"}


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def _bce_elem(xv, yv, pwv, wv, keep, half):
    """(loss, u, pos, neg) of one element; u = exp(-|x|), pos = pw y', neg = 1 - y'."""
    one = like_scalar(xv, 1.0)
    zero = like_scalar(xv, 0.0)
    yv = yv * keep + half
    pos = pwv * yv
    neg = one - yv
    u = fexp_nonpos(-abs(xv))
    lp = flog1p_unit(u)
    sp_minus = (-xv if xv < zero else zero) + lp  # softplus(-x) = -log sigmoid(x)
    sp_plus = (xv if xv > zero else zero) + lp  # softplus(x) = -log sigmoid(-x)
    return wv * (pos * sp_minus + neg * sp_plus), u, pos, neg


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def _bce_grad(xv, u, pos, neg, wv, scale):
    """scale w [(1 - y') sigmoid(x) - pos sigmoid(-x)] from u = exp(-|x|)."""
    one = like_scalar(xv, 1.0)
    zero = like_scalar(xv, 0.0)
    inv = one / (one + u)
    sig_plus = (one if xv >= zero else u) * inv  # sigmoid(x)
    sig_minus = (u if xv >= zero else one) * inv  # sigmoid(-x)
    return (wv * (neg * sig_plus - pos * sig_minus)) * scale


@njit(fastmath=_FMR, error_model="numpy", cache=True)
def _bce_block(x, y, w, pw, keep, half, scale, g, write, loss):
    """One block: the loss into `loss` (x's dtype) and, if `write`, the gradient into g.

    Returns (sum_j (l_j - l_j), #targets outside [0, 1]): the first is NaN exactly when
    some l_j is not finite.

    The three loops repeat one body on purpose: in place, the loop reads and writes `g`
    only (see ``same_memory``: over two arrays that alias, LLVM's vector loop falls back to
    scalar code), and the value-only loop has no gradient store to keep it from vectorising.
    """
    zero = like(x, 0.0)
    one = like(x, 1.0)
    acc = zero
    bad_t = zero
    if write and same_memory(x, g):
        for j in range(g.shape[0]):
            xv = g[j]
            wv = w[j]
            yv = y[j]
            bad_t += zero if (yv >= zero) & (yv <= one) else one
            lv, u, pos, neg = _bce_elem(xv, yv, pw[j], wv, keep, half)
            loss[j] = lv
            ok = lv - lv
            acc += ok
            g[j] = _bce_grad(xv, u, pos, neg, wv, scale) if ok == zero else xv
    elif write:
        for j in range(x.shape[0]):
            xv = x[j]
            wv = w[j]
            yv = y[j]
            bad_t += zero if (yv >= zero) & (yv <= one) else one
            lv, u, pos, neg = _bce_elem(xv, yv, pw[j], wv, keep, half)
            loss[j] = lv
            ok = lv - lv
            acc += ok
            g[j] = _bce_grad(xv, u, pos, neg, wv, scale) if ok == zero else xv
    else:
        for j in range(x.shape[0]):
            yv = y[j]
            bad_t += zero if (yv >= zero) & (yv <= one) else one
            lv = _bce_elem(x[j], yv, pw[j], w[j], keep, half)[0]
            loss[j] = lv
            acc += lv - lv
    return acc, bad_t


@njit(error_model="numpy", cache=True)
def _widen(src, dst):
    """dst (float64) = src (x's dtype): kept out of the main loop, whose vector width would
    otherwise follow the float64 stores (4 lanes instead of 8)."""
    for j in range(src.shape[0]):
        dst[j] = src[j]


@njit(fastmath=_FMR, error_model="numpy", cache=True)
def _scaled_sum64(src, scale):
    """sum_j scale * src_j in float64 (src is in the L1 cache: a short second loop)."""
    total = 0.0
    for j in range(src.shape[0]):
        total += np.float64(src[j]) * scale
    return total


@njit(parallel=True, fastmath=_FM, error_model="numpy", cache=True)
def bce_kernel(
    x, y, w, w_full, pw, pw_full, keep, half, scale, g, write, in_place, loss, reduce, lscale,
    block, bad,
):  # fmt: skip
    """Blocks of `block` elements in parallel.

    bad[b] has bit 1 set where block b has a non-finite loss and bit 2 where it has a
    target outside [0, 1]. `loss` is per element (float64) or, with
    `reduce`, one partial sum of ``lscale * l`` per block (lscale: `scale` in float64).
    `w` / `pw`: full-size when `*_full`, else one tile of length `block`. `g` is the flat
    gradient when `write` (it is x itself when `in_place`), else a length-1 dummy.
    """
    n = x.shape[0]
    nb = (n + block - 1) // block
    for b in prange(nb):
        b0 = b * block
        b1 = min(b0 + block, n)
        ws = w[b0:b1] if w_full else w[0 : b1 - b0]
        pws = pw[b0:b1] if pw_full else pw[0 : b1 - b0]
        tmp = np.empty(b1 - b0, x.dtype)
        if write:
            if in_place:
                acc, bad_t = _bce_block(
                    g[b0:b1], y[b0:b1], ws, pws, keep, half, scale, g[b0:b1], True, tmp
                )
            else:
                acc, bad_t = _bce_block(
                    x[b0:b1], y[b0:b1], ws, pws, keep, half, scale, g[b0:b1], True, tmp
                )
        else:
            acc, bad_t = _bce_block(
                x[b0:b1], y[b0:b1], ws, pws, keep, half, scale, g[0:1], False, tmp
            )
        if reduce:
            loss[b] = _scaled_sum64(tmp, lscale)
        else:
            _widen(tmp, loss[b0:b1])
        bad[b] = (2 if bad_t != 0 else 0) | (0 if acc == 0 else 1)
