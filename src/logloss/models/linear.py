"""Linear classifiers trained on cross-entropy: ``LogisticRegression`` and ``SoftmaxRegression``.

Both minimise :class:`logloss.objectives.LinearObjective` with one of the solvers of
:mod:`logloss.solvers`; the objective (and so the meaning of ``C``) is scikit-learn's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from .._array import is_sparse
from .._validation import check_number_or_auto
from ..objectives import LinearObjective
from ..solvers import (
    PROXIMAL_SOLVERS,
    SCHEDULES,
    SOLVERS,
    STOCHASTIC_SOLVERS,
    IterationInfo,
    OptimizeResult,
    minimize,
)
from ._data import split_validation
from ._fit import FitData, FitProblem, FitSkeleton
from ._params import TrainingParams, boolean, checked, choice, number
from ._prediction import LogitClassifierMixin

PENALTIES = ("l2", "l1", "elasticnet", "firth", None)
# the solvers penalty="firth" accepts: both run its own Newton iteration (solvers.firth)
FIRTH_SOLVERS = ("lbfgs", "newton", "newton-cholesky")
LINEAR_SOLVERS = SOLVERS


@dataclass(frozen=True)
class LinearParams(TrainingParams):
    """The checked hyperparameters of :class:`LogisticRegression`."""

    penalty: str | None = choice(PENALTIES)
    C: float = number(low=0.0, low_inclusive=False, allow_inf=True)
    l1_ratio: float = number(low=0.0, high=1.0)
    solver: str = choice(LINEAR_SOLVERS)
    fit_intercept: bool = boolean()
    learning_rate: float | str = checked(check_number_or_auto)
    lr_schedule: str = choice(SCHEDULES)

    def __post_init__(self) -> None:
        if self.penalty == "firth" and self.solver not in FIRTH_SOLVERS:
            raise ValueError(
                "`penalty`='firth' is fitted by its own Newton iteration with step-halving "
                "(solver 'lbfgs', the default, 'newton' or 'newton-cholesky'); "
                f"got solver={self.solver!r}"
            )
        if self.l1 > 0.0 and self.solver not in PROXIMAL_SOLVERS:
            raise ValueError(
                f"`penalty`={self.penalty!r} needs solver 'gd' or 'sgd' (proximal steps); "
                f"got solver={self.solver!r}, which supports only 'l2' or None"
            )
        if self.early_stopping and self.solver not in STOCHASTIC_SOLVERS:
            raise ValueError(
                f"`early_stopping`=True needs solver 'sgd' or 'adam'; got solver={self.solver!r}"
            )

    @property
    def _rho(self) -> float:
        """The L1 share of the penalty."""
        return {"l2": 0.0, "l1": 1.0, "elasticnet": self.l1_ratio}.get(self.penalty, 0.0)

    @property
    def _strength(self) -> float:
        if self.penalty in (None, "firth") or np.isinf(self.C):
            return 0.0  # Firth's penalty is not a norm: C and l1_ratio do not apply
        return 1.0 / self.C

    @property
    def alpha(self) -> float:
        """L2 strength of the objective: (1 - rho) / C."""
        return self._strength * (1.0 - self._rho)

    @property
    def l1(self) -> float:
        """L1 strength of the objective: rho / C."""
        return self._strength * self._rho


# Problems with at least this many entries in X are solved in mixed precision by default.
_MIXED_MIN_ELEMENTS = 1 << 20


def _single_precision(X: Any) -> Any:
    """A float32 copy of X; a CSR matrix's copy shares X's column indices and row pointers
    (only the values are converted: a third of the memory of a full copy)."""
    if is_sparse(X):
        return type(X)((X.data.astype(np.float32), X.indices, X.indptr), shape=X.shape, copy=False)
    return X.astype(np.float32)


def _mixed_precision(
    objective: LinearObjective, x0: NDArray, *, max_iter: int, callback, **options
):
    """Minimise on a float32 copy of X, then refine in float64 from that point.

    The float32 passes read half the memory; the float64 refinement starts next to the
    optimum, so it usually ends after one or two evaluations. The result is the float64
    problem's (its objective, its stopping test), and the iterations of both phases count.
    """
    single = LinearObjective(
        _single_precision(objective.X),
        objective.y,
        n_classes=objective.n_classes,
        link=objective.link,
        sample_weight=None if objective.sw is None else objective.sw * objective.sw_sum,
        fit_intercept=objective.fit_intercept,
        alpha=objective.alpha,
        l1=objective.l1,
    )
    first = minimize(single, x0, max_iter=max_iter, callback=callback, **options)
    del single
    if first.interrupted or first.n_iter >= max_iter:
        return first
    offset = first.n_iter

    def shifted(info: IterationInfo):
        return callback(replace(info, iteration=info.iteration + offset))

    second = minimize(objective, first.x, max_iter=max_iter - offset, callback=shifted, **options)
    second.n_iter += offset
    second.loss_curve = first.loss_curve + second.loss_curve
    return second


class LogisticRegression(FitSkeleton, LogitClassifierMixin, BaseEstimator):
    """Logistic regression trained on the penalised mean cross-entropy.

    Binary problems use a sigmoid and one row of coefficients, three or more classes a
    softmax (multinomial) with one row per class. The objective is scikit-learn's, so the
    same ``C`` gives the same coefficients:

    .. math::

        \\min_{W, b} \\; \\frac{1}{S} \\Big[ \\sum_i s_i \\, \\ell(W x_i + b, y_i)
        + \\frac{1}{C} \\Big( \\frac{1 - \\rho}{2} \\lVert W \\rVert_2^2
        + \\rho \\lVert W \\rVert_1 \\Big) \\Big], \\qquad S = \\sum_i s_i,

    with sample weights :math:`s_i` (times class weights), :math:`\\rho` = 0 for
    ``"l2"``, 1 for ``"l1"``, ``l1_ratio`` for ``"elasticnet"``, and no penalty for
    ``None`` (or ``C=np.inf``). The intercept is not penalised.

    ``X`` may be a ``scipy.sparse`` matrix or array (CSR; other formats are converted
    to CSR once), in ``fit`` and in the prediction methods: it is never densified; the
    logits and the gradient are sparse-times-dense products.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", "firth", None}, default="l2"
        The penalty on the coefficients. "l1" and "elasticnet" need solver "gd" or
        "sgd" (proximal steps); "lbfgs", "newton", "newton-cholesky" and "adam" refuse
        them with a ``ValueError`` (no OWL-QN is attempted). "firth": Firth's bias-reduced
        penalised likelihood :math:`l(\\beta) + \\frac12 \\log\\det I(\\beta)` of a
        binary model (R's ``logistf``; finite estimates under separation), maximised by
        Newton's method with step-halving (:mod:`logloss.solvers.firth`) with solver
        "lbfgs", "newton" or "newton-cholesky"; ``C`` and ``l1_ratio`` do not apply to it,
        ``tol`` bounds Firth's modified score (a sum over the rows), and
        :func:`logloss.stats.infer` gives its profile-likelihood inference.
    C : float, default=1.0
        Inverse penalty strength, > 0; ``np.inf`` means no penalty.
    l1_ratio : float, default=0.5
        Mixing of the elastic net, in [0, 1] (used only with ``penalty="elasticnet"``).
    solver : {"lbfgs", "newton", "newton-cholesky", "gd", "sgd", "adam"}, default="lbfgs"
        "lbfgs": scipy's L-BFGS-B; "newton": scipy's trust-region Newton-CG with exact
        Hessian-vector products; "newton-cholesky": Newton steps on the full Hessian (one
        pass per iteration, a Cholesky solve, a line search) for few parameters (features
        x classes up to a few thousand), the fit to use before :func:`logloss.stats.infer`
        (it warns with a ``SingularHessianWarning`` when collinear columns without a
        penalty make the Hessian singular); "gd": full-batch gradient descent (backtracking when
        ``learning_rate="auto"``); "sgd": mini-batch SGD with Nesterov momentum; "adam".
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    class_weight : dict, "balanced" or None, default=None
        Per-class weights multiplied into the sample weights.
    max_iter : int, default=100
        Iterations (epochs for "sgd" and "adam").
    tol : float, default=1e-4
        "lbfgs"/"newton-cholesky"/"gd": largest absolute gradient entry; "newton":
        Euclidean gradient norm;
        "sgd"/"adam": loss improvement per epoch that counts as progress.
    learning_rate : float or "auto", default="auto"
        Step size of "gd", "sgd", "adam" ("auto": backtracking for gd, 0.01 for sgd, 0.001
        for adam). A fixed step that makes the loss blow up raises a ``ValueError``.
    batch_size : int or None, default=None
        Mini-batch size of "sgd" and "adam" (None: min(200, n_samples)).
    momentum : float, default=0.9
        Nesterov momentum of "sgd", in [0, 1).
    lr_schedule : {"constant", "invscaling", "cosine"}, default="constant"
        Step schedule of "sgd" and "adam" over epochs.
    early_stopping : bool, default=False
        "sgd" and "adam" only: hold out ``validation_fraction`` of the data and stop when
        its loss has not improved by `tol` for `n_iter_no_change` epochs; keeps the
        parameters with the lowest validation loss.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping, in (0, 1).
    n_iter_no_change : int, default=10
        Patience in epochs ("sgd", "adam").
    warm_start : bool, default=False
        Start from the previous fit's coefficients when their shape matches.
    random_state : int, RandomState or None, default=None
        Shuffling of mini-batches and the validation split.
    verbose : int, default=0
        ``>= 1`` shows a progress bar (rich) with the current loss.
    dtype : {"float32", "float64"} or None, default=None
        Compute dtype. None keeps float32 input in float32 and gives float64 results
        otherwise; then, for solvers "lbfgs" and "newton" and an X of at least 2**20
        entries, the fit runs in mixed precision: on a float32 copy of X first (half the
        memory traffic per pass; the copy costs half of X's memory), then refined in
        float64 from that point until the float64 stopping test holds. "float64" forces
        float64 throughout; "float32" computes and returns float32.
    callback : callable or None, default=None
        Called as ``callback(info)`` after each iteration with an
        :class:`logloss.solvers.IterationInfo`; returning True stops the fit.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) for a binary problem, else (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
        Iterations run.
    loss_curve_ : list of float
        Objective after each iteration.
    validation_loss_curve_ : list of float
        Validation cross-entropy per epoch (empty without early stopping).
    n_features_in_ : int
    feature_names_in_ : ndarray of str (when X has feature names)

    Notes
    -----
    With a softmax the intercepts (and, with an L2 penalty or none, the coefficients) are
    centred to sum to zero over the classes, which changes no probability; this is the
    minimum-norm solution that scikit-learn's L-BFGS also reaches.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from logloss import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0)).fit(X, y)
    >>> clf[-1].coef_.shape, round(clf.score(X, y), 3)
    ((3, 4), 0.973)
    """

    _params_type = LinearParams
    _fits_collections = True
    # scipy.sparse X is fitted and predicted as CSR, never densified
    _accepts_sparse = True
    # SoftmaxRegression: a softmax over two rows of coefficients for two classes too
    _softmax_for_two_classes = False

    def __init__(
        self,
        penalty="l2",
        *,
        C=1.0,
        l1_ratio=0.5,
        solver="lbfgs",
        fit_intercept=True,
        class_weight=None,
        max_iter=100,
        tol=1e-4,
        learning_rate="auto",
        batch_size=None,
        momentum=0.9,
        lr_schedule="constant",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        warm_start=False,
        random_state=None,
        verbose=0,
        dtype=None,
        callback=None,
    ):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.momentum = momentum
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype
        self.callback = callback

    # -- the steps of the fit skeleton ------------------------------------------------

    def _link(self, n_classes: int) -> str:
        """The output link for `n_classes`: one sigmoid logit for two classes, else a softmax."""
        return "sigmoid" if (n_classes == 2 and not self._softmax_for_two_classes) else "softmax"

    def _fit_problem(self, data: FitData, params: LinearParams) -> FitProblem:
        k = len(data.classes)
        link = self._link(k)
        if params.penalty == "firth":
            return self._firth_problem(data, params, link)
        rng = np.random.default_rng(check_random_state(params.random_state).randint(2**31))
        validation = None
        X_tr, y_tr, sw_tr = data.X, data.y, data.sample_weight
        if params.early_stopping:
            X_tr, y_tr, sw_tr, X_va, y_va, sw_va = split_validation(
                data.X, data.y, data.sample_weight, params.validation_fraction,
                params.random_state,
            )  # fmt: skip
            validation = LinearObjective(
                X_va, y_va, n_classes=k, link=link, sample_weight=sw_va,
                fit_intercept=params.fit_intercept,
            ).loss  # fmt: skip
        objective = LinearObjective(
            X_tr, y_tr, n_classes=k, link=link, sample_weight=sw_tr,
            fit_intercept=params.fit_intercept, alpha=params.alpha, l1=params.l1,
        )  # fmt: skip
        stochastic = params.solver in STOCHASTIC_SOLVERS
        rows = min(params.batch_size or 200, objective.n_samples) if stochastic else None
        per_call = objective.k * (rows or min(objective.block, objective.n_samples))
        mixed = (
            params.dtype is None
            and data.dtype == np.float64
            and params.solver in ("lbfgs", "newton")
            and X_tr.size >= _MIXED_MIN_ELEMENTS
        )
        options = dict(
            solver=params.solver,
            tol=params.tol,
            learning_rate=params.learning_rate,
            batch_size=params.batch_size,
            momentum=params.momentum,
            schedule=params.lr_schedule,
            n_iter_no_change=params.n_iter_no_change,
            validation=validation,
            random_state=rng,
        )
        return FitProblem(
            objective,
            self._initial_params(objective, data.classes, params.warm_start),
            options,
            threads=(per_call, objective.k),
            minimize=_mixed_precision if mixed else minimize,
        )

    def _firth_problem(self, data: FitData, params: LinearParams, link: str) -> FitProblem:
        """Firth's penalised likelihood (binary only), maximised by its Newton iteration."""
        from ..objectives.firth import FirthObjective
        from ..solvers.firth import minimize_firth

        if link != "sigmoid":
            what = f"{len(data.classes)} classes" if len(data.classes) > 2 else type(self).__name__
            raise ValueError(
                "`penalty`='firth' is for binary logistic regression (one sigmoid logit, as "
                f"R's logistf); got {what}: use LogisticRegression on two classes"
            )
        objective = FirthObjective(
            data.X, data.y, data.sample_weight, fit_intercept=params.fit_intercept
        )
        x0 = self._initial_params(objective, data.classes, params.warm_start)
        # the passes are skinny BLAS products (n_params columns): threads as for the others
        threads = (objective.rows * objective.n_params, objective.n_params)
        return FitProblem(objective, x0, {"tol": params.tol}, threads, minimize_firth)

    def _run_fit(self, problem: FitProblem, classes: NDArray, dtype: np.dtype, params: Any):
        from ..objectives.firth import FirthObjective

        if params.penalty == "firth" and not isinstance(problem.objective, FirthObjective):
            # an integration's own objective (a Dask array): it has no Firth pass
            raise ValueError(
                "`penalty`='firth' is not available for Dask inputs; fit on a NumPy array "
                "or a scipy.sparse matrix (e.g. X.compute())"
            )
        return super()._run_fit(problem, classes, dtype, params)

    def _initial_params(self, objective: Any, classes: NDArray, warm: bool) -> NDArray:
        """The previous fit's coefficients with `warm` when they fit `objective`, else zeros."""
        if (
            warm
            and hasattr(self, "coef_")
            and np.array_equal(getattr(self, "classes_", []), classes)
        ):
            W = np.asarray(self.coef_, dtype=np.float64).T
            if W.shape == (objective.n_features, objective.k):
                return objective.pack(W, self.intercept_)
        return np.zeros(objective.n_params)

    def _store_solution(
        self, problem: FitProblem, result: OptimizeResult, params: LinearParams
    ) -> None:
        """``coef_`` and ``intercept_`` in the compute dtype, a softmax's centred."""
        objective = problem.objective
        W, b = objective.unpack(result.x)
        if objective.link == "softmax":
            # probabilities are unchanged by a shift common to all classes; centre it away
            b = b - b.mean()
            if params.l1 == 0.0:
                W = W - W.mean(axis=1, keepdims=True)
        self.coef_ = np.ascontiguousarray(W.T, dtype=self._dtype_)
        self.intercept_ = np.asarray(b, dtype=self._dtype_)
        if not params.fit_intercept:
            self.intercept_ = np.zeros_like(self.intercept_)

    # -- predict ----------------------------------------------------------------------

    def _logits(self, X: NDArray) -> NDArray:
        return X @ self.coef_.T.astype(X.dtype, copy=False) + self.intercept_.astype(X.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.input_tags.sparse = True
        return tags


class SoftmaxRegression(LogisticRegression):
    """Multinomial logistic regression: a softmax over one row of coefficients per class,
    for two classes too (``coef_`` is then (2, n_features)).

    Same objective, parameters and attributes as :class:`LogisticRegression`, with
    :math:`\\ell(z, y) = \\log \\sum_c e^{z_c} - z_y` for every number of classes; for
    two classes the two rows are centred (``coef_[1] = -coef_[0]``), and the L2 penalty
    on both rows makes it equivalent to a sigmoid model with ``C`` doubled.

    Examples
    --------
    >>> import numpy as np
    >>> from logloss import SoftmaxRegression
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> clf = SoftmaxRegression().fit(X, [0, 0, 1, 1])
    >>> clf.coef_.shape, clf.predict([[-3.0], [3.0]])
    ((2, 1), array([0, 1]))
    """

    _softmax_for_two_classes = True
