"""Every input check of logloss, with its error message, in one place.

Public functions call these before any computation; kernels assume valid input
and never check again. Messages name the argument and what arrived, e.g.
"`label_smoothing` must be in [0, 1); got 1.5".

The checks work on NumPy arrays and on arrays of any Array API namespace (see
``logloss._array``), with that namespace's operations: only a boolean verdict and, for
the message, the one offending element travel to the host.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ._array import (
    any_true,
    asarray_in,
    astype,
    dtype_kind,
    dtype_name,
    first_index,
    float_dtypes,
    get_namespace,
    index_dtype,
    shape_of,
    to_numpy,
)

REDUCTIONS = ("none", "mean", "sum")


def _describe(x: Any) -> str:
    """A short description of what arrived, for error messages."""
    if isinstance(x, np.ndarray):
        return f"an array of dtype {x.dtype} and shape {x.shape}"
    if get_namespace(x) is not np:
        return f"an array of dtype {dtype_name(x.dtype)} and shape {shape_of(x)}"
    shown = x.item() if isinstance(x, np.generic) else x  # 10.91, not np.float64(10.91)
    return f"{type(x).__name__} {shown!r}"[:120]


_KIND_WORDS = {
    "b": "boolean",
    "i": "integer",
    "u": "integer",
    "c": "complex",
    "U": "string",
    "S": "bytes",
    "O": "object",
}


def as_float_array(x: Any, name: str) -> Any:
    """`x` as an array of float16, float32 or float64 (no copy when possible).

    NumPy arrays and array-likes give a NumPy array; an array of another Array API
    namespace is returned as it is (same namespace, same device).
    Integer, boolean, complex, string and object arrays are a ``TypeError``:
    logits and probabilities are real numbers, and silently casting labels
    passed in the wrong position hides bugs.
    """
    xp = get_namespace(x)
    arr = to_numpy(x) if xp is np else x
    if arr.dtype not in float_dtypes(xp):
        kind = _KIND_WORDS.get(dtype_kind(xp, arr.dtype) if xp is not np else arr.dtype.kind, "")
        raise TypeError(
            f"`{name}` must be a real floating-point array (float16, float32 or float64); "
            f"got {kind + ' ' if kind else ''}dtype {dtype_name(arr.dtype)}"
        )
    return arr


def as_real_array(x: Any, name: str, dtype: Any, like: Any = None) -> Any:
    """`x` (float, integer or boolean) converted to `dtype`; other kinds are a ``TypeError``.

    With `like` (an array of another namespace), `x` is first moved to `like`'s
    namespace and device.
    """
    xp = np if like is None else get_namespace(like)
    arr = asarray_in(xp, x, like)
    kind = arr.dtype.kind if xp is np else dtype_kind(xp, arr.dtype)
    if kind not in ("b", "i", "u", "f"):
        raise TypeError(f"`{name}` must be a real numeric array; got dtype {dtype_name(arr.dtype)}")
    return astype(xp, arr, dtype)


def check_reduction(reduction: Any) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"`reduction` must be one of 'none', 'mean', 'sum'; got {reduction!r}")
    return reduction


class InvalidParameterError(ValueError, TypeError):
    """An argument or hyperparameter of the wrong type.

    A ``TypeError`` (the kind of mistake it is) and a ``ValueError`` (what the estimators
    have always raised for any bad hyperparameter), as scikit-learn's
    ``InvalidParameterError`` is. A value of the right type outside its range is a plain
    ``ValueError``.
    """


def _what(value: Any) -> str:
    """What arrived, for a hyperparameter's message: ``'big' (str)``, ``10.91 (float64)``.

    A numpy scalar is shown as the number it holds, never as ``np.float64(10.91)``.

    Examples
    --------
    >>> _what(np.float64(10.91)), _what("big")
    ('10.91 (float64)', "'big' (str)")
    """
    shown = value.item() if isinstance(value, np.generic) else value
    return f"{shown!r} ({type(value).__name__})"


def _interval(
    low: float | None, high: float | None, low_inclusive: bool, high_inclusive: bool
) -> str:
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    lb = "[" if (low is not None and low_inclusive) else "("
    hb = "]" if (high is not None and high_inclusive) else ")"
    return f"{lb}{lo}, {hi}{hb}"


def check_scalar(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    allow_inf: bool = False,
    hyperparameter: bool = False,
) -> float:
    """A real scalar within [low, high] (bounds optional, inclusivity per side), as a float.

    NaN is always refused, infinities unless `allow_inf`. A bool, a string or any other
    non-number is an :class:`InvalidParameterError` (a ``TypeError``); a number outside the
    interval is a ``ValueError``. `hyperparameter` words the message for an estimator's
    parameter ("`C` must be a number in (0, inf); got 'big' (str)") rather than for a
    function's argument ("`gamma` must be a finite number in [0, inf); got -1.0").

    Examples
    --------
    >>> check_scalar(0.5, "label_smoothing", low=0.0, high=1.0, high_inclusive=False)
    0.5
    >>> check_scalar("big", "C", low=0.0, low_inclusive=False, hyperparameter=True)
    Traceback (most recent call last):
    ...
    logloss._validation.InvalidParameterError: `C` must be a number in (0, inf); got 'big' (str)
    """
    original = value
    interval = _interval(low, high, low_inclusive, high_inclusive)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value.item()
        elif hyperparameter:
            raise InvalidParameterError(
                f"`{name}` must be a number in {interval}; got {_what(original)}"
            )
        else:
            raise InvalidParameterError(f"`{name}` must be a real number; got {_describe(value)}")
    value = float(value)
    ok = not math.isnan(value) and (allow_inf or math.isfinite(value))
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if ok and high is not None:
        ok = value <= high if high_inclusive else value < high
    if not ok:
        if hyperparameter:
            raise ValueError(f"`{name}` must be a number in {interval}; got {_what(original)}")
        raise ValueError(f"`{name}` must be a finite number in {interval}; got {value!r}")
    return value


def check_int(value: Any, name: str, *, low: int = 1, allow_none: bool = False) -> int | None:
    """An integer >= `low` (or None when allowed); a bool or a float is the wrong type.

    Examples
    --------
    >>> check_int(3, "max_iter"), check_int(None, "batch_size", allow_none=True)
    (3, None)
    """
    if value is None and allow_none:
        return None
    wrong_type = isinstance(value, bool) or not isinstance(value, numbers.Integral)
    if wrong_type or value < low:
        extra = " or None" if allow_none else ""
        error = InvalidParameterError if wrong_type else ValueError
        raise error(f"`{name}` must be an integer >= {low}{extra}; got {_what(value)}")
    return int(value)


def check_choice(value: Any, name: str, choices: tuple) -> Any:
    """One of `choices` (strings, or None): anything else is a ``ValueError``.

    Examples
    --------
    >>> check_choice("l2", "penalty", ("l2", "l1", None))
    'l2'
    """
    if not isinstance(value, (str, type(None))) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {options}; got {_what(value)}")
    return value


def check_bool(value: Any, name: str) -> bool:
    """True or False (NumPy's bools too); anything else is the wrong type."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"`{name}` must be True or False; got {_what(value)}")
    return bool(value)


def check_callback(value: Any, name: str = "callback") -> Any:
    """A callable or None."""
    if value is not None and not callable(value):
        raise InvalidParameterError(f"`{name}` must be callable or None; got {_what(value)}")
    return value


def check_number_or_auto(value: Any, name: str) -> float | str:
    """A positive step size, or the string "auto"."""
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(f"`{name}` must be a positive number or 'auto'; got {_what(value)}")
        return value
    return check_scalar(value, name, low=0.0, low_inclusive=False, hyperparameter=True)


def check_compute_dtype(value: Any, X_dtype: Any = None) -> np.dtype:
    """The compute dtype: "float32"/"float64" (or the NumPy types); None follows X.

    Examples
    --------
    >>> check_compute_dtype(None, np.float32), check_compute_dtype("float64")
    (dtype('float32'), dtype('float64'))
    """
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


def check_finite_columns(X: np.ndarray, feature_names: Any = None, name: str = "X") -> None:
    """NaN or inf in the 2-D `X` is a ``ValueError`` naming the first bad column (and its row).

    Examples
    --------
    >>> check_finite_columns(np.array([[0.0, np.inf]]), ["a", "b"])
    Traceback (most recent call last):
    ...
    ValueError: Input `X` contains inf in column 1 ('b'), first at row 0; every feature must be finite (impute or drop missing values first)
    """  # noqa: E501
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


def check_finite_sparse(X: Any, feature_names: Any = None, name: str = "X") -> None:
    """NaN or inf among the stored values of a CSR matrix `X` is a ``ValueError`` naming
    the first bad column (and its first bad row), as :func:`check_finite_columns` does.

    Examples
    --------
    >>> from scipy.sparse import csr_matrix
    >>> check_finite_sparse(csr_matrix(np.array([[0.0, 1.0], [np.nan, 0.0]])))
    Traceback (most recent call last):
    ...
    ValueError: Input `X` contains NaN in column 0, first at row 1; every feature must be finite (impute or drop missing values first)
    """  # noqa: E501
    bad = np.flatnonzero(~np.isfinite(X.data))
    if bad.size == 0:
        return
    cols = np.asarray(X.indices)[bad]
    # the row of stored value i is the last row whose start is at or before i
    rows = np.searchsorted(np.asarray(X.indptr), bad, side="right") - 1
    col = int(cols.min())
    first = int(np.argmin(np.where(cols == col, rows, np.iinfo(np.int64).max)))
    row = int(rows[first])
    kind = "NaN" if np.isnan(X.data[bad[first]]) else "inf"
    label = f"column {col}"
    if feature_names is not None:
        label += f" ({feature_names[col]!r})"
    raise ValueError(
        f"Input `{name}` contains {kind} in {label}, first at row {row}; "
        "every feature must be finite (impute or drop missing values first)"
    )


def check_label_smoothing(value: Any) -> float:
    return check_scalar(value, "label_smoothing", low=0.0, high=1.0, high_inclusive=False)


def check_softcap(value: Any) -> float | None:
    if value is None:
        return None
    return check_scalar(value, "softcap", low=0.0, low_inclusive=False)


def check_axis(axis: Any, ndim: int, name: str = "logits") -> int:
    """Normalise `axis` for an array of `ndim` dimensions (negative counts from the end)."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"`axis` must be an integer; got {_describe(axis)}")
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"`axis` {axis} is out of range for `{name}` with {ndim} dimension(s)")
    return axis % ndim


def check_nonempty_classes(n_classes: int, name: str = "logits") -> None:
    if n_classes == 0:
        raise ValueError(f"`{name}` has zero classes along the class axis")


def check_same_shape(a: Any, b: Any, name_a: str, name_b: str) -> None:
    if shape_of(a) != shape_of(b):
        raise ValueError(
            f"`{name_b}` must have the same shape as `{name_a}` {shape_of(a)}; got {shape_of(b)}"
        )


def check_broadcastable(arr: Any, shape: tuple[int, ...], name: str, to: str) -> None:
    shape, arr_shape = tuple(shape), shape_of(arr)
    try:
        np.broadcast_shapes(arr_shape, shape)
    except ValueError:
        raise ValueError(
            f"`{name}` of shape {arr_shape} does not broadcast to `{to}`'s shape {shape}"
        ) from None
    if np.broadcast_shapes(arr_shape, shape) != shape:
        raise ValueError(f"`{name}` of shape {arr_shape} would enlarge `{to}`'s shape {shape}")


def check_empty_mean(size: int, reduction: str, name: str) -> None:
    """An empty batch has no mean (error); its sum is 0 and 'none' gives an empty array."""
    if size == 0 and reduction == "mean":
        raise ValueError(
            f"`{name}` is empty: the mean over zero elements is undefined "
            "(use reduction='sum' to get 0)"
        )


def fmt_value(v: Any) -> str:
    """A scalar (NumPy scalar or 0-d array of any namespace) as a plain Python literal."""
    if isinstance(v, np.generic):
        return repr(v.item())
    if isinstance(v, (int, float, bool, str)):
        return repr(v)
    try:
        kind = dtype_kind(get_namespace(v), v.dtype)
    except AttributeError:
        return repr(v)
    return repr(bool(v) if kind == "b" else int(v) if kind in "iu" else float(v))


def _first_index(mask: Any) -> tuple[int, ...] | int:
    return first_index(get_namespace(mask), mask)


def check_finite(arr: Any, name: str) -> None:
    """NaN, +inf or -inf anywhere in `arr` is an error naming the first position."""
    xp = get_namespace(arr)
    bad = ~xp.isfinite(arr)
    if any_true(xp, bad):
        where = _first_index(bad)
        raise ValueError(f"`{name}` must be finite; got {fmt_value(arr[where])} at index {where}")


def check_nan_posinf(arr: Any, name: str) -> None:
    """NaN and +inf are errors; -inf (a masked entry) is allowed."""
    xp = get_namespace(arr)
    bad = xp.isnan(arr) | (arr == math.inf)
    if any_true(xp, bad):
        where = _first_index(bad)
        raise ValueError(
            f"`{name}` must not contain NaN or +inf; got {fmt_value(arr[where])} at index {where}"
        )


def raise_bad_row(name: str, row: int, what: str = "NaN or +inf") -> None:
    """Error for a non-finite value found by a kernel's own pass, naming the first bad row."""
    raise ValueError(f"`{name}` must not contain {what}; found in row {row}")


def check_in_unit_interval(arr: Any, name: str) -> None:
    """Values must lie in [0, 1] (NaN is outside)."""
    xp = get_namespace(arr)
    if xp is np and arr.size:
        # two reductions and no temporaries; min/max propagate NaN, which fails both tests
        lo, hi = np.min(arr), np.max(arr)
        if lo >= 0 and hi <= 1:
            return
    bad = ~((arr >= 0) & (arr <= 1))
    if any_true(get_namespace(arr), bad):
        where = _first_index(bad)
        raise ValueError(
            f"`{name}` must be in [0, 1]; got {fmt_value(arr[where])} at index {where}"
        )


def check_labels(
    target: Any,
    shape: tuple[int, ...],
    n_classes: int,
    ignore_index: int | None,
    name: str,
    like: Any = None,
) -> Any:
    """Integer class labels of `shape`, each in [0, n_classes) or equal to `ignore_index`.

    Floating-point labels are accepted when every value is integral (1.0, not 1.5).
    Returns an int64 array (of `like`'s namespace and device when `like` is given).
    """
    xp = np if like is None else get_namespace(like)
    arr = asarray_in(xp, target, like)
    shape = tuple(shape)
    if shape_of(arr) != shape:
        raise ValueError(
            f"`{name}` must have shape {shape} (one label per row); got {shape_of(arr)}"
        )
    kind = arr.dtype.kind if xp is np else dtype_kind(xp, arr.dtype)
    if kind in ("b", "i", "u"):
        labels = astype(xp, arr, index_dtype(xp, like))
    elif kind == "f":
        bad = ~xp.isfinite(arr) | (arr != xp.round(arr))
        if any_true(xp, bad):
            where = _first_index(bad)
            raise ValueError(
                f"`{name}` labels must be integers; got {fmt_value(arr[where])} at index {where}"
            )
        labels = astype(xp, arr, index_dtype(xp, like))
    else:
        raise TypeError(
            f"`{name}` must hold integer class labels; got dtype {dtype_name(arr.dtype)}"
        )
    in_range = (labels >= 0) & (labels < n_classes)
    bad = ~in_range if ignore_index is None else ~in_range & (labels != ignore_index)
    if any_true(xp, bad):
        where = _first_index(bad)
        extra = f" or equal ignore_index={ignore_index}" if ignore_index is not None else ""
        raise ValueError(
            f"`{name}` labels must be in [0, {n_classes}){extra}; "
            f"got {int(labels[where])} at index {where}"
        )
    return labels


def check_ignore_index(ignore_index: Any) -> int:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"`ignore_index` must be an integer; got {_describe(ignore_index)}")
    return int(ignore_index)


def check_probability_ignore_index(ignore_index: int) -> None:
    """PyTorch's rule: probability targets take no non-negative `ignore_index` (a negative
    one, the default -100 included, matches no class and is harmless).

    >>> check_probability_ignore_index(-100)
    >>> check_probability_ignore_index(0)
    Traceback (most recent call last):
    ...
    ValueError: `ignore_index` is not supported for floating point (probability) `target`; ...
    """
    if ignore_index >= 0:
        raise ValueError(
            "`ignore_index` is not supported for floating point (probability) "
            f"`target`; got ignore_index={ignore_index}: it applies to integer labels only"
        )


def check_class_weight(weight: Any, n_classes: int, dtype: Any, like: Any = None) -> Any | None:
    """Per-class weights: 1-D, one per class, finite and non-negative."""
    if weight is None:
        return None
    w = as_real_array(weight, "weight", dtype, like)
    if shape_of(w) != (n_classes,):
        raise ValueError(
            f"`weight` must have shape ({n_classes},), one weight per class; got {shape_of(w)}"
        )
    check_finite(w, "weight")
    if any_true(get_namespace(w), w < 0):
        where = _first_index(w < 0)
        raise ValueError(
            f"`weight` must be non-negative; got {fmt_value(w[where])} at index {where}"
        )
    return w


def check_elementwise_weight(
    weight: Any,
    shape: tuple[int, ...],
    dtype: Any,
    name: str = "weight",
    to: str = "logits",
    like: Any = None,
) -> Any | None:
    """Weights that broadcast to `shape`; finite and non-negative."""
    if weight is None:
        return None
    w = as_real_array(weight, name, dtype, like)
    check_broadcastable(w, shape, name, to)
    check_finite(w, name)
    if any_true(get_namespace(w), w < 0):
        where = _first_index(w < 0)
        raise ValueError(
            f"`{name}` must be non-negative; got {fmt_value(w[where])} at index {where}"
        )
    return w


def check_no_out(out: Any, like: Any) -> None:
    """`out` is NumPy-only: other namespaces have no portable in-place write."""
    if out is not None:
        raise TypeError(
            "`out` is supported for NumPy arrays only; for an array of "
            f"{get_namespace(like).__name__} the gradient is returned as a new array "
            "(pass out=None)"
        )


def check_out(out: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A writeable NumPy array of exactly the gradient's shape and dtype."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"`out` must be a NumPy array; got {type(out).__name__}")
    if out.shape != shape or out.dtype != dtype:
        raise ValueError(
            f"`out` must have shape {shape} and dtype {dtype}; "
            f"got shape {out.shape} and dtype {out.dtype}"
        )
    if not out.flags.writeable:
        raise ValueError("`out` must be writeable; got a read-only array")
    return out
