"""The softmax family: ``cross_entropy``, ``nll_loss`` and ``softmax_focal_loss``.

Each validates its input (``logloss._validation``), reshapes it to the canonical
``(rows, classes)`` layout (:class:`~logloss.losses._layout.ClassLayout`) and calls one
fused routine of ``logloss._kernels`` that computes the per-row loss and, when asked, the
gradient with respect to the logits in the same pass. Each public function returns
``_twin(...)[0]``, where the private twin also computes the gradient
(``need_grad=True``) for :func:`logloss.value_and_grad`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _kernels
from .._array import acc_dtype, any_true, arange_like, asarray_in, astype, first_true, get_namespace
from .._kernels import _portable
from .._validation import (
    as_float_array,
    as_real_array,
    check_class_weight,
    check_empty_mean,
    check_ignore_index,
    check_in_unit_interval,
    check_label_smoothing,
    check_labels,
    check_nan_posinf,
    check_no_out,
    check_probability_ignore_index,
    check_reduction,
    check_scalar,
    check_softcap,
)
from ..grad import register_twin
from ._layout import ClassLayout, Reduction, is_probability_target, label_scales, reduce_rows
from ._tensors import on_cpu_tensors

__all__ = [
    "CERows",
    "cross_entropy",
    "cross_entropy_rows",
    "nll_loss",
    "reduce_ce_rows",
    "softmax_focal_loss",
]


def _class_inputs(x: Any, name: str, axis: int, weight: Any, reduction: Any, ignore_index: Any):
    """(array, namespace, layout, class weights, reduction, ignore_index), validated."""
    arr = as_float_array(x, name)
    reduction = check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    lay = ClassLayout(arr, axis, name)
    w = check_class_weight(weight, lay.n_classes, lay.cdtype, like=arr)
    return arr, get_namespace(arr), lay, w, reduction, ignore_index


def _flat_labels(target: Any, lay: ClassLayout, ignore_index: int, arr: Any) -> Any:
    """Integer labels of `arr`'s shape minus the class axis, checked, as one row each."""
    y = check_labels(target, lay.batch_shape, lay.n_classes, ignore_index, "target", like=arr)
    return lay.xp.reshape(y, (-1,))


def _softmax_rows(xp: Any, z: Any, target: Any, probs: bool, grad_out, need_grad, **options):
    """(main, lse, gradient or None) per row: ``ce_probs`` for probability targets, else
    ``ce_labels``. NumPy runs the fused kernels, which write the gradient into `grad_out`
    (None is returned for it); other namespaces the portable path, which returns it."""
    if xp is np:
        kernel = _kernels.ce_probs if probs else _kernels.ce_labels
        return (*kernel(z, target, grad_out=grad_out, **options), None)
    kernel_xp = _portable.ce_probs_xp if probs else _portable.ce_labels_xp
    return kernel_xp(xp, z, target, need_grad=need_grad, **options)


# ---------------------------------------------------------------------------
# cross_entropy
# ---------------------------------------------------------------------------


class CERows(NamedTuple):
    """What one cross-entropy pass leaves: per-row float64 values and how to reduce them.

    ``main`` (the weighted, smoothed cross-entropy of each canonical row) and ``lse``
    (each row's log-sum-exp) are NumPy float64 on the kernel path and arrays of the
    input's namespace otherwise; the reduced value is ``scale_main * sum(main) +
    scale_z * z_loss * sum(lse**2)``; the gradient of that value (of the sum of
    the per-row losses for ``"none"``) is ``grad`` in canonical ``(rows, C)`` layout, or
    None when it was not asked for.
    """

    lay: ClassLayout
    main: Any
    lse: Any
    scale_main: float
    scale_z: float
    z_loss: float
    reduction: str
    grad: Any


def check_ce_options(
    reduction: Any,
    ignore_index: Any,
    label_smoothing: Any,
    z_loss: Any,
    softcap: Any,
    count: Any,
) -> tuple[str, int, float, float, float | None, float | None]:
    """Cross-entropy's scalar options, checked once for every execution (the NumPy pass,
    the 16-bit kernels, the Triton kernels): ``(reduction, ignore_index, label_smoothing,
    z_loss, softcap, count)``; `count` must be positive and needs ``reduction="mean"``.

    >>> check_ce_options("mean", -100, 0.1, 0.0, None, 512)
    ('mean', -100, 0.1, 0.0, None, 512.0)
    """
    reduction = check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    eps = check_label_smoothing(label_smoothing)
    z_loss = check_scalar(z_loss, "z_loss", low=0.0)
    softcap = check_softcap(softcap)
    if count is not None:
        count = check_scalar(count, "count", low=0.0, low_inclusive=False)
        if reduction != "mean":
            raise ValueError(
                f"`count` divides the mean; it needs reduction='mean', got {reduction!r}"
            )
    return reduction, ignore_index, eps, z_loss, softcap, count


def cross_entropy_rows(
    logits: Any,
    target: Any,
    *,
    axis: int = -1,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    reduction: Any = "mean",
    need_grad: bool = False,
    out: np.ndarray | None = None,
    count: float | None = None,
) -> CERows:
    """Validate, reshape and run one cross-entropy pass: :func:`cross_entropy`'s arguments.

    `count` (a positive number, ``reduction="mean"`` only) replaces the mean's local
    divisors (the summed class weights of the counted targets, and their number for
    the z-loss) by one number the caller knows: the count of counted targets across
    every micro-batch or worker, so that the partial losses add up to the global mean.
    On the NumPy path the gradient is written into :meth:`ClassLayout.grad_buffer`
    (``CERows.grad`` is then that buffer, and ``lay.finish_grad()`` delivers it).
    """
    arr, xp, lay, w, reduction, ignore_index = _class_inputs(
        logits, "logits", axis, weight, reduction, ignore_index
    )
    _, _, eps, z_loss, softcap, count = check_ce_options(
        reduction, ignore_index, label_smoothing, z_loss, softcap, count
    )
    t = asarray_in(xp, target, arr)
    if count is None:
        check_empty_mean(lay.n_rows, reduction, "logits")
    if xp is not np:
        check_no_out(out, arr)
    grad_out = lay.grad_buffer(out) if need_grad and xp is np else None

    options = dict(weight=w, smoothing=eps, softcap=softcap, z_loss=z_loss)
    probs = is_probability_target(t, arr)
    if probs:
        check_probability_ignore_index(ignore_index)
        t = as_real_array(t, "target", lay.cdtype, like=arr)
        check_in_unit_interval(t, "target")
        t = lay.to_rows(t)
        # probability targets: the mean divides by the number of rows
        scale_main = scale_z = 1.0 / lay.n_rows if reduction == "mean" and lay.n_rows else 1.0
    else:
        t = _flat_labels(t, lay, ignore_index, arr)
        scale_main, scale_z = label_scales(t, w, ignore_index, reduction)
        options["ignore_index"] = ignore_index
    if count is not None:
        scale_main = scale_z = 1.0 / count
    main, lse, g = _softmax_rows(
        xp, lay.z, t, probs, grad_out, need_grad, scale=scale_main, scale_z=scale_z, **options
    )
    grad = grad_out if xp is np else g
    return CERows(lay, main, lse, scale_main, scale_z, z_loss, reduction, grad)


def reduce_ce_rows(r: CERows) -> Any:
    """The loss :func:`cross_entropy` returns, from one pass's :class:`CERows`."""
    extra = r.z_loss * r.lse * r.lse if r.z_loss > 0.0 else None
    lay = r.lay
    return reduce_rows(
        r.main, extra, r.reduction, r.scale_main, r.scale_z, lay.batch_shape, lay.dtype
    )


@on_cpu_tensors
def _cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    axis: int,
    weight: ArrayLike | None,
    ignore_index: int,
    label_smoothing: float,
    z_loss: float,
    softcap: float | None,
    reduction: Reduction,
    need_grad: bool = False,
    out: np.ndarray | None = None,
):
    r = cross_entropy_rows(**locals())  # the parameters above, by name
    value = reduce_ce_rows(r)
    if not need_grad:
        return value, None
    return value, (r.lay.finish_grad() if r.lay.xp is np else r.lay.grad_from(r.grad))


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
        Non-negative class weights. Any real dtype: it is cast to the
        logits' compute dtype (PyTorch instead raises unless the dtypes match).
    ignore_index : int, default -100
        Label value whose rows contribute no loss and no gradient. Hard labels only:
        with probability targets a non-negative `ignore_index` is a ``ValueError``
        (as in PyTorch), and a negative one has no effect.
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
    return _cross_entropy(**locals())[0]  # the parameters above, by name


# ---------------------------------------------------------------------------
# nll_loss
# ---------------------------------------------------------------------------


@on_cpu_tensors
def _nll_loss(
    log_probs: ArrayLike,
    target: ArrayLike,
    *,
    axis: int,
    weight: ArrayLike | None,
    ignore_index: int,
    reduction: Reduction,
    need_grad: bool = False,
    out: np.ndarray | None = None,
):
    arr, xp, lay, w, reduction, ignore_index = _class_inputs(
        log_probs, "log_probs", axis, weight, reduction, ignore_index
    )
    check_nan_posinf(lay.z, "log_probs")
    y = _flat_labels(target, lay, ignore_index, arr)
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
    scale, _ = label_scales(y, w, ignore_index, reduction)
    value = reduce_rows(main, None, reduction, scale, 0.0, lay.batch_shape, lay.dtype)
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
        Non-negative class weights. Any real dtype: it is cast to the
        logits' compute dtype (PyTorch instead raises unless the dtypes match).
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
    return _nll_loss(**locals())[0]  # the parameters above, by name


@on_cpu_tensors
def _softmax_focal_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float,
    axis: int,
    weight: ArrayLike | None,
    ignore_index: int,
    reduction: Reduction,
    need_grad: bool = False,
    out: np.ndarray | None = None,
):
    arr, xp, lay, w, reduction, ignore_index = _class_inputs(
        logits, "logits", axis, weight, reduction, ignore_index
    )
    gamma = check_scalar(gamma, "gamma", low=0.0)
    y = _flat_labels(target, lay, ignore_index, arr)
    check_empty_mean(lay.n_rows, reduction, "logits")
    scale, _ = label_scales(y, w, ignore_index, reduction)
    # plain CE per row (unweighted, unscaled) and its gradient p - onehot(y)
    if xp is not np:
        check_no_out(out, arr)
    grad_ce = np.empty_like(lay.z) if need_grad and xp is np else None
    nll, _, g = _softmax_rows(xp, lay.z, y, False, grad_ce, need_grad, ignore_index=ignore_index)
    grad_ce = grad_ce if xp is np else g
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
    value = reduce_rows(main, None, reduction, scale, 0.0, lay.batch_shape, lay.dtype)
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
        Non-negative per-class weights (the :math:`\alpha` of the focal-loss paper), of
        any real dtype: cast to the logits' compute dtype.
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
    return _softmax_focal_loss(**locals())[0]  # the parameters above, by name


register_twin(cross_entropy, _cross_entropy)
register_twin(nll_loss, _nll_loss)
register_twin(softmax_focal_loss, _softmax_focal_loss)
