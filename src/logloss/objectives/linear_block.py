"""A linear model's loss, gradient and Hessian-vector product over a block of rows.

The one implementation that :class:`~logloss.objectives.LinearObjective` (all rows in
memory) and the Dask path (one task per block of rows on a worker) both call. For rows
``x_i`` with weights ``s_i`` (or one weight `row_weight` per row when unweighted),
logits ``z_i = x_i W + b`` and the cross-entropy ``l_i = l(z_i, y_i)``:

.. math::

    L = \\sum_i s_i l_i, \\qquad
    \\frac{\\partial L}{\\partial W} = X^T G, \\qquad
    \\frac{\\partial L}{\\partial b} = \\sum_i G_i, \\qquad
    G_i = s_i \\, \\partial l_i / \\partial z_i

The penalty is not included: it needs only the parameters and is added by the caller.

X may be a ``scipy.sparse`` CSR matrix, never densified. For a softmax model (see
:func:`fused_sparse`) the fused sparse kernels
(``_kernels.csr_loss_grad``, ``_kernels.csr_hessp``) compute the logits, the loss,
``X^T G`` and the Hessian-vector product in one pass over the nonzeros of all rows (no
(n, K') logits are held). Elsewhere, and where they do not apply (numba disabled or
missing, indices neither int32 nor int64, a non-finite loss, whose error the unfused
path raises), the unfused path runs: scipy's sparse-times-dense products for ``X W`` and
``X^T G``, the loss kernels on the dense logits of a block of rows, a block being a view
of X's arrays.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .. import _kernels
from .._array import is_sparse
from ._rows import Link

# Rows per block of the evaluation, chosen so that the logits of a block take at most
# 32 MiB: memory stays bounded for any number of rows. Blocks are large on purpose: the
# kernels and BLAS are multi-threaded, and each call has a fixed cost (thread start-up)
# that small, cache-sized blocks would pay thousands of times per evaluation.
_BLOCK_BYTES = 32 << 20


# The fused CSR kernels pay for a softmax. Measured (benchmarks/bench_sparse.py --quick
# --kernel, best of 7 in CPU time, shared 2-core AMD EPYC), fused against scipy's products
# + the dense kernels: a 20-class one-hot problem (2,382 x 20 parameters) 0.33-0.51x for the
# loss and gradient and 0.9-1.1x for a Hessian product. A 20-class hashed-text one (2**18 x
# 20, too wide for more than 2 parts' float64 partials) measured 0.9-1.1x and 0.7-1.5x in
# one part; in two (`python benchmarks/bench_sparse.py --kernel --only text --classes 20
# --repeats 3`, 200,000 documents, wall time) 0.59x and 0.64x in float64, 0.75x and 0.75x
# in float32. One-logit (sigmoid) problems 0.85-2.2x and 3-6x: scipy's loop is tighter,
# and they keep its products.


def fused_sparse(X: NDArray, k: int) -> bool:
    """True when a CSR X with K' = `k` outputs takes the fused sparse kernels: a softmax
    (K' > 1).

    Examples
    --------
    >>> from scipy.sparse import csr_matrix
    >>> fused_sparse(csr_matrix((3, 2000)), 20), fused_sparse(csr_matrix((3, 2000)), 1)
    (True, False)
    """
    return is_sparse(X) and k > 1


def block_rows(n_outputs: int, itemsize: int) -> int:
    """Rows per block so that a block's logits take at most 32 MiB (and at least 1024 rows).

    Examples
    --------
    >>> block_rows(10, 8)
    419430
    """
    return max(1024, _BLOCK_BYTES // max(1, n_outputs * itemsize))


def linear_forward(X: NDArray, W: NDArray, out: NDArray) -> NDArray:
    """``out = X @ W`` (n, K'); with one column, the numba matrix-vector kernel.

    .. math:: z_{ic} = \\sum_j x_{ij} W_{jc}

    Examples
    --------
    >>> import numpy as np
    >>> X, W = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5], [-1.0]])
    >>> linear_forward(X, W, np.empty((2, 1)))
    array([[-1.5],
           [-2.5]])
    """
    if is_sparse(X):
        out[...] = X @ W
    elif W.shape[1] == 1:
        _kernels.matvec(X, np.ascontiguousarray(W[:, 0]), out[:, 0])
    else:
        np.matmul(X, W, out=out)
    return out


def column_sums(G: NDArray) -> NDArray:
    """sum_i G_i (K'), by BLAS in G's dtype like X.T @ G beside it: numpy's float64
    accumulation of a float32 array converts element by element (200,000 x 10: 2.6 ms
    against 0.4 ms).

    Examples
    --------
    >>> import numpy as np
    >>> column_sums(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([4., 6.])
    """
    return np.ones(G.shape[0], G.dtype) @ G


def linear_backward(X: NDArray, G: NDArray, acc: NDArray) -> None:
    """``acc += X.T @ G`` into a float64 (d, K') array; with one column, the numba kernel
    (float64 totals over fixed row slices).

    .. math:: \\frac{\\partial L}{\\partial W_{jc}} = \\sum_i x_{ij} G_{ic}

    Examples
    --------
    >>> import numpy as np
    >>> acc = np.zeros((2, 1))
    >>> linear_backward(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0], [-1.0]]), acc)
    >>> acc
    array([[-2.],
           [-2.]])
    """
    if is_sparse(X):
        # X^T of a CSR matrix is the CSC matrix of the same arrays (no copy)
        acc += X.T @ G
    elif G.shape[1] == 1:
        acc[:, 0] += _kernels.rmatvec(X, np.ascontiguousarray(G[:, 0]))
    else:
        acc += X.T @ G


def row_block(X: NDArray, start: int, stop: int) -> NDArray:
    """Rows ``start:stop`` of X: a NumPy view, or for a CSR matrix one that shares X's
    values and column indices (scipy's slicing would copy them), X itself for all rows.

    Examples
    --------
    >>> from scipy.sparse import csr_matrix
    >>> row_block(csr_matrix(np.eye(3)), 1, 3).toarray()
    array([[0., 1., 0.],
           [0., 0., 1.]])
    """
    if not is_sparse(X):
        return X[start:stop]
    if start == 0 and stop == X.shape[0]:
        return X
    lo, hi = int(X.indptr[start]), int(X.indptr[stop])
    return type(X)(
        (X.data[lo:hi], X.indices[lo:hi], X.indptr[start : stop + 1] - lo),
        shape=(stop - start, X.shape[1]),
        copy=False,
    )


def rows_loss_grad(
    X: NDArray,
    y: NDArray,
    sw: NDArray | None,
    W: NDArray,
    b: NDArray,
    *,
    link: Link,
    row_weight: float,
    need_grad: bool = True,
    fit_intercept: bool = True,
    block: int | None = None,
    curvature: NDArray | None = None,
) -> tuple[float, NDArray, NDArray]:
    """``(L, dL/dW, dL/db)`` of the rows of `X` (float64; the gradient zero without `need_grad`).

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
        C-contiguous rows in the compute dtype.
    y : ndarray of shape (n,)
        int64 labels (softmax) or 0/1 targets in X's dtype (sigmoid).
    sw : ndarray of shape (n,) in X's dtype, or None
        Row weights s_i; None gives every row the weight `row_weight`.
    W, b : ndarray of shape (n_features, K') and (K'), in X's dtype
    link : {"softmax", "sigmoid"}
    row_weight : float
        Weight of a row when `sw` is None: 1/n for a mean, 1 for a sum.
    need_grad : bool
        False computes the loss only.
    fit_intercept : bool
        False leaves ``dL/db`` at zero.
    block : int or None
        Rows per block (default :func:`block_rows`).
    curvature : ndarray of shape (n, K') or None
        When given, filled with what the Hessian-vector product needs (see
        :func:`rows_hessp`): the probabilities (softmax) or ``s_i p_i (1 - p_i)`` (sigmoid).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> loss, gW, gb = rows_loss_grad(X, np.array([0, 1]), None, np.zeros((2, 2)),
    ...                               np.zeros(2), link="softmax", row_weight=1.0)
    >>> round(loss, 6), gW, gb            # 2 log 2; G = softmax(0) - onehot
    (1.386294, array([[ 0.5, -0.5],
           [-0.5,  0.5]]), array([0., 0.]))
    """
    n, k = X.shape[0], W.shape[1]
    gW = np.zeros((X.shape[1], k), dtype=np.float64)
    gb = np.zeros(k, dtype=np.float64)
    if link == "sigmoid" and curvature is None and not is_sparse(X):
        # binary logistic regression: loss and gradient in one pass over X
        fused = _kernels.logistic_loss_grad(
            X, y, sw, np.ascontiguousarray(W[:, 0]), float(b[0]), row_weight, need_grad
        )
        if fused is not None:
            loss, gw1, gb1 = fused
            if need_grad:
                gW[:, 0] = gw1
                gb[0] = gb1
            return loss, gW, gb
    if fused_sparse(X, k):
        # the fused CSR kernel; None: the unfused path below (see the module's docstring)
        fused = _kernels.csr_loss_grad(
            X.data, X.indices, X.indptr, W, b, y, sw, link=link, row_weight=row_weight,
            out_gradW=gW, out_gradb=gb, need_grad=need_grad, fit_intercept=fit_intercept,
            curvature=curvature,
        )  # fmt: skip
        if fused is not None:
            return fused, gW, gb
    step = block_rows(k, X.dtype.itemsize) if block is None else block
    Z = np.empty((min(step, n), k), dtype=X.dtype)
    loss = 0.0
    for start in range(0, n, step):
        stop = min(start + step, n)
        loss += block_loss_grad(
            row_block(X, start, stop),
            y[start:stop],
            None if sw is None else sw[start:stop],
            W,
            b,
            Z[: stop - start],
            link=link,
            row_weight=row_weight,
            need_grad=need_grad,
            fit_intercept=fit_intercept,
            gW=gW,
            gb=gb,
            curvature=None if curvature is None else curvature[start:stop],
        )
    return loss, gW, gb


def block_loss_grad(
    Xb: NDArray,
    yb: NDArray,
    swb: NDArray | None,
    W: NDArray,
    b: NDArray,
    Zb: NDArray,
    *,
    link: Link,
    row_weight: float,
    need_grad: bool,
    fit_intercept: bool,
    gW: NDArray,
    gb: NDArray,
    curvature: NDArray | None = None,
) -> float:
    """One block of :func:`rows_loss_grad`: returns its loss, adds its gradient to `gW`, `gb`.

    `Zb` (len(Xb), K') is scratch space for the logits and their gradient.
    """
    linear_forward(Xb, W, Zb)
    Zb += b
    keep = curvature is not None
    # the kernel writes dloss/dz over Zb; with scale 1 it leaves p - onehot there
    # (which the Hessian needs) and the weights are applied afterwards
    g_out = Zb if need_grad else None
    scale = 1.0 if (swb is not None or keep) else row_weight
    reduced = False  # True when the kernel returns partial sums of scale * loss
    if link == "softmax":
        main, _ = _kernels.ce_labels(Zb, yb, scale=scale, grad_out=g_out)
        if keep:
            # p = (p - onehot) + onehot
            np.copyto(curvature, Zb)
            curvature[np.arange(Zb.shape[0]), yb] += 1.0
    else:
        zb = Zb.reshape(-1)
        reduced = swb is None and not keep
        main = _kernels.bce_logits(
            zb, yb, scale=scale, grad_out=zb if need_grad else None, reduce=reduced
        )
        if keep:
            # sigmoid'(z) = p (1 - p) with p = g + y and 1 - p = (1 - y) - g, both exact
            g = Zb[:, 0]
            d = (g + yb) * ((1.0 - yb) - g)
            curvature[:, 0] = d * swb if swb is not None else d * row_weight
    if swb is not None:
        loss = float(main @ swb)
    else:
        loss = float(main.sum()) * (1.0 if reduced else row_weight)
    if not need_grad:
        return loss
    if swb is not None:
        Zb *= swb[:, None]
    elif keep:
        Zb *= row_weight
    # dL/dW = X^T G, dL/db = sum_i G_i
    linear_backward(Xb, Zb, gW)
    if fit_intercept:
        gb += column_sums(Zb)
    return loss


def rows_hessp(
    X: NDArray,
    V: NDArray,
    vb: NDArray,
    curvature: NDArray,
    sw: NDArray | None,
    *,
    link: Link,
    row_weight: float,
    fit_intercept: bool = True,
    block: int | None = None,
) -> tuple[NDArray, NDArray]:
    """The data term's Hessian at the point of `curvature`, times the direction (V, vb).

    Per row, with u = x V + v_b: softmax ``T = s (p * u - p (p . u))`` (the softmax
    Jacobian is diag(p) - p p^T, and `curvature` holds p); sigmoid ``T = d u`` (with
    `curvature` holding d = s p (1 - p)). Returns ``(X^T T, sum_rows T)`` in float64.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0], [2.0]])
    >>> d = np.array([[0.25], [0.25]])            # p = 1/2, weight 1
    >>> rows_hessp(X, np.array([[1.0]]), np.zeros(1), d, None, link="sigmoid",
    ...            row_weight=1.0)                # sum_i d_i x_i x_i, sum_i d_i x_i
    (array([[1.25]]), array([0.75]))
    """
    n, k = X.shape[0], V.shape[1]
    if fused_sparse(X, k):
        fused = _kernels.csr_hessp(
            X.data, X.indices, X.indptr, V, vb if fit_intercept else np.zeros_like(vb),
            curvature, sw, link=link, row_weight=row_weight,
        )  # fmt: skip
        if fused is not None:
            out, ob = fused
            return out, (ob if fit_intercept else np.zeros(k))
    out = np.zeros((X.shape[1], k), dtype=np.float64)
    ob = np.zeros(k, dtype=np.float64)
    step = block_rows(k, X.dtype.itemsize) if block is None else block
    for start in range(0, n, step):
        stop = min(start + step, n)
        Xb = row_block(X, start, stop)
        U = linear_forward(Xb, V, np.empty((stop - start, k), X.dtype))
        if fit_intercept:
            U += vb
        Pb = curvature[start:stop]
        if link == "softmax":
            T = Pb * U
            T -= Pb * T.sum(axis=1, keepdims=True)
            if sw is not None:
                T *= sw[start:stop, None]
            elif row_weight != 1.0:
                T *= row_weight
        else:
            T = Pb * U
        linear_backward(Xb, T, out)
        if fit_intercept:
            ob += T.sum(axis=0, dtype=np.float64)
    return out, ob
