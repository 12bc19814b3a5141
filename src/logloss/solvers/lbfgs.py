"""L-BFGS (unconstrained) for problems with millions of parameters.

scipy's L-BFGS-B handles bounds: each iteration builds a generalized Cauchy point and a
subspace step, which at 5.2 million parameters (`benchmarks/bench_sparse.py`'s 20-class
text model) takes longer than the model's loss and gradient
(``python benchmarks/bench_sparse.py --solver-overhead``). Without bounds L-BFGS needs
only the two-loop recursion (Nocedal & Wright, Algorithm 7.4): 4 m passes over a vector
(m the number of correction pairs), each one BLAS call. :func:`lbfgs` is that, with a line search
satisfying the strong Wolfe conditions (Algorithms 3.5 and 3.6: bracketing, then cubic
interpolation safeguarded by bisection) starting from the unit step, which for a
cross-entropy objective is accepted at almost every iteration.

Stopping tests, as scipy's: the largest absolute gradient entry at most ``gtol``; the
relative decrease of f in one iteration at most ``ftol``; ``max_iter`` iterations; a
line search that finds no acceptable step (reported as not converged).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

_C1, _C2 = 1e-4, 0.9  # sufficient decrease and curvature constants
_MAX_LINE_SEARCH = 30

CONVERGED_G = "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL"
CONVERGED_F = "CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH"
MAX_ITER = "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT"
LINE_SEARCH_FAILED = "ABNORMAL: no step along the search direction decreases the objective"
STOPPED = "STOP: the callback asked to stop"


@dataclass
class LbfgsResult:
    x: NDArray
    fun: float
    nit: int
    success: bool
    message: str


class _Pairs:
    """The last m correction pairs (s, y) in two (m, n) ring buffers, and 1 / (y . s).

    ``dtype`` float32 (for an objective computed in float32, whose gradients carry no more
    digits) halves the memory the two-loop recursion streams through, which bounds its time.
    """

    def __init__(self, m: int, n: int, dtype: Any = np.float64):
        from scipy.linalg.blas import get_blas_funcs

        self.S = np.empty((m, n), dtype=dtype)
        self.Y = np.empty((m, n), dtype=dtype)
        self.dot, self.axpy = get_blas_funcs(("dot", "axpy"), (self.S,))
        self.rho = np.empty(m)
        self.count = 0  # pairs stored
        self.head = 0  # slot of the next pair

    def push(self, x_new: NDArray, x: NDArray, g_new: NDArray, g: NDArray) -> None:
        """Store s = x_new - x and y = g_new - g (written into the next slot, no copies)
        when y . s > 1e-10 y . y, which keeps the implied H positive definite. A pair that
        fails the test has still overwritten the slot, which with a full ring held the
        oldest pair: that pair is dropped."""
        s = np.subtract(x_new, x, out=self.S[self.head])
        y = np.subtract(g_new, g, out=self.Y[self.head])
        sy = float(self.dot(s, y))
        if not sy > 1e-10 * float(self.dot(y, y)):
            self.count = min(self.count, self.S.shape[0] - 1)
            return
        self.rho[self.head] = 1.0 / sy
        self.head = (self.head + 1) % self.S.shape[0]
        self.count = min(self.count + 1, self.S.shape[0])

    def clear(self) -> None:
        self.count = 0

    def direction(self, g: NDArray) -> NDArray:
        """``-H g`` (float64) by the two-loop recursion, H0 = (s.y / y.y) I from the newest
        pair, in the pairs' dtype."""
        dot, axpy = self.dot, self.axpy
        q = np.array(g, dtype=self.S.dtype, copy=True)
        m = self.S.shape[0]
        order = [(self.head - 1 - i) % m for i in range(self.count)]  # newest first
        alpha = np.empty(self.count)
        for t, i in enumerate(order):
            alpha[t] = self.rho[i] * float(dot(self.S[i], q))
            q = axpy(self.Y[i], q, a=-alpha[t])
        if self.count:
            newest = order[0]
            q *= 1.0 / (self.rho[newest] * float(dot(self.Y[newest], self.Y[newest])))
        for t in range(self.count - 1, -1, -1):
            i = order[t]
            beta = self.rho[i] * float(dot(self.Y[i], q))
            q = axpy(self.S[i], q, a=alpha[t] - beta)
        return np.negative(q, dtype=np.float64)


def max_abs(a: NDArray) -> float:
    """The largest absolute entry (0 for an empty array) without a temporary array.

    Examples
    --------
    >>> max_abs(np.array([1.0, -3.0, 2.0])), max_abs(np.zeros(0))
    (3.0, 0.0)
    """
    a = np.asarray(a)
    if a.size == 0:
        return 0.0
    return max(float(a.max()), -float(a.min()))


def _cubic_min(a, fa, da, b, fb, db) -> float:
    """Minimiser of the cubic through (a, fa, da) and (b, fb, db), bisection if none."""
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if not disc >= 0.0:
        return 0.5 * (a + b)
    d2 = math.copysign(math.sqrt(disc), b - a)
    denom = db - da + 2.0 * d2
    if denom == 0.0:
        return 0.5 * (a + b)
    t = b - (b - a) * (db + d2 - d1) / denom
    return t if math.isfinite(t) else 0.5 * (a + b)


def _decreases(f: float, d: float, t: float, f0: float, d0: float, noise: float) -> bool:
    """Armijo's sufficient decrease; or, where f0 + c1 t d0 is lost in f's rounding,
    Hager and Zhang's approximate version: f within ``noise`` of f0 and the slope d at
    most (2 delta - 1) d0 with delta = 0.1 (a minimum along the line is bracketed)."""
    if not math.isfinite(f):
        return False
    if f <= f0 + _C1 * t * d0:
        return True
    return f <= f0 + noise and d <= -0.8 * d0


def _line_search(phi: Callable, f0: float, d0: float, t: float, noise: float = 0.0):
    """A step t with phi(t) satisfying the strong Wolfe conditions, or None.

    ``phi(t) -> (f, slope, payload)``; returns ``(t, f, payload)`` of the accepted step.
    ``noise`` is how far f0 may be from the exact value by rounding (absolute).
    """
    lo = (0.0, f0, d0, None)  # the best step with sufficient decrease so far
    prev = lo
    for i in range(_MAX_LINE_SEARCH):
        f, d, pay = phi(t)
        if not _decreases(f, d, t, f0, d0, noise) or (i > 0 and f >= prev[1]):
            return _zoom(phi, f0, d0, prev, (t, f, d, pay), noise)
        if abs(d) <= -_C2 * d0:
            return t, f, pay
        if d >= 0.0:
            return _zoom(phi, f0, d0, (t, f, d, pay), prev, noise)
        prev = (t, f, d, pay)
        t *= 4.0
    return None


def _zoom(phi, f0, d0, lo, hi, noise):
    """Shrink the bracket [lo, hi] (lo has sufficient decrease) to a strong-Wolfe step."""
    for _ in range(_MAX_LINE_SEARCH):
        a, b = lo[0], hi[0]
        if math.isfinite(hi[1]) and math.isfinite(hi[2]):
            t = _cubic_min(a, lo[1], lo[2], b, hi[1], hi[2])
        else:
            t = 0.5 * (a + b)
        width = abs(b - a)
        if not min(a, b) + 0.1 * width <= t <= max(a, b) - 0.1 * width:
            t = 0.5 * (a + b)  # keep away from the ends: the bracket must shrink
        if width <= 1e-16 * max(abs(a), abs(b), 1e-300):
            break
        f, d, pay = phi(t)
        if not _decreases(f, d, t, f0, d0, noise) or (f >= lo[1] and lo[0] > 0.0):
            hi = (t, f, d, pay)
            continue
        if abs(d) <= -_C2 * d0:
            return t, f, pay
        if d * (b - a) >= 0.0:
            hi = lo
        lo = (t, f, d, pay)
    # no strong-Wolfe step: accept the best sufficient decrease found, if any
    if lo[0] > 0.0:
        return lo[0], lo[1], lo[3]
    return None


def lbfgs(
    fun: Callable[[NDArray], tuple[float, NDArray]],
    x0: NDArray,
    f0: float,
    g0: NDArray,
    *,
    max_iter: int,
    gtol: float,
    ftol: float,
    memory: int = 10,
    pair_dtype: Any = np.float64,
    f_rtol: float = 1e-12,
    callback: Callable[[NDArray, float, NDArray], Any] | None = None,
) -> LbfgsResult:
    """Minimise ``fun`` (returning the value and gradient) from `x0`, where it is (f0, g0).

    ``callback(x, f, g)`` runs after every iteration; returning True stops the solver
    (``success`` is then False: the caller decides what its stop means). ``pair_dtype``
    is the dtype the correction pairs are stored and combined in (float32 for an objective
    computed in float32); ``f_rtol`` the relative rounding error of f's values (1e-12 for
    float64 sums; about 1e-6 for a float32 objective), below which the line search judges
    a step by its slope rather than by its value.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.diag([1.0, 10.0, 100.0])
    >>> fun = lambda x: (0.5 * float(x @ A @ x) - x.sum(), A @ x - 1.0)
    >>> x0 = np.zeros(3)
    >>> res = lbfgs(fun, x0, *fun(x0), max_iter=100, gtol=1e-10, ftol=0.0)
    >>> res.x.round(8), res.success
    (array([1.  , 0.1 , 0.01]), True)
    >>> lbfgs(fun, x0, *fun(x0), max_iter=100, gtol=1e-10, ftol=0.0, memory=0)
    Traceback (most recent call last):
    ...
    ValueError: `memory` must be an integer >= 1; got 0
    """
    x = np.array(x0, dtype=np.float64, copy=True)
    f, g = float(f0), np.asarray(g0, dtype=np.float64)
    if x.ndim != 1 or g.shape != x.shape:
        raise ValueError(
            f"`x0` must be a vector and `g0` its gradient, of the same shape; got shapes "
            f"{x.shape} and {g.shape}"
        )
    for name, value in (("max_iter", max_iter), ("memory", memory)):
        if not isinstance(value, (int, np.integer)) or value < (1 if name == "memory" else 0):
            raise ValueError(f"`{name}` must be an integer >= {int(name == 'memory')}; "
                             f"got {value!r}")  # fmt: skip
    pairs = _Pairs(int(memory), x.size, pair_dtype)
    for it in range(1, max_iter + 1):
        if max_abs(g) <= gtol:
            return LbfgsResult(x, f, it - 1, True, CONVERGED_G)
        d = pairs.direction(g)
        slope = float(g @ d)
        if not slope < 0.0:  # not a descent direction: restart from the gradient
            pairs.clear()
            d = -g
            slope = -float(g @ g)
        t0 = 1.0 if pairs.count else min(1.0, 1.0 / math.sqrt(-slope))

        def phi(t, x=x, d=d):
            xt = x + t * d
            ft, gt = fun(xt)
            return float(ft), float(np.asarray(gt) @ d), (xt, gt)

        found = _line_search(phi, f, slope, t0, f_rtol * abs(f))
        if found is None:
            return LbfgsResult(x, f, it - 1, False, LINE_SEARCH_FAILED)
        _, f_new, (x_new, g_new) = found
        g_new = np.asarray(g_new, dtype=np.float64)
        pairs.push(x_new, x, g_new, g)
        f_old, x, f, g = f, x_new, f_new, g_new
        if callback is not None and callback(x, f, g):
            return LbfgsResult(x, f, it, False, STOPPED)
        if ftol > 0.0 and (f_old - f) <= ftol * max(abs(f_old), abs(f), 1.0):
            return LbfgsResult(x, f, it, True, CONVERGED_F)
    converged = max_abs(g) <= gtol
    return LbfgsResult(x, f, max_iter, converged, CONVERGED_G if converged else MAX_ITER)
