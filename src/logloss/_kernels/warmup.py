"""Compile the numba kernels ahead of time, into numba's on-disk cache.

With an empty cache (a fresh install, a new container, a CI runner) the first call of
each kernel family compiles it: on the project's 2-core machines 5–20 CPU seconds per
family and dtype, most of it in the row functions the parallel kernel inlines (the
``parallel=True`` lowering adds about a third). :func:`warm_up` makes those first calls
on tiny inputs, so that a set-up step (``logloss warmup``, run by ``make`` after the
install) pays for the compilation once and every later process loads the machine code
from the cache (a few milliseconds per kernel).

Each call goes through the public entry points (``ce_labels``, ``ce_probs``,
``bce_logits``, ``logistic_loss_grad``, ``matvec``, ``rmatvec``, ``csr_loss_grad`` and
``csr_hessp``; with float32 also ``ce_labels_half`` and ``ce_probs_half``, whose compute
dtype it is) with the argument types
a real call passes, so the cache holds exactly the specialisations real calls look up:
one per kernel and dtype for writeable, aligned, C-contiguous arrays (the row functions
get two: with and without the gradient). ``unaligned=True`` adds the variants for
read-only, unaligned blocks, which Dask hands over when a block came from another worker.
The sparse kernels are compiled for int32 indices, which scipy uses for every matrix
whose number of nonzeros and dimensions fit in them; int64 indices (larger matrices, or
a matrix built so) and read-only CSR arrays compile on their first use (about 30 CPU
seconds per dtype, then cached).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .binary import bce_logits, logistic_loss_grad
from .dispatch import _numba_disabled, kernels, load_numba
from .half import ce_labels_half, ce_probs_half
from .matvec import matvec, rmatvec
from .softmax import ce_labels, ce_probs
from .sparse import _kernels as _sparse_module
from .sparse import csr_hessp, csr_loss_grad

__all__ = ["WarmupStep", "warm_up", "compiled_signatures"]

_FAMILIES = ("ce", "bce", "half", "logistic", "matvec")
_DTYPES = ("float32", "float64")
_N_MATVEC = 256  # 256 x 256 elements: the smallest matrix the matvec kernels take


@dataclass(frozen=True)
class WarmupStep:
    """One kernel family warmed up for one dtype and layout.

    Attributes
    ----------
    kernel : str
        The entry point(s) called, e.g. ``"ce_labels"``.
    dtype : str
        ``"float32"`` or ``"float64"``.
    layout : str
        ``"aligned"`` (ordinary NumPy arrays) or ``"unaligned"`` (read-only, unaligned).
    seconds : float
        Wall seconds of the step (compiling, or loading from the cache).
    compiled : int
        Specialisations compiled in this step (cache misses).
    loaded : int
        Specialisations loaded from the cache in this step (cache hits).
    """

    kernel: str
    dtype: str
    layout: str
    seconds: float
    compiled: int
    loaded: int


def _dispatchers() -> list:
    from numba.core.registry import CPUDispatcher

    seen = []
    modules = [kernels(family) for family in _FAMILIES] + [_sparse_module()]
    for module in modules:
        for obj in vars(module).values():
            if isinstance(obj, CPUDispatcher) and obj not in seen:
                seen.append(obj)
    return seen


def _cache_counts() -> tuple[int, int]:
    """(misses, hits) of numba's cache over every kernel dispatcher, so far."""
    misses = hits = 0
    for d in _dispatchers():
        misses += sum(d.stats.cache_misses.values())
        hits += sum(d.stats.cache_hits.values())
    return misses, hits


def compiled_signatures() -> dict[str, int]:
    """How many specialisations each kernel dispatcher holds in this process.

    >>> counts = compiled_signatures()
    >>> all(isinstance(n, int) for n in counts.values())
    True
    """
    if not load_numba():
        return {}
    return {d.py_func.__qualname__: len(d.signatures) for d in _dispatchers()}


def _layout(a: np.ndarray, unaligned: bool) -> np.ndarray:
    """`a` itself, or a read-only copy at an odd address (what Dask may hand over)."""
    if not unaligned:
        return a
    raw = bytearray(a.nbytes + 1)
    b = np.frombuffer(raw, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    b[...] = a
    b.flags.writeable = False
    return b


def _calls(dt: np.dtype, unaligned: bool) -> list[tuple[str, Callable[[], object]]]:
    """The entry-point calls of one dtype, named; tiny inputs with every option type."""
    rng = np.random.default_rng(0)
    z = _layout(rng.normal(size=(4, 3)).astype(dt), unaligned)
    y = np.array([0, 1, 2, 1])
    t = np.full((4, 3), 1.0 / 3.0, dt)
    x = _layout(rng.normal(size=8).astype(dt), unaligned)
    xt = (rng.random(8) < 0.5).astype(dt)
    X = _layout(rng.normal(size=(_N_MATVEC, _N_MATVEC)).astype(dt), unaligned)
    v = np.ones(_N_MATVEC, dt)
    yb = (rng.random(_N_MATVEC) < 0.5).astype(dt)

    def ce_labels_all() -> None:
        ce_labels(z, y)  # value only
        ce_labels(z, y, grad_out=np.empty_like(z))  # with the gradient
        if not unaligned:
            zc = z.copy()
            ce_labels(zc, y, grad_out=zc)  # in place (the same specialisation)

    def ce_probs_all() -> None:
        ce_probs(z, t)
        ce_probs(z, t, grad_out=np.empty_like(z))

    def bce_all() -> None:
        bce_logits(x, xt)
        bce_logits(x, xt, grad_out=np.empty_like(x), reduce=True)

    def logistic() -> None:
        logistic_loss_grad(X, yb, None, v, 0.0, 1.0)

    def matvecs() -> None:
        matvec(X, v)
        rmatvec(X, v)

    def sparse() -> None:
        # a CSR matrix with int32 indices (scipy's choice); every flag is a run-time value,
        # so one call per kernel compiles what the value-only and gradient calls use. Only
        # the softmax: linear_block sends one-logit (sigmoid) models to scipy's products
        csr = (z.reshape(-1).copy(), np.tile(np.arange(3, dtype=np.int32), 4),
               np.arange(0, 13, 3, dtype=np.int32))  # fmt: skip
        W, b, P = np.ones((3, 3), dt), np.zeros(3, dt), np.empty((4, 3), dt)
        csr_loss_grad(*csr, W, b, y, None, link="softmax", row_weight=0.25,
                      out_gradW=np.zeros((3, 3)), out_gradb=np.zeros(3), curvature=P)  # fmt: skip
        csr_hessp(*csr, W, b, P, None, link="softmax", row_weight=0.25)

    calls = [
        ("ce_labels", ce_labels_all),
        ("ce_probs", ce_probs_all),
        ("bce_logits", bce_all),
        ("logistic_loss_grad", logistic),
        ("matvec, rmatvec", matvecs),
    ]
    if not unaligned:
        calls.append(("csr_loss_grad, csr_hessp", sparse))
    if dt == np.float32 and not unaligned:
        calls += _half_calls(np.asarray(z), y, t)
    return calls


def _half_calls(z: np.ndarray, y: np.ndarray, t: np.ndarray) -> list:
    """The 16-bit kernels (bfloat16 / float16 bits, computed in float32): one
    specialisation each, shared by both kinds and by value-only and gradient calls."""
    h = z.astype(np.float16).view(np.uint16)  # finite read as either kind

    def ce_labels_half_all() -> None:
        for kind in ("bfloat16", "float16"):
            ce_labels_half(h, y, kind=kind)
            ce_labels_half(h, y, kind=kind, grad_out=np.empty_like(h))

    def ce_probs_half_all() -> None:
        ce_probs_half(h, t, kind="bfloat16")
        ce_probs_half(h, t, kind="float16", grad_out=np.empty_like(h))

    return [("ce_labels_half", ce_labels_half_all), ("ce_probs_half", ce_probs_half_all)]


def warm_up(
    dtypes: Iterable[str] = _DTYPES,
    *,
    unaligned: bool = False,
    on_step: Callable[[WarmupStep], None] | None = None,
) -> list[WarmupStep]:
    """Compile every numba kernel for `dtypes` into numba's cache (or load it from there).

    Runs each kernel entry point once on tiny inputs of each dtype, so that the
    specialisations real calls need are compiled and written to the on-disk cache
    (``NUMBA_CACHE_DIR``, else ``__pycache__`` beside the kernels or numba's user cache
    folder). The total time is the sum of the steps:

    .. math:: T = \\sum_{k,\\,d} t_{k,d}, \\qquad
              t_{k,d} \\approx \\begin{cases} \\text{compile} & \\text{empty cache} \\\\
              \\text{a few ms} & \\text{warm cache} \\end{cases}

    Parameters
    ----------
    dtypes : iterable of {"float32", "float64"}
        The dtypes to compile for (default both).
    unaligned : bool, default False
        Also compile the variants for read-only, unaligned arrays (Dask blocks).
    on_step : callable, optional
        Called with each :class:`WarmupStep` as soon as it is done (progress output).

    Returns
    -------
    list of WarmupStep
        One step per kernel family, dtype and layout; empty when numba is unavailable or
        disabled (``LOGLOSS_DISABLE_NUMBA``): there is nothing to compile then.

    Examples
    --------
    >>> steps = warm_up(["float64"])
    >>> sorted({s.kernel for s in steps}) == sorted(
    ...     ["ce_labels", "ce_probs", "bce_logits", "logistic_loss_grad", "matvec, rmatvec",
    ...      "csr_loss_grad, csr_hessp"])
    True
    >>> warm_up(["float64"])[0].compiled   # the second time nothing is compiled
    0
    """
    names = [np.dtype(d).name for d in dtypes]
    for name in names:
        if name not in _DTYPES:
            raise ValueError(f"`dtypes` must be float32 or float64, got {name!r}")
    if _numba_disabled() or not load_numba():
        return []
    steps = []
    layouts = [False, True] if unaligned else [False]
    for name in names:
        for odd in layouts:
            for kernel, call in _calls(np.dtype(name), odd):
                misses, hits = _cache_counts()
                t0 = time.perf_counter()
                call()
                seconds = time.perf_counter() - t0
                misses2, hits2 = _cache_counts()
                step = WarmupStep(
                    kernel,
                    name,
                    "unaligned" if odd else "aligned",
                    seconds,
                    misses2 - misses,
                    hits2 - hits,
                )
                steps.append(step)
                if on_step is not None:
                    on_step(step)
    return steps
