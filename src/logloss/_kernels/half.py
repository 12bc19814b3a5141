"""Softmax cross-entropy on 16-bit logits: ``ce_labels_half`` and ``ce_probs_half``.

The logits are a (N, C) ``uint16`` array of raw bfloat16 (``kind="bfloat16"``) or IEEE
float16 (``kind="float16"``) bits, as a framework hands them over without a copy (for
PyTorch: ``tensor.view(torch.int16).numpy().view(np.uint16)``). Results and errors are
those of ``ce_labels`` / ``ce_probs`` on the logits widened exactly to float32 (the
compute dtype: float32 accumulation, as the float32 kernel): ``(main, lse)`` float64
(N,), and the gradient, rounded to nearest (ties to even) to the 16-bit format, written
into ``grad_out``, a (N, C) ``uint16`` array that may be the logits themselves (in place).

Path: the numba kernels of ``_numba_half`` (one float32 scratch row per thread, memory
traffic 2 bytes read + 2 written per element) for C-contiguous arrays and a `grad_out`
that is `z` or shares no memory with it; anything else (strided views, overlaps,
``LOGLOSS_DISABLE_NUMBA``, no numba) widens the whole array with NumPy, runs ``ce_labels``
/ ``ce_probs`` on it and rounds the gradient back: same results. :func:`last_path` says
``"numba"`` after the half kernels and ``"portable"`` after the NumPy conversion.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_choice
from .dispatch import _numba_disabled, kernels, load_numba, set_path
from .softmax import _raise_status, ce_labels, ce_probs

__all__ = ["ce_labels_half", "ce_probs_half", "widen_half", "narrow_half"]

_KINDS = ("bfloat16", "float16")
_U16 = np.dtype(np.uint16)
_INT64 = np.iinfo(np.int64)


def widen_half(bits: np.ndarray, kind: str) -> np.ndarray:
    """The 16-bit values `bits` (uint16) of `kind` as a new float32 array (exact).

    >>> widen_half(np.array([0x3F80, 0xC000], np.uint16), "bfloat16")
    array([ 1., -2.], dtype=float32)
    """
    check_choice(kind, "kind", _KINDS)
    bits = np.asarray(bits, dtype=np.uint16)
    if kind == "float16":
        return bits.view(np.float16).astype(np.float32)
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def narrow_half(x: np.ndarray, kind: str, out: np.ndarray | None = None) -> np.ndarray:
    """float32 `x` rounded to nearest (ties to even) to `kind`, as uint16 bits (into `out`).

    >>> narrow_half(np.array([1.0, 1.00390625], np.float32), "bfloat16")  # a tie: to even
    array([16256, 16256], dtype=uint16)
    """
    check_choice(kind, "kind", _KINDS)
    x = np.asarray(x, dtype=np.float32)
    if kind == "float16":
        with np.errstate(over="ignore"):  # beyond float16's range: inf, as intended
            bits = x.astype(np.float16).view(np.uint16)
    else:
        u = x.view(np.uint32)
        r = (u + (np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1)))) >> np.uint32(16)
        nan = (u >> np.uint32(16)) | np.uint32(0x40)  # a quiet NaN (u + 0x7fff may wrap)
        bits = np.where(np.isnan(x), nan, r).astype(np.uint16)
    if out is None:
        return bits
    out[...] = bits
    return out


def ce_labels_half(
    z: np.ndarray,
    y: np.ndarray,
    *,
    kind: str,
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
    """``ce_labels`` on 16-bit logits: `z` (N, C) uint16 bits of `kind` ("bfloat16" or
    "float16"); the gradient goes into `grad_out` (N, C) uint16 in the same format.

    >>> import numpy as np
    >>> main, lse = ce_labels_half(np.zeros((1, 2), np.uint16), np.array([1]), kind="bfloat16")
    >>> main.round(4)   # log 2
    array([0.6931])
    """
    _check(z, grad_out, kind, name)
    mode = _route(z, grad_out)
    if mode is not None and not (_INT64.min <= ignore_index <= _INT64.max):
        mode = None
    options = dict(
        weight=weight, ignore_index=ignore_index, smoothing=smoothing, softcap=softcap,
        z_loss=z_loss, scale=scale, scale_z=scale_z, name=name,
    )  # fmt: skip
    if mode is None:
        return _converted(ce_labels, z, y, kind, grad_out, options)
    labels = np.ascontiguousarray(y, dtype=np.int64)
    return _run(
        kernels("half").ce_labels_half_kernel, z, labels, kind, weight, grad_out, mode, name,
        int(ignore_index), float(smoothing), _cap(softcap), float(z_loss), float(scale),
        float(scale_z),
    )  # fmt: skip


def ce_probs_half(
    z: np.ndarray,
    t: np.ndarray,
    *,
    kind: str,
    weight: np.ndarray | None = None,
    smoothing: float = 0.0,
    softcap: float | None = None,
    z_loss: float = 0.0,
    scale: float = 1.0,
    scale_z: float = 0.0,
    grad_out: np.ndarray | None = None,
    name: str = "logits",
) -> tuple[np.ndarray, np.ndarray]:
    """``ce_probs`` on 16-bit logits (as :func:`ce_labels_half`); the targets `t` are
    real numbers (read as float32, the compute dtype).

    >>> import numpy as np
    >>> z = np.zeros((1, 2), np.uint16)
    >>> ce_probs_half(z, np.array([[0.5, 0.5]]), kind="float16")[0].round(4)   # log 2
    array([0.6931])
    """
    _check(z, grad_out, kind, name)
    mode = _route(z, grad_out)
    if mode is not None and (not isinstance(t, np.ndarray) or t.shape != z.shape):
        mode = None
    if mode == "write" and np.may_share_memory(t, grad_out):
        mode = None  # the targets are read in pass 3: not from the gradient's memory
    options = dict(
        weight=weight, smoothing=smoothing, softcap=softcap, z_loss=z_loss, scale=scale,
        scale_z=scale_z, name=name,
    )  # fmt: skip
    if mode is None:
        return _converted(ce_probs, z, t, kind, grad_out, options)
    targets = np.ascontiguousarray(t, dtype=np.float32)
    return _run(
        kernels("half").ce_probs_half_kernel, z, targets, kind, weight, grad_out, mode, name,
        float(smoothing), _cap(softcap), float(z_loss), float(scale), float(scale_z),
    )  # fmt: skip


def _check(z: Any, grad_out: Any, kind: Any, name: str) -> None:
    """The arguments the 16-bit entry points add: uint16 bits of a known kind."""
    check_choice(kind, "kind", _KINDS)
    if not isinstance(z, np.ndarray) or z.dtype != _U16 or z.ndim != 2:
        raise ValueError(f"`{name}` must be a 2-D uint16 array of {kind} bits; got {_describe(z)}")
    if grad_out is not None and (
        not isinstance(grad_out, np.ndarray)
        or grad_out.dtype != _U16
        or grad_out.shape != z.shape
        or not grad_out.flags.writeable
    ):
        raise ValueError(
            f"`grad_out` must be a writeable uint16 array of shape {z.shape}; "
            f"got {_describe(grad_out)}"
        )


def _describe(a: Any) -> str:
    if isinstance(a, np.ndarray):
        return f"{a.dtype} array of shape {a.shape}"
    return type(a).__name__


def _route(z: np.ndarray, grad_out: np.ndarray | None) -> str | None:
    """'none' or 'write' for the half kernels; None for the NumPy conversion."""
    if _numba_disabled() or not z.flags.c_contiguous or z.shape[1] == 0:
        return None
    if grad_out is None:
        mode = "none"
    elif not grad_out.flags.c_contiguous:
        return None
    elif grad_out.size == 0 or (
        grad_out.__array_interface__["data"][0] == z.__array_interface__["data"][0]
        and grad_out.strides == z.strides
    ):
        mode = "write"  # in place, or nothing to write
    elif np.may_share_memory(z, grad_out):
        return None
    else:
        mode = "write"
    return mode if load_numba() else None


def _cap(softcap: float | None) -> np.float32:
    return np.float32(0.0 if softcap is None else softcap)


def _converted(entry, z, target, kind, grad_out, options):
    """The NumPy path: widen all of z, run the float32 entry point, round the gradient."""
    x = widen_half(z, kind)
    main, lse = entry(x, target, grad_out=None if grad_out is None else x, **options)
    if grad_out is not None:
        narrow_half(x, kind, out=grad_out)
    set_path("portable")
    return main, lse


def _run(kernel, z, target, kind, weight, grad_out, mode, name, *options):
    """Run a kernel of ``_numba_half``; raise its first bad row's error as ce_labels does."""
    set_path("numba")
    n, c = z.shape
    if weight is None:
        w, has_w = np.ones(c, np.float32), False
    else:
        w, has_w = np.ascontiguousarray(weight, dtype=np.float32), True
    if mode == "none":
        g, write = np.empty((1, c), np.uint16), False
    else:
        g, write = grad_out, True
    main = np.empty(n, np.float64)
    lse = np.empty(n, np.float64)
    status = np.empty(n, np.int8)
    nb = kernels("half").row_blocks(n)
    kernel(z, target, kind == "bfloat16", w, has_w, *options, g, write, main, lse, status, nb)
    if status.any():
        _raise_status(status, name)
    return main, lse
