"""One blocked pass over the rows: log-likelihood, score, observed information and the
robust "meat", for a logit model written relative to its first class.

With ``J`` equations (``J = 1`` for a binary model), design row ``z_i`` (a leading 1 for
the intercept) and parameters ``B`` of shape ``(d, J)``, the probabilities are

    p_ij = exp(z_i b_j) / (1 + sum_l exp(z_i b_l)),   class 0 has logit 0,

and, with frequency weights ``w_i`` (a row of weight 2 counts as the row twice),

    llf      = sum_i w_i log p_{i, y_i}
    score    = sum_i w_i r_ij z_i,          r_ij = 1{y_i = j + 1} - p_ij
    H_(j,l)  = sum_i w_i (d_jl p_ij - p_ij p_il) z_i z_i^T   (observed = expected information)
    M_(j,l)  = sum_i w_i r_ij r_il z_i z_i^T                 (HC0 meat: sum of score products)
    S_g      = sum_{i in g} w_i r_i (x) z_i                  (cluster score sums)

The parameter vector is equation-major (all of equation 0's coefficients first), as
statsmodels' ``MNLogit`` flattens ``params`` in Fortran order. The information comes
from the kernel the ``"newton-cholesky"`` solver runs on (:mod:`logloss.objectives.hessian`:
per block of rows and pair of equations, one syrk on a float64 scaled copy of the block);
nothing of size n x n (nor n x q for q > d) outlives a block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .._stable import log_sigmoid, log_softmax
from ..objectives.hessian import add_class_grams, add_weighted_gram, scratch_rows

# rows per block: about 2**21 float64 entries of the design
_BLOCK_ENTRIES = 1 << 21


@dataclass
class Information:
    """The sums of one pass (all float64)."""

    llf: float
    score: NDArray  # (q,)
    hessian: NDArray  # (q, q): the observed information, positive semi-definite
    meat: NDArray | None  # (q, q) or None
    cluster_scores: NDArray | None  # (n_groups, q) or None
    max_own_prob: float = 0.0  # largest fitted probability of a row's own class
    density_mean: float | None = None  # binary: weighted mean of p (1 - p)
    density_grad: NDArray | None = None  # binary: weighted mean of p (1 - p) (1 - 2p) z


def design_block(X: NDArray, start: int, stop: int, fit_intercept: bool) -> NDArray:
    """Rows ``start:stop`` of ``[1, X]`` (or of ``X``) as a fresh float64 array."""
    block = X[start:stop]
    if not fit_intercept:
        return np.array(block, dtype=np.float64)
    Z = np.empty((stop - start, block.shape[1] + 1))
    Z[:, 0] = 1.0
    Z[:, 1:] = block
    return Z


def information_pass(
    X: NDArray,
    y: NDArray,
    B: NDArray,
    sample_weight: NDArray | None,
    fit_intercept: bool,
    *,
    meat: bool = False,
    groups: NDArray | None = None,
    n_groups: int = 0,
    margins: bool = False,
) -> Information:
    """Accumulate the sums of the module docstring over blocks of rows of `X`.

    `y` holds class indices (0 is the reference class); `groups` integer codes in
    ``[0, n_groups)`` when cluster sums are wanted; `margins` (binary only) also
    accumulates what the average marginal effects and their delta-method Jacobian need.
    The information is the solver's blocked kernel
    (:func:`logloss.objectives.hessian.add_class_grams`: one syrk per pair of equations on
    a float64 scaled copy of the block); the design with its ones column is built only for
    the robust and cluster sums.
    """
    n = X.shape[0]
    d, J = B.shape
    q = d * J
    intercept = "first" if fit_intercept else None
    G = np.zeros((J, J, d, d))  # the information's blocks per pair of equations
    M = np.zeros((q, q)) if meat else None
    S = np.zeros((n_groups, q)) if groups is not None else None
    score = np.zeros((J, d))
    llf = 0.0
    dens_sum = 0.0
    dens_grad = np.zeros(d) if margins else None
    w_total = 0.0
    max_own = -np.inf
    rows = max(1, _BLOCK_ENTRIES // max(q, 1))  # U and the cluster scores hold m x q
    scratch = np.empty((min(scratch_rows(d), n), d))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        Xb = X[start:stop]
        yb = y[start:stop]
        w = np.ones(stop - start) if sample_weight is None else sample_weight[start:stop]
        logp = _log_probs(Xb, B, fit_intercept)
        own = logp[np.arange(stop - start), yb]
        llf += float(w @ own)
        max_own = max(max_own, float(own.max()))
        P = np.exp(logp[:, 1:])
        # 1 - p as -expm1(log p): exact where p is near 1
        Q = -np.expm1(logp[:, 1:])
        R = -P
        pos = np.flatnonzero(yb > 0)
        # r_ij = 1{y_i = j + 1} - p_ij
        R[pos, yb[pos] - 1] = Q[pos, yb[pos] - 1]
        _add_design_product(score, Xb, w[:, None] * R, fit_intercept)
        #   H_(j,j) = sum_i w_i p_ij (1 - p_ij) z_i z_i^T,  H_(j,l) = -sum_i w_i p_ij p_il z_i z_i^T
        add_class_grams(G, Xb, P, w, intercept=intercept, one_minus=Q, scratch=scratch)
        if M is not None and J == 1:
            # M = sum_i w_i r_i^2 z_i z_i^T: a weighted Gram matrix too
            add_weighted_gram(M, Xb, w * R[:, 0] ** 2, intercept=intercept, scratch=scratch)
        elif M is not None or S is not None:
            Z = design_block(X, start, stop, fit_intercept)
            if M is not None:
                # M = U^T U,  U_i = sqrt(w_i) r_i (x) z_i (one syrk)
                U = _kron_rows(np.sqrt(w)[:, None] * R, Z)
                M += U.T @ U
            if S is not None:
                # per-row scores r_i (x) z_i, equation-major, then summed within clusters
                np.add.at(S, groups[start:stop], _kron_rows(w[:, None] * R, Z))
        if margins:
            dens = np.exp(logp[:, 0] + logp[:, 1])  # d p / d eta = p (1 - p)
            dens_sum += float(w @ dens)
            # d^2 p / d eta^2 = p (1 - p) (1 - 2p), and 1 - 2p = p_0 - p_1
            v = w * dens * (np.exp(logp[:, 0]) - P[:, 0])
            _add_design_product(dens_grad[None, :], Xb, v[:, None], fit_intercept)
            w_total += float(w.sum())
    H = np.ascontiguousarray(G.transpose(0, 2, 1, 3)).reshape(q, q)
    info = Information(llf, score.reshape(-1), H, M, S, float(np.exp(max_own)))
    if margins:
        info.density_mean = dens_sum / w_total
        info.density_grad = dens_grad / w_total
    return info


def _log_probs(Xb: NDArray, B: NDArray, fit_intercept: bool) -> NDArray:
    """log p of shape (m, J + 1) from the rows of X: log-softmax of ``[0, [1, X] B]``."""
    eta = Xb @ B[1:] + B[0] if fit_intercept else Xb @ B
    if eta.shape[1] == 1:
        # two classes: log p_0 = log sigmoid(-eta), log p_1 = log sigmoid(eta), column-wise
        # (a strided log-softmax over pairs costs several times more)
        out = np.empty((eta.shape[0], 2))
        out[:, 0] = log_sigmoid(-eta[:, 0])
        out[:, 1] = log_sigmoid(eta[:, 0])
        return out
    return log_softmax(np.concatenate([np.zeros((eta.shape[0], 1)), eta], axis=1), axis=1)


def _add_design_product(out: NDArray, Xb: NDArray, V: NDArray, fit_intercept: bool) -> None:
    """``out[j] += Z^T V[:, j]`` for Z = [1, Xb] (or Xb), without forming Z: (J, d) += ..."""
    if fit_intercept:
        out[:, 0] += np.ones(V.shape[0]) @ V  # BLAS: a column sum of a strided V is slow
        out[:, 1:] += (Xb.T @ V).T
    else:
        out += (Xb.T @ V).T


def _kron_rows(a: NDArray, Z: NDArray) -> NDArray:
    """Row-wise Kronecker products ``a_i (x) z_i``: shape (m, J d), equation-major."""
    return (a[:, :, None] * Z[:, None, :]).reshape(Z.shape[0], -1)


def loglike(X: NDArray, y: NDArray, B: NDArray, sample_weight, fit_intercept: bool) -> float:
    """Only the log-likelihood, blocked the same way."""
    d = B.shape[0]
    rows = max(1, _BLOCK_ENTRIES // max(d, 1))
    total = 0.0
    for start in range(0, X.shape[0], rows):
        stop = min(X.shape[0], start + rows)
        logp = _log_probs(X[start:stop], B, fit_intercept)
        w = 1.0 if sample_weight is None else sample_weight[start:stop]
        total += float(np.sum(w * logp[np.arange(stop - start), y[start:stop]]))
    return total
