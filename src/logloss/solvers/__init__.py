"""Solvers: minimise an objective ``(loss, grad) = f(params)`` over a flat float64 vector.

Two come from :mod:`scipy.optimize` (:mod:`.scipy_methods`): ``"lbfgs"`` and ``"newton"``
(trust-region Newton-CG with the objective's Hessian-vector product closure). Three are
ours (:mod:`.first_order`): ``"gd"``, ``"sgd"`` and ``"adam"``, named steps over one
state in one loop. ``"newton-cholesky"`` (:mod:`.newton_cholesky`) takes Newton steps on
the objective's full Hessian (one blocked pass per iteration, a Cholesky solve): for
models with few parameters, and the fit meant for :func:`logloss.stats.infer`.
:func:`minimize` dispatches to them; :data:`SOLVERS` lists them all.

An L1 penalty ``beta * ||x[mask]||_1`` (``objective.l1_scale`` > 0) is handled by a
proximal step after each gd or sgd update, soft-thresholding ``x <- sign(x) max(|x| - lr
beta, 0)`` on the penalised entries; lbfgs, newton, newton-cholesky and adam refuse it.

Every solver returns an :class:`OptimizeResult`. Interrupting with Ctrl-C (a
``KeyboardInterrupt``, also one raised by the callback) stops cleanly and returns the best
parameters seen so far with ``interrupted=True``. A diverging run (non-finite loss, or a
loss 100 times its starting value) raises :class:`DivergenceError` naming the step size.
:mod:`.progress` holds the progress bar and the end-of-fit warnings.
"""

from __future__ import annotations

from .dispatch import HESSIAN_SOLVERS, SOLVERS, minimize
from .first_order import (
    FIRST_ORDER_SOLVERS,
    PROXIMAL_SOLVERS,
    SCHEDULES,
    STOCHASTIC_SOLVERS,
    soft_threshold,
)
from .newton_cholesky import NEWTON_CHOLESKY, SingularHessianWarning, newton_step
from .result import (
    DivergenceError,
    FitInterruptedWarning,
    IterationInfo,
    Objective,
    OptimizeResult,
)
from .scipy_methods import SCIPY_SOLVERS

__all__ = [
    "FIRST_ORDER_SOLVERS",
    "HESSIAN_SOLVERS",
    "NEWTON_CHOLESKY",
    "PROXIMAL_SOLVERS",
    "SCHEDULES",
    "SCIPY_SOLVERS",
    "SOLVERS",
    "STOCHASTIC_SOLVERS",
    "DivergenceError",
    "FitInterruptedWarning",
    "IterationInfo",
    "Objective",
    "OptimizeResult",
    "SingularHessianWarning",
    "minimize",
    "newton_step",
    "soft_threshold",
]
