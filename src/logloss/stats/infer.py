"""Standard errors, tests and intervals for fitted logloss linear models, and the
likelihood-ratio test between two of them."""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from ._information import information_pass, loglike
from ._inputs import check_problem, linear_dependencies, model_params
from .result import InferenceResult, _check_alpha
from .separation import LP_ALWAYS_ENTRIES, SeparationWarning, detect, suspicious


class NotConvergedWarning(UserWarning):
    """The model's coefficients are not at the maximum of the likelihood."""


def infer(
    model: Any,
    X: ArrayLike,
    y: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    cov_type: Literal["nonrobust", "HC0", "HC1", "cluster"] = "nonrobust",
    groups: ArrayLike | None = None,
    alpha: float = 0.05,
) -> InferenceResult:
    """Maximum-likelihood inference for a fitted, unpenalised logit model, or Firth's
    penalised-likelihood inference for a ``penalty="firth"`` model.

    The model's coefficients are the estimate ``beta``; the covariance comes from the
    observed information ``H = sum_i w_i (diag(p_i) - p_i p_i^T) (x) z_i z_i^T`` (for a
    binary model ``H = Z^T diag(w p (1 - p)) Z``), accumulated in float64 over blocks of
    rows in one pass:

    - ``"nonrobust"``: ``H^{-1}``;
    - ``"HC0"``: the sandwich ``H^{-1} M H^{-1}``, ``M = sum_i w_i s_i s_i^T`` with the
      per-row scores ``s_i = (e_{y_i} - p_i) (x) z_i``;
    - ``"HC1"``: the same as HC0, as statsmodels computes it for maximum-likelihood
      models (it applies no ``n / (n - k)`` factor there, and we agree with it);
    - ``"cluster"``: ``c H^{-1} (sum_g u_g u_g^T) H^{-1}``, ``u_g = sum_{i in g} w_i s_i``,
      with statsmodels' default correction ``c = G/(G - 1) (n - 1)/(n - k)``.

    Conventions are statsmodels' ``Logit``/``MNLogit`` with ``add_constant``: the
    intercept first, a softmax model relative to its first class.

    A ``LogisticRegression(penalty="firth")`` gets R ``logistf``'s defaults: ``params``
    the maximum of Firth's penalised likelihood (polished from the model's coefficients),
    ``bse`` Wald's from ``I(params)^{-1}``, ``pvalues`` the penalised likelihood-ratio
    tests and ``conf_int()`` the profile penalised-likelihood intervals
    (:mod:`logloss.stats.profile`: refits with one coefficient held fixed, tens per
    coefficient); ``cov_type`` must be "nonrobust", no separation check is made (Firth's
    estimate exists under separation), and ``aic``/``bic`` are refused.

    Parameters
    ----------
    model : LogisticRegression or SoftmaxRegression
        Fitted with ``penalty=None`` (or ``C=np.inf``) or ``penalty="firth"``, and no
        ``class_weight``, ideally to a tight tolerance (``solver="newton-cholesky",
        tol=1e-8``, a few full Newton steps): the standard errors are those
        of the coefficients the model holds, and a warning says when they are not at the
        maximum of the likelihood.
    X : array-like or DataFrame of shape (n_samples, n_features)
        The data the model was fitted on.
    y : array-like of shape (n_samples,)
        Its labels (values of ``model.classes_``).
    sample_weight : array-like of shape (n_samples,), optional
        Frequency weights: a row of weight 2 counts as the row twice (``nobs`` is their sum).
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
    groups : array-like of shape (n_samples,), optional
        Cluster labels, required with (and only with) ``cov_type="cluster"``.
    alpha : float, default=0.05
        Level of the intervals of ``conf_int()``, ``to_frame()`` and ``summary()``.

    Returns
    -------
    InferenceResult

    Warns
    -----
    SeparationWarning
        When the classes are (quasi-)completely separated, naming the columns
        (the message is also ``result.separation``).
    NotConvergedWarning
        When the Newton step from the model's coefficients exceeds 1e-3 standard errors.

    Examples
    --------
    >>> import numpy as np
    >>> from logloss import LogisticRegression
    >>> from logloss.stats import infer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2))
    >>> y = (rng.random(500) < 1 / (1 + np.exp(-(0.5 + X @ [1.0, -1.0])))).astype(int)
    >>> model = LogisticRegression(penalty=None, solver="newton-cholesky", tol=1e-10).fit(X, y)
    >>> res = infer(model, X, y)
    >>> res.params.shape, res.bse.shape, res.conf_int().shape
    ((3,), (3,), (3, 2))
    >>> bool(np.all(res.pvalues < 1e-3)), res.to_frame().index.tolist()
    (True, ['intercept', 'x1', 'x2'])
    """
    alpha = _check_alpha(alpha)
    pr = check_problem(model, X, y, sample_weight, cov_type, groups)
    if pr.firth:
        return _infer_firth(pr, alpha)
    with _blas_threads(pr.params.size):
        info = information_pass(
            pr.X, pr.y, pr.params, pr.sample_weight, pr.fit_intercept,
            meat=cov_type in ("HC0", "HC1"), groups=pr.groups, n_groups=pr.n_groups,
            margins=pr.binary,
        )  # fmt: skip
    nobs = float(pr.X.shape[0] if pr.sample_weight is None else pr.sample_weight.sum())
    separation = _separation(pr, info)
    H_inv = _inverse_information(info.hessian, pr.feature_names, separated=bool(separation))
    if cov_type == "nonrobust":
        cov = H_inv
    elif cov_type in ("HC0", "HC1"):
        cov = H_inv @ info.meat @ H_inv
    else:
        S = info.cluster_scores
        k = H_inv.shape[0]
        G = pr.n_groups
        c = G / (G - 1.0) * (nobs - 1.0) / (nobs - k)
        cov = c * (H_inv @ (S.T @ S) @ H_inv)
    cov = 0.5 * (cov + cov.T)
    if separation is None:
        _check_converged(H_inv, info.score)
    params = pr.params[:, 0] if pr.binary else pr.params
    return InferenceResult(
        params=params.copy(), cov=cov, llf=info.llf, llnull=_llnull(pr), nobs=nobs,
        cov_type=cov_type, feature_names=pr.feature_names, classes=pr.classes, alpha=alpha,
        separation=separation, has_intercept=pr.fit_intercept,
        _margins=(info.density_mean, info.density_grad) if pr.binary else None,
    )  # fmt: skip


def _infer_firth(pr, alpha: float) -> InferenceResult:
    """Firth's penalised-likelihood inference (logistf's defaults; see InferenceResult):
    the maximum polished from the model's coefficients, Wald errors from ``I^{-1}``,
    penalised likelihood-ratio tests and profile intervals at `alpha`."""
    from .profile import FirthProfile

    start = pr.params[:, 0]
    with _blas_threads(pr.params.size):
        prof = FirthProfile(pr.X, pr.y, pr.sample_weight, pr.fit_intercept, start)
        # the model's distance from the maximum, in standard errors (a step, like Newton's)
        _check_converged(prof.cov, np.linalg.solve(prof.cov, prof.params - start))
        info = information_pass(
            pr.X, pr.y, prof.params[:, None], pr.sample_weight, pr.fit_intercept, margins=True
        )
        prof.tests()
        prof.conf_int(alpha)
        llr = prof.model_test()
    nobs = float(pr.X.shape[0] if pr.sample_weight is None else pr.sample_weight.sum())
    return InferenceResult(
        params=prof.params.copy(), cov=0.5 * (prof.cov + prof.cov.T), llf=info.llf,
        llnull=_llnull(pr), nobs=nobs, cov_type="nonrobust", feature_names=pr.feature_names,
        classes=pr.classes, alpha=alpha, has_intercept=pr.fit_intercept,
        _margins=(info.density_mean, info.density_grad), method="firth", _profile=prof,
        _llr=llr,
    )  # fmt: skip


# Up to this many parameters the pass's products run on one BLAS thread.
_ONE_THREAD_MAX_PARAMS = 128


def _blas_threads(q: int):
    """One BLAS thread for the pass's products when they have few columns (q): they are
    memory-bound, and OpenBLAS's second thread spinning between them cost more than it gave
    (timed on 2 shared cores: 200,000 x 50 binary 0.15 s with one thread, 0.5-6 s with
    two; 200,000 x 20 with 5 classes, HC0, 1.0 s and 1.4-9.8 s). The models' fit makes the
    same choice (``models._threads``)."""
    from contextlib import nullcontext

    from ..models._threads import blas_controller

    return blas_controller().limit(limits=1) if q <= _ONE_THREAD_MAX_PARAMS else nullcontext()


def _inverse_information(H: np.ndarray, names: list[str], separated: bool) -> np.ndarray:
    """``H^{-1}`` by Cholesky; a singular H (collinear columns) is an error naming them,
    unless the data are separated (already reported): then a pseudo-inverse."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    scale = np.sqrt(np.maximum(np.diag(H), np.finfo(float).tiny))
    Hs = H / np.outer(scale, scale)  # unit diagonal: the condition is the columns'
    try:
        if np.linalg.cond(Hs) > 1e14:
            raise LinAlgError
        factor = cho_factor(Hs)
    except LinAlgError:
        if separated:
            return np.linalg.pinv(Hs, hermitian=True) / np.outer(scale, scale)
        # the same naming of dependencies as the command line's rank check; an index of
        # the (equations x d) information maps to its design column by i mod d
        d = len(names)
        members = {int(i) % d for m, _ in linear_dependencies(Hs) for i in m}
        if not members:  # ill-conditioned rather than singular: the weakest direction
            vec = np.linalg.eigh(Hs)[1][:, 0].reshape(-1, d)
            members = set(np.flatnonzero(np.abs(vec).max(axis=0) > 1e-3).tolist())
        cols = [names[i] for i in sorted(members)]
        raise ValueError(
            "the information matrix is singular: the columns "
            f"{cols} are collinear (or constant within the data), so their coefficients are "
            "not identified; drop one of them"
        ) from None
    return cho_solve(factor, np.eye(H.shape[0])) / np.outer(scale, scale)


def _llnull(pr) -> float:
    """Log-likelihood of the intercept-only model: ``sum_k n_k log(n_k / n)``."""
    w = np.ones(pr.y.size) if pr.sample_weight is None else pr.sample_weight
    counts = np.bincount(pr.y, weights=w, minlength=len(pr.classes))
    counts = counts[counts > 0]
    return float(counts @ np.log(counts / counts.sum()))


def _separation(pr, info) -> str | None:
    """Run the separation LP when the data are small or the fit looks separated."""
    from ._information import design_block

    if pr.X.size > LP_ALWAYS_ENTRIES and not suspicious(info.max_own_prob):
        return None
    Z = design_block(pr.X, 0, pr.X.shape[0], pr.fit_intercept)
    found = detect(Z, pr.y, len(pr.classes), pr.feature_names, intercept=pr.fit_intercept)
    if found is None:
        return None
    message = found.message()
    warnings.warn(message, SeparationWarning, stacklevel=3)
    return message


def _check_converged(H_inv: np.ndarray, score: np.ndarray) -> None:
    step = H_inv @ score  # the Newton step to the maximum
    ratio = float(np.max(np.abs(step) / np.sqrt(np.diag(H_inv))))
    if ratio > 1e-3:
        warnings.warn(
            f"the model's coefficients are {ratio:.2g} standard errors from the maximum of "
            "the likelihood (one Newton step away); refit with solver='newton-cholesky' and a "
            "smaller tol (e.g. 1e-8) for exact inference",
            NotConvergedWarning,
            stacklevel=3,
        )


def lr_test(
    full: Any,
    restricted: Any,
    X: ArrayLike,
    y: ArrayLike,
    *,
    X_restricted: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> tuple[float, int, float]:
    """Likelihood-ratio test of a restricted model nested in a full one.

    ``statistic = 2 (llf_full - llf_restricted)``, asymptotically chi-squared with
    ``df = k_full - k_restricted`` degrees of freedom under the restricted model.

    Parameters
    ----------
    full, restricted : fitted unpenalised LogisticRegression / SoftmaxRegression
        On the same rows and labels; `restricted` on a subset of `full`'s columns.
    X : array-like or DataFrame
        `full`'s data. `restricted`'s columns are taken from it by name when both carry
        ``feature_names_in_``, else from `X_restricted`, else `X` itself.
    y : array-like
    X_restricted : array-like, optional
    sample_weight : array-like, optional
        Frequency weights, as in :func:`infer`.

    Returns
    -------
    statistic : float
    df : int
    pvalue : float

    Examples
    --------
    >>> import numpy as np
    >>> from logloss import LogisticRegression
    >>> from logloss.stats import lr_test
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(400, 3))
    >>> y = (rng.random(400) < 1 / (1 + np.exp(-X[:, 0]))).astype(int)
    >>> fit = lambda A: LogisticRegression(penalty=None, solver="newton-cholesky").fit(A, y)
    >>> stat, df, p = lr_test(fit(X), fit(X[:, :1]), X, y, X_restricted=X[:, :1])
    >>> df, bool(0 <= p <= 1)
    (2, True)
    """
    from scipy.stats import chi2

    if X_restricted is None:
        names = getattr(restricted, "feature_names_in_", None)
        X_restricted = X[list(names)] if names is not None and hasattr(X, "columns") else X
    llfs, ks = [], []
    for name, model, data in (("full", full, X), ("restricted", restricted, X_restricted)):
        try:
            pr = check_problem(model, data, y, sample_weight, "nonrobust", None)
        except (TypeError, ValueError) as err:
            raise type(err)(f"`{name}`: {err}") from None
        llfs.append(loglike(pr.X, pr.y, pr.params, pr.sample_weight, pr.fit_intercept))
        ks.append(pr.params.size)
    if len(model_params(full)[1]) != len(model_params(restricted)[1]):
        raise ValueError("`full` and `restricted` must be fitted on the same classes")
    df = ks[0] - ks[1]
    if df <= 0:
        raise ValueError(
            f"`restricted` has {ks[1]} parameters and `full` {ks[0]}: the restricted model "
            "must have fewer"
        )
    stat = 2.0 * (llfs[0] - llfs[1])
    if stat < -1e-6 * max(1.0, abs(llfs[0])):
        raise ValueError(
            f"`restricted` fits better than `full` (llf {llfs[1]:.6g} > {llfs[0]:.6g}): the "
            "models are not nested, or one is not at its maximum likelihood"
        )
    stat = max(stat, 0.0)
    return float(stat), int(df), float(chi2.sf(stat, df))
