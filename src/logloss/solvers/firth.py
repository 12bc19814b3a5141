"""Newton's method with step-halving for Firth's penalised likelihood, as R's ``logistf``.

From ``theta``, the step is ``delta = A(theta)^{-1} U^*(theta)``, with Firth's modified
score ``U^*`` and logistf's augmented information ``A = sum_i (s_i + h_i) p_i (1 - p_i)
z_i z_i^T`` (:mod:`logloss.objectives.firth`), its largest entry capped at
`max_step`; the step is halved (up to `max_halvings` times) until ``l^*`` does not
decrease. The run stops when ``max_j |U^*_j| <= tol`` (over the free parameters): the
score criterion is the one stopping rule, and a step that halving cannot make ascend
(``l^*`` flat at rounding level) ends the run too, counted as converged only when the
score is within ``100 tol``. Some parameters can be held at fixed values (`fixed`): the
step is then ``A_ff^{-1} U^*_f`` over the free ones, as for a profile likelihood.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..objectives.firth import FirthObjective, FirthPoint, FirthScore
from .result import INTERRUPTED, IterationInfo, OptimizeResult

FIRTH_MAX_STEP = 5.0  # logistf's default `maxstep`
FIRTH_MAX_HALVINGS = 25


def minimize_firth(
    objective: FirthObjective,
    x0: NDArray,
    *,
    max_iter: int = 100,
    tol: float = 1e-4,
    fixed: NDArray | None = None,
    max_step: float = FIRTH_MAX_STEP,
    max_halvings: int = FIRTH_MAX_HALVINGS,
    callback: Callable[[IterationInfo], Any] | None = None,
    scale: float | None = None,
) -> OptimizeResult:
    """Maximise Firth's ``l^*`` from `x0`; returns the maximiser in ``x``.

    Parameters
    ----------
    objective : FirthObjective
    x0 : ndarray of shape (n_params,)
        Start (entries in `fixed` keep their values).
    max_iter : int
        Newton iterations.
    tol : float
        Stop when the largest free entry of ``|U^*|`` is at most `tol`.
    fixed : boolean ndarray of shape (n_params,), optional
        Parameters held at their `x0` values.
    max_step, max_halvings :
        The cap on a step's largest entry and the halvings per iteration.
    callback : callable, optional
        Called with an :class:`IterationInfo` after each iteration; True stops.
    scale : float, optional
        ``fun`` and the loss curve are ``-l^* / scale`` (default: the sum of the weights,
        so they are a mean penalised cross-entropy, as the other solvers' losses).

    Returns
    -------
    OptimizeResult
        ``fun`` is ``-l^*(x) / scale``; ``point`` (an extra attribute) the objective's
        :class:`~logloss.objectives.firth.FirthPoint` at ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from logloss.objectives.firth import FirthObjective
    >>> X, y = np.array([[0.0], [0.0], [1.0], [1.0]]), np.array([0, 0, 1, 1])
    >>> res = minimize_firth(FirthObjective(X, y), np.zeros(2), tol=1e-10)
    >>> res.converged, res.x.round(6)   # log(2.5/0.5) - log(0.5/2.5), log(0.5/2.5)
    (True, array([ 3.218876, -1.609438]))
    """
    theta = np.array(x0, dtype=np.float64, copy=True)
    free = np.ones(theta.size, bool) if fixed is None else ~np.asarray(fixed, bool)
    if scale is None:
        scale = float(objective.n_samples if objective.sw is None else objective.sw.sum())
    scale = max(scale, 1e-300)
    at = objective.point(theta)
    curve: list[float] = []
    converged, message, it = False, "", 0
    try:
        for it in range(1, max_iter + 1):
            scores = objective.score_pass(at)
            U = scores.score[free]
            gmax = float(np.max(np.abs(U))) if U.size else 0.0
            if gmax <= tol:
                converged, message, it = True, f"max |U*| = {gmax:.3g} <= tol", it - 1
                break
            at, ascended = _step(objective, at, scores, free, max_step, max_halvings)
            curve.append(-at.penalized / scale)
            if callback is not None and callback(IterationInfo(it, curve[-1], at.theta.copy())):
                message = "stopped by the callback"
                break
            if not ascended:
                converged = gmax <= 100.0 * tol
                message = (
                    f"step-halving could not increase l* (max |U*| = {gmax:.3g}; at rounding level)"
                )
                break
        else:
            scores = objective.score_pass(at)
            U = scores.score[free]
            gmax = float(np.max(np.abs(U))) if U.size else 0.0
            converged = gmax <= tol
            message = f"max |U*| = {gmax:.3g} after max_iter iterations"
    except KeyboardInterrupt:
        result = OptimizeResult(at.theta.copy(), -at.penalized / scale, len(curve), False,
                                True, INTERRUPTED, curve)  # fmt: skip
        result.point = at
        return result
    result = OptimizeResult(at.theta.copy(), -at.penalized / scale, it, converged, False,
                            message, curve)  # fmt: skip
    result.point = at
    return result


def _step(
    objective: FirthObjective, at: FirthPoint, scores: FirthScore, free: NDArray,
    max_step: float, max_halvings: int,
) -> tuple[FirthPoint, bool]:  # fmt: skip
    """One Newton step with step-halving on ``l^*``; the new point and whether it ascended."""
    from scipy.linalg import cho_factor, cho_solve

    # delta_f = A_ff^{-1} U*_f (the full A when nothing is fixed), as logistf
    delta = np.zeros(at.theta.size)
    delta[free] = cho_solve(cho_factor(scores.augmented[np.ix_(free, free)]), scores.score[free])
    big = float(np.max(np.abs(delta)))
    if big > max_step:
        delta *= max_step / big
    for _ in range(max_halvings + 1):
        trial = at.theta + delta
        try:
            new = objective.point(trial)
        except ValueError:  # a singular I: too far along a separating direction
            delta *= 0.5
            continue
        # ascent, allowing for rounding in l* near the maximum (where it is flat)
        if new.penalized >= at.penalized - 1e-13 * (1.0 + abs(at.penalized)):
            return new, True
        delta *= 0.5
    return at, False


__all__ = ["minimize_firth", "FIRTH_MAX_STEP", "FIRTH_MAX_HALVINGS"]
