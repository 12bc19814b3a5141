"""How many threads the numba kernels and BLAS use during a fit."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Below this many logits per kernel call, a parallel kernel spends more time waking its
# threads than computing (mini-batches of 200 rows: ~10 us of work per call).
_SERIAL_BELOW = 1 << 16
# Products X @ W with at most this many columns are memory-bound; in a fit, where they
# alternate with the kernels, one BLAS thread beats two (see kernel_threads).
_SKINNY_COLUMNS = 64


@contextmanager
def kernel_threads(elements_per_call: int, blas_columns: int | None = None) -> Iterator[None]:
    """Threads for a fit: numba kernels and BLAS share the cores without starving each other.

    - Calls with fewer than ``_SERIAL_BELOW`` logits (mini-batches, small data): the
      kernels and BLAS run on one thread. A fit makes thousands of such calls, and each
      parallel region costs a thread wake-up that dominates the work.
    - Larger calls whose BLAS products have at most ``_SKINNY_COLUMNS`` columns
      (`blas_columns`, the K' of a linear model): BLAS runs on one thread, the kernels on
      all. OpenBLAS's idle threads keep spinning after each product, so on a 2-core
      machine they took a core from the kernel that follows: a 200,000 x 100 10-class fit
      took 2.56 s with two BLAS threads and 1.59 s with one, a 1,000,000 x 50 binary fit
      0.62 s and 0.29 s.
    - Otherwise every thread is kept.
    """
    small = elements_per_call < _SERIAL_BELOW
    skinny = blas_columns is not None and blas_columns <= _SKINNY_COLUMNS
    if not (small or skinny):
        yield
        return
    numba = None
    if small:
        try:
            import numba
        except ImportError:  # the portable path has no threads
            numba = None
    previous = None if numba is None else numba.get_num_threads()
    if numba is not None:
        numba.set_num_threads(1)
    try:
        with blas_controller().limit(limits=1):
            yield
    finally:
        if numba is not None:
            numba.set_num_threads(previous)


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
