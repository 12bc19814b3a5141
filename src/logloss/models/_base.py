"""Machinery shared by the estimators: input and hyperparameter checks, the progress bar,
Ctrl-C handling, and the prediction methods of a classifier with logits.

Hyperparameters are checked in ``fit`` (scikit-learn's contract) by the ``_check_*``
helpers here; each error is a ``ValueError`` (or ``TypeError`` for a wrong type) naming
the parameter and what arrived.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
    validate_data,
)

from ..activations import log_sigmoid, log_softmax, sigmoid, softmax
from ..solvers import IterationInfo, OptimizeResult


class FitInterruptedWarning(UserWarning):
    """``fit`` was interrupted (Ctrl-C); the model keeps the best parameters found so far."""


# ---------------------------------------------------------------------------
# hyperparameters
# ---------------------------------------------------------------------------


def _what(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def check_choice(value: Any, name: str, choices: tuple) -> Any:
    if not isinstance(value, (str, type(None))) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {options}; got {_what(value)}")
    return value


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """A real number in the interval; bools and non-numbers are a ``ValueError`` too."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = not math.isnan(v) and (allow_inf or math.isfinite(v))
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v < high if high_open else v <= high
    if not ok:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        interval = f"{left}{lo}, {hi}{right}"
        raise ValueError(f"`{name}` must be a number in {interval}; got {_what(value)}")
    return float(value)


def check_int(value: Any, name: str, *, low: int = 1, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        extra = " or None" if allow_none else ""
        raise ValueError(f"`{name}` must be an integer >= {low}{extra}; got {_what(value)}")
    return int(value)


def check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be True or False; got {_what(value)}")
    return bool(value)


def check_dtype(value: Any, X_dtype: np.dtype | None = None) -> np.dtype:
    """The compute dtype: "float32"/"float64" (or the NumPy types); None follows X."""
    if value is None:
        if X_dtype is not None and np.dtype(X_dtype) == np.float32:
            return np.dtype(np.float32)
        return np.dtype(np.float64)
    try:
        dt = np.dtype(value)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"`dtype` must be 'float32', 'float64' or None; got {_what(value)}")
    return dt


def check_callback(value: Any) -> Callable | None:
    if value is not None and not callable(value):
        raise ValueError(f"`callback` must be callable or None; got {_what(value)}")
    return value


def check_learning_rate(value: Any, name: str = "learning_rate") -> float | str:
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(f"`{name}` must be a positive number or 'auto'; got {_what(value)}")
        return value
    return check_number(value, name, low=0.0, low_open=True)


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


def check_finite_X(X: NDArray, feature_names: NDArray | None = None, name: str = "X") -> None:
    """NaN or inf in `X` is a ``ValueError`` naming the first bad column (and its row)."""
    finite = np.isfinite(X)
    if finite.all():
        return
    bad_cols = ~finite.all(axis=0)
    col = int(np.argmax(bad_cols))
    row = int(np.argmax(~finite[:, col]))
    value = X[row, col]
    kind = "NaN" if np.isnan(value) else "inf"
    label = f"column {col}"
    if feature_names is not None:
        label += f" ({feature_names[col]!r})"
    raise ValueError(
        f"Input `{name}` contains {kind} in {label}, first at row {row}; "
        "every feature must be finite (impute or drop missing values first)"
    )


def validate_X(est: BaseEstimator, X: Any, dtype: np.dtype | None, reset: bool) -> NDArray:
    """X as a C-contiguous 2-D float array checked against the fitted number of features."""
    X = validate_data(
        est,
        X,
        reset=reset,
        dtype=[np.float64, np.float32] if dtype is None else dtype,
        order="C",
        ensure_all_finite=False,
    )
    check_finite_X(X, getattr(est, "feature_names_in_", None))
    return X


def validate_Xy(
    est: BaseEstimator, X: Any, y: Any, dtype_param: Any
) -> tuple[NDArray, NDArray, NDArray, np.dtype]:
    """(X, encoded y, classes, compute dtype) for fitting; one class is an error."""
    check_same_rows(X, y)
    X, y = validate_data(
        est, X, y, dtype=[np.float64, np.float32], order="C", ensure_all_finite=False
    )
    dtype = check_dtype(dtype_param, X.dtype)
    X = np.ascontiguousarray(X, dtype=dtype)
    check_finite_X(X, getattr(est, "feature_names_in_", None))
    check_classification_targets(y)
    classes, y_enc = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            f"`y` must contain at least 2 classes to train a classifier; got only one class: "
            f"{classes[0].tolist()!r}"
        )
    return X, y_enc.reshape(-1), classes, dtype


def check_same_rows(X: Any, y: Any) -> None:
    """`X` and `y` have the same number of rows (a message naming both and their sizes)."""
    try:
        n_X, n_y = _num_samples(X), _num_samples(y)
    except TypeError:  # y None, a scalar, ...: validate_data reports it
        return
    if n_X != n_y:
        raise ValueError(
            f"`X` and `y` must have the same number of rows; got {n_X} rows in `X` "
            f"and {n_y} labels in `y`"
        )


def fold_weights(
    sample_weight: Any, class_weight: Any, X: NDArray, y_enc: NDArray, classes: NDArray
) -> NDArray | None:
    """Sample weights times class weights (None when both are absent); checks them."""
    if sample_weight is None and class_weight is None:
        return None
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
    sw = np.array(sw, dtype=np.float64, copy=True)
    negative = np.flatnonzero(sw < 0)
    if negative.size:
        i = int(negative[0])
        raise ValueError(f"`sample_weight` must be non-negative; got {float(sw[i])!r} at index {i}")
    if class_weight is not None:
        if not (class_weight == "balanced" or isinstance(class_weight, dict)):
            raise ValueError(
                f"`class_weight` must be None, 'balanced' or a dict {{label: weight}}; "
                f"got {_what(class_weight)}"
            )
        y_orig = classes[y_enc]
        cw = compute_class_weight(
            class_weight,
            classes=classes,
            y=y_orig,
            sample_weight=None if sample_weight is None else sw,
        )
        sw *= cw[y_enc]
    if not sw.sum() > 0:
        raise ValueError("`sample_weight` (times `class_weight`) must have a positive sum; got 0")
    return sw


# ---------------------------------------------------------------------------
# kernel threads
# ---------------------------------------------------------------------------

# Below this many logits per kernel call, a parallel kernel spends more time waking its
# threads than computing (mini-batches of 200 rows: ~10 us of work per call).
_SERIAL_BELOW = 1 << 16
# Products X @ W with at most this many columns are memory-bound; in a fit, where they
# alternate with the kernels, one BLAS thread beats two (see kernel_threads).
_SKINNY_COLUMNS = 64


@contextmanager
def kernel_threads(elements_per_call: int, blas_columns: int | None = None) -> Iterator[None]:
    """Threads for a fit: numba kernels and BLAS share the cores without starving each other.

    - Calls with fewer than ``_SERIAL_BELOW`` logits (mini-batches, small data): the
      kernels and BLAS run on one thread. A fit makes thousands of such calls, and each
      parallel region costs a thread wake-up that dominates the work.
    - Larger calls whose BLAS products have at most ``_SKINNY_COLUMNS`` columns
      (`blas_columns`, the K' of a linear model): BLAS runs on one thread, the kernels on
      all. OpenBLAS's idle threads keep spinning after each product, so on a 2-core
      machine they took a core from the kernel that follows: a 200,000 x 100 10-class fit
      took 2.56 s with two BLAS threads and 1.59 s with one, a 1,000,000 x 50 binary fit
      0.62 s and 0.29 s.
    - Otherwise every thread is kept.
    """
    small = elements_per_call < _SERIAL_BELOW
    skinny = blas_columns is not None and blas_columns <= _SKINNY_COLUMNS
    if not (small or skinny):
        yield
        return
    from threadpoolctl import threadpool_limits

    numba = None
    if small:
        try:
            import numba
        except ImportError:  # the portable path has no threads
            numba = None
    previous = None if numba is None else numba.get_num_threads()
    if numba is not None:
        numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        if numba is not None:
            numba.set_num_threads(previous)


# ---------------------------------------------------------------------------
# progress bar, Ctrl-C, convergence
# ---------------------------------------------------------------------------


@contextmanager
def progress(
    verbose: int, total: int, description: str, user_callback: Callable | None = None
) -> Iterator[Callable[[IterationInfo], bool]]:
    """A solver callback: updates a rich progress bar (when `verbose`) and calls the user's."""
    if not verbose:

        def callback(info: IterationInfo) -> bool:
            return bool(user_callback(info)) if user_callback is not None else False

        yield callback
        return

    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )
    except ImportError:  # rich is optional: one plain line per iteration instead
        import sys

        def plain(info: IterationInfo) -> bool:
            extra = "" if info.validation_loss is None else f" val {info.validation_loss:.6g}"
            print(
                f"{description} {info.iteration}/{total} loss {info.loss:.6g}{extra}",
                file=sys.stderr,
            )
            return bool(user_callback(info)) if user_callback is not None else False

        yield plain
        return

    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("{task.fields[extra]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(description, total=total, loss="-", extra="")

        def callback(info: IterationInfo) -> bool:
            extra = "" if info.validation_loss is None else f"val {info.validation_loss:.6g}"
            bar.update(task, completed=info.iteration, loss=f"{info.loss:.6g}", extra=extra)
            return bool(user_callback(info)) if user_callback is not None else False

        yield callback


def report(result: OptimizeResult, est_name: str, solver: str, max_iter: int) -> None:
    """Warn when the fit was interrupted or did not converge."""
    if result.interrupted:
        warnings.warn(
            f"{est_name}.fit was interrupted (KeyboardInterrupt) after {result.n_iter} "
            f"iteration(s); keeping the best parameters found so far (loss {result.fun:.6g})",
            FitInterruptedWarning,
            stacklevel=3,
        )
    elif not result.converged and result.n_iter >= max_iter:
        warnings.warn(
            f"{est_name} with solver={solver!r} did not converge in max_iter={max_iter} "
            f"iterations ({result.message}); increase `max_iter` or scale the data",
            ConvergenceWarning,
            stacklevel=3,
        )
    elif not result.converged and "callback" not in result.message:
        warnings.warn(
            f"{est_name} with solver={solver!r} stopped before converging: {result.message}",
            ConvergenceWarning,
            stacklevel=3,
        )


# ---------------------------------------------------------------------------
# prediction
# ---------------------------------------------------------------------------


def is_dask_collection(X: Any) -> bool:
    """Whether `X` is a Dask array or DataFrame; tells without importing Dask."""
    return type(X).__module__.split(".")[0] == "dask"


def _lazy_dask(method: str, est: Any, X: Any) -> Any:
    """``logloss.dask.<method>(est, X)``: a lazy Dask result computed block by block."""
    from .. import dask as lld

    return getattr(lld, method)(est, X)


class LogitClassifierMixin(ClassifierMixin):
    """predict / predict_proba / predict_log_proba / score from ``_logits(X)``.

    ``_logits`` returns (n, 1) for a sigmoid model (logit of ``classes_[1]``) and (n, K)
    for a softmax model.
    """

    def _logits(self, X: NDArray) -> NDArray:  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def _validated_logits(self, X: Any) -> NDArray:
        check_is_fitted(self)
        X = validate_X(self, X, self._dtype_, reset=False)
        return self._logits(X)

    def decision_function(self, X: Any) -> NDArray:
        """Confidence scores: the logit of ``classes_[1]`` (binary, shape (n,)) or the K
        logits (shape (n, K)). For a binary softmax model, the logit difference z_1 - z_0."""
        if is_dask_collection(X):  # a lazy Dask array, computed block by block
            return _lazy_dask("decision_function", self, X)
        Z = self._validated_logits(X)
        if Z.shape[1] == 1:
            return Z[:, 0]
        if Z.shape[1] == 2:
            return Z[:, 1] - Z[:, 0]
        return Z

    def predict_proba(self, X: Any) -> NDArray:
        """Class probabilities, shape (n, K), columns ordered as ``classes_``."""
        if is_dask_collection(X):  # a lazy Dask array, computed block by block
            return _lazy_dask("predict_proba", self, X)
        Z = self._validated_logits(X)
        if Z.shape[1] == 1:
            p = sigmoid(Z[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(Z, axis=1)

    def predict_log_proba(self, X: Any) -> NDArray:
        """Log-probabilities, computed in log space (no ``log(softmax)``)."""
        if is_dask_collection(X):  # a lazy Dask array, computed block by block
            return _lazy_dask("predict_log_proba", self, X)
        Z = self._validated_logits(X)
        if Z.shape[1] == 1:
            # log(1 - sigmoid(z)) = log_sigmoid(-z)
            return np.column_stack([log_sigmoid(-Z[:, 0]), log_sigmoid(Z[:, 0])])
        return log_softmax(Z, axis=1)

    def predict(self, X: Any) -> NDArray:
        """Most probable class label for each row."""
        if is_dask_collection(X):  # a lazy Dask array, computed block by block
            return _lazy_dask("predict", self, X)
        Z = self._validated_logits(X)
        idx = (Z[:, 0] > 0).astype(np.intp) if Z.shape[1] == 1 else np.argmax(Z, axis=1)
        return self.classes_[idx]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy; labels in `y` that the model never saw are a ``ValueError``."""
        check_is_fitted(self)
        y_arr = np.asarray(y)
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:
            y_arr = y_arr[:, 0]
        unseen = np.setdiff1d(np.unique(y_arr), self.classes_)
        if unseen.size:
            raise ValueError(
                f"`y` contains label(s) the model never saw in fit: {unseen.tolist()[:5]}; "
                f"known classes_ are {self.classes_.tolist()}"
            )
        if not is_dask_collection(X):
            check_same_rows(X, y_arr)
        return super().score(X, y, sample_weight=sample_weight)


def encode_labels(y: Any, classes: NDArray, name: str = "y") -> NDArray:
    """Indices of `y` in `classes`; unknown labels are a ``ValueError``."""
    y = np.asarray(y).reshape(-1)
    idx = np.searchsorted(classes, y)
    idx = np.clip(idx, 0, len(classes) - 1)
    bad = classes[idx] != y
    if bad.any():
        raise ValueError(
            f"`{name}` contains label(s) not in classes_ {classes.tolist()}: "
            f"{np.unique(y[bad]).tolist()[:5]}"
        )
    return idx
