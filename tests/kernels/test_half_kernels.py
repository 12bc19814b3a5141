"""The 16-bit kernels (``ce_labels_half``, ``ce_probs_half``) on bfloat16 and float16 bits.

References: the float64 portable path on the SAME 16-bit values widened exactly (loss and
lse within float32 accuracy, the gradient within half an ulp of the 16-bit type plus the
float32 kernel's error), the float32 kernel on the widened logits (bit for bit: the half
kernels run its row functions), and PyTorch's ``F.cross_entropy``.
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from logloss import _kernels as K
from logloss._kernels import _portable as P
from logloss._kernels.half import narrow_half, widen_half

pytestmark = pytest.mark.xdist_group("numba")

KINDS = ("bfloat16", "float16")
F32_EPS = float(np.finfo(np.float32).eps)
BITS = {"bfloat16": 8, "float16": 11}  # significant bits
MAX = {"bfloat16": float(np.float32(3.3895314e38)), "float16": 65504.0}


@pytest.fixture(autouse=True)
def _numba_enabled(monkeypatch):
    monkeypatch.delenv("LOGLOSS_DISABLE_NUMBA", raising=False)


def torch_or_skip():
    if os.environ.get("LOGLOSS_REQUIRE_TORCH") == "1":
        import torch
    else:
        torch = pytest.importorskip("torch")
    return torch


def half_ulp(x, kind):
    """Half an ulp of `kind` at |x| (float64), subnormal steps included."""
    _, e = np.frexp(np.abs(np.asarray(x, np.float64)))
    h = np.ldexp(1.0, e - 1 - BITS[kind])
    tiny = 2.0**-25 if kind == "float16" else 2.0**-134
    return np.maximum(h, tiny)


def bits_of(z32, kind):
    return narrow_half(np.asarray(z32, np.float32), kind)


def wide64(bits, kind):
    return widen_half(bits, kind).astype(np.float64)


def close32(a, b, factor=64.0):
    """|a - b| <= factor eps32 (|b| + 1), elementwise."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    err = np.abs(a - b)
    tol = factor * F32_EPS * (np.abs(b) + 1.0)
    assert np.all(err <= tol), f"max excess {np.max(err - tol)} at {np.argmax(err - tol)}"


def grad_ok(g_bits, g_ref, kind, gscale):
    """The 16-bit gradient within half an ulp of `kind` (at |ref| + the float32 error) plus
    the float32 kernel's error (64 eps32 times the row's gradient scale)."""
    g = wide64(g_bits, kind)
    d = 64 * F32_EPS * gscale
    err = np.abs(g - g_ref)
    tol = half_ulp(np.abs(g_ref) + d, kind) + d
    assert np.all(err <= tol), f"max excess {np.max(err - tol)} at {np.argmax(err - tol)}"


def via_float32(entry, z, target, kind, grad, **options):
    """The float32 entry point on the widened logits, in place, the gradient rounded back."""
    x = widen_half(z, kind)
    main, lse = entry(x, target, grad_out=x if grad else None, **options)
    return main, lse, (narrow_half(x, kind) if grad else None)


def half_three_ways(entry, z, target, kind, **options):
    """(value only, separate gradient, in place): results and 16-bit gradients."""
    val = entry(z, target, kind=kind, **options)
    assert K.last_path() == "numba"
    g = np.full_like(z, 0x7FC0)
    sep = entry(z, target, kind=kind, grad_out=g, **options)
    zz = z.copy()
    inp = entry(zz, target, kind=kind, grad_out=zz, **options)
    return val, sep, g, inp, zz


def masked_logits(rng, n, c, scale=3.0):
    z = (rng.standard_normal((n, c)) * scale).astype(np.float32)
    if c > 3:
        z[1, 1:3] = -np.inf  # masked classes in a counted row
        z[2, :] = -np.inf  # an all-masked row (its label is ignore_index)
    return z


def labels(rng, n, c):
    y = rng.integers(0, c, n)
    y[0] = -100
    if c > 3:
        y[1] = 0
        y[2] = -100
    return y


# ---------------------------------------------------------------------------
# the conversions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_conversions_exact_and_round_to_nearest_even(kind):
    from logloss._kernels import _numba_half as H

    torch = torch_or_skip()
    every = np.arange(2**16, dtype=np.uint16).reshape(1, -1)
    wide = np.empty(every.shape, np.float32)
    H.widen_rows(every, kind == "bfloat16", wide)
    if kind == "float16":
        ref = every.view(np.float16).astype(np.float32)
    else:
        ref = torch.from_numpy(every.view(np.int16)).view(torch.bfloat16).float().numpy()
    assert np.array_equal(wide.view(np.uint32), ref.view(np.uint32))  # NaN payloads too
    assert np.array_equal(widen_half(every, kind).view(np.uint32), ref.view(np.uint32))
    rng = np.random.default_rng(1)
    finite = wide[0][np.isfinite(wide[0])]
    # halfway between neighbours (normal values): the ties, to even
    ties = finite.view(np.uint32) + np.uint32(0x8000 if kind == "bfloat16" else 0x1000)
    x = np.concatenate(
        [
            rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32),
            (rng.standard_normal(200_000) * 10.0 ** rng.integers(-9, 6, 200_000)).astype(
                np.float32
            ),
            ties.view(np.float32),
            np.array(
                [0.0, -0.0, np.inf, -np.inf, 65504, 65519.99, 65520, 3.4e38, 1e-45], np.float32
            ),
        ]
    )[None, :]
    out = np.empty(x.shape, np.uint16)
    H.narrow_rows(x, kind == "bfloat16", out)
    if kind == "float16":
        with np.errstate(over="ignore"):
            ref16 = x.astype(np.float16).view(np.uint16)
    else:
        ref16 = torch.from_numpy(x).bfloat16().view(torch.int16).numpy().view(np.uint16)
    nan = np.isnan(x)
    assert np.array_equal(out[~nan], ref16[~nan])
    assert np.isnan(widen_half(out[nan], kind)).all()  # NaN stays NaN (a quiet one)
    assert np.array_equal(narrow_half(x, kind)[~nan], ref16[~nan])
    assert np.isnan(widen_half(narrow_half(x, kind)[nan], kind)).all()


# ---------------------------------------------------------------------------
# ce_labels_half: every option, against float64 and the float32 kernel
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("c", [1, 5, 300])
def test_ce_labels_half_every_option(kind, c):
    rng = np.random.default_rng(c)
    n = 23
    z = bits_of(masked_logits(rng, n, c), kind)
    z64 = wide64(z, kind)
    y = labels(rng, n, c)
    w = rng.uniform(0.2, 3.0, c)
    combos = itertools.product(
        (None, w), (0.0, 0.15), (None, 4.0), (0.0, 1e-3), ((1.0, 1.0), (0.25, 0.5))
    )
    for ww, eps, cap, zl, (sm, sz) in combos:
        opts = dict(weight=ww, smoothing=eps, softcap=cap, z_loss=zl, scale=sm, scale_z=sz)
        g_ref = np.empty_like(z64)
        ref = P.ce_labels(z64, y, grad_out=g_ref, **opts)
        val, sep, g_sep, inp, g_inp = half_three_ways(K.ce_labels_half, z, y, kind, **opts)
        f32 = via_float32(K.ce_labels, z, y, kind, True, **opts)
        f32_val = via_float32(K.ce_labels, z, y, kind, False, **opts)
        for got, want in ((val, f32_val), (sep, f32), (inp, f32)):
            close32(got[0], ref[0])
            close32(got[1], ref[1])
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        assert np.array_equal(g_sep, f32[2]) and np.array_equal(g_inp, f32[2])
        wmax = 1.0 if ww is None else float(ww.max())
        gscale = np.abs(g_ref).max(axis=1) + 2 * sm * wmax + 2 * zl * sz * np.abs(ref[1])
        grad_ok(g_sep, g_ref, kind, gscale[:, None])
        assert np.all(g_sep[np.isneginf(z64)] == 0)  # masked classes: zero gradient
        assert np.all(g_sep[y == -100] == 0)  # ignored rows: zero gradient


@pytest.mark.parametrize("kind", KINDS)
def test_ce_labels_half_ignore_index_and_long_rows(kind):
    rng = np.random.default_rng(3)
    z = bits_of(rng.standard_normal((5, 20_000)) * 4, kind)  # value-only rows of one pass
    y = rng.integers(0, 20_000, 5)
    y[1] = 7
    z64 = wide64(z, kind)
    for opts in (dict(ignore_index=7), dict(smoothing=0.1, ignore_index=7)):
        g_ref = np.empty_like(z64)
        ref = P.ce_labels(z64, y, grad_out=g_ref, **opts)
        val, sep, g, inp, g_inp = half_three_ways(K.ce_labels_half, z, y, kind, **opts)
        for got in (val, sep, inp):
            close32(got[0], ref[0])
            close32(got[1], ref[1])
        assert val[0][1] == 0 and np.all(g[1] == 0)
        assert np.array_equal(g, g_inp)
        grad_ok(g, g_ref, kind, np.abs(g_ref).max(axis=1)[:, None] + 2.0)


@pytest.mark.parametrize("kind", KINDS)
def test_ce_labels_half_huge_logits(kind):
    """±1e4 ties and logits near the 16-bit type's largest finite value."""
    big = MAX[kind]
    c = 9
    z32 = np.zeros((6, c), np.float32)
    z32[0, [1, 4]] = 1e4  # a tie at the max
    z32[0, [2, 5]] = -1e4
    z32[1, :] = 1e4  # every class tied
    z32[2, [0, 3]] = big
    z32[2, 5] = -big
    z32[3, :] = -big
    z32[3, 6] = -np.inf
    z32[4, 2] = big
    z32[4, 7] = big * 0.5
    z32[5, :] = np.linspace(-big, big, c)
    z = bits_of(z32, kind)
    z64 = wide64(z, kind)
    assert np.isfinite(z64[:, :6]).all() and z64[2, 0] == big
    y = np.array([1, 8, 3, 0, 7, 4])
    for opts in (dict(), dict(smoothing=0.1), dict(z_loss=1e-4, scale_z=1.0), dict(softcap=30.0)):
        g_ref = np.empty_like(z64)
        ref = P.ce_labels(z64, y, grad_out=g_ref, **opts)
        val, sep, g, inp, g_inp = half_three_ways(K.ce_labels_half, z, y, kind, **opts)
        f32 = via_float32(K.ce_labels, z, y, kind, True, **opts)
        f32_val = via_float32(K.ce_labels, z, y, kind, False, **opts)
        for got, want in ((val, f32_val), (sep, f32), (inp, f32)):
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
            close32(got[0], ref[0])
            close32(got[1], ref[1])
        assert np.array_equal(g, f32[2]) and np.array_equal(g_inp, f32[2])
        gscale = np.abs(g_ref).max(axis=1) + 2.0 + 2e-4 * np.abs(ref[1])
        grad_ok(g, g_ref, kind, gscale[:, None])
    main, _ = K.ce_labels_half(z, y, kind=kind)
    assert main[0] == pytest.approx(np.log(2.0), rel=1e-6)  # two tied at the max
    assert main[1] == pytest.approx(np.log(c), rel=1e-6)


# ---------------------------------------------------------------------------
# ce_probs_half
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("c", [1, 6, 300])
def test_ce_probs_half_every_option(kind, c):
    rng = np.random.default_rng(10 + c)
    n = 17
    z32 = masked_logits(rng, n, c)
    z32[2, 0] = 1.0  # ce_probs counts every row: no all-masked row
    z = bits_of(z32, kind)
    z64 = wide64(z, kind)
    t = rng.dirichlet(np.ones(c), n).astype(np.float32)
    if c > 3:
        t[1, 1:3] = 0.0
        t[2] = 0.0
        t[2, 0] = 1.0
    w = rng.uniform(0.2, 3.0, c)
    combos = itertools.product((None, w), (0.0, 0.2), (None, 4.0), (0.0, 1e-3), (1.0, 0.1))
    for ww, eps, cap, zl, sc in combos:
        opts = dict(weight=ww, smoothing=eps, softcap=cap, z_loss=zl, scale=sc, scale_z=2 * sc)
        g_ref = np.empty_like(z64)
        ref = P.ce_probs(z64, t.astype(np.float64), grad_out=g_ref, **opts)
        val, sep, g_sep, inp, g_inp = half_three_ways(K.ce_probs_half, z, t, kind, **opts)
        f32 = via_float32(K.ce_probs, z, t, kind, True, **opts)
        f32_val = via_float32(K.ce_probs, z, t, kind, False, **opts)
        for got, want in ((val, f32_val), (sep, f32), (inp, f32)):
            close32(got[0], ref[0])
            close32(got[1], ref[1])
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        assert np.array_equal(g_sep, f32[2]) and np.array_equal(g_inp, f32[2])
        wmax = 1.0 if ww is None else float(ww.max())
        gscale = np.abs(g_ref).max(axis=1) + 2 * sc * wmax + 4 * zl * sc * np.abs(ref[1])
        grad_ok(g_sep, g_ref, kind, gscale[:, None])


# ---------------------------------------------------------------------------
# errors, paths and arguments
# ---------------------------------------------------------------------------


def _same_error(half, full, z, target, kind, **options):
    with pytest.raises(ValueError) as a:
        half(z, target, kind=kind, **options)
    if options.get("grad_out") is not None:
        options["grad_out"] = np.empty(z.shape, np.float32)
    with pytest.raises(ValueError) as b:
        full(widen_half(z, kind), target, **options)
    assert str(a.value) == str(b.value)
    return str(a.value)


@pytest.mark.parametrize("kind", KINDS)
def test_errors_are_ce_labels_errors(kind):
    z32 = np.zeros((4, 5), np.float32)
    y = np.array([0, 1, 2, 3])
    opts = dict(smoothing=0.1, scale_z=1.0)
    L, Lh, Pr, Ph = K.ce_labels, K.ce_labels_half, K.ce_probs, K.ce_probs_half
    for bad, row in ((np.nan, 2), (np.inf, 1)):
        zz = z32.copy()
        zz[row, 3] = bad
        zz[3, :] = -np.inf  # an all -inf row after: the NaN/+inf error comes first
        z = bits_of(zz, kind)
        msg = _same_error(Lh, L, z, y, kind, **opts)
        assert msg == f"`logits` must not contain NaN or +inf; found in row {row}"
        zi = z.copy()
        assert _same_error(Lh, L, zi, y, kind, grad_out=zi, **opts) == msg
        _same_error(Ph, Pr, z, np.full((4, 5), 0.2, np.float32), kind, scale_z=1.0)
    zz = z32.copy()
    zz[2, :] = -np.inf
    z = bits_of(zz, kind)
    assert "all -inf" in _same_error(Lh, L, z, y, kind, **opts)
    yi = y.copy()
    yi[2] = -100  # the same row ignored: fine, zero loss and gradient
    g = np.full_like(z, 0x3F80)
    main, lse = Lh(z, yi, kind=kind, grad_out=g, **opts)
    assert main[2] == 0.0 and lse[2] == 0.0 and np.all(g[2] == 0)
    zz = z32.copy()
    zz[1, 1] = -np.inf
    z = bits_of(zz, kind)
    assert "-inf at the target class" in _same_error(Lh, L, z, y, kind, **opts)
    t = np.full((4, 5), 0.2, np.float32)
    assert "positive target" in _same_error(Ph, Pr, z, t, kind, scale_z=1.0)
    z[0, 0] = 0xFFFF  # a NaN (negative, quiet) in both kinds
    assert _same_error(Lh, L, z, y, kind, name="x").startswith("`x` must not contain NaN")


def test_bad_arguments():
    z = np.zeros((2, 3), np.uint16)
    y = np.array([0, 1])
    with pytest.raises(ValueError, match="`kind` must be one of"):
        K.ce_labels_half(z, y, kind="float32")
    with pytest.raises(ValueError, match="2-D uint16 array of bfloat16 bits"):
        K.ce_labels_half(z.astype(np.float32), y, kind="bfloat16")
    with pytest.raises(ValueError, match="`grad_out` must be a writeable uint16"):
        K.ce_labels_half(z, y, kind="float16", grad_out=np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="`grad_out` must be a writeable uint16"):
        K.ce_probs_half(z, np.ones((2, 3)) / 3, kind="float16", grad_out=np.zeros(6, np.uint16))


@pytest.mark.parametrize("kind", KINDS)
def test_other_layouts_take_the_numpy_conversion_with_the_same_results(kind, monkeypatch):
    rng = np.random.default_rng(4)
    z = bits_of(masked_logits(rng, 9, 12), kind)
    y = labels(rng, 9, 12)
    t = rng.dirichlet(np.ones(12), 9)
    t[1, 1:3] = 0.0
    t[2, :] = 0.0
    t[2, 0] = 1.0
    zp = z.copy()
    zp[2, 0] = bits_of(np.float32(1.0), kind)
    opts = dict(smoothing=0.1, softcap=6.0, z_loss=1e-3, scale_z=1.0)
    g = np.empty_like(z)
    ref = K.ce_labels_half(z, y, kind=kind, grad_out=g, **opts)
    assert K.last_path() == "numba"
    gp = np.empty_like(z)
    refp = K.ce_probs_half(zp, t, kind=kind, grad_out=gp, **opts)

    def check(got, want, g_got, g_want, exact=True):
        assert K.last_path() == "portable"
        if exact:  # the float32 numba kernel on the widened logits: the same bits
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
            assert np.array_equal(g_got, g_want)
            return
        close32(got[0], want[0])  # the float32 portable path: float32 accuracy
        close32(got[1], want[1])
        a, b = wide64(g_got, kind), wide64(g_want, kind)
        row = np.abs(b).max(axis=1, keepdims=True) + 2.0
        assert np.all(np.abs(a - b) <= 2 * half_ulp(np.abs(b) + 1e-5 * row, kind) + 1e-5 * row)

    wide = np.zeros((9, 24), np.uint16)
    wide[:, ::2] = z  # strided logits and gradient
    gw = np.zeros((9, 24), np.uint16)
    check(K.ce_labels_half(wide[:, ::2], y, kind=kind, grad_out=gw[:, ::2], **opts), ref,
          gw[:, ::2], g)  # fmt: skip
    both = np.concatenate([z, z], axis=1)  # a gradient overlapping the logits, shifted
    got = K.ce_labels_half(both[:, :12], y, kind=kind, grad_out=both[:, 1:13], **opts)
    check(got, ref, both[:, 1:13], g)
    monkeypatch.setenv("LOGLOSS_DISABLE_NUMBA", "1")
    g2 = np.empty_like(z)
    check(K.ce_labels_half(z, y, kind=kind, grad_out=g2, **opts), ref, g2, g, False)
    g3 = np.empty_like(z)
    check(K.ce_probs_half(zp, t, kind=kind, grad_out=g3, **opts), refp, g3, gp, False)
    zi = zp.copy()
    check(K.ce_probs_half(zi, t, kind=kind, grad_out=zi, **opts), refp, zi, gp, False)


def test_empty_inputs_as_ce_labels():
    z = np.zeros((0, 4), np.uint16)
    main, lse = K.ce_labels_half(z, np.zeros(0, np.int64), kind="bfloat16",
                                 grad_out=np.empty_like(z))  # fmt: skip
    assert main.shape == lse.shape == (0,) and main.dtype == np.float64
    for n in (0, 3):  # no class: ce_labels' error (its callers check for classes first)
        z = np.zeros((n, 0), np.uint16)
        y = np.zeros(n, np.int64)
        _same_error(K.ce_labels_half, K.ce_labels, z, y, "float16", grad_out=np.empty_like(z))


# ---------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_against_torch_cross_entropy(kind):
    torch = torch_or_skip()
    F = torch.nn.functional
    rng = np.random.default_rng(8)
    n, c = 31, 11
    z32 = torch.tensor(rng.standard_normal((n, c)) * 4, dtype=torch.float32)
    if kind == "bfloat16":
        zt16 = z32.to(torch.bfloat16)
        z = zt16.view(torch.int16).numpy().view(np.uint16)
    else:
        z = np.float16(z32.numpy()).view(np.uint16)
        zt16 = torch.from_numpy(z.view(np.float16))
    z64 = zt16.double()
    assert np.array_equal(z64.numpy(), wide64(z, kind))
    y = rng.integers(0, c, n)
    y[3] = -100
    w = rng.uniform(0.5, 2, c)
    for ww, eps in itertools.product((None, w), (0.0, 0.1)):
        wt = None if ww is None else torch.tensor(ww)
        zt = z64.clone().requires_grad_(True)
        per_row = F.cross_entropy(zt, torch.tensor(y), weight=wt, label_smoothing=eps,
                                  reduction="none")  # fmt: skip
        per_row.sum().backward()
        g = np.empty_like(z)
        main, lse = K.ce_labels_half(z, y, kind=kind, weight=ww, smoothing=eps, grad_out=g)
        close32(main, per_row.detach().numpy())
        keep = y != -100  # an ignored row: lse 0, as ce_labels
        close32(lse[keep], torch.logsumexp(z64, dim=1).numpy()[keep])
        assert lse[3] == 0.0
        ref = zt.grad.numpy()
        gscale = np.abs(ref).max(axis=1) + 2 * (1.0 if ww is None else w.max())
        grad_ok(g, ref, kind, gscale[:, None])
    t = torch.tensor(rng.dirichlet(np.ones(c), n), dtype=torch.float32)
    zt = z64.clone().requires_grad_(True)
    per_row = F.cross_entropy(zt, t.double(), label_smoothing=0.05, reduction="none")
    per_row.sum().backward()
    g = np.empty_like(z)
    main, _ = K.ce_probs_half(z, t.numpy(), kind=kind, smoothing=0.05, grad_out=g)
    close32(main, per_row.detach().numpy())
    grad_ok(g, zt.grad.numpy(), kind, np.abs(zt.grad.numpy()).max(axis=1)[:, None] + 2.0)
