"""Triton kernels for CUDA tensors: softmax cross-entropy and sigmoid BCE, loss and gradient
in one launch (imported only when a CUDA tensor arrives, or by the interpreter tests).

Cross-entropy: one program per row. Pass 1 walks the row in blocks of ``BLOCK`` classes
with an online maximum and sum of exponentials (float32 accumulation for 16- and 32-bit
inputs, float64 for float64), gathering the target's logit and, for label smoothing or
probability targets, the weighted sums the loss needs; pass 2 walks the row again and
writes the gradient (in the input's dtype), into a separate buffer or over the logits
themselves. Per row, with ``z' = softcap * tanh(z / softcap)`` (or ``z``),
``p = softmax(z')`` and ``LSE = log sum e^z'``:

- labels: ``loss = (1-eps) w_y (LSE - z'_y) + eps/C * sum_c w_c (LSE - z'_c)``,
  ``d loss/d z'_c = p_c [(1-eps) w_y + eps/C * sum_k w_k] - (1-eps) w_y [c = y] - eps/C w_c``;
- probabilities ``t' = t (1-eps) + eps/C``: ``loss = sum_c w_c t'_c (LSE - z'_c)``,
  ``d loss/d z'_c = p_c sum_k w_k t'_k - w_c t'_c``;
- z-loss adds ``zeta LSE^2`` and ``2 zeta LSE p_c``; soft-capping multiplies the gradient by
  ``1 - (z'/softcap)^2``.

The loss is formed as ``LSE - z'_y = (log s) - (z'_y - m)``, which cannot cancel (the same
order as the CPU kernels). Rows whose label is ``ignore_index`` get loss 0 and gradient 0.
"""

from __future__ import annotations

import triton
import triton.language as tl

__all__ = ["bce_kernel", "ce_kernel"]


@triton.jit
def _capped(z, cap, HAS_CAP: tl.constexpr):
    if HAS_CAP:
        # cap * tanh(z / cap), written with exp for the interpreter and every backend
        a = z / cap
        e = tl.exp(-2.0 * tl.abs(a))
        t = (1.0 - e) / (1.0 + e)
        z = cap * tl.where(a < 0, -t, t)
    return z


@triton.jit
def ce_kernel(
    z_ptr, z_stride, t_ptr, t_stride, w_ptr, g_ptr, g_stride, loss_ptr, lse_ptr,
    n_classes, ignore_index, p_ptr,
    PROBS: tl.constexpr, HAS_W: tl.constexpr, HAS_CAP: tl.constexpr,
    WRITE_GRAD: tl.constexpr, BLOCK: tl.constexpr, ACC: tl.constexpr,
):  # fmt: skip
    """One row per program: per-row loss (without the z-loss term) and LSE; the gradient of
    ``scale_main * loss + scale_z * z_loss * LSE^2`` when WRITE_GRAD."""
    row = tl.program_id(0).to(tl.int64)
    z_row = z_ptr + row * z_stride
    NEG = float("-inf")
    # the float options come as a small array of the accumulation dtype (a Python float
    # argument would be rounded to float32)
    eps = tl.load(p_ptr + 0)
    cap = tl.load(p_ptr + 1)
    z_loss = tl.load(p_ptr + 2)
    scale_main = tl.load(p_ptr + 3)
    scale_z = tl.load(p_ptr + 4)
    if PROBS:
        y = 0
        valid = True
    else:
        y = tl.load(t_ptr + row * t_stride).to(tl.int32)
        valid = y != ignore_index
    # pass 1: online maximum m, sum of exp(z' - m), and the smoothing/probability sums
    # kept relative to the running maximum (sum_c a_c (z'_c - m)), so that nothing cancels
    m = tl.full([], NEG, ACC)
    s = tl.zeros([], ACC)
    sum_a = tl.zeros([], ACC)  # sum_c a_c, a = w t' (probabilities) or w (labels)
    sum_az = tl.zeros([], ACC)  # sum_c a_c (z'_c - m)
    for start in range(0, n_classes, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        mask = cols < n_classes
        z = _capped(tl.load(z_row + cols, mask=mask, other=NEG).to(ACC), cap, HAS_CAP)
        live = mask & (z > NEG)  # -inf marks a masked class: no probability, no smoothing mass
        new_m = tl.maximum(m, tl.max(z, axis=0))
        # (computed without -inf - -inf, which the interpreter would warn about)
        shift = tl.where(m == NEG, 0.0, new_m - tl.where(m == NEG, 0.0, m))
        s = s * tl.exp(m - new_m) + tl.sum(tl.where(live, tl.exp(z - new_m), 0.0), axis=0)
        if HAS_W:
            a = tl.load(w_ptr + cols, mask=mask, other=0.0).to(ACC)
        else:
            a = tl.full([BLOCK], 1.0, ACC)
        if PROBS:
            t = tl.load(t_ptr + row * t_stride + cols, mask=mask, other=0.0).to(ACC)
            a = a * (t * (1.0 - eps) + eps / n_classes)
        a = tl.where(live, a, 0.0)
        sum_az = sum_az - sum_a * shift + tl.sum(a * tl.where(live, z - new_m, 0.0), axis=0)
        sum_a += tl.sum(a, axis=0)
        m = new_m
    log_s = tl.log(s)
    lse = m + log_s
    # sum_c a_c (LSE - z'_c) = sum_a log_s - sum_c a_c (z'_c - m)
    spread = sum_a * log_s - sum_az
    if PROBS:
        loss = spread
        coef_p = sum_a
        w_y = 0.0
    else:
        y_safe = tl.where(valid, y, 0)
        z_y = _capped(tl.load(z_row + y_safe).to(ACC), cap, HAS_CAP)
        if HAS_W:
            w_y = tl.load(w_ptr + y_safe).to(ACC)
        else:
            w_y = 1.0
        # LSE - z'_y formed as log_s - (z'_y - m): no cancellation when |m| is large
        loss = (1.0 - eps) * w_y * (log_s - (z_y - m)) + (eps / n_classes) * spread
        coef_p = (1.0 - eps) * w_y + (eps / n_classes) * sum_a
        loss = tl.where(valid, loss, 0.0)
    tl.store(loss_ptr + row, loss)
    tl.store(lse_ptr + row, lse)
    if WRITE_GRAD:
        # pass 2: the gradient, written once
        g_row = g_ptr + row * g_stride
        a_p = scale_main * coef_p + scale_z * 2.0 * z_loss * lse
        for start in range(0, n_classes, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            mask = cols < n_classes
            z = _capped(tl.load(z_row + cols, mask=mask, other=NEG).to(ACC), cap, HAS_CAP)
            live = mask & (z > NEG)
            p = tl.where(live, tl.exp(z - lse), 0.0)
            if HAS_W:
                w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(ACC)
            else:
                w = tl.full([BLOCK], 1.0, ACC)
            if PROBS:
                t = tl.load(t_ptr + row * t_stride + cols, mask=mask, other=0.0).to(ACC)
                g = a_p * p - scale_main * w * (t * (1.0 - eps) + eps / n_classes)
            else:
                g = a_p * p - scale_main * (eps / n_classes) * w
                g = tl.where(cols == y, g - scale_main * (1.0 - eps) * w_y, g)
            if HAS_CAP:
                r = z / cap
                g = g * (1.0 - r * r)
            g = tl.where(valid & live, g, 0.0)
            tl.store(g_row + cols, g.to(g_ptr.dtype.element_ty), mask=mask)


@triton.jit
def bce_kernel(
    x_ptr, t_ptr, w_ptr, pw_ptr, g_ptr, loss_ptr, n, p_ptr,
    HAS_W: tl.constexpr, HAS_PW: tl.constexpr, WRITE_GRAD: tl.constexpr, BLOCK: tl.constexpr,
    ACC: tl.constexpr,
):  # fmt: skip
    """Elementwise sigmoid BCE on logits with (already broadcast) weights:
    ``loss = w [pw t' softplus(-x) + (1 - t') softplus(x)]``,
    ``d/dx = w [(pw t' + 1 - t') sigmoid(x) - pw t']``, ``t' = t (1-eps) + eps/2``."""
    pid = tl.program_id(0).to(tl.int64)
    eps = tl.load(p_ptr + 0)
    scale = tl.load(p_ptr + 1)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(ACC)
    t = tl.load(t_ptr + offs, mask=mask, other=0.0).to(ACC)
    t = t * (1.0 - eps) + 0.5 * eps
    w = tl.load(w_ptr + offs, mask=mask, other=0.0).to(ACC) if HAS_W else 1.0
    pw = tl.load(pw_ptr + offs, mask=mask, other=0.0).to(ACC) if HAS_PW else 1.0
    # softplus(x) = max(x, 0) + log1p(exp(-|x|)), exact at any magnitude
    tail = tl.log(1.0 + tl.exp(-tl.abs(x)))
    sp_pos = tl.maximum(x, 0.0) + tail
    sp_neg = tl.maximum(-x, 0.0) + tail
    loss = w * (pw * t * sp_neg + (1.0 - t) * sp_pos)
    tl.store(loss_ptr + offs, loss, mask=mask)
    if WRITE_GRAD:
        e = tl.exp(-tl.abs(x))
        sig = tl.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        g = scale * w * ((pw * t + 1.0 - t) * sig - pw * t)
        tl.store(g_ptr + offs, g.to(g_ptr.dtype.element_ty), mask=mask)
