"""L-BFGS and trust-region Newton-CG from :mod:`scipy.optimize` (imported when used); from
:data:`OWN_LBFGS_PARAMS` parameters on, L-BFGS is :func:`logloss.solvers.lbfgs.lbfgs`.

- ``"lbfgs"``: L-BFGS-B with the loss and gradient from one call (``jac=True``); it stops
  when the largest absolute gradient entry is at most `tol`. An objective with a
  ``preconditioner`` (an estimate ``d`` of its Hessian's diagonal, such as
  :attr:`logloss.objectives.LinearObjective.preconditioner`) is minimised in the variables
  ``v = sqrt(d) * x``: the same function, the same minimum and the same stopping test on the
  gradient in x, but a change of scale that makes badly scaled problems (a one-hot
  indicator seen in 10 rows beside one seen in 100,000) converge in a fraction of the
  iterations.
- ``"newton"``: trust-region Newton-CG (``method="trust-ncg"``) with exact Hessian-vector
  products. It was chosen over ``"Newton-CG"`` because it stops on the gradient norm
  (``gtol``, here the Euclidean norm) rather than on the step size, and over
  ``"trust-krylov"`` because the cross-entropy Hessian is positive semi-definite, so the
  cheaper Steihaug-CG subproblem is enough and needs no extra dependency.

The Hessian-vector products come from the objective's ``loss_grad_hessp(x)``: each
evaluation returns, beside the loss and gradient, a closure ``hessp(v)`` over the
curvature at x, which the conjugate-gradient inner loop calls many times.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .lbfgs import lbfgs, max_abs
from .result import INTERRUPTED, Best, DivergenceError, IterationInfo, OptimizeResult

SCIPY_SOLVERS = ("lbfgs", "newton")


def _newton_functions(objective: Any, best: Best) -> tuple[Callable, Callable]:
    """``fun(x) -> (f, g)`` and ``hessp(x, v)`` for scipy, from ``loss_grad_hessp``.

    scipy asks for ``hessp`` at the point it evaluated last; the closure of that
    evaluation answers without another pass over the data. An objective that only has
    ``hessp(x, v)`` is used as it is.
    """
    if not hasattr(objective, "loss_grad_hessp"):

        def plain(x):
            f, g = objective(x)
            best.offer(x, f)
            return f, g

        return plain, objective.hessp

    last: dict[str, Any] = {"x": None, "hessp": None}

    def fun(x):
        f, g, hessp = objective.loss_grad_hessp(x)
        last["x"], last["hessp"] = np.array(x, dtype=np.float64, copy=True), hessp
        best.offer(x, f)
        return f, g

    def hessp(x, v):
        if last["x"] is None or not np.array_equal(x, last["x"]):
            _, _, h = objective.loss_grad_hessp(x)
            last["x"], last["hessp"] = np.array(x, dtype=np.float64, copy=True), h
        return last["hessp"](v)

    return fun, hessp


def minimize_scipy(
    objective: Any,
    x0: NDArray,
    solver: str,
    max_iter: int,
    tol: float,
    memory: int,
    callback: Callable[[IterationInfo], Any] | None,
) -> OptimizeResult:
    """Minimise with ``"lbfgs"`` or ``"newton"``; the best point seen is returned.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: (float(x @ x), 2.0 * x)
    >>> minimize_scipy(f, np.ones(2), "lbfgs", 50, 1e-8, 10, None).x.round(6)
    array([0., 0.])
    """
    if solver == "lbfgs":
        return _lbfgs(objective, x0, max_iter, tol, memory, callback)
    from scipy.optimize import minimize as sp_minimize

    best = Best(x0)
    curve: list[float] = []

    def on_iteration(intermediate_result):
        curve.append(float(intermediate_result.fun))
        if callback is not None and callback(
            IterationInfo(len(curve), curve[-1], intermediate_result.x)
        ):
            raise StopIteration

    try:
        fun, hessp = _newton_functions(objective, best)
        res = sp_minimize(
            fun, x0, method="trust-ncg", jac=True, hessp=hessp,
            options={"maxiter": max_iter, "gtol": tol}, callback=on_iteration,
        )  # fmt: skip
    except KeyboardInterrupt:
        return OptimizeResult(best.x, best.f, len(curve), False, True, INTERRUPTED, curve)
    return _result(solver, best, res.x, float(res.fun), int(res.nit), bool(res.success),
                   str(res.message), curve)  # fmt: skip


def _result(solver, best, x, f, n_iter, converged, message, curve) -> OptimizeResult:
    """The result at the best point seen (scipy returns the last iterate, never better)."""
    if best.f < f:
        x, f = best.x, best.f
    if not np.all(np.isfinite(x)) or not math.isfinite(f):
        raise DivergenceError(f"solver={solver!r} produced a non-finite loss or parameters")
    return OptimizeResult(x, f, n_iter, converged, False, message, curve)


_CONVERGED = "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL"
# From this many parameters on, L-BFGS is :func:`logloss.solvers.lbfgs.lbfgs`, not scipy's.
OWN_LBFGS_PARAMS = 1 << 20
# L-BFGS-B's other stopping test: the relative decrease of f in one iteration at most this.
# Float64's resolution, not scikit-learn's 64 eps: with a tight `tol` (1e-10) the last
# iterations still shrink the gradient while f changes by a few ulps, and 64 eps stopped
# them with the gradient 100 times above the 1e-9 that scikit-learn's path reaches.
_FTOL = float(np.finfo(np.float64).eps)


def lbfgs_scale(objective: Any, n_params: int) -> NDArray:
    """``sqrt(d)`` of the objective's ``preconditioner`` d (ones when it has none).

    Entries below 1e-12 of the largest are raised to it (an empty, unpenalised column has
    d = 0 and no gradient: any scale is right for it).

    Examples
    --------
    >>> import numpy as np
    >>> class Quadratic:
    ...     preconditioner = np.array([4.0, 0.25, 0.0])
    >>> lbfgs_scale(Quadratic(), 3)
    array([2.e+00, 5.e-01, 2.e-06])
    >>> lbfgs_scale(lambda x: None, 2)
    array([1., 1.])
    """
    d = getattr(objective, "preconditioner", None)
    if d is None:
        return np.ones(n_params)
    d = np.asarray(d, dtype=np.float64)
    top = float(d.max()) if d.size else 0.0
    if d.shape != (n_params,) or not math.isfinite(top) or top <= 0.0 or np.any(d < 0):
        return np.ones(n_params)
    return np.sqrt(np.maximum(d, 1e-12 * top))


def _lbfgs(objective, x0, max_iter, tol, memory, callback) -> OptimizeResult:
    """L-BFGS in the scaled variables ``v = s * x`` (``s`` from :func:`lbfgs_scale`).

    The stopping test is on the gradient in x (``max |g| <= tol``), checked after every
    iteration; the solvers' own test (on ``g / s``) is set so that it implies this one. The
    first evaluation, at x0, is made here and handed to the solver, so that a start that
    already passes the test costs no iteration. From :data:`OWN_LBFGS_PARAMS` parameters on,
    :func:`logloss.solvers.lbfgs.lbfgs` runs instead of scipy's L-BFGS-B (whose bound
    handling costs more than the evaluation there).
    """
    best = Best(x0)
    curve: list[float] = []
    s = lbfgs_scale(objective, x0.size)
    state: dict[str, Any] = {"first": None, "v": None, "gmax": math.inf, "done": False}

    def fun(v):
        if state["first"] is not None and np.array_equal(v, state["v"]):
            f, g = state["first"]
        else:
            x = v / s
            f, g = objective(x)
            best.offer(x, f)
        state["first"] = None
        state["v"] = np.array(v, copy=True)
        state["gmax"] = max_abs(g)
        return f, g / s

    def after_iteration(v, f, gmax) -> bool:
        """Record the iteration; True to stop (the user's callback, or converged)."""
        curve.append(float(f))
        if callback is not None and callback(IterationInfo(len(curve), curve[-1], v / s)):
            return True
        if gmax <= tol:
            state["done"] = True
            return True
        return False

    options = {"max_iter": max_iter, "gtol": tol / float(s.max()), "ftol": _FTOL}
    try:
        f0, g0 = objective(x0)
        best.offer(x0, f0)
        if max_abs(g0) <= tol and math.isfinite(f0):
            return OptimizeResult(best.x, best.f, 0, True, False, _CONVERGED, curve)
        v0 = x0 * s
        if x0.size >= OWN_LBFGS_PARAMS:

            def scaled(v):
                x = v / s
                f, g = objective(x)
                best.offer(x, f)
                state["v"], state["gmax"] = v, max_abs(g)
                return f, g / s

            def on_own_iteration(v, f, gv):
                # the accepted point is almost always the last one evaluated
                gmax = state["gmax"] if v is state["v"] else max_abs(gv * s)
                return after_iteration(v, f, gmax)

            # an objective computed in float32 keeps its correction pairs in float32
            dtype = np.dtype(getattr(objective, "dtype", np.float64))
            res = lbfgs(
                scaled, v0, f0, g0 / s, memory=memory, callback=on_own_iteration,
                pair_dtype=np.float32 if dtype == np.float32 else np.float64,
                f_rtol=1e-6 if dtype == np.float32 else 1e-12, **options,
            )  # fmt: skip
        else:
            res = _scipy_lbfgsb(fun, v0, state, (f0, g0), after_iteration, memory, options)
    except KeyboardInterrupt:
        return OptimizeResult(best.x, best.f, len(curve), False, True, INTERRUPTED, curve)
    converged = state["done"] or bool(res.success)
    message = _CONVERGED if state["done"] else str(res.message)
    return _result("lbfgs", best, res.x / s, float(res.fun), int(res.nit), converged, message,
                   curve)  # fmt: skip


def _scipy_lbfgsb(fun, v0, state, first, after_iteration, memory, options):
    """scipy's L-BFGS-B (no bounds) on the scaled function."""
    from scipy.optimize import minimize as sp_minimize

    state["first"], state["v"] = first, v0

    def on_iteration(intermediate_result):
        v = intermediate_result.x
        # the gradient norm is known when scipy's iterate is the last point evaluated
        gmax = state["gmax"] if np.array_equal(v, state["v"]) else math.inf
        if after_iteration(v, intermediate_result.fun, gmax):
            raise StopIteration

    scipy_options = {
        "maxiter": options["max_iter"],
        "gtol": options["gtol"],
        "ftol": options["ftol"],
        "maxls": 50,
        "maxcor": memory,
    }
    return sp_minimize(
        fun, v0, method="L-BFGS-B", jac=True, options=scipy_options, callback=on_iteration
    )
