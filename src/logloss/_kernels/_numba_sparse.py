"""numba kernels: a linear model's loss, gradient and Hessian-vector product on CSR rows.

For a CSR matrix X (``data``, ``indices``, ``indptr``), parameters W (d, K') and b (K'),
each row i is read once from memory and handled while its nonzeros sit in the L1 cache:

    z_i = sum_{q in row i} data_q W[indices_q] + b       (K' accumulators)
    l_i, g_i = the loss and its logit gradient           (the dense kernels' row code:
                                                          ``_numba_ce._labels_row`` for the
                                                          softmax, ``_numba_bce`` for the
                                                          sigmoid, so the same float behaviour)
    acc[indices_q] += data_q s_i g_i,  accb += s_i g_i   (the gradient X^T G, scattered)

The rows are split into a fixed number of parts (chosen by the caller from the matrix's
shape, never from the thread count); each part accumulates its own float64 partial
gradient and the caller sums the parts in order, so results do not depend on the number
of threads. An empty row has the logits b; explicit zeros add nothing; the column
indices of a row may come in any order.

A row whose loss is not finite (NaN or +inf logits) is counted in ``bad`` and skipped:
the caller then takes the unfused path, which raises the validation layer's error.

The Hessian-vector product has the same structure with u_i = x_i V + v_b in place of
the logits and ``T_i`` (see :func:`csr_hessp_kernel`) in place of ``s_i g_i``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._numba_bce import _bce_elem, _bce_grad
from ._numba_ce import _labels_row
from ._numba_math import like

_FM = {"contract"}  # fused multiply-add only, as the dense kernels
_NO_IGNORE = -100  # the labels lie in [0, K): no row is ignored


# The helpers are inlined into the kernels and index with two subscripts (W[j, c], not a
# row view W[j]): a view per nonzero costs a reference count and an array struct, which
# made the first version 5-10x slower than scipy's products on one-logit problems.


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def _row_logits(data, indices, lo, hi, W, b, z):
    """z = sum_{q in [lo, hi)} data_q W[indices_q] + b, in W's dtype (K' accumulators)."""
    k = z.shape[0]
    zero = like(z, 0.0)
    for c in range(k):
        z[c] = zero
    for q in range(lo, hi):
        v = data[q]
        j = indices[q]
        for c in range(k):
            z[c] += v * W[j, c]
    for c in range(k):
        z[c] += b[c]


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def _row_dot(data, indices, lo, hi, w, bb):
    """sum_{q in [lo, hi)} data_q w[indices_q] + bb for one logit (a scalar accumulator)."""
    t = like(w, 0.0)
    for q in range(lo, hi):
        t += data[q] * w[indices[q]]
    return t + bb


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def _scatter1(data, indices, lo, hi, g, acc):
    """acc[indices_q] += data_q g for q in [lo, hi), in float64 (one logit)."""
    for q in range(lo, hi):
        acc[indices[q]] += np.float64(data[q]) * g


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def _scatter(data, indices, lo, hi, g, acc, p):
    """acc[p, indices_q] += data_q g for q in [lo, hi), in float64 (part p's gradient)."""
    k = g.shape[0]
    for q in range(lo, hi):
        v = np.float64(data[q])
        j = indices[q]
        for c in range(k):
            acc[p, j, c] += v * g[c]


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _zero_part(gw, gb):
    """Set one part's float64 partial gradient to zero."""
    for j in range(gw.shape[0]):
        for c in range(gw.shape[1]):
            gw[j, c] = 0.0
    for c in range(gb.shape[0]):
        gb[c] = 0.0


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def _part(p, step, n, write, gw, gb):
    """Rows [r0, r1) of part p; with `write`, the part's partial gradient set to zero."""
    r0 = min(p * step, n)
    if write:
        _zero_part(gw[p], gb[p])
    return r0, min(r0 + step, n)


@njit(parallel=True, fastmath=_FM, error_model="numpy", cache=True)
def csr_softmax_kernel(
    data, indices, indptr, W, b, y, s, has_s, row_weight, write, keep, curv, loss, bad, gw, gb
):
    """Softmax cross-entropy with int64 labels `y`, per part p of the rows (p < len(loss)):

    loss[p] = sum_i s_i l_i (float64), gw[p] = sum_i s_i g_i x_i^T, gb[p] = sum_i s_i g_i
    with g_i = softmax(z_i) - onehot(y_i) and s_i = s[i] (`has_s`) or `row_weight`;
    without `write` gw and gb are left as they are. With `keep`, curv[i] = softmax(z_i)
    (what the Hessian-vector product needs); else `curv` is a dummy. bad[p] counts the
    rows of part p whose loss is not finite.
    """
    n = indptr.shape[0] - 1
    parts = loss.shape[0]
    k = W.shape[1]
    step = (n + parts - 1) // parts
    ones = np.ones(k, W.dtype)  # no class weights (the objective folds them into s)
    cap = like(W, 0.0)
    for p in prange(parts):
        r0, r1 = _part(p, step, n, write, gw, gb)
        z = np.empty(k, W.dtype)
        lsum = 0.0
        nbad = 0
        for i in range(r0, r1):
            lo = indptr[i]
            hi = indptr[i + 1]
            _row_logits(data, indices, lo, hi, W, b, z)
            yi = y[i]
            # in place: z becomes p - onehot (scale 1), as in the dense block path
            main, _, st = _labels_row(
                z, z, yi, ones, False, _NO_IGNORE, 0.0, cap, 0.0, 1.0, 0.0, write or keep
            )
            if st != 0:
                nbad += 1
                continue
            s64 = np.float64(s[i]) if has_s else row_weight
            lsum += s64 * main
            if keep:
                ci = curv[i]
                for c in range(k):
                    ci[c] = z[c]
                ci[yi] += like(W, 1.0)  # p = (p - onehot) + onehot
            if write:
                si = s[i] if has_s else like(W, row_weight)
                gbp = gb[p]
                for c in range(k):
                    z[c] *= si
                    gbp[c] += z[c]
                _scatter(data, indices, lo, hi, z, gw, p)
        loss[p] = lsum
        bad[p] = nbad


@njit(parallel=True, fastmath=_FM, error_model="numpy", cache=True)
def csr_sigmoid_kernel(
    data, indices, indptr, W, b, y, s, has_s, row_weight, write, keep, curv, loss, bad, gw, gb
):
    """Sigmoid BCE of one logit per row (W (d, 1), 0/1 targets `y` in W's dtype); the
    arguments and results of :func:`csr_softmax_kernel`, with g_i = sigmoid(z_i) - y_i and,
    with `keep`, curv[i, 0] = s_i p_i (1 - p_i)."""
    n = indptr.shape[0] - 1
    parts = loss.shape[0]
    step = (n + parts - 1) // parts
    one = like(W, 1.0)
    zero = like(W, 0.0)
    w = W[:, 0]
    bb = b[0]
    for p in prange(parts):
        r0, r1 = _part(p, step, n, write, gw, gb)
        lsum = 0.0
        nbad = 0
        for i in range(r0, r1):
            lo = indptr[i]
            hi = indptr[i + 1]
            zi = _row_dot(data, indices, lo, hi, w, bb)
            yi = y[i]
            lv, u, pos, neg = _bce_elem(zi, yi, one, one, one, zero)
            if lv - lv != zero:  # NaN exactly when lv is not finite
                nbad += 1
                continue
            s64 = np.float64(s[i]) if has_s else row_weight
            lsum += s64 * np.float64(lv)
            si = s[i] if has_s else like(W, row_weight)
            if keep:
                g1 = _bce_grad(zi, u, pos, neg, one, one)  # p - y
                # sigmoid'(z) = p (1 - p) with p = g + y and 1 - p = (1 - y) - g, both exact
                curv[i, 0] = (g1 + yi) * ((one - yi) - g1) * si
                gi = g1 * si
            else:
                gi = _bce_grad(zi, u, pos, neg, one, si)  # s_i (p - y)
            if write:
                gb[p, 0] += np.float64(gi)
                _scatter1(data, indices, lo, hi, gi, gw[p, :, 0])
        loss[p] = lsum
        bad[p] = nbad


@njit(parallel=True, fastmath=_FM, error_model="numpy", cache=True)
def csr_hessp_kernel(data, indices, indptr, V, vb, curv, s, has_s, row_weight, softmax, out, ob):
    """Per part p of the rows: out[p] = sum_i x_i^T T_i, ob[p] = sum_i T_i (float64), with
    u_i = x_i V + vb and

    - softmax (curv holds p_i): T_i = s_i (p_i * u_i - p_i (p_i . u_i)), the softmax
      Jacobian diag(p) - p p^T times u;
    - sigmoid (curv holds d_i = s_i p_i (1 - p_i)): T_i = d_i u_i.
    """
    n = indptr.shape[0] - 1
    parts = ob.shape[0]
    k = V.shape[1]
    step = (n + parts - 1) // parts
    for p in prange(parts):
        r0, r1 = _part(p, step, n, True, out, ob)
        u = np.empty(k, V.dtype)
        obp = ob[p]
        for i in range(r0, r1):
            lo = indptr[i]
            hi = indptr[i + 1]
            _row_logits(data, indices, lo, hi, V, vb, u)
            ci = curv[i]
            if softmax:
                tot = like(V, 0.0)
                for c in range(k):
                    u[c] = ci[c] * u[c]
                    tot += u[c]
                si = s[i] if has_s else like(V, row_weight)
                for c in range(k):
                    u[c] = (u[c] - ci[c] * tot) * si
            else:
                for c in range(k):
                    u[c] = ci[c] * u[c]
            for c in range(k):
                obp[c] += np.float64(u[c])
            _scatter(data, indices, lo, hi, u, out, p)
