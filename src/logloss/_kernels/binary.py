"""Sigmoid binary cross-entropy entry points: ``bce_logits`` (any shape, elementwise) and
``logistic_loss_grad`` (binary logistic regression fused with its two products).

Arrays positionally, options by keyword (PyTorch's names); routed by ``dispatch``.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_in_unit_interval, fmt_value
from ._portable import bce_logits as _bce_logits_portable
from .dispatch import kernels, matvec_route, route, set_path
from .matvec import RMATVEC_PARTS

__all__ = ["bce_logits", "logistic_loss_grad"]

_BCE_BLOCK = 8192  # elements per parallel block of bce_logits
_MAX_PERIOD = 1 << 20  # longer weight periods are materialised full-size


def bce_logits(
    x: np.ndarray,
    y: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    pos_weight: np.ndarray | None = None,
    smoothing: float = 0.0,
    scale: float = 1.0,
    grad_out: np.ndarray | None = None,
    name: str = "logits",
    reduce: bool = False,
    check_target: bool = False,
) -> np.ndarray:
    """Elementwise sigmoid BCE on logits and its gradient; `weight`, `pos_weight` broadcast to `x`.

    Same arguments, results and errors as ``_portable.bce_logits_xp`` (which see), with
    `grad_out` for its `need_grad`, and:

    - ``reduce=True``: return a 1-D float64 array whose sum is ``sum(scale * loss)``
      (per-block partial sums on the numba path: the per-element losses are never
      stored) instead of the per-element losses;
    - ``check_target=True``: targets outside [0, 1] (or NaN) raise the validation
      layer's error; the numba path finds them in its own pass over `y`.

    >>> import numpy as np
    >>> bce_logits(np.array([0.0, 0.0]), np.array([1.0, 0.0])).round(4)   # log 2 each
    array([0.6931, 0.6931])
    """
    mode = route(x, grad_out, None)
    if mode is not None and (not isinstance(y, np.ndarray) or y.shape != x.shape):
        mode = None
    if mode is not None and grad_out is not None and mode != "none":
        shared = [a for a in (y, weight, pos_weight) if isinstance(a, np.ndarray)]
        if any(np.may_share_memory(a, grad_out) for a in shared):
            mode = None
    if mode is None:
        set_path("portable")
        if check_target:
            check_in_unit_interval(y, "target")
        loss = _bce_logits_portable(
            x, y, weight=weight, pos_weight=pos_weight, smoothing=smoothing, scale=scale,
            grad_out=grad_out, name=name,
        )  # fmt: skip
        return loss.reshape(-1) * scale if reduce else loss
    set_path("numba")
    dt = x.dtype.type
    n = x.size
    xf = x.reshape(-1)
    yf = np.ascontiguousarray(y, dtype=x.dtype).reshape(-1)
    (wa, w_full), (pwa, pw_full), block = _block_operands(weight, pos_weight, x.shape, x.dtype)
    if mode == "none":
        g, write, in_place = np.empty(1, x.dtype), False, False
    else:
        g, write, in_place = grad_out.reshape(-1), True, mode == "inplace"
    n_blocks = -(-n // block)
    loss = np.empty(n_blocks if reduce else n, np.float64)
    bad = np.zeros(n_blocks, np.int8)
    # y' = y keep + half = y (1 - eps) + eps / 2
    keep = dt(1.0 - smoothing) if smoothing > 0.0 else dt(1.0)
    half = dt(0.5 * smoothing) if smoothing > 0.0 else dt(0.0)
    kernels("bce").bce_kernel(
        xf, yf, wa, w_full, pwa, pw_full, keep, half, dt(scale), g, write, in_place, loss,
        reduce, float(scale), block, bad,
    )  # fmt: skip
    if bad.any():
        if check_target and (bad & 2).any():
            check_in_unit_interval(y, "target")  # raises, naming the first bad target
        # in place, the bad value was kept in the gradient's slot
        _raise_nonfinite(g if in_place else xf, bad, block, x.shape, x.dtype, name)
    return loss if reduce else loss.reshape(x.shape)


def _elementwise_operand(
    a: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype
) -> tuple[np.ndarray | None, int]:
    """`a` (broadcastable to `shape`) as (flat array, period): period 0 means full-size
    (indexed like the flat logits); p > 0 means a[i] = flat[i % p]; None for ones."""
    if a is None:
        return None, 1
    a = np.asarray(a, dtype=dtype)
    if a.shape == shape:
        return np.ascontiguousarray(a).reshape(-1), 0
    # drop leading 1s: what remains must equal the trailing dims of `shape` to repeat
    dims = a.shape
    while dims and dims[0] == 1:
        dims = dims[1:]
    if len(dims) <= len(shape) and dims == shape[len(shape) - len(dims) :]:
        return np.ascontiguousarray(a).reshape(-1), max(1, math.prod(dims))
    return np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1), 0


def _block_operands(weight, pos_weight, shape, dtype):
    """((w, w_full), (pw, pw_full), block) for ``bce_kernel``.

    Each weight comes full-size (``*_full``) or as one tile of the block length that
    repeats with a period dividing it (the block length is a multiple of every period).
    """
    ops = [_elementwise_operand(a, shape, dtype) for a in (weight, pos_weight)]
    periods = [p for _, p in ops if p > 0]
    period = math.lcm(*periods) if periods else 1
    if period > _MAX_PERIOD:
        ops = [
            (np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1), 0)
            if a is not None and p > 0
            else (arr, p)
            for (arr, p), a in zip(ops, (weight, pos_weight), strict=True)
        ]
        period = 1
    block = period * max(1, -(-_BCE_BLOCK // period))
    prepared = []
    for arr, p in ops:
        if arr is None:
            prepared.append((np.ones(block, dtype), False))
        elif p == 0:
            prepared.append((arr, True))
        else:
            prepared.append((np.tile(arr, block // p), False))
    return prepared[0], prepared[1], block


def _raise_nonfinite(xs, bad, block, shape, dtype, name):
    """The kernel flagged a non-finite loss (bit 1 of `bad`): name the first bad logit.

    A finite target is assumed there (a NaN target is outside [0, 1], checked before). If
    every logit is finite, finite weights overflowed the loss.
    """
    for b in np.flatnonzero(bad & 1):
        b0 = int(b) * block
        part = xs[b0 : b0 + block]
        hit = ~np.isfinite(part)
        if hit.any():
            first = b0 + int(np.argmax(hit))
            where = tuple(int(i) for i in np.unravel_index(first, shape))
            raise ValueError(
                f"`{name}` must be finite; got {fmt_value(xs[first])} at index {where}"
            )
    if (bad & 1).any():
        raise ValueError(
            f"the loss of finite `{name}` overflows {dtype}: `weight` or `pos_weight` "
            "is too large for this dtype"
        )


def logistic_loss_grad(
    X: np.ndarray,
    y: np.ndarray,
    s: np.ndarray | None,
    w: np.ndarray,
    b: float,
    scale: float,
    need_grad: bool = True,
) -> tuple[float, np.ndarray | None, float] | None:
    """Binary logistic regression's loss and gradient in one pass over X (``_numba_logistic``).

    Returns ``(sum_i s_i l_i, sum_i s_i g_i x_i, sum_i s_i g_i)`` (float64; the gradient
    None without `need_grad`) where ``l_i = BCE(x_i . w + b, y_i)``, ``g_i`` its derivative
    in z and ``s_i`` = ``s[i]``, or `scale` when `s` is None. Returns None when the fused
    kernel does not apply (not a large C-contiguous float32/float64 X, numba disabled or
    missing) or when the loss is not finite: the caller then takes the unfused path, which
    reports non-finite logits with its usual error.
    """
    if not (
        matvec_route(X, w)
        and isinstance(y, np.ndarray)
        and y.dtype == X.dtype
        and y.shape == (X.shape[0],)
        and (s is None or (isinstance(s, np.ndarray) and s.dtype == X.dtype))
    ):
        return None
    set_path("numba")
    yy = np.ascontiguousarray(y)
    ss = np.ascontiguousarray(s) if s is not None else np.empty(1, X.dtype)
    loss = np.empty(RMATVEC_PARTS)
    gw = np.empty((RMATVEC_PARTS, X.shape[1]))
    gb = np.empty(RMATVEC_PARTS)
    kernels("logistic").logistic_kernel(
        X, yy, ss, s is not None, w, float(b), float(scale), need_grad, loss, gw, gb
    )
    total = float(loss.sum())
    if not np.isfinite(total):
        return None
    if not need_grad:
        return total, None, 0.0
    return total, gw.sum(axis=0), float(gb.sum())
