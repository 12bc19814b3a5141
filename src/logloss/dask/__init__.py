"""Dask integration: fit linear classifiers on data that lives on a cluster.

``LogisticRegression`` and ``SoftmaxRegression`` fitted on a ``dask.array`` (or a Dask
DataFrame) come here. The data stays on the workers; only parameters and gradients
travel:

- each solver iteration sends the parameters (``n_features * K + K`` floats) to every
  block of rows; a task per block computes the block's weighted loss sum and gradient
  with the fused kernel (``logits = X_b W + b``; ``dL/dW = X_b^T G``, ``dL/db = sum_rows G``
  with G the kernel's gradient over the logits, times the sample weights), and the
  per-block vectors are summed: on the client when there are at most ``split_every**2``
  of them (one round trip), else by a tree of tasks (``split_every`` at a time), so the
  client receives one vector of ``1 + n_params`` floats;
- the solver (scipy's L-BFGS, or trust-region Newton-CG whose Hessian-vector products
  are computed blockwise the same way) runs on the client, and the L2 penalty, which
  needs only the parameters, is added there.

The objective is the one of :class:`logloss.objectives.LinearObjective` (scikit-learn's),
and each block runs the same function as an in-memory fit
(:func:`logloss.objectives.rows_loss_grad`), so a Dask fit and an in-memory fit reach
the same coefficients. The estimator's own fit steps (its checked hyperparameters,
starting point, solver run and fitted attributes) are used as they are.

Data that fits in the cluster's memory is persisted on the workers once (``persist="auto"``
does so when the inputs take at most half of the workers' memory limits); larger data is
streamed: every iteration reads (or recomputes) each block from its source, which is
what a Parquet dataset read with ``dask.dataframe`` does. When a worker dies, Dask
recomputes the blocks it held from their source and the fit goes on.

Everything in this package runs only when it is used: ``import logloss`` never imports
Dask. Importing it registers its handler with the estimators (:mod:`logloss.models`
imports it by name when a Dask collection first reaches an estimator). Install it with
``pip install "logloss[dask]"``. Layout: :mod:`._inputs` (checks, encoding, persisting),
:mod:`._objective` (the blockwise objective), this module (fit and predictions).
"""

from __future__ import annotations

import sys
from typing import Any

import dask.array as da
from sklearn.utils.validation import check_is_fitted

from ..models._fit import FitProblem
from ..models._registry import register_collection_handler
from ..solvers import SCIPY_SOLVERS
from ._inputs import as_dask_matrix, prepare
from ._objective import SPLIT_EVERY, DaskLinearObjective

__all__ = [
    "is_dask_collection",
    "fit",
    "DaskLinearObjective",
    "predict_proba",
    "predict_log_proba",
    "predict",
    "decision_function",
    "read_parquet",
    "SPLIT_EVERY",
]

# full-batch solvers that run on the client, whose gradient is summed over the blocks
DASK_SOLVERS = SCIPY_SOLVERS


def is_dask_collection(x: Any) -> bool:
    """Whether `x` is a Dask array or DataFrame (without importing Dask for other inputs).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> is_dask_collection(np.zeros(3)), is_dask_collection(da.zeros(3))
    (False, True)
    """
    mod = type(x).__module__
    if not mod.startswith("dask"):
        return False
    if isinstance(x, da.Array):
        return True
    ddf = sys.modules.get("dask.dataframe")
    return ddf is not None and isinstance(x, (ddf.DataFrame, ddf.Series))


def fit(est: Any, X, y, sample_weight=None, *, persist: Any = "auto"):
    """Fit a ``LogisticRegression`` or ``SoftmaxRegression`` on Dask inputs; returns `est`.

    Parameters
    ----------
    est : LogisticRegression or SoftmaxRegression
        Its hyperparameters are used as in an in-memory fit; the solver must be
        ``"lbfgs"`` or ``"newton"`` and the penalty ``"l2"`` or None.
    X : dask.array of shape (n_samples, n_features), or a Dask DataFrame
    y : dask.array, Dask Series or NumPy array of shape (n_samples,)
    sample_weight : same kinds as `y`, or None
    persist : True, False or "auto", default "auto"
        Keep the inputs in the workers' memory between iterations. "auto": when a
        distributed Client is active and the inputs take at most half of its workers'
        memory limits; otherwise each iteration reads the blocks from their source.

    Returns
    -------
    est
        Fitted: ``coef_``, ``intercept_``, ``classes_``, ``n_iter_``, ``loss_curve_`` as
        NumPy arrays, exactly as after an in-memory fit, and ``n_evaluations_``.
    """
    params = est._check_params()
    if params.solver not in DASK_SOLVERS:
        raise ValueError(
            f"`solver`={params.solver!r} is not available for Dask inputs; use one of "
            f"{', '.join(map(repr, DASK_SOLVERS))} (full-batch solvers whose gradient is "
            "summed over the blocks)"
        )
    if params.early_stopping:
        raise ValueError("`early_stopping`=True is not available for Dask inputs")
    X, y_enc, sw, classes, cw, total, dtype, names = prepare(
        X, y, sample_weight, dtype=params.dtype, class_weight=params.class_weight, persist=persist
    )
    objective = DaskLinearObjective(
        X,
        y_enc,
        n_classes=len(classes),
        link=est._link(len(classes)),
        sample_weight=sw,
        class_weight=cw,
        total_weight=total,
        fit_intercept=params.fit_intercept,
        alpha=params.alpha,
    )
    # the feature attributes scikit-learn's validate_data sets in an in-memory fit
    if hasattr(est, "feature_names_in_"):
        del est.feature_names_in_
    est.n_features_in_ = objective.n_features
    if names is not None and all(isinstance(n, str) for n in names):
        est.feature_names_in_ = names
    x0 = est._initial_params(objective, classes, params.warm_start)
    problem = FitProblem(objective, x0, dict(solver=params.solver, tol=params.tol))
    est._run_fit(problem, classes, dtype, params)
    est.n_evaluations_ = objective.n_evaluations
    return est


def _map_rows(est: Any, X, method: str, n_out: int | None, dtype):
    """Apply ``est.<method>`` to each block of rows of a Dask array, lazily."""
    check_is_fitted(est)
    X, _ = as_dask_matrix(X)
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input"
        )
    fn = getattr(est, method)
    if n_out is None:
        return X.map_blocks(lambda xb: fn(xb), dtype=dtype, drop_axis=1)
    return X.map_blocks(lambda xb: fn(xb), dtype=dtype, chunks=(X.chunks[0], (n_out,)))


def predict_proba(est: Any, X):
    """Lazy class probabilities (a Dask array of shape (n_samples, n_classes))."""
    return _map_rows(est, X, "predict_proba", len(est.classes_), est._dtype_)


def predict_log_proba(est: Any, X):
    """Lazy log-probabilities (a Dask array of shape (n_samples, n_classes))."""
    return _map_rows(est, X, "predict_log_proba", len(est.classes_), est._dtype_)


def decision_function(est: Any, X):
    """Lazy decision values: (n_samples,) for two classes, (n_samples, n_classes) otherwise."""
    k = len(est.classes_)
    return _map_rows(est, X, "decision_function", None if k == 2 else k, est._dtype_)


def predict(est: Any, X):
    """Lazy predicted labels (a Dask array of shape (n_samples,))."""
    return _map_rows(est, X, "predict", None, est.classes_.dtype)


def read_parquet(path: str, *, columns: list[str] | None = None):
    """A Parquet dataset (a file, a directory or a glob) as a lazy Dask DataFrame."""
    import dask.dataframe as dd

    return dd.read_parquet(path, columns=columns)


register_collection_handler("dask", sys.modules[__name__])
