"""Numerically stable activations: sigmoid, softplus, softmax and their logs.

Every function here is exact to a few ulp for every finite input in float16,
float32 and float64 and never warns about overflow: exponentials are only ever
taken of non-positive numbers. float16 is computed in float32.

Every function accepts NumPy arrays (and array-likes) and any Array API array
(PyTorch, CuPy, JAX, array-api-strict): the computation uses the input's namespace
and the result is an array of that namespace on the input's device.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _stable
from ._array import (
    any_true,
    as_result,
    astype,
    compute_dtype,
    first_index,
    first_true,
    get_namespace,
)
from ._validation import as_float_array, check_axis, check_nan_posinf, raise_bad_row


def _prepare(x: ArrayLike, name: str = "x") -> tuple[Any, Any, Any]:
    """(array in the compute dtype, the input's dtype, the namespace); NaN is an error."""
    arr = as_float_array(x, name)
    xp = get_namespace(arr)
    nan = xp.isnan(arr)
    if any_true(xp, nan):
        where = first_index(xp, nan)
        where = where if isinstance(where, tuple) else (where,)
        raise ValueError(f"`{name}` must not contain NaN; got nan at index {where}")
    return astype(xp, arr, compute_dtype(arr.dtype, xp)), arr.dtype, xp


def sigmoid(x: ArrayLike) -> NDArray:
    r"""Logistic sigmoid, the hypothesis of logistic regression.

    .. math:: \sigma(x) = \frac{1}{1 + e^{-x}}

    Computed as ``1/(1+e^{-|x|})`` or ``e^{-|x|}/(1+e^{-|x|})`` by sign, so no
    exponential overflows: ``sigmoid(-1000)`` is exactly 0 with no warning.

    Parameters
    ----------
    x : array_like of float16, float32 or float64
        Any shape. ``±inf`` give 0 and 1; NaN is a ``ValueError``.

    Returns
    -------
    ndarray or scalar
        Same shape and dtype as `x`, values in [0, 1].

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> ll.sigmoid(np.array([-1000.0, 0.0, 2.0]))
    array([0.        , 0.5       , 0.88079708])
    """
    arr, dtype, xp = _prepare(x)
    return as_result(_stable.sigmoid(arr, xp), dtype, xp)


def softplus(x: ArrayLike) -> NDArray:
    r"""Softplus, the smooth ReLU and the loss of a logit: ``-log(sigmoid(-x))``.

    .. math:: \operatorname{softplus}(x) = \log(1 + e^{x}) = \max(x, 0) + \log(1 + e^{-|x|})

    Parameters
    ----------
    x : array_like of float16, float32 or float64
        Any shape; NaN is a ``ValueError``.

    Returns
    -------
    ndarray or scalar
        Same shape and dtype as `x`, values >= 0.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> ll.softplus(np.array([-1000.0, 0.0, 1000.0]))
    array([0.00000000e+00, 6.93147181e-01, 1.00000000e+03])
    """
    arr, dtype, xp = _prepare(x)
    return as_result(_stable.softplus(arr, xp), dtype, xp)


def log_sigmoid(x: ArrayLike) -> NDArray:
    r"""Logarithm of the sigmoid, computed without forming the sigmoid.

    .. math:: \log \sigma(x) = -\operatorname{softplus}(-x)

    ``log(sigmoid(x))`` underflows to ``-inf`` for ``x < -745`` in float64
    (``-104`` in float32); this does not: ``log_sigmoid(-1000)`` is ``-1000``.

    Parameters
    ----------
    x : array_like of float16, float32 or float64
        Any shape; NaN is a ``ValueError``.

    Returns
    -------
    ndarray or scalar
        Same shape and dtype as `x`, values <= 0.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> ll.log_sigmoid(np.array([-1000.0, 0.0, 30.0]))
    array([-1.00000000e+03, -6.93147181e-01, -9.35762297e-14])
    """
    arr, dtype, xp = _prepare(x)
    return as_result(_stable.log_sigmoid(arr, xp), dtype, xp)


def _row_max(x: Any, axis: int, name: str, xp: Any = np) -> Any:
    """Max over `axis` (kept), rejecting NaN/+inf; rows that are all -inf give -inf."""
    check_nan_posinf(x, name)
    return xp.max(x, axis=axis, keepdims=True)


def _no_empty_row(m: Any, name: str, xp: Any) -> None:
    """A row of only -inf has no softmax: an error naming the first such row."""
    empty = m == -math.inf
    if any_true(xp, empty):
        raise_bad_row(name, first_true(xp, empty), "a row with no finite entry (all -inf)")


def logsumexp(x: ArrayLike, axis: int = -1, *, keepdims: bool = False) -> NDArray:
    r"""Log of the sum of exponentials along `axis`, shifted by the maximum.

    .. math:: \operatorname{LSE}(x) = m + \log \sum_j e^{x_j - m}, \quad m = \max_j x_j

    Parameters
    ----------
    x : array_like of float16, float32 or float64
        ``-inf`` entries are allowed (they contribute nothing; a row of only
        ``-inf`` gives ``-inf``); NaN and ``+inf`` are a ``ValueError``.
    axis : int, default -1
        The axis to reduce.
    keepdims : bool, default False
        Keep the reduced axis with length 1.

    Returns
    -------
    ndarray or scalar
        `x`'s shape without `axis` (or with length 1 there), `x`'s dtype.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> ll.logsumexp(np.array([1000.0, 1000.0]))
    np.float64(1000.6931471805599)
    """
    arr, dtype, xp = _prepare(x)
    ax = check_axis(axis, arr.ndim, "x")
    check_nan_posinf(arr, "x")
    out = _stable.logsumexp(arr, ax, xp)
    return as_result(out if keepdims else xp.squeeze(out, axis=ax), dtype, xp)


def _check_rows(x: Any, axis: int, name: str, xp: Any) -> None:
    """NaN/+inf and rows of only -inf are errors for the softmax family."""
    _no_empty_row(_row_max(x, axis, name, xp), name, xp)


def log_softmax(x: ArrayLike, axis: int = -1) -> NDArray:
    r"""Log-probabilities of a softmax, computed in log space.

    .. math:: \log \operatorname{softmax}(x)_i = x_i - \operatorname{LSE}(x)

    Parameters
    ----------
    x : array_like of float16, float32 or float64
        Logits. ``-inf`` marks a masked class (log-probability ``-inf``); a row
        of only ``-inf``, NaN or ``+inf`` is a ``ValueError``.
    axis : int, default -1
        The class axis.

    Returns
    -------
    ndarray
        Same shape and dtype as `x`.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> ll.log_softmax(np.array([0.0, 1000.0]))
    array([-1000.,     0.])
    """
    arr, dtype, xp = _prepare(x)
    ax = check_axis(axis, arr.ndim, "x")
    _check_rows(arr, ax, "x", xp)
    return as_result(_stable.log_softmax(arr, ax, xp), dtype, xp)


def softmax(x: ArrayLike, axis: int = -1) -> NDArray:
    r"""Softmax: turns logits into probabilities that sum to 1 along `axis`.

    .. math::

        \operatorname{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}}, \quad m = \max_j x_j

    Parameters
    ----------
    x : array_like of float16, float32 or float64
        Logits. ``-inf`` marks a masked class (probability 0); a row of only
        ``-inf``, NaN or ``+inf`` is a ``ValueError``.
    axis : int, default -1
        The class axis.

    Returns
    -------
    ndarray
        Same shape and dtype as `x`, non-negative, summing to 1 along `axis`.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> ll.softmax(np.array([1.0, 2.0, 3.0]))
    array([0.09003057, 0.24472847, 0.66524096])
    """
    arr, dtype, xp = _prepare(x)
    ax = check_axis(axis, arr.ndim, "x")
    _check_rows(arr, ax, "x", xp)
    return as_result(_stable.softmax(arr, ax, xp), dtype, xp)
