"""Which path a kernel call takes: the numba kernels or the portable NumPy code.

A call goes to the numba kernels (``_numba_ce``, ``_numba_bce``, ...) when

- the logits are a C-contiguous float32 or float64 NumPy array (read-only is fine: the
  kernels only read them; so is an unaligned one, as Dask hands over blocks it received
  from another worker: numba compiles a variant with unaligned loads, as fast here), and
- ``grad_out`` is None, or a writeable C-contiguous array of the logits' shape and
  dtype that is either the logits themselves (in place) or shares no memory with them,
- numba imports, and the environment variable ``LOGLOSS_DISABLE_NUMBA`` is not set to
  a true value (``1``, ``true``, ``yes``): setting it forces the portable path.

Everything else (strided views, float16, partial overlaps, exotic index values) takes the
portable path, with the same results. 16-bit logits passed as raw bits (``half``:
``ce_labels_half``, ``ce_probs_half``) have their own kernels (``_numba_half``). numba
is imported on the first call that needs it
(:func:`load_numba`, which applies the thread policy of ``threads`` first), never at
``import logloss``. :func:`last_path` tells which path the latest call took and
:func:`which_path` which one a call would take (for tests and debugging).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from .threads import apply_wait_policy

__all__ = ["last_path", "which_path", "set_path", "route", "matvec_route", "kernels"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_MATVEC_MIN = 1 << 16  # smaller matrices: NumPy's BLAS call costs less than a parallel launch

_state = threading.local()
_modules: dict[str, Any] = {}
_lock = threading.Lock()


def last_path() -> str | None:
    """'numba' or 'portable': the path the latest kernel call in this thread took."""
    return getattr(_state, "path", None)


def set_path(path: str) -> None:
    """Record the path the current kernel call takes (read back by :func:`last_path`)."""
    _state.path = path


def _numba_disabled() -> bool:
    return os.environ.get("LOGLOSS_DISABLE_NUMBA", "").strip().lower() in ("1", "true", "yes")


def load_numba() -> bool:
    """Import the numba kernel modules on first use; False if numba is unavailable."""
    if "ce" not in _modules:
        with _lock:
            if "ce" not in _modules:
                apply_wait_policy()  # before numba's threading layer (and OpenMP) starts
                try:
                    import logloss._kernels._numba_bce as _numba_bce
                    import logloss._kernels._numba_ce as _numba_ce
                    import logloss._kernels._numba_half as _numba_half
                    import logloss._kernels._numba_logistic as _numba_logistic
                    import logloss._kernels._numba_matvec as _numba_matvec
                except ImportError:
                    _modules.update(ce=None, bce=None, half=None, matvec=None, logistic=None)
                else:
                    _modules.update(
                        bce=_numba_bce,
                        half=_numba_half,
                        matvec=_numba_matvec,
                        logistic=_numba_logistic,
                    )
                    _modules["ce"] = _numba_ce  # last: other threads test for "ce"
    return _modules["ce"] is not None


def kernels(family: str) -> Any:
    """The numba module of a kernel family ('ce', 'bce', 'half', 'matvec', 'logistic'),
    once loaded."""
    return _modules[family]


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


def route(z: Any, grad_out: Any, ndim: int | None) -> str | None:
    """The gradient mode for the numba path ('none', 'inplace', 'separate'), or None for
    the portable path; `ndim` 2 asks for (rows, classes) with at least one class."""
    if _numba_disabled() or not _kernel_array(z):
        return None
    if ndim is not None and (z.ndim != ndim or z.shape[-1] == 0):
        return None
    mode = _grad_mode(z, grad_out)
    if mode is None or not load_numba():
        return None
    return mode


def matvec_route(X: Any, v: Any) -> bool:
    """True when ``X @ v`` or ``X.T @ v`` goes to the numba matrix-vector kernels."""
    return (
        not _numba_disabled()
        and _kernel_array(X)
        and X.ndim == 2
        and X.size >= _MATVEC_MIN
        and isinstance(v, np.ndarray)
        and v.dtype == X.dtype
        and v.ndim == 1
        and v.flags.c_contiguous
        and load_numba()
    )
