"""Full-batch gradient descent on a linear model, written once for the demo and the answers.

The tutorial trains ``z = X w`` (a leading column of ones in `X` makes ``w[0]`` the
intercept) by plain gradient descent, the algorithm its prose explains. The caller
gives the gradient of its mean loss with respect to the logits; the chain rule to
the weights, the L2 penalty and the loop are here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

__all__ = ["curvature_bound", "gradient_descent"]


def curvature_bound(X: NDArray[np.float64], l2: float = 0.0) -> float:
    """An upper bound L on the curvature of the mean binary cross-entropy of ``X w``.

    The Hessian of the mean BCE is ``X^T diag(phi (1 - phi)) X / n`` and
    ``phi (1 - phi) <= 1/4``, so ``L = lambda_max(X^T X) / (4 n) + l2`` bounds it;
    a step of ``1/L`` never increases the cost (the descent lemma).

    Examples
    --------
    >>> import numpy as np
    >>> curvature_bound(np.eye(4))   # lambda_max = 1, n = 4
    0.0625
    """
    return float(np.linalg.eigvalsh(X.T @ X)[-1]) / (4.0 * X.shape[0]) + l2


def gradient_descent(
    X: NDArray[np.float64],
    logit_grad: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    *,
    steps: int,
    learning_rate: float,
    l2: float = 0.0,
    start: NDArray[np.float64] | None = None,
    on_step: Callable[[int, NDArray[np.float64]], bool | None] | None = None,
) -> tuple[NDArray[np.float64], int]:
    r"""Minimise :math:`J(w) + \frac{\lambda}{2} \lVert w_{1:} \rVert^2` by full-batch steps.

    .. math:: w \leftarrow w - \eta \, \bigl(X^\top g(X w) + \lambda \, (0, w_1, \dots, w_d)\bigr)

    where :math:`g(z) = \partial J / \partial z` comes from `logit_grad` (for the
    mean cross-entropy, :math:`(\phi(z_i) - y_i) / n`). The intercept ``w[0]`` is
    not penalised.

    Parameters
    ----------
    X : ndarray of shape (n, d + 1)
        The inputs, a column of ones first.
    logit_grad : callable
        ``logit_grad(z)`` returns :math:`\partial J / \partial z`, shape (n,).
    steps : int
        Most steps taken.
    learning_rate : float
        The step size :math:`\eta`.
    l2 : float, default 0
        The penalty :math:`\lambda`.
    start : ndarray of shape (d + 1,), optional
        The first weights (default zeros); not modified.
    on_step : callable, optional
        ``on_step(step, w)`` after each step (``step`` from 1) with the new
        weights; returning True stops the descent there.

    Returns
    -------
    w : ndarray of shape (d + 1,)
        The last weights.
    taken : int
        The number of steps taken.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, -1.0], [1.0, 1.0]]); y = np.array([0.0, 1.0])
    >>> from logloss._stable import sigmoid
    >>> w, taken = gradient_descent(X, lambda z: (sigmoid(z) - y) / 2, steps=1, learning_rate=1.0)
    >>> w.tolist(), taken   # from w = 0: phi = 1/2, g = (1/2 - y) / n, w1 = -X^T g
    ([0.0, 0.5], 1)
    """
    w = np.zeros(X.shape[1]) if start is None else np.array(start, dtype=np.float64)
    penalty = np.ones_like(w)
    penalty[0] = 0.0  # the intercept is not penalised
    for step in range(1, steps + 1):
        # dJ/dw = sum_i (dJ/dz_i) x_i = X^T g; the penalty adds l2 * w (intercept excluded).
        grad = X.T @ logit_grad(X @ w)
        if l2:
            grad += l2 * penalty * w
        w -= learning_rate * grad
        if on_step is not None and on_step(step, w):
            return w, step
    return w, steps
