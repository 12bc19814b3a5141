"""numba kernels: softmax cross-entropy per row (integer labels, probability targets).

Semantics are those of ``_portable.ce_labels_xp`` / ``_portable.ce_probs_xp`` (read their
docstrings for the formulas); this module only reorganises the arithmetic so that each
row is read from memory once and every element's exponential is computed once:

    pass 1  m = max_c z'_c                       (z' = softcap(z), written to the gradient
                                                  row when there is one and a softcap)
    pass 2  s = sum_c e_c, e_c = exp(z'_c - m)   (e stored in the gradient row when the
                                                  gradient can be finished from it)
    pass 3  g_c = e_c * (coef / s) - (target terms)   (only when a gradient is asked for)

Passes 2 and 3 find the row in the L2 cache. Rows are independent and spread over threads
with ``prange``; nothing is reduced across rows here, so results do not depend on the
number of threads. Row sums run in blocks of ``_BLOCK`` elements, each summed in the
input dtype with vector accumulators (``reassoc``) and added to a float64 total.

Errors are found from the row statistics (no extra pass) and reported per row in
``status`` (0 ok; see ``STATUS_*``); the caller raises the portable path's error. After
an error the contents of the gradient buffer are unspecified.

The loss identities, with U = unmasked classes (z_c > -inf), log s = lse - m:
    sum_{c in U} w_c (lse - z'_c) = W log s + sum_{c in U} w_c (m - z'_c)   (no cancellation:
    every term is >= 0, unlike W lse - sum w_c z'_c).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._numba_math import fexp_nonpos, fsoftcap, like, like_scalar, maxnum, same_memory

STATUS_OK = 0
STATUS_NONFINITE = 1  # NaN or +inf in the row
STATUS_EMPTY = 2  # every entry -inf in a row that counts
STATUS_MASKED_TARGET = 3  # -inf at the target class
STATUS_MASKED_POSITIVE = 4  # positive target probability at a -inf class

_FM = {"contract"}  # fused multiply-add only: results as exact as without fast-math
_FMR = {"contract", "reassoc"}  # + reassociation, for vectorised sums (order fixed per row length)
_BLOCK = 2048
# Value-only rows longer than this take one pass over memory (_max_sumexp_online); shorter
# rows stay in the L1/L2 cache between passes 1 and 2, where two plain passes are faster.
_ONLINE_MIN = 16384

# ---------------------------------------------------------------------------
# pass 1: row max (and count of masked entries)
# ---------------------------------------------------------------------------


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _max(x, cap):
    """max_c z'_c, z' = softcap(x) if cap > 0 else x (-inf for a row of -inf).

    maxnum skips NaN (a NaN row is caught by the sum in pass 2); +inf gives m = +inf.
    The loop does nothing else: with a second reduction in it LLVM stops vectorising.
    """
    m = like(x, -np.inf)
    if cap > 0:
        for c in range(x.shape[0]):
            m = maxnum(m, fsoftcap(x[c], cap))
    else:
        for c in range(x.shape[0]):
            m = maxnum(m, x[c])
    return m


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _max_store_capped(x, g, cap):
    """Like _max with a softcap, also writing z' = softcap(x) into g (g may be x)."""
    m = like(x, -np.inf)
    if same_memory(x, g):
        for c in range(g.shape[0]):
            v = fsoftcap(g[c], cap)
            g[c] = v
            m = maxnum(m, v)
    else:
        for c in range(x.shape[0]):
            v = fsoftcap(x[c], cap)
            g[c] = v
            m = maxnum(m, v)
    return m


# ---------------------------------------------------------------------------
# pass 2: sums
# ---------------------------------------------------------------------------


@njit(fastmath=_FMR, error_model="numpy", cache=True)
def _sumexp(x, cap, m):
    """sum_c exp(z'_c - m) in float64 (blocks summed in x's dtype)."""
    n = x.shape[0]
    total = 0.0
    for b0 in range(0, n, _BLOCK):
        xb = x[b0 : min(b0 + _BLOCK, n)]
        s = like(x, 0.0)
        if cap > 0:
            for c in range(xb.shape[0]):
                s += fexp_nonpos(fsoftcap(xb[c], cap) - m)
        else:
            for c in range(xb.shape[0]):
                s += fexp_nonpos(xb[c] - m)
        total += s
    return total


@njit(fastmath=_FMR, error_model="numpy", cache=True)
def _sumexp_store(x, g, m):
    """g_c = exp(x_c - m) and their sum in float64 (g may be x)."""
    n = x.shape[0]
    total = 0.0
    same = same_memory(x, g)
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        gb = g[b0:b1]
        s = like(x, 0.0)
        if same:
            for c in range(gb.shape[0]):
                e = fexp_nonpos(gb[c] - m)
                gb[c] = e
                s += e
        else:
            xb = x[b0:b1]
            for c in range(xb.shape[0]):
                e = fexp_nonpos(xb[c] - m)
                gb[c] = e
                s += e
        total += s
    return total


@njit(fastmath=_FMR, error_model="numpy", cache=True)
def _smooth_sum_scaled(x, cap, w, has_w, m, sc):
    """sum_{c in U} w_c (m sc - z'_c sc), float64: the retry when the unscaled sum overflows
    (float64 logits near the dtype's max, where only the (eps / C)-scaled sum is finite)."""
    n = x.shape[0]
    A = 0.0
    msc = np.float64(m) * sc
    for c in range(n):
        v = fsoftcap(x[c], cap) if cap > 0 else x[c]
        if v != -np.inf:
            wc = np.float64(w[c]) if has_w else 1.0
            A += wc * (msc - np.float64(v) * sc)
    return A


@njit(fastmath=_FMR, error_model="numpy", cache=True)
def _smooth_sums(x, cap, w, has_w, m):
    """(W, A, k) = (sum_{c in U} w_c, sum_{c in U} w_c (m - z'_c), #masked); W, A float64."""
    n = x.shape[0]
    ninf = like(x, -np.inf)
    zero = like(x, 0.0)
    W = 0.0
    A = 0.0
    k = 0
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        xb = x[b0:b1]
        wb = w[b0:b1]
        sw = zero
        sa = zero
        for c in range(xb.shape[0]):
            v = fsoftcap(xb[c], cap) if cap > 0 else xb[c]
            wc = wb[c] if has_w else like(x, 1.0)
            un = v != ninf
            sw += wc if un else zero
            sa += wc * (m - v) if un else zero
            k += not un
        W += sw
        A += sa
    return W, A, k


@njit(fastmath=_FMR, error_model="numpy", cache=True)
def _target_sums(x, cap, t, w, has_w, keep, spread, m):
    """Probability targets t' = keep t + spread (keep = 1 - eps, spread = eps / C), wt = w t':

    (T, A, k, bad) = (sum_{c in U} wt_c, sum_{c in U} wt_c (m - z'_c), #masked,
    #{c not in U: t_c > 0}).

    The same blocked loop as _smooth_sums, written again: each is one loop of plain
    accumulators that LLVM vectorises, which a shared loop with a callback or optional
    operands (numba types them per call site, but branches per element) would not be.
    """
    n = x.shape[0]
    ninf = like(x, -np.inf)
    zero = like(x, 0.0)
    T = 0.0
    A = 0.0
    k = 0
    bad = 0
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        xb = x[b0:b1]
        tb = t[b0:b1]
        wb = w[b0:b1]
        st = zero
        sa = zero
        for c in range(xb.shape[0]):
            v = fsoftcap(xb[c], cap) if cap > 0 else xb[c]
            tc = tb[c]
            wt = tc * keep + spread
            if has_w:
                wt = wt * wb[c]
            un = v != ninf
            st += wt if un else zero
            sa += wt * (m - v) if un else zero
            k += not un
            bad += (not un) & (tc > zero)
        T += st
        A += sa
    return T, A, k, bad


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _max_sumexp_online(x, cap):
    """(m, s) = (max_c z'_c, sum_c exp(z'_c - m)) in one pass over memory (value-only calls).

    Blocks of ``_BLOCK`` elements: the block's max, then its exponentials while the block
    is in the L1 cache; the running sum is rescaled by exp(m_old - m_new) (one scalar exp
    per block) when the max grows. Same statistics as passes 1 and 2, as NaN/inf-aware:
    m = +inf for a +inf entry, s = NaN for a NaN entry, m = -inf for a row of -inf.
    """
    n = x.shape[0]
    m = -np.inf
    s = 0.0
    for b0 in range(0, n, _BLOCK):
        xb = x[b0 : min(b0 + _BLOCK, n)]
        mb = np.float64(_max(xb, cap))
        if mb == np.inf:
            return mb, s
        if mb == -np.inf:
            s += _sumexp(xb, cap, like(x, 0.0))  # 0, or NaN when the block holds a NaN
            continue
        if mb > m:
            if m > -np.inf:
                s *= math.exp(m - mb)
            m = mb
        s += _sumexp(xb, cap, like(x, m))
    return m, s


# ---------------------------------------------------------------------------
# pass 3: gradients
# ---------------------------------------------------------------------------


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _fill(g, v):
    for c in range(g.shape[0]):
        g[c] = v


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _scale(g, a):
    """g_c = e_c a (e stored in g by pass 2)."""
    for c in range(g.shape[0]):
        g[c] = g[c] * a


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _scale_sub_w(g, a, b, w, has_w):
    """g_c = e_c a - b w_c (no masked class in the row)."""
    if has_w:
        for c in range(g.shape[0]):
            g[c] = g[c] * a - b * w[c]
    else:
        for c in range(g.shape[0]):
            g[c] = g[c] * a - b


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _scale_sub_t(g, a, b, t, keep, spread, w, has_w):
    """g_c = e_c a - b w_c t'_c (no masked class in the row)."""
    if has_w:
        for c in range(g.shape[0]):
            g[c] = g[c] * a - b * (w[c] * (t[c] * keep + spread))
    else:
        for c in range(g.shape[0]):
            g[c] = g[c] * a - b * (t[c] * keep + spread)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _grad_labels(x, g, m, a, b, w, has_w, cap):
    """g_c = (e_c a - b w_c [c in U]) d_c, e_c = exp(x_c - m), x = z' (already capped);
    d_c = 1 - (x_c / cap)^2 (0 if masked) when cap > 0, else 1. g may be x."""
    if same_memory(x, g):
        for c in range(g.shape[0]):
            g[c] = _grad_elem(g[c], m, a, b, w[c] if has_w else like(x, 1.0), cap)
    else:
        for c in range(x.shape[0]):
            g[c] = _grad_elem(x[c], m, a, b, w[c] if has_w else like(x, 1.0), cap)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _grad_elem(v, m, a, b, wc, cap):
    """(e a - b wc [v in U]) d for one element v = z'_c: the gradient of pass 3."""
    ninf = like_scalar(v, -np.inf)
    zero = like_scalar(v, 0.0)
    un = v != ninf
    e = fexp_nonpos(v - m)
    r = e * a - (b * wc if un else zero)
    if cap > 0:
        q = v / cap
        r = r * (like_scalar(v, 1.0) - q * q) if un else zero
    return r


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _grad_probs(x, g, m, a, b, t, keep, spread, w, has_w, cap):
    """g_c = (e_c a - b wt_c [c in U]) d_c, wt = w (keep t + spread); as _grad_labels."""
    if same_memory(x, g):
        for c in range(g.shape[0]):
            wt = t[c] * keep + spread
            g[c] = _grad_elem(g[c], m, a, b, wt * w[c] if has_w else wt, cap)
    else:
        for c in range(x.shape[0]):
            wt = t[c] * keep + spread
            g[c] = _grad_elem(x[c], m, a, b, wt * w[c] if has_w else wt, cap)


# ---------------------------------------------------------------------------
# rows
# ---------------------------------------------------------------------------


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _empty_row_status(x, cap, counted):
    """A row whose max is -inf: NaN somewhere (sum is NaN) or truly all -inf."""
    s = _sumexp(x, cap, like(x, 0.0))
    if s != s:
        return STATUS_NONFINITE
    return STATUS_EMPTY if counted else STATUS_OK


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _labels_row_value(x, zy, wy, valid, cap):
    """Value-only row without smoothing: (w_y (lse - z'_y), lse, status), one pass.

    The statuses come in the order of the three-pass row: +inf, a row of -inf, NaN, then
    a masked target.
    """
    m, s = _max_sumexp_online(x, cap)
    if m == np.inf:
        return 0.0, 0.0, STATUS_NONFINITE
    if m == -np.inf:
        return 0.0, 0.0, _empty_row_status(x, cap, valid)
    if s != s:
        return 0.0, 0.0, STATUS_NONFINITE
    if valid and zy == -np.inf:
        return 0.0, 0.0, STATUS_MASKED_TARGET
    if not valid:
        return 0.0, 0.0, STATUS_OK
    logs = math.log(s)
    # -log p_y = log s - (z'_y - m): both terms >= 0, nothing cancels at any |m|
    return wy * (logs - (np.float64(zy) - m)), m + logs, STATUS_OK


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _labels_row(x, g, yi, w, has_w, ignore_index, eps, cap, z_loss, sm, sz, write):
    """One row of ce_labels: returns (main, lse, status) and fills g when `write`."""
    n = x.shape[0]
    valid = yi != ignore_index
    yv = yi if valid else 0
    zy = x[yv]  # read before any write (g may be x)
    if cap > 0:
        zy = fsoftcap(zy, cap)
    grad_row = write and valid
    capped = grad_row and cap > 0  # z' lives in g from pass 1 on
    if not write and eps == 0.0 and n > _ONLINE_MIN:
        wy = np.float64(w[yv]) if has_w else 1.0
        return _labels_row_value(x, zy, wy, valid, cap)
    if capped:
        m = _max_store_capped(x, g, cap)
    else:
        m = _max(x, cap)
    if m != m or m == np.inf:
        return 0.0, 0.0, STATUS_NONFINITE
    if m == -np.inf:
        st = _empty_row_status(x, cap, valid)
        if st == STATUS_OK and write:
            _fill(g, like(x, 0.0))
        return 0.0, 0.0, st
    # smoothing sums before pass 2, which may overwrite x (in place) with e
    W = 0.0
    A = 0.0
    k = 0  # masked classes, counted when they matter (smoothing)
    scaled = False
    if eps > 0.0 and valid:
        if capped:
            W, A, k = _smooth_sums(g, like(x, 0.0), w, has_w, m)
        else:
            W, A, k = _smooth_sums(x, cap, w, has_w, m)
        if A == np.inf:  # every term is >= 0, so only +inf can appear
            scaled = True
            if capped:
                A = _smooth_sum_scaled(g, like(x, 0.0), w, has_w, m, eps / n)
            else:
                A = _smooth_sum_scaled(x, cap, w, has_w, m, eps / n)
    # e can stay in g for pass 3 when pass 3 needs nothing else per element
    store = grad_row and cap == 0 and (eps == 0.0 or k == 0)
    if store:
        s = _sumexp_store(x, g, m)
    elif capped:
        s = _sumexp(g, like(x, 0.0), m)
    else:
        s = _sumexp(x, cap, m)
    if s != s:
        return 0.0, 0.0, STATUS_NONFINITE
    if valid and zy == -np.inf:  # after the NaN test: the portable path's order
        return 0.0, 0.0, STATUS_MASKED_TARGET
    if not valid:
        if write:
            _fill(g, like(x, 0.0))
        return 0.0, 0.0, STATUS_OK
    logs = math.log(s)
    lse = np.float64(m) + logs
    wy = np.float64(w[yv]) if has_w else 1.0
    # -log p_y = log s - (z'_y - m), never lse - z'_y: that cancels when |m| >> the loss
    main = (1.0 - eps) * wy * (logs - (np.float64(zy) - np.float64(m)))
    if eps > 0.0:
        # (eps / C) sum_{c in U} w_c (lse - z'_c)
        main += (eps / n) * W * logs + A if scaled else (eps / n) * (W * logs + A)
    if write:
        # d/dz'_c = p_c coef - (1 - eps) sm w_y [c = y] - (eps / C) sm w_c [c in U]
        coef = (1.0 - eps) * wy * sm + 2.0 * z_loss * sz * lse + (eps / n) * sm * W
        a = like(x, coef / s)
        b = like(x, (eps / n) * sm)
        ty = like(x, (1.0 - eps) * wy * sm)
        if store:
            if eps > 0.0:
                _scale_sub_w(g, a, b, w, has_w)
            else:
                _scale(g, a)
            g[yv] -= ty
        else:
            if capped:
                _grad_labels(g, g, m, a, b, w, has_w, cap)
                q = zy / cap
                g[yv] -= ty * (like(x, 1.0) - q * q)  # times dz'/dz at the target
            else:
                _grad_labels(x, g, m, a, b, w, has_w, cap)
                g[yv] -= ty
    return main, lse, STATUS_OK


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _probs_row(x, g, t, w, has_w, eps, cap, z_loss, sm, sz, write):
    """One row of ce_probs: returns (main, lse, status) and fills g when `write`."""
    n = x.shape[0]
    keep = like(x, 1.0 - eps)
    spread = like(x, eps / n) if eps > 0.0 else like(x, 0.0)
    capped = write and cap > 0
    if capped:
        m = _max_store_capped(x, g, cap)
    else:
        m = _max(x, cap)
    if m != m or m == np.inf:
        return 0.0, 0.0, STATUS_NONFINITE
    if m == -np.inf:
        return 0.0, 0.0, _empty_row_status(x, cap, True)
    # target sums before pass 2, which may overwrite x (in place) with e
    if capped:
        T, A, k, bad = _target_sums(g, like(x, 0.0), t, w, has_w, keep, spread, m)
    else:
        T, A, k, bad = _target_sums(x, cap, t, w, has_w, keep, spread, m)
    store = write and cap == 0 and k == 0
    if store:
        s = _sumexp_store(x, g, m)
    elif capped:
        s = _sumexp(g, like(x, 0.0), m)
    else:
        s = _sumexp(x, cap, m)
    if s != s:
        return 0.0, 0.0, STATUS_NONFINITE
    if bad:
        return 0.0, 0.0, STATUS_MASKED_POSITIVE
    logs = math.log(s)
    lse = np.float64(m) + logs
    # sum_{c in U} wt_c (lse - z'_c)
    main = T * logs + A
    if write:
        # d/dz'_c = p_c (T sm + 2 z_loss sz lse) - sm wt_c
        a = like(x, (T * sm + 2.0 * z_loss * sz * lse) / s)
        b = like(x, sm)
        if store:
            _scale_sub_t(g, a, b, t, keep, spread, w, has_w)
        elif capped:
            _grad_probs(g, g, m, a, b, t, keep, spread, w, has_w, cap)
        else:
            _grad_probs(x, g, m, a, b, t, keep, spread, w, has_w, cap)
    return main, lse, STATUS_OK


# ---------------------------------------------------------------------------
# kernels: rows in parallel
# ---------------------------------------------------------------------------


@njit(parallel=True, fastmath=_FM, error_model="numpy", cache=True)
def ce_labels_kernel(
    z, y, w, has_w, ignore_index, eps, cap, z_loss, sm, sz, g, write, in_place, main, lse, status
):
    """Rows of ce_labels in parallel. `g` is the gradient (N, C) when `write`, else a
    (1, C) dummy; `in_place` means g is z (then only g is touched, so LLVM sees one array)."""
    for i in prange(z.shape[0]):
        if write:
            if in_place:
                r = _labels_row(
                    g[i], g[i], y[i], w, has_w, ignore_index, eps, cap, z_loss, sm, sz, True
                )
            else:
                r = _labels_row(
                    z[i], g[i], y[i], w, has_w, ignore_index, eps, cap, z_loss, sm, sz, True
                )
        else:
            r = _labels_row(
                z[i], g[0], y[i], w, has_w, ignore_index, eps, cap, z_loss, sm, sz, False
            )
        main[i] = r[0]
        lse[i] = r[1]
        status[i] = r[2]


@njit(parallel=True, fastmath=_FM, error_model="numpy", cache=True)
def ce_probs_kernel(
    z, t, w, has_w, eps, cap, z_loss, sm, sz, g, write, in_place, main, lse, status
):
    """Rows of ce_probs in parallel; arguments as ce_labels_kernel (the three calls of the
    row function repeat so that an in-place call passes g alone: see ``same_memory``)."""
    for i in prange(z.shape[0]):
        if write:
            if in_place:
                r = _probs_row(g[i], g[i], t[i], w, has_w, eps, cap, z_loss, sm, sz, True)
            else:
                r = _probs_row(z[i], g[i], t[i], w, has_w, eps, cap, z_loss, sm, sz, True)
        else:
            r = _probs_row(z[i], g[0], t[i], w, has_w, eps, cap, z_loss, sm, sz, False)
        main[i] = r[0]
        lse[i] = r[1]
        status[i] = r[2]
