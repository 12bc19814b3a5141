"""Cross-entropy rows of 16-bit logits: validation and scales around the half kernels.

The logits arrive as a C-contiguous ``(N, C)`` ``uint16`` array of bfloat16 or float16
bits (a framework's tensor memory, uncopied); ``_kernels.ce_labels_half`` /
``ce_probs_half`` widen each row to float32 in cache, so the pass reads and writes 2
bytes per element. Everything else is :func:`~logloss.losses.softmax.cross_entropy_rows`'
semantics: the same checks and messages, the same reduction scales, and the same
``count`` override.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import _kernels
from .._validation import (
    as_real_array,
    check_class_weight,
    check_empty_mean,
    check_in_unit_interval,
    check_labels,
    check_nonempty_classes,
    check_probability_ignore_index,
)
from ._layout import label_scales
from .softmax import check_ce_options

__all__ = ["HalfRows", "cross_entropy_rows_half"]

_F32 = np.dtype(np.float32)


class HalfRows(NamedTuple):
    """Per-row float64 ``main`` and ``lse`` and how to reduce them (as ``CERows``)."""

    main: np.ndarray
    lse: np.ndarray
    scale_main: float
    scale_z: float
    z_loss: float
    reduction: str


def cross_entropy_rows_half(
    bits: np.ndarray,
    target: Any,
    *,
    kind: str,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    reduction: str = "mean",
    grad_out: np.ndarray | None = None,
    count: float | None = None,
) -> HalfRows:
    """One pass over ``(N, C)`` 16-bit logits; the gradient (if `grad_out`) in 16 bits."""
    reduction, ignore_index, eps, z_loss, softcap, count = check_ce_options(
        reduction, ignore_index, label_smoothing, z_loss, softcap, count
    )
    n, c = bits.shape
    check_nonempty_classes(c, "logits")
    if count is None:
        check_empty_mean(n, reduction, "logits")
    w = check_class_weight(weight, c, _F32)
    t = np.asarray(target)
    options = dict(kind=kind, weight=w, smoothing=eps, softcap=softcap, z_loss=z_loss)
    if t.dtype.kind == "f" and t.shape == (n, c):
        check_probability_ignore_index(ignore_index)
        t = np.ascontiguousarray(as_real_array(t, "target", _F32))
        check_in_unit_interval(t, "target")
        sm = sz = 1.0 / n if reduction == "mean" and n else 1.0
        entry = _kernels.ce_probs_half
    else:
        t = check_labels(t, (n,), c, ignore_index, "target")
        sm, sz = label_scales(t, w, ignore_index, reduction)
        options["ignore_index"] = ignore_index
        entry = _kernels.ce_labels_half
    if count is not None:
        sm = sz = 1.0 / count
    main, lse = entry(bits, t, scale=sm, scale_z=sz, grad_out=grad_out, **options)
    return HalfRows(main, lse, sm, sz, z_loss, reduction)
