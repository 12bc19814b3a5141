"""Every input check of logloss, with its error message, in one place.

Public functions call these before any computation; kernels assume valid input
and never check again. Messages name the argument and what arrived, e.g.
"`label_smoothing` must be in [0, 1); got 1.5".
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ._array import FLOAT_DTYPES, to_numpy

REDUCTIONS = ("none", "mean", "sum")


def _describe(x: Any) -> str:
    """A short description of what arrived, for error messages."""
    if isinstance(x, np.ndarray):
        return f"an array of dtype {x.dtype} and shape {x.shape}"
    return f"{type(x).__name__} {x!r}"[:120]


def as_float_array(x: Any, name: str) -> np.ndarray:
    """`x` as a NumPy array of float16, float32 or float64 (no copy when possible).

    Integer, boolean, complex, string and object arrays are a ``TypeError``:
    logits and probabilities are real numbers, and silently casting labels
    passed in the wrong position hides bugs.
    """
    arr = to_numpy(x)
    if arr.dtype not in FLOAT_DTYPES:
        kind = {
            "b": "boolean",
            "i": "integer",
            "u": "integer",
            "c": "complex",
            "U": "string",
            "S": "bytes",
            "O": "object",
        }.get(arr.dtype.kind, "")
        raise TypeError(
            f"`{name}` must be a real floating-point array (float16, float32 or float64); "
            f"got {kind + ' ' if kind else ''}dtype {arr.dtype}"
        )
    return arr


def as_real_array(x: Any, name: str, dtype: np.dtype) -> np.ndarray:
    """`x` (float, integer or boolean) converted to `dtype`; other kinds are a ``TypeError``."""
    arr = to_numpy(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be a real numeric array; got dtype {arr.dtype}")
    return arr.astype(dtype, copy=False)


def check_reduction(reduction: Any) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"`reduction` must be one of 'none', 'mean', 'sum'; got {reduction!r}")
    return reduction


def check_scalar(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """A finite real scalar within [low, high] (bounds optional, inclusivity per side)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value.item()
        else:
            raise TypeError(f"`{name}` must be a real number; got {_describe(value)}")
    value = float(value)
    ok = math.isfinite(value)
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if ok and high is not None:
        ok = value <= high if high_inclusive else value < high
    if not ok:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        lb = "[" if (low is not None and low_inclusive) else "("
        hb = "]" if (high is not None and high_inclusive) else ")"
        raise ValueError(f"`{name}` must be a finite number in {lb}{lo}, {hi}{hb}; got {value!r}")
    return value


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
        raise ValueError(
            f"`axis` {axis} is out of range for `{name}` with {ndim} dimension(s)"
        )
    return axis % ndim


def check_nonempty_classes(n_classes: int, name: str = "logits") -> None:
    if n_classes == 0:
        raise ValueError(f"`{name}` has zero classes along the class axis")


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"`{name_b}` must have the same shape as `{name_a}` {a.shape}; got {b.shape}"
        )


def check_broadcastable(arr: np.ndarray, shape: tuple[int, ...], name: str, to: str) -> None:
    try:
        np.broadcast_shapes(arr.shape, shape)
    except ValueError:
        raise ValueError(
            f"`{name}` of shape {arr.shape} does not broadcast to `{to}`'s shape {shape}"
        ) from None
    if np.broadcast_shapes(arr.shape, shape) != shape:
        raise ValueError(
            f"`{name}` of shape {arr.shape} would enlarge `{to}`'s shape {shape}"
        )


def check_empty_mean(size: int, reduction: str, name: str) -> None:
    """An empty batch has no mean (error); its sum is 0 and 'none' gives an empty array."""
    if size == 0 and reduction == "mean":
        raise ValueError(
            f"`{name}` is empty: the mean over zero elements is undefined "
            "(use reduction='sum' to get 0)"
        )


def fmt_value(v: Any) -> str:
    """A NumPy scalar as a plain Python literal (1.5, nan, inf) for messages."""
    return repr(v.item()) if isinstance(v, np.generic) else repr(v)


def _first_index(mask: np.ndarray) -> tuple[int, ...] | int:
    idx = np.unravel_index(int(np.argmax(mask)), mask.shape)
    return int(idx[0]) if len(idx) == 1 else tuple(int(i) for i in idx)


def check_finite(arr: np.ndarray, name: str) -> None:
    """NaN, +inf or -inf anywhere in `arr` is an error naming the first position."""
    bad = ~np.isfinite(arr)
    if bad.any():
        where = _first_index(bad)
        raise ValueError(f"`{name}` must be finite; got {fmt_value(arr[where])} at index {where}")


def check_nan_posinf(arr: np.ndarray, name: str) -> None:
    """NaN and +inf are errors; -inf (a masked entry) is allowed."""
    bad = np.isnan(arr) | np.isposinf(arr)
    if bad.any():
        where = _first_index(bad)
        raise ValueError(
            f"`{name}` must not contain NaN or +inf; got {fmt_value(arr[where])} at index {where}"
        )


def raise_bad_row(name: str, row: int, what: str = "NaN or +inf") -> None:
    """Error for a non-finite value found by a kernel's own pass, naming the first bad row."""
    raise ValueError(f"`{name}` must not contain {what}; found in row {row}")


def check_in_unit_interval(arr: np.ndarray, name: str) -> None:
    """Values must lie in [0, 1] (NaN is outside)."""
    bad = ~((arr >= 0) & (arr <= 1))
    if bad.any():
        where = _first_index(bad)
        raise ValueError(f"`{name}` must be in [0, 1]; got {fmt_value(arr[where])} at index {where}")


def check_labels(
    target: Any, shape: tuple[int, ...], n_classes: int, ignore_index: int | None, name: str
) -> np.ndarray:
    """Integer class labels of `shape`, each in [0, n_classes) or equal to `ignore_index`.

    Floating-point labels are accepted when every value is integral (1.0, not 1.5).
    Returns an int64 array.
    """
    arr = to_numpy(target)
    if arr.shape != shape:
        raise ValueError(f"`{name}` must have shape {shape} (one label per row); got {arr.shape}")
    if arr.dtype.kind in "biu":
        labels = arr.astype(np.int64, copy=False)
    elif arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            where = _first_index(bad)
            raise ValueError(
                f"`{name}` labels must be integers; got {fmt_value(arr[where])} at index {where}"
            )
        labels = arr.astype(np.int64)
    else:
        raise TypeError(f"`{name}` must hold integer class labels; got dtype {arr.dtype}")
    valid = labels != ignore_index if ignore_index is not None else np.ones(shape, bool)
    bad = valid & ((labels < 0) | (labels >= n_classes))
    if bad.any():
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


def check_class_weight(weight: Any, n_classes: int, dtype: np.dtype) -> np.ndarray | None:
    """Per-class weights: 1-D, one per class, finite and non-negative."""
    if weight is None:
        return None
    w = as_real_array(weight, "weight", dtype)
    if w.shape != (n_classes,):
        raise ValueError(
            f"`weight` must have shape ({n_classes},), one weight per class; got {w.shape}"
        )
    check_finite(w, "weight")
    if (w < 0).any():
        where = _first_index(w < 0)
        raise ValueError(f"`weight` must be non-negative; got {fmt_value(w[where])} at index {where}")
    return w


def check_elementwise_weight(
    weight: Any, shape: tuple[int, ...], dtype: np.dtype, name: str = "weight", to: str = "logits"
) -> np.ndarray | None:
    """Weights that broadcast to `shape`; finite and non-negative."""
    if weight is None:
        return None
    w = as_real_array(weight, name, dtype)
    check_broadcastable(w, shape, name, to)
    check_finite(w, name)
    if (w < 0).any():
        where = _first_index(w < 0)
        raise ValueError(f"`{name}` must be non-negative; got {fmt_value(w[where])} at index {where}")
    return w


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
