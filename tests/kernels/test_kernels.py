"""The numba kernels against the portable path (the reference semantics), float64
references, PyTorch, and their own approximations (exp, log1p, tanh) over float32.

Every test that runs a numba kernel shares one xdist worker (``--dist loadgroup``) so
the kernels compile once.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import logloss as ll
from logloss import _kernels as K
from logloss._kernels import _portable as P
from logloss._kernels.dispatch import matvec_route

pytestmark = pytest.mark.xdist_group("numba")

F32, F64 = np.float32, np.float64
DTYPES = (F32, F64)


def torch_or_skip():
    if os.environ.get("LOGLOSS_REQUIRE_TORCH") == "1":
        import torch
    else:
        torch = pytest.importorskip("torch")
    return torch


@pytest.fixture(autouse=True)
def _numba_enabled(monkeypatch):
    monkeypatch.delenv("LOGLOSS_DISABLE_NUMBA", raising=False)


def close(a, b, dtype, factor=64.0, floor=1.0):
    """|a - b| <= factor eps (|b| + floor), elementwise (arrays as float64)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    assert a.shape == b.shape
    tol = factor * np.finfo(dtype).eps * (np.abs(b) + floor)
    err = np.abs(a - b)
    assert np.all(err <= tol), f"max error {np.max(err - tol + tol)} at {np.argmax(err - tol)}"


def logits(rng, n, c, dtype, scale=3.0, masked=True):
    z = (rng.standard_normal((n, c)) * scale).astype(dtype)
    if masked and c > 3:
        z[1, 1:3] = -np.inf  # masked classes in a counted row
        z[2, :] = -np.inf  # an all-masked row: ignored below (label = ignore_index)
    return z


def labels(rng, n, c, ignore=-100):
    y = rng.integers(0, c, n)
    y[0] = ignore
    if c > 3:
        y[1] = 0  # unmasked target in the row with masked classes
        y[2] = ignore
    return y


# ---------------------------------------------------------------------------
# the elementary approximations
# ---------------------------------------------------------------------------


def _float32_sweep(stride=97):
    """Every `stride`-th float32 bit pattern (all signs and exponents), plus specials."""
    bits = np.arange(0, 2**32, stride, dtype=np.uint64).astype(np.uint32)
    x = bits.view(F32)
    extra = np.array(
        [
            0.0,
            -0.0,
            np.inf,
            -np.inf,
            np.nan,
            88.72,
            88.73,
            -87.34,
            -103.97,
            -104.0,
            -150.0,
            1e-30,
            -1e-30,
        ],
        F32,
    )
    return np.concatenate([x, extra])


def test_exp_float32_whole_range_within_two_ulp():
    from numba_approximations import exp_array

    x = _float32_sweep()
    out = np.empty_like(x)
    exp_array(x, out)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        ref = np.exp(x.astype(F64))
        r32 = ref.astype(F32)
    assert np.array_equal(np.isnan(out), np.isnan(x))
    assert np.array_equal(np.isposinf(out), np.isposinf(r32))
    normal = np.isfinite(r32) & (r32 >= np.finfo(F32).tiny)
    ulp = np.abs(out[normal] - ref[normal]) / np.spacing(r32[normal]).astype(F64)
    assert ulp.max() <= 1.5  # measured 1.33 over all 2^32 floats
    rel = np.abs(out[normal] / ref[normal] - 1.0)
    assert rel.max() <= 1.25e-7
    sub = np.isfinite(r32) & (r32 < np.finfo(F32).tiny)  # subnormal results: 1 unit of 2^-149
    assert np.max(np.abs(out[sub] - ref[sub])) <= 2.0**-149


def test_exp_nonpos_float32_and_float64():
    from numba_approximations import exp_nonpos_array

    x = _float32_sweep()
    x = x[~(x > 0)]  # the kernels' domain: x <= 0, -inf and NaN
    out = np.empty_like(x)
    exp_nonpos_array(x, out)
    with np.errstate(all="ignore"):  # casting signalling NaNs warns
        ref = np.exp(x.astype(F64))
        r32 = ref.astype(F32)
    normal = r32 >= np.finfo(F32).tiny
    ulp = np.abs(out[normal] - ref[normal]) / np.spacing(r32[normal]).astype(F64)
    assert ulp.max() <= 1.5
    assert np.all(out[~normal & ~np.isnan(x)] <= np.finfo(F32).tiny)  # flushed: < 1.2e-38
    assert out[np.isneginf(x)].tolist() == [0.0]
    assert np.isnan(out[np.isnan(x)]).all()

    xd = np.concatenate([-np.geomspace(1e-300, 745.0, 200_001), [0.0, -np.inf, np.nan]])
    od = np.empty_like(xd)
    exp_nonpos_array(xd, od)
    with np.errstate(under="ignore"):
        rd = np.exp(xd)
    ok = rd >= np.finfo(F64).tiny
    assert (np.abs(od[ok] - rd[ok]) / np.spacing(rd[ok])).max() <= 2.0
    assert od[-2] == 0.0 and np.isnan(od[-1])


def test_log1p_and_softcap_approximations():
    from numba_approximations import log1p_unit_array, softcap_array

    u = np.concatenate([[0.0], np.geomspace(1e-38, 1.0, 100_001)])
    for dt in DTYPES:
        uu = u.astype(dt)
        out = np.empty_like(uu)
        log1p_unit_array(uu, out)
        ref = np.log1p(uu.astype(F64))
        nz = ref > 0
        ulp = np.abs(out[nz] - ref[nz]) / np.spacing(ref[nz].astype(dt)).astype(F64)
        assert ulp.max() <= 2.0, dt
    z = np.concatenate([np.linspace(-200, 200, 40_001), [1e-30, -1e-8, np.inf, -np.inf]])
    for dt in DTYPES:
        zz = z.astype(dt)
        out = np.empty_like(zz)
        softcap_array(zz, dt(30.0), out)
        ref = np.where(np.isneginf(zz), -np.inf, 30.0 * np.tanh(zz.astype(F64) / 30.0))
        fin = np.isfinite(ref)
        err = np.abs(out[fin] - ref[fin]) / np.spacing(np.abs(ref[fin]).astype(dt))
        assert err.max() <= 3.0, dt
        assert np.isneginf(out[-1]) and out[-2] == dt(30.0)


def test_row_loops_vectorise():
    """The row passes compile to packed SIMD instructions (re-jitted: cached code has no asm)."""
    from numba import njit

    from logloss._kernels import _numba_ce

    x = np.linspace(-3, 3, 1000, dtype=F32)
    g = np.empty_like(x)
    for fn, args, needle in (
        (_numba_ce._max, (x, F32(0.0)), ("maxps",)),
        (_numba_ce._sumexp_store, (x, g, F32(3.0)), ("fmadd", "mulps")),  # exp's polynomial
        (_numba_ce._scale, (g, F32(0.5)), ("mulps",)),
    ):
        jitted = njit(fastmath={"contract", "reassoc"}, error_model="numpy")(fn.py_func)
        jitted(*args)
        asm = next(iter(jitted.inspect_asm().values()))
        # a packed single-precision instruction ("...ps"), not a scalar one ("...ss")
        packed = [ln for ln in asm.splitlines() if any(k in ln for k in needle) and "ps\t" in ln]
        assert packed, fn.__name__


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_loop_vectorises_in_both_dtypes(dtype):
    """The BCE element (exp, log1p, division) is inlined into the block loop and packed.

    Left to LLVM's inliner, the float64 element stayed a call and the loop scalar: 20x
    slower per element than float32.
    """
    from numba import njit

    from logloss._kernels import _numba_bce

    x = np.linspace(-3, 3, 1000).astype(dtype)
    one = dtype(1.0)
    args = (x, (x > 0).astype(dtype), np.ones_like(x), np.ones_like(x), one, dtype(0.0), one)
    jitted = njit(fastmath={"contract", "reassoc"}, error_model="numpy")(
        _numba_bce._bce_block.py_func
    )
    jitted(*args, np.empty_like(x), True, np.empty_like(x))
    asm = next(iter(jitted.inspect_asm().values()))
    suffix = "ps\t" if dtype == F32 else "pd\t"
    assert [ln for ln in asm.splitlines() if "vdiv" in ln and suffix in ln]
    assert [ln for ln in asm.splitlines() if "fmadd" in ln and suffix in ln]


# ---------------------------------------------------------------------------
# numba against the portable path: every option
# ---------------------------------------------------------------------------


def _ce_labels_both(z, y, w, eps, cap, zl, sm, sz):
    """Run ce_labels portable, numba (value only, separate gradient, in place)."""
    g_ref = np.empty_like(z)
    ref = P.ce_labels(
        z, y, weight=w, smoothing=eps, softcap=cap, z_loss=zl, scale=sm, scale_z=sz, grad_out=g_ref
    )
    got_val = K.ce_labels(
        z, y, weight=w, smoothing=eps, softcap=cap, z_loss=zl, scale=sm, scale_z=sz
    )
    assert K.last_path() == "numba"
    g_sep = np.empty_like(z)
    got_sep = K.ce_labels(
        z, y, weight=w, smoothing=eps, softcap=cap, z_loss=zl, scale=sm, scale_z=sz, grad_out=g_sep
    )
    zz = z.copy()
    got_inp = K.ce_labels(
        zz, y, weight=w, smoothing=eps, softcap=cap, z_loss=zl, scale=sm, scale_z=sz, grad_out=zz
    )
    return ref, g_ref, got_val, got_sep, g_sep, got_inp, zz


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", [1, 5, 300])
def test_ce_labels_matches_portable_every_option(dtype, c):
    rng = np.random.default_rng(c)
    n = 23
    z = logits(rng, n, c, dtype)
    y = labels(rng, n, c)
    w = rng.uniform(0.2, 3.0, c).astype(dtype)
    combos = itertools.product(
        (None, w), (0.0, 0.15), (None, 4.0), (0.0, 1e-3), ((1.0, 1.0), (0.25, 0.5), (0.0, 2.0))
    )
    for ww, eps, cap, zl, (sm, sz) in combos:
        ref, g_ref, val, sep, g_sep, inp, g_inp = _ce_labels_both(z, y, ww, eps, cap, zl, sm, sz)
        for got in (val, sep, inp):
            close(got[0], ref[0], dtype)  # per-row loss
            close(got[1], ref[1], dtype)  # per-row lse
        # gradients: p coef - target terms, judged on the size of those terms
        wmax = 1.0 if ww is None else float(ww.max())
        gscale = np.abs(g_ref).max(axis=1) + 2 * sm * wmax + 2 * zl * sz * np.abs(ref[1])
        gscale = gscale[:, None]
        for g in (g_sep, g_inp):
            assert np.all(np.abs(g - g_ref) <= 64 * np.finfo(dtype).eps * gscale)
        assert np.all(g_sep[np.isneginf(z)] == 0.0)  # masked classes: zero gradient
        assert np.all(g_sep[y == -100] == 0.0)  # ignored rows: zero gradient


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", [1, 6, 300])
def test_ce_probs_matches_portable_every_option(dtype, c):
    rng = np.random.default_rng(10 + c)
    n = 17
    z = logits(rng, n, c, dtype)
    z[2, 0] = 1.0  # ce_probs counts every row: no all-masked row
    t = rng.dirichlet(np.ones(c), n).astype(dtype)
    if c > 3:
        t[1, 1:3] = 0.0  # no mass on the masked classes
        t[2] = 0.0
        t[2, 0] = 1.0  # row 2: only class 0 unmasked
    w = rng.uniform(0.2, 3.0, c).astype(dtype)
    combos = itertools.product((None, w), (0.0, 0.2), (None, 4.0), (0.0, 1e-3), (1.0, 0.1))
    for ww, eps, cap, zl, sc in combos:
        g_ref = np.empty_like(z)
        ref = P.ce_probs(
            z,
            t,
            weight=ww,
            smoothing=eps,
            softcap=cap,
            z_loss=zl,
            scale=sc,
            scale_z=2 * sc,
            grad_out=g_ref,
        )
        val = K.ce_probs(
            z, t, weight=ww, smoothing=eps, softcap=cap, z_loss=zl, scale=sc, scale_z=2 * sc
        )
        assert K.last_path() == "numba"
        g_sep = np.empty_like(z)
        sep = K.ce_probs(
            z,
            t,
            weight=ww,
            smoothing=eps,
            softcap=cap,
            z_loss=zl,
            scale=sc,
            scale_z=2 * sc,
            grad_out=g_sep,
        )
        zz = z.copy()
        inp = K.ce_probs(
            zz,
            t,
            weight=ww,
            smoothing=eps,
            softcap=cap,
            z_loss=zl,
            scale=sc,
            scale_z=2 * sc,
            grad_out=zz,
        )
        for got in (val, sep, inp):
            close(got[0], ref[0], dtype)
            close(got[1], ref[1], dtype)
        wmax = 1.0 if ww is None else float(ww.max())
        gscale = np.abs(g_ref).max(axis=1) + 2 * sc * wmax + 4 * zl * sc * np.abs(ref[1])
        gscale = gscale[:, None]
        for g in (g_sep, zz):
            assert np.all(np.abs(g - g_ref) <= 64 * np.finfo(dtype).eps * gscale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1000,), (37, 29), (3, 4, 5), ()])
def test_bce_logits_matches_portable_every_option(dtype, shape):
    rng = np.random.default_rng(len(shape))
    x = np.asarray(rng.standard_normal(shape) * 6, dtype)
    x.flat[0] = 60.0
    if x.size > 1:
        x.flat[-1] = -90.0
    t = np.asarray(rng.uniform(0, 1, shape), dtype)
    last = shape[-1:] if shape else ()
    weights = (
        None,
        rng.uniform(0.1, 2, shape).astype(dtype),
        rng.uniform(0.1, 2, last).astype(dtype),
        np.array(2.5, dtype),
    )
    pos = (None, rng.uniform(0.1, 3, last).astype(dtype))
    for w, pw, eps, scale in itertools.product(weights, pos, (0.0, 0.2), (1.0, 0.01)):
        g_ref = np.empty_like(x)
        ref = P.bce_logits(
            x, t, weight=w, pos_weight=pw, smoothing=eps, scale=scale, grad_out=g_ref
        )
        val = K.bce_logits(x, t, weight=w, pos_weight=pw, smoothing=eps, scale=scale)
        assert K.last_path() == "numba"
        g = np.empty_like(x)
        sep = K.bce_logits(x, t, weight=w, pos_weight=pw, smoothing=eps, scale=scale, grad_out=g)
        xx = x.copy()
        inp = K.bce_logits(xx, t, weight=w, pos_weight=pw, smoothing=eps, scale=scale, grad_out=xx)
        for got in (val, sep, inp):
            assert got.dtype == F64 and got.shape == x.shape
            close(got, ref, dtype, floor=1e-30)
        # the gradient is a difference of two terms: judge it on their magnitude
        yy = t * (1 - eps) + eps / 2
        mag = np.abs(scale * (1 if w is None else w) * ((1 - yy) + (1 if pw is None else pw) * yy))
        for gg in (g, xx):
            assert np.all(np.abs(gg - g_ref) <= 16 * np.finfo(dtype).eps * mag)


def test_bce_long_weight_periods_and_general_broadcasts():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 3, 7)).astype(F32)
    t = rng.uniform(size=x.shape).astype(F32)
    cases = [
        (rng.uniform(0.1, 2, (40, 1, 1)).astype(F32), None),  # leading axis: materialised
        (rng.uniform(0.1, 2, (3, 7)).astype(F32), rng.uniform(0.1, 2, (7,)).astype(F32)),
        (rng.uniform(0.1, 2, (1, 3, 1)).astype(F32), rng.uniform(0.1, 2, (1, 1, 7)).astype(F32)),
    ]
    for w, pw in cases:
        g_ref, g = np.empty_like(x), np.empty_like(x)
        ref = P.bce_logits(x, t, weight=w, pos_weight=pw, smoothing=0.1, scale=0.5, grad_out=g_ref)
        got = K.bce_logits(x, t, weight=w, pos_weight=pw, smoothing=0.1, scale=0.5, grad_out=g)
        assert K.last_path() == "numba"
        close(got, ref, F32)
        assert np.allclose(g, g_ref, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------
# errors: the portable path's messages, from the kernels' own statistics
# ---------------------------------------------------------------------------


def _errors(fn, *args, **options):
    msgs = []
    for impl in (K, P):
        with pytest.raises(ValueError) as info:
            getattr(impl, fn)(*args, **options)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]
    return msgs[0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_errors_match_portable(dtype):
    z = np.zeros((4, 5), dtype)
    y = np.array([0, 1, 2, 3])
    args = dict(smoothing=0.1, scale_z=1.0)
    for bad, row in ((np.nan, 2), (np.inf, 1)):
        zz = z.copy()
        zz[row, 3] = bad
        zz[3, :] = -np.inf  # an all -inf row after: the NaN/+inf error comes first
        msg = _errors("ce_labels", zz, y, **args)
        assert msg == f"`logits` must not contain NaN or +inf; found in row {row}"
        _errors("ce_probs", zz, np.full_like(zz, 0.2), scale_z=1.0)
    zz = z.copy()
    zz[2, :] = -np.inf
    assert "all -inf" in _errors("ce_labels", zz, y, **args)
    yi = y.copy()
    yi[2] = -100  # the same row ignored: fine, zero loss and gradient
    g = np.ones_like(zz)
    main, lse = K.ce_labels(zz, yi, **args, grad_out=g)
    assert main[2] == 0.0 and lse[2] == 0.0 and np.all(g[2] == 0.0)
    zz = z.copy()
    zz[1, 1] = -np.inf
    assert "-inf at the target class" in _errors("ce_labels", zz, y, **args)
    t = np.full_like(zz, 0.2)
    assert "positive target" in _errors("ce_probs", zz, t, scale_z=1.0)
    t[1, 1] = 0.0
    t[1, 0] = 0.4
    K.ce_probs(zz, t, scale_z=1.0)  # mass elsewhere: fine
    x = np.zeros((3, 4), dtype)
    for bad in (np.nan, np.inf, -np.inf):
        xx = x.copy()
        xx[1, 2] = bad
        msg = _errors("bce_logits", xx, np.zeros_like(xx))
        assert "index (1, 2)" in msg
        xi = xx.copy()  # in place: the message still shows the bad value
        with pytest.raises(ValueError, match="index \\(1, 2\\)") as info:
            K.bce_logits(xi, np.zeros_like(xi), grad_out=xi)
        assert str(info.value) == msg


# ---------------------------------------------------------------------------
# dispatch
# ---------------------------------------------------------------------------


def test_dispatch_paths(monkeypatch):
    rng = np.random.default_rng(5)
    z = rng.standard_normal((8, 6)).astype(F32)
    y = rng.integers(0, 6, 8)
    ref = P.ce_labels(z, y, scale_z=1.0)

    def run(zz, grad_out=None, expect="numba"):
        assert K.which_path(zz, grad_out) == expect
        got = K.ce_labels(zz, y, scale_z=1.0, grad_out=grad_out)
        assert K.last_path() == expect
        close(got[0], ref[0], F32)

    run(z)
    run(np.asfortranarray(z), expect="portable")  # not C-contiguous
    wide = np.zeros((8, 12), F32)
    wide[:, ::2] = z
    run(wide[:, ::2], expect="portable")  # strided view
    ro = z.copy()
    ro.flags.writeable = False
    run(ro)  # read-only logits are only read: numba
    run(z, np.empty((8, 6), F64), expect="portable")  # gradient of another dtype
    run(z, np.empty((8, 6), F32)[:, ::1])
    buf = np.empty((9, 6), F32)
    zc = buf[:8]
    zc[...] = z
    run(zc, buf[1:], expect="portable")  # partial overlap with the logits
    gro = np.empty_like(z)
    gro.flags.writeable = False
    assert K.which_path(z, gro) == "portable"  # (callers never pass one: check_out refuses)
    assert K.which_path(z.astype(np.float16)) == "portable"
    monkeypatch.setenv("LOGLOSS_DISABLE_NUMBA", "1")
    run(z, expect="portable")
    x = np.zeros(10, F32)
    K.bce_logits(x, x)
    assert K.last_path() == "portable"


def test_public_api_float16_and_axis_take_the_right_path():
    rng = np.random.default_rng(6)
    z = rng.standard_normal((5, 7)).astype(np.float16)
    y = rng.integers(0, 7, 5)
    v16 = ll.cross_entropy(z, y)  # float16 is computed in float32: the kernels' float32
    assert K.last_path() == "numba"
    assert v16.dtype == np.float16
    v32 = ll.cross_entropy(z.astype(F32), y)
    assert abs(float(v16) - float(v32)) <= 1e-3 * abs(float(v32))


def test_import_is_light_and_numba_lazy():
    code = textwrap.dedent(
        """
        import sys, time
        t = time.perf_counter()
        import logloss
        dt = time.perf_counter() - t
        assert "numba" not in sys.modules, "numba imported by import logloss"
        import numpy as np
        logloss.cross_entropy(np.zeros((2, 3), np.float32), np.array([0, 1]))
        assert "numba" in sys.modules
        print(dt)
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_results_do_not_depend_on_thread_count(tmp_path):
    code = textwrap.dedent(
        """
        import numpy as np, hashlib
        from logloss import _kernels as K
        rng = np.random.default_rng(0)
        z = rng.standard_normal((301, 517)).astype(np.float32)
        y = rng.integers(0, 517, 301)
        g = np.empty_like(z)
        m, l = K.ce_labels(z, y, smoothing=0.1, z_loss=1e-3, scale=0.5, scale_z=0.5, grad_out=g)
        x = rng.standard_normal(100_003).astype(np.float32)
        gb = np.empty_like(x)
        b = K.bce_logits(x, (x > 0).astype(np.float32), grad_out=gb)
        assert K.last_path() == "numba"
        X = rng.standard_normal((20_011, 37)).astype(np.float32)
        mv = K.matvec(X, rng.standard_normal(37).astype(np.float32))
        rv = K.rmatvec(X, rng.standard_normal(20_011).astype(np.float32))
        t = (rng.random(20_011) < 0.5).astype(np.float32)
        lg = K.logistic_loss_grad(X, t, None, rng.standard_normal(37).astype(np.float32), 0.1, 0.5)
        h = hashlib.sha256()
        for a in (m, l, g, b, gb, mv, rv, np.array(lg[0]), lg[1], np.array(lg[2])):
            h.update(a.tobytes())
        print(h.hexdigest())
        """
    )
    digests = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        env.pop("LOGLOSS_DISABLE_NUMBA", None)
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert res.returncode == 0, res.stderr
        digests.append(res.stdout.strip())
    assert digests[0] == digests[1]


# ---------------------------------------------------------------------------
# public API: out= semantics and PyTorch
# ---------------------------------------------------------------------------


def test_out_semantics():
    rng = np.random.default_rng(7)
    z = rng.standard_normal((6, 9)).astype(F32)
    y = rng.integers(0, 9, 6)
    keep = z.copy()
    vg = ll.value_and_grad(ll.cross_entropy)
    v, g = vg(z, y, label_smoothing=0.1)
    assert np.array_equal(z, keep)  # not overwritten unless asked
    v2, g2 = vg(z, y, label_smoothing=0.1, out=z)
    assert g2 is z and K.last_path() == "numba"
    assert v2 == v and np.array_equal(z, g)
    for bad in (np.empty((6, 8), F32), np.empty((6, 9), F64)):
        with pytest.raises(ValueError, match="`out`"):
            vg(keep, y, out=bad)


def test_cross_entropy_against_torch():
    torch = torch_or_skip()
    F = torch.nn.functional
    rng = np.random.default_rng(8)
    n, c = 31, 11
    for dt in DTYPES:
        z = (rng.standard_normal((n, c)) * 4).astype(dt)
        y = rng.integers(0, c, n)
        y[3] = -100
        w = rng.uniform(0.5, 2, c).astype(dt)
        for ww, eps in itertools.product((None, w), (0.0, 0.1)):
            zt = torch.tensor(z, requires_grad=True)
            ref = F.cross_entropy(
                zt,
                torch.tensor(y),
                weight=None if ww is None else torch.tensor(ww),
                label_smoothing=eps,
            )
            ref.backward()
            zz = z.copy()
            v, g = ll.value_and_grad(ll.cross_entropy)(
                zz, y, weight=ww, label_smoothing=eps, out=zz
            )
            assert K.last_path() == "numba"
            close(v, ref.item(), dt)
            assert np.allclose(g, zt.grad.numpy(), rtol=0, atol=32 * np.finfo(dt).eps)
        t = rng.dirichlet(np.ones(c), n).astype(dt)
        zt = torch.tensor(z, requires_grad=True)
        ref = F.cross_entropy(zt, torch.tensor(t), label_smoothing=0.05)
        ref.backward()
        v, g = ll.value_and_grad(ll.cross_entropy)(z, t, label_smoothing=0.05)
        close(v, ref.item(), dt)
        assert np.allclose(g, zt.grad.numpy(), rtol=0, atol=32 * np.finfo(dt).eps)


def test_bce_with_logits_against_torch():
    torch = torch_or_skip()
    F = torch.nn.functional
    rng = np.random.default_rng(9)
    for dt in DTYPES:
        x = (rng.standard_normal((50, 4)) * 5).astype(dt)
        t = rng.uniform(size=x.shape).astype(dt)
        w = rng.uniform(0.1, 2, x.shape).astype(dt)
        pw = rng.uniform(0.1, 3, (4,)).astype(dt)
        xt = torch.tensor(x, requires_grad=True)
        ref = F.binary_cross_entropy_with_logits(
            xt, torch.tensor(t), weight=torch.tensor(w), pos_weight=torch.tensor(pw)
        )
        ref.backward()
        v, g = ll.value_and_grad(ll.binary_cross_entropy_with_logits)(x, t, weight=w, pos_weight=pw)
        assert K.last_path() == "numba"
        close(v, ref.item(), dt)
        assert np.allclose(g, xt.grad.numpy(), rtol=0, atol=32 * np.finfo(dt).eps)


# ---------------------------------------------------------------------------
# accuracy against float64 references
# ---------------------------------------------------------------------------


def _ce_reference(z, y):
    """float64 per-row CE and gradient p - onehot."""
    z = z.astype(F64)
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    lse = (m + np.log(s))[:, 0]
    g = e / s
    g[np.arange(len(y)), y] -= 1.0
    return lse - z[np.arange(len(y)), y], g


def test_float32_kernel_accuracy_in_eps_units():
    rng = np.random.default_rng(11)
    eps32 = np.finfo(F32).eps
    for scale in (0.01, 1.0, 30.0, 1e4):
        z = (rng.standard_normal((64, 1000)) * scale).astype(F32)
        y = rng.integers(0, 1000, 64)
        g = np.empty_like(z)
        main, _ = K.ce_labels(z, y, grad_out=g)
        ref, gref = _ce_reference(z, y)
        # the loss lse - z_y: error in units of eps relative to the size of its terms
        size = np.abs(z).max(axis=1) + np.log(1000) + 1.0
        assert np.max(np.abs(main - ref) / size) <= 8 * eps32, scale
        assert np.max(np.abs(g - gref)) <= 8 * eps32, scale


def test_one_row_of_200k_classes():
    rng = np.random.default_rng(12)
    c = 200_000
    for dt in DTYPES:
        z = rng.standard_normal((2, c)).astype(dt)
        z[1, ::7] = -np.inf
        y = np.array([123_456, 199_999])
        w = rng.uniform(0.5, 2, c).astype(dt)
        g_ref = np.empty_like(z)
        ref = P.ce_labels(
            z, y, weight=w, smoothing=0.1, z_loss=1e-4, scale=0.5, scale_z=0.5, grad_out=g_ref
        )
        g = z.copy()
        got = K.ce_labels(
            g, y, weight=w, smoothing=0.1, z_loss=1e-4, scale=0.5, scale_z=0.5, grad_out=g
        )
        assert K.last_path() == "numba"
        close(got[0], ref[0], dt, factor=16)
        close(got[1], ref[1], dt, factor=16)
        assert np.max(np.abs(g - g_ref)) <= 16 * np.finfo(dt).eps * np.abs(g_ref).max()
        main64, _ = _ce_reference(z[:1].astype(F64), y[:1])
        plain = K.ce_labels(z[:1], y[:1])[0]
        assert abs(plain[0] - main64[0]) <= 8 * np.finfo(dt).eps * (abs(main64[0]) + 5)


# ---------------------------------------------------------------------------
# long rows, value only: one pass over memory (_max_sumexp_online)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_long_rows_value_only_match_portable(dtype):
    rng = np.random.default_rng(21)
    c = 40_000  # above _ONLINE_MIN: the value-only call takes the one-pass path
    z = (rng.standard_normal((6, c)) * 4).astype(dtype)
    z[0, 30_000] = 60.0  # the max in a late block: the running sum is rescaled
    z[1, :5000] = -np.inf  # leading masked blocks before the first finite one
    z[2, 2048:4096] = -np.inf  # a whole masked block in the middle
    z[3, ::3] = -np.inf
    z[4] = np.linspace(-50, 50, c, dtype=dtype)  # the max grows in every block
    y = np.array([30_000, 7000, 100, 1, c - 1, -100])
    w = rng.uniform(0.5, 2, c).astype(dtype)
    for ww, cap, zl in ((None, None, 0.0), (w, None, 1e-3), (None, 30.0, 0.0)):
        ref = P.ce_labels(z, y, weight=ww, softcap=cap, z_loss=zl, scale_z=1.0)
        got = K.ce_labels(z, y, weight=ww, softcap=cap, z_loss=zl, scale_z=1.0)
        assert K.last_path() == "numba"
        size = np.abs(z[np.isfinite(z)]).max() + np.log(c)
        close(got[0], ref[0], dtype, factor=16, floor=size)
        close(got[1], ref[1], dtype, factor=16, floor=size)
    # against a float64 formula, no masking
    zf = z[4:5].astype(F64)
    lse = np.log(np.sum(np.exp(zf - zf.max()))) + zf.max()
    got = K.ce_labels(z[4:5], y[4:5])[0]
    assert abs(got[0] - (lse - zf[0, -1])) <= 16 * np.finfo(dtype).eps * 60


@pytest.mark.parametrize("dtype", DTYPES)
def test_long_rows_value_only_errors_match_portable(dtype):
    c = 20_000
    z = np.zeros((3, c), dtype)
    y = np.array([0, 1, 2])
    args = dict(scale_z=1.0)
    for bad, col in ((np.nan, 5), (np.nan, 19_999), (np.inf, 12_000)):
        zz = z.copy()
        zz[1, col] = bad
        msg = _errors("ce_labels", zz, y, **args)
        assert msg == "`logits` must not contain NaN or +inf; found in row 1"
    zz = z.copy()
    zz[1, :] = -np.inf
    zz[1, 15_000] = np.nan  # NaN hidden among -inf: still NaN, not "all -inf"
    assert "NaN" in _errors("ce_labels", zz, y, **args)
    zz = z.copy()
    zz[1, :4096] = -np.inf
    zz[1, 100] = np.nan  # NaN in a masked block before the first finite one
    assert "NaN" in _errors("ce_labels", zz, y, **args)
    zz = z.copy()
    zz[2, :] = -np.inf
    assert "all -inf" in _errors("ce_labels", zz, y, **args)
    zz = z.copy()
    zz[1, 1] = -np.inf
    assert "-inf at the target class" in _errors("ce_labels", zz, y, **args)


# ---------------------------------------------------------------------------
# BCE: in-kernel reduction and target check
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_reduce_equals_scaled_sum_of_elements(dtype):
    rng = np.random.default_rng(22)
    x = (rng.standard_normal(50_001) * 5).astype(dtype)  # several blocks, a partial last one
    t = rng.uniform(0, 1, x.shape).astype(dtype)
    w = rng.uniform(0.1, 2, x.shape).astype(dtype)
    for ww, scale in ((None, 1.0), (w, 1.0 / x.size)):
        per = P.bce_logits(x, t, weight=ww, smoothing=0.1, scale=scale)
        g = np.empty_like(x)
        parts = K.bce_logits(x, t, weight=ww, smoothing=0.1, scale=scale, grad_out=g, reduce=True)
        assert K.last_path() == "numba" and parts.dtype == F64 and parts.size < x.size
        ref = float(np.sum(per.astype(F64)) * scale)
        assert abs(parts.sum() - ref) <= 16 * np.finfo(dtype).eps * abs(ref)
        g_ref = np.empty_like(x)
        P.bce_logits(x, t, weight=ww, smoothing=0.1, scale=scale, grad_out=g_ref)
        # a difference of two terms: judged on their size, scale * w
        mag = scale * (1.0 if ww is None else ww.astype(F64))
        assert np.all(np.abs(g - g_ref) <= 16 * np.finfo(dtype).eps * mag)
    # the portable path with reduce: the same contract
    xs = x[::2]
    parts = K.bce_logits(xs, t[::2], scale=0.5, reduce=True)
    assert K.last_path() == "portable"
    ref = float(np.sum(P.bce_logits(xs, t[::2], scale=0.5))) * 0.5
    assert abs(parts.sum() - ref) <= 1e-12 * abs(ref)


def test_bce_mean_near_float64_max_stays_finite():
    x = np.full(20_000, -np.finfo(F64).max / 4)  # each loss max/4: their sum overflows
    t = np.ones_like(x)
    value = ll.binary_cross_entropy_with_logits(x, t)
    assert np.isfinite(value) and value == pytest.approx(np.finfo(F64).max / 4, rel=1e-12)
    loss, g = ll.value_and_grad(ll.binary_cross_entropy_with_logits)(x, t)
    assert loss == value and np.all(np.isfinite(g))


@pytest.mark.parametrize("bad", [1.5, -0.25, np.nan])
def test_bce_target_checked_in_kernel_with_the_validation_message(bad):
    x = np.zeros((30, 1000), F32)
    t = np.full_like(x, 0.5)
    t[17, 123] = bad
    want = f"`target` must be in [0, 1]; got {bad} at index (17, 123)"
    with pytest.raises(ValueError) as info:
        ll.binary_cross_entropy_with_logits(x, t)
    assert K.last_path() == "numba"
    assert str(info.value) == want
    msgs = []
    for disable in ("", "1"):
        os.environ["LOGLOSS_DISABLE_NUMBA"] = disable
        try:
            for fn in (
                lambda: ll.binary_cross_entropy_with_logits(x, t),
                lambda: ll.value_and_grad(ll.binary_cross_entropy_with_logits)(x, t),
                lambda: ll.binary_cross_entropy_with_logits(x, t, reduction="none"),
            ):
                with pytest.raises(ValueError) as info:
                    fn()
                msgs.append(str(info.value))
        finally:
            os.environ.pop("LOGLOSS_DISABLE_NUMBA", None)
    assert len(set(msgs)) == 1, msgs  # kernel and portable path: one message
    if bad == bad:  # unchecked (a caller that validated its targets): computed, like portable
        got = K.bce_logits(x, t, reduce=True)
        assert K.last_path() == "numba"
        ref = P.bce_logits(x, t).sum()
        assert abs(got.sum() - ref) <= 1e-6 * abs(ref)


def test_bce_overflow_from_finite_weights_is_a_clear_error():
    x = np.full(10, -1e38, F32)
    with pytest.raises(ValueError, match="overflows float32"):
        K.bce_logits(x, np.ones_like(x), pos_weight=np.full(10, 10.0, F32))


# ---------------------------------------------------------------------------
# matrix-vector products of one-logit linear models
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_matvec_and_rmatvec_against_float64(dtype, monkeypatch):
    rng = np.random.default_rng(23)
    X = rng.standard_normal((30_001, 53)).astype(dtype)  # rows not a multiple of the slices
    w = rng.standard_normal(53).astype(dtype)
    g = rng.standard_normal(30_001).astype(dtype)
    X64 = X.astype(F64)
    eps = np.finfo(dtype).eps
    z = K.matvec(X, w)
    assert z.dtype == dtype and z.shape == (30_001,)
    ref = X64 @ w.astype(F64)
    assert np.all(np.abs(z - ref) <= 8 * eps * (np.abs(X64) @ np.abs(w.astype(F64))))
    out = np.empty(30_001, dtype)
    assert K.matvec(X, w, out) is out and np.array_equal(out, z)
    r = K.rmatvec(X, g)
    assert r.dtype == F64 and r.shape == (53,)
    ref = X64.T @ g.astype(F64)
    # float64 totals of 256-row blocks: far tighter than a float32 sum over all rows
    bound = 256 * eps * (np.abs(X64).T @ np.abs(g.astype(F64))) / 16
    assert np.all(np.abs(r - ref) <= bound)
    # the NumPy fallbacks (small X, disabled numba, other dtypes) agree
    monkeypatch.setenv("LOGLOSS_DISABLE_NUMBA", "1")
    assert np.allclose(K.matvec(X, w), z, rtol=64 * eps, atol=64 * eps * 50)
    assert np.allclose(K.rmatvec(X, g), r, rtol=1e-3 if dtype == F32 else 1e-10)
    monkeypatch.delenv("LOGLOSS_DISABLE_NUMBA")
    small = X[:10]
    assert np.allclose(K.rmatvec(small, g[:10]), X64[:10].T @ g[:10].astype(F64), rtol=1e-5)
    assert np.allclose(K.rmatvec(X, g.astype(np.float16)), ref, rtol=1e-2, atol=1e-1)


def test_kernels_wait_passively_unless_the_user_chose_a_policy():
    """Spinning OpenMP threads starve BLAS's on a small machine: see ``_kernels.threads``.

    Importing logloss, numba or a kernel module leaves the environment alone; the first
    kernel call sets the policy, before numba's first parallel launch starts OpenMP.
    """
    code = (
        "import os, numpy as np; import logloss; from logloss import _kernels as K; "
        "from logloss._kernels import _numba_ce; "
        "before = os.environ.get('OMP_WAIT_POLICY'); "
        "K.ce_labels(np.zeros((2, 3)), np.array([0, 1])); "
        "assert K.last_path() == 'numba'; "
        "print(before, os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
    )
    presets = (
        ({}, "None PASSIVE None"),
        ({"OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE ACTIVE None"),
        ({"GOMP_SPINCOUNT": "1000"}, "None None 1000"),
    )
    for preset, want in presets:
        env = {
            k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
        }
        env.pop("LOGLOSS_DISABLE_NUMBA", None)
        env.update(preset)
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == want


def _unaligned(a):
    """A copy of `a` at an address that is not a multiple of its item size."""
    buf = np.empty(a.nbytes + 1, np.uint8)
    out = np.frombuffer(buf[1:].data, dtype=a.dtype).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_unaligned_arrays_take_the_kernels(dtype):
    """Dask hands over blocks received from another worker at odd addresses."""
    rng = np.random.default_rng(24)
    z = rng.standard_normal((300, 40)).astype(dtype)
    y = rng.integers(0, 40, 300)
    zu = _unaligned(z)
    want = K.ce_labels(z, y, smoothing=0.1, grad_out=np.empty_like(z))
    g = np.empty_like(z)
    got = K.ce_labels(zu, y, smoothing=0.1, grad_out=g)
    assert K.last_path() == "numba"
    assert np.array_equal(got[0], want[0])
    x = rng.standard_normal(70_000).astype(dtype)
    t = (x > 0).astype(dtype)
    xu = _unaligned(x)
    want = K.bce_logits(x, t, reduce=True)
    assert np.array_equal(K.bce_logits(xu, t, reduce=True), want)
    assert K.last_path() == "numba"
    X = rng.standard_normal((5000, 30)).astype(dtype)
    Xu = _unaligned(X)
    w = rng.standard_normal(30).astype(dtype)
    assert matvec_route(Xu, w)
    assert np.array_equal(K.matvec(Xu, w), K.matvec(X, w))
    assert np.array_equal(K.rmatvec(Xu, x[:5000]), K.rmatvec(X, x[:5000]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_logistic_equals_the_unfused_passes(dtype):
    """One pass over X (z = X w + b, BCE, X^T g) against matvec + bce_logits + rmatvec."""
    rng = np.random.default_rng(25)
    n, d = 30_001, 23
    X = rng.standard_normal((n, d)).astype(dtype)
    w = (rng.standard_normal(d) * 0.5).astype(dtype)
    y = (rng.random(n) < 0.4).astype(dtype)
    s = rng.uniform(0, 2, n).astype(dtype)
    s /= s.sum()
    eps = np.finfo(dtype).eps
    for weights, scale in ((None, 1.0 / n), (s, 1.0)):
        loss, gw, gb = K.logistic_loss_grad(X, y, weights, w, 0.3, scale)
        assert K.last_path() == "numba"
        z = X.astype(F64) @ w.astype(F64) + 0.3
        per = np.logaddexp(0.0, z) - y * z  # BCE from logits, float64
        sw = np.full(n, scale) if weights is None else weights.astype(F64)
        ref_loss = float(per @ sw)
        g = (1.0 / (1.0 + np.exp(-z)) - y) * sw
        assert abs(loss - ref_loss) <= 64 * eps * abs(ref_loss)
        size = np.abs(X.astype(F64)).T @ np.abs(sw)
        assert np.all(np.abs(gw - X.astype(F64).T @ g) <= 64 * eps * size)
        assert abs(gb - g.sum()) <= 64 * eps * sw.sum()
        value_only = K.logistic_loss_grad(X, y, weights, w, 0.3, scale, need_grad=False)
        assert value_only[1] is None and value_only[0] == loss
    # not applicable: small X, other dtypes of y, numba disabled -> None (the caller's path)
    assert K.logistic_loss_grad(X[:10], y[:10], None, w, 0.0, 1.0) is None
    assert K.logistic_loss_grad(X, y.astype(np.float16), None, w, 0.0, 1.0) is None
    # a non-finite loss (overflowing logits) is left to the unfused path and its error
    big = np.full(d, np.finfo(dtype).max / 4, dtype)
    with np.errstate(over="ignore"):
        assert K.logistic_loss_grad(np.abs(X), 1 - y, None, big, 0.0, 1.0) is None


def test_linear_objective_takes_the_fused_pass_for_binary_problems():
    from logloss.objectives import LinearObjective

    rng = np.random.default_rng(26)
    X = rng.standard_normal((20_000, 12))
    y = (X @ rng.standard_normal(12) > 0).astype(int)
    theta = rng.standard_normal(13) * 0.3
    f = LinearObjective(X, y, n_classes=2, link="sigmoid", alpha=0.5)
    fused = f(theta)
    assert K.last_path() == "numba"
    f.store_hessian = True  # the Newton path keeps per-row curvature: the unfused passes
    unfused = f(theta)
    assert abs(fused[0] - unfused[0]) <= 1e-12 * abs(unfused[0])
    assert np.allclose(fused[1], unfused[1], rtol=1e-10, atol=1e-14)
