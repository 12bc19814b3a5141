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
statsmodels' ``MNLogit`` flattens ``params`` in Fortran order. Each block of rows is
copied to float64 once; nothing of size n x n (nor n x q for q > d) outlives a block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .._stable import log_softmax

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


def block_log_probs(Z: NDArray, B: NDArray) -> NDArray:
    """log p of shape (m, J + 1): log-softmax of ``[0, Z B]``."""
    eta = Z @ B
    return log_softmax(np.concatenate([np.zeros((eta.shape[0], 1)), eta], axis=1), axis=1)


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
    """
    n = X.shape[0]
    d, J = B.shape
    q = d * J
    H = np.zeros((q, q))
    M = np.zeros((q, q)) if meat else None
    S = np.zeros((n_groups, q)) if groups is not None else None
    score = np.zeros(q)
    llf = 0.0
    dens_sum = 0.0
    dens_grad = np.zeros(d) if margins else None
    w_total = 0.0
    max_own = -np.inf
    rows = max(1, _BLOCK_ENTRIES // max(q, 1))  # U and the cluster scores hold m x q
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        Z = design_block(X, start, stop, fit_intercept)
        yb = y[start:stop]
        w = np.ones(stop - start) if sample_weight is None else sample_weight[start:stop]
        logp = block_log_probs(Z, B)
        own = logp[np.arange(stop - start), yb]
        llf += float(w @ own)
        max_own = max(max_own, float(own.max()))
        P = np.exp(logp[:, 1:])
        R = -P
        pos = np.flatnonzero(yb > 0)
        # r_ij = 1{y_i = j + 1} - p_ij; 1 - p as -expm1(log p), exact where p is near 1
        R[pos, yb[pos] - 1] = -np.expm1(logp[pos, yb[pos]])
        for j in range(J):
            score[j * d : (j + 1) * d] += Z.T @ (w * R[:, j])
        # Every sum is written as A^T A, which NumPy hands to BLAS syrk (many times faster
        # for a tall, thin A than a general product with a transposed operand), with
        # weights computed without cancellation (1 - p as -expm1(log p)):
        #   H_(j,j) = S^T S,  S_i = sqrt(w_i p_ij (1 - p_ij)) z_i
        #   H_(j,l) = -S^T S, S_i = sqrt(w_i p_ij p_il) z_i          (j != l)
        #   M = U^T U,  U_i = sqrt(w_i) r_i (x) z_i
        for j in range(J):
            for l in range(j, J):
                if j == l:
                    c = w * np.exp(logp[:, j + 1]) * -np.expm1(logp[:, j + 1])
                else:
                    c = w * np.exp(logp[:, j + 1] + logp[:, l + 1])
                Sjl = np.sqrt(c)[:, None] * Z
                block = Sjl.T @ Sjl
                H[j * d : (j + 1) * d, l * d : (l + 1) * d] += block if j == l else -block
                if j != l:
                    H[l * d : (l + 1) * d, j * d : (j + 1) * d] -= block
        sw_rows = np.sqrt(w)
        if M is not None:
            U = _kron_rows(sw_rows[:, None] * R, Z)
            M += U.T @ U
        if S is not None:
            # per-row scores r_i (x) z_i, equation-major, then summed within clusters
            rowscores = _kron_rows(w[:, None] * R, Z)
            np.add.at(S, groups[start:stop], rowscores)
        if margins:
            dens = np.exp(logp[:, 0] + logp[:, 1])  # d p / d eta = p (1 - p)
            dens_sum += float(w @ dens)
            # d^2 p / d eta^2 = p (1 - p) (1 - 2p), and 1 - 2p = p_0 - p_1
            dens_grad += Z.T @ (w * dens * (np.exp(logp[:, 0]) - P[:, 0]))
            w_total += float(w.sum())
    info = Information(llf, score, H, M, S, float(np.exp(max_own)))
    if margins:
        info.density_mean = dens_sum / w_total
        info.density_grad = dens_grad / w_total
    return info


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
        logp = block_log_probs(design_block(X, start, stop, fit_intercept), B)
        w = 1.0 if sample_weight is None else sample_weight[start:stop]
        total += float(np.sum(w * logp[np.arange(stop - start), y[start:stop]]))
    return total
