"""L-BFGS and trust-region Newton-CG from :mod:`scipy.optimize` (imported when used).

- ``"lbfgs"``: L-BFGS-B with the loss and gradient from one call (``jac=True``); it stops
  when the largest absolute gradient entry is at most `tol` (scipy's ``gtol``).
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
    from scipy.optimize import minimize as sp_minimize

    best = Best(x0)
    curve: list[float] = []

    def on_iteration(intermediate_result):
        curve.append(float(intermediate_result.fun))
        if callback is not None and callback(
            IterationInfo(len(curve), curve[-1], intermediate_result.x)
        ):
            raise StopIteration

    if solver == "lbfgs":
        method = "L-BFGS-B"
        options = {
            "maxiter": max_iter,
            "gtol": tol,
            "ftol": 64 * np.finfo(np.float64).eps,
            "maxls": 50,
            "maxcor": memory,
        }

        def fun(x):
            f, g = objective(x)
            best.offer(x, f)
            return f, g

        hessp = None
    else:
        method = "trust-ncg"
        options = {"maxiter": max_iter, "gtol": tol}
        fun, hessp = _newton_functions(objective, best)
    try:
        res = sp_minimize(
            fun, x0, method=method, jac=True, hessp=hessp, options=options, callback=on_iteration
        )
    except KeyboardInterrupt:
        return OptimizeResult(best.x, best.f, len(curve), False, True, INTERRUPTED, curve)
    n_iter = int(res.nit)
    # scipy returns the last iterate; the best point seen is never worse
    x, f = (best.x, best.f) if best.f < res.fun else (res.x, float(res.fun))
    if not np.all(np.isfinite(x)) or not math.isfinite(f):
        raise DivergenceError(f"solver={solver!r} produced a non-finite loss or parameters")
    converged = bool(res.success)
    return OptimizeResult(x, f, n_iter, converged, False, str(res.message), curve)
