"""Fused loss + gradient kernels behind one dispatching interface.

Callers (``logloss.losses``, ``logloss.linear``, the model objectives) pass
canonical, validated arrays in the compute dtype: 2-D logits ``(N, C)`` with the
class axis last. The functions here choose the implementation; the portable NumPy
path (``_portable``) defines the semantics every other path must reproduce.
See ``_portable`` for the exact formulas of each function.

Dispatch. A call goes to the numba kernels (``_numba_ce``, ``_numba_bce``) when

- the logits are a C-contiguous float32 or float64 NumPy array (read-only is fine: the
  kernels only read them; so is an unaligned one, as Dask hands over blocks it received
  from another worker: numba compiles a variant with unaligned loads, as fast here), and
- ``grad_out`` is None, or a writeable C-contiguous array of the logits' shape and
  dtype that is either the logits themselves (in place) or shares no memory with them,
- numba imports, and the environment variable ``LOGLOSS_DISABLE_NUMBA`` is not set to
  a true value (``1``, ``true``, ``yes``): setting it forces the portable path.

Everything else (strided views, float16, partial overlaps, exotic index values) takes the
portable path, with the same results. numba is imported on the first call that needs it,
never at ``import logloss``. :func:`last_path` tells which path the latest call took and
:func:`which_path` which one a call would take (for tests and debugging).

Both paths return per-row (per-element) float64 values; reductions across rows happen in
the caller, so results do not depend on the number of threads. Errors (NaN or +inf in
the logits, masked targets...) are the portable path's, found from the kernels' own row
statistics. When a call raises, ``grad_out`` may have been partly written (with
``grad_out`` the logits, they may have been partly overwritten).
"""

from __future__ import annotations

import math
import os
import threading
from typing import Any

import numpy as np

from .._validation import check_in_unit_interval, fmt_value, raise_bad_row
from ._portable import bce_logits as _bce_logits_portable
from ._portable import ce_labels as _ce_labels_portable
from ._portable import ce_probs as _ce_probs_portable

__all__ = [
    "ce_labels",
    "ce_probs",
    "bce_logits",
    "matvec",
    "rmatvec",
    "logistic_loss_grad",
    "last_path",
    "which_path",
]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_INT64 = np.iinfo(np.int64)
_BCE_BLOCK = 8192  # elements per parallel block of bce_logits
_MAX_PERIOD = 1 << 20  # longer weight periods are materialised full-size
_MATVEC_MIN = 1 << 16  # smaller matrices: NumPy's BLAS call costs less than a parallel launch
_RMATVEC_PARTS = 64  # fixed row slices of rmatvec: results independent of the thread count

_state = threading.local()
_modules: dict[str, Any] = {}
_lock = threading.Lock()


# ---------------------------------------------------------------------------
# dispatch
# ---------------------------------------------------------------------------


def last_path() -> str | None:
    """'numba' or 'portable': the path the latest kernel call in this thread took."""
    return getattr(_state, "path", None)


def _set_path(path: str) -> None:
    _state.path = path


def _numba_disabled() -> bool:
    return os.environ.get("LOGLOSS_DISABLE_NUMBA", "").strip().lower() in ("1", "true", "yes")


def _load_numba() -> Any | None:
    """The numba kernel modules, imported on first use; None if numba is unavailable."""
    if "ce" not in _modules:
        with _lock:
            if "ce" not in _modules:
                try:
                    from . import _numba_bce, _numba_ce, _numba_logistic, _numba_matvec
                except ImportError:
                    _modules["ce"] = None
                    _modules["bce"] = None
                    _modules["matvec"] = None
                    _modules["logistic"] = None
                else:
                    _modules["bce"] = _numba_bce
                    _modules["matvec"] = _numba_matvec
                    _modules["logistic"] = _numba_logistic
                    _modules["ce"] = _numba_ce
    return _modules["ce"]


def _kernel_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype in _FLOATS and a.flags.c_contiguous


def _grad_mode(z: np.ndarray, grad_out: np.ndarray | None) -> str | None:
    """'none', 'inplace' or 'separate' when the kernels can write `grad_out`; else None."""
    if grad_out is None:
        return "none"
    if not (
        _kernel_array(grad_out)
        and grad_out.dtype == z.dtype
        and grad_out.shape == z.shape
        and grad_out.flags.writeable
    ):
        return None
    if grad_out.size == 0:
        return "separate"
    same = (
        grad_out.__array_interface__["data"][0] == z.__array_interface__["data"][0]
        and grad_out.strides == z.strides
    )
    if same:
        return "inplace"
    return None if np.may_share_memory(z, grad_out) else "separate"


def which_path(z: Any, grad_out: Any = None) -> str:
    """'numba' or 'portable': the path a kernel call with these logits / gradient buffer
    would take (ignoring whether numba turns out to be importable)."""
    if _numba_disabled() or not _kernel_array(z):
        return "portable"
    return "portable" if _grad_mode(z, grad_out) is None else "numba"


def _route(z: Any, grad_out: Any, ndim: int | None) -> str | None:
    """The gradient mode for the numba path, or None for the portable path."""
    if _numba_disabled() or not _kernel_array(z):
        return None
    if ndim is not None and (z.ndim != ndim or z.shape[-1] == 0):
        return None  # (rows, classes) with at least one class
    mode = _grad_mode(z, grad_out)
    if mode is None or _load_numba() is None:
        return None
    return mode


def _grad_args(z: np.ndarray, grad_out: np.ndarray | None, mode: str):
    """(g, write, in_place) for the kernels; a one-row dummy when there is no gradient."""
    if mode == "none":
        return np.empty((1,) + z.shape[1:], z.dtype), False, False
    return grad_out, True, mode == "inplace"


def _class_weight(w: np.ndarray | None, c: int, dtype: np.dtype) -> tuple[np.ndarray, bool]:
    if w is None:
        return np.ones(c, dtype), False
    return np.ascontiguousarray(w, dtype=dtype), True


def _raise_status(status: np.ndarray, name: str) -> None:
    """Raise the portable path's error for the first bad row, in the portable order."""
    ce = _modules["ce"]
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


# ---------------------------------------------------------------------------
# softmax cross-entropy
# ---------------------------------------------------------------------------


def ce_labels(
    z: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    ignore_index: int,
    eps: float,
    softcap: float | None,
    z_loss: float,
    scale_main: float,
    scale_z: float,
    grad_out: np.ndarray | None = None,
    name: str = "logits",
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax cross-entropy with integer labels per row, and its gradient.

    Same arguments, results and errors as ``_portable.ce_labels`` (which see).
    """
    mode = _route(z, grad_out, 2)
    if mode is not None and not (_INT64.min <= ignore_index <= _INT64.max):
        mode = None
    if mode is None:
        _set_path("portable")
        return _ce_labels_portable(
            z, y, w, ignore_index, eps, softcap, z_loss, scale_main, scale_z, grad_out, name
        )
    _set_path("numba")
    ce = _modules["ce"]
    n, c = z.shape
    dt = z.dtype.type
    yy = np.ascontiguousarray(y, dtype=np.int64)
    ww, has_w = _class_weight(w, c, z.dtype)
    g, write, in_place = _grad_args(z, grad_out, mode)
    main = np.empty(n, np.float64)
    lse = np.empty(n, np.float64)
    status = np.empty(n, np.int8)
    cap = dt(0.0 if softcap is None else softcap)
    ce.ce_labels_kernel(
        z, yy, ww, has_w, int(ignore_index), float(eps), cap, float(z_loss),
        float(scale_main), float(scale_z), g, write, in_place, main, lse, status,
    )  # fmt: skip
    if status.any():
        _raise_status(status, name)
    return main, lse


def ce_probs(
    z: np.ndarray,
    t: np.ndarray,
    w: np.ndarray | None,
    eps: float,
    softcap: float | None,
    z_loss: float,
    scale_main: float,
    scale_z: float,
    grad_out: np.ndarray | None = None,
    name: str = "logits",
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax cross-entropy with probability targets per row, and its gradient.

    Same arguments, results and errors as ``_portable.ce_probs`` (which see).
    """
    mode = _route(z, grad_out, 2)
    if mode is not None and (not isinstance(t, np.ndarray) or t.shape != z.shape):
        mode = None
    if mode in ("inplace", "separate") and np.may_share_memory(t, grad_out):
        mode = None  # the targets are read in pass 3 too: not from the gradient's memory
    if mode is None:
        _set_path("portable")
        return _ce_probs_portable(
            z, t, w, eps, softcap, z_loss, scale_main, scale_z, grad_out, name
        )
    _set_path("numba")
    ce = _modules["ce"]
    n, c = z.shape
    dt = z.dtype.type
    tt = np.ascontiguousarray(t, dtype=z.dtype)
    ww, has_w = _class_weight(w, c, z.dtype)
    g, write, in_place = _grad_args(z, grad_out, mode)
    main = np.empty(n, np.float64)
    lse = np.empty(n, np.float64)
    status = np.empty(n, np.int8)
    cap = dt(0.0 if softcap is None else softcap)
    ce.ce_probs_kernel(
        z, tt, ww, has_w, float(eps), cap, float(z_loss), float(scale_main), float(scale_z),
        g, write, in_place, main, lse, status,
    )  # fmt: skip
    if status.any():
        _raise_status(status, name)
    return main, lse


# ---------------------------------------------------------------------------
# sigmoid binary cross-entropy
# ---------------------------------------------------------------------------


def _elementwise_operand(
    a: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype
) -> tuple[np.ndarray | None, int]:
    """`a` (broadcastable to `shape`) as (flat array, period): period 0 means full-size
    (indexed like the flat logits); p > 0 means a[i] = flat[i % p]; None for ones."""
    if a is None:
        return None, 1
    a = np.asarray(a, dtype=dtype)
    if a.shape == shape:
        return np.ascontiguousarray(a).reshape(-1), 0
    # drop leading 1s: what remains must equal the trailing dims of `shape` to repeat
    dims = a.shape
    while dims and dims[0] == 1:
        dims = dims[1:]
    if len(dims) <= len(shape) and dims == shape[len(shape) - len(dims) :]:
        return np.ascontiguousarray(a).reshape(-1), max(1, math.prod(dims))
    return np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1), 0


def bce_logits(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    pw: np.ndarray | None,
    eps: float,
    scale: float,
    grad_out: np.ndarray | None = None,
    name: str = "logits",
    *,
    reduce: bool = False,
    check_target: bool = False,
) -> np.ndarray:
    """Elementwise sigmoid BCE on logits and its gradient; `w`, `pw` broadcast to `x`.

    Same arguments, results and errors as ``_portable.bce_logits`` (which see), and:

    - ``reduce=True``: return a 1-D float64 array whose sum is ``sum(scale * loss)``
      (per-block partial sums on the numba path: the per-element losses are never
      stored) instead of the per-element losses;
    - ``check_target=True``: targets outside [0, 1] (or NaN) raise the validation
      layer's error; the numba path finds them in its own pass over `y`.
    """
    mode = _route(x, grad_out, None)
    if mode is not None and (not isinstance(y, np.ndarray) or y.shape != x.shape):
        mode = None
    if mode is not None and grad_out is not None and mode != "none":
        shared = [a for a in (y, w, pw) if isinstance(a, np.ndarray)]
        if any(np.may_share_memory(a, grad_out) for a in shared):
            mode = None
    if mode is None:
        _set_path("portable")
        if check_target:
            check_in_unit_interval(y, "target")
        loss = _bce_logits_portable(x, y, w, pw, eps, scale, grad_out, name)
        return loss.reshape(-1) * scale if reduce else loss
    _set_path("numba")
    bce = _modules["bce"]
    dt = x.dtype.type
    shape = x.shape
    n = x.size
    xf = x.reshape(-1)
    yf = np.ascontiguousarray(y, dtype=x.dtype).reshape(-1)
    ops = [_elementwise_operand(a, shape, x.dtype) for a in (w, pw)]
    periods = [p for _, p in ops if p > 0]
    period = math.lcm(*periods) if periods else 1
    if period > _MAX_PERIOD:
        ops = [
            (np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1), 0)
            if a is not None and p > 0
            else (arr, p)
            for (arr, p), a in zip(ops, (w, pw), strict=True)
        ]
        period = 1
    block = period * max(1, -(-_BCE_BLOCK // period))
    prepared = []
    for arr, p in ops:
        if arr is None:
            prepared.append((np.ones(block, x.dtype), False))
        elif p == 0:
            prepared.append((arr, True))
        else:
            prepared.append((np.tile(arr, block // p), False))
    (wa, w_full), (pwa, pw_full) = prepared
    if mode == "none":
        g, write, in_place = np.empty(1, x.dtype), False, False
    else:
        g, write, in_place = grad_out.reshape(-1), True, mode == "inplace"
    n_blocks = -(-n // block)
    loss = np.empty(n_blocks if reduce else n, np.float64)
    bad = np.zeros(n_blocks, np.int8)
    keep = dt(1.0 - eps) if eps > 0.0 else dt(1.0)
    half = dt(0.5 * eps) if eps > 0.0 else dt(0.0)
    bce.bce_kernel(
        xf, yf, wa, w_full, pwa, pw_full, keep, half, dt(scale), g, write, in_place, loss,
        reduce, float(scale), block, bad,
    )  # fmt: skip
    if bad.any():
        if check_target and (bad & 2).any():
            check_in_unit_interval(y, "target")  # raises, naming the first bad target
        # the first non-finite loss: a NaN or +-inf logit (the target, if unchecked, is
        # finite there: a NaN target is outside [0, 1])
        xs = g if in_place else xf  # in place, the bad value was kept
        for b in np.flatnonzero(bad & 1):
            b0 = int(b) * block
            part = xs[b0 : b0 + block]
            hit = ~np.isfinite(part)
            if hit.any():
                first = b0 + int(np.argmax(hit))
                where = tuple(int(i) for i in np.unravel_index(first, shape))
                raise ValueError(
                    f"`{name}` must be finite; got {fmt_value(xs[first])} at index {where}"
                )
        if (bad & 1).any():
            raise ValueError(
                f"the loss of finite `{name}` overflows {x.dtype}: `weight` or `pos_weight` "
                "is too large for this dtype"
            )
    return loss if reduce else loss.reshape(shape)


# ---------------------------------------------------------------------------
# matrix-vector products of one-logit linear models
# ---------------------------------------------------------------------------


def _matvec_route(X: Any, v: Any) -> bool:
    return (
        not _numba_disabled()
        and _kernel_array(X)
        and X.ndim == 2
        and X.size >= _MATVEC_MIN
        and isinstance(v, np.ndarray)
        and v.dtype == X.dtype
        and v.ndim == 1
        and v.flags.c_contiguous
        and _load_numba() is not None
    )


def matvec(X: np.ndarray, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``X @ w`` for X (n, d) and w (d,), in X's dtype; written into `out` (n,) if given.

    numba (``_numba_matvec``) for large C-contiguous float32/float64 X, else NumPy.
    """
    if out is None:
        out = np.empty(X.shape[0], X.dtype)
    if _matvec_route(X, w) and out.flags.c_contiguous and out.dtype == X.dtype:
        _modules["matvec"].matvec_kernel(X, w, out)
    else:
        np.matmul(X, w, out=out)
    return out


def rmatvec(X: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``X.T @ g`` for X (n, d) and g (n,), as float64 (d,).

    numba (``_numba_matvec``) for large C-contiguous float32/float64 X: fixed row slices,
    float64 totals, so the result does not depend on the number of threads.
    """
    if _matvec_route(X, g):
        parts = np.empty((_RMATVEC_PARTS, X.shape[1]))
        _modules["matvec"].rmatvec_kernel(X, g, parts)
        return parts.sum(axis=0)
    return np.asarray(X.T @ g, dtype=np.float64)


def logistic_loss_grad(
    X: np.ndarray,
    y: np.ndarray,
    s: np.ndarray | None,
    w: np.ndarray,
    b: float,
    scale: float,
    need_grad: bool = True,
) -> tuple[float, np.ndarray | None, float] | None:
    """Binary logistic regression's loss and gradient in one pass over X (``_numba_logistic``).

    Returns ``(sum_i s_i l_i, sum_i s_i g_i x_i, sum_i s_i g_i)`` (float64; the gradient
    None without `need_grad`) where ``l_i = BCE(x_i . w + b, y_i)``, ``g_i`` its derivative
    in z and ``s_i`` = ``s[i]``, or `scale` when `s` is None. Returns None when the fused
    kernel does not apply (not a large C-contiguous float32/float64 X, numba disabled or
    missing) or when the loss is not finite: the caller then takes the unfused path, which
    reports non-finite logits with its usual error.
    """
    if not (
        _matvec_route(X, w)
        and isinstance(y, np.ndarray)
        and y.dtype == X.dtype
        and y.shape == (X.shape[0],)
        and (s is None or (isinstance(s, np.ndarray) and s.dtype == X.dtype))
    ):
        return None
    _set_path("numba")
    yy = np.ascontiguousarray(y)
    ss = np.ascontiguousarray(s) if s is not None else np.empty(1, X.dtype)
    loss = np.empty(_RMATVEC_PARTS)
    gw = np.empty((_RMATVEC_PARTS, X.shape[1]))
    gb = np.empty(_RMATVEC_PARTS)
    _modules["logistic"].logistic_kernel(
        X, yy, ss, s is not None, w, float(b), float(scale), need_grad, loss, gw, gb
    )
    total = float(loss.sum())
    if not np.isfinite(total):
        return None
    if not need_grad:
        return total, None, 0.0
    return total, gw.sum(axis=0), float(gb.sum())
