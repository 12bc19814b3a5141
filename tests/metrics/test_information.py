"""logloss.metrics.entropy, kl_divergence and perplexity against scipy, torch and float64 formulas."""
# ruff: noqa: E501  (the bad-input tables keep one case per line)

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from support import eps_of

from logloss.metrics import entropy, information, kl_divergence, perplexity

scipy_stats = pytest.importorskip("scipy.stats")
scipy_special = pytest.importorskip("scipy.special")

DTYPES = [np.float16, np.float32, np.float64]
LN2 = math.log(2.0)
# --------------------------------------------------------------------------------------
# entropy and kl_divergence against scipy
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", [None, 2, 10, math.e])
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_entropy_matches_scipy(axis, base):
    rng = np.random.default_rng(1)
    p = rng.uniform(size=(4, 5, 6))
    p[p < 0.2] = 0.0  # 0 log 0 = 0
    expected = scipy_stats.entropy(p, base=base, axis=axis)
    np.testing.assert_allclose(entropy(p, axis=axis, base=base), expected, rtol=1e-13)


@pytest.mark.parametrize("base", [None, 2])
@pytest.mark.parametrize("axis", [-1, 0])
def test_kl_divergence_matches_scipy(axis, base):
    rng = np.random.default_rng(2)
    p = rng.uniform(size=(7, 8))
    q = rng.uniform(size=(7, 8)) + 1e-3
    p[p < 0.25] = 0.0
    expected = scipy_stats.entropy(p, q, base=base, axis=axis)
    np.testing.assert_allclose(kl_divergence(p, q, axis=axis, base=base), expected, rtol=1e-12)


def test_kl_divergence_of_normalised_inputs_is_the_sum_of_rel_entr():
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(9), size=5)
    q = rng.dirichlet(np.ones(9), size=5)
    expected = scipy_special.rel_entr(p, q).sum(axis=-1)
    np.testing.assert_allclose(kl_divergence(p, q), expected, rtol=1e-12, atol=1e-16)


def test_kl_divergence_zero_conventions_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # p = 0 contributes nothing, whatever q is (q = 0 included): log 2 from the rest.
        assert kl_divergence([0.0, 1.0, 0.0], [0.0, 0.5, 0.5]) == pytest.approx(LN2, rel=1e-15)
        # q = 0 where p > 0: +inf, the mathematically correct value.
        assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
        assert scipy_stats.entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
        # identical distributions: exactly 0.
        assert kl_divergence([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
        assert entropy([0.0, 1.0, 0.0]) == 0.0


def test_kl_divergence_with_a_subnormal_q_stays_finite_and_exact():
    mpmath = pytest.importorskip("mpmath")
    p, q = [0.5, 0.5], [1e-320, 1.0]  # 0.5 / 1e-320 overflows float64
    with mpmath.workdps(50):
        qs = [mpmath.mpf(1e-320), mpmath.mpf(1.0)]
        total = qs[0] + qs[1]
        expected = float(
            sum(mpmath.mpf(0.5) * mpmath.log(mpmath.mpf(0.5) / (v / total)) for v in qs)
        )
    assert kl_divergence(p, q) == pytest.approx(expected, rel=1e-14)


def test_entropy_and_kl_hand_computed():
    assert entropy([0.5, 0.5], base=2) == pytest.approx(1.0, rel=1e-15)
    assert entropy([1, 1, 1, 1]) == pytest.approx(math.log(4), rel=1e-15)  # counts
    # KL([1/2, 1/2] || [1/4, 3/4]) = 1/2 log 2 + 1/2 log(2/3) nats.
    expected = 0.5 * math.log(2) + 0.5 * math.log(2 / 3)
    assert kl_divergence([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
def test_entropy_and_kl_keep_the_float_dtype(dtype):
    p = np.array([[0.25, 0.75], [0.5, 0.5]], dtype)
    q = np.array([0.5, 0.5], dtype)
    h = entropy(p)
    d = kl_divergence(p, q)  # one q broadcast against a batch of p
    assert h.dtype == dtype and h.shape == (2,)
    assert d.dtype == dtype and d.shape == (2,)
    expected_h = scipy_stats.entropy(p.astype(np.float64), axis=-1)
    expected_d = scipy_stats.entropy(p.astype(np.float64), [[0.5, 0.5]] * 2, axis=-1)
    np.testing.assert_allclose(h, expected_h, rtol=4 * eps_of(dtype))
    np.testing.assert_allclose(d, expected_d, rtol=4 * eps_of(dtype), atol=eps_of(dtype))
    assert entropy(np.array([3, 1])).dtype == np.float64  # integer counts


@given(
    p=hnp.arrays(np.float64, (3, 5), elements=st.floats(0, 1e3)),
    q=hnp.arrays(np.float64, (3, 5), elements=st.floats(1e-6, 1e3)),
)
def test_entropy_kl_property_match_scipy(p, q):
    p[:, 0] += 1.0  # every row has a positive sum
    np.testing.assert_allclose(entropy(p), scipy_stats.entropy(p, axis=-1), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        kl_divergence(p, q), scipy_stats.entropy(p, q, axis=-1), rtol=1e-10, atol=1e-12
    )
    assert (kl_divergence(p, q) >= -1e-12).all()


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: entropy([0.5, -0.5, 1.0]), ValueError, r"`p` must be non-negative; got -0.5 at index 1"),
        (lambda: entropy([0.5, np.nan]), ValueError, r"`p` must be finite; got nan at index 1"),
        (lambda: entropy([0.0, 0.0]), ValueError, r"`p` must have a positive sum.*index 0 sums to 0"),
        (lambda: entropy([[0.1, 0.9], [0, 0]]), ValueError, r"`p` must have a positive sum.*index 1"),
        (lambda: entropy(np.zeros((3, 0))), ValueError, r"`p` is empty along axis 1"),
        (lambda: entropy(0.5), ValueError, r"`p` must have at least one dimension.*got a scalar 0.5"),
        (lambda: entropy(["a", "b"]), TypeError, r"`p` must be a real numeric array; got dtype <U1"),
        (lambda: entropy([0.5, 0.5], axis=2), ValueError, r"`axis` 2 is out of range"),
        (lambda: entropy([0.5, 0.5], axis=0.5), TypeError, r"`axis` must be an integer"),
        (lambda: entropy([0.5, 0.5], base=1), ValueError, r"`base` must be positive and not 1"),
        (lambda: entropy([0.5, 0.5], base=-2), ValueError, r"`base` must be a finite number in \(0"),
        (lambda: entropy([0.5, 0.5], base="2"), TypeError, r"`base` must be a real number"),
        (lambda: kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5]), ValueError, r"`p` of shape \(2,\) and `q` of shape \(3,\) do not broadcast"),
        (lambda: kl_divergence([0.5, 0.5], [0.5, -0.1]), ValueError, r"`q` must be non-negative; got -0.1 at index 1"),
        (lambda: kl_divergence([0.5, 0.5], [0.5, np.inf]), ValueError, r"`q` must be finite; got inf at index 1"),
        (lambda: kl_divergence([0.5, 0.5], [0.0, 0.0]), ValueError, r"`q` must have a positive sum"),
    ],
)  # fmt: skip
def test_entropy_kl_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --------------------------------------------------------------------------------------
# perplexity against a plain float64 formula
# --------------------------------------------------------------------------------------


def _ppl64(logits, target, axis=-1, ignore_index=-100):
    """exp(mean over kept positions of logsumexp(z) - z[target]), all in float64."""
    z = np.moveaxis(np.asarray(logits, np.float64), axis, -1).reshape(-1, np.shape(logits)[axis])
    t = np.asarray(target).reshape(-1)
    keep = t != ignore_index
    lse = scipy_special.logsumexp(z[keep], axis=1)
    return math.exp(np.mean(lse - z[keep][np.arange(keep.sum()), t[keep]]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
def test_perplexity_matches_float64_formula(dtype, scale):
    rng = np.random.default_rng(5)
    z = (rng.standard_normal((64, 11)) * scale).astype(dtype)
    y = rng.integers(0, 11, 64)
    if scale > 100:  # mostly confident-and-right rows, so that exp(mean loss) stays finite
        y[3:] = np.argmax(z[3:], axis=1)
    y[::5] = -100
    expected = _ppl64(z, y)
    actual = perplexity(z, y)
    assert type(actual) is float
    assert math.isfinite(expected) and expected > 1
    assert actual == pytest.approx(expected, rel=1e-12)  # inputs are exact; math is float64


def test_perplexity_class_axis_1_and_blocks(monkeypatch):
    # (batch, classes, seq) with axis=1, PyTorch's layout; tiny blocks exercise the loop.
    monkeypatch.setattr(information, "_CHUNK_ELEMENTS", 7)
    rng = np.random.default_rng(6)
    z = rng.standard_normal((3, 5, 4))
    y = rng.integers(0, 5, (3, 4))
    y[1, 2] = 7  # custom ignore index
    assert perplexity(z, y, axis=1, ignore_index=7) == pytest.approx(
        _ppl64(z, y, axis=1, ignore_index=7), rel=1e-13
    )


def test_perplexity_hand_computed_and_from_log_probabilities():
    assert perplexity(np.zeros((4, 10)), np.arange(4)) == pytest.approx(10.0, rel=1e-14)
    probs = np.array([[0.5, 0.25, 0.25], [0.125, 0.75, 0.125]])
    # Log-probabilities are their own log_softmax: PPL = (1/(0.5 * 0.75))^(1/2).
    expected = (1 / (0.5 * 0.75)) ** 0.5
    assert perplexity(np.log(probs), np.array([0, 1])) == pytest.approx(expected, rel=1e-14)
    assert perplexity(np.array([0.0, 0.0]), 1) == pytest.approx(2.0, rel=1e-15)  # one 1-D row


def test_perplexity_masked_classes_and_overflow():
    z = np.array([[0.0, -np.inf, 0.0], [1.0, 1.0, -np.inf]])
    assert perplexity(z, np.array([0, 1])) == pytest.approx(2.0, rel=1e-15)
    # Mean loss 1e4 > 709.78: exp overflows float64 and the answer is inf, with no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert perplexity(np.array([[-1e4, 0.0]]), np.array([0])) == math.inf


def test_perplexity_matches_torch(torch):
    rng = np.random.default_rng(8)
    z = rng.standard_normal((2, 6, 9)).astype(np.float32)
    y = rng.integers(0, 9, (2, 6))
    y[0, :2] = -100
    ce = torch.nn.functional.cross_entropy(
        torch.tensor(z, dtype=torch.float64).reshape(-1, 9), torch.tensor(y).reshape(-1)
    )
    assert perplexity(z, y) == pytest.approx(math.exp(ce.item()), rel=1e-12)


@pytest.mark.parametrize(
    ("logits", "target", "kwargs", "exc", "match"),
    [
        (np.zeros((2, 3)), np.array([-100, -100]), {}, ValueError, r"every `target` equals ignore_index=-100"),
        (np.zeros((0, 3)), np.zeros(0, int), {}, ValueError, r"`logits` is empty"),
        (np.zeros((2, 0)), np.zeros(2, int), {}, ValueError, r"`logits` has zero classes"),
        (np.array(1.0), np.array(0), {}, ValueError, r"`logits` must have at least one dimension"),
        (np.array([[0.0, np.nan]]), np.array([0]), {}, ValueError, r"`logits` must not contain NaN or \+inf"),
        (np.array([[0.0, np.inf]]), np.array([0]), {}, ValueError, r"`logits` must not contain NaN or \+inf; found at position 0"),
        (np.full((2, 3, 4), np.nan), np.array([[-100, 0, 0, 0], [0] * 4]), {"axis": 1}, ValueError, r"NaN or \+inf; found at position \(0, 1\)"),
        (np.array([[0.0, 0.0], [0.0, np.nan]]), np.array([0, -100]), {}, None, None),
        (np.array([[0.0, 1.0], [-np.inf, -np.inf]]), np.array([0, 1]), {}, ValueError, r"`logits` must not contain a row with no finite entry.*at position 1$"),
        (np.array([[0.0, 1.0], [0.0, -np.inf]]), np.array([0, 1]), {}, ValueError, r"`logits` must not contain -inf at the target class.*at position 1$"),
        (np.zeros((2, 3)), np.array([0, 3]), {}, ValueError, r"`target` labels must be in \[0, 3\).*got 3 at index 1"),
        (np.zeros((2, 3)), np.array([0, 1, 2]), {}, ValueError, r"`target` must have shape \(2,\)"),
        (np.zeros((2, 3)), np.array([0.5, 1.0]), {}, ValueError, r"`target` labels must be integers; got"),
        (np.zeros((2, 3), int), np.array([0, 1]), {}, TypeError, r"`logits` must be a real floating-point array.*integer"),
        (np.zeros((2, 3)), np.array([0, 1]), {"axis": 2}, ValueError, r"`axis` 2 is out of range for `logits`"),
        (np.zeros((2, 3)), np.array([0, 1]), {"ignore_index": 1.5}, TypeError, r"`ignore_index` must be an integer"),
    ],
)  # fmt: skip
def test_perplexity_bad_input(logits, target, kwargs, exc, match):
    if exc is None:  # NaN only in an ignored (padding) position is not looked at
        assert perplexity(logits, target, **kwargs) == pytest.approx(2.0, rel=1e-15)
        return
    with pytest.raises(exc, match=match):
        perplexity(logits, target, **kwargs)
