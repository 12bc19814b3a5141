r"""``logloss.torch``'s functions: ``torch.nn.functional``'s signatures on logloss's kernels.

Each call computes the loss and its gradient in one fused pass on the CPU (the gradient
only when autograd will need it) and returns a tensor that ``.backward()`` works through.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._bridge import check_cpu
from ._inplace import cross_entropy_inplace
from ._linear_op import linear_cross_entropy_op
from ._ops import bce_with_logits_op, cross_entropy_op

__all__ = ["binary_cross_entropy_with_logits", "cross_entropy", "linear_cross_entropy"]


def _needs_grad(input: Tensor) -> bool:
    """Compute the gradient in the forward pass only when autograd will ask for it."""
    return torch.is_grad_enabled() and input.requires_grad


def _check_tensors(**tensors: object) -> None:
    for name, value in tensors.items():
        optional = name in ("weight", "pos_weight", "linear_bias")
        if not isinstance(value, Tensor) and not (optional and value is None):
            raise TypeError(f"`{name}` must be a torch.Tensor; got {type(value).__name__}")


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    count: float | None = None,
    return_lse: bool = False,
    inplace_backward: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    r"""Softmax cross-entropy of CPU tensors, with its gradient from the same pass.

    ``torch.nn.functional.cross_entropy``'s signature and semantics (classes along
    dimension 1 of ``(N, C, d1, ...)``, or an unbatched ``(C,)`` input; integer labels or
    class probabilities; class weights, ``ignore_index``, label smoothing), plus z-loss and
    soft-capping. Per row, with :math:`\mathrm{LSE}_i = \log \sum_c e^{z_{ic}}`:

    .. math::

        \ell_i = w_{y_i} (\mathrm{LSE}_i - z_{i y_i}) + \zeta\, \mathrm{LSE}_i^2
        \quad (\text{before smoothing})

    Parameters
    ----------
    input : Tensor
        Logits, float32/float64 (float16 and bfloat16 are computed in float32; the loss
        and gradient come back in the input's dtype). CPU memory; NaN or ``+inf`` is a
        ``ValueError`` naming the row.
    target : Tensor
        Class indices (``input``'s shape without dimension 1) or probabilities
        (``input``'s shape).
    weight, ignore_index, reduction, label_smoothing
        As in PyTorch; every argument after `weight` is keyword-only (PyTorch's
        positional order still holds the deprecated ``size_average`` and ``reduce``, so
        a positional call written for it would be misread here: it is a ``TypeError``).
        When every target is ignored the mean is 0 with a zero gradient
        (PyTorch gives NaN).
    z_loss : float, default 0.0
        Coefficient :math:`\zeta` of the :math:`\mathrm{LSE}^2` penalty (PaLM).
    softcap : float, optional
        Replace logits by ``softcap * tanh(logits / softcap)`` first (Gemma 2).
    count : float, optional
        With ``reduction="mean"``: divide the summed loss (and z-loss) by this number of
        counted targets instead of the local one, e.g. the targets of every micro-batch of
        a gradient-accumulation step or of every data-parallel worker, so that the partial
        losses (and their gradients) add up to the global mean.
    return_lse : bool, default False
        Also return each row's log-sum-exp (``input``'s shape without dimension 1, float32
        or float64), detached: for logging the z-loss, distillation or RL.
    inplace_backward : bool, default False
        Write the gradient into `input`'s own memory (as Liger-Kernel does): no N×C
        gradient is allocated. Only for contiguous float32/float64 logits made by an
        operation (not a leaf) that nothing else reads afterwards: the logits' version
        counter is bumped, so an operation that saved them for its backward fails with
        PyTorch's in-place error rather than computing with the gradient. Ignored under
        ``torch.compile`` (the registered operator runs instead).

    Returns
    -------
    Tensor, or (Tensor, Tensor) with `return_lse`

    Examples
    --------
    >>> import torch, logloss.torch as lt
    >>> logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], requires_grad=True)
    >>> loss = lt.cross_entropy(logits, torch.tensor([0, 1]))
    >>> loss.backward()
    >>> round(loss.item(), 4), logits.grad[0].round(decimals=4).tolist()
    (0.3185, [-0.1705, 0.1212, 0.0493])
    """
    _check_tensors(input=input, target=target, weight=weight)
    if inplace_backward and _needs_grad(input) and not torch.compiler.is_compiling():
        if input.device.type != "cuda":
            check_cpu(input, "input")
        loss, lse = cross_entropy_inplace(
            input, target, weight, int(ignore_index), reduction, float(label_smoothing),
            float(z_loss), None if softcap is None else float(softcap),
            None if count is None else float(count),
        )  # fmt: skip
        return (loss, lse) if return_lse else loss
    loss, lse, _ = cross_entropy_op(
        input, target, weight, int(ignore_index), reduction, float(label_smoothing),
        float(z_loss), None if softcap is None else float(softcap),
        None if count is None else float(count), _needs_grad(input),
    )  # fmt: skip
    return (loss, lse) if return_lse else loss


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
    label_smoothing: float = 0.0,
) -> Tensor:
    r"""Sigmoid binary cross-entropy of CPU tensors, with its gradient from the same pass.

    ``torch.nn.functional.binary_cross_entropy_with_logits``'s signature and semantics
    (element weights and ``pos_weight`` broadcast to `input`) plus label smoothing
    towards 1/2, :math:`y' = y (1 - \varepsilon) + \varepsilon / 2`:

    .. math::

        \ell = w \left[ p_w\, y' \operatorname{softplus}(-x)
               + (1 - y') \operatorname{softplus}(x) \right]

    Examples
    --------
    >>> import torch, logloss.torch as lt
    >>> x = torch.tensor([2.0, -1.0, 0.5], requires_grad=True)
    >>> loss = lt.binary_cross_entropy_with_logits(x, torch.tensor([1.0, 0.0, 1.0]))
    >>> loss.backward()
    >>> round(loss.item(), 4), x.grad.round(decimals=4).tolist()
    (0.3048, [-0.0397, 0.0896, -0.1258])
    """
    _check_tensors(input=input, target=target, weight=weight, pos_weight=pos_weight)
    loss, _ = bce_with_logits_op(
        input, target, weight, pos_weight, reduction, float(label_smoothing), _needs_grad(input)
    )
    return loss


def linear_cross_entropy(
    input: Tensor,
    linear_weight: Tensor,
    target: Tensor,
    *,
    linear_bias: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: str = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    chunk_size: int | None = None,
    count: float | None = None,
) -> Tensor:
    r"""Cross-entropy of the logits ``input @ linear_weight.T + linear_bias``, never held.

    ``torch.nn.functional.linear_cross_entropy``'s signature and semantics
    (``linear_weight`` of shape ``(C, D)`` or ``(C, d1, ..., dK, D)`` for a K-dimensional
    loss, ``linear_bias`` of shape ``(C, d1, ..., dK)``, integer or probability targets),
    plus z-loss, soft-capping, `count` (see :func:`cross_entropy`) and `chunk_size` (rows
    of logits held at once; default: at most 64 MiB and a tenth of the whole). The loss
    and the gradients of `input`, `linear_weight` and `linear_bias` come from one chunked
    pass in the forward:

    .. math::

        \frac{\partial L}{\partial h} = G W,\quad
        \frac{\partial L}{\partial W} = G^\top h,\quad
        \frac{\partial L}{\partial b} = \textstyle\sum_i G_i,
        \qquad G = \partial L / \partial z

    Examples
    --------
    >>> import torch, logloss.torch as lt
    >>> h = torch.randn(6, 4)
    >>> W = torch.randn(5, 4, requires_grad=True)
    >>> y = torch.tensor([0, 1, 2, 3, 4, 0])
    >>> loss = lt.linear_cross_entropy(h, W, y)
    >>> torch.allclose(loss, torch.nn.functional.cross_entropy(h @ W.T, y))
    True
    >>> loss.backward(); W.grad.shape
    torch.Size([5, 4])
    """
    _check_tensors(
        input=input, linear_weight=linear_weight, target=target, linear_bias=linear_bias,
        weight=weight,
    )  # fmt: skip
    need = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (input, linear_weight, linear_bias)
    )
    loss, *_ = linear_cross_entropy_op(
        input, linear_weight, target, linear_bias, weight, reduction, int(ignore_index),
        float(label_smoothing), float(z_loss), None if softcap is None else float(softcap),
        None if chunk_size is None else int(chunk_size), None if count is None else float(count),
        need and reduction != "none",
    )  # fmt: skip
    return loss
