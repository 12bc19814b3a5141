"""What every solver shares: the objective it needs, what it reports, how it fails."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

# A loss above this many times its starting value (or above it when it started below 1)
# counts as diverged.
_DIVERGENCE_FACTOR = 100.0


class Objective(Protocol):
    """What a solver needs from an objective (see :class:`logloss.objectives.LinearObjective`).

    ``"newton"`` also needs ``loss_grad_hessp(x) -> (loss, grad, hessp)`` (or a plain
    ``hessp(x, v)``); ``"sgd"`` and ``"adam"`` need ``minibatch``; an L1 part is read from
    ``l1_scale`` and ``penalty_mask`` when the objective has them.
    """

    n_params: int
    n_samples: int

    def __call__(self, theta: NDArray) -> tuple[float, NDArray]: ...

    def minibatch(self, theta: NDArray, rows: NDArray) -> tuple[float, NDArray]: ...


HessianProduct = Callable[[NDArray], NDArray]


class DivergenceError(ValueError):
    """Training diverged: the loss became non-finite or grew far beyond its start."""


class FitInterruptedWarning(UserWarning):
    """``fit`` was interrupted (Ctrl-C); the model keeps the best parameters found so far."""


@dataclass
class IterationInfo:
    """What a callback receives after each iteration (epoch for sgd and adam)."""

    iteration: int
    loss: float
    x: NDArray
    validation_loss: float | None = None


@dataclass
class OptimizeResult:
    """Result of :func:`logloss.solvers.minimize`.

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


INTERRUPTED = "interrupted (KeyboardInterrupt)"


class Best:
    """Remembers the parameters with the lowest loss seen so far.

    Examples
    --------
    >>> import numpy as np
    >>> best = Best(np.zeros(1))
    >>> best.offer(np.array([1.0]), 3.0); best.offer(np.array([2.0]), 5.0)
    >>> best.x, best.f
    (array([1.]), 3.0)
    """

    def __init__(self, x0: NDArray):
        self.x = np.array(x0, dtype=np.float64, copy=True)
        self.f = math.inf

    def offer(self, x: NDArray, f: float) -> None:
        if f < self.f:
            self.f = float(f)
            np.copyto(self.x, x)


def check_divergence(
    f: float, f0: float, iteration: int, solver: str, lr: Any, lr_name: str = "learning_rate"
) -> None:
    """:class:`DivergenceError` naming the step size when `f` is non-finite or far above `f0`."""
    if not math.isfinite(f) or f > _DIVERGENCE_FACTOR * max(f0, 1.0):
        raise DivergenceError(
            f"solver={solver!r} diverged at iteration {iteration} (loss {f:.4g}, started at "
            f"{f0:.4g}): `{lr_name}`={lr!r} is too high; lower it"
            + (" or use learning_rate='auto' (backtracking)" if solver == "gd" else "")
        )
