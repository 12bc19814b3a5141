"""``torch.nn`` modules over :mod:`logloss.torch.functional`, as ``torch.nn``'s own."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .functional import binary_cross_entropy_with_logits, cross_entropy, linear_cross_entropy

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "LinearCrossEntropyLoss"]


class CrossEntropyLoss(torch.nn.Module):
    """:func:`logloss.torch.cross_entropy` as a module (``torch.nn.CrossEntropyLoss``'s
    arguments, plus `z_loss`, `softcap` and `return_lse`; `count` is passed per call).

    Examples
    --------
    >>> import torch, logloss.torch as lt
    >>> criterion = lt.CrossEntropyLoss(label_smoothing=0.1)
    >>> round(criterion(torch.zeros(2, 3), torch.tensor([0, 2])).item(), 4)   # log 3
    1.0986
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
        z_loss: float = 0.0,
        softcap: float | None = None,
        return_lse: bool = False,
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.label_smoothing = label_smoothing
        self.z_loss = z_loss
        self.softcap = softcap
        self.return_lse = return_lse

    def forward(self, input: Tensor, target: Tensor, *, count: float | None = None):
        return cross_entropy(
            input, target, self.weight, ignore_index=self.ignore_index,
            reduction=self.reduction, label_smoothing=self.label_smoothing,
            z_loss=self.z_loss, softcap=self.softcap, count=count, return_lse=self.return_lse,
        )  # fmt: skip


class BCEWithLogitsLoss(torch.nn.Module):
    """:func:`logloss.torch.binary_cross_entropy_with_logits` as a module.

    Examples
    --------
    >>> import torch, logloss.torch as lt
    >>> round(lt.BCEWithLogitsLoss()(torch.zeros(4), torch.ones(4)).item(), 4)   # log 2
    0.6931
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        *,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = reduction
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight,
            label_smoothing=self.label_smoothing,
        )  # fmt: skip


class LinearCrossEntropyLoss(torch.nn.Module):
    """A classifier head and its loss in one: ``torch.nn.LinearCrossEntropyLoss``'s
    arguments and layout (an ``nn.Linear`` named ``linear`` of ``num_classes *
    prod(out_features)`` outputs, the class weights in the buffer ``weight``), computed
    by :func:`logloss.torch.linear_cross_entropy` without holding the logits.

    Examples
    --------
    >>> import torch, logloss.torch as lt
    >>> head = lt.LinearCrossEntropyLoss(4, 3, bias=True)
    >>> loss = head(torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1]))
    >>> loss.backward(); head.linear.weight.grad.shape
    torch.Size([3, 4])
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        out_features: tuple[int, ...] = (),
        bias: bool = False,
        device=None,
        dtype=None,
        reduction: str = "mean",
        weight: Tensor | None = None,
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        z_loss: float = 0.0,
        softcap: float | None = None,
        chunk_size: int | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.num_classes = in_features, num_classes
        self.out_features = tuple(out_features)
        outputs = num_classes * math.prod(self.out_features)
        self.linear = torch.nn.Linear(in_features, outputs, bias=bias, device=device, dtype=dtype)
        self.register_buffer("weight", weight)
        self.reduction = reduction
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.z_loss = z_loss
        self.softcap = softcap
        self.chunk_size = chunk_size

    def forward(self, input: Tensor, target: Tensor, *, count: float | None = None) -> Tensor:
        shape = (self.num_classes, *self.out_features)
        bias = self.linear.bias
        return linear_cross_entropy(
            input, self.linear.weight.reshape(*shape, self.in_features), target,
            linear_bias=None if bias is None else bias.reshape(shape), weight=self.weight,
            reduction=self.reduction, ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing, z_loss=self.z_loss, softcap=self.softcap,
            chunk_size=self.chunk_size, count=count,
        )  # fmt: skip
