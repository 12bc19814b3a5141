"""Cross-entropy whose gradient overwrites the logits' own memory (opt-in, eager only).

The N×C gradient is as large as the logits; writing it where the logits were (as
Liger-Kernel does) saves that allocation and its page faults. It is safe only when
nothing else will read the logits again, so the logits' version counter is bumped: any
other operation that saved them for its backward then fails with PyTorch's own error
("... modified by an inplace operation") instead of computing with a gradient in place of
the logits.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..losses.softmax import cross_entropy_rows, reduce_ce_rows
from ._bridge import from_numpy, to_numpy
from ._ops import _class_dim, _scaled

__all__ = ["cross_entropy_inplace"]


class _InplaceCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, smoothing, z_loss,
                softcap, count):  # fmt: skip
        z = input.detach()
        if z.device.type == "cuda":  # the Triton kernel writes over the logits
            from ._triton_ops import ce_triton

            loss, lse, _ = ce_triton(
                input, target, weight, ignore_index, reduction, smoothing, z_loss, softcap,
                count, True, inplace=True,
            )  # fmt: skip
            return _InplaceCrossEntropy._finish(ctx, input, z, loss, lse, reduction)
        rows = cross_entropy_rows(
            z.numpy(), to_numpy(target, "target"), axis=_class_dim(input),
            weight=to_numpy(weight, "weight"), ignore_index=ignore_index,
            label_smoothing=smoothing, z_loss=z_loss, softcap=softcap, reduction=reduction,
            need_grad=True, out=z.numpy(), count=count,
        )  # fmt: skip
        rows.lay.finish_grad()  # into the logits' memory
        loss = from_numpy(reduce_ce_rows(rows), input.dtype)
        lse = torch.from_numpy(rows.lse.reshape(rows.lay.batch_shape))
        return _InplaceCrossEntropy._finish(ctx, input, z, loss, lse, reduction)

    @staticmethod
    def _finish(ctx, input, z, loss, lse, reduction):
        torch.autograd.graph.increment_version(input)  # others who saved the logits now fail
        ctx.set_materialize_grads(False)
        ctx.reduction, ctx.class_dim = reduction, _class_dim(input)
        ctx.save_for_backward(z)  # saved after the bump: this backward may read it
        ctx.mark_non_differentiable(lse)
        return loss, lse

    @staticmethod
    def backward(ctx, grad_loss, grad_lse):
        if grad_loss is None:
            return (None,) * 9
        (grad,) = ctx.saved_tensors
        if ctx.reduction == "none":
            grad_loss = grad_loss.unsqueeze(ctx.class_dim)
        return _scaled(grad, grad_loss), None, None, None, None, None, None, None, None


def cross_entropy_inplace(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                          reduction: str, smoothing: float, z_loss: float, softcap: float | None,
                          count: float | None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """(loss, lse) with the gradient written into `input`'s memory; see the module doc."""
    if input.is_leaf:
        raise ValueError(
            "`inplace_backward=True` overwrites the logits with their gradient; `input` must "
            "be computed by an operation (e.g. a linear layer), not a leaf tensor"
        )
    cpu_dtypes = (torch.float32, torch.float64)
    if (input.device.type != "cuda" and input.dtype not in cpu_dtypes) or not input.is_contiguous():
        raise ValueError(
            "`inplace_backward=True` needs contiguous float32 or float64 logits (any float "
            "dtype on the GPU); got a "
            f"{'non-contiguous ' if not input.is_contiguous() else ''}{input.dtype} tensor"
        )
    return _InplaceCrossEntropy.apply(
        input, target, weight, ignore_index, reduction, smoothing, z_loss, softcap, count
    )
