"""Feature columns, the target's classes and the held-out split: logloss.tables.columns."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from logloss.tables import choose_features, closest_names, encode_target, train_test_rows  # noqa: E402


def test_choose_features():
    cols = ["age", "income", "colour", "y"]
    assert choose_features(cols, "y") == ["age", "income", "colour"]
    assert choose_features(cols, "y", features=["income", "age"]) == ["income", "age"]
    assert choose_features(cols, "y", drop=["colour"]) == ["age", "income"]
    with pytest.raises(ValueError, match="no target column 'Y'; did you mean 'y'"):
        choose_features(cols, "Y")
    with pytest.raises(ValueError, match="--drop names 'incme'.*did you mean 'income'"):
        choose_features(cols, "y", drop=["incme"])
    with pytest.raises(ValueError, match="cannot also be a feature"):
        choose_features(cols, "y", features=["y"])
    with pytest.raises(ValueError, match="no feature columns"):
        choose_features(["a", "y"], "y", drop=["a"])


def test_encode_target_kinds():
    t = encode_target(pd.Series([1.0, 0.0, np.nan, 1.0], name="y"))
    assert t.y.dtype == np.int64 and t.classes.tolist() == [0, 1] and t.n_missing == 1
    t = encode_target(pd.Series([True, False, True]))
    assert t.classes.tolist() == [False, True]
    t = encode_target(
        pd.Series(["b", "a", "c"], dtype=pd.ArrowDtype(__import__("pyarrow").string()))
    )
    assert t.y.tolist() == ["b", "a", "c"] and t.counts.tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (["a", "a", None], "single class \\('a'\\)"),
        ([None, None], "entirely empty"),
        ([0.5, 1.5, 2.0], "continuous"),
        ([1.0, np.inf], "infinite"),
    ],
)
def test_encode_target_errors(values, match):
    with pytest.raises(ValueError, match=match):
        encode_target(pd.Series(values, name="y"))


def test_train_test_rows_is_stratified_sorted_and_seeded():
    y = np.array(["a"] * 90 + ["b"] * 10)
    train, test = train_test_rows(y, 0.2, seed=3)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(100))
    assert (np.diff(train) > 0).all() and (np.diff(test) > 0).all()
    assert (y[test] == "b").sum() == 2 and (y[test] == "a").sum() == 18
    again = train_test_rows(y, 0.2, seed=3)
    assert np.array_equal(again[1], test)
    assert not np.array_equal(train_test_rows(y, 0.2, seed=4)[1], test)
    train, test = train_test_rows(np.array(["a", "b", "b"]), 0.5, seed=0)
    assert "a" in y[train]  # a class of one row stays in training
    assert train_test_rows(y, 0.0, seed=0)[1].size == 0
    with pytest.raises(ValueError, match="test_size"):
        train_test_rows(y, 1.0, seed=0)


def test_closest_names_suggests_or_lists():
    assert closest_names("Colour", ["colour", "x"]) == "; did you mean 'colour'?"
    many = [f"c{i}" for i in range(20)]
    assert closest_names("zzz", many).endswith("and 8 more")
