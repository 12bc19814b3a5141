"""The CUDA implementations of ``torch.ops.logloss.*``: Triton kernels plus the host logic.

Registered as the ``"cuda"`` kernels of the operators in ``_ops.py`` and
``_linear_op.py`` (same schema, fake kernel and autograd formula), so a CUDA tensor takes
these and a CPU tensor the numba kernels. Each function also runs on CPU tensors under
Triton's interpreter (``TRITON_INTERPRET=1``), which is how the tests check them on a
machine without a GPU. Options are checked as on the CPU path (the same messages); the
mean's scales are computed on the device and read once.
"""

from __future__ import annotations

import torch
import triton
from torch import Tensor

from .._validation import (
    check_label_smoothing,
    check_labels,
    check_probability_ignore_index,
    check_reduction,
)
from ..losses._layout import label_scales
from ..losses.softmax import check_ce_options
from ._triton_kernels import bce_kernel, ce_kernel

__all__ = ["bce_triton", "ce_triton", "linear_ce_triton"]

_MAX_BLOCK = 4096  # classes per step of a row program
_BCE_BLOCK = 1024


def _acc(dtype: torch.dtype):
    import triton.language as tl

    return tl.float64 if dtype == torch.float64 else tl.float32


def _params(dtype: torch.dtype, device, *values: float) -> Tensor:
    """The kernels' float options as one small array of the accumulation dtype."""
    return torch.tensor(values, dtype=dtype, device=device)


def _rows(input: Tensor, class_dim: int) -> Tensor:
    """The logits as (rows, C) with unit stride along the classes."""
    z = input.detach().movedim(class_dim, -1) if input.dim() >= 2 else input.detach()[None]
    return z.reshape(-1, z.shape[-1]).contiguous()


def _valid_labels(t: Tensor, c: int, ignore_index: int) -> Tensor:
    """The rows' validity mask, after the labels pass the shared check (any namespace)."""
    check_labels(t, tuple(t.shape), c, ignore_index, "target")
    return t != ignore_index


def _scales(t, w, ignore_index, probs, n, reduction, count) -> tuple[float, float]:
    """(loss scale, z-loss scale) of the whole batch: the CPU path's rules."""
    if count is not None:
        return 1.0 / count, 1.0 / count
    if reduction != "mean":
        return 1.0, 1.0
    if probs:
        return (1.0 / n, 1.0 / n) if n else (1.0, 1.0)
    return label_scales(t, w, ignore_index, reduction)


def ce_rows(z2, t, w, probs, ignore_index, smoothing, z_loss, softcap, scale_main, scale_z,
            grad: Tensor | None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Run ``ce_kernel`` on (N, C) logits: (per-row loss without the z-loss term, lse);
    the gradient of ``scale_main * sum(loss) + scale_z * z_loss * sum(lse^2)`` into
    `grad` (which may be `z2` itself)."""
    n, c = z2.shape
    acc = torch.float64 if z2.dtype == torch.float64 else torch.float32
    loss = torch.empty(n, dtype=acc, device=z2.device)
    lse = torch.empty(n, dtype=acc, device=z2.device)
    block = min(_MAX_BLOCK, triton.next_power_of_2(max(c, 1)))
    if n:
        ce_kernel[(n,)](
            z2, z2.stride(0), t, t.stride(0) if probs else 1, w if w is not None else z2,
            grad if grad is not None else z2, grad.stride(0) if grad is not None else 0,
            loss, lse, c, ignore_index,
            _params(acc, z2.device, smoothing, 1.0 if softcap is None else softcap, z_loss,
                    scale_main, scale_z),
            PROBS=probs, HAS_W=w is not None,
            HAS_CAP=softcap is not None, WRITE_GRAD=grad is not None, BLOCK=block,
            ACC=_acc(z2.dtype),
        )  # fmt: skip
    return loss, lse


def ce_triton(input, target, weight, ignore_index, reduction, label_smoothing, z_loss, softcap,
              count, need_grad, inplace=False):  # fmt: skip
    """``logloss::cross_entropy`` on a CUDA tensor: (loss, lse, gradient or empty).

    `inplace` (contiguous (N, C) logits only) writes the gradient over the logits' memory
    and returns a view of it as the gradient."""
    reduction, ignore_index, eps, z_loss, softcap, count = check_ce_options(
        reduction, ignore_index, label_smoothing, z_loss, softcap, count
    )
    cd = 1 if input.dim() >= 2 else 0
    c = input.shape[cd]
    batch = list(input.shape)
    del batch[cd]
    z2 = _rows(input, cd)
    probs = target.is_floating_point() and tuple(target.shape) == tuple(input.shape)
    if probs:
        check_probability_ignore_index(ignore_index)
        t = _rows(target, cd)
        if bool(((t < 0) | (t > 1) | t.isnan()).any()):
            raise ValueError("`target` probabilities must be in [0, 1]")
    else:
        t = target.reshape(-1).to(torch.int64).contiguous()
        if t.numel() != z2.shape[0]:
            raise ValueError(
                f"`target` must have shape {tuple(batch)} (the logits' shape without the "
                f"class dimension); got {tuple(target.shape)}"
            )
    w = None
    if weight is not None:
        if tuple(weight.shape) != (c,):
            raise ValueError(f"`weight` must have shape ({c},); got {tuple(weight.shape)}")
        w = weight.to(z2.dtype if z2.dtype == torch.float64 else torch.float32).contiguous()
    n = z2.shape[0]
    if probs:
        valid = torch.ones(n, dtype=torch.bool, device=z2.device)
    else:
        valid = _valid_labels(t, c, ignore_index)
    sm, sz = _scales(t, w, ignore_index, probs, n, reduction, count)
    if inplace and not (input.dim() == 2 and input.is_contiguous()):
        raise ValueError("`inplace_backward=True` needs contiguous (N, C) logits on the GPU")
    grad = (z2 if inplace else torch.empty_like(z2)) if need_grad else None
    rows, lse = ce_rows(z2, t, w, probs, ignore_index, eps, z_loss, softcap, sm, sz, grad)
    zl = z_loss * lse * lse * valid if z_loss > 0 else None
    if reduction == "none":
        value = (rows if zl is None else rows + zl).reshape(batch)
    else:
        value = rows.sum() * sm + (0.0 if zl is None else zl.sum() * sz)
    out_grad = input.new_empty(0)
    if need_grad:
        if input.dim() >= 2:
            shaped = grad.reshape(*[s for i, s in enumerate(input.shape) if i != cd], c)
            out_grad = shaped.movedim(-1, cd).contiguous()
        else:
            out_grad = grad.reshape(input.shape)
    return value.to(input.dtype), lse.reshape(batch).to(_lse_dtype(input)), out_grad


def _lse_dtype(input: Tensor) -> torch.dtype:
    return torch.float64 if input.dtype == torch.float64 else torch.float32


def bce_triton(input, target, weight, pos_weight, reduction, label_smoothing, need_grad):
    """``logloss::binary_cross_entropy_with_logits`` on a CUDA tensor: (loss, gradient)."""
    reduction = check_reduction(reduction)
    eps = check_label_smoothing(label_smoothing)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"`target` must have the logits' shape {tuple(input.shape)}; got {tuple(target.shape)}"
        )
    x = input.detach().contiguous().reshape(-1)
    t = target.detach().to(x.dtype).contiguous().reshape(-1)
    if bool(((t < 0) | (t > 1) | t.isnan()).any()):
        raise ValueError("`target` must be in [0, 1]")
    n = x.numel()
    full = [
        None if a is None else a.detach().to(x.dtype).expand(input.shape).contiguous().reshape(-1)
        for a in (weight, pos_weight)
    ]
    scale = 1.0 / n if reduction == "mean" and n else 1.0
    acc = torch.float64 if x.dtype == torch.float64 else torch.float32
    loss = torch.empty(n, dtype=acc, device=x.device)
    grad = torch.empty_like(x) if need_grad else None
    if n:
        bce_kernel[(triton.cdiv(n, _BCE_BLOCK),)](
            x, t, full[0] if full[0] is not None else x, full[1] if full[1] is not None else x,
            grad if grad is not None else x, loss, n, _params(acc, x.device, eps, scale),
            HAS_W=full[0] is not None,
            HAS_PW=full[1] is not None, WRITE_GRAD=need_grad, BLOCK=_BCE_BLOCK,
            ACC=_acc(x.dtype),
        )  # fmt: skip
    if reduction == "none":
        value = loss.reshape(input.shape)
    else:
        value = loss.sum() * scale
    g = grad.reshape(input.shape) if need_grad else input.new_empty(0)
    return value.to(input.dtype), g


def linear_ce_triton(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
                     label_smoothing, z_loss, softcap, chunk_size, count, need_grads):  # fmt: skip
    """``logloss::linear_cross_entropy`` on CUDA tensors, one chunk of rows at a time: the
    chunk's logits ``h W^T + b`` (cuBLAS), the Triton pass that turns them into
    ``G = dL/dz`` in place, then ``G W``, ``G^T h`` and ``sum G``. The full N×V logits are
    never held; the chunk's are (``chunk_size`` rows, default 4096 / V-scaled)."""
    reduction, ignore_index, eps, z_loss, softcap, count = check_ce_options(
        reduction, ignore_index, label_smoothing, z_loss, softcap, count
    )
    if linear_weight.dim() != 2:
        raise ValueError(
            "an N-dimensional `linear_weight` is supported on the CPU path only; got shape "
            f"{tuple(linear_weight.shape)}"
        )
    batched = input.dim() == 2
    h = input.detach() if batched else input.detach()[None]
    W = linear_weight.detach()
    b = None if linear_bias is None else linear_bias.detach()
    n, c = h.shape[0], W.shape[0]
    tgt = target if batched else target[None]
    probs = tgt.is_floating_point() and tuple(tgt.shape) == (n, c)
    t_all = tgt.contiguous() if probs else tgt.reshape(-1).to(torch.int64).contiguous()
    acc = torch.float64 if h.dtype == torch.float64 else torch.float32
    w = None if weight is None else weight.to(acc).contiguous()
    if probs:
        valid_all = torch.ones(n, dtype=torch.bool, device=h.device)
    else:
        valid_all = _valid_labels(t_all, c, ignore_index)
    # the whole mean's scales, from every row; each chunk's gradient uses them as given
    sm, sz = _scales(t_all, w, ignore_index, probs, n, reduction, count)
    rows = chunk_size or max(1, min(n, (64 << 20) // max(1, 4 * c)))
    gh = torch.empty_like(h) if need_grads else None
    gW = torch.zeros(W.shape, dtype=acc, device=h.device) if need_grads else None
    gb = torch.zeros(c, dtype=acc, device=h.device) if need_grads and b is not None else None
    losses, lses = [], []
    for start in range(0, n, rows):
        hc = h[start : start + rows]
        z = (hc @ W.T if b is None else torch.addmm(b, hc, W.T)).to(acc).contiguous()
        loss, lse = ce_rows(
            z, t_all[start : start + rows], w, probs, ignore_index, eps, z_loss, softcap,
            sm, sz, z if need_grads else None,
        )  # fmt: skip
        losses.append(loss)
        lses.append(lse)
        if need_grads:  # z now holds G = dL/dz of this chunk's rows, in place
            gh[start : start + rows] = (z @ W.to(acc)).to(gh.dtype)
            gW += z.T @ hc.to(acc)
            if gb is not None:
                gb += z.sum(0)
    loss, lse, valid = torch.cat(losses), torch.cat(lses), valid_all
    zl = z_loss * lse * lse * valid
    if reduction == "none":
        value = (loss + zl) if batched else (loss + zl)[0]
    else:
        value = loss.sum() * sm + zl.sum() * sz
    empty = [input.new_empty(0) for _ in range(3)]
    if not need_grads:
        return (value.to(input.dtype), *empty)
    return (
        value.to(input.dtype),
        gh if batched else gh[0],
        gW.to(linear_weight.dtype),
        gb.to(linear_bias.dtype) if gb is not None else empty[2],
    )
