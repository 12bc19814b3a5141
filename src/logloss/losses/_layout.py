"""What every loss shares: the class-axis layout, the kind of target, reductions and scales.

A loss reshapes its logits to the canonical ``(rows, classes)`` layout the kernels take
(:class:`ClassLayout`), gets per-row float64 values back, and reduces them
(:func:`reduce_rows`) with the scales of its ``reduction`` (:func:`label_scales` for
hard labels; the number of rows or elements otherwise).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .. import _buffers
from .._array import (
    acc_dtype,
    as_result,
    astype,
    compute_dtype,
    dtype_kind,
    get_namespace,
    shape_of,
)
from .._validation import check_axis, check_nonempty_classes, check_out

Reduction = Literal["none", "mean", "sum"]

__all__ = ["Reduction", "ClassLayout", "is_probability_target", "reduce_rows", "label_scales"]


class ClassLayout:
    """Moves the class axis of `arr` last and flattens the rest into rows.

    Keeps the canonical logits ``z`` (compute dtype, C-contiguous) and knows how to
    hand out a gradient buffer that writes straight into ``out`` whenever the layout
    allows it (class axis last, contiguous, same dtype), so ``out=logits`` works in place.
    For other namespaces ``z`` is a new array of the same namespace and ``grad_from``
    brings a canonical gradient back to `arr`'s layout and dtype.

    >>> import numpy as np
    >>> lay = ClassLayout(np.zeros((2, 3, 4)), axis=1, name="logits")
    >>> lay.z.shape, lay.batch_shape, lay.n_classes
    ((8, 3), (2, 4), 3)
    """

    def __init__(self, arr: Any, axis: int, name: str):
        if arr.ndim == 0:
            raise ValueError(
                f"`{name}` must have at least one dimension (the classes); got a scalar"
            )
        self.arr = arr
        self.xp = xp = get_namespace(arr)
        shape = shape_of(arr)
        self.axis = check_axis(axis, arr.ndim, name)
        self.n_classes = shape[self.axis]
        check_nonempty_classes(self.n_classes, name)
        self.batch_shape = shape[: self.axis] + shape[self.axis + 1 :]
        self.dtype = arr.dtype
        self.cdtype = compute_dtype(arr.dtype, xp)
        self.last = self.axis == arr.ndim - 1
        moved = arr if self.last else xp.moveaxis(arr, self.axis, -1)
        if xp is np:
            self.z = np.ascontiguousarray(moved, dtype=self.cdtype).reshape(-1, self.n_classes)
        else:
            self.z = xp.reshape(astype(xp, moved, self.cdtype), (-1, self.n_classes))

    @property
    def n_rows(self) -> int:
        return self.z.shape[0]

    def to_rows(self, t: Any) -> Any:
        """A per-class array of `arr`'s layout (probability targets) in canonical (rows, C)."""
        xp = self.xp
        if not self.last:
            t = xp.moveaxis(t, self.axis, -1)
        if xp is np:
            return np.ascontiguousarray(t).reshape(-1, self.n_classes)
        return xp.reshape(t, (-1, self.n_classes))

    def grad_from(self, g: Any) -> Any:
        """A canonical (rows, C) gradient of another namespace, in `arr`'s layout and dtype."""
        xp = self.xp
        g = xp.reshape(g, self.batch_shape + (self.n_classes,))
        if not self.last:
            g = xp.moveaxis(g, -1, self.axis)
        return as_result(g, self.dtype, xp)

    def grad_buffer(self, out: np.ndarray | None) -> np.ndarray:
        """The (rows, C) buffer a kernel writes the gradient into: `out` itself if it can."""
        if out is not None:
            check_out(out, self.arr.shape, self.dtype)
        direct = self.last and self.cdtype == self.dtype
        if direct and out is not None and out.flags.c_contiguous:
            self._out, self._buf = out, out.reshape(-1, self.n_classes)
        else:
            self._out, self._buf = out, _buffers.empty(self.z.shape, self.z.dtype)
        return self._buf

    def finish_grad(self) -> np.ndarray:
        """The gradient written into :meth:`grad_buffer`, in `arr`'s layout (in `out` if given)."""
        buf, out = self._buf, self._out
        if out is not None and np.shares_memory(buf, out):
            return out
        g = buf.reshape(self.batch_shape + (self.n_classes,))
        if not self.last:
            g = np.moveaxis(g, -1, self.axis)
        if out is None:
            return np.ascontiguousarray(g, dtype=self.dtype)
        np.copyto(out, g, casting="same_kind")
        return out


def is_probability_target(target: Any, logits: Any) -> bool:
    """True for class probabilities (floats of the logits' shape), False for labels."""
    xp = get_namespace(target)
    kind = target.dtype.kind if xp is np else dtype_kind(xp, target.dtype)
    return shape_of(target) == shape_of(logits) and kind == "f"


def reduce_rows(
    main: Any,
    extra: Any | None,
    reduction: str,
    scale_main: float,
    scale_extra: float,
    shape: tuple[int, ...],
    dtype: Any,
) -> Any:
    """Reduce per-row float64 values: `main` and an optional separately normalised `extra`.

    >>> import numpy as np
    >>> reduce_rows(np.array([1.0, 3.0]), None, "mean", 0.5, 0.0, (2,), np.float32)
    np.float32(2.0)
    """
    xp = get_namespace(main)
    if reduction == "none":
        total = main if extra is None else main + extra
        return as_result(xp.reshape(total, shape), dtype, xp)
    if xp is not np:  # stays on the device: a 0-d array of the input's namespace
        total = _scaled_sum(xp, main, scale_main)
        if extra is not None:
            total = total + _scaled_sum(xp, extra, scale_extra)
        return as_result(total, dtype, xp)
    value = float(_scaled_sum(np, main, scale_main))
    if extra is not None:
        value += float(_scaled_sum(np, extra, scale_extra))
    return as_result(np.float64(value), dtype)


def _scaled_sum(xp: Any, values: Any, scale: float) -> Any:
    """``sum(values) * scale``, or ``sum(values * scale)`` where the sum alone overflows."""
    with np.errstate(over="ignore"):
        total = xp.sum(values)
    if scale < 1.0 and not bool(xp.isfinite(total)) and bool(xp.all(xp.isfinite(values))):
        return xp.sum(values * scale)
    return total * scale


def label_scales(y: Any, w: Any | None, ignore_index: int, reduction: str) -> tuple[float, float]:
    """(scale of the weighted loss, scale of the unweighted z-loss) for hard labels.

    >>> import numpy as np
    >>> label_scales(np.array([0, 1, -100]), np.array([1.0, 3.0]), -100, "mean")
    (0.25, 0.5)
    """
    if reduction != "mean":
        return 1.0, 1.0
    xp = get_namespace(y)
    valid = y != ignore_index
    n_valid = int(xp.count_nonzero(valid))
    if w is None:
        total_w = float(n_valid)
    elif xp is np:
        total_w = float(np.sum(w[y[valid]], dtype=np.float64))
    else:
        w_y = xp.where(valid, xp.take(w, xp.where(valid, y, 0)), 0.0)
        total_w = float(xp.sum(astype(xp, w_y, acc_dtype(xp, y))))
    # mean = sum_i w_{y_i} l_i / sum_i w_{y_i}; zero total weight gives 0, not NaN
    return (1.0 / total_w if total_w > 0 else 0.0), (1.0 / n_valid if n_valid else 0.0)
