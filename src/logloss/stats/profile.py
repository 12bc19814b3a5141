"""Profile penalised-likelihood tests and intervals of a Firth model, as R's ``logistf``.

For Firth's penalised log-likelihood ``l^*`` (:mod:`logloss.objectives.firth`) with its
maximum at ``beta_hat``, and ``l^*_j(b)`` the maximum of ``l^*`` over the other
coefficients with ``beta_j = b`` held fixed (the penalty is always the full model's
``1/2 log det I``):

- the penalised likelihood-ratio test of ``beta_j = 0``:
  ``chi2_j = 2 (l^*(beta_hat) - l^*_j(0))`` against chi-squared(1);
- the profile interval at level ``1 - alpha``: the two ``b`` with
  ``2 (l^*(beta_hat) - l^*_j(b)) = chi2_{1, 1 - alpha}``, found by Brent's method on
  refits with ``beta_j = b`` (each warm-started from the last one), after stepping out
  from ``beta_hat_j`` in doubling multiples of its standard error to bracket the root;
- the model test (logistf's "likelihood ratio test"): every coefficient but the
  intercept held at 0.

Each refit is a run of :func:`logloss.solvers.firth.minimize_firth` (two passes over
the rows per Newton step), so the intervals cost tens of refits per coefficient.
Coordinates here are the inference's: intercept first.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..objectives.firth import FirthObjective, SingularInformationError
from ..solvers.firth import minimize_firth

# |U*| at which a refit counts as at its maximum (a sum over the rows)
REFIT_TOL = 1e-9
REFIT_MAX_ITER = 500
# bracketing: step out at most this many doublings of the standard error
_MAX_DOUBLINGS = 30


class FirthProfile:
    """Firth's penalised likelihood on the inference's rows, with restricted refits.

    Parameters
    ----------
    X, y, sample_weight, fit_intercept :
        The checked problem (``y`` as 0/1 class indices).
    start : ndarray of shape (d,)
        The model's coefficients, intercept first; ``beta_hat`` is polished from them.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.array([[0.0], [0.0], [1.0], [1.0]]), np.array([0, 0, 1, 1])
    >>> prof = FirthProfile(X, y, None, True, np.zeros(2))
    >>> prof.params.round(4), bool(np.all(np.isfinite(prof.conf_int(0.05))))
    (array([-1.6094,  3.2189]), True)
    """

    def __init__(self, X: Any, y: NDArray, sample_weight: NDArray | None, fit_intercept: bool,
                 start: NDArray) -> None:  # fmt: skip
        from scipy.linalg import cho_factor, cho_solve

        self.objective = FirthObjective(X, y, sample_weight, fit_intercept=fit_intercept)
        d = self.objective.n_params
        # inference order (intercept first) -> objective order (intercept last)
        self._order = np.r_[d - 1, 0 : d - 1] if fit_intercept else np.arange(d)
        self.fit_intercept = fit_intercept
        res = self._fit(self._to_objective(start), None)
        self.converged = res.converged
        self.message = res.message
        self.point = res.point
        self.params = self._from_objective(res.x)
        self.penalized = res.point.penalized
        # logistf's vcov: the inverse of the augmented information at the maximum
        augmented = self.objective.score_pass(res.point).augmented
        cov = cho_solve(cho_factor(augmented, lower=True), np.eye(d))
        self.cov = cov[np.ix_(self._order, self._order)]
        self._last: dict[int, NDArray] = {}
        self._bounds: dict[float, NDArray] = {}
        self._tests: tuple[NDArray, NDArray] | None = None

    # -- coordinates ------------------------------------------------------------------
    def _to_objective(self, beta: NDArray) -> NDArray:
        theta = np.empty(beta.size)
        theta[self._order] = beta
        return theta

    def _from_objective(self, theta: NDArray) -> NDArray:
        return np.asarray(theta)[self._order].copy()

    def _fit(self, theta0: NDArray, fixed: NDArray | None):
        return minimize_firth(self.objective, theta0, tol=REFIT_TOL, max_iter=REFIT_MAX_ITER,
                              fixed=fixed)  # fmt: skip

    # -- restricted maxima ------------------------------------------------------------
    def restricted(self, fixed: NDArray, values: NDArray, start: NDArray | None = None) -> float:
        """``max l^*`` with the coefficients `fixed` (a boolean mask, inference order) held
        at `values`; ``-inf`` where ``I`` becomes singular there."""
        theta = self._to_objective(self.params if start is None else start)
        mask = np.zeros(theta.size, bool)
        mask[self._order[fixed]] = True
        theta[mask] = np.asarray(values, dtype=np.float64)
        try:
            res = self._fit(theta, mask)
        except SingularInformationError:
            return -np.inf
        self._restricted_x = self._from_objective(res.x)
        return float(res.point.penalized)

    def _profile(self, j: int, b: float) -> float:
        """``2 (l^*(beta_hat) - l^*_j(b))``, warm-started from the last refit of `j`."""
        mask = np.zeros(self.params.size, bool)
        mask[j] = True
        value = self.restricted(mask, np.array([b]), self._last.get(j))
        if np.isfinite(value):
            self._last[j] = self._restricted_x
        return 2.0 * (self.penalized - value)

    # -- tests and intervals ----------------------------------------------------------
    def tests(self) -> tuple[NDArray, NDArray]:
        """Per coefficient: the penalised likelihood-ratio statistic of ``beta_j = 0`` and
        its chi-squared(1) p-value."""
        from scipy.stats import chi2

        if self._tests is None:
            stats = np.array([self._profile(j, 0.0) for j in range(self.params.size)])
            stats = np.maximum(stats, 0.0)
            self._tests = (stats, chi2.sf(stats, 1))
        return self._tests

    def model_test(self) -> float:
        """``2 (l^*(beta_hat) - l^*_0)``, ``l^*_0`` the maximum with every coefficient but
        the intercept held at 0 (logistf's "likelihood ratio test"; df = the slopes)."""
        fixed = np.ones(self.params.size, bool)
        if self.fit_intercept:
            fixed[0] = False
        start = np.zeros(self.params.size)
        if self.fit_intercept:
            start[0] = self.params[0]
        value = self.restricted(fixed, np.zeros(int(fixed.sum())), start)
        return max(0.0, 2.0 * (self.penalized - value))

    def conf_int(self, alpha: float) -> NDArray:
        """Profile penalised-likelihood intervals, shape (d, 2); cached per `alpha`."""
        from scipy.stats import chi2

        if alpha not in self._bounds:
            q = float(chi2.ppf(1.0 - alpha, 1))
            se = np.sqrt(np.diag(self.cov))
            self._bounds[alpha] = np.array(
                [[self._bound(j, q, se[j], side) for side in (-1.0, 1.0)]
                 for j in range(self.params.size)]
            )  # fmt: skip
        return self._bounds[alpha].copy()

    def _bound(self, j: int, q: float, se: float, side: float) -> float:
        from scipy.optimize import brentq

        self._last.pop(j, None)
        centre = float(self.params[j])
        step = max(se, 1e-3 * max(1.0, abs(centre)))
        inner = centre
        for _ in range(_MAX_DOUBLINGS):
            outer = centre + side * step
            if self._profile(j, outer) - q > 0.0:
                break
            inner, step = outer, 2.0 * step
        else:
            warnings.warn(
                f"the profile penalised likelihood of coefficient {j} stays within the "
                f"interval's level up to {outer:.3g}: that bound is reported as infinite",
                RuntimeWarning,
                stacklevel=4,
            )
            return side * np.inf
        lo, hi = sorted((inner, outer))
        return float(brentq(lambda b: self._profile(j, b) - q, lo, hi, xtol=1e-10, rtol=1e-12))


__all__ = ["FirthProfile", "REFIT_TOL"]
