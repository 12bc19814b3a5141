"""``torch.nn`` modules over :mod:`logloss.torch.functional`, as ``torch.nn``'s own."""

from __future__ import annotations

import torch
from torch import Tensor

from .functional import binary_cross_entropy_with_logits, cross_entropy

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss"]


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
