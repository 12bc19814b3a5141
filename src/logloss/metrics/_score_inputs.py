"""Checks and encoding of the inputs of :func:`log_loss` and :func:`brier_score`.

Generic checks (finite values, real dtypes) come from :mod:`logloss._validation`;
what is particular to scoring probabilities against class labels lives here:
`y_prob` in [0, 1] with one column per class, labels encoded against those columns
as scikit-learn's ``LabelBinarizer`` does (sorted classes), per-sample weights.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._array import FLOAT_DTYPES, to_numpy
from .._validation import (
    _describe,
    _first_index,
    as_real_array,
    check_finite,
    check_in_unit_interval,
)


def py_value(value: Any) -> Any:
    """A NumPy scalar as the Python value, so messages read ``1.5``, not ``np.float64(1.5)``."""
    return value.item() if isinstance(value, np.generic) else value


def raise_at(name: str, requirement: str, arr: np.ndarray, bad: np.ndarray) -> None:
    """ValueError naming `name`, the requirement, the first bad value and its index."""
    where = _first_index(bad)
    raise ValueError(f"`{name}` {requirement}; got {py_value(arr[where])!r} at index {where}")


def as_probabilities(y_prob: Any) -> np.ndarray:
    """`y_prob` as a 1-D or 2-D float array in scikit-learn's dtype, finite, in [0, 1].

    Float arrays keep their dtype (float16, float32, float64); integer and boolean
    arrays and Python sequences become float64, as ``sklearn.utils.check_array``
    does. The dtype matters: probabilities are clipped to its machine epsilon.
    """
    has_numpy_dtype = hasattr(getattr(y_prob, "dtype", None), "kind")
    arr = to_numpy(y_prob)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"`y_prob` must be a real numeric array of probabilities; got dtype {arr.dtype}"
        )
    if arr.dtype not in FLOAT_DTYPES or not has_numpy_dtype:
        arr = arr.astype(np.float64)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"`y_prob` must be 1-D (probability of the positive class) or 2-D "
            f"(n_samples, n_classes); got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"`y_prob` is empty (shape {arr.shape}); need at least one sample")
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise ValueError(f"`y_prob` has zero classes (shape {arr.shape})")
    check_finite(arr, "y_prob")
    check_in_unit_interval(arr, "y_prob")
    return arr


def check_label_values(arr: np.ndarray, name: str) -> None:
    """Class labels are integers, booleans or strings; floats must be integral, never NaN."""
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise_at(name, "holds class labels, which must be integers or strings", arr, bad)
    elif arr.dtype.kind == "c":
        raise TypeError(f"`{name}` must hold integer or string class labels; got dtype {arr.dtype}")
    elif arr.dtype.kind == "O":
        for i, v in enumerate(arr.ravel()):
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                raise ValueError(
                    f"`{name}` must not contain missing labels; got {v!r} at index {i}"
                )


def unique_labels(arr: np.ndarray, name: str) -> np.ndarray:
    try:
        return np.unique(arr)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in arr.ravel()})
        raise TypeError(
            f"`{name}` mixes label types ({', '.join(kinds)}); use one type for all labels"
        ) from None


def encode_labels(y_true: np.ndarray, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """(classes, codes): sorted classes and each label's column index, as LabelBinarizer."""
    if labels is None:
        classes = unique_labels(y_true, "y_true")
        codes = np.searchsorted(classes, y_true)
        return classes, codes
    lab = to_numpy(labels)
    if lab.ndim != 1:
        raise ValueError(f"`labels` must be a 1-D sequence of class labels; got shape {lab.shape}")
    check_label_values(lab, "labels")
    classes = unique_labels(lab, "labels")
    if classes.shape[0] != lab.shape[0]:
        raise ValueError(f"`labels` must not contain duplicates; got {lab.tolist()}")
    if classes.shape[0] < 2:
        raise ValueError(f"`labels` must contain at least two classes; got {lab.tolist()}")
    if not np.array_equal(classes, lab):
        warnings.warn(
            # scikit-learn's words, so that filters on its message match ours
            f"Labels passed were {labels}. But this function assumes labels are ordered "
            f"lexicographically. Pass the ordered labels={classes.tolist()} and ensure that "
            "the columns of y_prob correspond to this ordering.",
            UserWarning,
            stacklevel=4,
        )
    codes = np.zeros(y_true.shape, np.intp)
    found = np.zeros(y_true.shape, bool)
    try:  # a label of another type (a string among numbers) is simply not found
        codes = np.clip(np.searchsorted(classes, y_true), 0, classes.shape[0] - 1)
        found = np.asarray(classes[codes] == y_true, dtype=bool)
    except TypeError:
        pass
    if found.shape != y_true.shape or not found.all():
        found = found if found.shape == y_true.shape else np.zeros(y_true.shape, bool)
        missing = unique_labels(y_true[~found], "y_true").tolist()
        raise ValueError(
            f"`y_true` contains labels {missing[:10]} that are not in `labels` {lab.tolist()}"
        )
    return classes, codes


def check_sample_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    """Per-sample weights: 1-D, length n, finite, non-negative, not all zero."""
    if sample_weight is None:
        return None
    w = as_real_array(to_numpy(sample_weight), "sample_weight", np.float64)
    if w.shape != (n,):
        raise ValueError(
            f"`sample_weight` must have shape ({n},), one weight per sample; got {w.shape}"
        )
    check_finite(w, "sample_weight")
    if (w < 0).any():
        raise_at("sample_weight", "must be non-negative", w, w < 0)
    if not w.any():
        raise ValueError("`sample_weight` must contain at least one non-zero weight; got all zeros")
    return w


def check_normalize(normalize: Any) -> bool:
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"`normalize` must be a bool; got {_describe(normalize)}")
    return bool(normalize)


def weighted_mean(losses: np.ndarray, w: np.ndarray | None, normalize: bool) -> float:
    """Weighted mean (normalize) or weighted sum of per-sample losses, as a Python float."""
    if w is None:
        total, weight = float(np.sum(losses)), float(losses.shape[0])
    else:
        total, weight = float(np.dot(w, losses)), float(np.sum(w))
    return total / weight if normalize else total


class Targets:
    """`y_true` encoded against the columns of `y_prob`.

    Exactly one of `codes` (column index of each sample's class) and `indicator`
    (an (n, n_classes) 0/1 matrix) is set.
    """

    def __init__(
        self, classes: np.ndarray | None, codes: np.ndarray | None, indicator: np.ndarray | None
    ) -> None:
        self.classes = classes
        self.codes = codes
        self.indicator = indicator

    @property
    def n_classes(self) -> int:
        if self.indicator is not None:
            return self.indicator.shape[1]
        return self.classes.shape[0]


def as_true_labels(y_true: Any, n: int) -> np.ndarray:
    arr = to_numpy(y_true)
    if arr.ndim == 2 and arr.shape[1] == 1:  # a column vector is a 1-D target
        arr = arr[:, 0]
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"`y_true` must be 1-D class labels or a 2-D indicator matrix; got shape {arr.shape}"
        )
    if arr.shape[0] != n:
        raise ValueError(
            f"`y_true` must have one entry per row of `y_prob` ({n}); got {arr.shape[0]}"
        )
    check_label_values(arr, "y_true")
    return arr


def encode_targets(y_true: np.ndarray, labels: Any, *, binary_1d: bool) -> Targets:
    """Encode `y_true` as scikit-learn's LabelBinarizer would (sorted classes)."""
    if y_true.ndim == 2:
        if labels is not None:
            raise ValueError(
                "`labels` cannot be used when `y_true` is a 2-D indicator matrix "
                f"(shape {y_true.shape}); its columns are the classes"
            )
        if y_true.dtype.kind not in "biuf":
            raise TypeError(
                f"a 2-D `y_true` must be a 0/1 indicator matrix; got dtype {y_true.dtype}"
            )
        bad = (y_true != 0) & (y_true != 1)
        if bad.any():
            raise_at(
                "y_true", "given as a 2-D indicator matrix must hold only 0 and 1", y_true, bad
            )
        return Targets(None, None, y_true.astype(np.float64))
    classes, codes = encode_labels(y_true, labels)
    if classes.shape[0] == 1:
        raise ValueError(
            f"`y_true` contains only one label ({py_value(classes[0])!r}); pass all expected class "
            f"labels with `labels=`{' (e.g. labels=[0, 1])' if binary_1d else ''}"
        )
    return Targets(classes, codes, None)


def check_columns(targets: Targets, n_columns: int, labels: Any) -> None:
    if targets.n_classes == n_columns:
        return
    if targets.indicator is not None:
        where = f"`y_true` has {targets.n_classes} indicator columns"
    elif labels is None:
        where = (
            f"`y_true` has {targets.n_classes} classes {targets.classes.tolist()[:10]}; "
            "pass all class labels with `labels=`"
        )
    else:
        where = f"`labels` has {targets.n_classes} classes"
    raise ValueError(f"`y_prob` has {n_columns} column(s) but {where}")


def proba_argument(y_proba: Any, y_prob: Any) -> Any:
    """The probabilities, passed as `y_proba` (scikit-learn >= 1.9) or as `y_prob`."""
    if y_proba is not None and y_prob is not None:
        raise TypeError("pass the probabilities as `y_proba` or as `y_prob`, not both")
    if y_proba is None and y_prob is None:
        raise TypeError("missing the probabilities: pass `y_proba`")
    return y_proba if y_proba is not None else y_prob


def warn_if_not_normalised(p: np.ndarray) -> None:
    """UserWarning when a row of 2-D `y_prob` does not sum to 1 within sqrt(eps) (scikit-learn)."""
    sums = np.sum(p, axis=1)
    tol = 1e-8 + math.sqrt(float(np.finfo(p.dtype).eps))
    off = np.abs(sums.astype(np.float64) - 1.0) > tol
    if off.any():
        row = int(np.argmax(off))
        warnings.warn(
            # scikit-learn's words first, so that filters on its message match ours
            "The y_prob values do not sum to one. Make sure to pass probabilities. "
            f"(row {row} sums to {float(sums[row])!r})",
            UserWarning,
            stacklevel=3,
        )


def prepare(y_true: Any, y_prob: Any, labels: Any, sample_weight: Any):
    """Shared validation of log_loss and brier_score (2-D or multiclass-capable path)."""
    p = as_probabilities(y_prob)
    n = p.shape[0]
    t = as_true_labels(y_true, n)
    w = check_sample_weight(sample_weight, n)
    binary_1d = p.ndim == 1 or p.shape[1] == 1
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    return p, t, w, binary_1d
