"""A linear model's full Hessian, accumulated over blocks of rows in float64.

The one blocked kernel of the ``"newton-cholesky"`` solver (through
:meth:`~logloss.objectives.LinearObjective.loss_grad_hess`) and of the observed information of
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

Intercept = Literal["first", "last"] | None

# Rows per block of a Hessian pass: the float64 scaled copy of a block takes about 16 MiB
# (large enough that BLAS's fixed cost per call is small, small enough to stay near cache).
GRAM_BYTES = 16 << 20
# Rows of the scaled copy handed to one syrk: about 1 MiB, so that it is still in cache
# when the syrk reads it back
_SCRATCH_BYTES = 1 << 20


def scratch_rows(n_columns: int, nbytes: int = _SCRATCH_BYTES) -> int:
    """Rows of a float64 block of `n_columns` columns that fit in `nbytes` (1 MiB: the
    scaled copy handed to one syrk; :data:`GRAM_BYTES`: the rows of a Hessian pass).

    Examples
    --------
    >>> scratch_rows(51), scratch_rows(51, GRAM_BYTES)
    (2570, 41120)
    """
    return max(64, nbytes // (8 * max(1, n_columns)))


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
