"""The result of :func:`logloss.stats.infer`: estimates, covariance, tests, tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray


def _normal_tests(params: NDArray, bse: NDArray, alpha: float):
    from scipy.stats import norm

    with np.errstate(divide="ignore", invalid="ignore"):
        z = params / bse
    p = 2.0 * norm.sf(np.abs(z))
    q = norm.ppf(1.0 - alpha / 2.0)
    return z, p, np.stack([params - q * bse, params + q * bse], axis=-1)


def _check_alpha(alpha: Any) -> float:
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise ValueError(f"`alpha` must be a number in (0, 1); got {alpha!r}")
    return float(alpha)


def _frame(params, bse, z, p, ci, alpha, index):
    import pandas as pd

    lo, hi = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
    return pd.DataFrame(
        {"coef": params, "std err": bse, "z": z, "P>|z|": p, lo: ci[:, 0], hi: ci[:, 1]},
        index=index,
    )


@dataclass
class MarginalEffects:
    """Average marginal effects ``mean_i dP(y_i = 1)/dx_ij`` of a binary model, with
    delta-method standard errors (statsmodels' ``get_margeff()`` default)."""

    margeff: NDArray
    margeff_se: NDArray
    names: list[str]
    alpha: float = 0.05

    @property
    def zvalues(self) -> NDArray:
        return _normal_tests(self.margeff, self.margeff_se, self.alpha)[0]

    @property
    def pvalues(self) -> NDArray:
        return _normal_tests(self.margeff, self.margeff_se, self.alpha)[1]

    def conf_int(self, alpha: float | None = None) -> NDArray:
        a = self.alpha if alpha is None else _check_alpha(alpha)
        return _normal_tests(self.margeff, self.margeff_se, a)[2]

    def to_frame(self):
        """A pandas DataFrame: dy/dx, std err, z, P>|z| and the interval, by feature."""
        z, p, ci = _normal_tests(self.margeff, self.margeff_se, self.alpha)
        frame = _frame(self.margeff, self.margeff_se, z, p, ci, self.alpha, self.names)
        return frame.rename(columns={"coef": "dy/dx"})


@dataclass
class InferenceResult:
    """Maximum-likelihood inference for a fitted logit model, in statsmodels' conventions.

    For a binary model ``params`` and ``bse`` have shape ``(d,)`` (``d`` = features + 1
    with an intercept, which comes first), as statsmodels' ``Logit``; for a softmax model
    over ``K`` classes they have shape ``(d, K - 1)``, each column the log-odds of one class
    against the first, as ``MNLogit``. ``cov_params()`` is ``(q, q)`` with ``q = d (K - 1)``,
    equation-major (all of the first equation's coefficients first).

    For a Firth model (``method == "firth"``, R ``logistf``'s defaults): ``bse`` and
    ``zvalues`` are Wald's, from ``I(beta_hat)^{-1}``; ``pvalues`` are those of the
    penalised likelihood-ratio tests (``chi2``: their statistics) and ``conf_int()`` the
    profile penalised-likelihood intervals (``conf_int(method="wald")`` the Wald ones);
    ``llf`` is the unpenalised log-likelihood at ``beta_hat`` and ``llr`` logistf's
    penalised likelihood-ratio test of all slopes; ``aic`` and ``bic`` are refused.
    """

    params: NDArray
    cov: NDArray
    llf: float
    llnull: float
    nobs: float
    cov_type: str
    feature_names: list[str]
    classes: NDArray
    alpha: float = 0.05
    separation: str | None = None
    has_intercept: bool = True
    _margins: Any = field(default=None, repr=False)
    method: str = "mle"  # or "firth"
    # firth: the FirthProfile (profile tests and intervals) and its model test statistic
    _profile: Any = field(default=None, repr=False)
    _llr: float | None = field(default=None, repr=False)

    @property
    def firth(self) -> bool:
        return self.method == "firth"

    def _refuse_unless_firth(self, what: str) -> None:
        if not self.firth:
            raise ValueError(f"{what} is computed for Firth models (penalty='firth') only")

    # -- estimates ------------------------------------------------------------------
    @property
    def bse(self) -> NDArray:
        """Standard errors: the square roots of ``cov_params()``'s diagonal."""
        return np.sqrt(np.diag(self.cov)).reshape(self.params.shape, order="F")

    @property
    def zvalues(self) -> NDArray:
        """``params / bse`` (Wald z statistics)."""
        return _normal_tests(self.params, self.bse, self.alpha)[0]

    tvalues = zvalues

    @property
    def pvalues(self) -> NDArray:
        """Two-sided p-values of the z statistics under the standard normal; for a Firth
        model those of the penalised likelihood-ratio tests (chi-squared, 1 df)."""
        if self.firth:
            return self._profile.tests()[1].copy()
        return _normal_tests(self.params, self.bse, self.alpha)[1]

    @property
    def penalized_llf(self) -> float:
        """Firth models: the penalised log-likelihood ``l*(beta_hat) = llf + 1/2 log det I``."""
        self._refuse_unless_firth("`penalized_llf`")
        return float(self._profile.penalized)

    @property
    def chi2(self) -> NDArray:
        """Firth models: the penalised likelihood-ratio statistics
        ``2 (l*(beta_hat) - l*(beta_hat restricted to beta_j = 0))``."""
        self._refuse_unless_firth("`chi2` (the penalised likelihood-ratio statistics)")
        return self._profile.tests()[0].copy()

    def conf_int(self, alpha: float | None = None, method: str | None = None) -> NDArray:
        """Intervals, lower and upper bound on the last axis: shape ``(d, 2)`` for a binary
        model, ``(K - 1, d, 2)`` (one block per equation) for a softmax, as statsmodels'
        ``Logit`` and ``MNLogit`` return them.

        `method` "wald" (the default of maximum-likelihood models): ``params -/+
        z_{1 - alpha/2} bse``; "profile" (the default, and only for, Firth models): the
        profile penalised-likelihood interval (refits, computed once per `alpha`)."""
        a = self.alpha if alpha is None else _check_alpha(alpha)
        method = ("profile" if self.firth else "wald") if method is None else method
        if method not in ("wald", "profile"):
            raise ValueError(f'`method` must be "wald" or "profile"; got {method!r}')
        if method == "profile":
            self._refuse_unless_firth('conf_int(method="profile")')
            return self._profile.conf_int(a)
        ci = _normal_tests(self.params, self.bse, a)[2]
        return ci if ci.ndim == 2 else ci.transpose(1, 0, 2)

    def cov_params(self) -> NDArray:
        """The ``(q, q)`` covariance matrix of the flattened (equation-major) params."""
        return self.cov.copy()

    # -- fit statistics -------------------------------------------------------------
    @property
    def k_params(self) -> int:
        return int(self.params.size)

    @property
    def df_model(self) -> float:
        """statsmodels' ``rank - 1`` per equation (it subtracts 1 with or without a constant)."""
        n_eq = 1 if self.params.ndim == 1 else self.params.shape[1]
        return float((self.params.shape[0] - 1) * n_eq)

    @property
    def df_resid(self) -> float:
        return float(self.nobs - self.k_params)

    @property
    def llr(self) -> float:
        """Likelihood-ratio statistic against the intercept-only model: ``2 (llf - llnull)``;
        for a Firth model the penalised one, ``2 (l*(beta_hat) - l*_0)`` with every
        coefficient but the intercept held at 0 (logistf's "likelihood ratio test")."""
        if self.firth:
            return float(self._llr)
        return 2.0 * (self.llf - self.llnull)

    @property
    def llr_pvalue(self) -> float:
        from scipy.stats import chi2

        return float(chi2.sf(self.llr, self.df_model))

    @property
    def prsquared(self) -> float:
        """McFadden's pseudo R-squared, ``1 - llf / llnull``."""
        return 1.0 - self.llf / self.llnull if self.llnull != 0.0 else float("nan")

    def _refuse_information_criterion(self, name: str) -> None:
        if self.firth:
            raise ValueError(
                f"`{name}` is not defined for a Firth model: its coefficients do not maximise "
                "the likelihood, so -2 llf + penalty is not the criterion's quantity; compare "
                "Firth models by their penalised likelihood-ratio tests (`llr`, `pvalues`)"
            )

    @property
    def aic(self) -> float:
        self._refuse_information_criterion("aic")
        return -2.0 * self.llf + 2.0 * self.k_params

    @property
    def bic(self) -> float:
        self._refuse_information_criterion("bic")
        return -2.0 * self.llf + np.log(self.nobs) * self.k_params

    @property
    def deviance(self) -> float:
        """``-2 llf`` (the saturated model of 0/1 outcomes has log-likelihood 0)."""
        return -2.0 * self.llf

    # -- marginal effects -----------------------------------------------------------
    def marginal_effects(self) -> MarginalEffects:
        """Average marginal effects of a binary model (statsmodels' ``get_margeff()``:
        ``at="overall"``, ``method="dydx"``).

        ``AME_j = beta_j mean_i p_i (1 - p_i)``; its delta-method covariance is
        ``G cov G^T`` with ``G_jk = delta_jk mean_i p_i (1 - p_i)
        + beta_j mean_i p_i (1 - p_i) (1 - 2 p_i) z_ik``.

        Examples
        --------
        >>> import numpy as np
        >>> from logloss import LogisticRegression
        >>> from logloss.stats import infer
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(400, 2))
        >>> y = (rng.random(400) < 1 / (1 + np.exp(-X @ [1.0, 0.0]))).astype(int)
        >>> model = LogisticRegression(penalty=None, solver="newton-cholesky", tol=1e-8).fit(X, y)
        >>> me = infer(model, X, y).marginal_effects()
        >>> me.to_frame().index.tolist(), bool(0.1 < me.margeff[0] < 0.3)
        (['x1', 'x2'], True)
        """
        if self._margins is None:
            raise ValueError("marginal effects are computed for binary (sigmoid) models only")
        dens, dgrad = self._margins
        start = 1 if self.has_intercept else 0
        beta = self.params[start:]
        G = np.outer(beta, dgrad)
        G[:, start:] += dens * np.eye(beta.size)
        cov = G @ self.cov @ G.T
        return MarginalEffects(
            dens * beta, np.sqrt(np.diag(cov)), self.feature_names[start:], self.alpha
        )

    # -- tables -----------------------------------------------------------------------
    def _index(self):
        import pandas as pd

        if self.params.ndim == 1:
            return list(self.feature_names)
        labels = [str(c) for c in self.classes[1:]]
        return pd.MultiIndex.from_product(
            [labels, self.feature_names], names=[f"vs {self.classes[0]}", "feature"]
        )

    def to_frame(self):
        """A pandas DataFrame with columns coef, std err, z, P>|z| and the interval bounds,
        one row per feature (intercept first); rows ``(class, feature)`` for a softmax.
        For a Firth model the columns are coef, std err, chi2, P>chi2 (the penalised
        likelihood-ratio tests) and the profile interval's bounds."""
        z, p, ci = _normal_tests(self.params, self.bse, self.alpha)
        if self.firth:
            stats, p = self._profile.tests()
            frame = _frame(self.params, self.bse, stats, p, self.conf_int(), self.alpha,
                           self._index())  # fmt: skip
            return frame.rename(columns={"z": "chi2", "P>|z|": "P>chi2"})
        flat = lambda a: a.ravel(order="F")  # noqa: E731  equation-major
        return _frame(
            flat(self.params), flat(self.bse), flat(z), flat(p),
            ci.reshape(-1, 2, order="F") if ci.ndim == 2 else
            np.stack([flat(ci[..., 0]), flat(ci[..., 1])], axis=1),
            self.alpha, self._index(),
        )  # fmt: skip

    def summary(self) -> str:
        """A text table like statsmodels' ``summary()``: fit statistics, then coefficients."""
        from .summary import render

        return render(self)

    def __str__(self) -> str:
        return self.summary()
