"""Softmax cross-entropy entry points: ``ce_labels`` and ``ce_probs``, routed by ``dispatch``.

Arrays positionally, options by keyword (PyTorch's names): same arguments, results and
errors as the portable functions of ``_portable`` (which hold the formulas).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import raise_bad_row
from ._portable import ce_labels as _ce_labels_portable
from ._portable import ce_probs as _ce_probs_portable
from .dispatch import kernels, route, set_path

__all__ = ["ce_labels", "ce_probs"]

_INT64 = np.iinfo(np.int64)


def ce_labels(
    z: np.ndarray,
    y: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    ignore_index: int = -100,
    smoothing: float = 0.0,
    softcap: float | None = None,
    z_loss: float = 0.0,
    scale: float = 1.0,
    scale_z: float = 0.0,
    grad_out: np.ndarray | None = None,
    name: str = "logits",
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax cross-entropy with integer labels per row, and its gradient.

    Same arguments, results and errors as ``_portable.ce_labels_xp`` (which see), with
    `grad_out` for its `need_grad`: returns (main, lse) as float64 (N,) and writes the
    gradient of ``scale * sum(main) + scale_z * z_loss * sum(lse**2)`` into `grad_out`.

    >>> import numpy as np
    >>> main, lse = ce_labels(np.array([[0.0, 0.0]]), np.array([1]))
    >>> main.round(4)   # log 2
    array([0.6931])
    """
    mode = route(z, grad_out, 2)
    if mode is not None and not (_INT64.min <= ignore_index <= _INT64.max):
        mode = None
    if mode is None:
        set_path("portable")
        return _ce_labels_portable(
            z, y, weight=weight, ignore_index=ignore_index, smoothing=smoothing,
            softcap=softcap, z_loss=z_loss, scale=scale, scale_z=scale_z,
            grad_out=grad_out, name=name,
        )  # fmt: skip
    labels = np.ascontiguousarray(y, dtype=np.int64)
    return _run_rows(
        kernels("ce").ce_labels_kernel, z, labels, weight, grad_out, mode, name,
        int(ignore_index), float(smoothing), _cap(z, softcap), float(z_loss), float(scale),
        float(scale_z),
    )  # fmt: skip


def ce_probs(
    z: np.ndarray,
    t: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    smoothing: float = 0.0,
    softcap: float | None = None,
    z_loss: float = 0.0,
    scale: float = 1.0,
    scale_z: float = 0.0,
    grad_out: np.ndarray | None = None,
    name: str = "logits",
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax cross-entropy with probability targets per row, and its gradient.

    Same arguments, results and errors as ``_portable.ce_probs_xp`` (which see), with
    `grad_out` for its `need_grad`: returns (main, lse) as float64 (N,).

    >>> import numpy as np
    >>> main, lse = ce_probs(np.array([[0.0, 0.0]]), np.array([[0.5, 0.5]]))
    >>> main.round(4)   # log 2
    array([0.6931])
    """
    mode = route(z, grad_out, 2)
    if mode is not None and (not isinstance(t, np.ndarray) or t.shape != z.shape):
        mode = None
    if mode in ("inplace", "separate") and np.may_share_memory(t, grad_out):
        mode = None  # the targets are read in pass 3 too: not from the gradient's memory
    if mode is None:
        set_path("portable")
        return _ce_probs_portable(
            z, t, weight=weight, smoothing=smoothing, softcap=softcap, z_loss=z_loss,
            scale=scale, scale_z=scale_z, grad_out=grad_out, name=name,
        )  # fmt: skip
    targets = np.ascontiguousarray(t, dtype=z.dtype)
    return _run_rows(
        kernels("ce").ce_probs_kernel, z, targets, weight, grad_out, mode, name,
        float(smoothing), _cap(z, softcap), float(z_loss), float(scale), float(scale_z),
    )  # fmt: skip


def _cap(z: np.ndarray, softcap: float | None) -> Any:
    """The kernels' softcap argument: in z's dtype, 0 for none."""
    return z.dtype.type(0.0 if softcap is None else softcap)


def _run_rows(kernel, z, target, weight, grad_out, mode, name, *options):
    """Run a row kernel of ``_numba_ce`` on the numba path; raise its first row's error.

    The kernels take ``(z, target, w, has_w, *options, g, write, in_place, main, lse,
    status)``: `g` is `grad_out`, or a one-row dummy when there is no gradient.
    """
    set_path("numba")
    n, c = z.shape
    if weight is None:
        w, has_w = np.ones(c, z.dtype), False
    else:
        w, has_w = np.ascontiguousarray(weight, dtype=z.dtype), True
    if mode == "none":
        g, write, in_place = np.empty((1, c), z.dtype), False, False
    else:
        g, write, in_place = grad_out, True, mode == "inplace"
    main = np.empty(n, np.float64)
    lse = np.empty(n, np.float64)
    status = np.empty(n, np.int8)
    kernel(z, target, w, has_w, *options, g, write, in_place, main, lse, status)
    if status.any():
        _raise_status(status, name)
    return main, lse


def _raise_status(status: np.ndarray, name: str) -> None:
    """Raise the portable path's error for the first bad row, in the portable order."""
    ce = kernels("ce")
    for code, what in (
        (ce.STATUS_NONFINITE, None),
        (ce.STATUS_EMPTY, "a row with no finite entry (all -inf)"),
        (ce.STATUS_MASKED_TARGET, "-inf at the target class"),
        (ce.STATUS_MASKED_POSITIVE, "-inf at a class with positive target"),
    ):
        hit = status == code
        if hit.any():
            if what is None:
                raise_bad_row(name, int(np.argmax(hit)))
            raise_bad_row(name, int(np.argmax(hit)), what)
