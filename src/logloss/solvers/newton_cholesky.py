"""``"newton-cholesky"``: Newton's method with the full Hessian, for models with few parameters.

Each iteration makes one blocked pass over the rows for the loss, the gradient and the
full Hessian (the objective's ``loss_grad_hess(x)``, float64), solves the Newton system
by Cholesky and takes the step with a backtracking (Armijo) line search on the loss:

.. math::

    (H + \\textstyle\\sum_j \\tau_j n_j n_j^T) \\, \\Delta = -g, \\qquad
    x \\leftarrow x + t \\Delta, \\quad t \\in \\{1, 1/2, 1/4, \\dots\\}
    \\text{ the first with } f(x + t\\Delta) \\le f(x) + 10^{-4} \\, t \\, g^T \\Delta

The ``n_j`` are the objective's ``flat_directions`` (a softmax's shifts common to every
class, along which H is singular and g is zero): since ``H n_j = 0`` and
``g . n_j = 0``, adding them changes nothing but the solvability, and the step is
``-H^+ g``, the minimum-norm Newton step, so unpenalised softmax fits converge
quadratically. H is scaled to a unit diagonal before its factorisation. A Hessian that is
still singular (collinear or constant columns without a penalty) gets damped steps,
``(H_s + \\lambda I) \\Delta_s = -g_s`` with the smallest ``\\lambda`` in
``1e-8, 1e-6, ..., 1`` that factors, and a :class:`SingularHessianWarning`: the
coefficients are then finite and one of many minimisers.

Stopping: the largest absolute gradient entry at most `tol` (as ``"lbfgs"`` and ``"gd"``).
One rule is added: when no step along the Newton direction lowers the loss and the
Newton decrement ``-g^T Delta / 2`` is below the float64 resolution of the loss
(``64 eps max(1, |f|)``), the point is as good as float64 can tell, and the run counts
as converged (a `tol` below what float64 can reach does not loop to `max_iter`).

Costs: a pass costs ``n d'^2 K (K + 1) / 2`` multiply-adds for the Hessian (d' columns,
K' logits per row) and the solve ``(d' K')^3 / 3``: for up to a few thousand parameters.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .result import INTERRUPTED, Best, DivergenceError, IterationInfo, OptimizeResult

NEWTON_CHOLESKY = "newton-cholesky"

# Armijo's sufficient decrease, and how many times a step is halved before giving up
_ARMIJO = 1e-4
_MAX_HALVINGS = 30
# a pivot of the unit-diagonal Hessian's Cholesky factor below this (squared) counts as
# singular: the column is a combination of the others to about 12 digits
_SINGULAR_PIVOT = 1e-12
_DAMPING = (1e-8, 1e-6, 1e-4, 1e-2, 1.0)


class SingularHessianWarning(UserWarning):
    """The Hessian was singular: ``"newton-cholesky"`` took damped steps."""


def newton_step(H: NDArray, g: NDArray, flat: NDArray | None = None) -> tuple[NDArray, float]:
    """The Newton step ``-H^+ g`` by Cholesky, and the damping used (0.0 when none).

    Parameters
    ----------
    H : ndarray of shape (n, n)
        Symmetric positive semi-definite Hessian.
    g : ndarray of shape (n,)
        Gradient.
    flat : ndarray of shape (n, r), optional
        Orthonormal directions with ``H n = 0`` and ``g . n = 0`` (see the module).

    Examples
    --------
    >>> import numpy as np
    >>> step, damping = newton_step(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 2.0]))
    >>> step, damping
    (array([-1. , -0.5]), 0.0)
    >>> flat = np.full((2, 1), 2 ** -0.5)             # H is singular along (1, 1)
    >>> newton_step(np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([1.0, -1.0]), flat)[0]
    array([-0.5,  0.5])
    """
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    H = np.array(H, dtype=np.float64, copy=True)
    if flat is not None and flat.shape[1]:
        # tau_j: the mean curvature of the entries the direction touches (scale-free)
        tau = (flat**2).T @ np.diag(H) / np.maximum((flat**2).sum(axis=0), 1e-300)
        tau = np.where(tau > 0, tau, 1.0)
        H += (flat * tau) @ flat.T
    diag = np.diag(H)
    scale = np.sqrt(np.where(diag > 0, diag, 1.0))
    Hs = H / np.outer(scale, scale)
    gs = g / scale
    for damping in (0.0, *_DAMPING):
        A = Hs if damping == 0.0 else Hs + damping * np.eye(len(g))
        try:
            factor = cho_factor(A, lower=True, check_finite=False)
        except (LinAlgError, ValueError):
            continue
        pivots = np.diag(factor[0]) ** 2
        if damping == 0.0 and not pivots.min() > _SINGULAR_PIVOT:
            continue
        step = -cho_solve(factor, gs, check_finite=False) / scale
        if np.all(np.isfinite(step)):
            return step, damping
    return -g / scale**2, math.inf  # nothing factors (a non-finite H): a scaled gradient step


def _value(objective: Any, x: NDArray) -> float:
    """The loss alone: a cheaper pass when the objective offers one."""
    loss = getattr(objective, "loss", None)
    return float(loss(x)) if loss is not None else float(objective(x)[0])


def minimize_newton_cholesky(
    objective: Any,
    x0: NDArray,
    max_iter: int,
    tol: float,
    callback: Callable[[IterationInfo], Any] | None,
) -> OptimizeResult:
    """Minimise with Newton steps on the full Hessian (see the module); the last point is
    returned (the best one seen when interrupted).

    `objective` must offer ``loss_grad_hess(x) -> (loss, grad, H)``; ``flat_directions``
    and ``loss(x)`` are used when present.

    Examples
    --------
    >>> import numpy as np
    >>> class Bowl:                        # f(x) = sum exp(x) - 2 sum x, minimum at log 2
    ...     def loss_grad_hess(self, x):
    ...         e = np.exp(x)
    ...         return float(e.sum() - 2 * x.sum()), e - 2.0, np.diag(e)
    >>> res = minimize_newton_cholesky(Bowl(), np.zeros(2), 20, 1e-12, None)
    >>> bool(np.allclose(res.x, np.log(2.0), rtol=0, atol=1e-12)), res.converged, res.n_iter
    (True, True, 5)
    """
    if not hasattr(objective, "loss_grad_hess"):
        raise TypeError(
            f"solver={NEWTON_CHOLESKY!r} needs an objective with loss_grad_hess(x) (the full "
            f"Hessian); {type(objective).__name__} has none"
        )
    flat = getattr(objective, "flat_directions", None)
    x = np.array(x0, dtype=np.float64, copy=True)
    best = Best(x)
    curve: list[float] = []
    converged, message, damped = False, f"reached max_iter={max_iter}", 0.0
    try:
        f, g, H = objective.loss_grad_hess(x)
        if not math.isfinite(f) or not np.all(np.isfinite(g)):
            raise DivergenceError(
                f"solver={NEWTON_CHOLESKY!r}: the loss or its gradient is not finite at the "
                "starting point"
            )
        best.offer(x, f)
        for iteration in range(1, max_iter + 1):
            if np.max(np.abs(g), initial=0.0) <= tol:
                converged, message = True, f"max |gradient| below tol={tol:g}"
                break
            step, damping = newton_step(H, g, flat)
            damped = max(damped, damping)
            slope = float(g @ step)
            if not slope < 0.0:  # not a descent direction (rounding): a gradient step
                step, slope = -g, -float(g @ g)
            found = _line_search(objective, x, f, g, step, slope)
            if found is None:
                if -0.5 * slope <= 64 * np.finfo(float).eps * max(1.0, abs(f)):
                    converged = True
                    message = "the loss cannot decrease further in float64 (Newton decrement)"
                else:
                    message = "the line search found no step that lowers the loss"
                break
            x, f, g, H = found
            best.offer(x, f)
            curve.append(f)
            if callback is not None and callback(IterationInfo(iteration, f, x.copy())):
                message = "stopped by the callback"
                break
        else:
            if np.max(np.abs(g), initial=0.0) <= tol:
                converged, message = True, f"max |gradient| below tol={tol:g}"
    except KeyboardInterrupt:
        return OptimizeResult(best.x, best.f, len(curve), False, True, INTERRUPTED, curve)
    if damped > 0.0:
        warnings.warn(
            f"solver={NEWTON_CHOLESKY!r}: the Hessian is singular (collinear or constant "
            "columns without a penalty, or separated classes); the Newton steps were damped "
            f"(up to {damped:g} times its diagonal) and the coefficients are one of many "
            "minimisers: drop the collinear columns or add an L2 penalty",
            SingularHessianWarning,
            stacklevel=4,
        )
    # the last point: every accepted step lowered the loss (or, at its float64
    # resolution, the gradient), so it is the best one and the one the stopping test saw
    return OptimizeResult(x, float(f), len(curve), converged, False, message, curve)


def _line_search(
    objective: Any, x: NDArray, f: float, g: NDArray, step: NDArray, slope: float
) -> tuple[NDArray, float, NDArray, NDArray] | None:
    """The first of t = 1, 1/2, ... with Armijo's decrease: ``(x, f, g, H)`` there, or None.

    The full step is evaluated with its gradient and Hessian at once (Newton's step is
    accepted almost always); shorter ones with the loss alone. Where the losses differ
    by rounding only, the full step is also accepted when it lowers the gradient.
    """
    resolution = 64 * np.finfo(float).eps * max(1.0, abs(f))
    xt = x + step
    ft, gt, Ht = objective.loss_grad_hess(xt)
    if math.isfinite(ft) and (
        ft <= f + _ARMIJO * slope
        or (abs(ft - f) <= resolution and np.max(np.abs(gt)) < np.max(np.abs(g)))
    ):
        return xt, float(ft), gt, Ht
    t = 1.0
    for _ in range(_MAX_HALVINGS):
        t *= 0.5
        xt = x + t * step
        ft = _value(objective, xt)
        if math.isfinite(ft) and ft <= f + _ARMIJO * t * slope:
            ft, gt, Ht = objective.loss_grad_hess(xt)
            return xt, float(ft), gt, Ht
    return None
