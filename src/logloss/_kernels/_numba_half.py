"""numba kernels: softmax cross-entropy on 16-bit logits (bfloat16 or IEEE float16 bits).

The logits arrive as a C-contiguous (N, C) ``uint16`` array of raw bits; the gradient, when
asked for, leaves in the same 16-bit format (``g`` may be ``z``: in place). Each thread
takes blocks of rows and owns one float32 scratch row:

1. widen the 16-bit row into the scratch, exactly (bfloat16: the bits are the high half of
   a float32; float16: every value, subnormals, infinities and NaN included, is a float32);
2. run the float32 row function of ``_numba_ce`` (``_labels_row`` / ``_probs_row``) in
   place on the scratch: the same arithmetic as ``ce_labels`` on the widened float32
   logits, so loss, lse, status and gradient are those of the float32 kernel;
3. round the gradient row to the 16-bit format (to nearest, ties to even) into ``g``.

The scratch row stays in the L1/L2 cache, so memory traffic per element is the 2 bytes
read (+ 2 written with a gradient), against 2 + 4 + 4 (+ 4 + 2) for converting the whole
array to float32, running the float32 kernel and converting back.

The conversions are bit operations and selects on uint32 lanes (``f32_from_bits`` /
``f32_bits``), which LLVM vectorises; only the float16 subnormal path of the narrowing
uses one float32 addition, whose rounding is the round-to-nearest-even wanted.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import get_num_threads, njit, prange, types
from numba.extending import intrinsic

from ._numba_ce import STATUS_OK, _labels_row, _probs_row

_FM = {"contract"}
_BLOCKS_PER_THREAD = 4  # row blocks per thread: evens out rows of unequal cost

_F16_SCALE = np.float32(2.0**112)  # float16 magnitude bits << 13, as float32, times this
_HALF = np.float32(0.5)  # 126 << 23: adding it rounds a float16-subnormal to 2^-24


@intrinsic
def f32_from_bits(typingctx, u):
    """The float32 whose bits are the low 32 bits of the integer `u`."""
    if not isinstance(u, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        (v,) = args
        i32 = ir.IntType(32)
        if v.type.width > 32:
            v = builder.trunc(v, i32)
        elif v.type.width < 32:
            v = builder.zext(v, i32)
        return builder.bitcast(v, ir.FloatType())

    return types.float32(u), codegen


@intrinsic
def f32_bits(typingctx, x):
    """The bits of the float32 `x`, as uint32."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.uint32(x), codegen


# ---------------------------------------------------------------------------
# one element
# ---------------------------------------------------------------------------


@njit(fastmath=_FM, error_model="numpy", cache=True)
def bf16_to_f32(h):
    """bfloat16 bits -> float32 (exact)."""
    return f32_from_bits(np.uint32(h) << np.uint32(16))


@njit(fastmath=_FM, error_model="numpy", cache=True)
def f16_to_f32(h):
    """IEEE float16 bits -> float32 (exact, subnormals, infinities and NaN included).

    The magnitude bits shifted into place read as a float32 2^112 times too small
    (a float16 subnormal as a float32 subnormal), so one exact multiplication scales
    them; exponent 31 (inf, NaN) gets the float32 exponent 255 instead.
    """
    b = np.uint32(h)
    mag = (b & np.uint32(0x7FFF)) << np.uint32(13)
    v = f32_bits(f32_from_bits(mag) * _F16_SCALE)
    v = mag | np.uint32(0x7F800000) if (b & np.uint32(0x7C00)) == np.uint32(0x7C00) else v
    return f32_from_bits(v | ((b & np.uint32(0x8000)) << np.uint32(16)))


@njit(fastmath=_FM, error_model="numpy", cache=True)
def f32_to_bf16(x):
    """float32 -> bfloat16 bits, to nearest, ties to even (NaN stays a quiet NaN)."""
    u = f32_bits(x)
    r = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    r = (u >> np.uint32(16)) | np.uint32(0x40) if x != x else r
    return np.uint16(r)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def f32_to_f16(x):
    """float32 -> IEEE float16 bits, to nearest, ties to even (after F. Giesen's
    ``float_to_half_fast3_rtne``).

    |x| >= 65536 (or inf, NaN): inf (quiet NaN); |x| < 2^-14: x + 0.5 rounds x to a multiple
    of 2^-24, the float16 subnormal step, whose count is the low bits of the sum; else the
    exponent is rebiased and the 13 dropped mantissa bits rounded with integer adds.
    """
    u = f32_bits(x)
    sign = (u >> np.uint32(16)) & np.uint32(0x8000)
    a = u & np.uint32(0x7FFFFFFF)
    if a >= np.uint32(0x47800000):
        o = np.uint32(0x7E00) if a > np.uint32(0x7F800000) else np.uint32(0x7C00)
    elif a < np.uint32(0x38800000):
        o = f32_bits(f32_from_bits(a) + _HALF) - np.uint32(0x3F000000)
    else:
        odd = (a >> np.uint32(13)) & np.uint32(1)
        o = (a - np.uint32(0x38000000) + np.uint32(0xFFF) + odd) >> np.uint32(13)
    return np.uint16(o | sign)


# ---------------------------------------------------------------------------
# rows
# ---------------------------------------------------------------------------


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _widen(h, x, bf16):
    """x = the 16-bit row h as float32."""
    if bf16:
        for c in range(h.shape[0]):
            x[c] = bf16_to_f32(h[c])
    else:
        for c in range(h.shape[0]):
            x[c] = f16_to_f32(h[c])


@njit(fastmath=_FM, error_model="numpy", cache=True)
def _narrow(x, h, bf16):
    """h = the float32 row x rounded to the 16-bit format."""
    if bf16:
        for c in range(x.shape[0]):
            h[c] = f32_to_bf16(x[c])
    else:
        for c in range(x.shape[0]):
            h[c] = f32_to_f16(x[c])


@njit(fastmath=_FM, error_model="numpy", cache=True)
def widen_rows(z, bf16, out):
    """out (N, C) float32 = the 16-bit rows z (a test hook and the reference conversion)."""
    for i in range(z.shape[0]):
        _widen(z[i], out[i], bf16)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def narrow_rows(x, bf16, out):
    """out (N, C) uint16 = the float32 rows x rounded to the 16-bit format."""
    for i in range(x.shape[0]):
        _narrow(x[i], out[i], bf16)


# ---------------------------------------------------------------------------
# kernels: blocks of rows in parallel, one scratch row per block
# ---------------------------------------------------------------------------


def row_blocks(n: int) -> int:
    """The number of row blocks for `n` rows: a few per thread (found here, in Python:
    a jitted ``get_num_threads`` would keep the kernels out of numba's cache)."""
    return min(n, _BLOCKS_PER_THREAD * get_num_threads())


@njit(parallel=True, fastmath=_FM, error_model="numpy", cache=True)
def ce_labels_half_kernel(
    z, y, bf16, w, has_w, ignore_index, eps, cap, z_loss, sm, sz, g, write, main, lse, status, nb
):
    """Rows of ce_labels on 16-bit logits in `nb` blocks (``row_blocks``); `g` (N, C)
    uint16 when `write` (may be z), else a (1, C) dummy; `bf16` True for bfloat16 bits,
    False for float16. Other arguments as ``_numba_ce.ce_labels_kernel``."""
    n, c = z.shape
    for b in prange(nb):
        x = np.empty(c, np.float32)
        for i in range(b * n // nb, (b + 1) * n // nb):
            _widen(z[i], x, bf16)
            r = _labels_row(x, x, y[i], w, has_w, ignore_index, eps, cap, z_loss, sm, sz, write)
            if write and r[2] == STATUS_OK:
                _narrow(x, g[i], bf16)
            main[i] = r[0]
            lse[i] = r[1]
            status[i] = r[2]


@njit(parallel=True, fastmath=_FM, error_model="numpy", cache=True)
def ce_probs_half_kernel(
    z, t, bf16, w, has_w, eps, cap, z_loss, sm, sz, g, write, main, lse, status, nb
):
    """Rows of ce_probs on 16-bit logits with float32 targets `t`; as ce_labels_half_kernel."""
    n, c = z.shape
    for b in prange(nb):
        x = np.empty(c, np.float32)
        for i in range(b * n // nb, (b + 1) * n // nb):
            _widen(z[i], x, bf16)
            r = _probs_row(x, x, t[i], w, has_w, eps, cap, z_loss, sm, sz, write)
            if write and r[2] == STATUS_OK:
                _narrow(x, g[i], bf16)
            main[i] = r[0]
            lse[i] = r[1]
            status[i] = r[2]
