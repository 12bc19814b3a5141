"""Array handling shared by every layer: array namespaces, accepted dtypes, the compute dtype.

Two kinds of input reach logloss:

- NumPy arrays, and everything NumPy converts (lists, scalars, pandas objects): the
  namespace is the ``numpy`` module itself and the fused kernels run on them;
- any other Array API array (PyTorch, CuPy, JAX, array-api-strict, ...): the namespace is
  the one ``array_api_compat.array_namespace`` gives, the portable path runs with that
  namespace's operations only, and results stay in it, on the input's device.

The first array argument of a function (the logits or probabilities) decides; the other
array arguments (targets, weights) are converted to its namespace and device.
``array_api_compat`` is imported only when an input is not a NumPy array.

float16 is computed in float32 and returned as float16 in every namespace
(accumulation is always at least float32).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))

# Python and NumPy objects that never take the Array API path.
_NUMPY_LIKE = (np.ndarray, np.generic, list, tuple, int, float, bool, complex, str, bytes)


def get_namespace(x: Any) -> Any:
    """The array namespace `x` is computed in: ``numpy`` or an Array API namespace.

    NumPy arrays, Python scalars and sequences, and anything that is not an Array API
    array (a pandas Series, say) give the ``numpy`` module itself, so NumPy inputs keep
    NumPy's own functions and the fused kernels.
    """
    if x is None or isinstance(x, _NUMPY_LIKE):
        return np
    import array_api_compat  # light; its backends load only for their own arrays

    if not array_api_compat.is_array_api_obj(x):
        return np
    xp = array_api_compat.array_namespace(x)
    return np if array_api_compat.is_numpy_namespace(xp) else xp


def device_of(x: Any) -> Any:
    """The device `x` lives on (``"cpu"`` for NumPy)."""
    if isinstance(x, np.ndarray):
        return "cpu"
    import array_api_compat

    return array_api_compat.device(x)


def to_numpy(x: Any) -> np.ndarray:
    """`x` as a NumPy array, without copying when it already is one."""
    if isinstance(x, np.ndarray):
        return x
    return np.asarray(x)


def asarray_in(xp: Any, x: Any, like: Any) -> Any:
    """`x` (any array, list or scalar) as an array of namespace `xp` on `like`'s device.

    Used for the secondary arguments (targets, weights): a NumPy target next to torch
    logits becomes a tensor on the logits' device.
    """
    if xp is np:
        return to_numpy(x)
    source = get_namespace(x)
    if source is xp and device_of(x) == device_of(like):
        return x
    if source is np:  # host data: float64 becomes float32 where the device has no float64
        x = to_numpy(x)
        if x.dtype == np.float64 and acc_dtype(xp, like) != xp.float64:
            x = x.astype(np.float32)
    return xp.asarray(x, device=device_of(like))


def size_of(x: Any) -> int:
    """Number of elements (``torch.Tensor.size`` is a method, so ``x.size`` is not portable)."""
    return math.prod(x.shape)


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape as a plain tuple (``torch.Size`` prints differently)."""
    return tuple(int(n) for n in x.shape)


def float_dtypes(xp: Any) -> tuple[Any, ...]:
    """The floating dtypes logloss accepts in namespace `xp` (float16 where it exists)."""
    if xp is np:
        return FLOAT_DTYPES
    f16 = getattr(xp, "float16", None)
    return ((f16,) if f16 is not None else ()) + (xp.float32, xp.float64)


def compute_dtype(dtype: Any, xp: Any = np) -> Any:
    """The dtype arithmetic runs in: float16 is promoted to float32."""
    if xp is np:
        return np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)
    f16 = getattr(xp, "float16", None)
    return xp.float32 if f16 is not None and dtype == f16 else dtype


def acc_dtype(xp: Any, like: Any) -> Any:
    """The dtype per-row losses are returned and summed in: float64 where `like`'s device has it.

    Devices without float64 (Apple's MPS, JAX without ``jax_enable_x64``) accumulate in
    float32, the least the design allows.
    """
    if xp is np:
        return np.float64
    try:
        info = xp.__array_namespace_info__()
        supported = info.dtypes(device=device_of(like), kind="real floating")
    except (AttributeError, TypeError, ValueError):
        return xp.float64
    return xp.float64 if "float64" in supported else xp.float32


def astype(xp: Any, x: Any, dtype: Any) -> Any:
    """`x` cast to `dtype`, without a copy when it already has it."""
    if xp is np:
        return np.asarray(x).astype(dtype, copy=False)
    return xp.astype(x, dtype, copy=False)


def dtype_kind(xp: Any, dtype: Any) -> str:
    """NumPy's one-letter kind of `dtype` ('b', 'i', 'u', 'f', 'c', or '' when unknown)."""
    if xp is np:
        return np.dtype(dtype).kind
    for kind, name in (
        ("b", "bool"),
        ("i", "signed integer"),
        ("u", "unsigned integer"),
        ("f", "real floating"),
        ("c", "complex floating"),
    ):
        try:
            if xp.isdtype(dtype, name):
                return kind
        except (TypeError, ValueError):
            continue
    return ""


def dtype_name(dtype: Any) -> str:
    """'float32', not 'torch.float32' or 'array_api_strict.float32'."""
    return str(dtype).rsplit(".", 1)[-1]


def index_dtype(xp: Any, like: Any = None) -> Any:
    """int64, or the namespace's default integer dtype where int64 is not available
    (JAX without ``jax_enable_x64``, which would truncate int64 to int32 with a warning)."""
    if xp is np:
        return np.int64
    try:
        info = xp.__array_namespace_info__()
        device = None if like is None else device_of(like)
        if "int64" in info.dtypes(device=device, kind="signed integer"):
            return xp.int64
        return info.default_dtypes(device=device)["integral"]
    except (AttributeError, TypeError, ValueError, KeyError):
        return xp.int64


def arange_like(xp: Any, n: int, like: Any) -> Any:
    """``arange(n)`` (int64, or see :func:`index_dtype`) on `like`'s device."""
    if xp is np:
        return np.arange(n)
    return xp.arange(n, dtype=index_dtype(xp, like), device=device_of(like))


def ones_like_shape(xp: Any, shape: tuple[int, ...], dtype: Any, like: Any) -> Any:
    if xp is np:
        return np.ones(shape, dtype)
    return xp.ones(shape, dtype=dtype, device=device_of(like))


def any_true(xp: Any, mask: Any) -> bool:
    return bool(xp.any(mask))


def first_true(xp: Any, mask: Any) -> int:
    """Flat (C-order) index of the first True of `mask` (0 when there is none)."""
    if xp is np:
        return int(np.argmax(mask))
    flat = xp.reshape(mask, (-1,))
    return int(xp.argmax(xp.astype(flat, xp.int8)))


def first_index(xp: Any, mask: Any) -> tuple[int, ...] | int:
    """Position of the first True of `mask`: an int for 1-D masks, a tuple otherwise."""
    idx = np.unravel_index(first_true(xp, mask), shape_of(mask))
    return int(idx[0]) if len(idx) == 1 else tuple(int(i) for i in idx)


def as_result(value: Any, dtype: Any, xp: Any = np) -> Any:
    """Cast a computed value back to the input's dtype.

    NumPy: 0-d results become NumPy scalars. Other namespaces: an array of that
    namespace (0-d for scalars), on the device it was computed on.
    """
    # A value beyond the dtype's range (a float16 log-probability below -65504, say) rounds
    # to +-inf like any other cast; that is the correctly rounded result, not an accident.
    if xp is np:
        with np.errstate(over="ignore"):
            out = np.asarray(value).astype(dtype, copy=False)
        return out[()] if out.ndim == 0 else out
    with np.errstate(over="ignore"):  # array-api-strict computes with NumPy underneath
        return xp.astype(value, dtype, copy=False)


def is_sparse(x: Any) -> bool:
    """Whether `x` is a ``scipy.sparse`` matrix or array, without importing scipy.

    Examples
    --------
    >>> is_sparse(np.eye(2))
    False
    """
    return type(x).__module__.startswith("scipy.sparse") and hasattr(x, "nnz")
