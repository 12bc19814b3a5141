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

The conversions (``bf16_to_f32``, ``f16_to_f32``, ``f32_to_bf16``, ``f32_to_f16``) are
integer operations and selects on i32 lanes, written in LLVM IR, which LLVM vectorises;
only the float16 subnormal case of the narrowing uses one float32 addition, whose
rounding is the round-to-nearest-even wanted.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import get_num_threads, njit, prange, types
from numba.extending import intrinsic

from ._numba_ce import STATUS_OK, _labels_row, _probs_row

_FM = {"contract"}
_BLOCKS_PER_THREAD = 4  # row blocks per thread: evens out rows of unequal cost

# The conversions are written in LLVM IR on i32 lanes: in numba's own integer arithmetic
# every uint32 operation widens to 64 bits, which halves the SIMD lanes and adds packing.
_I16, _I32, _F32 = ir.IntType(16), ir.IntType(32), ir.FloatType()


def _k(v: int) -> ir.Constant:
    return ir.Constant(_I32, v)


@intrinsic
def bf16_to_f32(typingctx, h):
    """bfloat16 bits (uint16) -> float32, exact: the bits are the float32's high half."""
    if h != types.uint16:
        return None

    def codegen(context, builder, signature, args):
        b = builder.zext(args[0], _I32)
        return builder.bitcast(builder.shl(b, _k(16)), _F32)

    return types.float32(h), codegen


@intrinsic
def f16_to_f32(typingctx, h):
    """IEEE float16 bits (uint16) -> float32, exact (subnormals, infinities and NaN too).

    The magnitude bits shifted into place read as a float32 2^112 times too small (a
    float16 subnormal as a float32 subnormal), so one exact multiplication scales them;
    exponent 31 (inf, NaN) gets the float32 exponent 255 instead; then the sign.
    """
    if h != types.uint16:
        return None

    def codegen(context, builder, signature, args):
        b = builder.zext(args[0], _I32)
        mag = builder.shl(builder.and_(b, _k(0x7FFF)), _k(13))
        scaled = builder.fmul(builder.bitcast(mag, _F32), ir.Constant(_F32, 2.0**112))
        special = builder.icmp_unsigned("==", builder.and_(b, _k(0x7C00)), _k(0x7C00))
        bits = builder.select(
            special, builder.or_(mag, _k(0x7F800000)), builder.bitcast(scaled, _I32)
        )
        sign = builder.shl(builder.and_(b, _k(0x8000)), _k(16))
        return builder.bitcast(builder.or_(bits, sign), _F32)

    return types.float32(h), codegen


@intrinsic
def f32_to_bf16(typingctx, x):
    """float32 -> bfloat16 bits (uint16), to nearest, ties to even; NaN stays a quiet NaN."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        u = builder.bitcast(args[0], _I32)
        hi = builder.lshr(u, _k(16))
        bias = builder.add(_k(0x7FFF), builder.and_(hi, _k(1)))
        rounded = builder.lshr(builder.add(u, bias), _k(16))
        nan = builder.fcmp_unordered("uno", args[0], args[0])
        r = builder.select(nan, builder.or_(hi, _k(0x40)), rounded)
        return builder.trunc(r, _I16)

    return types.uint16(x), codegen


@intrinsic
def f32_to_f16(typingctx, x):
    """float32 -> IEEE float16 bits (uint16), to nearest, ties to even (after F. Giesen's
    ``float_to_half_fast3_rtne``), all three cases computed and one selected:

    |x| >= 65536 (inf, NaN): inf (a quiet NaN); |x| < 2^-14: |x| + 0.5 rounds |x| to a
    multiple of 2^-24, the float16 subnormal step, whose count is the low bits of the sum;
    else the exponent is rebiased and the 13 dropped mantissa bits rounded by integer adds.
    """
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        u = builder.bitcast(args[0], _I32)
        sign = builder.and_(builder.lshr(u, _k(16)), _k(0x8000))
        a = builder.and_(u, _k(0x7FFFFFFF))
        summed = builder.fadd(builder.bitcast(a, _F32), ir.Constant(_F32, 0.5))
        sub = builder.sub(builder.bitcast(summed, _I32), _k(0x3F000000))
        odd = builder.and_(builder.lshr(a, _k(13)), _k(1))
        normal = builder.add(builder.sub(a, _k(0x38000000)), builder.add(_k(0xFFF), odd))
        normal = builder.lshr(normal, _k(13))
        nan = builder.icmp_unsigned(">", a, _k(0x7F800000))
        big = builder.select(nan, _k(0x7E00), _k(0x7C00))
        o = builder.select(builder.icmp_unsigned("<", a, _k(0x38800000)), sub, normal)
        o = builder.select(builder.icmp_unsigned(">=", a, _k(0x47800000)), big, o)
        return builder.trunc(builder.or_(o, sign), _I16)

    return types.uint16(x), codegen


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
