"""Our first-order solvers: gd, sgd and adam as named steps over one state, in one loop.

- ``"gd"``: full-batch gradient descent ``x <- x - lr * grad``; with ``learning_rate="auto"``
  each step backtracks (halves the step until the sufficient-decrease condition
  ``f(x+) <= f(x) + grad . (x+ - x) + ||x+ - x||^2 / (2 lr)`` holds; the step never grows
  again, which keeps the last iterations free of rounding-noise oscillation). Stops when
  the largest entry of ``(x - x+) / lr`` is at most `tol`.
- ``"sgd"``: mini-batch SGD with (Nesterov) momentum and a step schedule
  (``"constant"``, ``"invscaling"``: ``lr / (1 + t)^0.5`` per epoch t, ``"cosine"``:
  ``lr (1 + cos(pi t / max_iter)) / 2``).
- ``"adam"``: Adam with bias correction (Kingma and Ba, 2015).

An iteration of gd is one (backtracked) step; an iteration of sgd and adam is one epoch
of mini-batch steps. An L1 penalty ``beta * ||x[mask]||_1`` is handled by a proximal step
(:func:`soft_threshold`) after each gd or sgd update (adam refuses it), with the threshold
that solver's step size on the gradient: ``lr * beta`` for gd, ``lr * beta / (1 -
momentum)`` for sgd (its velocity is ``lr / (1 - momentum)`` times a running mean of the
gradients). A fixed point ``x = prox(x - step * g)`` satisfies ``0 in g + beta *
d||x||_1``, and a coordinate whose (running mean) gradient stays within ``beta`` of zero
stays exactly zero: the solution is sparse with either solver. (A threshold of ``lr *
beta`` under momentum 0.9 is ten times too small: the velocity carried the coordinates off
zero again, and no coefficient stayed zero.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .result import (
    INTERRUPTED,
    Best,
    DivergenceError,
    IterationInfo,
    Objective,
    OptimizeResult,
    check_divergence,
)

FIRST_ORDER_SOLVERS = ("gd", "sgd", "adam")
STOCHASTIC_SOLVERS = ("sgd", "adam")
PROXIMAL_SOLVERS = ("gd", "sgd")
SCHEDULES = ("constant", "invscaling", "cosine")
_DEFAULT_LR = {"gd": 1.0, "sgd": 0.01, "adam": 0.001}


def soft_threshold(x: NDArray, threshold: float | NDArray, mask: NDArray | None) -> None:
    """Proximal operator of threshold * ||x[mask]||_1, in place: sign(x) max(|x| - t, 0).

    `threshold` is one number or one per entry of `x` (a per-coordinate step size).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([-3.0, 0.5, 2.0])
    >>> soft_threshold(x, 1.0, None); x
    array([-2.,  0.,  1.])
    >>> soft_threshold(x, np.array([1.0, 0.0, 2.0]), None); x
    array([-1.,  0.,  0.])
    """
    if np.ndim(threshold) == 0:
        if threshold <= 0.0:
            return
    elif mask is not None:
        threshold = threshold[mask]
    if mask is None:
        np.copyto(x, np.sign(x) * np.maximum(np.abs(x) - threshold, 0.0))
    else:
        xm = x[mask]
        x[mask] = np.sign(xm) * np.maximum(np.abs(xm) - threshold, 0.0)


@dataclass(frozen=True)
class FirstOrderOptions:
    """The checked settings of one first-order run."""

    solver: str
    max_iter: int
    tol: float
    learning_rate: float | str  # as given, for the divergence message
    lr_name: str
    batch_size: int | None
    momentum: float
    nesterov: bool
    schedule: str
    betas: tuple[float, float, float]  # adam's beta1, beta2, epsilon
    n_iter_no_change: int
    l1: float  # weight of ||x[mask]||_1
    mask: NDArray | None

    @property
    def auto(self) -> bool:
        """Backtracking (gd) or the default step size (sgd, adam)."""
        return isinstance(self.learning_rate, str)

    @property
    def lr0(self) -> float:
        return _DEFAULT_LR[self.solver] if self.auto else float(self.learning_rate)

    def l1_value(self, v: NDArray) -> float:
        """The L1 part of the objective at `v`."""
        if self.l1 == 0.0:
            return 0.0
        return self.l1 * float(np.sum(np.abs(v if self.mask is None else v[self.mask])))


@dataclass
class FirstOrderState:
    """Where a first-order run stands; the step functions update it in place."""

    x: NDArray
    lr: float
    velocity: NDArray  # sgd's momentum, or adam's first moment
    second: NDArray  # adam's second moment
    tmp: NDArray  # scratch for adam
    t: int = 0  # adam's step count
    f: float | None = None  # loss at x (gd) or of the last epoch (sgd, adam)
    g: NDArray | None = None  # gradient at x (gd)
    f0: float | None = None  # the first loss seen, for the divergence test
    best: Best = field(init=False)

    def __post_init__(self) -> None:
        self.best = Best(self.x)

    @classmethod
    def start(cls, x0: NDArray, lr: float) -> FirstOrderState:
        x = x0.copy()
        return cls(x, lr, np.zeros_like(x), np.zeros_like(x), np.empty_like(x))


# ---------------------------------------------------------------------------
# the steps
# ---------------------------------------------------------------------------


def gd_iteration(objective: Objective, st: FirstOrderState, opt: FirstOrderOptions, it: int):
    """One (backtracked) proximal gradient step; returns the gradient-mapping norm."""
    if st.f is None:
        st.f, st.g = objective(st.x)
        st.f += opt.l1_value(st.x)
        st.f0 = st.f
        st.best.offer(st.x, st.f)
    x, lr, mask = st.x, st.lr, opt.mask
    while True:
        x_new = x - lr * st.g
        soft_threshold(x_new, lr * opt.l1, mask)
        f_new, g_new = objective(x_new)
        f_new += opt.l1_value(x_new)
        if not opt.auto:
            break
        d = x_new - x
        # sufficient decrease for the proximal gradient step of size lr
        bound = st.f - opt.l1_value(x) + float(st.g @ d) + float(d @ d) / (2 * lr)
        if math.isfinite(f_new) and f_new - opt.l1_value(x_new) <= bound + 4e-16 * abs(st.f):
            break
        lr *= 0.5
        if lr < 1e-20:
            raise DivergenceError(
                "solver='gd' backtracking could not decrease the loss "
                "(step size below 1e-20); the objective may be non-finite"
            )
    st.lr = lr
    if not opt.auto:
        check_divergence(f_new, st.f0, it, opt.solver, opt.learning_rate, opt.lr_name)
    step_norm = float(np.max(np.abs(x_new - x))) / lr if x.size else 0.0
    st.x, st.f, st.g = x_new, f_new, g_new
    st.best.offer(st.x, st.f)
    return step_norm


def sgd_step(st: FirstOrderState, g: NDArray, opt: FirstOrderOptions) -> None:
    """Momentum step ``v <- momentum v - lr g``, ``x <- x + v``, then the L1 proximal step.

    The velocity is ``-lr / (1 - momentum)`` times a running mean of the gradients, so
    the proximal step's threshold is ``lr * l1 / (1 - momentum)``: a coordinate at zero
    stays there while the running mean of its gradient is within l1 of zero.
    """
    st.velocity *= opt.momentum
    st.velocity -= st.lr * g
    st.x += st.velocity
    if opt.l1 > 0.0:
        soft_threshold(st.x, st.lr * opt.l1 / (1.0 - opt.momentum), opt.mask)


def adam_step(st: FirstOrderState, g: NDArray, opt: FirstOrderOptions) -> None:
    """Adam's bias-corrected step (Kingma and Ba, 2015), in place and without temporaries."""
    b1, b2, eps = opt.betas
    st.t += 1
    m, v, tmp = st.velocity, st.second, st.tmp
    # m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
    m *= b1
    np.multiply(g, 1 - b1, out=tmp)
    m += tmp
    v *= b2
    np.multiply(g, g, out=tmp)
    tmp *= 1 - b2
    v += tmp
    # bias-corrected step:
    # x <- x - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)
    step = st.lr * math.sqrt(1 - b2**st.t) / (1 - b1**st.t)
    np.sqrt(v, out=tmp)
    tmp += eps
    np.divide(m, tmp, out=tmp)
    tmp *= step
    st.x -= tmp


_STEPS = {"sgd": sgd_step, "adam": adam_step}


def scheduled_lr(opt: FirstOrderOptions, it: int) -> float | None:
    """The step size of epoch `it` under the schedule (None: keep the current one)."""
    if opt.schedule == "invscaling":
        return opt.lr0 / math.sqrt(it)
    if opt.schedule == "cosine":
        return opt.lr0 * 0.5 * (1.0 + math.cos(math.pi * (it - 1) / opt.max_iter))
    return None


def epoch(
    objective: Objective,
    st: FirstOrderState,
    opt: FirstOrderOptions,
    it: int,
    rng: np.random.Generator,
) -> float:
    """One pass over shuffled mini-batches with the solver's step; returns the epoch loss."""
    lr = scheduled_lr(opt, it)
    if lr is not None:
        st.lr = lr
    step = _STEPS[opt.solver]
    n = int(getattr(objective, "n_samples", 0))
    batch = min(200, n) if opt.batch_size is None else min(int(opt.batch_size), n)
    look_ahead = opt.solver == "sgd" and opt.nesterov and opt.momentum > 0
    order = rng.permutation(n)
    total, weight = 0.0, 0
    for start in range(0, n, batch):
        rows = order[start : start + batch]
        if look_ahead:
            # Nesterov: gradient at the look-ahead point x + momentum * v
            f_b, g = objective.minibatch(st.x + opt.momentum * st.velocity, rows)
        else:
            f_b, g = objective.minibatch(st.x, rows)
        if st.f0 is None:
            st.f0 = f_b
        if not math.isfinite(f_b):
            check_divergence(f_b, st.f0, it, opt.solver, opt.learning_rate, opt.lr_name)
        total += f_b * len(rows)
        weight += len(rows)
        step(st, g, opt)
    st.f = total / weight + opt.l1_value(st.x)
    check_divergence(st.f, st.f0, it, opt.solver, opt.learning_rate, opt.lr_name)
    return st.f


# ---------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------


@dataclass
class _Progress:
    """The curves and the stopping state of the loop."""

    curve: list[float] = field(default_factory=list)
    val_curve: list[float] = field(default_factory=list)
    no_change: int = 0
    converged: bool = False
    message: str = ""


def _patience(
    pr: _Progress,
    st: FirstOrderState,
    best_val: Best,
    opt: FirstOrderOptions,
    validation: Callable[[NDArray], float] | None,
) -> None:
    """sgd/adam: count epochs without an improvement of `tol` (validation loss if given)."""
    if validation is not None:
        v = float(validation(st.x))
        pr.val_curve.append(v)
        improved = v < best_val.f - opt.tol
        best_val.offer(st.x, v)
    else:
        improved = st.f < st.best.f - opt.tol
    st.best.offer(st.x, st.f)
    pr.no_change = 0 if improved else pr.no_change + 1
    if pr.no_change >= opt.n_iter_no_change:
        what = "validation loss" if validation is not None else "training loss"
        pr.converged = True
        pr.message = (
            f"{what} did not improve by tol={opt.tol:g} for "
            f"{opt.n_iter_no_change} consecutive epochs"
        )


def minimize_first_order(
    objective: Objective,
    x0: NDArray,
    opt: FirstOrderOptions,
    *,
    validation: Callable[[NDArray], float] | None,
    rng: np.random.Generator,
    callback: Callable[[IterationInfo], Any] | None,
) -> OptimizeResult:
    """Run gd, sgd or adam from `x0` for up to ``opt.max_iter`` iterations.

    Examples
    --------
    >>> import numpy as np
    >>> opt = FirstOrderOptions("gd", 200, 1e-8, "auto", "learning_rate", None, 0.9, True,
    ...                         "constant", (0.9, 0.999, 1e-8), 10, 0.0, None)
    >>> f = lambda x: (float(x @ x), 2.0 * x)
    >>> res = minimize_first_order(f, np.ones(2), opt, validation=None,
    ...                            rng=np.random.default_rng(0), callback=None)
    >>> res.x.round(6), res.converged
    (array([0., 0.]), True)
    """
    if opt.schedule not in SCHEDULES:
        raise ValueError(
            f"`schedule` must be one of {', '.join(map(repr, SCHEDULES))}; got {opt.schedule!r}"
        )
    if opt.auto and opt.learning_rate != "auto":
        raise ValueError(
            f"`learning_rate` must be a positive number or 'auto'; got {opt.learning_rate!r}"
        )
    st = FirstOrderState.start(x0, opt.lr0)
    best_val = Best(st.x)
    pr = _Progress(message=f"reached max_iter={opt.max_iter}")
    interrupted = False
    try:
        for it in range(1, opt.max_iter + 1):
            if opt.solver == "gd":
                step_norm = gd_iteration(objective, st, opt, it)
                pr.curve.append(st.f)
                if step_norm <= opt.tol:
                    pr.converged, pr.message = True, f"gradient mapping below tol={opt.tol:g}"
            else:
                pr.curve.append(epoch(objective, st, opt, it, rng))
                _patience(pr, st, best_val, opt, validation)
            if callback is not None:
                val = pr.val_curve[-1] if pr.val_curve else None
                if callback(IterationInfo(it, pr.curve[-1], st.x, val)):
                    pr.message = "stopped by the callback"
                    break
            if pr.converged:
                break
    except KeyboardInterrupt:
        interrupted = True
        pr.converged = False
        pr.message = INTERRUPTED
    return _result(st, best_val, pr, opt.solver, interrupted, validation is not None)


def _result(
    st: FirstOrderState,
    best_val: Best,
    pr: _Progress,
    solver: str,
    interrupted: bool,
    validated: bool,
) -> OptimizeResult:
    """Which parameters a run returns: the best validation point with early stopping; gd's
    last iterate (its losses decrease); the best point seen when interrupted; else the last
    iterate of sgd/adam (their epoch losses are averages over a moving target)."""
    n_iter, best = len(pr.curve), st.best
    done = (n_iter, pr.converged, interrupted, pr.message, pr.curve)
    if validated and pr.val_curve:
        return OptimizeResult(best_val.x, best.f, *done, pr.val_curve)
    if solver == "gd" and not interrupted:
        return OptimizeResult(st.x, st.f, *done)
    if solver == "gd" or interrupted or not np.isfinite(best.f):
        return OptimizeResult(best.x, best.f, *done)
    return OptimizeResult(st.x, st.f, *done)
