"""logloss's fused cross-entropy inside PyTorch training (``pip install torch``).

Drop-in for ``torch.nn.functional``'s losses on CPU tensors: the forward pass computes
the loss and its gradient together with logloss's numba kernels, on the tensors' own
memory; ``backward`` hands that gradient over (scaled by ``grad_output`` when it is not 1).
The operators are registered with ``torch.library`` (``torch.ops.logloss.*``), so
``torch.compile(fullgraph=True)`` traces each loss as one operator.

>>> import torch, logloss.torch as lt
>>> logits = torch.randn(8, 5, requires_grad=True)
>>> lt.cross_entropy(logits, torch.randint(0, 5, (8,))).backward()
>>> logits.grad.shape
torch.Size([8, 5])
"""

from __future__ import annotations

from .functional import binary_cross_entropy_with_logits, cross_entropy, linear_cross_entropy
from .modules import BCEWithLogitsLoss, CrossEntropyLoss, LinearCrossEntropyLoss

__all__ = [
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "LinearCrossEntropyLoss",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "linear_cross_entropy",
]
