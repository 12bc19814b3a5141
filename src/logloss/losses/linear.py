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
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _kernels
from .._array import compute_dtype, to_numpy
from .._validation import (
    check_empty_mean,
    check_ignore_index,
    check_in_unit_interval,
    check_label_smoothing,
    check_labels,
    check_reduction,
    check_scalar,
    check_softcap,
)
from ..grad import register_gradient
from ._layout import Reduction, label_scales, reduce_rows
from ._linear_inputs import (
    check_chunk_size,
    check_grad_out,
    check_linear_class_weight,
    check_operands,
    explain_bad_chunk,
    rows_name,
)
from ._tensors import on_cpu_tensors

__all__ = ["linear_cross_entropy", "default_chunk_size"]

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
# the chunked computation
# ---------------------------------------------------------------------------


@dataclass
class _Problem:
    """The validated inputs, rows flattened: what every chunk reads."""

    h: np.ndarray  # (N, D) hidden, in its own dtype
    W: np.ndarray  # (V, D) weight, compute dtype
    b: np.ndarray | None  # (V,) bias, compute dtype
    y: np.ndarray | None  # (N,) labels, or None for probability targets
    t: np.ndarray | None  # (N, V) probabilities (checked chunk by chunk), or None
    kernel_options: dict[str, Any]  # the kernel's keywords but the targets and grad_out
    ignore_index: int
    scale_main: float
    scale_z: float
    cdtype: np.dtype

    @property
    def n(self) -> int:
        return self.h.shape[0]


def _prepare(
    h_in,
    w_in,
    b_in,
    dtype,
    target,
    *,
    class_weight,
    ignore_index,
    label_smoothing,
    z_loss,
    softcap,
    reduction,
    scales: tuple[float, float] | None = None,
) -> _Problem:
    """Check the options and the targets; put the operands in the compute dtype.

    `scales` (the loss's and the z-loss's) replaces the mean's own divisors: a caller
    that splits one mean into parts gives each part the whole's scales.
    """
    cdtype = compute_dtype(dtype)
    batch_shape = h_in.shape[:-1]
    n_classes = w_in.shape[0]
    h = h_in.reshape(math.prod(batch_shape), h_in.shape[-1])
    n = h.shape[0]
    cw = check_linear_class_weight(class_weight, n_classes, cdtype)
    options = dict(
        weight=None if cw is None else np.ascontiguousarray(cw),
        smoothing=label_smoothing,
        softcap=softcap,
        z_loss=z_loss,
    )
    t = to_numpy(target)
    if t.dtype.kind == "f" and t.shape == batch_shape + (n_classes,):
        t, y = t.reshape(n, n_classes), None  # converted and checked chunk by chunk
        # probability targets: the mean divides by the number of rows
        scale_main = scale_z = 1.0 / n if reduction == "mean" and n else 1.0
    else:
        y = check_labels(t, batch_shape, n_classes, ignore_index, "target").reshape(-1)
        t = None
        scale_main, scale_z = label_scales(y, options["weight"], ignore_index, reduction)
        options["ignore_index"] = ignore_index
    if scales is None:
        check_empty_mean(n, reduction, "hidden")
    else:
        scale_main, scale_z = scales
    # `weight` and `bias` are read by every chunk: converted once
    W = w_in.astype(cdtype, copy=False)
    if not (W.flags.c_contiguous or W.flags.f_contiguous):
        W = np.ascontiguousarray(W)
    b = None if b_in is None else b_in.astype(cdtype, copy=False)
    return _Problem(h, W, b, y, t, options, ignore_index, scale_main, scale_z, cdtype)


class _Gradients:
    """The requested parameter gradients, accumulated chunk by chunk.

    `grads` maps each requested argnum (0 hidden, 1 weight, 2 bias) to an output array
    or None. Results go straight into `out` when its layout allows, else into our own
    buffers, copied into `out` at the end.
    """

    def __init__(self, grads, h_in, w_in, b_in, p: _Problem, rows: int):
        self.grads = grads
        self.need_h, self.need_w, self.need_b = 0 in grads, 1 in grads, 2 in grads
        self.any = self.need_h or self.need_w or self.need_b
        n_classes, n_feat = w_in.shape
        self.h_shape, self.h_dtype, self.w_dtype = h_in.shape, h_in.dtype, w_in.dtype
        self.b_dtype = None if b_in is None else b_in.dtype
        cdtype = p.cdtype
        self.gh = self.gw = self.gb = None
        if self.need_h:
            out = grads[0]
            if out is not None:
                in_place = _same_view(out, h_in)  # out=hidden: each chunk is read before written
                others = [] if in_place else [("hidden", h_in)]
                check_grad_out(out, h_in, "hidden", [("weight", w_in), ("bias", b_in)] + others)
            if out is not None and out.flags.c_contiguous:
                self.gh = out.reshape(p.n, n_feat)
            else:
                self.gh = np.empty((p.n, n_feat), h_in.dtype)
        # gh in the compute dtype takes G W directly; otherwise through a chunk buffer
        gh_direct = self.need_h and self.gh.dtype == cdtype
        self.ghbuf = None if (not self.need_h or gh_direct) else np.empty((rows, n_feat), cdtype)
        if self.need_w:
            out = grads[1]
            if out is not None:
                readers = [("weight", w_in), ("hidden", h_in), ("bias", b_in)]
                check_grad_out(out, w_in, "weight", readers)
            if out is not None and out.dtype == cdtype and out.flags.c_contiguous:
                self.gw = out
            else:
                self.gw = np.empty((n_classes, n_feat), cdtype)
        self.gwbuf = _grad_weight_buffer(rows, n_classes, n_feat, cdtype) if self.need_w else None
        self.gw_started = False
        if self.need_b:
            out = grads[2]
            if out is not None:
                readers = [("bias", b_in), ("weight", w_in), ("hidden", h_in)]
                check_grad_out(out, b_in, "bias", readers)
            self.gb = np.zeros(n_classes, np.float64)
        self.colsum = np.empty(n_classes, np.float64) if self.need_b else None

    def skip(self, start: int, stop: int) -> None:
        """A chunk of ignored rows: zero gradient of `hidden` there, nothing else."""
        if self.need_h:
            self.gh[start:stop] = 0

    def accumulate(self, G: np.ndarray, hc: np.ndarray, W: np.ndarray, start: int, stop: int):
        """Add a chunk's share, from its G = dL/dz and hidden rows `hc`."""
        if self.need_b:
            # dL/db_c = sum_i G_ic, accumulated in float64
            np.sum(G, axis=0, dtype=np.float64, out=self.colsum)
            self.gb += self.colsum
        if self.need_w:
            # dL/dW += G^T h, accumulated in slices of classes
            _accumulate_grad_weight(G, hc, self.gw, not self.gw_started, self.gwbuf)
            self.gw_started = True
        if self.need_h:
            # dL/dh = G W; written after the last read of hc, so `out` may be `hidden`
            if self.ghbuf is None:
                np.matmul(G, W, out=self.gh[start:stop])
            else:
                part = self.ghbuf[: stop - start]
                np.matmul(G, W, out=part)
                np.copyto(self.gh[start:stop], part, casting="same_kind")

    def results(self) -> dict[int, np.ndarray]:
        """The gradients by argnum, each in its argument's dtype (in `out` if given)."""
        result: dict[int, np.ndarray] = {}
        if self.need_h:
            result[0] = _deliver(self.gh.reshape(self.h_shape), self.grads[0], self.h_dtype)
        if self.need_w:
            if not self.gw_started:
                self.gw[...] = 0
            result[1] = _deliver(self.gw, self.grads[1], self.w_dtype)
        if self.need_b:
            result[2] = _deliver(self.gb, self.grads[2], self.b_dtype)
        return result


def _deliver(g: np.ndarray, out: np.ndarray | None, dtype: np.dtype) -> np.ndarray:
    """A gradient as returned: in `out` (copied there unless `g` lives there), else in `dtype`."""
    if out is None:
        return g.astype(dtype, copy=False)
    if not np.shares_memory(g, out):
        np.copyto(out, g, casting="same_kind")
    return out


def _chunk_loss(p: _Problem, z: np.ndarray, hc, yc, start: int, stop: int, need_g: bool):
    """(main, lse) of a chunk's rows from its logits `z`, which become G = dL/dz in place
    when `need_g`; a rejected chunk is explained by the input that made it bad."""
    tc = None
    if yc is None:
        tc = p.t[start:stop]
        check_in_unit_interval(tc, rows_name("target", start, stop, p.n))
        tc = np.ascontiguousarray(tc, dtype=p.cdtype)
    options = dict(
        p.kernel_options, scale=p.scale_main, scale_z=p.scale_z, grad_out=z if need_g else None
    )
    try:
        if yc is not None:
            return _kernels.ce_labels(z, yc, **options)
        return _kernels.ce_probs(z, tc, **options)
    except ValueError as err:
        explain_bad_chunk(err, hc, p.W, p.b, yc, tc, p.ignore_index, start, stop, p.n)


def _chunk_loop(p: _Problem, grads: _Gradients, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-row (main, lse) over all rows, `rows` at a time, accumulating the gradients."""
    n, n_feat = p.h.shape
    h_direct = p.h.dtype == p.cdtype and p.h.flags.c_contiguous
    zbuf = np.empty((rows, p.W.shape[0]), p.cdtype)  # the chunk's logits, then its gradient G
    hbuf = None if h_direct else np.empty((rows, n_feat), p.cdtype)
    main = np.zeros(n, np.float64)
    lse = np.zeros(n, np.float64)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        yc = None if p.y is None else p.y[start:stop]
        if yc is not None and not (yc != p.ignore_index).any():
            grads.skip(start, stop)  # every row ignored: no loss, no gradient, no products
            continue
        if h_direct:
            hc = p.h[start:stop]
        else:
            hc = hbuf[: stop - start]
            np.copyto(hc, p.h[start:stop], casting="same_kind")
        z = zbuf[: stop - start]
        # an overflow here is reported by the kernel (and explained), not warned about
        with np.errstate(over="ignore", invalid="ignore"):
            np.matmul(hc, p.W.T, out=z)  # z = h W^T
            if p.b is not None:
                z += p.b
        main[start:stop], lse[start:stop] = _chunk_loss(p, z, hc, yc, start, stop, grads.any)
        if grads.any:
            grads.accumulate(z, hc, p.W, start, stop)  # z now holds G = dL/dz
    return main, lse


@on_cpu_tensors
def _linear_cross_entropy(
    hidden: ArrayLike,
    weight: ArrayLike,
    target: ArrayLike,
    *,
    bias: ArrayLike | None,
    chunk_size: int | None,
    ignore_index: int,
    label_smoothing: float,
    z_loss: float,
    softcap: float | None,
    class_weight: ArrayLike | None,
    reduction: Reduction,
    grads: dict[int, Any] | None = None,
    scales: tuple[float, float] | None = None,
):
    """Value and, for the argnums keyed in `grads` (0 hidden, 1 weight, 2 bias), gradients.

    `grads` maps each requested argnum to an output array or None; `scales` overrides
    the mean's (loss, z-loss) scales (see ``_prepare``). Every other parameter is
    :func:`linear_cross_entropy`'s, passed by name (its defaults are written there).
    """
    h_in, w_in, b_in, dtype = check_operands(hidden, weight, bias)
    reduction = check_reduction(reduction)
    options = dict(
        label_smoothing=check_label_smoothing(label_smoothing),
        z_loss=check_scalar(z_loss, "z_loss", low=0.0),
        softcap=check_softcap(softcap),
        ignore_index=check_ignore_index(ignore_index),
    )
    chunk_size = check_chunk_size(chunk_size)
    grads = {} if grads is None else grads
    if 2 in grads and b_in is None:
        raise ValueError(
            "`argnums` includes 2, the gradient of `bias`, but no `bias` was given "
            "(pass bias=..., or leave 2 out of argnums)"
        )
    p = _prepare(
        h_in, w_in, b_in, dtype, target, class_weight=class_weight, reduction=reduction,
        scales=scales, **options,
    )  # fmt: skip
    n_classes = w_in.shape[0]
    rows = chunk_size or default_chunk_size(p.n, n_classes, p.cdtype.itemsize)
    rows = max(1, min(rows, p.n))
    gradients = _Gradients(grads, h_in, w_in, b_in, p, rows)
    main, lse = _chunk_loop(p, gradients, rows)
    z_loss = options["z_loss"]
    extra = z_loss * lse * lse if z_loss > 0.0 else None
    value = reduce_rows(main, extra, reduction, p.scale_main, p.scale_z, h_in.shape[:-1], dtype)
    return value, (gradients.results() if gradients.any else {})


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
        `hidden`, `weight` and `bias` are NumPy arrays or array-likes: an array of
        another Array API library (a torch tensor, say) is a ``TypeError`` rather than a
        silent copy to the host.
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
    return _linear_cross_entropy(**locals())[0]  # the parameters above, by name


def _value_and_grads(arguments, argnums, outs):
    value, result = _linear_cross_entropy(**arguments, grads=dict(zip(argnums, outs, strict=True)))
    return value, tuple(result[a] for a in argnums)


register_gradient(linear_cross_entropy, _value_and_grads, argnums=(0, 1, 2))
