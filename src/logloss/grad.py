"""``value_and_grad``: a loss together with its analytic gradient, from one pass.

Each loss registers the private routine that computes its value and gradient
together (no finite differences, no autodiff). ``value_and_grad(fn)`` looks it up.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Sequence
from typing import Any

# fn -> (routine(arguments, argnums, outs) -> (value, grads), allowed argnums, fn's signature);
# `arguments` maps every parameter of fn to its value in the call (defaults filled in);
# `outs` and `grads` are tuples aligned with the requested argnums.
_REGISTRY: dict[Callable, tuple[Callable, tuple[int, ...], inspect.Signature]] = {}


def register_gradient(fn: Callable, routine: Callable, argnums: tuple[int, ...] = (0,)) -> None:
    """Register `routine` as the fused value-and-gradient of public function `fn`.

    ``routine(arguments, argnums, outs)`` receives the call's arguments bound to `fn`'s
    signature, so the defaults are written once, in `fn`'s signature.
    """
    _REGISTRY[fn] = (routine, argnums, inspect.signature(fn))


def register_twin(fn: Callable, twin: Callable) -> None:
    """Register the private twin of a loss differentiable in its first argument only.

    ``twin(**arguments, need_grad=True, out=out)`` returns ``(value, gradient)``: the same
    computation as ``fn``, which returns ``twin(**arguments)[0]`` without the gradient.
    """

    def routine(arguments, argnums, outs):
        value, grad = twin(**arguments, need_grad=True, out=outs[0])
        return value, (grad,)

    register_gradient(fn, routine)


def _bind(fn: Callable, signature: inspect.Signature, args: tuple, kwargs: dict) -> dict:
    """Every parameter of `fn` by name, as a call ``fn(*args, **kwargs)`` would see it."""
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as err:
        raise TypeError(f"{fn.__name__}() {err}") from None
    bound.apply_defaults()
    return bound.arguments


def _normalise_argnums(argnums: Any, allowed: tuple[int, ...], fn_name: str) -> tuple[int, ...]:
    if isinstance(argnums, bool):
        raise TypeError(f"`argnums` must be an int or a tuple of ints; got {argnums!r}")
    if isinstance(argnums, numbers.Integral):
        nums = (int(argnums),)
    elif isinstance(argnums, Sequence) and all(
        isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in argnums
    ):
        nums = tuple(int(a) for a in argnums)
        if not nums:
            raise ValueError("`argnums` must name at least one argument; got ()")
    else:
        raise TypeError(f"`argnums` must be an int or a tuple of ints; got {argnums!r}")
    bad = [a for a in nums if a not in allowed]
    if bad:
        raise ValueError(
            f"`argnums` {bad[0]} is not differentiable for {fn_name}; "
            f"gradients are available for positional argument(s) {allowed}"
        )
    return nums


def value_and_grad(fn: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """Turn a logloss loss into a function returning ``(value, gradient)``.

    The gradient is analytic and computed in the same pass over memory as the value.
    For ``reduction="mean"`` (or ``"sum"``) it is the gradient of that scalar; for
    ``reduction="none"`` it is the gradient of the sum of the per-element losses
    (what ``jax.grad(lambda x: fn(x).sum())`` would give).

    .. math:: \\frac{\\partial}{\\partial z_{ic}} \\operatorname{CE} = p_{ic} - t_{ic}
              \\quad \\text{(per row, before weights and normalisation)}

    Parameters
    ----------
    fn : callable
        One of logloss's losses: ``cross_entropy``, ``nll_loss``, ``binary_cross_entropy``,
        ``binary_cross_entropy_with_logits``, ``sigmoid_focal_loss``, ``softmax_focal_loss``,
        ``linear_cross_entropy``. Any other callable is a ``TypeError``.
    argnums : int or tuple of int, default 0
        Which positional argument(s) to differentiate. Losses are differentiable in their
        first argument (the logits or probabilities); ``linear_cross_entropy`` in
        ``(0, 1)`` and, via the `bias` keyword, ``2``.

    Returns
    -------
    callable
        ``f(*args, out=None, **kwargs) -> (value, grad)``; `grad` is an array when `argnums`
        is an int and a tuple when it is a tuple. `out` (an array, or a tuple matching
        `argnums`) receives the gradient and may be the input itself, which is then
        overwritten (no extra memory).

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> logits = np.array([[2.0, 1.0, 0.1]])
    >>> loss, grad = ll.value_and_grad(ll.cross_entropy)(logits, np.array([0]))
    >>> grad.round(4)   # softmax(logits) - onehot(0)
    array([[-0.341 ,  0.2424,  0.0986]])
    """
    entry = _REGISTRY.get(fn)
    if entry is None:
        name = getattr(fn, "__qualname__", type(fn).__name__)
        known = ", ".join(sorted(f.__name__ for f in _REGISTRY))
        raise TypeError(f"`fn` {name} has no registered gradient; value_and_grad supports: {known}")
    routine, allowed, signature = entry
    nums = _normalise_argnums(argnums, allowed, fn.__name__)
    single = isinstance(argnums, numbers.Integral)

    def value_and_grad_fn(*args: Any, out: Any = None, **kwargs: Any):
        arguments = _bind(fn, signature, args, kwargs)
        if single:
            value, grads = routine(arguments, nums, (out,))
            return value, grads[0]
        if out is None:
            out = (None,) * len(nums)
        elif not isinstance(out, tuple) or len(out) != len(nums):
            raise TypeError(
                f"`out` must be a tuple of {len(nums)} arrays (or None) matching argnums={nums}"
            )
        return routine(arguments, nums, out)

    value_and_grad_fn.__name__ = f"value_and_grad_{fn.__name__}"
    value_and_grad_fn.__doc__ = f"Value and gradient of logloss.{fn.__name__}; see its docstring."
    return value_and_grad_fn
