"""A multi-layer perceptron classifier trained on (label-smoothed) cross-entropy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from .._validation import InvalidParameterError
from ..objectives import ACTIVATIONS, MLPObjective, mlp_logits
from ..solvers import SCHEDULES, OptimizeResult
from ._data import split_validation
from ._fit import FitData, FitProblem, FitSkeleton
from ._params import NON_NEGATIVE, POSITIVE, UNIT, TrainingParams, checked, choice, number
from ._prediction import LogitClassifierMixin

# scikit-learn's MLPClassifier solvers, in its order
MLP_SOLVERS = ("adam", "sgd", "lbfgs")


def check_hidden_layer_sizes(value: Any, name: str = "hidden_layer_sizes") -> tuple[int, ...]:
    """A tuple of positive layer widths (an int is one layer).

    Examples
    --------
    >>> check_hidden_layer_sizes(5), check_hidden_layer_sizes([4, 3])
    ((5,), (4, 3))
    """
    sizes = (
        (value,) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    )
    try:
        sizes = tuple(sizes)
    except TypeError:
        sizes = None
    if sizes is None or any(
        isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sizes
    ):
        error = ValueError if sizes is not None else InvalidParameterError
        raise error(
            f"`{name}` must be a positive int or a sequence of positive ints "
            f"(every layer needs at least one unit); got {value!r}"
        )
    return tuple(int(s) for s in sizes)


@dataclass(frozen=True)
class MLPParams(TrainingParams):
    """The checked hyperparameters of :class:`MLPClassifier`."""

    hidden_layer_sizes: tuple[int, ...] = checked(check_hidden_layer_sizes)
    activation: str = choice(tuple(ACTIVATIONS))
    solver: str = choice(MLP_SOLVERS)
    alpha: float = number(**NON_NEGATIVE)
    learning_rate: str = choice(SCHEDULES)
    learning_rate_init: float = number(**POSITIVE)
    beta_1: float = number(**UNIT)
    beta_2: float = number(**UNIT)
    epsilon: float = number(**POSITIVE)
    label_smoothing: float = number(**UNIT)

    def __post_init__(self) -> None:
        if self.early_stopping and self.solver == "lbfgs":
            raise ValueError("`early_stopping`=True needs solver 'adam' or 'sgd'; got 'lbfgs'")


class MLPClassifier(FitSkeleton, LogitClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier minimising the penalised mean cross-entropy.

    .. math::

        \\min_\\theta \\; \\frac{1}{S} \\Big[ \\sum_i s_i \\, \\ell(h_L(x_i), y_i)
        + \\frac{\\alpha}{2} \\sum_l \\lVert W_l \\rVert^2 \\Big], \\qquad
        h_l = \\phi(h_{l-1} W_l + b_l)

    with a softmax output over the classes (one sigmoid unit for two classes, as in
    scikit-learn), :math:`\\ell` the cross-entropy with optional label smoothing, and the
    penalty scaled by the (batch) sample weight like scikit-learn's ``MLPClassifier``.

    ``X`` may be a ``scipy.sparse`` matrix or array (CSR; other formats are converted
    to CSR once): it is never densified; the first layer's product and its gradient are
    sparse-times-dense.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Width of each hidden layer (each >= 1).
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden-layer activation.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        Optimiser (see :mod:`logloss.solvers`).
    alpha : float, default=1e-4
        L2 strength on the weights, >= 0.
    batch_size : int or None, default=None
        Mini-batch size for adam and sgd (None: min(200, n_samples)).
    learning_rate : {"constant", "invscaling", "cosine"}, default="constant"
        Step schedule over epochs for adam and sgd.
    learning_rate_init : float, default=0.001
        Initial step size.
    momentum : float, default=0.9
        Nesterov momentum of sgd, in [0, 1).
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decays, in [0, 1).
    epsilon : float, default=1e-8
        Adam's denominator guard.
    max_iter : int, default=200
        Epochs (adam, sgd) or iterations (lbfgs).
    tol : float, default=1e-4
        Loss improvement per epoch that counts as progress (adam, sgd); gradient tolerance
        for lbfgs.
    n_iter_no_change : int, default=10
        Patience in epochs.
    early_stopping : bool, default=False
        Hold out `validation_fraction` and stop on its loss; keeps the best parameters.
    validation_fraction : float, default=0.1
    label_smoothing : float, default=0.0
        In [0, 1): targets become ``(1 - eps) onehot + eps / K``.
    class_weight : dict, "balanced" or None, default=None
    warm_start : bool, default=False
        Continue from the previous fit's parameters.
    random_state : int, RandomState or None, default=None
        Initialisation, shuffling and the validation split.
    verbose : int, default=0
        ``>= 1`` shows a progress bar with the loss.
    dtype : {"float32", "float64"} or None, default=None
        Compute dtype (None: float32 for float32 input, else float64).
    callback : callable or None, default=None
        Called after each epoch with a :class:`logloss.solvers.IterationInfo`; returning
        True stops.

    Attributes
    ----------
    classes_ : ndarray
    coefs_ : list of ndarray
        ``coefs_[l]`` has shape (fan_in, fan_out) (scikit-learn's layout).
    intercepts_ : list of ndarray
    n_iter_ : int
    loss_curve_ : list of float
    validation_loss_curve_ : list of float
    n_layers_ : int
    out_activation_ : {"softmax", "logistic"}

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from logloss import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=300,
    ...                     random_state=0).fit(X, y)
    >>> [w.shape for w in clf.coefs_], clf.score(X, y) > 0.95
    ([(4, 16), (16, 3)], True)
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=1e-4,
        batch_size=None,
        learning_rate="constant",
        learning_rate_init=0.001,
        momentum=0.9,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        label_smoothing=0.0,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        dtype=None,
        callback=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype
        self.callback = callback

    _params_type = MLPParams
    # scipy.sparse X is fitted and predicted as CSR, never densified (the first layer's
    # product and its gradient are sparse-times-dense)
    _accepts_sparse = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- the steps of the fit skeleton ------------------------------------------------

    def _fit_problem(self, data: FitData, params: MLPParams) -> FitProblem:
        k = len(data.classes)
        link = "sigmoid" if k == 2 else "softmax"
        rs = check_random_state(params.random_state)
        rng = np.random.default_rng(rs.randint(2**31))
        validation = None
        X_tr, y_tr, sw_tr = data.X, data.y, data.sample_weight
        common = dict(
            n_classes=k,
            hidden_layer_sizes=params.hidden_layer_sizes,
            activation=params.activation,
            link=link,
        )
        if params.early_stopping:
            X_tr, y_tr, sw_tr, X_va, y_va, sw_va = split_validation(
                data.X, data.y, data.sample_weight, params.validation_fraction, rs
            )
            validation = MLPObjective(X_va, y_va, sample_weight=sw_va, **common).loss
        objective = MLPObjective(
            X_tr,
            y_tr,
            sample_weight=sw_tr,
            alpha=params.alpha,
            label_smoothing=params.label_smoothing,
            **common,
        )
        x0 = self._initial_params(objective, data.classes, params.warm_start)
        if x0 is None:
            x0 = objective.initial_params(rng)
        rows = objective.n_samples
        if params.solver != "lbfgs":
            rows = min(params.batch_size or 200, rows)
        options = dict(
            solver=params.solver,
            tol=params.tol,
            learning_rate=params.learning_rate_init,
            batch_size=params.batch_size,
            momentum=params.momentum,
            schedule=params.learning_rate,
            beta1=params.beta_1,
            beta2=params.beta_2,
            epsilon=params.epsilon,
            n_iter_no_change=params.n_iter_no_change,
            validation=validation,
            random_state=rng,
            learning_rate_name="learning_rate_init",
        )
        return FitProblem(objective, x0, options, threads=(rows * objective.k, None))

    def _initial_params(self, objective: MLPObjective, classes: NDArray, warm: bool):
        """The previous fit's weights with `warm` when their shapes fit, else None."""
        if warm and hasattr(self, "coefs_") and np.array_equal(self.classes_, classes):
            if [w.shape for w in self.coefs_] == objective.layer_shapes:
                return objective.pack(list(zip(self.coefs_, self.intercepts_, strict=True)))
        return None

    def _store_solution(
        self, problem: FitProblem, result: OptimizeResult, params: MLPParams
    ) -> None:
        """scikit-learn's attributes: ``coefs_``, ``intercepts_``, ``out_activation_``..."""
        objective = problem.objective
        layers = objective.unpack(result.x)
        self.coefs_ = [np.array(W, dtype=self._dtype_) for W, _ in layers]
        self.intercepts_ = [np.array(b, dtype=self._dtype_) for _, b in layers]
        self.n_layers_ = len(layers) + 1
        self.n_outputs_ = objective.k
        self.out_activation_ = "softmax" if objective.link == "softmax" else "logistic"
        self.loss_ = float(result.fun)

    def _logits(self, X: NDArray) -> NDArray:
        return mlp_logits(list(zip(self.coefs_, self.intercepts_, strict=True)), X, self.activation)
