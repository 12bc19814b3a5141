"""The lean target encoding and split (issue 14, item 3) give what the old ones gave.

The reference functions below are the previous implementations, kept verbatim in
behaviour: ``np.unique`` on the labels, a stable argsort, one ``rng.choice`` per
class in class order. The lean ones must return the same arrays for every seed
and class layout, so the split of every published run stays the same.
"""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from logloss.tables.columns import encode_target, train_test_rows  # noqa: E402
from logloss.tables.training import prepare_training  # noqa: E402


def reference_split(y, test_size, seed):
    """The split as logloss computed it before: np.unique, argsort, np.split."""
    rng = np.random.default_rng(seed)
    _, codes = np.unique(y, return_inverse=True)
    codes = codes.reshape(-1)
    if test_size == 0.0:
        return np.arange(codes.size), np.empty(0, dtype=np.intp)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    test_parts = []
    for members in np.split(order, bounds):
        n = members.size
        k = int(round(test_size * n))
        k = min(max(k, 1 if n >= 2 else 0), n - 1)
        test_parts.append(rng.choice(members, size=k, replace=False) if k else members[:0])
    test = np.sort(np.concatenate(test_parts))
    is_test = np.zeros(codes.size, dtype=bool)
    is_test[test] = True
    return np.flatnonzero(~is_test), test


def _layouts():
    rng = np.random.default_rng(11)
    yield "two balanced", rng.integers(0, 2, 1000)
    yield "rare class", np.r_[np.zeros(997, int), np.ones(3, int)]
    yield "singleton class", np.r_[np.zeros(50, int), [1], np.full(20, 2)]
    yield "many classes", rng.integers(0, 40, 3000)  # sorted path (more than 8 classes)
    yield "zipf classes", np.minimum(rng.zipf(1.5, 4000), 300) - 1
    yield "gappy integers", rng.choice([-3, 7, 100], 500)  # not codes: np.unique path
    yield "codes with a gap", rng.choice([0, 2], 400)  # class 1 absent: np.unique path
    yield "strings", rng.choice(["on_time", "late", "b", "é"], 777)
    yield "booleans", rng.random(300) < 0.3
    yield "int8 codes", rng.integers(0, 5, 900).astype(np.int8)


@pytest.mark.parametrize("name,y", list(_layouts()), ids=[n for n, _ in _layouts()])
@pytest.mark.parametrize("test_size", [0.0, 0.2, 0.5, 0.33])
def test_lean_split_equals_the_old_one(name, y, test_size):
    for seed in range(12):
        new = train_test_rows(y, test_size, seed)
        old = reference_split(y, test_size, seed)
        for a, b in zip(new, old, strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def test_codes_and_labels_split_alike():
    """Class codes (the lean path) and the labels they stand for split the same rows."""
    rng = np.random.default_rng(3)
    labels = rng.choice(["x", "a", "m", "q", "c", "z", "b", "d", "k", "e"], 2000)
    classes, codes = np.unique(labels, return_inverse=True)
    for seed in range(5):
        for a, b in zip(
            train_test_rows(codes.astype(np.int8), 0.2, seed),
            train_test_rows(labels, 0.2, seed),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "values",
    [
        ["b", "a", None, "b", "c"] * 40,
        [1.0, 0.0, np.nan, 3.0, 1.0] * 40,
        [True, False, None, True] * 40,
        [5, 7, 5, 9] * 40,
    ],
)
def test_encode_target_codes_are_small_and_match_np_unique(values):
    series = pd.Series(values, name="y")
    full = encode_target(series)
    lean = encode_target(series, labels=False)
    present = series.dropna().to_numpy()
    if series.dtype == object and isinstance(present[0], str):
        present = present.astype(str)
    classes, codes = np.unique(present.astype(full.classes.dtype), return_inverse=True)
    assert lean.y is None
    assert full.codes.dtype == np.int8 and lean.codes.dtype == np.int8
    np.testing.assert_array_equal(full.codes, codes)
    np.testing.assert_array_equal(lean.codes, codes)
    np.testing.assert_array_equal(full.classes, classes)
    np.testing.assert_array_equal(full.y, classes[codes])
    np.testing.assert_array_equal(full.rows, lean.rows)


def test_many_classes_get_wider_codes():
    labels = pd.Series([f"c{i:04d}" for i in range(300)] * 2)
    t = encode_target(labels)
    assert t.codes.dtype == np.int16
    np.testing.assert_array_equal(t.classes[t.codes], labels.to_numpy(dtype=str))


@pytest.mark.parametrize("calibrate", [False, True])
@pytest.mark.parametrize("missing", [False, True])
def test_prepare_training_splits_as_before(calibrate, missing):
    """The labels and rows of each split are those the old split of the labels picks."""
    rng = np.random.default_rng(8)
    n = 600
    labels = rng.choice(["no", "yes", "maybe"], n).astype(object)
    if missing:
        labels[rng.random(n) < 0.1] = None
    df = pd.DataFrame({"x": np.arange(n, dtype=float), "y": labels})
    prepared = prepare_training(df, "y", test_size=0.25, seed=4, calibrate=calibrate)
    rows = np.flatnonzero(pd.notna(labels))
    y = labels[rows].astype(str)
    train, test = reference_split(y, 0.25, 4)
    expected = {"training": train}
    if calibrate:
        fit, cal = reference_split(y[train], 0.2, 5)
        expected = {"training": train[fit], "calibration": train[cal]}
    expected["held-out"] = test
    assert list(prepared.y) == list(expected)
    for name, pos in expected.items():
        np.testing.assert_array_equal(prepared.y[name], y[pos])
        assert prepared.y[name].dtype == y.dtype
        # x holds the table's row number: the design's rows are the split's table rows
        x = prepared.X[name]
        x = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
        col = prepared.preprocessor.feature_names_out.index("x")
        spec = prepared.preprocessor.numeric["x"]
        np.testing.assert_allclose(x[:, col], (rows[pos] - spec["mean"]) / spec["scale"])


def test_split_labels_hold_codes_and_give_labels():
    from logloss.tables.training import SplitLabels

    classes = np.array(["late", "on_time"])
    codes = {"training": np.array([1, 0, 1, 1], np.int8), "held-out": np.array([0], np.int8)}
    labels = SplitLabels(codes, classes)
    assert list(labels) == ["training", "held-out"] and len(labels) == 2
    np.testing.assert_array_equal(labels["training"], ["on_time", "late", "on_time", "on_time"])
    assert labels["training"].dtype == classes.dtype
    assert labels.size("held-out") == 1 and labels.counts("training").tolist() == [1, 3]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_scores_from_codes_equal_scores_from_labels(n_classes):
    """score_splits on class codes gives what evaluate gives on the labels themselves,
    and with release=True it drops each matrix but scores the same."""
    from logloss.metrics.evaluation import evaluate
    from logloss.tables.training import fit_prepared, make_estimator, score_splits

    rng = np.random.default_rng(n_classes)
    n = 400
    x = rng.normal(size=n)
    names = np.array(["b", "a", "c"][:n_classes])
    y = names[(x + rng.normal(size=n) > 0).astype(int) + (n_classes == 3) * (x > 1)]
    df = pd.DataFrame({"x": x, "g": rng.choice(["u", "v", "w"], n), "y": y})
    prepared = prepare_training(df, "y", seed=2)
    model, _ = fit_prepared(prepared, make_estimator("logistic" if n_classes == 2 else "softmax"))
    expected = {
        name: evaluate(
            prepared.y[name], model.predict_proba(X), model.classes_, prior=prepared.prior
        )
        for name, X in prepared.X.items()
    }
    assert score_splits(prepared, model) == expected
    assert set(prepared.X) == {"training", "held-out"}
    assert score_splits(prepared, model, release=True) == expected
    assert prepared.X == {}
    assert isinstance(expected["training"]["majority_class"], str)


def test_map_large_blocks_says_whether_it_could():
    from logloss.tables.files import map_large_blocks

    assert map_large_blocks() in (True, False)
