"""The public loss functions: cross-entropy and its relatives, each with its gradient.

Every loss here validates its input (``logloss._validation``), reshapes it to the
canonical ``(rows, classes)`` layout, and calls one fused routine of
``logloss._kernels`` that computes the per-row loss and, when asked, the gradient
with respect to the logits in the same pass. ``logloss.value_and_grad`` gives access
to the gradients; the public functions below compute values only.

Semantics follow ``torch.nn.functional`` where names match, with one deliberate
difference: a mean over zero counted rows (all targets ignored, or all weights zero)
is 0 with a zero gradient, where PyTorch returns NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernels
from ._array import as_result, compute_dtype, to_numpy
from ._validation import (
    as_float_array,
    as_real_array,
    check_axis,
    check_class_weight,
    check_elementwise_weight,
    check_empty_mean,
    check_ignore_index,
    check_in_unit_interval,
    check_label_smoothing,
    check_labels,
    check_nan_posinf,
    check_nonempty_classes,
    check_out,
    check_reduction,
    check_same_shape,
    check_scalar,
    check_softcap,
)
from .grad import register_gradient

Reduction = Literal["none", "mean", "sum"]

# ---------------------------------------------------------------------------
# layout helpers: any (..., C, ...) array <-> canonical (rows, C)
# ---------------------------------------------------------------------------


class _ClassLayout:
    """Moves the class axis of `arr` last and flattens the rest into rows.

    Keeps the canonical logits ``z`` (compute dtype, C-contiguous) and knows how to
    hand out a gradient buffer that writes straight into ``out`` whenever the layout
    allows it (class axis last, contiguous, same dtype), so ``out=logits`` works in place.
    """

    def __init__(self, arr: np.ndarray, axis: int, name: str):
        if arr.ndim == 0:
            raise ValueError(f"`{name}` must have at least one dimension (the classes); got a scalar")
        self.arr = arr
        self.axis = check_axis(axis, arr.ndim, name)
        self.n_classes = arr.shape[self.axis]
        check_nonempty_classes(self.n_classes, name)
        self.batch_shape = arr.shape[: self.axis] + arr.shape[self.axis + 1 :]
        self.dtype = arr.dtype
        self.cdtype = compute_dtype(arr.dtype)
        self.last = self.axis == arr.ndim - 1
        moved = arr if self.last else np.moveaxis(arr, self.axis, -1)
        self.z = np.ascontiguousarray(moved, dtype=self.cdtype).reshape(-1, self.n_classes)

    @property
    def n_rows(self) -> int:
        return self.z.shape[0]

    def grad_buffer(self, out: np.ndarray | None) -> np.ndarray:
        if out is not None:
            check_out(out, self.arr.shape, self.dtype)
        direct = self.last and self.cdtype == self.dtype
        if direct and out is not None and out.flags.c_contiguous:
            self._out, self._buf = out, out.reshape(-1, self.n_classes)
        else:
            self._out, self._buf = out, np.empty_like(self.z)
        return self._buf

    def finish_grad(self) -> np.ndarray:
        buf, out = self._buf, self._out
        if out is not None and np.shares_memory(buf, out):
            return out
        g = buf.reshape(self.batch_shape + (self.n_classes,))
        if not self.last:
            g = np.moveaxis(g, -1, self.axis)
        if out is None:
            return np.ascontiguousarray(g, dtype=self.dtype)
        np.copyto(out, g, casting="same_kind")
        return out


def _is_probability_target(target: np.ndarray, logits: np.ndarray) -> bool:
    return target.shape == logits.shape and target.dtype.kind == "f"


def _reduce(
    main: np.ndarray,
    extra: np.ndarray | None,
    reduction: str,
    scale_main: float,
    scale_extra: float,
    shape: tuple[int, ...],
    dtype: np.dtype,
) -> Any:
    """Reduce per-row float64 values: `main` and an optional separately normalised `extra`."""
    if reduction == "none":
        total = main if extra is None else main + extra
        return as_result(total.reshape(shape), dtype)
    value = float(np.sum(main)) * scale_main
    if extra is not None:
        value += float(np.sum(extra)) * scale_extra
    return as_result(np.float64(value), dtype)


def _scales_labels(
    y: np.ndarray, w: np.ndarray | None, ignore_index: int, reduction: str
) -> tuple[float, float]:
    """(scale of the weighted loss, scale of the unweighted z-loss) for hard labels."""
    if reduction != "mean":
        return 1.0, 1.0
    valid = y != ignore_index
    n_valid = int(np.count_nonzero(valid))
    total_w = float(np.sum(w[y[valid]], dtype=np.float64)) if w is not None else float(n_valid)
    # mean = sum_i w_{y_i} l_i / sum_i w_{y_i}; zero total weight gives 0, not NaN
    return (1.0 / total_w if total_w > 0 else 0.0), (1.0 / n_valid if n_valid else 0.0)


# ---------------------------------------------------------------------------
# cross_entropy
# ---------------------------------------------------------------------------


def _cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = -1,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    reduction: Reduction = "mean",
    need_grad: bool = False,
    out: np.ndarray | None = None,
):
    arr = as_float_array(logits, "logits")
    reduction = check_reduction(reduction)
    eps = check_label_smoothing(label_smoothing)
    z_loss = check_scalar(z_loss, "z_loss", low=0.0)
    softcap = check_softcap(softcap)
    ignore_index = check_ignore_index(ignore_index)
    lay = _ClassLayout(arr, axis, "logits")
    w = check_class_weight(weight, lay.n_classes, lay.cdtype)
    t = to_numpy(target)
    check_empty_mean(lay.n_rows, reduction, "logits")
    grad_out = lay.grad_buffer(out) if need_grad else None

    if _is_probability_target(t, arr):
        t = as_real_array(t, "target", lay.cdtype)
        check_in_unit_interval(t, "target")
        if not lay.last:
            t = np.moveaxis(t, lay.axis, -1)
        t2 = np.ascontiguousarray(t).reshape(-1, lay.n_classes)
        # probability targets: the mean divides by the number of rows
        scale = 1.0 / lay.n_rows if reduction == "mean" and lay.n_rows else 1.0
        main, lse = _kernels.ce_probs(
            lay.z, t2, w, eps, softcap, z_loss, scale, scale, grad_out
        )
        scale_main = scale_z = scale
    else:
        y = check_labels(t, lay.batch_shape, lay.n_classes, ignore_index, "target").reshape(-1)
        scale_main, scale_z = _scales_labels(y, w, ignore_index, reduction)
        main, lse = _kernels.ce_labels(
            lay.z, y, w, ignore_index, eps, softcap, z_loss, scale_main, scale_z, grad_out
        )
    extra = z_loss * lse * lse if z_loss > 0.0 else None
    value = _reduce(main, extra, reduction, scale_main, scale_z, lay.batch_shape, lay.dtype)
    return value, (lay.finish_grad() if need_grad else None)


def cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = -1,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    reduction: Reduction = "mean",
) -> NDArray:
    r"""Softmax cross-entropy between logits and class labels or class probabilities.

    For row :math:`i` with logits :math:`z_i`, :math:`\log p_{ic} = z_{ic} - \operatorname{LSE}(z_i)`.
    With an integer label :math:`y_i`, smoothing :math:`\varepsilon` and class weights :math:`w`:

    .. math::

        \ell_i = (1-\varepsilon)\, w_{y_i} (-\log p_{i y_i})
                 + \frac{\varepsilon}{C} \sum_c w_c (-\log p_{ic})
                 + \zeta\, \operatorname{LSE}(z_i)^2

    and ``reduction="mean"`` gives :math:`\sum_i \ell^{CE}_i / \sum_i w_{y_i}
    + \zeta \sum_i \operatorname{LSE}_i^2 / n`, both sums over rows whose label is not
    `ignore_index` (the z-loss term is not class-weighted, as in Liger-Kernel). With
    probability targets :math:`t_i` (same shape as `logits`), the targets become
    :math:`t_i (1-\varepsilon) + \varepsilon / C`, :math:`\ell_i = -\sum_c w_c t_{ic} \log p_{ic}`,
    and the mean divides by the number of rows. These are PyTorch's semantics
    (``torch.nn.functional.cross_entropy``) plus z-loss and soft-capping.

    Differences from PyTorch: when every row is ignored (or the counted weights sum to 0)
    the mean is 0 and its gradient is 0, not NaN; ``-inf`` logits mark masked classes
    (probability 0, no smoothing mass, zero gradient), and are an error only at a row's
    target class or across a whole counted row.

    Parameters
    ----------
    logits : array_like of float16, float32 or float64
        Unnormalised scores with the classes along `axis`, e.g. ``(N, C)`` or, with
        ``axis=1``, PyTorch's ``(N, C, d1, ...)``. NaN and ``+inf`` are a ``ValueError``.
    target : array_like
        Either integer labels with `logits`' shape minus the class axis (floats are
        accepted when integral), or floating-point probabilities with `logits`' shape.
    axis : int, default -1
        The class axis.
    weight : array_like of shape (C,), optional
        Non-negative class weights.
    ignore_index : int, default -100
        Label value whose rows contribute no loss and no gradient (hard labels only).
    label_smoothing : float in [0, 1), default 0.0
        Mass moved from the target to the uniform distribution.
    z_loss : float >= 0, default 0.0
        Coefficient :math:`\zeta` of the auxiliary :math:`\operatorname{LSE}^2` penalty (PaLM).
    softcap : float > 0, optional
        If given, logits are replaced by ``softcap * tanh(logits / softcap)`` first (Gemma 2).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns one loss per row, shaped like `logits` without the class axis.

    Returns
    -------
    scalar or ndarray
        In `logits`' dtype. An empty batch is an error for ``"mean"`` and 0 for ``"sum"``.

    See Also
    --------
    nll_loss : the same loss from log-probabilities.
    value_and_grad : the loss together with its gradient.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    >>> ll.cross_entropy(logits, np.array([0, 1]))
    np.float64(0.3185...)
    >>> ll.cross_entropy(logits, np.array([0, -100]))   # second row ignored
    np.float64(0.4170...)
    >>> ll.cross_entropy(np.array([[1e4, -1e4]]), np.array([1]))  # finite, no overflow
    np.float64(20000.0)
    """
    return _cross_entropy(
        logits,
        target,
        axis=axis,
        weight=weight,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        z_loss=z_loss,
        softcap=softcap,
        reduction=reduction,
    )[0]


# ---------------------------------------------------------------------------
# nll_loss
# ---------------------------------------------------------------------------


def _nll_loss(
    log_probs: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = -1,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    need_grad: bool = False,
    out: np.ndarray | None = None,
):
    arr = as_float_array(log_probs, "log_probs")
    reduction = check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    lay = _ClassLayout(arr, axis, "log_probs")
    w = check_class_weight(weight, lay.n_classes, lay.cdtype)
    check_nan_posinf(lay.z, "log_probs")
    y = check_labels(target, lay.batch_shape, lay.n_classes, ignore_index, "target").reshape(-1)
    check_empty_mean(lay.n_rows, reduction, "log_probs")
    valid = y != ignore_index
    yv = np.where(valid, y, 0)
    rows = np.arange(lay.n_rows)
    picked = lay.z[rows, yv]
    bad = valid & np.isneginf(picked)
    if bad.any():
        raise ValueError(
            f"`log_probs` must not be -inf at the target class; found in row {int(np.argmax(bad))}"
        )
    w_y = np.where(valid, 1.0 if w is None else w[yv], 0.0)
    # l_i = -w_{y_i} x_{i y_i}
    main = -(w_y * np.where(valid, picked, 0.0)).astype(np.float64)
    scale, _ = _scales_labels(y, w, ignore_index, reduction)
    value = _reduce(main, None, reduction, scale, 0.0, lay.batch_shape, lay.dtype)
    if not need_grad:
        return value, None
    buf = lay.grad_buffer(out)
    buf[...] = 0.0
    # d l_i / d x_ic = -w_{y_i} [c = y_i]
    buf[rows, yv] = -w_y * scale
    return value, lay.finish_grad()


def nll_loss(
    log_probs: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = -1,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
) -> NDArray:
    r"""Negative log-likelihood of integer labels given log-probabilities.

    .. math::

        \ell_i = -w_{y_i} x_{i y_i}, \qquad
        \text{mean} = \frac{\sum_i \ell_i}{\sum_i w_{y_i}}

    over rows whose label is not `ignore_index` (PyTorch's ``nll_loss``). Composed with
    :func:`logloss.log_softmax` it equals :func:`cross_entropy`. A mean over no counted rows is 0.

    Parameters
    ----------
    log_probs : array_like of float16, float32 or float64
        Log-probabilities, classes along `axis`. NaN and ``+inf`` are a ``ValueError``;
        ``-inf`` is allowed except at a target class.
    target : array_like of int
        Labels with `log_probs`' shape minus the class axis.
    axis : int, default -1
        The class axis.
    weight : array_like of shape (C,), optional
        Non-negative class weights.
    ignore_index : int, default -100
        Label value that contributes nothing.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    scalar or ndarray
        In `log_probs`' dtype.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> logp = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]))
    >>> ll.nll_loss(logp, np.array([0, 1]))
    np.float64(0.2899...)
    """
    return _nll_loss(
        log_probs, target, axis=axis, weight=weight, ignore_index=ignore_index, reduction=reduction
    )[0]


# ---------------------------------------------------------------------------
# binary cross-entropy (probabilities and logits)
# ---------------------------------------------------------------------------


def _elementwise_inputs(x: ArrayLike, target: ArrayLike, name: str, reduction: str):
    arr = as_float_array(x, name)
    reduction = check_reduction(reduction)
    cdtype = compute_dtype(arr.dtype)
    t = as_real_array(target, "target", cdtype)
    check_same_shape(arr, t, name, "target")
    check_in_unit_interval(t, "target")
    check_empty_mean(arr.size, reduction, name)
    return arr, arr.astype(cdtype, copy=False), t, cdtype, reduction


def _elementwise_result(loss, reduction, dtype, shape):
    scale = 1.0 / loss.size if reduction == "mean" and loss.size else 1.0
    return _reduce(loss.reshape(-1), None, reduction, scale, 0.0, shape, dtype), scale


def _finish_elementwise_grad(g: np.ndarray, arr: np.ndarray, out: np.ndarray | None):
    if out is None:
        return g.astype(arr.dtype, copy=False)
    check_out(out, arr.shape, arr.dtype)
    np.copyto(out, g, casting="same_kind")
    return out


_LOG_CLAMP = -100.0  # PyTorch clamps each log term of binary_cross_entropy at -100


def _binary_cross_entropy(
    probs: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    need_grad: bool = False,
    out: np.ndarray | None = None,
):
    arr, p, t, cdtype, reduction = _elementwise_inputs(probs, target, "probs", reduction)
    check_in_unit_interval(p, "probs")
    w = check_elementwise_weight(weight, arr.shape, cdtype, to="probs")
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), _LOG_CLAMP)
        log_q = np.maximum(np.log1p(-p), _LOG_CLAMP)  # log(1 - p), exact for small p
    # the tutorial's -log(h) if y = 1 and -log(1 - h) if y = 0, for any y in [0, 1]
    loss = -(t * log_p + (1.0 - t) * log_q)
    if w is not None:
        loss = loss * w
    value, scale = _elementwise_result(np.asarray(loss, np.float64), reduction, arr.dtype, arr.shape)
    if not need_grad:
        return value, None
    # d/dp = (p - y) / (p (1 - p)), with the denominator kept >= 1e-12 as PyTorch does
    g = (p - t) / np.maximum(p * (1.0 - p), 1e-12)
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
        Non-negative weights broadcastable to `probs`.
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
    return _binary_cross_entropy(probs, target, weight=weight, reduction=reduction)[0]


def _bce_with_logits(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
    need_grad: bool = False,
    out: np.ndarray | None = None,
):
    arr, x, t, cdtype, reduction = _elementwise_inputs(logits, target, "logits", reduction)
    eps = check_label_smoothing(label_smoothing)
    w = check_elementwise_weight(weight, arr.shape, cdtype)
    pw = check_elementwise_weight(pos_weight, arr.shape, cdtype, name="pos_weight")
    scale = 1.0 / arr.size if reduction == "mean" and arr.size else 1.0
    grad_out = np.empty(arr.shape, cdtype) if need_grad else None
    loss = _kernels.bce_logits(x, t, w, pw, eps, scale, grad_out)
    value, _ = _elementwise_result(loss, reduction, arr.dtype, arr.shape)
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
             = w \left[ p_w\, y' \operatorname{softplus}(-x) + (1 - y') \operatorname{softplus}(x) \right]

    PyTorch's ``binary_cross_entropy_with_logits`` (weight, pos_weight) plus Keras-style
    label smoothing towards 1/2.

    Parameters
    ----------
    logits : array_like of float16, float32 or float64
        Any shape; must be finite.
    target : array_like
        Targets in [0, 1], `logits`' shape.
    weight : array_like, optional
        Non-negative weights broadcastable to `logits`.
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
    return _bce_with_logits(
        logits,
        target,
        weight=weight,
        pos_weight=pos_weight,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )[0]


# ---------------------------------------------------------------------------
# focal losses
# ---------------------------------------------------------------------------


def _sigmoid_focal_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    alpha: float | None = None,
    gamma: float = 2.0,
    reduction: Reduction = "mean",
    need_grad: bool = False,
    out: np.ndarray | None = None,
):
    arr, x, t, cdtype, reduction = _elementwise_inputs(logits, target, "logits", reduction)
    gamma = check_scalar(gamma, "gamma", low=0.0)
    if alpha is not None:
        alpha = check_scalar(alpha, "alpha", low=0.0, high=1.0)
    grad_ce = np.empty(arr.shape, cdtype) if need_grad else None
    ce = _kernels.bce_logits(x, t, None, None, 0.0, 1.0, grad_ce).astype(cdtype)
    # p = sigma(x), q = sigma(-x) = 1 - p, each computed without cancellation
    e = np.exp(-np.abs(x))
    p = np.where(x >= 0, 1.0, e) / (1.0 + e)
    q = np.where(x >= 0, e, 1.0) / (1.0 + e)
    # 1 - p_t = t q + (1 - t) p, where p_t = t p + (1 - t) q
    m = t * q + (1.0 - t) * p
    mod = m**gamma if gamma != 0.0 else np.ones_like(m)
    alpha_t = 1.0 if alpha is None else alpha * t + (1.0 - alpha) * (1.0 - t)
    loss = alpha_t * ce * mod
    value, scale = _elementwise_result(np.asarray(loss, np.float64), reduction, arr.dtype, arr.shape)
    if not need_grad:
        return value, None
    # d m/dx = p q (1 - 2t); d m^g/dx = g m^g (p q / m)(1 - 2t), and p q / m <= 1 (0 where m = 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(m > 0, p * q / m, 0.0)
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
    return _sigmoid_focal_loss(logits, target, alpha=alpha, gamma=gamma, reduction=reduction)[0]


def _softmax_focal_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = 2.0,
    axis: int = -1,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    need_grad: bool = False,
    out: np.ndarray | None = None,
):
    arr = as_float_array(logits, "logits")
    reduction = check_reduction(reduction)
    gamma = check_scalar(gamma, "gamma", low=0.0)
    ignore_index = check_ignore_index(ignore_index)
    lay = _ClassLayout(arr, axis, "logits")
    w = check_class_weight(weight, lay.n_classes, lay.cdtype)
    y = check_labels(target, lay.batch_shape, lay.n_classes, ignore_index, "target").reshape(-1)
    check_empty_mean(lay.n_rows, reduction, "logits")
    scale, _ = _scales_labels(y, w, ignore_index, reduction)
    # plain CE per row (unweighted, unscaled) and its gradient p - onehot(y)
    grad_ce = np.empty_like(lay.z) if need_grad else None
    nll, _ = _kernels.ce_labels(lay.z, y, None, ignore_index, 0.0, None, 0.0, 1.0, 0.0, grad_ce)
    valid = y != ignore_index
    yv = np.where(valid, y, 0)
    w_y = np.where(valid, 1.0 if w is None else w[yv], 0.0)
    logp_y = -nll  # log p_y, exact in log space
    u = -np.expm1(logp_y)  # 1 - p_y without cancellation
    mod = u**gamma if gamma != 0.0 else np.ones_like(u)
    # l_i = -w_y (1 - p_y)^gamma log p_y
    main = w_y * mod * nll
    value = _reduce(main, None, reduction, scale, 0.0, lay.batch_shape, lay.dtype)
    if not need_grad:
        return value, None
    # dl/dz_k = (p_k - [k = y]) * w_y u^g (1 - g p_y log(p_y) / u); log(p_y)/u -> -1 as u -> 0
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(u > 0, logp_y / u, -1.0)
    p_y = np.exp(logp_y)
    factor = (w_y * mod * (1.0 - gamma * p_y * r) * scale).astype(lay.cdtype)
    buf = lay.grad_buffer(out)
    np.multiply(grad_ce, factor[:, None], out=buf, casting="same_kind")
    return value, lay.finish_grad()


def softmax_focal_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = 2.0,
    axis: int = -1,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
) -> NDArray:
    r"""Softmax (multi-class) focal loss with integer labels.

    .. math::

        \ell_i = -w_{y_i} (1 - p_{i y_i})^\gamma \log p_{i y_i}, \qquad
        \text{mean} = \frac{\sum_i \ell_i}{\sum_i w_{y_i}}

    over rows whose label is not `ignore_index`, so ``gamma=0`` equals :func:`cross_entropy`
    with the same `weight`. :math:`1 - p_y` is computed as ``-expm1(log p_y)``.

    Parameters
    ----------
    logits : array_like of float16, float32 or float64
        Classes along `axis`.
    target : array_like of int
        Labels with `logits`' shape minus the class axis.
    gamma : float >= 0, default 2.0
    axis : int, default -1
    weight : array_like of shape (C,), optional
        Non-negative per-class weights (the :math:`\alpha` of the focal-loss paper).
    ignore_index : int, default -100
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    scalar or ndarray
        In `logits`' dtype.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    >>> ll.softmax_focal_loss(logits, np.array([0, 1]), gamma=2.0)
    np.float64(0.0285...)
    """
    return _softmax_focal_loss(
        logits,
        target,
        gamma=gamma,
        axis=axis,
        weight=weight,
        ignore_index=ignore_index,
        reduction=reduction,
    )[0]


# ---------------------------------------------------------------------------
# gradients: value_and_grad(fn) calls the private twin with need_grad=True
# ---------------------------------------------------------------------------


def _grad_of(impl: Callable) -> Callable:
    def run(args, kwargs, argnums, outs):
        value, grad = impl(*args, need_grad=True, out=outs[0], **kwargs)
        return value, (grad,)

    return run


register_gradient(cross_entropy, _grad_of(_cross_entropy))
register_gradient(nll_loss, _grad_of(_nll_loss))
register_gradient(binary_cross_entropy, _grad_of(_binary_cross_entropy))
register_gradient(binary_cross_entropy_with_logits, _grad_of(_bce_with_logits))
register_gradient(sigmoid_focal_loss, _grad_of(_sigmoid_focal_loss))
register_gradient(softmax_focal_loss, _grad_of(_softmax_focal_loss))
