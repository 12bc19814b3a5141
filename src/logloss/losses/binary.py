"""The binary family: ``binary_cross_entropy``, ``binary_cross_entropy_with_logits`` and
``sigmoid_focal_loss``, elementwise over arrays of any shape.

Each validates its input (``logloss._validation``); the logit losses call the fused BCE
routine of ``logloss._kernels`` (NumPy) or the portable path (other namespaces). Each
public function returns ``_twin(...)[0]``, where the private twin also computes the
gradient (``need_grad=True``) for :func:`logloss.value_and_grad`. The mean is over
elements.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _buffers, _kernels
from .._array import acc_dtype, as_result, astype, compute_dtype, get_namespace, shape_of, size_of
from .._kernels import _portable
from .._stable import sigmoid
from .._validation import (
    as_float_array,
    as_real_array,
    check_elementwise_weight,
    check_empty_mean,
    check_in_unit_interval,
    check_label_smoothing,
    check_no_out,
    check_out,
    check_reduction,
    check_same_shape,
    check_scalar,
)
from ..grad import register_twin
from ._layout import Reduction, reduce_rows
from ._tensors import on_cpu_tensors

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "sigmoid_focal_loss"]

# ---------------------------------------------------------------------------
# binary cross-entropy (probabilities and logits)
# ---------------------------------------------------------------------------


def _elementwise_inputs(
    x: ArrayLike, target: ArrayLike, name: str, reduction: str, check_target: bool = True
):
    """(array, x in the compute dtype, target, compute dtype, reduction), validated.

    ``check_target=False`` leaves the [0, 1] test of the target to the caller (the BCE
    kernel makes it in its own pass over the target).
    """
    arr = as_float_array(x, name)
    xp = get_namespace(arr)
    reduction = check_reduction(reduction)
    cdtype = compute_dtype(arr.dtype, xp)
    t = as_real_array(target, "target", cdtype, like=arr)
    check_same_shape(arr, t, name, "target")
    if check_target:
        check_in_unit_interval(t, "target")
    check_empty_mean(size_of(arr), reduction, name)
    return arr, astype(xp, arr, cdtype), t, cdtype, reduction


def _elementwise_result(loss, reduction, dtype, shape):
    n = size_of(loss)
    scale = 1.0 / n if reduction == "mean" and n else 1.0
    flat = get_namespace(loss).reshape(loss, (-1,))
    return reduce_rows(flat, None, reduction, scale, 0.0, shape, dtype), scale


def _finish_elementwise_grad(g: Any, arr: Any, out: np.ndarray | None):
    xp = get_namespace(arr)
    if xp is not np:
        check_no_out(out, arr)
        return as_result(g, arr.dtype, xp)
    if out is None:
        with np.errstate(over="ignore"):  # a float16 gradient may round to +-inf
            return g.astype(arr.dtype, copy=False)
    if g is out:  # already written in place
        return out
    check_out(out, arr.shape, arr.dtype)
    np.copyto(out, g, casting="same_kind")
    return out


_LOG_CLAMP = -100.0  # PyTorch clamps each log term of binary_cross_entropy at -100


@on_cpu_tensors
def _binary_cross_entropy(
    probs: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None,
    reduction: Reduction,
    need_grad: bool = False,
    out: np.ndarray | None = None,
):
    arr, p, t, cdtype, reduction = _elementwise_inputs(probs, target, "probs", reduction)
    xp = get_namespace(arr)
    check_in_unit_interval(p, "probs")
    w = check_elementwise_weight(weight, shape_of(arr), cdtype, to="probs", like=arr)
    with np.errstate(divide="ignore"):
        log_p = xp.maximum(xp.log(p), _LOG_CLAMP)
        log_q = xp.maximum(xp.log1p(-p), _LOG_CLAMP)  # log(1 - p), exact for small p
    # the tutorial's -log(h) if y = 1 and -log(1 - h) if y = 0, for any y in [0, 1]
    loss = -(t * log_p + (1.0 - t) * log_q)
    if w is not None:
        loss = loss * w
    value, scale = _elementwise_result(
        astype(xp, loss, acc_dtype(xp, arr)), reduction, arr.dtype, shape_of(arr)
    )
    if not need_grad:
        return value, None
    # d/dp = (p - y) / (p (1 - p)), with the denominator kept >= 1e-12 as PyTorch does
    g = (p - t) / xp.maximum(p * (1.0 - p), 1e-12)
    if w is not None:
        g = g * w
    return value, _finish_elementwise_grad(g * scale, arr, out)


def binary_cross_entropy(
    probs: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
) -> NDArray:
    r"""Binary cross-entropy between predicted probabilities and targets in [0, 1].

    .. math::

        \ell = -w \left[\, y \log h + (1 - y) \log (1 - h) \,\right]

    which is :math:`-\log h` when :math:`y = 1` and :math:`-\log(1-h)` when :math:`y = 0`;
    its mean over :math:`n` samples is the negative log-likelihood of a Bernoulli model
    divided by :math:`n`. Each log is clamped at -100 (PyTorch), so ``h = 0`` with ``y = 1``
    costs 100, not infinity. Prefer :func:`binary_cross_entropy_with_logits` when you have
    logits: it is exact where probabilities have rounded to 0 or 1.

    Parameters
    ----------
    probs : array_like of float16, float32 or float64
        Predicted probabilities :math:`h` in [0, 1].
    target : array_like
        Targets :math:`y` in [0, 1] (hard 0/1 labels or soft targets), `probs`' shape.
    weight : array_like, optional
        Non-negative weights broadcastable to `probs`, of any real dtype (cast to the
        compute dtype; PyTorch raises unless the dtypes match).
    reduction : {"mean", "sum", "none"}, default "mean"
        The mean is over elements (not divided by the weights' sum).

    Returns
    -------
    scalar or ndarray
        In `probs`' dtype.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> ll.binary_cross_entropy(np.array([0.9, 0.2, 0.6]), np.array([1, 0, 1]))
    np.float64(0.2797...)
    >>> ll.binary_cross_entropy(np.array([0.0]), np.array([1.0]))   # clamped, not inf
    np.float64(100.0)
    """
    return _binary_cross_entropy(**locals())[0]  # the parameters above, by name


@on_cpu_tensors
def _bce_with_logits(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None,
    pos_weight: ArrayLike | None,
    label_smoothing: float,
    reduction: Reduction,
    need_grad: bool = False,
    out: np.ndarray | None = None,
):
    # NumPy: the kernel checks the target's [0, 1] range in its own pass over it
    arr, x, t, cdtype, reduction = _elementwise_inputs(
        logits, target, "logits", reduction, check_target=get_namespace(logits) is not np
    )
    xp = get_namespace(arr)
    shape = shape_of(arr)
    eps = check_label_smoothing(label_smoothing)
    w = check_elementwise_weight(weight, shape, cdtype, like=arr)
    pw = check_elementwise_weight(pos_weight, shape, cdtype, name="pos_weight", like=arr)
    n = size_of(arr)
    scale = 1.0 / n if reduction == "mean" and n else 1.0
    if xp is np:
        grad_out = None
        if need_grad:
            if out is not None:
                check_out(out, arr.shape, arr.dtype)
            # write straight into `out` (the logits themselves allowed) when the layout permits
            direct = out is not None and out.dtype == cdtype and out.flags.c_contiguous
            grad_out = out if direct else _buffers.empty(arr.shape, cdtype)
        # a mean or sum comes back as partial sums of scale * loss (none stored per element)
        loss = _kernels.bce_logits(
            x, t, weight=w, pos_weight=pw, smoothing=eps, scale=scale, grad_out=grad_out,
            reduce=reduction != "none", check_target=True,
        )  # fmt: skip
        value = reduce_rows(loss.reshape(-1), None, reduction, 1.0, 0.0, shape, arr.dtype)
    else:
        check_no_out(out, arr)
        loss, grad_out = _portable.bce_logits_xp(
            xp, x, t, weight=w, pos_weight=pw, smoothing=eps, scale=scale, need_grad=need_grad
        )
        value, _ = _elementwise_result(loss, reduction, arr.dtype, shape)
    if not need_grad:
        return value, None
    return value, _finish_elementwise_grad(grad_out, arr, out)


def binary_cross_entropy_with_logits(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
) -> NDArray:
    r"""Sigmoid binary cross-entropy computed from logits, exact at any magnitude.

    With :math:`\log\sigma(x) = -\operatorname{softplus}(-x)` and smoothed targets
    :math:`y' = y(1-\varepsilon) + \varepsilon/2`:

    .. math::

        \ell = -w \left[ p_w\, y' \log \sigma(x) + (1 - y') \log \sigma(-x) \right]
             = w \left[ p_w\, y' \operatorname{softplus}(-x)
                 + (1 - y') \operatorname{softplus}(x) \right]

    PyTorch's ``binary_cross_entropy_with_logits`` (weight, pos_weight) plus Keras-style
    label smoothing towards 1/2.

    Parameters
    ----------
    logits : array_like of float16, float32 or float64
        Any shape; must be finite.
    target : array_like
        Targets in [0, 1], `logits`' shape.
    weight : array_like, optional
        Non-negative weights broadcastable to `logits`, of any real dtype (cast to the
        compute dtype; PyTorch raises unless the dtypes match).
    pos_weight : array_like, optional
        Non-negative weight of positive examples, broadcastable to `logits`
        (typically one per class, shape ``(C,)``).
    label_smoothing : float in [0, 1), default 0.0
    reduction : {"mean", "sum", "none"}, default "mean"
        The mean is over elements.

    Returns
    -------
    scalar or ndarray
        In `logits`' dtype.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> ll.binary_cross_entropy_with_logits(np.array([2.0, -1.0, 0.5]), np.array([1.0, 0.0, 1.0]))
    np.float64(0.3048...)
    >>> ll.binary_cross_entropy_with_logits(np.array([-1000.0]), np.array([1.0]))
    np.float64(1000.0)
    """
    return _bce_with_logits(**locals())[0]  # the parameters above, by name


# ---------------------------------------------------------------------------
# focal losses
# ---------------------------------------------------------------------------


@on_cpu_tensors
def _sigmoid_focal_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    alpha: float | None,
    gamma: float,
    reduction: Reduction,
    need_grad: bool = False,
    out: np.ndarray | None = None,
):
    arr, x, t, cdtype, reduction = _elementwise_inputs(logits, target, "logits", reduction)
    xp = get_namespace(arr)
    gamma = check_scalar(gamma, "gamma", low=0.0)
    if alpha is not None:
        alpha = check_scalar(alpha, "alpha", low=0.0, high=1.0)
    if xp is np:
        grad_ce = np.empty(arr.shape, cdtype) if need_grad else None
        ce = _kernels.bce_logits(x, t, grad_out=grad_ce).astype(cdtype)
    else:
        check_no_out(out, arr)
        ce, grad_ce = _portable.bce_logits_xp(xp, x, t, need_grad=need_grad)
        ce = astype(xp, ce, cdtype)
    # p = sigma(x), q = sigma(-x) = 1 - p, each without cancellation
    p = sigmoid(x, xp)
    q = sigmoid(-x, xp)
    # 1 - p_t = t q + (1 - t) p, where p_t = t p + (1 - t) q
    m = t * q + (1.0 - t) * p
    mod = m**gamma if gamma != 0.0 else xp.ones_like(m)
    alpha_t = 1.0 if alpha is None else alpha * t + (1.0 - alpha) * (1.0 - t)
    loss = alpha_t * ce * mod
    value, scale = _elementwise_result(
        astype(xp, loss, acc_dtype(xp, arr)), reduction, arr.dtype, shape_of(arr)
    )
    if not need_grad:
        return value, None
    # d m/dx = p q (1 - 2t); d m^g/dx = g m^g (p q / m)(1 - 2t), and p q / m <= 1 (0 where m = 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = xp.where(m > 0, p * q / m, 0.0)
    g = alpha_t * (grad_ce * mod + ce * gamma * mod * ratio * (1.0 - 2.0 * t))
    return value, _finish_elementwise_grad(g * scale, arr, out)


def sigmoid_focal_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    alpha: float | None = None,
    gamma: float = 2.0,
    reduction: Reduction = "mean",
) -> NDArray:
    r"""Sigmoid focal loss (Lin et al., 2017): BCE scaled down on well-classified examples.

    With :math:`p = \sigma(x)`, :math:`p_t = p y + (1-p)(1-y)` and
    :math:`\alpha_t = \alpha y + (1-\alpha)(1-y)`:

    .. math:: \ell = \alpha_t (1 - p_t)^\gamma \operatorname{BCE}(x, y)

    as in ``torchvision.ops.sigmoid_focal_loss``; :math:`1-p_t` is computed as
    :math:`y\sigma(-x) + (1-y)\sigma(x)`, so no cancellation occurs at large logits.
    With ``gamma=0`` and ``alpha=None`` it equals :func:`binary_cross_entropy_with_logits`.

    Parameters
    ----------
    logits : array_like of float16, float32 or float64
    target : array_like
        Targets in [0, 1], `logits`' shape.
    alpha : float in [0, 1], optional
        Weight of positives (torchvision uses 0.25); ``None`` applies no weighting.
    gamma : float >= 0, default 2.0
        Focusing parameter.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    scalar or ndarray
        In `logits`' dtype.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> ll.sigmoid_focal_loss(np.array([3.0, -2.0]), np.array([1.0, 1.0]), alpha=0.25)
    np.float64(0.2062...)
    """
    return _sigmoid_focal_loss(**locals())[0]  # the parameters above, by name


register_twin(binary_cross_entropy, _binary_cross_entropy)
register_twin(binary_cross_entropy_with_logits, _bce_with_logits)
register_twin(sigmoid_focal_loss, _sigmoid_focal_loss)
