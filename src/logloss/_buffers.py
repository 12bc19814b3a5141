"""Large gradient buffers recycled between calls, as a caching allocator would.

A fused pass writes its gradient into a fresh ``(rows, classes)`` buffer. For the shapes of a
language model's head (8192 x 32000 float32: 1 GiB) the first touch of fresh memory costs
more than the pass itself: the operating system maps and zeroes every page, and with huge
pages it may stall compacting memory to find them. Measured on this project's 2-vCPU AMD
EPYC machine, a 1 GiB gradient cost 1,012 page faults and 0.2-2 s of system time per call
against 0 for a buffer touched before. PyTorch's CUDA allocator keeps freed blocks for the
same reason; its CPU allocator does not.

:func:`empty` hands out an uninitialised array of at least 32 MiB from a small pool: a buffer
an earlier call returned is reused once nothing outside the pool refers to it any more (no
array, view or tensor made from it is alive), so a caller never sees its result change. Two
buffers are kept per shape and dtype, because a loop that still holds the previous step's
gradient while it computes the next one alternates between two; at most four shapes are kept
(the least recently used is dropped). :func:`release_buffers` empties the pool, and the
environment variable ``LOGLOSS_BUFFER_POOL=0`` (read at import) turns it off.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict

import numpy as np

__all__ = ["empty", "release_buffers"]

_MIN_BYTES = 32 << 20
_PER_KEY = 2
_KEYS = 4
_ENABLED = os.environ.get("LOGLOSS_BUFFER_POOL", "1").strip() not in ("0", "false", "no", "off")

_pool: OrderedDict[tuple, list[np.ndarray]] = OrderedDict()
_lock = threading.Lock()


def _refs(slots: list[np.ndarray], i: int) -> int:
    return sys.getrefcount(slots[i])


# The count of a buffer that only the pool holds, measured the way `empty` measures it (it
# differs between Python versions, so it is not written down).
_FREE = _refs([np.empty(0)], 0)


def empty(shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """An uninitialised C-contiguous array of `shape` and `dtype`.

    Large arrays come from the pool: a buffer returned earlier that nothing refers to any
    more, else a fresh one that the pool remembers. Small arrays are plain ``np.empty``.

    Examples
    --------
    >>> a = empty((3, 2), np.float32)
    >>> a.shape, a.dtype
    ((3, 2), dtype('float32'))
    """
    dtype = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    n = 1
    for s in shape:
        n *= s
    if not _ENABLED or n * dtype.itemsize < _MIN_BYTES:
        return np.empty(shape, dtype)
    key = (shape, dtype.str)
    with _lock:
        slots = _pool.get(key)
        if slots is not None:
            _pool.move_to_end(key)
            for i in range(len(slots)):
                if _refs(slots, i) == _FREE:
                    arr = slots[i]  # held by this frame from here: no other caller gets it
                    return arr
    arr = np.empty(shape, dtype)
    with _lock:
        slots = _pool.setdefault(key, [])
        _pool.move_to_end(key)
        if len(slots) < _PER_KEY:
            slots.append(arr)
        while len(_pool) > _KEYS:
            _pool.popitem(last=False)
    return arr


def release_buffers() -> int:
    """Drop every pooled buffer; returns the bytes the pool held (freed once unused).

    Examples
    --------
    >>> release_buffers() >= 0
    True
    """
    with _lock:
        held = sum(a.nbytes for slots in _pool.values() for a in slots)
        _pool.clear()
    return held
