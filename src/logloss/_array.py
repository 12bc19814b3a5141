"""Array handling shared by every layer: accepted dtypes and the compute dtype.

Inputs are converted to NumPy at the edge (``to_numpy``); float16 is computed in
float32 and returned as float16 (accumulation is always at least float32).
"""

from __future__ import annotations

from typing import Any

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def to_numpy(x: Any) -> np.ndarray:
    """`x` as a NumPy array, without copying when it already is one."""
    if isinstance(x, np.ndarray):
        return x
    return np.asarray(x)


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype arithmetic runs in: float16 is promoted to float32."""
    return np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)


def as_result(value: np.ndarray, dtype: np.dtype) -> Any:
    """Cast a computed value back to the input's dtype; 0-d results become NumPy scalars."""
    # A value beyond the dtype's range (a float16 log-probability below -65504, say) rounds
    # to +-inf like any other cast; that is the correctly rounded result, not an accident.
    with np.errstate(over="ignore"):
        out = np.asarray(value).astype(dtype, copy=False)
    return out[()] if out.ndim == 0 else out
