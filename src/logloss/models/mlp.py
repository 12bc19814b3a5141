"""A multi-layer perceptron classifier trained on (label-smoothed) cross-entropy."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from ..objective import ACTIVATIONS, MLPObjective
from ..solvers import SCHEDULES, minimize
from ._base import (
    LogitClassifierMixin,
    check_bool,
    check_callback,
    check_choice,
    check_dtype,
    check_int,
    check_number,
    fold_weights,
    kernel_threads,
    progress,
    report,
    validate_Xy,
)
from .linear import split_validation

MLP_SOLVERS = ("adam", "sgd", "lbfgs")


def check_hidden_layer_sizes(value: Any) -> tuple[int, ...]:
    """A tuple of positive layer widths (an int is one layer)."""
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
        raise ValueError(
            "`hidden_layer_sizes` must be a positive int or a sequence of positive ints "
            f"(every layer needs at least one unit); got {value!r}"
        )
    return tuple(int(s) for s in sizes)


class MLPClassifier(LogitClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier minimising the penalised mean cross-entropy.

    .. math::

        \\min_\\theta \\; \\frac{1}{S} \\Big[ \\sum_i s_i \\, \\ell(h_L(x_i), y_i)
        + \\frac{\\alpha}{2} \\sum_l \\lVert W_l \\rVert^2 \\Big], \\qquad
        h_l = \\phi(h_{l-1} W_l + b_l)

    with a softmax output over the classes (one sigmoid unit for two classes, as in
    scikit-learn), :math:`\\ell` the cross-entropy with optional label smoothing, and the
    penalty scaled by the (batch) sample weight like scikit-learn's ``MLPClassifier``.

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

    def _check_params(self) -> dict:
        solver = check_choice(self.solver, "solver", MLP_SOLVERS)
        early = check_bool(self.early_stopping, "early_stopping")
        if early and solver == "lbfgs":
            raise ValueError("`early_stopping`=True needs solver 'adam' or 'sgd'; got 'lbfgs'")
        unit = dict(low=0.0, high=1.0, high_open=True)
        return dict(
            hidden=check_hidden_layer_sizes(self.hidden_layer_sizes),
            activation=check_choice(self.activation, "activation", tuple(ACTIVATIONS)),
            solver=solver,
            alpha=check_number(self.alpha, "alpha", low=0.0),
            batch_size=check_int(self.batch_size, "batch_size", allow_none=True),
            schedule=check_choice(self.learning_rate, "learning_rate", SCHEDULES),
            lr=check_number(self.learning_rate_init, "learning_rate_init", low=0.0, low_open=True),
            momentum=check_number(self.momentum, "momentum", **unit),
            beta_1=check_number(self.beta_1, "beta_1", **unit),
            beta_2=check_number(self.beta_2, "beta_2", **unit),
            epsilon=check_number(self.epsilon, "epsilon", low=0.0, low_open=True),
            max_iter=check_int(self.max_iter, "max_iter"),
            tol=check_number(self.tol, "tol", low=0.0),
            n_iter_no_change=check_int(self.n_iter_no_change, "n_iter_no_change"),
            early_stopping=early,
            validation_fraction=check_number(
                self.validation_fraction,
                "validation_fraction",
                low=0.0,
                high=1.0,
                low_open=True,
                high_open=True,
            ),
            label_smoothing=check_number(self.label_smoothing, "label_smoothing", **unit),
            warm_start=check_bool(self.warm_start, "warm_start"),
            verbose=check_int(self.verbose, "verbose", low=0),
            callback=check_callback(self.callback),
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Fit the network to `X` (n_samples, n_features) and labels `y`.

        Returns
        -------
        self
        """
        p = self._check_params()
        check_dtype(self.dtype)
        X, y_enc, classes, dtype = validate_Xy(self, X, y, self.dtype)
        sw = fold_weights(sample_weight, self.class_weight, X, y_enc, classes)
        k = len(classes)
        link = "sigmoid" if k == 2 else "softmax"
        rs = check_random_state(self.random_state)
        rng = np.random.default_rng(rs.randint(2**31))

        validation = None
        X_tr, y_tr, sw_tr = X, y_enc, sw
        common = dict(
            n_classes=k, hidden_layer_sizes=p["hidden"], activation=p["activation"], link=link
        )
        if p["early_stopping"]:
            X_tr, y_tr, sw_tr, X_va, y_va, sw_va = split_validation(
                X, y_enc, sw, p["validation_fraction"], rs
            )
            validation = MLPObjective(X_va, y_va, sample_weight=sw_va, **common).loss
        objective = MLPObjective(
            X_tr,
            y_tr,
            sample_weight=sw_tr,
            alpha=p["alpha"],
            label_smoothing=p["label_smoothing"],
            **common,
        )
        x0 = None
        if p["warm_start"] and hasattr(self, "coefs_") and np.array_equal(self.classes_, classes):
            shapes = [w.shape for w in self.coefs_]
            if shapes == list(zip(objective.sizes[:-1], objective.sizes[1:], strict=True)):
                x0 = np.concatenate(
                    [
                        np.concatenate([w.ravel(), b])
                        for w, b in zip(self.coefs_, self.intercepts_, strict=True)
                    ]
                ).astype(np.float64)
        if x0 is None:
            x0 = objective.initial_params(rng)

        self.classes_ = classes
        self._dtype_ = dtype
        rows = objective.n_samples
        if p["solver"] != "lbfgs":
            rows = min(p["batch_size"] or 200, rows)
        with (
            kernel_threads(rows * objective.k),
            progress(p["verbose"], p["max_iter"], "MLPClassifier", p["callback"]) as cb,
        ):
            result = minimize(
                objective,
                x0,
                solver=p["solver"],
                max_iter=p["max_iter"],
                tol=p["tol"],
                learning_rate=p["lr"],
                batch_size=p["batch_size"],
                momentum=p["momentum"],
                schedule=p["schedule"],
                beta1=p["beta_1"],
                beta2=p["beta_2"],
                epsilon=p["epsilon"],
                n_iter_no_change=p["n_iter_no_change"],
                validation=validation,
                random_state=rng,
                callback=cb,
                learning_rate_name="learning_rate_init",
            )
        layers = objective.unpack(result.x)
        self.coefs_ = [np.array(W, dtype=dtype) for W, _ in layers]
        self.intercepts_ = [np.array(b, dtype=dtype) for _, b in layers]
        self.n_layers_ = len(layers) + 1
        self.n_outputs_ = objective.k
        self.out_activation_ = "softmax" if link == "softmax" else "logistic"
        self.n_iter_ = int(result.n_iter)
        self.loss_curve_ = list(result.loss_curve)
        self.validation_loss_curve_ = list(result.validation_curve)
        self.loss_ = float(result.fun)
        self.interrupted_ = bool(result.interrupted)
        report(result, "MLPClassifier", p["solver"], p["max_iter"])
        return self

    def _logits(self, X: NDArray) -> NDArray:
        act = ACTIVATIONS[self.activation]
        h = X
        last = len(self.coefs_) - 1
        for i, (W, b) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            z = h @ W.astype(X.dtype, copy=False)
            z += b
            h = z if i == last else act.forward(z)
        return h
