"""`minimize`, the one entry point of the solvers, and `SOLVERS`, the one list of their names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .first_order import (
    FIRST_ORDER_SOLVERS,
    PROXIMAL_SOLVERS,
    FirstOrderOptions,
    minimize_first_order,
)
from .newton_cholesky import NEWTON_CHOLESKY, minimize_newton_cholesky
from .result import IterationInfo, Objective, OptimizeResult
from .scipy_methods import SCIPY_SOLVERS, minimize_scipy

# Every solver, in the order the error messages list them; the estimators and the Dask
# path take their subsets from here.
SOLVERS = (*SCIPY_SOLVERS, NEWTON_CHOLESKY, *FIRST_ORDER_SOLVERS)
# The solvers that need the objective's full Hessian (``loss_grad_hess``): few parameters
HESSIAN_SOLVERS = (NEWTON_CHOLESKY,)


def minimize(
    objective: Objective,
    x0: NDArray,
    *,
    solver: str = "lbfgs",
    max_iter: int = 100,
    tol: float = 1e-4,
    learning_rate: float | str = "auto",
    batch_size: int | None = None,
    momentum: float = 0.9,
    nesterov: bool = True,
    schedule: str = "constant",
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    n_iter_no_change: int = 10,
    validation: Callable[[NDArray], float] | None = None,
    lbfgs_memory: int = 10,
    random_state: np.random.Generator | None = None,
    callback: Callable[[IterationInfo], Any] | None = None,
    learning_rate_name: str = "learning_rate",
) -> OptimizeResult:
    """Minimise `objective` from `x0` with one of :data:`SOLVERS`.

    The objective is a callable ``(loss, grad) = objective(x)``; ``"newton"`` also uses
    ``objective.loss_grad_hessp(x)`` (the loss, the gradient and a Hessian-vector product
    closure ``hessp(v)``), ``"newton-cholesky"`` uses ``objective.loss_grad_hess(x)`` (the
    full Hessian) and ``objective.flat_directions`` when present, ``"sgd"``/``"adam"`` use
    ``objective.minibatch(x, rows)``,
    and an L1 part is read from ``objective.l1_scale`` and ``objective.penalty_mask``.

    Parameters
    ----------
    objective : Objective
        The function to minimise.
    x0 : ndarray of shape (n_params,)
        Starting point (not modified).
    solver : {"lbfgs", "newton", "newton-cholesky", "gd", "sgd", "adam"}
        The method (see :mod:`logloss.solvers`).
    max_iter : int
        Iterations (epochs for sgd and adam).
    tol : float
        Gradient tolerance (lbfgs, newton, newton-cholesky, gd) or the loss improvement
        that counts as progress (sgd, adam: stop after `n_iter_no_change` epochs without it).
    learning_rate : float or "auto"
        Step size of gd, sgd and adam; "auto" is backtracking for gd, 0.01 for sgd and
        0.001 for adam.
    batch_size : int or None
        Rows per mini-batch (sgd, adam); None means min(200, n_samples).
    momentum, nesterov, schedule :
        SGD's momentum, whether it is Nesterov's, and the step schedule.
    beta1, beta2, epsilon :
        Adam's moment decays and denominator guard.
    n_iter_no_change : int
        Patience in epochs (sgd, adam, and early stopping).
    validation : callable or None
        ``validation(x) -> loss`` on held-out data; when given, sgd and adam stop on it
        (early stopping) and return the parameters with the lowest validation loss.
    lbfgs_memory : int
        Number of correction pairs L-BFGS keeps (scipy's ``maxcor``).
    random_state : numpy.random.Generator or None
        Shuffles the mini-batches.
    callback : callable or None
        Called with an :class:`IterationInfo` after each iteration; returning True stops.
    learning_rate_name : str, default "learning_rate"
        The estimator's name for the step size, used in the divergence error message
        (``MLPClassifier`` passes ``"learning_rate_init"``).

    Returns
    -------
    OptimizeResult

    Examples
    --------
    >>> import numpy as np
    >>> from logloss.solvers import minimize
    >>> def f(x):                      # a quadratic bowl centred at (1, -2)
    ...     d = x - np.array([1.0, -2.0])
    ...     return float(d @ d), 2.0 * d
    >>> res = minimize(f, np.zeros(2), solver="gd", tol=1e-8, max_iter=200)
    >>> res.x.round(6), res.converged
    (array([ 1., -2.]), True)
    """
    if solver not in SOLVERS:
        raise ValueError(f"`solver` must be one of {', '.join(map(repr, SOLVERS))}; got {solver!r}")
    x0 = np.array(x0, dtype=np.float64, copy=True)
    l1 = float(getattr(objective, "l1_scale", 0.0))
    if l1 > 0.0 and solver not in PROXIMAL_SOLVERS:
        raise ValueError(
            f"an L1 penalty needs a proximal solver ('gd' or 'sgd'); got solver={solver!r}"
        )
    if solver == NEWTON_CHOLESKY:
        return minimize_newton_cholesky(objective, x0, max_iter, tol, callback)
    if solver in SCIPY_SOLVERS:
        return minimize_scipy(objective, x0, solver, max_iter, tol, lbfgs_memory, callback)
    options = FirstOrderOptions(
        solver=solver,
        max_iter=max_iter,
        tol=tol,
        learning_rate=learning_rate,
        lr_name=learning_rate_name,
        batch_size=batch_size,
        momentum=momentum,
        nesterov=nesterov,
        schedule=schedule,
        betas=(beta1, beta2, epsilon),
        n_iter_no_change=n_iter_no_change,
        l1=l1,
        mask=getattr(objective, "penalty_mask", None),
    )
    rng = random_state if random_state is not None else np.random.default_rng(0)
    return minimize_first_order(
        objective, x0, options, validation=validation, rng=rng, callback=callback
    )
