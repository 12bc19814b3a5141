"""The CLI's preprocessing from Python: logloss.TablePreprocessor (issue #12, findings 6, 13, 15).

Every expected matrix here is computed with plain pandas/NumPy in the test, never by
the preprocessor under test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
pytest.importorskip("sklearn")

import logloss as ll  # noqa: E402
from logloss.tables import Preprocessor, prepare_training  # noqa: E402


def make_table(n=120, seed=0):
    """Two numeric columns with gaps, a text column (White most frequent) with a gap."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(2.0, 3.0, size=n),
            "colour": rng.choice(["White", "Black", "Red"], size=n, p=[0.5, 0.3, 0.2]),
        }
    )
    z = 1.5 * df["x1"] - 0.5 * df["x2"] + np.where(df["colour"] == "Red", 1.5, 0.0) + 0.5
    df["label"] = np.where(z + rng.logistic(size=n) > 0, "yes", "no")
    df.loc[[3, 10], "x1"] = np.nan
    df.loc[[5], "colour"] = None
    return df


def reference_matrix(train, data):
    """Standardise with the training mean/std (ddof 0) after imputing the training median;
    one indicator per non-reference level, the reference being the most frequent level."""
    cols = []
    for c in ("x1", "x2"):
        present = train[c].dropna().to_numpy()
        x = data[c].fillna(np.median(present)).to_numpy()
        cols.append((x - present.mean()) / present.std())
    counts = train["colour"].value_counts()
    reference = counts.index[0]
    assert counts.iloc[0] > counts.iloc[1]  # no tie in this table
    for level in sorted(set(train["colour"].dropna()) - {reference}):
        cols.append((data["colour"] == level).to_numpy(dtype=float))
    return np.column_stack(cols), reference


# -- finding 6: a DataFrame with text columns, and the transformer that encodes them --


def test_an_estimator_names_the_text_columns_of_a_dataframe():
    df = make_table()
    df["size"] = np.where(df["x2"] > 2, "big", "small")
    with pytest.raises(ValueError, match=r"'colour', 'size'.*TablePreprocessor"):
        ll.LogisticRegression().fit(df[["x1", "colour", "size"]], df["label"])
    model = ll.LogisticRegression().fit(df[["x1", "x2"]].fillna(0), df["label"])
    bad = df[["x1", "x2"]].fillna(0).astype({"x2": object})
    bad.loc[0, "x2"] = "n/a"
    with pytest.raises(ValueError, match=r"'x2'.*'n/a'"):
        model.predict_proba(bad)


def test_table_preprocessor_matches_an_independent_reference():
    df = make_table()
    X_df = df.drop(columns="label")
    tp = ll.TablePreprocessor().fit(X_df)
    expected, reference = reference_matrix(X_df, X_df)
    assert reference == "White"
    np.testing.assert_allclose(tp.transform(X_df), expected, rtol=1e-14, atol=1e-15)
    assert tp.get_feature_names_out().tolist() == ["x1", "x2", "colour=Black", "colour=Red"]
    assert tp.feature_names_in_.tolist() == ["x1", "x2", "colour"] and tp.n_features_in_ == 3
    assert tp.references_ == {"colour": "White"}
    # unseen and missing levels are the reference level (as a missing number is the median)
    new = X_df.iloc[:3].copy()
    new["colour"] = ["purple", None, "White"]
    with pytest.warns(UserWarning, match=r"not seen in training.*'purple'.*'White'") as caught:
        out = tp.transform(new)
    assert caught[0].filename == __file__  # the user's line, not a library's
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(ll.TablePreprocessor(), ll.LogisticRegression()).fit(X_df, df["label"])
    with pytest.warns(UserWarning, match="purple") as caught:
        pipe.predict_proba(new)
    assert caught[0].filename == __file__
    np.testing.assert_array_equal(out[:, 2:], np.zeros((3, 2)))


def test_table_preprocessor_gives_the_numbers_logloss_fit_gives():
    df = make_table()
    prepared = prepare_training(df, "label", test_size=0.0)
    tp = ll.TablePreprocessor().fit(df.drop(columns="label"))
    np.testing.assert_array_equal(tp.transform(df), prepared.X["training"])
    assert tp.get_feature_names_out().tolist() == prepared.preprocessor.feature_names_out


def test_table_preprocessor_in_a_pipeline_with_set_output_and_clone():
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline

    df = make_table()
    X_df, y = df.drop(columns="label"), df["label"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe = make_pipeline(ll.TablePreprocessor(), ll.LogisticRegression()).fit(X_df, y)
        proba = pipe.predict_proba(X_df)
        again = clone(pipe).fit(X_df, y)
        np.testing.assert_array_equal(again.predict_proba(X_df), proba)
    assert pipe.feature_names_in_.tolist() == ["x1", "x2", "colour"]
    out = ll.TablePreprocessor().set_output(transform="pandas").fit_transform(X_df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["x1", "x2", "colour=Black", "colour=Red"]
    np.testing.assert_array_equal(out.index, X_df.index)
    # the columns parameter picks the features; other columns are ignored
    tp = ll.TablePreprocessor(columns=["x2", "colour"]).fit(df)
    assert tp.get_feature_names_out().tolist() == ["x2", "colour=Black", "colour=Red"]
    # reference=None keeps every level (the coding of model files before reference levels)
    tp = ll.TablePreprocessor(reference=None).fit(X_df)
    assert tp.get_feature_names_out().tolist()[2:] == ["colour=Black", "colour=Red", "colour=White"]
    with pytest.raises(ValueError, match="lacks 1 column the model was trained on: 'colour'"):
        ll.TablePreprocessor().fit(X_df).transform(X_df.drop(columns="colour"))


def test_table_preprocessor_takes_an_array():
    X = np.array([[1.0, np.nan], [3.0, 2.0], [5.0, 4.0]])
    tp = ll.TablePreprocessor().fit(X)
    assert not hasattr(tp, "feature_names_in_") and tp.n_features_in_ == 2
    assert tp.get_feature_names_out().tolist() == ["x0", "x1"]
    # column 1: the gap becomes the median 3, then (x - 3) / 1
    np.testing.assert_allclose(tp.transform(X)[:, 1], [0.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="X has 3 features, but TablePreprocessor is expecting 2"):
        tp.transform(np.zeros((2, 3)))


def test_table_preprocessor_passes_scikit_learn_estimator_checks():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the checks' own notes (e.g. array API skipped)
        results = check_estimator(ll.TablePreprocessor(), on_fail=None)
    failed = {r["check_name"]: str(r["exception"]) for r in results if r["status"] == "failed"}
    assert not failed


# -- finding 13: the reference level, and what older states keep --


def test_reference_level_is_recorded_and_old_states_keep_every_level(frame):
    pre = Preprocessor().fit(frame, ["x", "colour"])
    assert pre.references == {"colour": "red"}
    assert pre.feature_names_out == ["x", "colour=blue"]
    state = pre.to_dict()
    assert state["categorical"]["colour"]["reference"] == "red"
    # a state written before reference levels (format 1): every level kept, as then
    old = dict(state, format_version=1)
    old["categorical"] = {"colour": {"categories": ["blue", "red"], "mode": "red", "n_missing": 1}}
    again = Preprocessor.from_dict(old)
    assert again.references == {"colour": None}
    assert again.feature_names_out == ["x", "colour=blue", "colour=red"]
    X, _ = again.transform(frame)
    np.testing.assert_array_equal(X[:, 1:], [[0, 1], [1, 0], [0, 0], [0, 1]])


def test_ties_for_the_reference_go_to_the_first_level_in_order():
    df = pd.DataFrame({"c": ["b", "a", "b", "a", "c"]})
    assert Preprocessor().fit(df, ["c"]).references == {"c": "a"}


def test_a_single_level_column_and_nothing_left():
    df = pd.DataFrame({"c": ["a", "a", "a"], "x": [1.0, 2.0, 3.0]})
    assert Preprocessor().fit(df, ["c", "x"]).feature_names_out == ["x"]
    with pytest.raises(ValueError, match="single value.*no feature"):
        Preprocessor().fit(df, ["c"])


# -- finding 15: the category limit names the option and the value that admits the column --


def test_the_category_limit_names_max_categories_and_the_value_that_admits_it():
    ids = pd.DataFrame({"dest": [f"A{i:03d}" for i in range(104)] * 2})
    with pytest.raises(ValueError, match=r"104 distinct.*--drop dest.*--max-categories 104"):
        Preprocessor().fit(ids, ["dest"])
    with pytest.raises(ValueError, match=r"104 distinct.*max_categories=104"):
        ll.TablePreprocessor().fit(ids)
    assert Preprocessor(max_categories=104).fit(ids, ["dest"]).n_features_out == 103
