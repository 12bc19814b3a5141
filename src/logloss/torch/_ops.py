"""The fused losses as PyTorch operators: ``torch.ops.logloss.*``.

Each operator runs logloss's NumPy/numba pass on zero-copy views of CPU tensors and
returns the loss *and* its gradient with respect to the logits, computed together. The
autograd formula then only scales that stored gradient by the incoming ``grad_output``
(and hands it over untouched when ``grad_output`` is 1, the usual ``loss.backward()``).
Registered with ``torch.library`` (schema, fake kernel for tracing, autograd), so
``torch.compile(fullgraph=True)`` sees one opaque operator per loss.

This module has no ``from __future__ import annotations``: ``torch.library`` reads the
operators' schemas from their annotations.
"""

import numpy as np
import torch
from torch import Tensor

from .. import _buffers
from ..losses._half_rows import cross_entropy_rows_half
from ..losses._layout import reduce_rows
from ..losses.binary import _bce_with_logits
from ..losses.softmax import cross_entropy_rows, reduce_ce_rows
from ._bridge import HALF_DTYPES, check_cpu, compute_tensor, fresh_buffer, from_numpy, to_numpy

__all__ = ["bce_with_logits_op", "cross_entropy_op"]


def _class_dim(input: Tensor) -> int:
    """PyTorch's class dimension: 1, or 0 for an unbatched ``(C,)`` input."""
    return 1 if input.dim() >= 2 else 0


def _batch_shape(input: Tensor) -> list[int]:
    shape = list(input.shape)
    del shape[_class_dim(input)]
    return shape


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


# ---------------------------------------------------------------------------
# cross-entropy
# ---------------------------------------------------------------------------


@torch.library.custom_op("logloss::cross_entropy", mutates_args=())
def cross_entropy_op(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    z_loss: float,
    softcap: float | None,
    count: float | None,
    need_grad: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """(loss, per-row log-sum-exp, gradient of the loss or an empty tensor)."""
    if input.dtype in HALF_DTYPES and input.dim() == 2 and input.is_contiguous():
        return _cross_entropy_half(
            input, target, weight, ignore_index, reduction, label_smoothing, z_loss, softcap,
            count, need_grad,
        )  # fmt: skip
    z = compute_tensor(input, "input")
    grad = fresh_buffer(z) if need_grad else z.new_empty(0)
    rows = cross_entropy_rows(
        z.numpy(),
        to_numpy(target, "target"),
        axis=_class_dim(input),
        weight=to_numpy(weight, "weight"),
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        z_loss=z_loss,
        softcap=softcap,
        reduction=reduction,
        need_grad=need_grad,
        out=grad.numpy() if need_grad else None,
        count=count,
    )
    if need_grad:
        rows.lay.finish_grad()  # into `grad` (a copy only for a class axis that is not last)
        if grad.dtype != input.dtype:
            grad = grad.to(input.dtype)
    loss = from_numpy(reduce_ce_rows(rows), input.dtype)
    lse = torch.from_numpy(np.asarray(rows.lse).reshape(rows.lay.batch_shape))
    return loss, lse.to(_compute_dtype(input.dtype)), grad


@cross_entropy_op.register_kernel("cuda")
def _(input, target, weight, ignore_index, reduction, label_smoothing, z_loss, softcap, count,
      need_grad):  # fmt: skip
    from ._triton_ops import ce_triton  # Triton is imported only when a CUDA tensor arrives

    return ce_triton(
        input, target, weight, ignore_index, reduction, label_smoothing, z_loss, softcap,
        count, need_grad,
    )  # fmt: skip


def _cross_entropy_half(input, target, weight, ignore_index, reduction, label_smoothing,
                        z_loss, softcap, count, need_grad):  # fmt: skip
    """(N, C) bfloat16/float16 logits read in their own 16 bits by the half kernels (rows
    widened to float32 in cache), the gradient written in the input's dtype."""
    check_cpu(input, "input")
    kind = "bfloat16" if input.dtype == torch.bfloat16 else "float16"
    bits = input.detach().view(torch.int16).numpy().view(np.uint16)
    grad_bits = _buffers.empty(bits.shape, np.uint16) if need_grad else None
    rows = cross_entropy_rows_half(
        bits, to_numpy(target, "target"), kind=kind, weight=to_numpy(weight, "weight"),
        ignore_index=ignore_index, label_smoothing=label_smoothing, z_loss=z_loss,
        softcap=softcap, reduction=reduction, grad_out=grad_bits, count=count,
    )  # fmt: skip
    extra = rows.z_loss * rows.lse * rows.lse if rows.z_loss > 0.0 else None
    value = reduce_rows(
        rows.main, extra, rows.reduction, rows.scale_main, rows.scale_z, (bits.shape[0],),
        np.dtype(np.float32),
    )  # fmt: skip
    grad = input.new_empty(0)
    if need_grad:
        grad = torch.from_numpy(grad_bits.view(np.int16)).view(input.dtype)
    lse = torch.from_numpy(np.asarray(rows.lse, dtype=np.float32))
    return from_numpy(value, input.dtype), lse, grad


@cross_entropy_op.register_fake
def _(input, target, weight, ignore_index, reduction, label_smoothing, z_loss, softcap, count,
      need_grad):  # fmt: skip
    batch = _batch_shape(input)
    loss = input.new_empty(batch if reduction == "none" else [])
    lse = input.new_empty(batch, dtype=_compute_dtype(input.dtype))
    grad = input.new_empty(input.shape) if need_grad else input.new_empty(0)
    return loss, lse, grad


def _ce_setup(ctx, inputs, output) -> None:
    input, reduction, need_grad = inputs[0], inputs[4], inputs[9]
    ctx.set_materialize_grads(False)  # no N×C zeros for the outputs nobody differentiates
    ctx.reduction = reduction
    ctx.class_dim = _class_dim(input)
    # without the forward's gradient (not asked for: no grad mode, or a tracer's probe),
    # backward computes it from the inputs
    ctx.inputs = None if need_grad else inputs
    ctx.save_for_backward(output[2])
    ctx.mark_non_differentiable(output[1], output[2])


def _ce_backward(ctx, grad_loss, grad_lse, grad_grad):
    if grad_loss is None:  # only the non-differentiable outputs were used
        return (None,) * 10
    (grad,) = ctx.saved_tensors
    if ctx.inputs is not None:
        grad = cross_entropy_op(*ctx.inputs[:9], True)[2]
    if ctx.reduction == "none":
        grad_loss = grad_loss.unsqueeze(ctx.class_dim)
    return _scaled(grad, grad_loss), None, None, None, None, None, None, None, None, None


cross_entropy_op.register_autograd(_ce_backward, setup_context=_ce_setup)


# ---------------------------------------------------------------------------
# binary cross-entropy with logits
# ---------------------------------------------------------------------------


@torch.library.custom_op("logloss::binary_cross_entropy_with_logits", mutates_args=())
def bce_with_logits_op(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None,
    pos_weight: Tensor | None,
    reduction: str,
    label_smoothing: float,
    need_grad: bool,
) -> tuple[Tensor, Tensor]:
    """(loss, gradient of the loss or an empty tensor)."""
    x = compute_tensor(input, "input")
    grad = fresh_buffer(x) if need_grad else x.new_empty(0)
    value, g = _bce_with_logits(
        x.numpy(),
        to_numpy(target, "target"),
        weight=to_numpy(weight, "weight"),
        pos_weight=to_numpy(pos_weight, "pos_weight"),
        label_smoothing=label_smoothing,
        reduction=reduction,
        need_grad=need_grad,
        out=grad.numpy() if need_grad else None,
    )
    if need_grad and grad.dtype != input.dtype:
        grad = grad.to(input.dtype)
    return from_numpy(value, input.dtype), grad


@bce_with_logits_op.register_kernel("cuda")
def _(input, target, weight, pos_weight, reduction, label_smoothing, need_grad):
    from ._triton_ops import bce_triton

    return bce_triton(input, target, weight, pos_weight, reduction, label_smoothing, need_grad)


@bce_with_logits_op.register_fake
def _(input, target, weight, pos_weight, reduction, label_smoothing, need_grad):
    loss = input.new_empty(input.shape if reduction == "none" else [])
    grad = input.new_empty(input.shape) if need_grad else input.new_empty(0)
    return loss, grad


def _bce_setup(ctx, inputs, output) -> None:
    ctx.set_materialize_grads(False)
    ctx.inputs = None if inputs[6] else inputs
    ctx.save_for_backward(output[1])
    ctx.mark_non_differentiable(output[1])


def _bce_backward(ctx, grad_loss, grad_grad):
    if grad_loss is None:
        return (None,) * 7
    (grad,) = ctx.saved_tensors
    if ctx.inputs is not None:
        grad = bce_with_logits_op(*ctx.inputs[:6], True)[1]
    return _scaled(grad, grad_loss), None, None, None, None, None, None


bce_with_logits_op.register_autograd(_bce_backward, setup_context=_bce_setup)


def _scaled(grad: Tensor, grad_output: Tensor) -> Tensor:
    """``grad * grad_output``, without touching memory when ``grad_output`` is a scalar 1.

    The stored gradient is returned as is only in eager mode (a compiled backward cannot
    branch on a value); it is never modified in place, so ``retain_graph=True`` and a
    second backward stay correct.
    """
    if (
        type(grad_output) is Tensor  # not a fake/functional tensor of a tracer
        and type(grad) is Tensor
        and grad_output.numel() == 1
        and not torch.compiler.is_compiling()
        and grad_output.dtype == grad.dtype
        and bool(grad_output == 1)
    ):
        return grad
    return grad * grad_output
