"""The log-space identities, written once for all code outside the numba kernels.

Every function takes an array already in its compute dtype (float32 or float64, NaN
free) and the array's namespace ``xp`` (NumPy by default), checks nothing, and never
overflows for finite input. The public, validating wrappers are in
:mod:`logloss.activations`; the losses, objectives, metrics, plots and the tutorial
call these directly. Each identity carries its derivation in a one-line comment.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["sigmoid", "softplus", "log_sigmoid", "logsumexp", "log_softmax", "softmax"]


def sigmoid(x: Any, xp: Any = np) -> Any:
    """``1 / (1 + e^-x)`` with no overflow at any magnitude."""
    # e = exp(-|x|) is in (0, 1]; sigmoid(x) = 1/(1+e) for x >= 0 and e/(1+e) for x < 0.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0, e) / (1.0 + e)


def softplus(x: Any, xp: Any = np) -> Any:
    """``log(1 + e^x)`` with no overflow at any magnitude."""
    # softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|): the exp never overflows.
    return xp.maximum(x, 0.0) + xp.log1p(xp.exp(-xp.abs(x)))


def log_sigmoid(x: Any, xp: Any = np) -> Any:
    """``log(sigmoid(x))`` without forming the sigmoid."""
    # log sigmoid(x) = -log(1 + e^-x) = -softplus(-x): exact where sigmoid underflows.
    return -softplus(-x, xp)


def logsumexp(x: Any, axis: int = -1, xp: Any = np) -> Any:
    """Max-shifted ``log sum_j e^{x_j}`` over `axis` (kept); x is NaN and +inf free.

    A row of only ``-inf`` gives ``-inf``.
    """
    m = xp.max(x, axis=axis, keepdims=True)
    m_safe = xp.where(m == -math.inf, 0.0, m)
    # log sum_j e^{x_j} = m + log sum_j e^{x_j - m}: every exponent is <= 0.
    with np.errstate(divide="ignore", over="ignore"):  # x - m may round to -inf: exp gives 0
        return m_safe + xp.log(xp.sum(xp.exp(x - m_safe), axis=axis, keepdims=True))


def log_softmax(x: Any, axis: int = -1, xp: Any = np) -> Any:
    """``x - logsumexp(x)`` over `axis`, formed without cancellation.

    Every row must hold a finite entry (callers check; see ``activations``).
    """
    m = xp.max(x, axis=axis, keepdims=True)
    with np.errstate(over="ignore"):  # x - m may round to -inf near the dtype's max
        shifted = x - m
    # log softmax(x)_i = (x_i - m) - log sum_j e^{x_j - m}: the sum is >= 1 and the
    # subtraction never meets a large m, so nothing cancels.
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def softmax(x: Any, axis: int = -1, xp: Any = np) -> Any:
    """``e^{x_i} / sum_j e^{x_j}`` over `axis`, max-shifted so no exponent is positive."""
    m = xp.max(x, axis=axis, keepdims=True)
    with np.errstate(over="ignore"):
        e = xp.exp(x - m)
    # softmax(x)_i = e^{x_i - m} / sum_j e^{x_j - m}: the sum is in [1, C].
    return e / xp.sum(e, axis=axis, keepdims=True)
