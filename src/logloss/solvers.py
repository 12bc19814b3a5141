"""Solvers: minimise an objective ``(loss, grad) = f(params)`` over a flat float64 vector.

Two come from :mod:`scipy.optimize` (imported when used):

- ``"lbfgs"``: L-BFGS-B with the loss and gradient from one call (``jac=True``); it stops
  when the largest absolute gradient entry is at most `tol` (scipy's ``gtol``).
- ``"newton"``: trust-region Newton-CG (``method="trust-ncg"``) with exact Hessian-vector
  products. It was chosen over ``"Newton-CG"`` because it stops on the gradient norm
  (``gtol``, here the Euclidean norm) rather than on the step size, and over
  ``"trust-krylov"`` because the cross-entropy Hessian is positive semi-definite, so the
  cheaper Steihaug-CG subproblem is enough and needs no extra dependency.

Three are ours, small, and share one loop (:func:`_first_order`) with callbacks:

- ``"gd"``: full-batch gradient descent ``x <- x - lr * grad``; with ``learning_rate="auto"``
  each step backtracks (halves the step until the sufficient-decrease condition
  ``f(x+) <= f(x) + grad . (x+ - x) + ||x+ - x||^2 / (2 lr)`` holds; the step never grows
  again, which keeps the last iterations free of rounding-noise oscillation). Stops when
  the largest entry of ``(x - x+) / lr`` is at most `tol`.
- ``"sgd"``: mini-batch SGD with (Nesterov) momentum and a step schedule
  (``"constant"``, ``"invscaling"``: ``lr / (1 + t)^0.5`` per epoch t, ``"cosine"``:
  ``lr (1 + cos(pi t / max_iter)) / 2``).
- ``"adam"``: Adam with bias correction (Kingma and Ba, 2015).

An L1 penalty ``beta * ||x[mask]||_1`` (``objective.l1_scale`` > 0) is handled by a
proximal step after each gd or sgd update, soft-thresholding ``x <- sign(x) max(|x| - lr
beta, 0)`` on the penalised entries; lbfgs, newton and adam refuse it.

Every solver returns an :class:`OptimizeResult`. Interrupting with Ctrl-C (a
``KeyboardInterrupt``, also one raised by the callback) stops cleanly and returns the best
parameters seen so far with ``interrupted=True``. A diverging run (non-finite loss, or a
loss 100 times its starting value) raises :class:`DivergenceError` naming the step size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

SOLVERS = ("lbfgs", "newton", "gd", "sgd", "adam")
SCHEDULES = ("constant", "invscaling", "cosine")
_DIVERGENCE_FACTOR = 100.0


class Objective(Protocol):
    """What a solver needs from an objective (see :class:`logloss.objective.LinearObjective`)."""

    n_params: int
    n_samples: int

    def __call__(self, theta: NDArray) -> tuple[float, NDArray]: ...

    def minibatch(self, theta: NDArray, rows: NDArray) -> tuple[float, NDArray]: ...


class DivergenceError(ValueError):
    """Training diverged: the loss became non-finite or grew far beyond its start."""


@dataclass
class IterationInfo:
    """What a callback receives after each iteration (epoch for sgd and adam)."""

    iteration: int
    loss: float
    x: NDArray
    validation_loss: float | None = None


@dataclass
class OptimizeResult:
    """Result of :func:`minimize`.

    Attributes
    ----------
    x : ndarray
        Best parameters found (lowest loss, or lowest validation loss with early stopping).
    fun : float
        Objective (training loss) at `x` as tracked by the solver.
    n_iter : int
        Iterations (epochs for sgd and adam) run.
    converged : bool
        Whether the stopping criterion was met (False at `max_iter` or on interruption).
    interrupted : bool
        Whether a ``KeyboardInterrupt`` stopped the run.
    message : str
        Why the solver stopped.
    loss_curve : list of float
        Training loss after each iteration.
    validation_curve : list of float
        Validation loss after each epoch (early stopping only).
    """

    x: NDArray
    fun: float
    n_iter: int
    converged: bool
    interrupted: bool = False
    message: str = ""
    loss_curve: list[float] = field(default_factory=list)
    validation_curve: list[float] = field(default_factory=list)


class _Best:
    """Remembers the parameters with the lowest loss seen so far."""

    def __init__(self, x0: NDArray):
        self.x = np.array(x0, dtype=np.float64, copy=True)
        self.f = math.inf

    def offer(self, x: NDArray, f: float) -> None:
        if f < self.f:
            self.f = float(f)
            np.copyto(self.x, x)


def _check_divergence(
    f: float, f0: float, iteration: int, solver: str, lr: Any, lr_name: str = "learning_rate"
) -> None:
    if not math.isfinite(f) or f > _DIVERGENCE_FACTOR * max(f0, 1.0):
        raise DivergenceError(
            f"solver={solver!r} diverged at iteration {iteration} (loss {f:.4g}, started at "
            f"{f0:.4g}): `{lr_name}`={lr!r} is too high; lower it"
            + (" or use learning_rate='auto' (backtracking)" if solver == "gd" else "")
        )


def _soft_threshold(x: NDArray, threshold: float, mask: NDArray | None) -> None:
    """Proximal operator of threshold * ||x[mask]||_1, in place: sign(x) max(|x| - t, 0)."""
    if threshold <= 0.0:
        return
    if mask is None:
        np.copyto(x, np.sign(x) * np.maximum(np.abs(x) - threshold, 0.0))
    else:
        xm = x[mask]
        x[mask] = np.sign(xm) * np.maximum(np.abs(xm) - threshold, 0.0)


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
    ``objective.hessp(x, v)``, ``"sgd"``/``"adam"`` use ``objective.minibatch(x, rows)``,
    and an L1 part is read from ``objective.l1_scale`` and ``objective.penalty_mask``.

    Parameters
    ----------
    objective : Objective
        The function to minimise.
    x0 : ndarray of shape (n_params,)
        Starting point (not modified).
    solver : {"lbfgs", "newton", "gd", "sgd", "adam"}
        The method (see the module docstring).
    max_iter : int
        Iterations (epochs for sgd and adam).
    tol : float
        Gradient tolerance (lbfgs, newton, gd) or the loss improvement that counts as
        progress (sgd, adam: stop after `n_iter_no_change` epochs without it).
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
    if l1 > 0.0 and solver not in ("gd", "sgd"):
        raise ValueError(
            f"an L1 penalty needs a proximal solver ('gd' or 'sgd'); got solver={solver!r}"
        )
    if solver in ("lbfgs", "newton"):
        return _scipy(objective, x0, solver, max_iter, tol, lbfgs_memory, callback)
    return _first_order(
        objective,
        x0,
        solver=solver,
        max_iter=max_iter,
        tol=tol,
        learning_rate=learning_rate,
        batch_size=batch_size,
        momentum=momentum,
        nesterov=nesterov,
        schedule=schedule,
        betas=(beta1, beta2, epsilon),
        n_iter_no_change=n_iter_no_change,
        validation=validation,
        rng=random_state if random_state is not None else np.random.default_rng(0),
        callback=callback,
        l1=l1,
        lr_name=learning_rate_name,
    )


# ---------------------------------------------------------------------------
# scipy.optimize: lbfgs and newton
# ---------------------------------------------------------------------------


def _scipy(objective, x0, solver, max_iter, tol, memory, callback) -> OptimizeResult:
    from scipy.optimize import minimize as sp_minimize

    best = _Best(x0)
    curve: list[float] = []

    def fun(x):
        f, g = objective(x)
        best.offer(x, f)
        return f, g

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
        hessp = None
    else:
        method = "trust-ncg"
        options = {"maxiter": max_iter, "gtol": tol}
        hessp = objective.hessp
        if hasattr(objective, "store_hessian"):
            objective.store_hessian = True
    try:
        res = sp_minimize(
            fun, x0, method=method, jac=True, hessp=hessp, options=options, callback=on_iteration
        )
    except KeyboardInterrupt:
        return OptimizeResult(
            best.x, best.f, len(curve), False, True, "interrupted (KeyboardInterrupt)", curve
        )
    finally:
        if hessp is not None and hasattr(objective, "store_hessian"):
            objective.store_hessian = False
    n_iter = int(res.nit)
    # scipy returns the last iterate; the best point seen is never worse
    x, f = (best.x, best.f) if best.f < res.fun else (res.x, float(res.fun))
    if not np.all(np.isfinite(x)) or not math.isfinite(f):
        raise DivergenceError(f"solver={solver!r} produced a non-finite loss or parameters")
    converged = bool(res.success)
    return OptimizeResult(x, f, n_iter, converged, False, str(res.message), curve)


# ---------------------------------------------------------------------------
# our first-order loop: gd, sgd, adam
# ---------------------------------------------------------------------------


def _first_order(
    objective,
    x0,
    *,
    solver,
    max_iter,
    tol,
    learning_rate,
    batch_size,
    momentum,
    nesterov,
    schedule,
    betas,
    n_iter_no_change,
    validation,
    rng,
    callback,
    l1,
    lr_name="learning_rate",
) -> OptimizeResult:
    if schedule not in SCHEDULES:
        raise ValueError(
            f"`schedule` must be one of {', '.join(map(repr, SCHEDULES))}; got {schedule!r}"
        )
    auto = isinstance(learning_rate, str)
    if auto and learning_rate != "auto":
        raise ValueError(
            f"`learning_rate` must be a positive number or 'auto'; got {learning_rate!r}"
        )
    lr0 = {"gd": 1.0, "sgd": 0.01, "adam": 0.001}[solver] if auto else float(learning_rate)
    mask = getattr(objective, "penalty_mask", None)
    n = int(getattr(objective, "n_samples", 0))
    if solver != "gd":
        batch = min(200, n) if batch_size is None else min(int(batch_size), n)

    x = x0.copy()
    velocity = np.zeros_like(x)  # sgd momentum, or adam's first moment
    second = np.zeros_like(x)  # adam's second moment
    tmp = np.empty_like(x)
    t_adam = 0
    curve: list[float] = []
    val_curve: list[float] = []
    best = _Best(x)
    best_val = _Best(x)
    f0: float | None = None
    no_change = 0
    converged = False
    interrupted = False
    message = f"reached max_iter={max_iter}"
    lr = lr0
    f_cur, g_cur = (None, None)

    def l1_value(v: NDArray) -> float:
        if l1 == 0.0:
            return 0.0
        return l1 * float(np.sum(np.abs(v if mask is None else v[mask])))

    try:
        for it in range(1, max_iter + 1):
            if solver == "gd":
                if f_cur is None:
                    f_cur, g_cur = objective(x)
                    f_cur += l1_value(x)
                    f0 = f_cur
                    best.offer(x, f_cur)
                while True:
                    x_new = x - lr * g_cur
                    _soft_threshold(x_new, lr * l1, mask)
                    f_new, g_new = objective(x_new)
                    f_new += l1_value(x_new)
                    if not auto:
                        break
                    d = x_new - x
                    # sufficient decrease for the proximal gradient step of size lr
                    bound = f_cur - l1_value(x) + float(g_cur @ d) + float(d @ d) / (2 * lr)
                    if math.isfinite(f_new) and f_new - l1_value(x_new) <= bound + 4e-16 * abs(
                        f_cur
                    ):
                        break
                    lr *= 0.5
                    if lr < 1e-20:
                        raise DivergenceError(
                            "solver='gd' backtracking could not decrease the loss "
                            "(step size below 1e-20); the objective may be non-finite"
                        )
                if not auto:
                    _check_divergence(f_new, f0, it, solver, learning_rate, lr_name)
                step_norm = float(np.max(np.abs(x_new - x))) / lr if x.size else 0.0
                x, f_cur, g_cur = x_new, f_new, g_new
                curve.append(f_cur)
                best.offer(x, f_cur)
                if step_norm <= tol:
                    converged, message = True, f"gradient mapping below tol={tol:g}"
            else:
                if schedule == "invscaling":
                    lr = lr0 / math.sqrt(it)
                elif schedule == "cosine":
                    lr = lr0 * 0.5 * (1.0 + math.cos(math.pi * (it - 1) / max_iter))
                order = rng.permutation(n)
                total, weight = 0.0, 0
                for start in range(0, n, batch):
                    rows = order[start : start + batch]
                    if solver == "sgd" and nesterov and momentum > 0:
                        # Nesterov: gradient at the look-ahead point x + momentum * v
                        f_b, g = objective.minibatch(x + momentum * velocity, rows)
                    else:
                        f_b, g = objective.minibatch(x, rows)
                    if f0 is None:
                        f0 = f_b
                    if not math.isfinite(f_b):
                        _check_divergence(f_b, f0, it, solver, learning_rate, lr_name)
                    total += f_b * len(rows)
                    weight += len(rows)
                    if solver == "sgd":
                        velocity *= momentum
                        velocity -= lr * g
                        x += velocity
                        _soft_threshold(x, lr * l1, mask)
                    else:
                        b1, b2, eps = betas
                        t_adam += 1
                        # m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
                        velocity *= b1
                        np.multiply(g, 1 - b1, out=tmp)
                        velocity += tmp
                        second *= b2
                        np.multiply(g, g, out=tmp)
                        tmp *= 1 - b2
                        second += tmp
                        # bias-corrected step:
                        # x <- x - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)
                        step = lr * math.sqrt(1 - b2**t_adam) / (1 - b1**t_adam)
                        np.sqrt(second, out=tmp)
                        tmp += eps
                        np.divide(velocity, tmp, out=tmp)
                        tmp *= step
                        x -= tmp
                f_cur = total / weight + l1_value(x)
                _check_divergence(f_cur, f0, it, solver, learning_rate, lr_name)
                curve.append(f_cur)
                if validation is not None:
                    v = float(validation(x))
                    val_curve.append(v)
                    improved = v < best_val.f - tol
                    best_val.offer(x, v)
                    best.offer(x, f_cur)
                else:
                    improved = f_cur < best.f - tol
                    best.offer(x, f_cur)
                no_change = 0 if improved else no_change + 1
                if no_change >= n_iter_no_change:
                    what = "validation loss" if validation is not None else "training loss"
                    converged = True
                    message = (
                        f"{what} did not improve by tol={tol:g} for "
                        f"{n_iter_no_change} consecutive epochs"
                    )
            if callback is not None:
                info = IterationInfo(it, curve[-1], x, val_curve[-1] if val_curve else None)
                if callback(info):
                    message = "stopped by the callback"
                    break
            if converged:
                break
    except KeyboardInterrupt:
        interrupted = True
        converged = False
        message = "interrupted (KeyboardInterrupt)"
    n_iter = len(curve)
    if validation is not None and val_curve:
        return OptimizeResult(
            best_val.x, best.f, n_iter, converged, interrupted, message, curve, val_curve
        )
    if solver == "gd" and not interrupted:
        return OptimizeResult(x, f_cur, n_iter, converged, False, message, curve)
    if solver == "gd" or interrupted or not np.isfinite(best.f):
        return OptimizeResult(best.x, best.f, n_iter, converged, interrupted, message, curve)
    # sgd/adam: the last iterate (the epoch losses are averages over a moving target)
    return OptimizeResult(x, f_cur, n_iter, converged, interrupted, message, curve)
