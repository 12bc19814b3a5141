"""Matrix-vector products of one-logit linear models, routed by ``dispatch``."""

from __future__ import annotations

import numpy as np

from .dispatch import kernels, matvec_route

__all__ = ["matvec", "rmatvec", "RMATVEC_PARTS"]

RMATVEC_PARTS = 64  # fixed row slices of rmatvec: results independent of the thread count


def matvec(X: np.ndarray, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``X @ w`` for X (n, d) and w (d,), in X's dtype; written into `out` (n,) if given.

    numba (``_numba_matvec``) for large C-contiguous float32/float64 X, else NumPy.

    >>> import numpy as np
    >>> matvec(np.eye(2), np.array([1.0, 2.0]))
    array([1., 2.])
    """
    if out is None:
        out = np.empty(X.shape[0], X.dtype)
    if matvec_route(X, w) and out.flags.c_contiguous and out.dtype == X.dtype:
        kernels("matvec").matvec_kernel(X, w, out)
    else:
        np.matmul(X, w, out=out)
    return out


def rmatvec(X: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``X.T @ g`` for X (n, d) and g (n,), as float64 (d,).

    numba (``_numba_matvec``) for large C-contiguous float32/float64 X: fixed row slices,
    float64 totals, so the result does not depend on the number of threads.

    >>> import numpy as np
    >>> rmatvec(np.eye(2), np.array([1.0, 2.0]))
    array([1., 2.])
    """
    if matvec_route(X, g):
        parts = np.empty((RMATVEC_PARTS, X.shape[1]))
        kernels("matvec").rmatvec_kernel(X, g, parts)
        return parts.sum(axis=0)
    return np.asarray(X.T @ g, dtype=np.float64)
