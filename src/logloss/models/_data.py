"""The estimators' data checks: X, y and weights as the objectives need them.

Each check is scikit-learn's where one exists (``validate_data`` records
``n_features_in_`` and ``feature_names_in_``), with the messages of
:mod:`logloss._validation` where logloss says more (the first non-finite column).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, _num_samples, validate_data

from .._array import is_sparse
from .._validation import check_compute_dtype, check_finite_columns, check_finite_sparse


def validate_X(est: BaseEstimator, X: Any, dtype: np.dtype | None, reset: bool) -> NDArray:
    """X as a C-contiguous 2-D float array checked against the fitted number of features
    (a CSR matrix for an estimator that accepts sparse X: see :func:`validate_sparse_X`)."""
    if is_sparse(X):
        return validate_sparse_X(est, X, dtype, reset)
    if _plain_X(X, dtype) and not hasattr(est, "feature_names_in_"):
        if reset:
            est.n_features_in_ = X.shape[1]
        if X.shape[1] == getattr(est, "n_features_in_", None):
            check_finite_columns(X)
            return X
    with _naming_text_columns(X):
        X = validate_data(
            est,
            X,
            reset=reset,
            dtype=[np.float64, np.float32] if dtype is None else dtype,
            order="C",
            ensure_all_finite=False,
        )
    check_finite_columns(X, getattr(est, "feature_names_in_", None))
    return X


def validate_Xy(
    est: BaseEstimator, X: Any, y: Any, dtype_param: Any
) -> tuple[NDArray, NDArray, NDArray, np.dtype]:
    """(X, encoded y, classes, compute dtype) for fitting; one class is an error."""
    check_same_rows(X, y)
    if is_sparse(y):
        raise ValueError(
            f"`y` must be a 1-D array of class labels; got a sparse matrix "
            f"({type(y).__name__}) of shape {y.shape}; pass y.toarray().ravel()"
        )
    if is_sparse(X):
        X, y = validate_sparse_X(est, X, None, True, y=y, dtype_param=dtype_param)
        dtype = X.dtype
    elif _plain_X(X, None) and _plain_labels(y, X.shape[0]):
        # what validate_data would do with these arrays: no copy, no conversion
        est.n_features_in_ = X.shape[1]
        if hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
    else:
        with _naming_text_columns(X):
            X, y = validate_data(
                est, X, y, dtype=[np.float64, np.float32], order="C", ensure_all_finite=False
            )
    if not is_sparse(X):
        dtype = check_compute_dtype(dtype_param, X.dtype)
        X = np.ascontiguousarray(X, dtype=dtype)
        check_finite_columns(X, getattr(est, "feature_names_in_", None))
    if not (y.ndim == 1 and y.dtype.kind in "biu"):
        # 1-D integer or boolean labels are always "binary" or "multiclass" (0.2 ms)
        check_classification_targets(y)
    classes, y_enc = np.unique(y, return_inverse=True)
    check_two_classes(classes, "train a classifier")
    return X, y_enc.reshape(-1), classes, dtype


def validate_sparse_X(
    est: BaseEstimator,
    X: Any,
    dtype: np.dtype | None,
    reset: bool,
    *,
    y: Any = None,
    dtype_param: Any = None,
) -> Any:
    """A ``scipy.sparse`` X as a CSR matrix in a float dtype, never densified.

    CSC, COO and the other formats are converted to CSR once (as scikit-learn does);
    the stored values must be finite. An estimator accepts sparse X when its class says
    ``_accepts_sparse = True``; any other refuses it with a ``TypeError`` that says which
    estimators do. With `y` (fitting), returns ``(X, y)`` and X is in the compute dtype of
    `dtype_param` (None follows X: float32 stays float32, anything else is float64).
    """
    if not getattr(est, "_accepts_sparse", False):
        raise TypeError(
            f"`X` is a sparse matrix ({type(X).__name__}), which {type(est).__name__} does "
            "not accept; LogisticRegression and SoftmaxRegression fit and predict on sparse "
            "X, or convert it with X.toarray() if its dense form fits in memory"
        )
    dtypes = [np.float64, np.float32] if dtype is None else dtype
    if y is None:
        X = validate_data(est, X, reset=reset, accept_sparse="csr", dtype=dtypes,
                          ensure_all_finite=False)  # fmt: skip
    else:
        X, y = validate_data(est, X, y, accept_sparse="csr", dtype=dtypes,
                             ensure_all_finite=False)  # fmt: skip
        compute = check_compute_dtype(dtype_param, X.dtype)
        if X.dtype != compute:
            X = X.astype(compute)
    check_finite_sparse(X, getattr(est, "feature_names_in_", None))
    return X if y is None else (X, y)


@contextlib.contextmanager
def _naming_text_columns(X: Any) -> Iterator[None]:
    """A failed conversion of a DataFrame with text columns says which, and what to do."""
    try:
        yield
    except ValueError:
        found = _text_columns(X)
        if not found:
            raise
        names = ", ".join(repr(name) for name, _ in found[:10])
        more = f" and {len(found) - 10} more" if len(found) > 10 else ""
        raise ValueError(
            f"`X` has {len(found)} column{'s' if len(found) != 1 else ''} of text, which an "
            f"estimator cannot use as numbers: {names}{more} (e.g. {found[0][1]!r}); encode "
            "them first, e.g. with make_pipeline(logloss.TablePreprocessor(), estimator), "
            "which standardises numbers and one-hot encodes text as `logloss fit` does"
        ) from None


def _text_columns(X: Any) -> list[tuple[str, Any]]:
    """The columns of a pandas DataFrame that do not convert to numbers, each with a value
    that does not (none for anything else)."""
    if not (type(X).__module__.startswith("pandas") and hasattr(X, "columns")):
        return []
    import pandas as pd

    found = []
    for j, name in enumerate(X.columns):
        column = X.iloc[:, j]
        if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
            continue
        values = column.dropna()
        bad = pd.to_numeric(values.astype(object), errors="coerce").isna().to_numpy()
        if bad.any():
            found.append((str(name), values.iloc[int(np.flatnonzero(bad)[0])]))
    return found


def _plain_X(X: Any, dtype: np.dtype | None) -> bool:
    """X is an array that ``validate_data`` would return unchanged (a fast path worth
    0.2 ms per call, a twentieth of a small fit): a non-empty C-contiguous 2-D float
    NumPy array of the requested dtype, without feature names."""
    return (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.shape[0] >= 1
        and X.shape[1] >= 1
        and (X.dtype in (np.float64, np.float32) if dtype is None else X.dtype == dtype)
        and X.flags.c_contiguous
    )


def _plain_labels(y: Any, n_rows: int) -> bool:
    """y is a 1-D integer or boolean NumPy array of `n_rows` labels."""
    return type(y) is np.ndarray and y.ndim == 1 and y.dtype.kind in "biu" and y.size == n_rows


def check_two_classes(classes: NDArray, purpose: str) -> None:
    """At least two classes are needed (to `purpose`); the message names the one found."""
    if classes.size < 2:
        raise ValueError(
            f"`y` must contain at least 2 classes to {purpose}; got only one class: "
            f"{classes[0].tolist()!r}"
        )


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


def check_class_weight_param(value: Any, name: str = "class_weight") -> Any:
    """None, "balanced" or a dict {label: weight}."""
    if not (
        value is None or isinstance(value, dict) or (isinstance(value, str) and value == "balanced")
    ):
        raise ValueError(
            f"`{name}` must be None, 'balanced' or a dict {{label: weight}}; "
            f"got {value!r} ({type(value).__name__})"
        )
    return value


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
    if class_weight is not None:  # checked with the other hyperparameters
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


def encode_labels(y: Any, classes: NDArray, name: str = "y") -> NDArray:
    """Indices of `y` in `classes`; unknown labels are a ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> encode_labels(["b", "a"], np.array(["a", "b"]))
    array([1, 0])
    """
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


def split_validation(
    X: NDArray,
    y: NDArray,
    sw: NDArray | None,
    fraction: float,
    random_state: Any,
) -> tuple[NDArray, NDArray, NDArray | None, NDArray, NDArray, NDArray | None]:
    """A stratified (when possible) train / validation split for early stopping."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(X.shape[0])
    try:
        tr, va = train_test_split(idx, test_size=fraction, random_state=random_state, stratify=y)
    except ValueError:
        tr, va = train_test_split(idx, test_size=fraction, random_state=random_state)
    if tr.size == 0 or va.size == 0:
        raise ValueError(
            f"`validation_fraction`={fraction} leaves an empty training or validation set "
            f"for {X.shape[0]} samples"
        )
    tr, va = np.sort(tr), np.sort(va)
    sw_tr = None if sw is None else sw[tr]
    sw_va = None if sw is None else sw[va]
    return X[tr], y[tr], sw_tr, X[va], y[va], sw_va
