"""The public loss functions: cross-entropy and its relatives, each with its gradient.

Every loss here validates its input (``logloss._validation``), reshapes it to the
canonical ``(rows, classes)`` layout, and calls one fused routine of
``logloss._kernels`` that computes the per-row loss and, when asked, the gradient
with respect to the logits in the same pass. ``logloss.value_and_grad`` gives access
to the gradients; the public functions below compute values only.

Semantics follow ``torch.nn.functional`` where names match, with one deliberate
difference: a mean over zero counted rows (all targets ignored, or all weights zero)
is 0 with a zero gradient, where PyTorch returns NaN.

Array namespaces: NumPy inputs run the fused kernels of ``logloss._kernels``; an array
of any other Array API namespace (PyTorch, CuPy, JAX, array-api-strict) runs the
portable path (``_kernels._portable``, ``*_xp`` functions) with that namespace's
operations, and values and gradients come back in that namespace on the input's device.
The first array argument decides; targets and weights are converted to it. ``out=``
(in-place gradients) is NumPy-only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernels
from ._array import (
    acc_dtype,
    any_true,
    arange_like,
    as_result,
    asarray_in,
    astype,
    compute_dtype,
    dtype_kind,
    first_true,
    get_namespace,
    shape_of,
    size_of,
)
from ._kernels import _portable
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
    check_no_out,
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
    For other namespaces ``z`` is a new array of the same namespace and ``grad_from``
    brings a canonical gradient back to `arr`'s layout and dtype.
    """

    def __init__(self, arr: Any, axis: int, name: str):
        if arr.ndim == 0:
            raise ValueError(
                f"`{name}` must have at least one dimension (the classes); got a scalar"
            )
        self.arr = arr
        self.xp = xp = get_namespace(arr)
        shape = shape_of(arr)
        self.axis = check_axis(axis, arr.ndim, name)
        self.n_classes = shape[self.axis]
        check_nonempty_classes(self.n_classes, name)
        self.batch_shape = shape[: self.axis] + shape[self.axis + 1 :]
        self.dtype = arr.dtype
        self.cdtype = compute_dtype(arr.dtype, xp)
        self.last = self.axis == arr.ndim - 1
        moved = arr if self.last else xp.moveaxis(arr, self.axis, -1)
        if xp is np:
            self.z = np.ascontiguousarray(moved, dtype=self.cdtype).reshape(-1, self.n_classes)
        else:
            self.z = xp.reshape(astype(xp, moved, self.cdtype), (-1, self.n_classes))

    @property
    def n_rows(self) -> int:
        return self.z.shape[0]

    def to_rows(self, t: Any) -> Any:
        """A per-class array of `arr`'s layout (probability targets) in canonical (rows, C)."""
        xp = self.xp
        if not self.last:
            t = xp.moveaxis(t, self.axis, -1)
        if xp is np:
            return np.ascontiguousarray(t).reshape(-1, self.n_classes)
        return xp.reshape(t, (-1, self.n_classes))

    def grad_from(self, g: Any) -> Any:
        """A canonical (rows, C) gradient of another namespace, in `arr`'s layout and dtype."""
        xp = self.xp
        g = xp.reshape(g, self.batch_shape + (self.n_classes,))
        if not self.last:
            g = xp.moveaxis(g, -1, self.axis)
        return as_result(g, self.dtype, xp)

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


def _is_probability_target(target: Any, logits: Any) -> bool:
    xp = get_namespace(target)
    kind = target.dtype.kind if xp is np else dtype_kind(xp, target.dtype)
    return shape_of(target) == shape_of(logits) and kind == "f"


def _reduce(
    main: Any,
    extra: Any | None,
    reduction: str,
    scale_main: float,
    scale_extra: float,
    shape: tuple[int, ...],
    dtype: Any,
) -> Any:
    """Reduce per-row float64 values: `main` and an optional separately normalised `extra`."""
    xp = get_namespace(main)
    if reduction == "none":
        total = main if extra is None else main + extra
        return as_result(xp.reshape(total, shape), dtype, xp)
    if xp is not np:  # stays on the device: a 0-d array of the input's namespace
        total = _scaled_sum(xp, main, scale_main)
        if extra is not None:
            total = total + _scaled_sum(xp, extra, scale_extra)
        return as_result(total, dtype, xp)
    value = float(_scaled_sum(np, main, scale_main))
    if extra is not None:
        value += float(_scaled_sum(np, extra, scale_extra))
    return as_result(np.float64(value), dtype)


def _scaled_sum(xp: Any, values: Any, scale: float) -> Any:
    """``sum(values) * scale``, or ``sum(values * scale)`` where the sum alone overflows."""
    with np.errstate(over="ignore"):
        total = xp.sum(values)
    if scale < 1.0 and not bool(xp.isfinite(total)) and bool(xp.all(xp.isfinite(values))):
        return xp.sum(values * scale)
    return total * scale


def _scales_labels(y: Any, w: Any | None, ignore_index: int, reduction: str) -> tuple[float, float]:
    """(scale of the weighted loss, scale of the unweighted z-loss) for hard labels."""
    if reduction != "mean":
        return 1.0, 1.0
    xp = get_namespace(y)
    valid = y != ignore_index
    n_valid = int(xp.count_nonzero(valid))
    if w is None:
        total_w = float(n_valid)
    elif xp is np:
        total_w = float(np.sum(w[y[valid]], dtype=np.float64))
    else:
        w_y = xp.where(valid, xp.take(w, xp.where(valid, y, 0)), 0.0)
        total_w = float(xp.sum(astype(xp, w_y, acc_dtype(xp, y))))
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
    xp = get_namespace(arr)
    reduction = check_reduction(reduction)
    eps = check_label_smoothing(label_smoothing)
    z_loss = check_scalar(z_loss, "z_loss", low=0.0)
    softcap = check_softcap(softcap)
    ignore_index = check_ignore_index(ignore_index)
    lay = _ClassLayout(arr, axis, "logits")
    w = check_class_weight(weight, lay.n_classes, lay.cdtype, like=arr)
    t = asarray_in(xp, target, arr)
    check_empty_mean(lay.n_rows, reduction, "logits")
    if xp is not np:
        check_no_out(out, arr)
    grad_out = lay.grad_buffer(out) if need_grad and xp is np else None
    g = None

    if _is_probability_target(t, arr):
        t = as_real_array(t, "target", lay.cdtype, like=arr)
        check_in_unit_interval(t, "target")
        t2 = lay.to_rows(t)
        # probability targets: the mean divides by the number of rows
        scale = 1.0 / lay.n_rows if reduction == "mean" and lay.n_rows else 1.0
        if xp is np:
            main, lse = _kernels.ce_probs(
                lay.z, t2, w, eps, softcap, z_loss, scale, scale, grad_out
            )
        else:
            main, lse, g = _portable.ce_probs_xp(
                xp, lay.z, t2, w, eps, softcap, z_loss, scale, scale, need_grad
            )
        scale_main = scale_z = scale
    else:
        y = check_labels(t, lay.batch_shape, lay.n_classes, ignore_index, "target", like=arr)
        y = xp.reshape(y, (-1,))
        scale_main, scale_z = _scales_labels(y, w, ignore_index, reduction)
        if xp is np:
            main, lse = _kernels.ce_labels(
                lay.z, y, w, ignore_index, eps, softcap, z_loss, scale_main, scale_z, grad_out
            )
        else:
            main, lse, g = _portable.ce_labels_xp(
                xp,
                lay.z,
                y,
                w,
                ignore_index,
                eps,
                softcap,
                z_loss,
                scale_main,
                scale_z,
                need_grad,
            )
    extra = z_loss * lse * lse if z_loss > 0.0 else None
    value = _reduce(main, extra, reduction, scale_main, scale_z, lay.batch_shape, lay.dtype)
    if not need_grad:
        return value, None
    return value, (lay.finish_grad() if xp is np else lay.grad_from(g))


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

    For row :math:`i` with logits :math:`z_i`,
    :math:`\log p_{ic} = z_{ic} - \operatorname{LSE}(z_i)`.
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
    xp = get_namespace(arr)
    reduction = check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    lay = _ClassLayout(arr, axis, "log_probs")
    w = check_class_weight(weight, lay.n_classes, lay.cdtype, like=arr)
    check_nan_posinf(lay.z, "log_probs")
    y = check_labels(target, lay.batch_shape, lay.n_classes, ignore_index, "target", like=arr)
    y = xp.reshape(y, (-1,))
    check_empty_mean(lay.n_rows, reduction, "log_probs")
    if xp is not np:
        check_no_out(out, arr)
    valid = y != ignore_index
    yv = xp.where(valid, y, 0)
    picked = xp.take_along_axis(lay.z, yv[:, None], axis=1)[:, 0]
    bad = valid & (picked == -np.inf)
    if any_true(xp, bad):
        raise ValueError(
            f"`log_probs` must not be -inf at the target class; found in row {first_true(xp, bad)}"
        )
    w_y = astype(xp, valid, lay.cdtype) if w is None else xp.where(valid, xp.take(w, yv), 0.0)
    # l_i = -w_{y_i} x_{i y_i}
    main = -astype(xp, w_y * xp.where(valid, picked, 0.0), acc_dtype(xp, arr))
    scale, _ = _scales_labels(y, w, ignore_index, reduction)
    value = _reduce(main, None, reduction, scale, 0.0, lay.batch_shape, lay.dtype)
    if not need_grad:
        return value, None
    # d l_i / d x_ic = -w_{y_i} [c = y_i]
    if xp is np:
        buf = lay.grad_buffer(out)
        buf[...] = 0.0
        buf[np.arange(lay.n_rows), yv] = -w_y * scale
        return value, lay.finish_grad()
    onehot = arange_like(xp, lay.n_classes, lay.z)[None, :] == yv[:, None]
    return value, lay.grad_from(xp.where(onehot, (-w_y * scale)[:, None], 0.0))


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
    return _reduce(flat, None, reduction, scale, 0.0, shape, dtype), scale


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
            grad_out = out if direct else np.empty(arr.shape, cdtype)
        # a mean or sum comes back as partial sums of scale * loss (none stored per element)
        loss = _kernels.bce_logits(
            x, t, w, pw, eps, scale, grad_out, reduce=reduction != "none", check_target=True
        )
        value = _reduce(loss.reshape(-1), None, reduction, 1.0, 0.0, shape, arr.dtype)
    else:
        check_no_out(out, arr)
        loss, grad_out = _portable.bce_logits_xp(xp, x, t, w, pw, eps, scale, need_grad)
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
    xp = get_namespace(arr)
    gamma = check_scalar(gamma, "gamma", low=0.0)
    if alpha is not None:
        alpha = check_scalar(alpha, "alpha", low=0.0, high=1.0)
    if xp is np:
        grad_ce = np.empty(arr.shape, cdtype) if need_grad else None
        ce = _kernels.bce_logits(x, t, None, None, 0.0, 1.0, grad_ce).astype(cdtype)
    else:
        check_no_out(out, arr)
        ce, grad_ce = _portable.bce_logits_xp(xp, x, t, None, None, 0.0, 1.0, need_grad)
        ce = astype(xp, ce, cdtype)
    # p = sigma(x), q = sigma(-x) = 1 - p, each computed without cancellation
    e = xp.exp(-xp.abs(x))
    p = xp.where(x >= 0, 1.0, e) / (1.0 + e)
    q = xp.where(x >= 0, e, 1.0) / (1.0 + e)
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
    xp = get_namespace(arr)
    reduction = check_reduction(reduction)
    gamma = check_scalar(gamma, "gamma", low=0.0)
    ignore_index = check_ignore_index(ignore_index)
    lay = _ClassLayout(arr, axis, "logits")
    w = check_class_weight(weight, lay.n_classes, lay.cdtype, like=arr)
    y = check_labels(target, lay.batch_shape, lay.n_classes, ignore_index, "target", like=arr)
    y = xp.reshape(y, (-1,))
    check_empty_mean(lay.n_rows, reduction, "logits")
    scale, _ = _scales_labels(y, w, ignore_index, reduction)
    # plain CE per row (unweighted, unscaled) and its gradient p - onehot(y)
    if xp is np:
        grad_ce = np.empty_like(lay.z) if need_grad else None
        nll, _ = _kernels.ce_labels(lay.z, y, None, ignore_index, 0.0, None, 0.0, 1.0, 0.0, grad_ce)
    else:
        check_no_out(out, arr)
        nll, _, grad_ce = _portable.ce_labels_xp(
            xp, lay.z, y, None, ignore_index, 0.0, None, 0.0, 1.0, 0.0, need_grad
        )
    valid = y != ignore_index
    yv = xp.where(valid, y, 0)
    if w is None:
        w_y = xp.where(valid, 1.0, 0.0) if xp is np else astype(xp, valid, acc_dtype(xp, arr))
    else:
        w_y = xp.where(valid, xp.take(w, yv), 0.0)
    logp_y = -nll  # log p_y, exact in log space
    u = -xp.expm1(logp_y)  # 1 - p_y without cancellation
    mod = u**gamma if gamma != 0.0 else xp.ones_like(u)
    # l_i = -w_y (1 - p_y)^gamma log p_y
    main = w_y * mod * nll
    value = _reduce(main, None, reduction, scale, 0.0, lay.batch_shape, lay.dtype)
    if not need_grad:
        return value, None
    # dl/dz_k = (p_k - [k = y]) * w_y u^g (1 - g p_y log(p_y) / u); log(p_y)/u -> -1 as u -> 0
    with np.errstate(divide="ignore", invalid="ignore"):
        r = xp.where(u > 0, logp_y / u, -1.0)
    p_y = xp.exp(logp_y)
    factor = astype(xp, w_y * mod * (1.0 - gamma * p_y * r) * scale, lay.cdtype)
    if xp is not np:
        return value, lay.grad_from(grad_ce * factor[:, None])
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
