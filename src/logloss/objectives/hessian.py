"""A linear model's full Hessian, accumulated over blocks of rows in float64.

The one blocked kernel of the ``"newton-cholesky"`` solver (through
:meth:`LinearObjective.loss_grad_hess`) and of the observed information of
:func:`logloss.stats.infer`. For design rows ``z_i`` (the features, with a 1 for the
intercept) and non-negative row weights ``c_i``, the core sum is the weighted Gram matrix

.. math:: G = \\sum_i c_i z_i z_i^T = S^T S, \\qquad S_i = \\sqrt{c_i} \\, z_i,

computed per block as a symmetric rank-k update (NumPy hands ``S.T @ S`` to BLAS syrk)
on a float64 scaled copy of the block (``S`` is written straight from X, whatever X's
dtype; the ones column of the intercept goes first or last): nothing of size n x n, nor
a float64 copy of all of X, is ever formed. A CSR block gives sparse products instead.

For a softmax with probabilities ``p_ij`` the Hessian of ``sum_i s_i l_i`` in the class
pair (j, l) is

.. math:: H_{(j, l)} = \\sum_i s_i (\\delta_{jl} p_{ij} - p_{ij} p_{il}) \\, z_i z_i^T,

weighted Gram matrices with the non-negative weights ``s p_j p_l`` (j != l, subtracted)
and ``s p_j (1 - p_j)`` (j = l), each one a syrk. Over all K classes the rows of blocks
sum to zero, so the diagonal blocks are sums of the off-diagonal ones: ``K (K - 1) / 2``
products; relative to a reference class (statsmodels' layout), ``J (J + 1) / 2``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from .._array import is_sparse
from ._rows import Link
from .linear_block import block_loss_grad, row_block

Intercept = Literal["first", "last"] | None

# Rows per block of a Hessian pass: the float64 scaled copy of a block takes about 16 MiB
# (large enough that BLAS's fixed cost per call is small, small enough to stay near cache).
_GRAM_BYTES = 16 << 20
# Rows of the scaled copy handed to one syrk: about 1 MiB, so that it is still in cache
# when the syrk reads it back
_SCRATCH_BYTES = 1 << 20


def scratch_rows(n_columns: int) -> int:
    """Rows of a scaled copy of `n_columns` float64 columns that fit in about 1 MiB.

    Examples
    --------
    >>> scratch_rows(51)
    2570
    """
    return max(64, _SCRATCH_BYTES // (8 * max(1, n_columns)))


def gram_rows(n_columns: int) -> int:
    """Rows per block so that a float64 block of `n_columns` columns takes about 16 MiB.

    Examples
    --------
    >>> gram_rows(51)
    41120
    """
    return max(256, _GRAM_BYTES // (8 * max(1, n_columns)))


def add_weighted_gram(
    out: NDArray,
    Xb: NDArray,
    c: NDArray,
    *,
    intercept: Intercept,
    scratch: NDArray | None = None,
    sign: float = 1.0,
) -> None:
    """``out += sign * Z^T diag(c) Z`` with Z = Xb and a ones column (first, last or none).

    .. math:: G_{jl} = \\sum_i c_i z_{ij} z_{il}, \\qquad c_i \\ge 0

    Parameters
    ----------
    out : ndarray of shape (d', d'), float64
        Accumulator; d' = n_features (+ 1 with an intercept).
    Xb : ndarray or CSR matrix of shape (m, n_features)
        A block of rows in any float dtype.
    c : ndarray of shape (m,)
        Non-negative row weights.
    intercept : {"first", "last", None}
        Where the ones column of the intercept sits in Z.
    scratch : ndarray of shape (>= min(m, scratch_rows(d')), d'), float64, optional
        Space for the scaled copy (dense Xb only), reused across calls.
    sign : float
        +1 or -1.

    Examples
    --------
    >>> import numpy as np
    >>> out = np.zeros((2, 2))
    >>> add_weighted_gram(out, np.array([[1.0], [2.0]]), np.array([1.0, 0.5]),
    ...                   intercept="last")
    >>> out                     # [[sum c x^2, sum c x], [sum c x, sum c]]
    array([[3. , 2. ],
           [2. , 1.5]])
    """
    m, d = Xb.shape
    c = np.asarray(c, dtype=np.float64)
    if is_sparse(Xb):
        # X^T diag(c) X as sparse products; the intercept's row and column are X^T c, sum c
        core = np.asarray((Xb.T @ Xb.multiply(c[:, None]).tocsr()).toarray(), np.float64)
        if intercept is None:
            out += sign * core
            return
        xc = np.asarray(Xb.T @ c, dtype=np.float64).reshape(-1)
        f = slice(0, d) if intercept == "last" else slice(1, d + 1)
        k = d if intercept == "last" else 0
        out[f, f] += sign * core
        out[f, k] += sign * xc
        out[k, f] += sign * xc
        out[k, k] += sign * float(c.sum())
        return
    width = d + (intercept is not None)
    rows = scratch_rows(width)
    if scratch is None or scratch.shape[0] < min(rows, m) or scratch.shape[1] != width:
        scratch = np.empty((min(rows, m), width))
    root = np.sqrt(c)
    acc = np.zeros((width, width))
    # sub-blocks whose scaled copy stays in cache between its writing and the syrk
    # (200,000 x 50: 0.050 s against 0.067 s for 16 MiB copies, one thread)
    for start in range(0, m, rows):
        stop = min(start + rows, m)
        S = scratch[: stop - start]
        r = root[start:stop, None]
        if intercept is None:
            np.multiply(Xb[start:stop], r, out=S)
        elif intercept == "last":
            np.multiply(Xb[start:stop], r, out=S[:, :d])
            S[:, d] = r[:, 0]
        else:
            S[:, 0] = r[:, 0]
            np.multiply(Xb[start:stop], r, out=S[:, 1:])
        # S^T S: one BLAS syrk (NumPy recognises a product with its own transpose)
        acc += S.T @ S
    if sign > 0:
        out += acc
    else:
        out -= acc


def add_class_grams(
    out: NDArray,
    Xb: NDArray,
    P: NDArray,
    s: NDArray | float,
    *,
    intercept: Intercept,
    one_minus: NDArray | None = None,
    scratch: NDArray | None = None,
    complete: bool = False,
) -> None:
    """``out[j, l] += sum_i s_i (delta_jl p_ij - p_ij p_il) z_i z_i^T`` for all class pairs.

    Parameters
    ----------
    out : ndarray of shape (J, J, d', d'), float64
        The Hessian's class-pair blocks (both halves are written).
    Xb : ndarray or CSR matrix of shape (m, n_features)
    P : ndarray of shape (m, J)
        The probabilities of the J classes of the parametrisation.
    s : ndarray of shape (m,) or float
        Row weights.
    intercept : {"first", "last", None}
    one_minus : ndarray of shape (m, J), optional
        ``1 - P`` computed without cancellation (e.g. ``-expm1(log p)``); default ``1 - P``.
    scratch : ndarray, optional
        See :func:`add_weighted_gram`.
    complete : bool
        The J columns of P are all the classes (each row sums to 1): the diagonal
        blocks then come from the off-diagonal ones (`one_minus` is not used).

    Examples
    --------
    >>> import numpy as np
    >>> out = np.zeros((2, 2, 1, 1))
    >>> add_class_grams(out, np.array([[2.0]]), np.array([[0.25, 0.75]]), 1.0, intercept=None)
    >>> out[:, :, 0, 0]         # 4 (diag(p) - p p^T)
    array([[ 0.75, -0.75],
           [-0.75,  0.75]])
    >>> full = np.zeros((2, 2, 1, 1))
    >>> add_class_grams(full, np.array([[2.0]]), np.array([[0.25, 0.75]]), 1.0,
    ...                 intercept=None, complete=True)
    >>> bool(np.array_equal(full, out))
    True
    """
    J = P.shape[1]
    P64 = np.asarray(P, dtype=np.float64)
    s = np.broadcast_to(np.asarray(s, dtype=np.float64), (P.shape[0],))
    if complete:
        # the columns are all the classes: sum_l (delta_jl p_j - p_j p_l) = p_j - p_j = 0,
        # so each diagonal block is the sum of its row's off-diagonal Gram matrices
        # (J (J - 1) / 2 products, and 1 - p_j as sum_{l != j} p_l, without cancellation)
        dp = out.shape[-1]
        for j in range(J):
            for l in range(j + 1, J):
                t = np.zeros((dp, dp))
                add_weighted_gram(t, Xb, s * P64[:, j] * P64[:, l], intercept=intercept,
                                  scratch=scratch)  # fmt: skip
                out[j, l] -= t
                out[j, j] += t
                out[l, l] += t
    else:
        Q = 1.0 - P64 if one_minus is None else one_minus
        for j in range(J):
            add_weighted_gram(
                out[j, j], Xb, s * P64[:, j] * Q[:, j], intercept=intercept, scratch=scratch
            )
            for l in range(j + 1, J):
                add_weighted_gram(
                    out[j, l], Xb, s * P64[:, j] * P64[:, l], intercept=intercept,
                    scratch=scratch, sign=-1.0,
                )  # fmt: skip
    for j in range(J):
        for l in range(j + 1, J):
            out[l, j] = out[j, l].T


def rows_loss_grad_hess(
    X: NDArray,
    y: NDArray,
    sw: NDArray | None,
    W: NDArray,
    b: NDArray,
    *,
    link: Link,
    row_weight: float,
    fit_intercept: bool,
) -> tuple[float, NDArray, NDArray, NDArray]:
    """``(L, dL/dW, dL/db, H)`` of the rows of X in one blocked pass (float64).

    ``H`` is the Hessian of ``L = sum_i s_i l_i`` in the parameter layout of
    :func:`~logloss.objectives.linear.pack_linear` (W row-major, then b): entry
    ``(j K' + c, l K' + e)`` couples feature j of class c with feature l of class e, the
    intercept being feature ``n_features``. Per block: the logits, loss and gradient from
    :func:`~logloss.objectives.linear_block.block_loss_grad`, then the weighted Gram
    matrices of :func:`add_class_grams` (sigmoid: one, with weights ``s p (1 - p)``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0], [-1.0]])
    >>> L, gW, gb, H = rows_loss_grad_hess(X, np.array([1.0, 0.0]), None, np.zeros((1, 1)),
    ...                                    np.zeros(1), link="sigmoid", row_weight=1.0,
    ...                                    fit_intercept=True)
    >>> round(L, 6), gW.ravel(), H          # 2 log 2; H = sum p (1 - p) [x, 1][x, 1]^T
    (1.386294, array([-1.]), array([[0.5, 0. ],
           [0. , 0.5]]))
    """
    n, d = X.shape
    k = W.shape[1]
    dp = d + 1 if fit_intercept else d
    intercept: Intercept = "last" if fit_intercept else None
    step = gram_rows(dp)
    scratch = np.empty((min(scratch_rows(dp), n), dp))
    Z = np.empty((min(step, n), k), dtype=X.dtype)
    curv = np.empty((min(step, n), k), dtype=X.dtype)
    gW = np.zeros((d, k))
    gb = np.zeros(k)
    blocks = np.zeros((k, k, dp, dp))
    loss = 0.0
    for start in range(0, n, step):
        stop = min(start + step, n)
        Xb = row_block(X, start, stop)
        swb = None if sw is None else sw[start:stop]
        cb = curv[: stop - start]
        loss += block_loss_grad(
            Xb, y[start:stop], swb, W, b, Z[: stop - start], link=link,
            row_weight=row_weight, need_grad=True, fit_intercept=fit_intercept,
            gW=gW, gb=gb, curvature=cb,
        )  # fmt: skip
        if link == "sigmoid":
            # the curvature is already s_i p_i (1 - p_i)
            add_weighted_gram(blocks[0, 0], Xb, cb[:, 0], intercept=intercept, scratch=scratch)
        else:
            s = row_weight if swb is None else swb
            add_class_grams(blocks, Xb, cb, s, intercept=intercept, scratch=scratch, complete=True)
    # blocks[c, e, j, l] -> H[j K + c, l K + e]
    H = np.ascontiguousarray(blocks.transpose(2, 0, 3, 1)).reshape(dp * k, dp * k)
    return loss, gW, gb, H
