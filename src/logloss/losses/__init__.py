"""The public loss functions: cross-entropy and its relatives, each with its gradient.

- ``_layout``: the class-axis layout, the kind of target, reductions and their scales;
- ``softmax``: :func:`cross_entropy`, :func:`nll_loss`, :func:`softmax_focal_loss`;
- ``binary``: :func:`binary_cross_entropy`, :func:`binary_cross_entropy_with_logits`,
  :func:`sigmoid_focal_loss`;
- ``linear``: :func:`linear_cross_entropy`, the cross-entropy of a linear layer's logits
  computed chunk by chunk (its input checks in ``_linear_inputs``).

Every loss validates its input (``logloss._validation``), reshapes it to the
canonical ``(rows, classes)`` layout, and calls one fused routine of
``logloss._kernels`` that computes the per-row loss and, when asked, the gradient
with respect to the logits in the same pass. ``logloss.value_and_grad`` gives access
to the gradients; the public functions compute values only.

Semantics follow ``torch.nn.functional`` where names match, with one deliberate
difference: a mean over zero counted rows (all targets ignored, or all weights zero)
is 0 with a zero gradient, where PyTorch returns NaN.

Array namespaces: NumPy inputs run the fused kernels of ``logloss._kernels``; an array
of any other Array API namespace (PyTorch, CuPy, JAX, array-api-strict) runs the
portable path (``_kernels._portable``, ``*_xp`` functions) with that namespace's
operations, and values and gradients come back in that namespace on the input's device.
The first array argument decides; targets and weights are converted to it. ``out=``
(in-place gradients) is NumPy-only. ``linear_cross_entropy`` is NumPy-only.
"""

from __future__ import annotations

from .binary import binary_cross_entropy, binary_cross_entropy_with_logits, sigmoid_focal_loss
from .linear import linear_cross_entropy
from .softmax import cross_entropy, nll_loss, softmax_focal_loss

__all__ = [
    "cross_entropy",
    "nll_loss",
    "softmax_focal_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "sigmoid_focal_loss",
    "linear_cross_entropy",
]
