"""Firth's penalised log-likelihood of a binary logit model, in blocked passes over rows.

With design rows ``z_i = [x_i, 1]`` (the intercept column last, so the parameter vector
has :func:`~logloss.objectives.pack_linear`'s layout ``[w, b]``; no intercept column with
``fit_intercept=False``), frequency weights ``s_i``, ``p_i = sigmoid(z_i^T beta)`` and
labels ``y_i`` in {0, 1}:

.. math::

    l(\\beta) = \\sum_i s_i \\big( y_i \\log p_i + (1 - y_i) \\log (1 - p_i) \\big), \\qquad
    I(\\beta) = \\sum_i s_i p_i (1 - p_i) z_i z_i^T,

    l^*(\\beta) = l(\\beta) + \\tfrac12 \\log \\det I(\\beta), \\qquad
    U^*_j = \\sum_i \\big( s_i (y_i - p_i) + h_i (\\tfrac12 - p_i) \\big) z_{ij},

with ``h_i = s_i p_i (1 - p_i) z_i^T I^{-1} z_i`` the diagonal of the weighted hat matrix
(Firth, 1993; Heinze and Schemper, 2002). :meth:`FirthObjective.point` is one pass that
gives ``l``, ``I`` and its Cholesky factor (so ``l^*``); :meth:`FirthObjective.score_pass`
is one pass that gives ``U^*`` from the hat values, each ``h_i`` from the factor ``L`` of
``I`` as ``s_i p_i (1 - p_i) ||L^{-1} z_i||^2``, and logistf's augmented information
``sum_i (s_i + h_i) p_i (1 - p_i) z_i z_i^T`` (its Newton steps' matrix and ``vcov``).
Both accumulate in float64 over blocks of rows; nothing of size n x n is formed. A CSR X
gives ``I`` from scipy's sparse products, and its row blocks are made dense (m x d) only
for the hat values: fine for few columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._array import is_sparse
from .._stable import log_sigmoid
from .linear import pack_linear, unpack_linear

# rows per block: about 2**20 float64 entries of the design
_BLOCK_ENTRIES = 1 << 20
# smallest Cholesky pivot of I scaled to a unit diagonal: below it, I counts as singular
_MIN_PIVOT = 1e-7


class SingularInformationError(ValueError):
    """The information matrix ``Z^T W Z`` is singular: collinear (or constant) columns."""


@dataclass
class FirthPoint:
    """What one pass gives at ``theta``."""

    theta: NDArray
    loglik: float  # l(beta), the unpenalised weighted log-likelihood
    penalized: float  # l*(beta) = l + 1/2 log det I
    information: NDArray  # I(beta), (d, d)
    cholesky: NDArray  # lower factor of I


@dataclass
class FirthScore:
    """What the hat-value pass gives at a point."""

    score: NDArray  # U*, (d,)
    # logistf's augmented information sum_i (s_i + h_i) p_i (1 - p_i) z_i z_i^T: the
    # information of the data with each row's weight raised by its hat value, a close
    # approximation of -d^2 l* (the Newton steps' matrix and logistf's `vcov` inverse)
    augmented: NDArray
    hat: NDArray | None = None  # h, (n,) when asked for


class FirthObjective:
    """Firth's penalised log-likelihood of a binary logit model on `X` and 0/1 labels `y`.

    Has the attributes a linear estimator reads from an objective (``n_features``, ``k``,
    ``link``, ``n_params``, ``n_samples``, ``fit_intercept``, ``pack``, ``unpack``).

    Examples
    --------
    >>> import numpy as np
    >>> f = FirthObjective(np.array([[0.0], [0.0], [1.0], [1.0]]), np.array([0, 1, 1, 1]))
    >>> at = f.point(np.zeros(2))
    >>> round(at.loglik, 6), f.score_pass(at).score.round(6)
    (-2.772589, array([1., 1.]))
    """

    link = "sigmoid"
    k = 1

    def __init__(self, X: Any, y: NDArray, sample_weight: NDArray | None = None, *,
                 fit_intercept: bool = True) -> None:  # fmt: skip
        self.X = X
        self.sparse = is_sparse(X)
        self.y = np.asarray(y, dtype=np.float64)
        self.sw = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        self.fit_intercept = bool(fit_intercept)
        self.n_samples, self.n_features = X.shape
        self.n_params = self.n_features + self.fit_intercept
        self.rows = max(1, _BLOCK_ENTRIES // max(self.n_params, 1))

    def pack(self, W: NDArray, b: NDArray | None) -> NDArray:
        return pack_linear(W, b, 1, self.fit_intercept)

    def unpack(self, theta: NDArray) -> tuple[NDArray, NDArray]:
        return unpack_linear(theta, self.n_features, 1, self.fit_intercept, np.dtype(np.float64))

    # -- the blocks -------------------------------------------------------------------
    def _blocks(self):
        """``(Z, y, s)`` per block of rows: Z dense float64 ``[x_i, 1]``, s the weights."""
        for start in range(0, self.n_samples, self.rows):
            stop = min(self.n_samples, start + self.rows)
            part = self.X[start:stop]
            Z = np.empty((stop - start, self.n_params))
            Z[:, : self.n_features] = part.toarray() if self.sparse else part
            if self.fit_intercept:
                Z[:, -1] = 1.0
            s = np.ones(stop - start) if self.sw is None else self.sw[start:stop]
            yield Z, self.y[start:stop], s

    # -- the passes -------------------------------------------------------------------
    def point(self, theta: NDArray) -> FirthPoint:
        """``l``, ``I``, its Cholesky factor and ``l^*`` at `theta` (one pass).

        Raises :class:`SingularInformationError` when ``I`` is not positive definite.
        """
        theta = np.asarray(theta, dtype=np.float64)
        loglik, info = self._sparse_sums(theta) if self.sparse else self._dense_sums(theta)
        try:
            L = np.linalg.cholesky(info)
            # collinear columns leave a pivot at rounding level once I has a unit diagonal
            scaled = np.diag(L) / np.sqrt(np.maximum(np.diag(info), np.finfo(float).tiny))
            if not scaled.min() > _MIN_PIVOT:
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            raise SingularInformationError(
                "the information matrix Z^T W Z is singular: some columns of X are collinear "
                "or constant, or every fitted probability is 0 or 1, so Firth's penalty "
                "(log det) is undefined; drop the collinear columns"
            ) from None
        logdet = 2.0 * float(np.sum(np.log(np.diag(L))))
        if not np.isfinite(logdet):
            raise SingularInformationError("the information matrix Z^T W Z is singular")
        return FirthPoint(theta, loglik, loglik + 0.5 * logdet, info, L)

    @staticmethod
    def _row_terms(eta: NDArray, y: NDArray, s: NDArray) -> tuple[float, NDArray]:
        """``sum_i s_i log p(y_i)`` and ``v_i = s_i p_i (1 - p_i)``."""
        # log p = log_sigmoid(eta), log(1 - p) = log_sigmoid(-eta): exact in both tails
        lp, lq = log_sigmoid(eta), log_sigmoid(-eta)
        return float(s @ np.where(y > 0.5, lp, lq)), s * np.exp(lp + lq)

    def _dense_sums(self, theta: NDArray) -> tuple[float, NDArray]:
        loglik, info = 0.0, np.zeros((self.n_params, self.n_params))
        for Z, y, s in self._blocks():
            ll, v = self._row_terms(Z @ theta, y, s)
            loglik += ll
            S = np.sqrt(v)[:, None] * Z
            info += S.T @ S  # I = sum_i v_i z_i z_i^T as S^T S (BLAS syrk)
        return loglik, info

    def _sparse_sums(self, theta: NDArray) -> tuple[float, NDArray]:
        """The same sums from scipy's sparse products over all of X."""
        p = self.n_features
        eta = np.asarray(self.X @ theta[:p], dtype=np.float64).reshape(-1)
        if self.fit_intercept:
            eta = eta + theta[p]
        s = np.ones(self.n_samples) if self.sw is None else self.sw
        loglik, v = self._row_terms(eta, self.y, s)
        info = np.empty((self.n_params, self.n_params))
        Xv = self.X.multiply(v[:, None]).tocsr()
        info[:p, :p] = (self.X.T @ Xv).toarray()
        if self.fit_intercept:
            info[:p, p] = info[p, :p] = np.asarray(Xv.sum(axis=0)).reshape(-1)
            info[p, p] = v.sum()
        return loglik, 0.5 * (info + info.T)

    def score_pass(self, at: FirthPoint, hat: bool = False) -> FirthScore:
        """Firth's modified score ``U^*`` and logistf's augmented information at `at`
        (one pass); with `hat`, also the hat values ``h`` (n floats)."""
        from scipy.linalg import solve_triangular

        d = self.n_params
        U, A = np.zeros(d), np.zeros((d, d))
        hats = np.empty(self.n_samples) if hat else None
        start = 0
        for Z, y, s in self._blocks():
            eta = Z @ at.theta
            lp = log_sigmoid(eta)
            p, pq = np.exp(lp), np.exp(lp + log_sigmoid(-eta))  # p and p (1 - p)
            # h_i = s_i p_i (1 - p_i) z_i^T I^{-1} z_i = s_i p_i (1 - p_i) ||L^{-1} z_i||^2
            G = solve_triangular(at.cholesky, Z.T, lower=True, check_finite=False)
            h = s * pq * np.einsum("ij,ij->j", G, G)
            # d/dbeta 1/2 log det I = 1/2 tr(I^{-1} dI) = sum_i h_i (1/2 - p_i) z_i
            U += Z.T @ (s * (y - p) + h * (0.5 - p))
            S = np.sqrt((s + h) * pq)[:, None] * Z
            A += S.T @ S
            if hat:
                hats[start : start + Z.shape[0]] = h
            start += Z.shape[0]
        return FirthScore(U, A, hats)

    def penalized(self, theta: NDArray) -> float:
        """``l^*(theta)`` alone; ``-inf`` where ``I`` is singular (e.g. all p at 0 or 1)."""
        try:
            return self.point(theta).penalized
        except SingularInformationError:
            return -np.inf


__all__ = ["FirthObjective", "FirthPoint", "FirthScore", "SingularInformationError"]
