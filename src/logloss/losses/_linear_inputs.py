"""The inputs of ``linear_cross_entropy``: their checks, and the explanation of a chunk
the kernel rejected (which input made its logits bad).

The checks are specific to a linear layer's operands (`hidden`, `weight` laid out like
``torch.nn.Linear.weight``, `bias`, per-class `class_weight`); the generic ones come from
``logloss._validation``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._array import get_namespace
from .._validation import (
    _describe,
    as_float_array,
    as_real_array,
    check_finite,
    check_nan_posinf,
    check_out,
)

__all__ = [
    "check_chunk_size",
    "check_linear_class_weight",
    "check_operands",
    "check_grad_out",
    "rows_name",
    "explain_bad_chunk",
]


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def check_chunk_size(chunk_size: Any) -> int | None:
    """A positive integer number of rows per chunk, or None for the default."""
    if chunk_size is None:
        return None
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
        raise TypeError(
            f"`chunk_size` must be a positive integer or None; got {_describe(chunk_size)}"
        )
    if chunk_size < 1:
        raise ValueError(f"`chunk_size` must be a positive integer or None; got {int(chunk_size)}")
    return int(chunk_size)


def check_linear_class_weight(
    class_weight: Any, n_classes: int, dtype: np.dtype
) -> np.ndarray | None:
    """Per-class weights named `class_weight` (here `weight` is the projection matrix)."""
    if class_weight is None:
        return None
    w = as_real_array(class_weight, "class_weight", dtype)
    if w.shape != (n_classes,):
        raise ValueError(
            f"`class_weight` must have shape ({n_classes},), one weight per class "
            f"(row of `weight`); got {w.shape}"
        )
    check_finite(w, "class_weight")
    negative = w < 0
    if negative.any():
        i = int(np.argmax(negative))
        raise ValueError(f"`class_weight` must be non-negative; got {w[i]!r} at index {i}")
    return w


def check_operands(hidden: Any, weight: Any, bias: Any):
    """(hidden, weight, bias, result dtype): float arrays of shapes (..., D), (V, D), (V,)."""
    for name, value in (("hidden", hidden), ("weight", weight), ("bias", bias)):
        if get_namespace(value) is not np:
            # the chunked products run on NumPy's BLAS; converting another library's
            # arrays (perhaps on a GPU) behind the caller's back would hide a copy
            raise TypeError(
                f"`linear_cross_entropy` takes NumPy arrays (or array-likes); got "
                f"{type(value).__module__}.{type(value).__qualname__} for `{name}`: "
                "convert it with numpy.asarray (on the CPU), or use cross_entropy on the "
                "logits, which accepts any Array API array"
            )
    h = as_float_array(hidden, "hidden")
    w = as_float_array(weight, "weight")
    if h.ndim < 1:
        raise ValueError("`hidden` must have shape (N, D) (or (..., D)); got a scalar")
    if w.ndim != 2:
        raise ValueError(f"`weight` must have shape (V, D), one row per class; got shape {w.shape}")
    if h.shape[-1] != w.shape[1]:
        raise ValueError(
            f"`hidden` and `weight` disagree on the feature size D: `hidden` has shape {h.shape} "
            f"(D = {h.shape[-1]}) but `weight` has shape {w.shape} (D = {w.shape[1]}); "
            "`weight` is laid out (V, D) like torch.nn.Linear.weight"
        )
    if w.shape[0] == 0:
        raise ValueError(f"`weight` must have at least one row (class); got shape {w.shape}")
    b = None
    if bias is not None:
        b = as_float_array(bias, "bias")
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"`bias` must have shape ({w.shape[0]},), one entry per row of `weight`; "
                f"got {b.shape}"
            )
        # -inf in the bias masks a class (probability 0); NaN and +inf are errors
        check_nan_posinf(b, "bias")
    dtypes = [h.dtype, w.dtype] + ([] if b is None else [b.dtype])
    return h, w, b, np.result_type(*dtypes)


def check_grad_out(
    out: Any, like: np.ndarray, name: str, readers: list[tuple[str, np.ndarray]]
) -> np.ndarray:
    """`out` for the gradient of `like`; it must not overlap an array every chunk reads."""
    check_out(out, like.shape, like.dtype)
    for reader_name, arr in readers:
        if arr is not None and np.may_share_memory(out, arr):
            raise ValueError(
                f"`out` for the gradient of `{name}` must not share memory with "
                f"`{reader_name}`, which every chunk reads"
            )
    return out


# ---------------------------------------------------------------------------
# errors found by the kernel: name the input responsible
# ---------------------------------------------------------------------------


def rows_name(name: str, start: int, stop: int, n: int) -> str:
    """`name`, or `name[start:stop]` when a chunk is not all of the rows."""
    return name if (start, stop) == (0, n) else f"{name}[{start}:{stop}]"


def explain_bad_chunk(err, h_rows, weight, bias, y, t, ignore_index, start, stop, n):
    """The kernel rejected a chunk's logits: find which input made them bad, and say so.

    Runs only on the error path, so the inputs are scanned only when something is wrong.
    """
    check_finite(h_rows, rows_name("hidden", start, stop, n))
    check_finite(weight, "weight")
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.matmul(h_rows, weight.T)
        if bias is not None:
            z += bias
    masked = np.isneginf(z)
    # finite inputs can still overflow; -inf is a mask only where the bias put it
    overflowed = (
        np.isnan(z) | np.isposinf(z) | (masked & np.isfinite(bias if bias is not None else 0))
    )
    if y is not None:
        counted = y != ignore_index
        bad_target = counted & masked[np.arange(z.shape[0]), np.where(counted, y, 0)]
        what = "the row's target class"
    else:
        bad_target = (masked & (t > 0)).any(axis=1)
        what = "a class with positive target probability"
    if overflowed.any(axis=1).any():
        row = start + int(np.argmax(overflowed.any(axis=1)))
        raise ValueError(
            f"the logits `hidden @ weight.T` overflow {z.dtype} in row {row} of `hidden`; "
            "they must be finite (scale `hidden` or `weight` down, or use float64)"
        ) from err
    if masked.all(axis=1).any():
        row = start + int(np.argmax(masked.all(axis=1)))
        raise ValueError(f"`bias` masks every class with -inf; found for row {row}") from err
    if bad_target.any():
        row = start + int(np.argmax(bad_target))
        raise ValueError(
            f"`bias` is -inf (a masked class) at {what}; found in row {row} of `target`"
        ) from err
    raise err
