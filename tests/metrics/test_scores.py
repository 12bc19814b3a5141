"""logloss.metrics.log_loss and brier_score against scikit-learn and hand-computed values."""
# ruff: noqa: E501  (the bad-input tables keep one case per line)

from __future__ import annotations

import math
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import eps_of

import logloss as ll
from logloss.metrics import brier_score, log_loss

sk_metrics = pytest.importorskip("sklearn.metrics")

DTYPES = [np.float16, np.float32, np.float64]
LN2 = math.log(2.0)


def _tol(dtype, factor=16):
    """Relative tolerance for parity: scikit-learn computes in the input dtype, we in float64."""
    return 1e-12 if dtype == np.float64 else factor * eps_of(dtype)


def _rows(rng, n, c, dtype, extremes=True):
    """Probability rows summing to 1 in `dtype`; some rows hold exact 0s and a 1."""
    p = rng.dirichlet(np.full(c, 0.7), size=n)
    if extremes:
        p[0] = 0.0
        p[0, 0] = 1.0  # certain, and wrong or right depending on the label
        p[1] = 0.0
        p[1, -1] = 1.0
        p[2, 1:] = p[2, 1:] + p[2, 0]
        p[2, 0] = 0.0  # an exact zero in a row that is otherwise fine
        p[2] /= p[2].sum()
    p = p.astype(dtype)
    # Put the rounding error into the largest entry so each row sums to 1 within eps.
    big = np.argmax(p, axis=1)
    rest = p.sum(axis=1, dtype=np.float64) - p[np.arange(n), big]
    p[np.arange(n), big] = np.clip(1.0 - rest, 0, 1).astype(dtype)
    return p


# --------------------------------------------------------------------------------------
# log_loss and brier_score: parity with scikit-learn over a grid
# --------------------------------------------------------------------------------------


def _case(kind, dtype, rng, n=40):
    """(y_true, y_prob, labels) for one kind of classification input."""
    if kind == "binary_1d":
        y = rng.integers(0, 2, n)
        p = rng.uniform(size=n).astype(dtype)
        p[:4] = [0.0, 1.0, 0.0, 1.0]
        y[:4] = [0, 0, 1, 1]
        return y, p, None
    if kind == "binary_1d_pm1":
        y = rng.choice([-1, 1], n)
        return y, rng.uniform(size=n).astype(dtype), None
    if kind == "binary_1d_strings":
        y = rng.choice(["no", "yes"], n)
        p = rng.uniform(size=n).astype(dtype)
        p[:2] = [0.0, 1.0]
        return y, p, None
    if kind == "binary_column":
        y = rng.integers(3, 5, n)  # labels 3 and 4: positive is the greater, 4
        return y, rng.uniform(size=(n, 1)).astype(dtype), None
    if kind == "binary_2d":
        return rng.integers(0, 2, n), _rows(rng, n, 2, dtype), None
    if kind == "binary_2d_bool":
        return rng.integers(0, 2, n).astype(bool), _rows(rng, n, 2, dtype), None
    if kind == "multiclass":
        return rng.integers(0, 5, n), _rows(rng, n, 5, dtype), None
    if kind == "multiclass_float_labels":
        return rng.integers(0, 4, n).astype(np.float64), _rows(rng, n, 4, dtype), None
    if kind == "multiclass_strings":
        return rng.choice(["ant", "bee", "cat", "dog"], n), _rows(rng, n, 4, dtype), None
    if kind == "labels_missing_class":
        y = rng.choice([10, 30], n)  # 20 and 40 never occur
        return y, _rows(rng, n, 4, dtype), [10, 20, 30, 40]
    if kind == "labels_strings":
        y = rng.choice(["b", "c"], n)
        return y, _rows(rng, n, 3, dtype), ["a", "b", "c"]
    if kind == "binary_1d_labels_single":
        return np.ones(n, int), rng.uniform(size=n).astype(dtype), [0, 1]
    if kind == "indicator":
        y = np.eye(3, dtype=int)[rng.integers(0, 3, n)]
        return y, _rows(rng, n, 3, dtype), None
    raise AssertionError(kind)


LOG_LOSS_KINDS = [
    "binary_1d",
    "binary_1d_pm1",
    "binary_1d_strings",
    "binary_column",
    "binary_2d",
    "binary_2d_bool",
    "multiclass",
    "multiclass_float_labels",
    "multiclass_strings",
    "labels_missing_class",
    "labels_strings",
    "binary_1d_labels_single",
    "indicator",
]


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", LOG_LOSS_KINDS)
def test_log_loss_matches_sklearn(kind, dtype, weighted, normalize):
    rng = np.random.default_rng(zlib.crc32(f"{kind}-{weighted}".encode()))
    y, p, labels = _case(kind, dtype, rng)
    w = rng.uniform(0.0, 3.0, len(y)) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # valid input: neither library may warn
        expected = sk_metrics.log_loss(y, p, labels=labels, sample_weight=w, normalize=normalize)
        actual = log_loss(y, p, labels=labels, sample_weight=w, normalize=normalize)
    assert type(actual) is float
    np.testing.assert_allclose(actual, expected, rtol=_tol(dtype))


BRIER_KINDS = [
    "binary_1d",
    "binary_1d_pm1",
    "binary_column",
    "binary_2d",
    "binary_2d_bool",
    "multiclass",
    "multiclass_float_labels",
    "multiclass_strings",
    "labels_missing_class",
    "labels_strings",
    "indicator",
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", BRIER_KINDS)
def test_brier_score_matches_sklearn(kind, dtype, weighted):
    rng = np.random.default_rng(zlib.crc32(f"brier-{kind}-{weighted}".encode()))
    y, p, labels = _case(kind, dtype, rng)
    w = rng.uniform(0.0, 3.0, len(y)) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # valid input: neither library may warn
        expected = sk_metrics.brier_score_loss(y, p, labels=labels, sample_weight=w)
        actual = brier_score(y, p, labels=labels, sample_weight=w)
    assert type(actual) is float
    np.testing.assert_allclose(actual, expected, rtol=_tol(dtype), atol=_tol(dtype))


@pytest.mark.parametrize("value", [0, 1, 5, -1, True, False])
def test_brier_single_numeric_class_follows_sklearn_pos_label_default(value):
    y = np.full(6, value)
    p = np.linspace(0.0, 1.0, 6)
    expected = sk_metrics.brier_score_loss(y, p)
    assert brier_score(y, p) == pytest.approx(expected, rel=1e-14)


def test_brier_1d_string_labels_use_the_greater_label_as_positive():
    # scikit-learn needs pos_label here; we use the greater label, as log_loss does.
    y = np.array(["spam", "ham", "spam", "ham", "ham"])
    p = np.array([0.9, 0.2, 0.6, 0.0, 1.0])
    expected = sk_metrics.brier_score_loss(y, p, pos_label="spam")
    assert brier_score(y, p) == pytest.approx(expected, rel=1e-14)


def test_brier_multiclass_is_not_halved_binary_is():
    # Hand-computed: rows (0.7, 0.2, 0.1) with class 0 -> 0.09 + 0.04 + 0.01 = 0.14,
    # (0.1, 0.8, 0.1) with class 1 -> 0.01 + 0.04 + 0.01 = 0.06; mean 0.1 (range [0, 2]).
    p3 = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]
    assert brier_score([0, 1], p3, labels=[0, 1, 2]) == pytest.approx(0.1, rel=1e-14)
    # Binary: (0 - 0.25)^2 = 0.0625 and (1 - 0.5)^2 = 0.25, mean 0.15625; 1-D and 2-D agree.
    assert brier_score([0, 1], [0.25, 0.5]) == pytest.approx(0.15625, rel=1e-14)
    assert brier_score([0, 1], [[0.75, 0.25], [0.5, 0.5]]) == pytest.approx(0.15625, rel=1e-14)


# --------------------------------------------------------------------------------------
# log_loss: hand-computed values, clipping, warnings
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y_prob", "expected"),
    [
        # Both predictions certain and wrong: -log(eps) with eps = 2^-52, 2^-23, 2^-10.
        ([1.0, 0.0], 52 * LN2),  # a Python list is float64 (as scikit-learn)
        (np.array([1.0, 0.0], np.float64), 52 * LN2),
        (np.array([1.0, 0.0], np.float32), 23 * LN2),
        (np.array([1.0, 0.0], np.float16), 10 * LN2),
        (np.array([1, 0]), 52 * LN2),  # integers become float64
    ],
)
def test_log_loss_clips_to_the_dtype_eps(y_prob, expected):
    assert log_loss([0, 1], y_prob) == pytest.approx(expected, rel=1e-12)


def test_log_loss_perfect_predictions_cost_minus_log_one_minus_eps():
    eps = np.finfo(np.float64).eps
    assert log_loss([0, 1], [0.0, 1.0]) == pytest.approx(-math.log1p(-eps), rel=1e-12)


def test_log_loss_hand_computed_binary_strings_and_weights():
    # "yes" > "no", so the 1-D column is P(yes): losses -log 0.8 and -log 0.9.
    y, p = ["no", "yes"], [0.2, 0.9]
    assert log_loss(y, p) == pytest.approx(-(math.log(0.8) + math.log(0.9)) / 2, rel=1e-14)
    got = log_loss(y, p, sample_weight=[1.0, 3.0])
    assert got == pytest.approx(-(math.log(0.8) + 3 * math.log(0.9)) / 4, rel=1e-14)
    got = log_loss(y, p, sample_weight=[1.0, 3.0], normalize=False)
    assert got == pytest.approx(-(math.log(0.8) + 3 * math.log(0.9)), rel=1e-14)


def test_log_loss_many_classes():
    # 50 rows x 20000 classes, uniform: every loss is log(20000).
    p = np.full((50, 20_000), 1 / 20_000)
    y = np.arange(50) * 7
    assert log_loss(y, p, labels=np.arange(20_000)) == pytest.approx(math.log(20_000), rel=1e-12)


def test_log_loss_rows_not_summing_to_one_warn_like_sklearn():
    y = [0, 1, 2]
    p = np.array([[0.5, 0.5, 0.5], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    with pytest.warns(UserWarning) as sk_record:
        expected = sk_metrics.log_loss(y, p)
    with pytest.warns(UserWarning) as record:
        actual = log_loss(y, p)
    assert actual == pytest.approx(expected, rel=1e-14)
    assert {r.category for r in sk_record} == {UserWarning}
    # scikit-learn's message first (a filter on it catches ours), then the first bad row
    (sk_text,) = {str(r.message) for r in sk_record}
    (text,) = {str(r.message) for r in record}
    assert text.startswith(sk_text) and "row 0 sums to 1.5" in text
    with warnings.catch_warnings():
        warnings.filterwarnings("error")
        warnings.filterwarnings("ignore", message=sk_text, category=UserWarning)
        log_loss(y, p)  # silenced by a filter written for scikit-learn's warning
    with pytest.warns(UserWarning, match="do not sum to one"):
        brier_score(y, p)


def test_log_loss_float32_rounding_in_row_sums_does_not_warn():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(7), size=200).astype(np.float32)  # sums off by ~1e-7
    y = rng.integers(0, 7, 200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_loss(y, p, labels=np.arange(7))


def test_log_loss_unsorted_labels_warn_and_use_sorted_columns_like_sklearn():
    y, p = [1, 0], [[0.5, 0.5], [0.3, 0.7]]
    with pytest.warns(UserWarning) as sk_record:
        expected = sk_metrics.log_loss(y, p, labels=[1, 0])
    with pytest.warns(UserWarning) as record:
        actual = log_loss(y, p, labels=[1, 0])
    assert actual == pytest.approx(expected, rel=1e-14)
    assert [str(r.message) for r in record] == [str(r.message) for r in sk_record]
    # Sorted columns: row 0 is class 1 with p 0.5, row 1 class 0 with p 0.3.
    assert actual == pytest.approx(-(math.log(0.5) + math.log(0.3)) / 2, rel=1e-14)


def test_probabilities_by_scikit_learns_keyword_and_the_earlier_one():
    y, p = [0, 1, 1], np.array([0.2, 0.7, 0.9])
    expected = sk_metrics.log_loss(y, y_proba=p)
    assert log_loss(y, y_proba=p) == pytest.approx(expected, rel=1e-14)
    assert log_loss(y, y_prob=p) == pytest.approx(expected, rel=1e-14)
    assert log_loss(y, p) == pytest.approx(expected, rel=1e-14)
    assert brier_score(y, y_proba=p) == pytest.approx(brier_score(y, y_prob=p), rel=0)
    with pytest.raises(TypeError, match="not both"):
        log_loss(y, y_proba=p, y_prob=p)
    with pytest.raises(TypeError, match="y_proba"):
        brier_score(y)


def test_log_loss_equals_cross_entropy_of_the_log_probabilities():
    # Sibling check: for probabilities away from the clip, log_loss is the nll of log p.
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(6), size=30)
    y = rng.integers(0, 6, 30)
    reference = -np.mean(np.log(p[np.arange(30), y]))
    assert log_loss(y, p, labels=np.arange(6)) == pytest.approx(reference, rel=1e-13)
    assert float(ll.cross_entropy(np.log(p), y)) == pytest.approx(reference, rel=1e-12)


@given(
    n=st.integers(2, 30),
    c=st.integers(2, 6),
    seed=st.integers(0, 2**32 - 1),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_log_loss_property_matches_sklearn(n, c, seed, dtype):
    rng = np.random.default_rng(seed)
    p = _rows(rng, max(n, 3), c, dtype, extremes=bool(seed % 2))
    y = rng.integers(0, c, len(p))
    w = rng.uniform(0, 2, len(p)) + 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a float32 row may round past sqrt(eps)
        expected = sk_metrics.log_loss(y, p, labels=np.arange(c), sample_weight=w)
        actual = log_loss(y, p, labels=np.arange(c), sample_weight=w)
    np.testing.assert_allclose(actual, expected, rtol=_tol(dtype, 32))


# --------------------------------------------------------------------------------------
# log_loss / brier_score: errors that scikit-learn raises too
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [log_loss, brier_score])
@pytest.mark.parametrize(
    ("y_true", "y_prob", "kwargs", "match"),
    [
        (
            [1, 1],
            [[0.5, 0.5], [0.4, 0.6]],
            {},
            r"`y_true` contains only one label \(1\).*`labels=`",
        ),
        ([0, 1, 2], [[0.5, 0.5]] * 3, {}, r"`y_prob` has 2 column\(s\) but `y_true` has 3"),
        ([0, 1, 1], [[0.5, 0.5]] * 3, {"labels": [0, 1, 2]}, r"2 column.*`labels` has 3"),
        ([0, 1, 2], [[0.4, 0.3, 0.3]] * 3, {"labels": [0, 1]}, r"labels \[2\].*not in `labels`"),
        ([0, 1], [[0.5, 0.5]] * 2, {"labels": [1]}, r"`labels` must contain at least two"),
        ([0, 1], [[0.5, 0.5]] * 2, {"labels": [0, 1, 1]}, r"`labels` must not contain dupl"),
        (["a", "b"], [[0.5, 0.5]] * 2, {"labels": [0, 1]}, r"\['a', 'b'\].*not in `labels`"),
    ],
)
def test_label_errors_where_sklearn_errors(fn, y_true, y_prob, kwargs, match):
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk_metrics.log_loss(y_true, y_prob, **kwargs)
    with pytest.raises(ValueError, match=match):
        fn(y_true, y_prob, **kwargs)


def test_log_loss_single_label_1d_without_labels_is_an_error():
    with pytest.raises(ValueError, match=r"only one label \(1\).*labels=\[0, 1\]"):
        log_loss([1, 1, 1], [0.2, 0.5, 0.9])
    with pytest.raises(ValueError, match=r"only one label \('x'\)"):
        log_loss(["x", "x"], [0.2, 0.5])


def test_log_loss_1d_prob_with_multiclass_y_true_is_an_error():
    with pytest.raises(ValueError, match=r"`y_prob` has 2 column.*`y_true` has 3 classes"):
        log_loss([0, 1, 2], [0.2, 0.5, 0.9])


BAD_INPUTS = [
    # (y_true, y_prob, kwargs, exception, message words)
    ([0, 1, 0, 1], [0.1, 0.2, 0.3, 1.5], {}, ValueError, r"`y_prob` must be in \[0, 1\]; got 1.5 at index 3"),
    ([0, 1], [-0.25, 0.5], {}, ValueError, r"`y_prob` must be in \[0, 1\]; got -0.25 at index 0"),
    ([0, 1], [0.5, np.nan], {}, ValueError, r"`y_prob` must be finite; got nan at index 1"),
    ([0, 1], [[0.5, 0.5], [np.inf, 0]], {}, ValueError, r"`y_prob` must be finite; got inf at index \(1, 0\)"),
    ([], [], {}, ValueError, r"`y_prob` is empty"),
    ([0, 1], np.zeros((2, 0)), {}, ValueError, r"`y_prob` has zero classes"),
    ([0, 1], np.full((2, 2, 2), 0.5), {}, ValueError, r"`y_prob` must be 1-D .* or 2-D .*got shape \(2, 2, 2\)"),
    (1, 0.5, {}, ValueError, r"`y_prob` must be 1-D .*got shape \(\)"),
    ([0, 1], ["a", "b"], {}, TypeError, r"`y_prob` must be a real numeric array.*got dtype <U1"),
    ([0, 1], [0.5 + 1j, 0.5], {}, TypeError, r"`y_prob`.*complex"),
    ([0, 1, 1], [0.2, 0.5], {}, ValueError, r"`y_true` must have one entry per row of `y_prob` \(2\); got 3"),
    ([0.5, 1.5], [0.2, 0.5], {}, ValueError, r"`y_true` holds class labels.*got 0.5 at index 0"),
    ([np.nan, 1.0], [0.2, 0.5], {}, ValueError, r"`y_true` holds class labels.*got nan at index 0"),
    (np.array([None, 1], dtype=object), [0.2, 0.5], {}, ValueError, r"`y_true` must not contain missing labels; got None"),
    (np.array(["a", 1], dtype=object), [0.2, 0.5], {}, TypeError, r"`y_true` mixes label types \(int, str\)"),
    (np.zeros((2, 2, 2)), [0.2, 0.5], {}, ValueError, r"`y_true` must be 1-D .*got shape \(2, 2, 2\)"),
    (np.array([[1, 0], [0, 2]]), [0.2, 0.5], {}, ValueError, r"`y_true` given as a 2-D indicator.*got 2 at index \(1, 1\)"),
    (np.array([[1, 0, 0], [0, 1, 0]]), [0.2, 0.5], {}, ValueError, r"2 column.*`y_true` has 3 indicator columns"),
    (np.eye(2), [0.2, 0.5], {"labels": [0, 1]}, ValueError, r"`labels` cannot be used when `y_true` is a 2-D indicator"),
    ([0, 1], [0.2, 0.5], {"labels": [[0, 1]]}, ValueError, r"`labels` must be a 1-D sequence.*shape \(1, 2\)"),
    ([0, 1], [0.2, 0.5], {"labels": [0, 0.5]}, ValueError, r"`labels` holds class labels.*got 0.5 at index 1"),
    ([0, 1], [0.2, 0.5], {"sample_weight": [1.0, -2.0]}, ValueError, r"`sample_weight` must be non-negative; got -2.0 at index 1"),
    ([0, 1], [0.2, 0.5], {"sample_weight": [1.0, np.nan]}, ValueError, r"`sample_weight` must be finite; got nan at index 1"),
    ([0, 1], [0.2, 0.5], {"sample_weight": [0, 0]}, ValueError, r"`sample_weight` must contain at least one non-zero"),
    ([0, 1], [0.2, 0.5], {"sample_weight": [1.0]}, ValueError, r"`sample_weight` must have shape \(2,\).*got \(1,\)"),
    ([0, 1], [0.2, 0.5], {"sample_weight": [[1.0, 1.0]]}, ValueError, r"`sample_weight` must have shape \(2,\).*got \(1, 2\)"),
    ([0, 1], [0.2, 0.5], {"sample_weight": ["a", "b"]}, TypeError, r"`sample_weight` must be a real numeric array; got dtype <U1"),
]  # fmt: skip


@pytest.mark.parametrize("fn", [log_loss, brier_score])
@pytest.mark.parametrize(("y_true", "y_prob", "kwargs", "exc", "match"), BAD_INPUTS)
def test_bad_input_names_the_argument(fn, y_true, y_prob, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(y_true, y_prob, **kwargs)


@pytest.mark.parametrize("normalize", [1, "yes", None])
def test_log_loss_normalize_must_be_bool(normalize):
    with pytest.raises(TypeError, match=r"`normalize` must be a bool; got"):
        log_loss([0, 1], [0.2, 0.5], normalize=normalize)


def test_log_loss_accepts_numpy_bool_for_normalize():
    assert log_loss([0, 1], [0.5, 0.5], normalize=np.False_) == pytest.approx(2 * LN2, rel=1e-14)


def test_arguments_after_y_prob_are_keyword_only():
    with pytest.raises(TypeError):
        log_loss([0, 1], [0.2, 0.5], [0, 1])
    with pytest.raises(TypeError):
        brier_score([0, 1], [0.2, 0.5], [0, 1])


def test_metrics_is_reachable_from_the_package():
    assert ll.metrics.log_loss is log_loss
