"""Vectorisable elementary functions for the numba kernels: exp, log1p on [0, 1], tanh.

The pip build of llvmlite has no SVML, so ``math.exp`` inside ``@njit`` is a scalar
libm call in every loop (about 12x slower than a SIMD exp). The functions here are
written only with operations LLVM vectorises (multiply-add, ``rint``, integer add and
shift, bit casts, selects), so a loop over a row becomes SIMD code (on the project's
Intel machine: 8 float32 lanes in ymm registers, LLVM's preferred width there).

exp(x), for every float x (the same scheme in float32 and float64):

1. clamp: x in [LO, HI] (NaN passes through; selects, not min/max, so NaN stays NaN).
   LO lies below log(smallest subnormal / 2), so the result rounds to 0 there, -inf
   included; HI lies above log(largest float), so the result overflows to +inf.
2. range reduction: n = rint(x log2(e)), r = x - n ln2_hi - n ln2_lo, |r| <= ln2 / 2
   (ln2 split in two so that n ln2_hi is exact and r carries no cancellation error).
3. e^r = 1 + r + r^2 q(r): a degree-6 polynomial in float32 (approximation error
   1.1e-8 relative, below half an ulp) and degree 13 Taylor in float64 (4e-18).
4. 2^n: n = n1 + n2 with n1 = n >> 1; each 2^nk is built from its exponent bits and
   e^x = (e^r 2^n1) 2^n2, so subnormal results round once and n up to the overflow
   bound needs no special case.

Measured error (the exact value rounded to the dtype is 0.5 ulp): exp32 over all 2^32
float32 inputs, at most 1.33 ulp and 1.19e-7 relative for normal results, 0.83 units of
2^-149 for subnormal ones, NaN/inf exactly where np.exp has them; exp64 at most 1 ulp
over 1.1e7 samples. exp_nonpos32/64 (the kernels' exp, x <= 0) are the same on normal
results. log1p_unit: 1.8 ulp (float32), 2 ulp (float64); softcap32: 2.3 ulp.
tests/kernels/test_kernels.py re-measures them on a sweep of every 97th float32
(through the array loops of tests/kernels/approximations.py).

Only the ``contract`` fast-math flag (fused multiply-add) is used here: the range
reduction relies on the order of its operations, which ``reassoc`` could change.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

_FM = {"contract"}

# ---------------------------------------------------------------------------
# LLVM intrinsics: rint, maxnum and the 2^n scaling (integer ops on the bit pattern)
# ---------------------------------------------------------------------------


def _llvm_float_suffix(ty: types.Float) -> str:
    return "f32" if ty.bitwidth == 32 else "f64"


@intrinsic
def rint(typingctx, x):
    """Round to the nearest integer, ties to even (``llvm.rint``: one SIMD instruction)."""
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, signature, args):
        (v,) = args
        fnty = ir.FunctionType(v.type, [v.type])
        fn = cgutils.get_or_insert_function(
            builder.module, fnty, f"llvm.rint.{_llvm_float_suffix(signature.args[0])}"
        )
        return builder.call(fn, [v])

    return x(x), codegen


@intrinsic
def maxnum(typingctx, a, b):
    """max(a, b) ignoring a NaN operand (``llvm.maxnum``), which LLVM vectorises as a
    reduction; numba's ``max()`` does not vectorise. NaNs are caught by the row sum."""
    if not (isinstance(a, types.Float) and a == b):
        return None

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(args[0].type, [args[0].type, args[0].type])
        fn = cgutils.get_or_insert_function(
            builder.module, fnty, f"llvm.maxnum.{_llvm_float_suffix(signature.args[0])}"
        )
        return builder.call(fn, list(args))

    return a(a, b), codegen


@intrinsic
def scale_by_pow2(typingctx, p, n):
    """p * 2**n for integral float n in [-2 * bias - 2, 2 * bias + 2], as (p * 2**n1) * 2**n2.

    n1 = n >> 1 and n2 = n - n1 are each within the normal exponent range, so their
    powers are built exactly from the bits ``(nk + bias) << mantissa_bits``.
    """
    if not (isinstance(p, types.Float) and p == n):
        return None
    bits = p.bitwidth
    mant, bias = (23, 127) if bits == 32 else (52, 1023)

    def codegen(context, builder, signature, args):
        pv, nv = args
        ity = ir.IntType(bits)
        ni = builder.fptosi(nv, ity)
        n1 = builder.ashr(ni, ity(1))
        n2 = builder.sub(ni, n1)
        s1 = builder.bitcast(builder.shl(builder.add(n1, ity(bias)), ity(mant)), pv.type)
        s2 = builder.bitcast(builder.shl(builder.add(n2, ity(bias)), ity(mant)), pv.type)
        return builder.fmul(builder.fmul(pv, s1), s2)

    return p(p, n), codegen


@intrinsic
def scale_by_pow2_normal(typingctx, p, n):
    """p * 2**n for integral float n within the normal exponent range (one bit-built factor)."""
    if not (isinstance(p, types.Float) and p == n):
        return None
    bits = p.bitwidth
    mant, bias = (23, 127) if bits == 32 else (52, 1023)

    def codegen(context, builder, signature, args):
        pv, nv = args
        ity = ir.IntType(bits)
        ni = builder.fptosi(nv, ity)
        s = builder.bitcast(builder.shl(builder.add(ni, ity(bias)), ity(mant)), pv.type)
        return builder.fmul(pv, s)

    return p(p, n), codegen


def like(x, v):  # pragma: no cover - replaced by the overload inside jitted code
    """v cast to the dtype of array x (jitted code keeps float32 arithmetic float32)."""
    return x.dtype.type(v)


@overload(like, inline="always")
def _like_overload(x, v):
    dt = x.dtype

    def impl(x, v):
        return dt(v)

    return impl


def like_scalar(x, v):  # pragma: no cover - replaced by the overload inside jitted code
    """v cast to the type of scalar x."""
    return type(x)(v)


@overload(like_scalar, inline="always")
def _like_scalar_overload(x, v):
    ty = x

    def impl(x, v):
        return ty(v)

    return impl


@njit(error_model="numpy", cache=True)
def same_memory(x, g):
    """True when arrays x and g start at the same address (an in-place call).

    Loops then read and write g only: over two arrays LLVM guards its vector loop by a
    no-overlap test, which fails in place and falls back to scalar code (5-10x slower).
    """
    return x.ctypes.data == g.ctypes.data


# ---------------------------------------------------------------------------
# float32
# ---------------------------------------------------------------------------

_F = np.float32
_LO32 = _F(-104.0)  # e^-104 < 2^-150: rounds to 0
_HI32 = _F(89.0)  # e^89 > float32 max: overflows to inf
_NMIN32 = _F(-151.0)
_LOG2E32 = _F(1.4426950408889634)
_LN2HI32 = _F(0.693145751953125)  # 16 fraction bits: n * hi exact for |n| < 2^8
_LN2LO32 = _F(1.4286068203094172321e-6)
# (e^r - 1 - r) / r^2 on |r| <= ln2/2, least squares on Chebyshev nodes (max rel. error 1.1e-8)
_P32_0 = _F(0.5)
_P32_1 = _F(0.16666576)
_P32_2 = _F(0.041666467)
_P32_3 = _F(0.008363175)
_P32_4 = _F(0.0013933644)
_ONE32 = _F(1.0)


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def _exp_reduced32(xc):
    """(e^r, n) with xc = n ln2 + r, |r| <= ln2 / 2: steps 2 and 3 of the scheme above
    (inlined into each caller's IR, so the arithmetic and its order are the caller's)."""
    n = rint(xc * _LOG2E32)
    r = xc - n * _LN2HI32
    r = r - n * _LN2LO32
    q = _P32_4 * r + _P32_3
    q = q * r + _P32_2
    q = q * r + _P32_1
    q = q * r + _P32_0
    return _ONE32 + r + (r * r) * q, n


@njit(fastmath=_FM, error_model="numpy", cache=True)
def exp32(x):
    """e**x for a float32 x (any value, NaN and +-inf included), ~1 ulp."""
    xc = _LO32 if x < _LO32 else x
    xc = _HI32 if xc > _HI32 else xc
    er, n = _exp_reduced32(xc)
    # NaN x: keep n a valid integer (e^r is NaN and carries the NaN through)
    return scale_by_pow2(er, maxnum(n, _NMIN32))


_NLO32 = _F(-87.33654)  # log(2^-126): below it e^x is subnormal and flushed to 0
_ZERO32 = _F(0.0)
_NMIN_NORMAL32 = _F(-126.0)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def exp_nonpos32(x):
    """e**x for float32 x <= 0 (the kernels' case: x - max, -|x|), -inf and NaN included.

    Cheaper than exp32: no upper clamp, one 2^n factor; results below 2^-126 (x < -87.34)
    are flushed to 0 (absolute error < 1.2e-38), so a masked class (-inf) gives exactly 0.
    """
    xc = _NLO32 if x < _NLO32 else x
    er, n = _exp_reduced32(xc)
    # NaN x: keep n a valid integer (e^r is NaN and carries the NaN through)
    e = scale_by_pow2_normal(er, maxnum(n, _NMIN_NORMAL32))
    return _ZERO32 if x < _NLO32 else e


# ---------------------------------------------------------------------------
# float64
# ---------------------------------------------------------------------------

# The float64 functions repeat the float32 ones with their own constants and polynomials:
# numba types a function once per argument type, and float32 arithmetic stays float32 only
# when every constant it meets is a float32 (a shared body would widen it to float64).

_D = np.float64
_LO64 = _D(-746.0)  # e^-746 < 2^-1075: rounds to 0
_HI64 = _D(710.0)  # e^710 > float64 max: overflows to inf
_NMIN64 = _D(-1077.0)
_LOG2E64 = _D(1.4426950408889634)
_LN2HI64 = _D(0.6931471806019545)  # 32 fraction bits: n * hi exact for |n| < 2^21
_LN2LO64 = _D(-4.2009150726810846e-11)
# Taylor coefficients 1/k!, k = 2..13: truncation error r^14/14! < 4e-18 on |r| <= ln2/2
_T64 = tuple(
    _D(1.0 / f)
    for f in (2, 6, 24, 120, 720, 5040, 40320, 362880, 3628800, 39916800, 479001600, 6227020800)
)
_T64_0, _T64_1, _T64_2, _T64_3, _T64_4, _T64_5 = _T64[:6]
_T64_6, _T64_7, _T64_8, _T64_9, _T64_10, _T64_11 = _T64[6:]
_ONE64 = _D(1.0)
_ZERO64 = _D(0.0)


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def _exp_reduced64(xc):
    """(e^r, n) with xc = n ln2 + r: as _exp_reduced32, with the degree-13 Taylor polynomial."""
    n = rint(xc * _LOG2E64)
    r = xc - n * _LN2HI64
    r = r - n * _LN2LO64
    q = _T64_11 * r + _T64_10
    q = q * r + _T64_9
    q = q * r + _T64_8
    q = q * r + _T64_7
    q = q * r + _T64_6
    q = q * r + _T64_5
    q = q * r + _T64_4
    q = q * r + _T64_3
    q = q * r + _T64_2
    q = q * r + _T64_1
    q = q * r + _T64_0
    return _ONE64 + r + (r * r) * q, n


@njit(fastmath=_FM, error_model="numpy", cache=True)
def exp64(x):
    """e**x for a float64 x (any value, NaN and +-inf included), ~1 ulp."""
    xc = _LO64 if x < _LO64 else x
    xc = _HI64 if xc > _HI64 else xc
    er, n = _exp_reduced64(xc)
    return scale_by_pow2(er, maxnum(n, _NMIN64))


_NLO64 = _D(-708.3964185322641)  # log(2^-1022)
_NMIN_NORMAL64 = _D(-1022.0)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def exp_nonpos64(x):
    """e**x for float64 x <= 0, results below 2^-1022 flushed to 0 (see exp_nonpos32)."""
    xc = _NLO64 if x < _NLO64 else x
    er, n = _exp_reduced64(xc)
    e = scale_by_pow2_normal(er, maxnum(n, _NMIN_NORMAL64))  # NaN: as in exp_nonpos32
    return _ZERO64 if x < _NLO64 else e


# ---------------------------------------------------------------------------
# dtype-generic entry point: fexp(x) picks the variant of x's type at compile time
# ---------------------------------------------------------------------------


def _by_width(f32, f64):
    """An overload of a one-argument generic: the float32 or the float64 variant, chosen
    at compile time from the argument's type (each variant keeps its own compiled code and
    fast-math flags: the call is not re-compiled under the caller's flags)."""

    def choose(x):
        if isinstance(x, types.Float):
            if x.bitwidth == 32:
                return lambda x: f32(x)
            return lambda x: f64(x)
        return None

    return choose


_INLINE = {"inline": "always", "jit_options": {"fastmath": _FM, "error_model": "numpy"}}


def fexp(x):  # pragma: no cover - replaced by the overload inside jitted code
    """e**x in jitted code: exp32 for float32, exp64 for float64."""
    return np.exp(x)


def fexp_nonpos(x):  # pragma: no cover - replaced by the overload inside jitted code
    """e**x for x <= 0 in jitted code (subnormal results flushed to 0)."""
    return np.exp(x)


overload(fexp, **_INLINE)(_by_width(exp32, exp64))
overload(fexp_nonpos, **_INLINE)(_by_width(exp_nonpos32, exp_nonpos64))


# ---------------------------------------------------------------------------
# log1p(u) for u in [0, 1] (the softplus of BCE: softplus(x) = max(x, 0) + log1p(e^-|x|))
# ---------------------------------------------------------------------------

# log1p(u) = 2 atanh(s), s = u / (2 + u) in [0, 1/3] (no cancellation: s has u's relative
# accuracy); atanh(s) = s (1 + s^2 q(s^2)), q fitted on [0, 1/9] (max rel. error 1.6e-8)
_L32_0 = _F(0.3333332)
_L32_1 = _F(0.20003836)
_L32_2 = _F(0.14116979)
_L32_3 = _F(0.13433774)
_TWO32 = _F(2.0)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def log1p_unit32(u):
    """log(1 + u) for a float32 u in [0, 1], ~1 ulp (vectorisable: one division)."""
    s = u / (_TWO32 + u)
    s2 = s * s
    q = _L32_3 * s2 + _L32_2
    q = q * s2 + _L32_1
    q = q * s2 + _L32_0
    return _TWO32 * (s + s * (s2 * q))


# float64: atanh(s) = s sum_k s^(2k) / (2k + 1), k <= 16 (truncation error < 2e-18 at s = 1/3)
_L64 = tuple(_D(1.0 / (2 * k + 1)) for k in range(17))


@njit(fastmath=_FM, error_model="numpy", cache=True)
def log1p_unit64(u):
    """log(1 + u) for a float64 u in [0, 1], ~1 ulp (vectorisable: one division)."""
    s = u / (_D(2.0) + u)
    s2 = s * s
    q = _L64[16]
    for k in range(15, 0, -1):
        q = q * s2 + _L64[k]
    return _D(2.0) * (s + s * (s2 * q))


def flog1p_unit(x):  # pragma: no cover - replaced by the overload inside jitted code
    """log(1 + x), x in [0, 1], in jitted code."""
    return np.log1p(x)


overload(flog1p_unit, **_INLINE)(_by_width(log1p_unit32, log1p_unit64))


# ---------------------------------------------------------------------------
# softcap: s * tanh(z / s), with -inf (a masked class) kept as -inf
# ---------------------------------------------------------------------------

_NEG_INF32 = _F(-np.inf)
_SMALL64 = _D(1e-4)
_MTWO64 = _D(-2.0)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def softcap32(z, cap):
    """cap * tanh(z / cap) for float32 z and cap; tanh(|u|) = (1 - t) / (1 + t), t = e^(-2|u|),
    evaluated in float64 (whose rounding error is far below float32's ulp), then rounded;
    tanh u = u for |u| < 1e-4 (relative error u^2 / 3 < 4e-9).
    +inf gives cap (as tanh does), NaN stays NaN, -inf stays -inf (masked)."""
    u = np.float64(z / cap)
    t = exp64(_MTWO64 * abs(u))
    th = (_ONE64 - t) / (_ONE64 + t)
    th = -th if u < _ZERO64 else th
    # |u| < 1e-4: 1 - t loses 1e-16 / |u| relatively; tanh u = u (1 - u^2/3 + ...) is exact there
    th = u if abs(u) < _SMALL64 else th
    r = cap * np.float32(th)
    return _NEG_INF32 if z == _NEG_INF32 else r


_NEG_INF64 = _D(-np.inf)


@njit(fastmath=_FM, error_model="numpy", cache=True)
def softcap64(z, cap):
    """cap * tanh(z / cap) for float64 (libm tanh, exact to ~1 ulp); -inf stays -inf."""
    r = cap * math.tanh(z / cap)
    return _NEG_INF64 if z == _NEG_INF64 else r


def fsoftcap(z, cap):  # pragma: no cover - replaced by the overload inside jitted code
    """cap * tanh(z / cap) in jitted code (-inf kept)."""
    return np.where(np.isneginf(z), z, cap * np.tanh(z / cap))


@overload(fsoftcap, **_INLINE)
def _fsoftcap_overload(z, cap):
    if isinstance(z, types.Float):
        if z.bitwidth == 32:
            return lambda z, cap: softcap32(z, cap)
        return lambda z, cap: softcap64(z, cap)
    return None
