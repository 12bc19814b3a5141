"""``linear_cross_entropy``: the cross-entropy of a linear layer's logits, never holding them all.

A language model's last layer turns hidden states ``h`` (N, D) into logits
``z = h W^T + b`` (N, V) and the loss reads them once. For N = 8192 tokens and a
vocabulary of V = 128256 the logits alone take 4.2 GB in float32, and their gradient
as much again. Here the rows are processed in chunks: each chunk's logits are written
by one BLAS product into a reused buffer, the fused kernel turns that buffer into the
chunk's per-row losses and, in place, the gradient G = dL/dz of those rows, and the
chunk's share of the parameter gradients is accumulated by BLAS:

    dL/dh[chunk] = G W          dL/dW += G^T h[chunk]          dL/db += sum_rows G

(from z = h W^T + b: dz_ic/dh_ik = W_ck, dz_ic/dW_ck = h_ik, dz_ic/db_c = 1).
The extra memory is one chunk of logits plus O(N + V) per-row and per-class vectors;
the arithmetic is the three matrix products a materialising implementation does.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernels
from ._array import compute_dtype, to_numpy
from ._validation import (
    _describe,
    as_float_array,
    as_real_array,
    check_empty_mean,
    check_finite,
    check_ignore_index,
    check_in_unit_interval,
    check_label_smoothing,
    check_labels,
    check_nan_posinf,
    check_out,
    check_reduction,
    check_scalar,
    check_softcap,
)
from .grad import register_gradient
from .losses import _reduce, _scales_labels

Reduction = Literal["none", "mean", "sum"]

#: The default chunk holds at most this many bytes of logits ...
MAX_CHUNK_BYTES = 64 * 2**20
#: ... and at most this fraction of the full (N, V) logits ...
CHUNK_FRACTION = 1 / 10
#: ... in a multiple of this many rows, and never fewer (nor more than N).
CHUNK_ROWS_MULTIPLE = 16
#: The weight gradient is accumulated through a buffer of at most this many bytes.
GRAD_WEIGHT_BUFFER_BYTES = 8 * 2**20


def default_chunk_size(n_rows: int, n_classes: int, itemsize: int = 4) -> int:
    """Rows per chunk when ``chunk_size=None``.

    The largest multiple of ``CHUNK_ROWS_MULTIPLE`` (16) rows whose logits buffer
    (``rows * n_classes * itemsize`` bytes) fits in both ``MAX_CHUNK_BYTES`` (64 MiB) and
    ``CHUNK_FRACTION`` (1/10) of the full ``n_rows * n_classes`` logits; at least 16 rows,
    at most `n_rows`. Each chunk re-reads `weight` and re-writes the `weight` gradient, so
    larger chunks amortise that traffic better; 1/10 keeps the whole extra memory (the
    buffer plus vectors of length N and V) under 1/8 of the logits. E.g. N=4096, V=32000
    float32: 400 rows (51 MB of the 524 MB of logits); N=8192, V=128256: 128 rows (66 MB).

    >>> default_chunk_size(4096, 32000), default_chunk_size(8192, 128256)
    (400, 128)
    """
    row_bytes = max(1, n_classes * itemsize)
    budget = min(MAX_CHUNK_BYTES, n_rows * row_bytes * CHUNK_FRACTION)
    rows = int(budget // row_bytes) // CHUNK_ROWS_MULTIPLE * CHUNK_ROWS_MULTIPLE
    return max(1, min(max(rows, CHUNK_ROWS_MULTIPLE), n_rows))


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def _check_chunk_size(chunk_size: Any) -> int | None:
    if chunk_size is None:
        return None
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
        raise TypeError(
            f"`chunk_size` must be a positive integer or None; got {_describe(chunk_size)}"
        )
    if chunk_size < 1:
        raise ValueError(f"`chunk_size` must be a positive integer or None; got {int(chunk_size)}")
    return int(chunk_size)


def _check_class_weight(class_weight: Any, n_classes: int, dtype: np.dtype) -> np.ndarray | None:
    """Per-class weights named `class_weight` (here `weight` is the projection matrix)."""
    if class_weight is None:
        return None
    w = as_real_array(class_weight, "class_weight", dtype)
    if w.shape != (n_classes,):
        raise ValueError(
            f"`class_weight` must have shape ({n_classes},), one weight per class "
            f"(row of `weight`); got {w.shape}"
        )
    check_finite(w, "class_weight")
    negative = w < 0
    if negative.any():
        i = int(np.argmax(negative))
        raise ValueError(f"`class_weight` must be non-negative; got {w[i]!r} at index {i}")
    return w


def _check_operands(hidden: Any, weight: Any, bias: Any):
    h = as_float_array(hidden, "hidden")
    w = as_float_array(weight, "weight")
    if h.ndim < 1:
        raise ValueError("`hidden` must have shape (N, D) (or (..., D)); got a scalar")
    if w.ndim != 2:
        raise ValueError(f"`weight` must have shape (V, D), one row per class; got shape {w.shape}")
    if h.shape[-1] != w.shape[1]:
        raise ValueError(
            f"`hidden` and `weight` disagree on the feature size D: `hidden` has shape {h.shape} "
            f"(D = {h.shape[-1]}) but `weight` has shape {w.shape} (D = {w.shape[1]}); "
            "`weight` is laid out (V, D) like torch.nn.Linear.weight"
        )
    if w.shape[0] == 0:
        raise ValueError(f"`weight` must have at least one row (class); got shape {w.shape}")
    b = None
    if bias is not None:
        b = as_float_array(bias, "bias")
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"`bias` must have shape ({w.shape[0]},), one entry per row of `weight`; "
                f"got {b.shape}"
            )
        # -inf in the bias masks a class (probability 0); NaN and +inf are errors
        check_nan_posinf(b, "bias")
    dtypes = [h.dtype, w.dtype] + ([] if b is None else [b.dtype])
    return h, w, b, np.result_type(*dtypes)


def _check_grad_out(
    out: Any, like: np.ndarray, name: str, readers: list[tuple[str, np.ndarray]]
) -> np.ndarray:
    """`out` for the gradient of `like`; it must not overlap an array every chunk reads."""
    check_out(out, like.shape, like.dtype)
    for reader_name, arr in readers:
        if arr is not None and np.may_share_memory(out, arr):
            raise ValueError(
                f"`out` for the gradient of `{name}` must not share memory with "
                f"`{reader_name}`, which every chunk reads"
            )
    return out


def _accumulate_grad_weight(
    g: np.ndarray, hc: np.ndarray, gw: np.ndarray, first: bool, buf: np.ndarray
) -> None:
    """gw = g.T @ hc if `first`, else gw += g.T @ hc, through NumPy's BLAS alone.

    The (V, D) product is made in slices of ``buf.shape[0]`` classes, each written into
    `buf` and added to its slice of `gw`: the extra memory is `buf`, never a (V, D)
    temporary. (scipy's gemm could accumulate with beta = 1, but it runs on scipy's own
    OpenBLAS, whose threads and NumPy's then spin against each other: on the 2-core machine
    a 400-row chunk took 0.52 s that way against 0.40 s in NumPy slices.)
    """
    step = buf.shape[0]
    for v0 in range(0, gw.shape[0], step):
        v1 = min(v0 + step, gw.shape[0])
        if first:
            np.matmul(g[:, v0:v1].T, hc, out=gw[v0:v1])
        else:
            part = buf[: v1 - v0]
            np.matmul(g[:, v0:v1].T, hc, out=part)
            gw[v0:v1] += part


def _grad_weight_buffer(chunk_rows: int, n_classes: int, n_feat: int, dtype: np.dtype):
    """The slice buffer of _accumulate_grad_weight: at most 8 MiB and 1/4 of the chunk's
    logits (so the extra memory stays under 1/10 + 1/40 = 1/8 of the full logits)."""
    budget = min(GRAD_WEIGHT_BUFFER_BYTES, chunk_rows * n_classes * dtype.itemsize // 4)
    rows = max(16, budget // max(1, n_feat * dtype.itemsize))
    return np.empty((min(rows, n_classes), n_feat), dtype)


def _same_view(a: np.ndarray, b: np.ndarray) -> bool:
    return (
        a.shape == b.shape
        and a.strides == b.strides
        and a.dtype == b.dtype
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


# ---------------------------------------------------------------------------
# errors found by the kernel: name the input responsible
# ---------------------------------------------------------------------------


def _rows_name(name: str, start: int, stop: int, n: int) -> str:
    return name if (start, stop) == (0, n) else f"{name}[{start}:{stop}]"


def _explain_bad_chunk(err, h_rows, weight, bias, y, t, ignore_index, start, stop, n):
    """The kernel rejected a chunk's logits: find which input made them bad, and say so.

    Runs only on the error path, so the inputs are scanned only when something is wrong.
    """
    check_finite(h_rows, _rows_name("hidden", start, stop, n))
    check_finite(weight, "weight")
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.matmul(h_rows, weight.T)
        if bias is not None:
            z += bias
    masked = np.isneginf(z)
    # finite inputs can still overflow; -inf is a mask only where the bias put it
    overflowed = (
        np.isnan(z) | np.isposinf(z) | (masked & np.isfinite(bias if bias is not None else 0))
    )
    if y is not None:
        counted = y != ignore_index
        bad_target = counted & masked[np.arange(z.shape[0]), np.where(counted, y, 0)]
        what = "the row's target class"
    else:
        bad_target = (masked & (t > 0)).any(axis=1)
        what = "a class with positive target probability"
    if overflowed.any(axis=1).any():
        row = start + int(np.argmax(overflowed.any(axis=1)))
        raise ValueError(
            f"the logits `hidden @ weight.T` overflow {z.dtype} in row {row} of `hidden`; "
            "they must be finite (scale `hidden` or `weight` down, or use float64)"
        ) from err
    if masked.all(axis=1).any():
        row = start + int(np.argmax(masked.all(axis=1)))
        raise ValueError(f"`bias` masks every class with -inf; found for row {row}") from err
    if bad_target.any():
        row = start + int(np.argmax(bad_target))
        raise ValueError(
            f"`bias` is -inf (a masked class) at {what}; found in row {row} of `target`"
        ) from err
    raise err


# ---------------------------------------------------------------------------
# the chunked computation
# ---------------------------------------------------------------------------


def _linear_cross_entropy(
    hidden: ArrayLike,
    weight: ArrayLike,
    target: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    chunk_size: int | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    class_weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    _grads: dict[int, Any] | None = None,
):
    """Value and, for the argnums keyed in `_grads` (0 hidden, 1 weight, 2 bias), gradients.

    `_grads` maps each requested argnum to an output array or None.
    """
    h_in, w_in, b_in, dtype = _check_operands(hidden, weight, bias)
    reduction = check_reduction(reduction)
    eps = check_label_smoothing(label_smoothing)
    z_loss = check_scalar(z_loss, "z_loss", low=0.0)
    softcap = check_softcap(softcap)
    ignore_index = check_ignore_index(ignore_index)
    chunk_size = _check_chunk_size(chunk_size)
    grads = {} if _grads is None else _grads
    if 2 in grads and b_in is None:
        raise ValueError(
            "`argnums` includes 2, the gradient of `bias`, but no `bias` was given "
            "(pass bias=..., or leave 2 out of argnums)"
        )

    cdtype = compute_dtype(dtype)
    batch_shape = h_in.shape[:-1]
    n_feat = h_in.shape[-1]
    n_classes = w_in.shape[0]
    h = h_in.reshape(math.prod(batch_shape), n_feat)
    n = h.shape[0]
    cw = _check_class_weight(class_weight, n_classes, cdtype)
    if cw is not None:
        cw = np.ascontiguousarray(cw)

    t = to_numpy(target)
    probs = t.dtype.kind == "f" and t.shape == batch_shape + (n_classes,)
    if probs:
        t = t.reshape(n, n_classes)  # converted and checked chunk by chunk
        y = None
        # probability targets: the mean divides by the number of rows
        scale_main = scale_z = 1.0 / n if reduction == "mean" and n else 1.0
    else:
        y = check_labels(t, batch_shape, n_classes, ignore_index, "target").reshape(-1)
        scale_main, scale_z = _scales_labels(y, cw, ignore_index, reduction)
    check_empty_mean(n, reduction, "hidden")

    # operands in the compute dtype; `weight` and `bias` are read by every chunk
    W = w_in.astype(cdtype, copy=False)
    if not (W.flags.c_contiguous or W.flags.f_contiguous):
        W = np.ascontiguousarray(W)
    b = None if b_in is None else b_in.astype(cdtype, copy=False)
    h_direct = h.dtype == cdtype and h.flags.c_contiguous

    # gradient buffers: write into `out` when its layout allows, else into our own
    need_h, need_w, need_b = 0 in grads, 1 in grads, 2 in grads
    need_g = need_h or need_w or need_b
    gh = gw = gb = None
    if need_h:
        out = grads[0]
        if out is not None:
            in_place = _same_view(out, h_in)  # out=hidden: each chunk is read before written
            _check_grad_out(
                out,
                h_in,
                "hidden",
                [("weight", w_in), ("bias", b_in)] + ([] if in_place else [("hidden", h_in)]),
            )
        if out is not None and out.flags.c_contiguous:
            gh = out.reshape(n, n_feat)
        else:
            gh = np.empty((n, n_feat), h_in.dtype)
    # gh in the compute dtype takes G W directly; otherwise through a chunk buffer
    gh_direct = need_h and gh.dtype == cdtype
    if need_w:
        out = grads[1]
        if out is not None:
            _check_grad_out(
                out, w_in, "weight", [("weight", w_in), ("hidden", h_in), ("bias", b_in)]
            )
        if out is not None and out.dtype == cdtype and out.flags.c_contiguous:
            gw = out
        else:
            gw = np.empty((n_classes, n_feat), cdtype)
    if need_b:
        out = grads[2]
        if out is not None:
            _check_grad_out(out, b_in, "bias", [("bias", b_in), ("weight", w_in), ("hidden", h_in)])
        gb = np.zeros(n_classes, np.float64)

    rows = (
        chunk_size if chunk_size is not None else default_chunk_size(n, n_classes, cdtype.itemsize)
    )
    rows = max(1, min(rows, n))
    zbuf = np.empty((rows, n_classes), cdtype)  # the chunk's logits, then its gradient G
    hbuf = None if h_direct else np.empty((rows, n_feat), cdtype)
    ghbuf = None if (not need_h or gh_direct) else np.empty((rows, n_feat), cdtype)
    colsum = np.empty(n_classes, np.float64) if need_b else None
    gwbuf = _grad_weight_buffer(rows, n_classes, n_feat, cdtype) if need_w else None

    main = np.zeros(n, np.float64)
    lse = np.zeros(n, np.float64)
    gw_started = False

    for start in range(0, n, rows):
        stop = min(n, start + rows)
        k = stop - start
        yc = None if y is None else y[start:stop]
        if yc is not None and not (yc != ignore_index).any():
            # every row ignored: no loss, no gradient, no products
            if need_h:
                gh[start:stop] = 0
            continue
        if h_direct:
            hc = h[start:stop]
        else:
            hc = hbuf[:k]
            np.copyto(hc, h[start:stop], casting="same_kind")
        tc = None
        if y is None:
            tc = t[start:stop]
            check_in_unit_interval(tc, _rows_name("target", start, stop, n))
            tc = np.ascontiguousarray(tc, dtype=cdtype)
        z = zbuf[:k]
        # an overflow here is reported by the kernel (and explained below), not warned about
        with np.errstate(over="ignore", invalid="ignore"):
            np.matmul(hc, W.T, out=z)  # z = h W^T
            if b is not None:
                z += b
        g_out = z if need_g else None
        try:
            if y is not None:
                m, l = _kernels.ce_labels(
                    z,
                    yc,
                    cw,
                    ignore_index,
                    eps,
                    softcap,
                    z_loss,
                    scale_main,
                    scale_z,
                    g_out,
                    name="logits",
                )
            else:
                m, l = _kernels.ce_probs(
                    z, tc, cw, eps, softcap, z_loss, scale_main, scale_z, g_out, name="logits"
                )
        except ValueError as err:
            _explain_bad_chunk(err, hc, W, b, yc, tc, ignore_index, start, stop, n)
        main[start:stop] = m
        lse[start:stop] = l
        if not need_g:
            continue
        # z now holds G = dL/dz for these rows
        if need_b:
            # dL/db_c = sum_i G_ic, accumulated in float64
            np.sum(z, axis=0, dtype=np.float64, out=colsum)
            gb += colsum
        if need_w:
            # dL/dW += G^T h, accumulated in slices of classes
            _accumulate_grad_weight(z, hc, gw, not gw_started, gwbuf)
            gw_started = True
        if need_h:
            # dL/dh = G W; written after the last read of hc, so `out` may be `hidden`
            if gh_direct:
                np.matmul(z, W, out=gh[start:stop])
            else:
                np.matmul(z, W, out=ghbuf[:k])
                np.copyto(gh[start:stop], ghbuf[:k], casting="same_kind")

    extra = z_loss * lse * lse if z_loss > 0.0 else None
    value = _reduce(main, extra, reduction, scale_main, scale_z, batch_shape, dtype)
    if not need_g:
        return value, {}

    result: dict[int, np.ndarray] = {}
    if need_h:
        out = grads[0]
        g = gh.reshape(h_in.shape)
        if out is None:
            result[0] = g
        elif np.shares_memory(gh, out):
            result[0] = out
        else:
            np.copyto(out, g, casting="same_kind")
            result[0] = out
    if need_w:
        out = grads[1]
        if not gw_started:
            gw[...] = 0
        if out is None:
            result[1] = gw.astype(w_in.dtype, copy=False)
        elif gw is out:
            result[1] = out
        else:
            np.copyto(out, gw, casting="same_kind")
            result[1] = out
    if need_b:
        out = grads[2]
        if out is None:
            result[2] = gb.astype(b_in.dtype)
        else:
            np.copyto(out, gb, casting="same_kind")
            result[2] = out
    return value, result


def linear_cross_entropy(
    hidden: ArrayLike,
    weight: ArrayLike,
    target: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    chunk_size: int | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    class_weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
) -> NDArray:
    r"""Cross-entropy of the logits ``hidden @ weight.T + bias``, computed chunk by chunk.

    Equal to ``cross_entropy(hidden @ weight.T + bias, target, weight=class_weight, ...)``
    with every option, but the ``(N, V)`` logits are never held in memory: rows are
    processed ``chunk_size`` at a time. With :math:`z_i = W h_i + b`:

    .. math::

        \ell_i = (1-\varepsilon)\, w_{y_i} (\operatorname{LSE}(z_i) - z_{i y_i})
                 + \frac{\varepsilon}{V} \sum_c w_c (\operatorname{LSE}(z_i) - z_{ic})
                 + \zeta\, \operatorname{LSE}(z_i)^2

    (after soft-capping, if any), reduced exactly as :func:`logloss.cross_entropy` does.
    Through :func:`logloss.value_and_grad` the gradients follow from
    :math:`G = \partial L / \partial z`, one chunk of rows at a time:
    :math:`\partial L/\partial h = G W`, :math:`\partial L/\partial W = G^\top h`,
    :math:`\partial L/\partial b = \sum_i G_i`.

    Memory: besides the inputs and the returned gradients, one ``(chunk_size, V)`` buffer
    of logits (reused for their gradient) and vectors of length N and V. The default
    `chunk_size` (:func:`default_chunk_size`) keeps that buffer within 1/10 of the full
    logits and within 64 MiB (in multiples of 16 rows, at least 16). Inputs in float16,
    or of mixed dtypes, are converted to the compute dtype: `weight` once as a whole,
    `hidden` chunk by chunk.

    Parameters
    ----------
    hidden : array_like of float16, float32 or float64, shape (N, D) or (..., D)
        Inputs of the final linear layer (e.g. a language model's last hidden states).
    weight : array_like of float, shape (V, D)
        The projection, laid out like ``torch.nn.Linear.weight`` (one row per class).
    target : array_like
        Integer labels of shape ``hidden.shape[:-1]`` (each in ``[0, V)`` or
        `ignore_index`), or floating-point class probabilities of shape
        ``hidden.shape[:-1] + (V,)``.
    bias : array_like of float, shape (V,), optional
        Added to the logits. ``-inf`` masks a class (probability 0, no gradient);
        NaN and ``+inf`` are errors.
    chunk_size : int, optional
        Rows per chunk; ``None`` picks :func:`default_chunk_size`. Larger chunks cost
        memory and gain little once the products are BLAS-efficient (a few hundred rows).
    ignore_index : int, default -100
        Label whose rows contribute no loss and no gradient (integer labels only);
        chunks made only of such rows are skipped entirely.
    label_smoothing : float in [0, 1), default 0.0
    z_loss : float >= 0, default 0.0
        Coefficient :math:`\zeta` of the :math:`\operatorname{LSE}^2` penalty (not class-weighted).
    softcap : float > 0, optional
        Logits become ``softcap * tanh(logits / softcap)`` before the softmax.
    class_weight : array_like of shape (V,), optional
        Non-negative per-class weights: the `weight` argument of
        :func:`logloss.cross_entropy` and PyTorch, renamed because `weight` here is the
        projection matrix (as ``nn.Linear`` names it).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns one loss per row, shaped like `target`'s labels.

    Returns
    -------
    scalar or ndarray
        In the result dtype of `hidden`, `weight` and `bias`. A mean over no counted rows
        (every label ignored) is 0 with a zero gradient, not NaN (as in ``cross_entropy``).

    Notes
    -----
    Gradients: ``value_and_grad(linear_cross_entropy, argnums=(0, 1, 2))(h, W, y, bias=b)``
    returns ``(value, (g_h, g_w, g_b))``, each in its argument's dtype; argnum 2 means the
    keyword-only `bias`. Only the requested gradients are computed (``argnums=0`` does no
    ``G^T h`` product). ``out=`` may be ``hidden`` itself for the gradient of `hidden`.
    The gradient of `weight` is accumulated in place, a slice of at most 8 MiB of classes at
    a time: no (V, D) temporary beyond the returned gradient.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> rng = np.random.default_rng(0)
    >>> h = rng.standard_normal((6, 4))
    >>> W = rng.standard_normal((10, 4))
    >>> y = np.array([1, 0, 9, 3, -100, 2])
    >>> ll.linear_cross_entropy(h, W, y, chunk_size=4)   # row 4 ignored
    np.float64(3.5695...)
    >>> ll.cross_entropy(h @ W.T, y)   # the same, from the full logits
    np.float64(3.5695...)
    >>> b = np.zeros(10)
    >>> f = ll.value_and_grad(ll.linear_cross_entropy, argnums=(0, 1, 2))
    >>> loss, (g_h, g_w, g_b) = f(h, W, y, bias=b, chunk_size=4)
    >>> g_h.shape, g_w.shape, g_b.round(3)
    ((6, 4), (10, 4), array([-0.16 , -0.019, -0.145, -0.103,  0.165,  0.131,  0.037,  0.112,  0.075,
           -0.094]))
    """
    return _linear_cross_entropy(
        hidden,
        weight,
        target,
        bias=bias,
        chunk_size=chunk_size,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        z_loss=z_loss,
        softcap=softcap,
        class_weight=class_weight,
        reduction=reduction,
    )[0]


def _value_and_grads(args, kwargs, argnums, outs):
    grads = dict(zip(argnums, outs, strict=True))
    value, result = _linear_cross_entropy(*args, _grads=grads, **kwargs)
    return value, tuple(result[a] for a in argnums)


register_gradient(
    linear_cross_entropy,
    _value_and_grads,
    argnums=(0, 1, 2),
    argnames=("hidden", "weight", "bias"),
)
