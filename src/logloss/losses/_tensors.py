"""CPU PyTorch tensors on the fused kernels: zero-copy NumPy views in, tensors out.

A loss given a PyTorch tensor would otherwise take the portable Array API path (correct,
but several passes of PyTorch operations over memory). When the first array argument is
a tensor in CPU memory of a dtype NumPy shares (float16/32/64), every tensor argument is
viewed as a NumPy array without a copy (``tensor.detach().numpy()``), the NumPy path runs
(the fused kernels where they apply), and the results come back as tensors, the
gradient in the ``out`` tensor when one was given. Other devices and dtypes
(bfloat16, a CUDA tensor) keep the portable path.

No autograd graph is recorded: ``logloss.torch`` has the differentiable operators.
PyTorch is never imported here; a tensor exists only if the caller imported it.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["on_cpu_tensors"]

_NUMPY_DTYPES = ("torch.float16", "torch.float32", "torch.float64")


def _torch() -> Any:
    return sys.modules.get("torch")


def _is_kernel_tensor(x: Any, torch: Any) -> bool:
    """A strided CPU tensor of a floating dtype NumPy can view."""
    return (
        isinstance(x, torch.Tensor)
        and x.device.type == "cpu"
        and x.layout == torch.strided
        and str(x.dtype) in _NUMPY_DTYPES
        and not x.is_conj()
        and not x.is_neg()
    )


def _view(x: Any, torch: Any) -> Any:
    """A NumPy view of a CPU tensor (any dtype NumPy has), containers walked; else `x`."""
    if isinstance(x, torch.Tensor):
        if x.device.type != "cpu" or x.dtype == torch.bfloat16:
            return x  # the NumPy path's validation names the argument
        return x.detach().resolve_conj().resolve_neg().numpy()
    if isinstance(x, dict):
        return {k: _view(v, torch) for k, v in x.items()}
    return x


def _back(result: Any, outs: list[tuple[np.ndarray, Any]], torch: Any) -> Any:
    """NumPy results as tensors: an array living in a given `out` tensor is that tensor."""
    if isinstance(result, tuple):
        return tuple(_back(r, outs, torch) for r in result)
    if isinstance(result, dict):
        return {k: _back(v, outs, torch) for k, v in result.items()}
    if isinstance(result, (np.ndarray, np.generic)):
        arr = np.asarray(result)
        for view, tensor in outs:
            if arr.ndim and view.shape == arr.shape and np.shares_memory(view, arr):
                return tensor
        if not (arr.flags.writeable and arr.flags.c_contiguous):
            arr = arr.copy()
        return torch.from_numpy(arr)
    return result


def on_cpu_tensors(twin: Callable) -> Callable:
    """Run the private twin of a loss on NumPy views when its first argument is a CPU
    tensor NumPy can view; return its (value, gradient) as tensors."""
    first = next(iter(inspect.signature(twin).parameters))

    @functools.wraps(twin)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        torch = _torch()
        x = args[0] if args else kwargs.get(first)
        if torch is None or not _is_kernel_tensor(x, torch):
            return twin(*args, **kwargs)
        outs = []
        for key in ("out", "grads"):
            given = kwargs.get(key)
            for t in given.values() if isinstance(given, dict) else [given]:
                if isinstance(t, torch.Tensor):
                    outs.append((_view(t, torch), t))
        args = tuple(_view(a, torch) for a in args)
        kwargs = {k: _view(v, torch) for k, v in kwargs.items()}
        return _back(twin(*args, **kwargs), outs, torch)

    return wrapper
