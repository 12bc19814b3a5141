"""A linear model's loss, gradient and Hessian-vector product on CSR rows, fused
(``_numba_sparse``): ``csr_loss_grad`` and ``csr_hessp``.

The CSR matrix comes as its three arrays (``data``, ``indices``, ``indptr``), so this
layer needs no scipy. Both functions return None when the fused kernel does not apply
(numba disabled or missing; values not float32/float64 or not in W's dtype; indices not
int32/int64; arrays not C-contiguous), and ``csr_loss_grad`` also when some row's loss
is not finite: the caller then takes its unfused path (scipy's products and the dense
row kernels), which gives the same results or raises the validation layer's error.

Rows are split into :func:`n_parts` parts, a number that depends only on the matrix's
shape; each part keeps a float64 partial gradient and the parts are summed in order, so
results do not depend on the number of threads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dispatch import _numba_disabled, load_numba, set_path

__all__ = ["csr_loss_grad", "csr_hessp", "n_parts"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_INTS = (np.dtype(np.int32), np.dtype(np.int64))
_MAX_PARTS = 16
_PARTIAL_BYTES = 64 << 20  # the partial gradients of all parts together
_module: list[Any] = []


def n_parts(n_rows: int, nnz: int, n_cols: int, k: int) -> int:
    """How many parts the rows are split into: at most 16, so that the partial gradients
    (parts x n_cols x k float64) take at most 64 MiB — but 2 however wide W is, so that
    two cores share a wide model's pass — and their sum costs at most a quarter of the
    scatter's ``nnz x k`` multiply-adds. A function of the shape alone.

    Examples
    --------
    >>> n_parts(1_000_000, 40_000_000, 5_000, 2), n_parts(20_000, 800_000, 2**18, 20)
    (16, 1)
    >>> n_parts(200_000, 5_653_631, 2**18, 20)   # hashed text: 2 x 42 MB of partials
    2
    """
    by_work = nnz // (4 * max(1, n_cols))
    by_memory = max(2, _PARTIAL_BYTES // (8 * max(1, n_cols * k)))
    return int(max(1, min(_MAX_PARTS, n_rows, by_work, by_memory)))


def _kernels() -> Any:
    """The numba module, imported on first use (after the thread policy of ``dispatch``)."""
    if not _module:
        import logloss._kernels._numba_sparse as mod

        _module.append(mod)
    return _module[0]


def _dense(a: Any, dtype: np.dtype, ndim: int) -> bool:
    return (
        isinstance(a, np.ndarray) and a.dtype == dtype and a.ndim == ndim and a.flags.c_contiguous
    )


def _csr_arrays(data, indices, indptr, W) -> tuple[np.ndarray, np.ndarray] | None:
    """(indices, indptr) in one integer dtype when the kernels take these arrays, else None."""
    if _numba_disabled() or not (isinstance(W, np.ndarray) and W.dtype in _FLOATS):
        return None
    if not (
        _dense(data, W.dtype, 1)
        and _dense(W, W.dtype, 2)
        and isinstance(indices, np.ndarray)
        and isinstance(indptr, np.ndarray)
        and indices.dtype in _INTS
        and indptr.dtype in _INTS
        and indices.ndim == indptr.ndim == 1
        and indices.flags.c_contiguous
        and indptr.shape[0] >= 1
        and indices.shape == data.shape
    ):
        return None
    if indptr.dtype != indices.dtype:
        if indices.dtype == np.int32 and int(indptr[-1]) > np.iinfo(np.int32).max:
            return None
        indptr = indptr.astype(indices.dtype)  # (n + 1) numbers: cheap
    if not load_numba():
        return None
    return indices, np.ascontiguousarray(indptr)


def csr_loss_grad(
    data: np.ndarray,
    indices: np.ndarray,
    indptr: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None,
    *,
    link: str,
    row_weight: float,
    out_gradW: np.ndarray,
    out_gradb: np.ndarray,
    need_grad: bool = True,
    fit_intercept: bool = True,
    curvature: np.ndarray | None = None,
) -> float | None:
    """Loss of the CSR rows and, added into `out_gradW` and `out_gradb`, its gradient.

    .. math::

        L = \\sum_i s_i \\, l(z_i, y_i), \\quad z_i = x_i W + b, \\quad
        \\frac{\\partial L}{\\partial W} \\mathrel{+}= \\sum_i x_i^T s_i g_i, \\quad
        \\frac{\\partial L}{\\partial b} \\mathrel{+}= \\sum_i s_i g_i

    with ``l`` the softmax cross-entropy (int64 labels, ``g = softmax(z) - onehot(y)``) or
    the sigmoid BCE (0/1 targets in W's dtype, one logit, ``g = sigmoid(z) - y``), and
    ``s_i = sample_weight[i]`` or `row_weight`.

    Parameters
    ----------
    data, indices, indptr : ndarray
        The CSR matrix (n, d): values in W's dtype, int32 or int64 indices.
    W, b : ndarray of shape (d, K') and (K'), float32 or float64
    y : ndarray of shape (n,)
    sample_weight : ndarray of shape (n,) in W's dtype, or None
    link : {"softmax", "sigmoid"}
    row_weight : float
        The weight of a row when `sample_weight` is None.
    out_gradW, out_gradb : float64 ndarray of shape (d, K') and (K')
        The gradient is added here (`out_gradb` only with `fit_intercept`).
    need_grad : bool
        False computes the loss only.
    curvature : ndarray of shape (n, K') in W's dtype, or None
        Filled with the softmax probabilities, or ``s_i p_i (1 - p_i)`` (sigmoid).

    Returns
    -------
    float or None
        L, or None when the fused kernel does not apply or a row's loss is not finite
        (nothing is added then).

    Examples
    --------
    >>> import numpy as np
    >>> gW, gb = np.zeros((2, 1)), np.zeros(1)
    >>> loss = csr_loss_grad(np.array([1.0, 2.0]), np.array([0, 1], np.int32),
    ...                      np.array([0, 1, 2], np.int32), np.zeros((2, 1)), np.zeros(1),
    ...                      np.array([1.0, 0.0]), None, link="sigmoid", row_weight=1.0,
    ...                      out_gradW=gW, out_gradb=gb)
    >>> round(loss, 6), gW.ravel(), gb          # 2 log 2; g = (-1/2, 1/2)
    (1.386294, array([-0.5,  1. ]), array([0.]))
    """
    arrays = _csr_arrays(data, indices, indptr, W)
    dt = W.dtype
    n = indptr.shape[0] - 1
    k = W.shape[1]
    softmax = link == "softmax"
    if (
        arrays is None
        or not _dense(b, dt, 1)
        or b.shape[0] != k
        or not (_dense(y, np.dtype(np.int64), 1) if softmax else _dense(y, dt, 1))
        or y.shape[0] != n
        or (sample_weight is not None and not _dense(sample_weight, dt, 1))
        or (curvature is not None and not (_dense(curvature, dt, 2) and curvature.shape == (n, k)))
        or (not softmax and k != 1)
    ):
        return None
    indices, indptr = arrays
    set_path("numba")
    parts = n_parts(n, data.shape[0], W.shape[0], k)
    loss = np.empty(parts)
    bad = np.empty(parts, np.int64)
    if need_grad:
        gw, gb = np.empty((parts, W.shape[0], k)), np.empty((parts, k))
    else:
        gw, gb = np.empty((1, 1, k)), np.empty((1, k))
    s = sample_weight if sample_weight is not None else np.empty(1, dt)
    keep = curvature is not None
    curv = curvature if keep else np.empty((1, k), dt)
    kernel = _kernels().csr_softmax_kernel if softmax else _kernels().csr_sigmoid_kernel
    kernel(
        data, indices, indptr, W, b, y, s, sample_weight is not None, float(row_weight),
        need_grad, keep, curv, loss, bad, gw, gb,
    )  # fmt: skip
    total = float(loss.sum())
    if bad.any() or not np.isfinite(total):
        return None
    if need_grad:
        # parts in order: the result does not depend on the number of threads (added
        # one by one: no (d, K') temporary, the same sums as ``gw.sum(axis=0)``)
        for p in range(parts):
            out_gradW += gw[p]
        if fit_intercept:
            out_gradb += gb.sum(axis=0)
    return total


def csr_hessp(
    data: np.ndarray,
    indices: np.ndarray,
    indptr: np.ndarray,
    V: np.ndarray,
    vb: np.ndarray,
    curvature: np.ndarray,
    sample_weight: np.ndarray | None,
    *,
    link: str,
    row_weight: float,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The data term's Hessian times the direction (V, vb) on CSR rows: ``(X^T T, sum_i T_i)``.

    .. math::

        u_i = x_i V + v_b, \\qquad
        T_i = \\begin{cases} s_i \\, (p_i \\odot u_i - p_i \\, (p_i \\cdot u_i)) & \\text{softmax}
        \\\\ d_i u_i & \\text{sigmoid} \\end{cases}

    `curvature` (n, K') holds ``p_i`` (softmax) or ``d_i = s_i p_i (1 - p_i)`` (sigmoid), as
    :func:`csr_loss_grad` wrote it; ``s_i`` is ``sample_weight[i]`` or `row_weight`. Pass
    zeros for `vb` without an intercept. Returns float64 arrays (d, K') and (K'), or None
    when the fused kernel does not apply.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[0.25], [0.25]])          # p = 1/2, weight 1
    >>> csr_hessp(np.array([1.0, 2.0]), np.array([0, 0], np.int32), np.array([0, 1, 2], np.int32),
    ...           np.array([[1.0]]), np.zeros(1), d, None, link="sigmoid", row_weight=1.0)
    (array([[1.25]]), array([0.75]))
    """
    arrays = _csr_arrays(data, indices, indptr, V)
    dt = V.dtype
    n = indptr.shape[0] - 1
    k = V.shape[1]
    if (
        arrays is None
        or not _dense(vb, dt, 1)
        or vb.shape[0] != k
        or not (_dense(curvature, dt, 2) and curvature.shape == (n, k))
        or (sample_weight is not None and not _dense(sample_weight, dt, 1))
    ):
        return None
    indices, indptr = arrays
    set_path("numba")
    parts = n_parts(n, data.shape[0], V.shape[0], k)
    out = np.empty((parts, V.shape[0], k))
    ob = np.empty((parts, k))
    s = sample_weight if sample_weight is not None else np.empty(1, dt)
    _kernels().csr_hessp_kernel(
        data, indices, indptr, V, vb, curvature, s, sample_weight is not None,
        float(row_weight), link == "softmax", out, ob,
    )  # fmt: skip
    return (out.sum(axis=0) if parts > 1 else out[0]), ob.sum(axis=0)
