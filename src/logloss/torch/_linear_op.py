"""Linear cross-entropy as a PyTorch operator: ``torch.ops.logloss.linear_cross_entropy``.

``loss = cross_entropy(input @ linear_weight.T + linear_bias, target)`` without ever
holding the N×V logits: logloss's chunked NumPy routine computes the loss and the
gradients of `input`, `linear_weight` and `linear_bias` in the forward pass (on
zero-copy views of CPU tensors), and backward scales them by the scalar ``grad_output``.
With ``reduction="none"`` the gradients depend on each row's ``grad_output``, so backward
recomputes them chunk by chunk from the inputs (the forward then computes values only).

``linear_weight`` may be N-dimensional, ``(C, d1, ..., dK, D)``, as in
``torch.nn.functional.linear_cross_entropy``: the logits are then ``(N, C, d1, ..., dK)``
with the classes along dimension 1; each of the K positions is one linear map
``linear_weight[:, k, :]`` of C classes, computed in turn with the whole mean's scales.

No ``from __future__ import annotations``: ``torch.library`` reads the schema from them.
"""

import math

import numpy as np
import torch
from torch import Tensor

from .._validation import check_labels, check_probability_ignore_index
from ..losses._layout import label_scales
from ..losses.linear import _linear_cross_entropy, default_chunk_size
from ._bridge import compute_tensor, from_numpy, to_numpy
from ._ops import _scaled, cross_entropy_op

__all__ = ["linear_cross_entropy_op"]


def _shapes(input: Tensor, linear_weight: Tensor) -> tuple[int, tuple[int, ...], int]:
    """(classes C, out_features, in_features D), with PyTorch's shape rules as ValueErrors."""
    if input.dim() not in (1, 2):
        raise ValueError(f"`input` must have shape (N, D) or (D,); got shape {tuple(input.shape)}")
    if linear_weight.dim() < 2:
        raise ValueError(
            "`linear_weight` must have shape (C, D) or (C, d1, ..., dK, D); got shape "
            f"{tuple(linear_weight.shape)}"
        )
    if input.shape[-1] != linear_weight.shape[-1]:
        raise ValueError(
            f"`input` and `linear_weight` disagree on in_features: {input.shape[-1]} and "
            f"{linear_weight.shape[-1]} (shapes {tuple(input.shape)} and "
            f"{tuple(linear_weight.shape)})"
        )
    out_features = tuple(linear_weight.shape[1:-1])
    if out_features and input.dim() == 1:
        raise ValueError(
            "an N-dimensional `linear_weight` (out_features "
            f"{out_features}) needs a batched `input` (N, D); got shape {tuple(input.shape)}"
        )
    return linear_weight.shape[0], out_features, linear_weight.shape[-1]


def _global_scales(y, t, n, k, c, cw, ignore_index, reduction, count):
    """(loss scale, z-loss scale) of the whole mean over every row and position."""
    if reduction != "mean":
        return 1.0, 1.0
    if count is not None:
        return 1.0 / count, 1.0 / count
    if t is not None:  # probability targets: the mean is over rows x positions
        return (1.0 / (n * k),) * 2 if n * k else (1.0, 1.0)
    cw = None if cw is None else np.asarray(cw, dtype=np.float64)
    return label_scales(y.reshape(-1), cw, ignore_index, "mean")


@torch.library.custom_op("logloss::linear_cross_entropy", mutates_args=())
def linear_cross_entropy_op(
    input: Tensor,
    linear_weight: Tensor,
    target: Tensor,
    linear_bias: Tensor | None,
    weight: Tensor | None,
    reduction: str,
    ignore_index: int,
    label_smoothing: float,
    z_loss: float,
    softcap: float | None,
    chunk_size: int | None,
    count: float | None,
    need_grads: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(loss, d/d input, d/d linear_weight, d/d linear_bias); empty tensors where not computed."""
    c, out_features, d = _shapes(input, linear_weight)
    if count is not None and reduction != "mean":
        raise ValueError(f"`count` divides the mean; it needs reduction='mean', got {reduction!r}")
    if count is not None and not count > 0:
        raise ValueError(f"`count` must be a positive number; got {count}")
    h = compute_tensor(input, "input")
    W = compute_tensor(linear_weight, "linear_weight")
    b = None if linear_bias is None else compute_tensor(linear_bias, "linear_bias")
    batched = input.dim() == 2
    n = input.shape[0] if batched else 1
    k = math.prod(out_features)
    h_np = (h if batched else h[None]).numpy()
    W_np = W.numpy().reshape(c, k, d)
    b_np = None if b is None else b.numpy().reshape(c, k)
    tgt = to_numpy(target, "target")
    tgt = np.asarray(tgt) if batched else np.asarray(tgt)[None]
    probs = tgt.dtype.kind == "f" and tgt.shape == (n, c, *out_features)
    cw = to_numpy(weight, "weight")
    if probs:
        check_probability_ignore_index(ignore_index)
        y, t = None, tgt.reshape(n, c, k)
    else:
        y = check_labels(tgt, (n, *out_features), c, ignore_index, "target").reshape(n, k)
        t = None
    if reduction == "mean" and count is None and n * k == 0:
        raise ValueError("the mean of an empty batch is undefined: `input` has no rows")
    scales = _global_scales(y, t, n, k, c, cw, ignore_index, reduction, count)
    grad_h = np.zeros(h_np.shape, h_np.dtype) if need_grads else None
    grad_W = np.empty(W_np.shape, W_np.dtype) if need_grads else None
    grad_b = np.empty(b_np.shape, b_np.dtype) if need_grads and b_np is not None else None
    values = []
    for j in range(k):
        grads = {}
        if need_grads:
            grads = {0: None, 1: None} | ({2: None} if b_np is not None else {})
        value, result = _linear_cross_entropy(
            h_np, W_np[:, j, :], t[:, :, j] if probs else y[:, j],
            bias=None if b_np is None else b_np[:, j], chunk_size=chunk_size,
            ignore_index=ignore_index, label_smoothing=label_smoothing, z_loss=z_loss,
            softcap=softcap, class_weight=cw, reduction=reduction, grads=grads,
            scales=None if reduction == "none" else scales,
        )  # fmt: skip
        values.append(np.asarray(value, dtype=np.float64))
        if need_grads:
            grad_h += result[0]
            grad_W[:, j, :] = result[1]
            if grad_b is not None:
                grad_b[:, j] = result[2]
    if reduction == "none":
        loss = np.stack(values, axis=-1).reshape((n, *out_features))
        loss = loss if batched else loss[0]
    else:
        loss = np.sum(values)
    if not need_grads:  # distinct empty tensors: outputs may not alias each other
        return (from_numpy(loss, input.dtype), *(input.new_empty(0) for _ in range(3)))
    gh = torch.from_numpy(grad_h if batched else grad_h[0]).to(input.dtype)
    gW = torch.from_numpy(grad_W.reshape(linear_weight.shape)).to(linear_weight.dtype)
    gb = input.new_empty(0)
    if grad_b is not None:
        gb = torch.from_numpy(grad_b.reshape(linear_bias.shape)).to(linear_bias.dtype)
    return from_numpy(loss, input.dtype), gh, gW, gb


@linear_cross_entropy_op.register_kernel("cuda")
def _(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
      label_smoothing, z_loss, softcap, chunk_size, count, need_grads):  # fmt: skip
    from ._triton_ops import linear_ce_triton  # Triton only when CUDA tensors arrive

    return linear_ce_triton(
        input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
        label_smoothing, z_loss, softcap, chunk_size, count, need_grads,
    )  # fmt: skip


@linear_cross_entropy_op.register_fake
def _(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
      label_smoothing, z_loss, softcap, chunk_size, count, need_grads):  # fmt: skip
    out_features = list(linear_weight.shape[1:-1])
    batch = list(input.shape[:-1])
    loss = input.new_empty(batch + out_features if reduction == "none" else [])
    if not need_grads:
        return loss, input.new_empty(0), input.new_empty(0), input.new_empty(0)
    gb = input.new_empty(0) if linear_bias is None else linear_bias.new_empty(linear_bias.shape)
    return loss, input.new_empty(input.shape), linear_weight.new_empty(linear_weight.shape), gb


def _setup(ctx, inputs, output) -> None:
    ctx.set_materialize_grads(False)  # no zeros of the gradient outputs' shapes
    ctx.inputs = inputs
    ctx.reduction = inputs[5]
    ctx.need_grads = inputs[12]
    ctx.save_for_backward(*output[1:])
    ctx.mark_non_differentiable(*output[1:])


def _backward(ctx, grad_loss, *unused):
    if grad_loss is None:
        return (None,) * 13
    inputs = ctx.inputs
    if ctx.reduction == "none":
        gh, gW, gb = _recompute(inputs, grad_loss)
    else:
        # without the forward's gradients (not asked for), one more pass computes them
        gh, gW, gb = (
            ctx.saved_tensors if ctx.need_grads else linear_cross_entropy_op(*inputs[:12], True)[1:]
        )
        gh, gW = _scaled(gh, grad_loss), _scaled(gW, grad_loss)
        gb = _scaled(gb, grad_loss) if inputs[3] is not None else None
    return (gh, gW, None, gb) + (None,) * 9


def _recompute(inputs, grad_loss):
    """The three gradients of ``sum(grad_loss * loss)`` for ``reduction="none"``, one
    chunk of rows at a time.

    Per chunk: the logits ``z = h W^T + b`` (classes along dimension 1), the per-row
    gradient ``G`` of the cross-entropy from the fused op, scaled per row by
    `grad_loss`, then ``G W``, ``G^T h`` and ``sum G``: the N×V logits are never held.
    """
    (input, W, target, bias, weight, reduction, ignore_index, smoothing, z_loss, softcap,
     chunk_size, count, _) = inputs  # fmt: skip
    batched = input.dim() == 2
    h = input if batched else input[None]
    tgt = target if batched else target[None]
    c, out_features = W.shape[0], tuple(W.shape[1:-1])
    W2 = W.reshape(-1, W.shape[-1])
    b2 = None if bias is None else bias.reshape(-1)
    n = h.shape[0]
    go = grad_loss if batched else grad_loss[None]
    rows = chunk_size or default_chunk_size(n, W2.shape[0], 4)
    gh = torch.empty_like(h)
    gW = torch.zeros(W2.shape, dtype=torch.float32 if W.dtype != torch.float64 else W.dtype)
    gb = None if b2 is None else torch.zeros(b2.shape, dtype=gW.dtype)
    for start in range(0, n, rows):
        hc = h[start : start + rows]
        z = hc.to(gW.dtype) @ W2.to(gW.dtype).T
        if b2 is not None:
            z = z + b2.to(gW.dtype)
        z = z.reshape(hc.shape[0], c, *out_features)
        G = cross_entropy_op(
            z, tgt[start : start + rows], weight, ignore_index, "none", smoothing, z_loss,
            softcap, None, True,
        )[2]  # fmt: skip
        G = (G * go[start : start + rows].unsqueeze(1).to(G.dtype)).reshape(hc.shape[0], -1)
        gh[start : start + rows] = (G @ W2.to(G.dtype)).to(gh.dtype)
        gW += G.T @ hc.to(G.dtype)
        if gb is not None:
            gb += G.sum(0)
    gh = gh if batched else gh[0]
    gb = None if gb is None else gb.reshape(bias.shape).to(bias.dtype)
    return gh, gW.reshape(W.shape).to(W.dtype), gb


linear_cross_entropy_op.register_autograd(_backward, setup_context=_setup)
