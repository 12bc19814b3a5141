"""Standardising, one-hot encoding and imputing: logloss.tables.preprocess."""

from __future__ import annotations

import json

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from logloss.tables import Preprocessor  # noqa: E402


def test_preprocessor_encodes_standardises_and_imputes(frame):
    df = frame
    pre = Preprocessor().fit(df, ["x", "n", "flag", "colour"])
    # 'red' is the most frequent colour: the reference level, with no column of its own
    assert pre.feature_names_out == ["x", "n", "flag", "colour=blue"]
    X, report = pre.transform(df)
    present = np.array([1.0, 3.0, 5.0])
    expected_x = (np.array([1.0, 3.0, 3.0, 5.0]) - present.mean()) / present.std()
    np.testing.assert_allclose(X[:, 0], expected_x)  # the median (3) fills the gap
    np.testing.assert_allclose(X[:, 1], (df["n"] - 2.5) / df["n"].std(ddof=0))
    np.testing.assert_array_equal(X[:, 3:], [[0], [1], [0], [0]])
    assert report.imputed == {"x": 1} and report.missing_categories == {"colour": 1}
    assert X.flags.c_contiguous and X.dtype == np.float64
    messages = report.messages(pre)
    assert messages[0].startswith("Imputed 1 missing numeric value with the training median")


def test_preprocessor_rows_and_parts_match_the_whole(frame):
    df = frame
    pre = Preprocessor().fit(df, ["x", "colour"], rows=np.array([0, 1, 3]))
    full, _ = pre.transform(df)
    parts, _ = pre.transform_parts(df, {"a": np.array([3, 0]), "b": None})
    np.testing.assert_array_equal(parts["a"], full[[3, 0]])
    np.testing.assert_array_equal(parts["b"], full)
    blocks = [df.iloc[:2].reset_index(drop=True), df.iloc[2:].reset_index(drop=True)]
    parts, reports = pre.transform_parts(
        blocks, {"a": np.array([0, 2, 3]), "b": None}, consume=True
    )
    np.testing.assert_array_equal(parts["a"], full[[0, 2, 3]])
    np.testing.assert_array_equal(parts["b"], full)
    assert blocks == [None, None]  # each block was released once encoded
    assert reports["b"].imputed == {"x": 1}
    with pytest.raises(ValueError, match="increasing"):
        pre.transform_parts([df.iloc[:2], df.iloc[2:]], {"a": np.array([3, 0])})


def test_preprocessor_unseen_categories_and_missing_columns(frame):
    pre = Preprocessor().fit(frame, ["x", "colour"])
    new = pd.DataFrame({"x": [1.0, 2.0, 3.0], "colour": ["purple", "red", "purple"]})
    X, report = pre.transform(new)
    np.testing.assert_array_equal(X[:, 1:], [[0], [0], [0]])  # as the reference, 'red'
    assert report.unseen == {"colour": {"purple": 2}}
    assert (
        "Warning: 2 categories not seen in training were encoded as the most frequent level "
        "of their column: colour: 'purple' (2 rows → 'red')." == report.messages(pre)[-1]
    )
    X, report = pre.transform(frame)
    assert report.messages(pre) == [
        "Imputed 1 missing numeric value with the training median: x (1 → 3).",
        "1 missing text value encoded as the most frequent level of their column: "
        "colour (1 → 'red').",
    ]
    every = Preprocessor(reference=None).fit(frame, ["x", "colour"])
    X, report = every.transform(new)
    np.testing.assert_array_equal(X[:, 1:], [[0, 0], [0, 1], [0, 0]])
    message = report.messages(every)[-1]
    assert "were encoded as all zeros: colour: 'purple' (2 rows)." in message
    with pytest.raises(ValueError, match="lacks 1 column the model was trained on: 'colour'"):
        pre.transform(new.drop(columns=["colour"]))
    with pytest.raises(ValueError, match="was numeric in training but holds text"):
        pre.transform(pd.DataFrame({"x": ["a", "b"], "colour": ["red", "red"]}))


def test_preprocessor_fit_errors(frame):
    df = frame
    df["empty"] = np.nan
    with pytest.raises(ValueError, match="'empty' is entirely empty; drop it with --drop empty"):
        Preprocessor().fit(df, ["x", "empty"])
    ids = pd.DataFrame({"id": [f"u{i}" for i in range(20)]})
    with pytest.raises(ValueError, match="20 distinct values.*identifier"):
        Preprocessor(max_categories=10).fit(ids, ["id"])
    dates = pd.DataFrame({"d": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    with pytest.raises(ValueError, match="has type datetime64.*--drop d"):
        Preprocessor().fit(dates, ["d"])
    with pytest.raises(ValueError, match="not fitted"):
        Preprocessor().transform(df)


def test_preprocessor_state_is_json_and_round_trips(frame):
    df = frame
    pre = Preprocessor().fit(df, ["x", "n", "flag", "colour"])
    state = json.loads(json.dumps(pre.to_dict()))
    again = Preprocessor.from_dict(state)
    np.testing.assert_array_equal(again.transform(df)[0], pre.transform(df)[0])
    assert again.categorical["colour"]["mode"] == "red"


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s.pop("columns"),
        lambda s: s.update(format_version=99),
        lambda s: s["numeric"]["x"].update(scale=0.0),
        lambda s: s["numeric"]["x"].update(mean="a"),
        lambda s: s["categorical"]["colour"].update(categories=["z", "a"]),
        lambda s: s["categorical"]["colour"].update(mode="green"),
        lambda s: s.update(columns=["x"]),
        lambda s: s["numeric"].update(colour={"kind": "numeric"}),
        lambda s: s.update(reference="first"),
        lambda s: s["categorical"]["colour"].update(reference="green"),
        lambda s: s["categorical"]["colour"].update(reference=None),
        lambda s: s.update(reference=None),
    ],
)
def test_preprocessor_state_is_validated(edit, frame):
    state = Preprocessor().fit(frame, ["x", "colour"]).to_dict()
    edit(state)
    with pytest.raises(ValueError):
        Preprocessor.from_dict(state)
