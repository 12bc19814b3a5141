"""Temperature scaling: one temperature that calibrates a classifier's logits.

Guo, Pleiss, Sun and Weinberger (2017), "On Calibration of Modern Neural Networks":
divide every logit by one temperature T > 0 chosen to minimise the cross-entropy on
held-out data. Predictions (the argmax) are unchanged; confidences are not.

When every calibration row is classified correctly the cross-entropy falls all the way
to T -> 0 and has no minimiser: an optimiser stops at some tiny T where the slope drops
under its tolerance, and the calibrated model gives probability ~0 to every mistake it
will make on new rows (a penguin set: held-out log loss 0.065 -> 0.48). There the
temperature is fitted to Laplace-smoothed targets and is not raised above 1 (see
:class:`TemperatureScaling`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..activations import log_softmax, softmax
from ..metrics.calibration import expected_calibration_error
from ..objectives import TemperatureObjective
from ..objectives.temperature import laplace_targets
from ..solvers import OptimizeResult
from ._data import check_two_classes, encode_labels, fold_weights, validate_X
from ._fit import FitData, FitProblem, FitSkeleton
from ._params import IterativeParams, as_given, integer
from ._prediction import LogitClassifierMixin


@dataclass(frozen=True)
class TemperatureParams(IterativeParams):
    """The checked hyperparameters of :class:`TemperatureScaling`."""

    n_bins: int = integer()
    estimator: Any = as_given()

    def __post_init__(self) -> None:
        est = self.estimator
        if (
            est is not None
            and not hasattr(est, "predict_proba")
            and not hasattr(est, "decision_function")
        ):
            raise ValueError(
                "`estimator` must be a fitted classifier with decision_function or "
                f"predict_proba; got {type(est).__name__}"
            )

    @property
    def solver(self) -> str:
        """The temperature is fitted by L-BFGS (its objective is smooth in log T)."""
        return "lbfgs"


@dataclass
class _TemperatureProblem(FitProblem):
    """The problem, and the raw sample weights that the calibration errors use."""

    sample_weight: NDArray | None = None
    separable: bool = False


def all_classified_correctly(Z: NDArray, y: NDArray, sample_weight: NDArray | None) -> bool:
    """Whether in every row of positive weight the label's logit is the largest (ties
    allowed): then the cross-entropy of ``Z / T`` decreases all the way to T -> 0.

    Each row's loss :math:`\\log(1 + \\sum_{c \\ne y} e^{-(z_y - z_c)/T})` has margins
    :math:`z_y - z_c \\ge 0`, so it cannot increase as T falls; one row with a negative
    margin makes the loss grow without bound as T -> 0, and a minimiser exists.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> all_classified_correctly(Z, np.array([0, 1]), None)
    True
    >>> all_classified_correctly(Z, np.array([0, 0]), None)
    False
    """
    margin_ok = Z[np.arange(y.size), y] >= Z.max(axis=1)
    if sample_weight is not None:
        margin_ok |= np.asarray(sample_weight) <= 0
    return bool(margin_ok.all())


class TemperatureScaling(FitSkeleton, LogitClassifierMixin, BaseEstimator):
    """Calibrate logits with one temperature T minimising the cross-entropy on held-out data.

    .. math::

        T^\\star = \\arg\\min_{T > 0} \\frac{1}{S} \\sum_i s_i \\,
        \\Big[ \\log \\sum_c e^{z_{ic}/T} - z_{i y_i}/T \\Big]

    solved over log T with L-BFGS (the objective is smooth in log T).

    **Separable calibration data.** When every calibration row is classified correctly
    (``separable_``) the cross-entropy decreases all the way to T -> 0 and has no
    minimiser; the rows show no over-confidence, and how much sharper the model may be
    made they cannot say. Then T minimises the cross-entropy against the Laplace-smoothed
    targets :math:`t_{iy} = (N_y + 1)/(N_y + K)`, :math:`t_{ic} = 1/(N_y + K)` (the
    rule of succession after :math:`N_y` rows of class y; Platt's targets for two
    classes), capped at 1:

    .. math::

        T = \\min\\Big(1, \\arg\\min_{T > 0} \\frac{1}{S} \\sum_i s_i \\,
        \\Big[ \\log \\sum_c e^{z_{ic}/T} - \\sum_c t_{ic} z_{ic}/T \\Big]\\Big).

    An under-confident model is sharpened only until its mistakes keep the probability
    the rule of succession gives them; a confident one is left as it is (no calibration
    row shows it over-confident). The cap is exact: the smoothed loss is convex in 1/T.
    Otherwise (a row misclassified, the usual case) T is the plain maximum-likelihood
    temperature above, untouched.

    Parameters
    ----------
    estimator : fitted classifier or None, default=None
        With a classifier, `X` is its input and the logits are its ``decision_function``
        (or ``log(predict_proba)`` when it has none); ``classes_`` are its classes. With
        None, `X` holds the logits themselves, shape (n, K) (or (n, 1) for one binary
        logit) and the classes are ``0 .. K-1``. To keep a fitted estimator fitted through
        ``clone`` (``GridSearchCV``, ``Pipeline``), wrap it in
        ``sklearn.frozen.FrozenEstimator``.
    n_bins : int, default=15
        Bins of the expected calibration error reported before and after.
    max_iter : int, default=100
        L-BFGS iterations.
    tol : float, default=1e-6
        Gradient tolerance on d loss / d log T.
    verbose : int, default=0
        ``>= 1`` shows a progress bar.
    callback : callable or None, default=None
        Called after each iteration with a :class:`logloss.solvers.IterationInfo`.

    Attributes
    ----------
    temperature_ : float
        The fitted temperature T (> 1 softens over-confident logits).
    classes_ : ndarray of shape (n_classes,)
    separable_ : bool
        Whether every calibration row was classified correctly (T then comes from the
        smoothed targets, at most 1).
    ece_before_, ece_after_ : float
        Expected calibration error on the fitting data at T = 1 and at T.
    loss_before_, loss_after_ : float
        Mean cross-entropy (against the labels) at T = 1 and at T.
    n_iter_ : int
    loss_curve_ : list of float

    Examples
    --------
    >>> import numpy as np
    >>> from logloss import TemperatureScaling
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 2000)
    >>> logits = 3.0 * (np.eye(3)[y] + rng.normal(size=(2000, 3)))   # over-confident
    >>> ts = TemperatureScaling().fit(logits, y)
    >>> bool(ts.temperature_ > 1), bool(ts.ece_after_ < ts.ece_before_)
    (True, True)
    """

    def __init__(
        self, estimator=None, *, n_bins=15, max_iter=100, tol=1e-6, verbose=0, callback=None
    ):
        self.estimator = estimator
        self.n_bins = n_bins
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.callback = callback

    def _raw_logits(self, X: Any, reset: bool) -> NDArray:
        """Uncalibrated logits (n, K) as float64."""
        if self.estimator is None:
            Z = validate_X(self, X, np.float64, reset=reset)
            if Z.shape[1] == 1:
                # one binary logit z: softmax([0, z]) = [1 - sigmoid(z), sigmoid(z)]
                Z = np.column_stack([np.zeros(Z.shape[0]), Z[:, 0]])
            return Z
        check_is_fitted(self.estimator)
        if hasattr(self.estimator, "decision_function"):
            Z = np.asarray(self.estimator.decision_function(X), dtype=np.float64)
            if Z.ndim == 1:
                # a binary decision function is the logit of classes_[1]: softmax([0, z])
                Z = np.column_stack([np.zeros_like(Z), Z])
        else:
            with np.errstate(divide="ignore"):
                Z = np.log(np.asarray(self.estimator.predict_proba(X), dtype=np.float64))
            Z = np.asarray(log_softmax(np.maximum(Z, -1e300)), dtype=np.float64)
        if reset:
            self.n_features_in_ = getattr(self.estimator, "n_features_in_", Z.shape[1])
        return np.ascontiguousarray(Z)

    _params_type = TemperatureParams

    # -- the steps of the fit skeleton ------------------------------------------------

    def _check_data(self, X: Any, y: Any, sample_weight: Any, params: Any) -> FitData:
        """The uncalibrated logits (float64), the labels encoded in the classes, weights."""
        Z = self._raw_logits(X, reset=True)
        if y is None:
            raise ValueError("TemperatureScaling requires y to be passed, but the target y is None")
        y_arr = column_or_1d(y, warn=True)
        if y_arr.shape != (Z.shape[0],):
            raise ValueError(
                f"`y` must have shape ({Z.shape[0]},), one label per row; got {y_arr.shape}"
            )
        if self.estimator is not None:
            classes = np.asarray(self.estimator.classes_)
        else:
            classes = np.arange(Z.shape[1])
        if Z.shape[1] != len(classes):
            raise ValueError(
                f"the logits have {Z.shape[1]} columns but there are {len(classes)} classes"
            )
        check_classification_targets(y_arr)
        y_enc = encode_labels(y_arr, classes)
        check_two_classes(classes[np.unique(y_enc)], "fit a temperature")
        sw = fold_weights(sample_weight, None, Z, y_enc, classes)
        return FitData(Z, y_enc, classes, np.dtype(np.float64), sw)

    def _fit_problem(self, data: FitData, params: TemperatureParams) -> FitProblem:
        separable = all_classified_correctly(data.X, data.y, data.sample_weight)
        targets = None
        if separable:
            targets = laplace_targets(data.y, data.X.shape[1], data.sample_weight)
        objective = TemperatureObjective(data.X, data.y, data.sample_weight, targets)
        return _TemperatureProblem(
            objective,
            np.zeros(1),
            dict(solver="lbfgs", tol=params.tol),
            threads=(data.X.size, None),
            sample_weight=data.sample_weight,
            separable=separable,
        )

    def _store_solution(
        self, problem: FitProblem, result: OptimizeResult, params: TemperatureParams
    ) -> None:
        """``temperature_``, and the loss and calibration error before and after."""
        Z, y_enc, sw = problem.objective.Z, problem.objective.y, problem.sample_weight
        log_t = float(result.x[0])
        self.separable_ = bool(problem.separable)
        if self.separable_:
            log_t = min(log_t, 0.0)  # T <= 1: see "Separable calibration data"
        self.temperature_ = float(np.exp(log_t))
        labels = TemperatureObjective(Z, y_enc, sw)  # the loss against the labels
        self.loss_before_ = float(labels(np.zeros(1))[0])
        self.loss_after_ = float(labels(np.array([log_t]))[0])
        self.ece_before_ = expected_calibration_error(
            y_enc, softmax(Z, axis=1), n_bins=params.n_bins, sample_weight=sw
        )
        self.ece_after_ = expected_calibration_error(
            y_enc, softmax(Z / self.temperature_, axis=1), n_bins=params.n_bins, sample_weight=sw
        )

    # -- predict ----------------------------------------------------------------------

    def _validated_logits(self, X: Any) -> NDArray:
        check_is_fitted(self, "temperature_")
        return self._raw_logits(X, reset=False) / self.temperature_

    def _logits(self, X: NDArray) -> NDArray:
        return self._raw_logits(X, reset=False) / self.temperature_
