"""How many threads the numba kernels and BLAS use during a fit."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .._kernels.dispatch import load_numba

# Below this many logits per kernel call, a parallel kernel spends more time waking its
# threads than computing (mini-batches of 200 rows: ~10 us of work per call).
_SERIAL_BELOW = 1 << 16
# Products X @ W with at most this many columns are memory-bound; in a fit, where they
# alternate with the kernels, one BLAS thread beats two (see kernel_threads).
_SKINNY_COLUMNS = 64


# fits running at once in this process (threads of one process: joblib's threading
# backend, a Dask threaded scheduler); they share the numba threads
_running = [0]
_running_lock = threading.Lock()


@contextmanager
def kernel_threads(elements_per_call: int, blas_columns: int | None = None) -> Iterator[None]:
    """Threads for a fit: numba kernels and BLAS share the cores without starving each other.

    - Calls with fewer than ``_SERIAL_BELOW`` logits (mini-batches, small data): the
      kernels and BLAS run on one thread. A fit makes thousands of such calls, and each
      parallel region costs a thread wake-up that dominates the work.
    - Larger calls whose BLAS products have at most ``_SKINNY_COLUMNS`` columns
      (`blas_columns`, the K' of a linear model): BLAS runs on one thread, the kernels on
      all they may use (below). OpenBLAS's idle threads keep spinning after each product,
      so on a 2-core machine they took a core from the kernel that follows: a 200,000 x
      100 10-class fit took 2.56 s with two BLAS threads and 1.59 s with one, a
      1,000,000 x 50 binary fit 0.62 s and 0.29 s.
    - Otherwise every thread is kept (all the kernels may use).

    The kernels never take more threads than the process is allowed: at most the BLAS
    libraries' thread count (lowered by ``threadpoolctl.threadpool_limits``, or by the
    ``OPENBLAS_NUM_THREADS`` that joblib's loky workers get; numba itself reads
    ``NUMBA_NUM_THREADS`` there), divided among the fits running at once in this
    process's threads (``n`` threads: ``numba_threads // n`` each, at least one).
    """
    small = elements_per_call < _SERIAL_BELOW
    skinny = blas_columns is not None and blas_columns <= _SKINNY_COLUMNS
    with _running_lock:
        _running[0] += 1
        running = _running[0]
    numba, previous = None, 0
    try:
        if small or skinny or running > 1 or _blas_limited():
            numba = _numba()
        if numba is not None:
            previous = numba.get_num_threads()
            allowed = max(1, min(previous, _blas_threads()) // running)
            numba.set_num_threads(1 if small else allowed)
        if small or skinny:
            with blas_controller().limit(limits=1):
                yield
        else:
            yield
    finally:
        if numba is not None:
            numba.set_num_threads(previous)
        with _running_lock:
            _running[0] -= 1


def _numba() -> Any:
    """numba once its kernels load (the thread policy applied first); None without it."""
    if not load_numba():  # numba missing: the portable path has no threads
        return None
    try:
        import numba
    except ImportError:  # pragma: no cover - numba removed after its kernels loaded
        return None
    return numba


def _blas_threads() -> int:
    """The smallest thread count of the loaded BLAS libraries (a large number if none)."""
    counts = [lib.num_threads for lib in blas_controller().lib_controllers]
    return min(counts) if counts else 1 << 30


def _blas_limited() -> bool:
    """Whether BLAS runs on fewer threads than there are cores (a limit is in force)."""
    return _blas_threads() < (os.cpu_count() or 1)


# (len(sys.modules) when made, the controller of the BLAS libraries loaded then)
_blas: list[Any] = [-1, None]


def blas_controller() -> Any:
    """A ``threadpoolctl`` controller of the loaded BLAS libraries, made once and reused.

    Making one inspects every loaded shared library (3.6 ms here, a third of a small
    fit, and paid twice per fold of a grid search); limiting through a ready one costs
    25 us. A library is loaded by an import, so the controller is made again whenever
    the number of imported modules has changed since.
    """
    n_modules = len(sys.modules)
    if _blas[0] != n_modules:
        from threadpoolctl import ThreadpoolController

        _blas[1] = ThreadpoolController().select(user_api="blas")
        _blas[0] = len(sys.modules)  # after importing threadpoolctl itself
    return _blas[1]
