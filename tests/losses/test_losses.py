"""Losses against hand-computed values, float64 and mpmath references, invariants, gradients."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from reference import ce_rows64, log_softmax64, mp_bce_logits, mp_cross_entropy, numeric_grad
from support import eps_of

import logloss as ll

ALL_FLOATS = [np.float16, np.float32, np.float64]

# ---------------------------------------------------------------------------
# hand-computed values
# ---------------------------------------------------------------------------


def test_cross_entropy_by_hand():
    # row [0, ln 3]: softmax = [1/4, 3/4]; label 1 -> -log(3/4)
    z = np.array([[0.0, math.log(3.0)]])
    assert ll.cross_entropy(z, np.array([1])) == pytest.approx(-math.log(0.75), rel=1e-15)
    assert ll.cross_entropy(z, np.array([0])) == pytest.approx(math.log(4.0), rel=1e-15)


def test_binary_cross_entropy_is_the_tutorials_two_branches():
    h = np.array([0.8, 0.8, 0.25, 0.25])
    y = np.array([1, 0, 1, 0])
    expected = [-math.log(0.8), -math.log(0.2), -math.log(0.25), -math.log(0.75)]
    np.testing.assert_allclose(
        ll.binary_cross_entropy(h, y, reduction="none"), expected, rtol=1e-15
    )


def test_mean_bce_is_negative_log_likelihood_over_n():
    rng = np.random.default_rng(0)
    h = rng.uniform(0.01, 0.99, 50)
    y = (rng.uniform(size=50) < h).astype(float)
    pairs = zip(h, y, strict=True)
    log_lik = sum(math.log(hi) if yi == 1 else math.log(1 - hi) for hi, yi in pairs)
    assert ll.binary_cross_entropy(h, y) == pytest.approx(-log_lik / 50, rel=1e-14)


def test_tails_are_exact():
    assert ll.cross_entropy(np.array([[1e4, -1e4]]), np.array([1])) == 2e4
    assert ll.cross_entropy(np.array([[1e4, -1e4]]), np.array([0])) == 0.0
    assert ll.binary_cross_entropy_with_logits(np.array([-1e4]), np.array([1.0])) == 1e4
    assert ll.binary_cross_entropy_with_logits(np.array([1e4]), np.array([1.0])) == 0.0
    assert ll.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0])) == 100.0
    assert ll.binary_cross_entropy(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0


# ---------------------------------------------------------------------------
# extremes, every dtype: finite, no warnings, close to mpmath
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize("scale", [1e-3, 1.0, 30.0, 1e4])
def test_cross_entropy_extremes_close_to_mpmath(dtype, scale):
    rng = np.random.default_rng(int(scale * 7) % 1000)
    z = (rng.uniform(-1, 1, (6, 5)) * scale).astype(dtype)
    y = rng.integers(0, 5, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = ll.value_and_grad(ll.cross_entropy)(z, y, reduction="none")
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    ref = np.array([mp_cross_entropy(z[i].astype(np.float64), y[i]) for i in range(6)])
    # error budget: the input rounding is exact (we use z as stored); the rest is a few ulps of
    # the largest intermediate (|z| up to scale)
    tol = 8 * eps_of(dtype) * np.maximum(np.abs(ref), scale)
    assert np.all(np.abs(value.astype(np.float64) - ref) <= tol)


@pytest.mark.parametrize("dtype", ALL_FLOATS)
def test_logits_near_dtype_max_stay_finite(dtype):
    big = float(np.finfo(dtype).max) * 0.99
    z = np.array([[big, big * 0.5, -big * 0.25]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = ll.value_and_grad(ll.cross_entropy)(z, np.array([0]))
        assert float(value) == 0.0
        np.testing.assert_array_equal(grad, np.zeros_like(z))
        assert np.isfinite(ll.logsumexp(z))
        assert ll.log_softmax(z)[0, 0] == 0.0


@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize("x", [-1e4, -200.0, -30.0, -1.0, 0.0, 1.0, 30.0, 200.0, 1e4])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
def test_bce_with_logits_close_to_mpmath(dtype, x, y):
    xs = np.array([x], dtype=dtype)
    if not np.isfinite(xs).all():
        pytest.skip("not representable")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = ll.value_and_grad(ll.binary_cross_entropy_with_logits)(xs, np.array([y]))
    ref = mp_bce_logits(float(xs[0]), y)
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert abs(float(value) - ref) <= 4 * eps_of(dtype) * max(1.0, abs(ref))


@pytest.mark.parametrize("dtype", ALL_FLOATS)
def test_activations_never_overflow(dtype):
    x = np.array([-1e4, -1000.0, -50.0, 0.0, 50.0, 1000.0, 1e4]).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = ll.sigmoid(x)
        ls = ll.log_sigmoid(x)
        sp = ll.softplus(x)
    assert s.dtype == ls.dtype == sp.dtype == dtype
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    assert ls[0] == x[0] and ls[-1] == 0.0
    assert sp[-1] == x[-1] and sp[0] == 0.0


def test_sigmoid_and_log_sigmoid_at_minus_1000():
    assert ll.sigmoid(np.float64(-1000.0)) == 0.0
    assert ll.log_sigmoid(np.float64(-1000.0)) == -1000.0


def test_activations_against_float64_formulas():
    x = np.linspace(-30, 30, 121)
    np.testing.assert_allclose(ll.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(ll.softplus(x), np.log1p(np.exp(x)), rtol=1e-14)
    z = np.random.default_rng(0).normal(0, 5, (4, 7))
    np.testing.assert_allclose(ll.log_softmax(z), log_softmax64(z), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(ll.softmax(z, axis=0).sum(axis=0), np.ones(7), rtol=1e-15)
    from scipy.special import logsumexp as sp_lse

    np.testing.assert_allclose(ll.logsumexp(z, axis=0), sp_lse(z, axis=0), rtol=1e-15)
    assert ll.logsumexp(z, keepdims=True).shape == (4, 1)


def test_logsumexp_all_masked_row_is_minus_inf():
    assert ll.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf


@pytest.mark.parametrize("fn", [ll.softmax, ll.log_softmax])
def test_softmax_family_rejects_all_masked_rows(fn):
    with pytest.raises(ValueError, match=r"`x` .*all -inf.*row 1"):
        fn(np.array([[0.0, 1.0], [-np.inf, -np.inf]]))


# ---------------------------------------------------------------------------
# z-loss, softcap and masked classes against the float64 reference
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("eps", [0.0, 0.2])
@pytest.mark.parametrize("z_loss", [0.0, 1e-2])
@pytest.mark.parametrize("softcap", [None, 3.0])
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_options_against_reference(eps, z_loss, softcap, use_weight, reduction):
    rng = np.random.default_rng(10)
    z = rng.normal(0, 3, (9, 6))
    z[2, 4] = -np.inf  # a masked class
    y = rng.integers(0, 6, 9)
    y[2] = 1
    y[5] = -100
    w = rng.uniform(0.3, 2.0, 6) if use_weight else None
    kw = dict(weight=w, label_smoothing=eps, z_loss=z_loss, softcap=softcap, reduction=reduction)
    valid = y != -100
    main, zterm = ce_rows64(z[valid], y[valid], weight=w, eps=eps, z_loss=z_loss, softcap=softcap)
    wy = (np.ones(6) if w is None else w)[y[valid]]
    if reduction == "mean":
        expected = main.sum() / wy.sum() + zterm.sum() / valid.sum()
    elif reduction == "sum":
        expected = main.sum() + zterm.sum()
    else:
        expected = np.zeros(9)
        expected[valid] = main + zterm
    np.testing.assert_allclose(ll.cross_entropy(z, y, **kw), expected, rtol=1e-12, atol=1e-14)

    def f(x):
        out = ll.cross_entropy(x, y, **kw)
        return float(np.sum(out))

    finite = np.isfinite(z)
    z_filled = np.where(finite, z, 0.0)

    def f_finite(x):
        return f(np.where(finite, x, -np.inf))

    _, grad = ll.value_and_grad(ll.cross_entropy)(z, y, **kw)
    expected_grad = numeric_grad(f_finite, z_filled)
    expected_grad[~finite] = 0.0
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-6, atol=1e-8)
    assert grad[2, 4] == 0.0 and not grad[5].any()


def test_probability_targets_with_options_against_reference():
    rng = np.random.default_rng(11)
    z = rng.normal(0, 2, (5, 4))
    t = rng.dirichlet(np.ones(4), 5)
    w = rng.uniform(0.5, 2, 4)
    eps, zl = 0.1, 1e-3
    logp = log_softmax64(z)
    tt = t * (1 - eps) + eps / 4
    lse = np.log(np.exp(z).sum(1))
    expected = (-(tt * w * logp).sum(1) + zl * lse**2).mean()
    value = ll.cross_entropy(z, t, weight=w, label_smoothing=eps, z_loss=zl)
    assert value == pytest.approx(expected, rel=1e-13)
    _, grad = ll.value_and_grad(ll.cross_entropy)(z, t, weight=w, label_smoothing=eps, z_loss=zl)
    num = numeric_grad(
        lambda x: ll.cross_entropy(x, t, weight=w, label_smoothing=eps, z_loss=zl), z
    )
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-9)


def test_masked_target_class_is_an_error():
    z = np.array([[0.0, -np.inf, 1.0]])
    with pytest.raises(ValueError, match=r"`logits` .*-inf at the target class.*row 0"):
        ll.cross_entropy(z, np.array([1]))
    with pytest.raises(ValueError, match="positive target"):
        ll.cross_entropy(z, np.array([[0.2, 0.3, 0.5]]))
    # a masked class with zero target mass is fine
    assert np.isfinite(ll.cross_entropy(z, np.array([[0.5, 0.0, 0.5]])))


def test_all_masked_row_is_error_unless_ignored():
    z = np.array([[0.0, 1.0], [-np.inf, -np.inf]])
    with pytest.raises(ValueError, match=r"all -inf.*row 1"):
        ll.cross_entropy(z, np.array([0, 1]))
    value, grad = ll.value_and_grad(ll.cross_entropy)(z, np.array([0, -100]))
    assert np.isfinite(value) and np.isfinite(grad).all() and not grad[1].any()


# ---------------------------------------------------------------------------
# invariants
# ---------------------------------------------------------------------------


def test_adding_a_constant_to_every_logit_changes_nothing():
    rng = np.random.default_rng(12)
    z = rng.normal(size=(6, 5))
    y = rng.integers(0, 5, 6)
    kw = dict(label_smoothing=0.1, weight=rng.uniform(0.5, 1.5, 5))
    v1, g1 = ll.value_and_grad(ll.cross_entropy)(z, y, **kw)
    v2, g2 = ll.value_and_grad(ll.cross_entropy)(z + 123.456, y, **kw)
    assert v1 == pytest.approx(v2, rel=1e-12)
    np.testing.assert_allclose(g1, g2, atol=1e-13)


def test_smoothing_zero_equals_plain():
    rng = np.random.default_rng(13)
    z, y = rng.normal(size=(6, 5)), rng.integers(0, 5, 6)
    assert ll.cross_entropy(z, y, label_smoothing=0.0) == ll.cross_entropy(z, y)


def test_focal_gamma_zero_equals_cross_entropy():
    rng = np.random.default_rng(14)
    z, y = rng.normal(0, 3, (8, 4)), rng.integers(0, 4, 8)
    y[1] = -100
    w = rng.uniform(0.5, 2, 4)
    v1, g1 = ll.value_and_grad(ll.softmax_focal_loss)(z, y, gamma=0.0, weight=w)
    v2, g2 = ll.value_and_grad(ll.cross_entropy)(z, y, weight=w)
    assert v1 == pytest.approx(v2, rel=1e-13)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-15)
    x, t = rng.normal(0, 3, 10), rng.uniform(0, 1, 10)
    v1, g1 = ll.value_and_grad(ll.sigmoid_focal_loss)(x, t, gamma=0.0)
    v2, g2 = ll.value_and_grad(ll.binary_cross_entropy_with_logits)(x, t)
    assert v1 == pytest.approx(v2, rel=1e-13)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_ignore_index_equals_dropping_rows(reduction):
    rng = np.random.default_rng(15)
    z, y = rng.normal(size=(10, 3)), rng.integers(0, 3, 10)
    w = rng.uniform(0.5, 2, 3)
    y_ign = y.copy()
    y_ign[[1, 4, 7]] = -100
    keep = y_ign != -100
    kw = dict(weight=w, label_smoothing=0.05, reduction=reduction)
    v_ign, g_ign = ll.value_and_grad(ll.cross_entropy)(z, y_ign, **kw)
    v_drop, g_drop = ll.value_and_grad(ll.cross_entropy)(z[keep], y[keep], **kw)
    assert v_ign == pytest.approx(v_drop, rel=1e-13)
    np.testing.assert_allclose(g_ign[keep], g_drop, rtol=1e-13)
    assert not g_ign[~keep].any()


def test_integer_labels_equal_one_hot_targets():
    rng = np.random.default_rng(16)
    z, y = rng.normal(size=(7, 4)), rng.integers(0, 4, 7)
    onehot = np.eye(4)[y]
    for kw in [{}, {"label_smoothing": 0.2}, {"z_loss": 0.01}, {"softcap": 2.0}]:
        v1, g1 = ll.value_and_grad(ll.cross_entropy)(z, y, **kw)
        v2, g2 = ll.value_and_grad(ll.cross_entropy)(z, onehot, **kw)
        assert v1 == pytest.approx(v2, rel=1e-13)
        np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-15)
    w = rng.uniform(0.5, 2, 4)  # weighted: equal as sums (means normalise differently)
    assert ll.cross_entropy(z, y, weight=w, reduction="sum") == pytest.approx(
        ll.cross_entropy(z, onehot, weight=w, reduction="sum"), rel=1e-13
    )


def test_cross_entropy_equals_nll_of_log_softmax():
    rng = np.random.default_rng(17)
    z, y = rng.normal(size=(5, 6)), rng.integers(0, 6, 5)
    assert ll.cross_entropy(z, y) == pytest.approx(ll.nll_loss(ll.log_softmax(z), y), rel=1e-14)


def test_bce_with_logits_equals_bce_of_sigmoid():
    x = np.linspace(-8, 8, 17)
    y = np.linspace(0, 1, 17)
    assert ll.binary_cross_entropy_with_logits(x, y) == pytest.approx(
        ll.binary_cross_entropy(ll.sigmoid(x), y), rel=1e-13
    )


def test_binary_cross_entropy_with_logits_equals_two_class_softmax():
    x = np.random.default_rng(18).normal(size=9)
    y = np.random.default_rng(19).integers(0, 2, 9)
    two = np.stack([np.zeros(9), x], axis=1)
    assert ll.binary_cross_entropy_with_logits(x, y.astype(float)) == pytest.approx(
        ll.cross_entropy(two, y), rel=1e-13
    )


def test_bce_label_smoothing_moves_targets_towards_half():
    x = np.array([1.5, -0.5])
    y = np.array([1.0, 0.0])
    expected = ll.binary_cross_entropy_with_logits(x, y * 0.8 + 0.1)
    assert ll.binary_cross_entropy_with_logits(x, y, label_smoothing=0.2) == pytest.approx(expected)


# ---------------------------------------------------------------------------
# gradients against central finite differences (float64)
# ---------------------------------------------------------------------------

FD_CASES = [
    ("ce", ll.cross_entropy, {"label_smoothing": 0.1, "z_loss": 1e-3}),
    ("nll", ll.nll_loss, {}),
    ("bce", ll.binary_cross_entropy, {}),
    ("bcel", ll.binary_cross_entropy_with_logits, {"pos_weight": np.array([2.0, 0.5, 1.0])}),
    ("sfl", ll.sigmoid_focal_loss, {"alpha": 0.3, "gamma": 1.5}),
    ("mfl", ll.softmax_focal_loss, {"gamma": 2.0}),
]


@pytest.mark.parametrize("name,fn,kw", FD_CASES, ids=[c[0] for c in FD_CASES])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradients_match_finite_differences(name, fn, kw, reduction):
    rng = np.random.default_rng(20)
    if name in ("ce", "mfl"):
        x, t = rng.normal(0, 2, (4, 3)), rng.integers(0, 3, 4)
    elif name == "nll":
        x, t = rng.normal(-2, 0.5, (4, 3)), rng.integers(0, 3, 4)
    elif name == "bce":
        x, t = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3))
    else:
        x, t = rng.normal(0, 2, (4, 3)), rng.uniform(0, 1, (4, 3))
    _, grad = ll.value_and_grad(fn)(x, t, reduction=reduction, **kw)
    num = numeric_grad(lambda v: float(np.sum(fn(v, t, reduction=reduction, **kw))), x)
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------
# dtypes, out=, value_and_grad contract
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_FLOATS)
def test_result_has_input_dtype(dtype):
    z = np.random.default_rng(0).normal(size=(4, 3)).astype(dtype)
    y = np.array([0, 1, 2, 1])
    value, grad = ll.value_and_grad(ll.cross_entropy)(z, y)
    assert value.dtype == dtype and grad.dtype == dtype
    assert ll.cross_entropy(z, y, reduction="none").dtype == dtype


def test_float16_agrees_with_float64():
    z = np.random.default_rng(1).normal(0, 4, (50, 10))
    y = np.random.default_rng(2).integers(0, 10, 50)
    v16 = ll.cross_entropy(z.astype(np.float16), y, reduction="none")
    v64 = ll.cross_entropy(z.astype(np.float16).astype(np.float64), y, reduction="none")
    np.testing.assert_allclose(v16.astype(np.float64), v64, rtol=2 * eps_of(np.float16), atol=1e-3)


def test_out_receives_gradient_and_input_untouched_otherwise():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(5, 4))
    y = rng.integers(0, 4, 5)
    z_copy = z.copy()
    _, g = ll.value_and_grad(ll.cross_entropy)(z, y)
    np.testing.assert_array_equal(z, z_copy)
    buf = np.empty_like(z)
    _, g2 = ll.value_and_grad(ll.cross_entropy)(z, y, out=buf)
    assert g2 is buf
    np.testing.assert_array_equal(buf, g)
    v3, g3 = ll.value_and_grad(ll.cross_entropy)(z, y, out=z)  # in place
    assert g3 is z
    np.testing.assert_array_equal(z, g)


def test_out_for_nondefault_axis_and_float16():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(3, 4, 2))
    y = rng.integers(0, 4, (3, 2))
    _, g = ll.value_and_grad(ll.cross_entropy)(z, y, axis=1)
    _, g_inplace = ll.value_and_grad(ll.cross_entropy)(z, y, axis=1, out=z)
    assert g_inplace is z
    np.testing.assert_allclose(z, g)
    h = rng.normal(size=(3, 4)).astype(np.float16)
    out = np.empty_like(h)
    _, g16 = ll.value_and_grad(ll.cross_entropy)(h, np.array([0, 1, 2]), out=out)
    assert g16 is out and out.dtype == np.float16


@pytest.mark.parametrize(
    "bad_out,match",
    [
        (np.empty((5, 3)), "`out` must have shape"),
        (np.empty((5, 4), np.float32), "`out` must have shape .* dtype"),
    ],
)
def test_out_wrong_shape_or_dtype(bad_out, match):
    z = np.zeros((5, 4))
    with pytest.raises(ValueError, match=match):
        ll.value_and_grad(ll.cross_entropy)(z, np.zeros(5, int), out=bad_out)


def test_value_and_grad_rejects_unknown_functions_and_argnums():
    with pytest.raises(TypeError, match="no registered gradient"):
        ll.value_and_grad(np.sum)
    with pytest.raises(ValueError, match="`argnums` 1 is not differentiable"):
        ll.value_and_grad(ll.cross_entropy, argnums=1)
    with pytest.raises(TypeError, match="`argnums` must be"):
        ll.value_and_grad(ll.cross_entropy, argnums="0")
    v, grads = ll.value_and_grad(ll.cross_entropy, argnums=(0,))(np.zeros((2, 2)), np.array([0, 1]))
    assert isinstance(grads, tuple) and len(grads) == 1


def test_empty_batch_mean_is_error_sum_is_zero():
    z = np.zeros((0, 3))
    y = np.zeros(0, int)
    with pytest.raises(ValueError, match="`logits` is empty"):
        ll.cross_entropy(z, y)
    assert ll.cross_entropy(z, y, reduction="sum") == 0.0
    assert ll.cross_entropy(z, y, reduction="none").shape == (0,)


def test_unbatched_logits_and_scalar_label():
    z = np.array([0.0, math.log(3.0)])
    assert ll.cross_entropy(z, np.array(1)) == pytest.approx(-math.log(0.75))
    assert ll.cross_entropy(z, 1) == pytest.approx(-math.log(0.75))


def test_integral_float_labels_are_accepted():
    z = np.zeros((2, 3))
    assert ll.cross_entropy(z, np.array([0.0, 2.0])) == pytest.approx(math.log(3))


def test_zero_total_weight_gives_zero_not_nan():
    z = np.random.default_rng(0).normal(size=(3, 2))
    value, grad = ll.value_and_grad(ll.cross_entropy)(
        z, np.array([0, 0, 0]), weight=np.array([0.0, 1.0])
    )
    assert value == 0.0 and not grad.any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_out_in_place(dtype):
    rng = np.random.default_rng(5)
    x = rng.normal(0, 3, (40, 3)).astype(dtype)
    y = rng.uniform(0, 1, (40, 3))
    v, g = ll.value_and_grad(ll.binary_cross_entropy_with_logits)(
        x, y, pos_weight=np.array([1.0, 2.0, 0.5])
    )
    x2 = x.copy()
    v2, g2 = ll.value_and_grad(ll.binary_cross_entropy_with_logits)(
        x2, y, pos_weight=np.array([1.0, 2.0, 0.5]), out=x2
    )
    assert g2 is x2 and v2 == v
    np.testing.assert_array_equal(g2, g)
