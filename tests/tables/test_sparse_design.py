"""The sparse design of the table preprocessing (issue 14, item 3): CSR equals dense, the rule
that picks it, high-cardinality columns (one-hot or hashed) and TF-IDF text, each against an
independent reference (a plain formula, pandas, scikit-learn's FeatureHasher and
TfidfVectorizer), and the JSON state that carries it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
sp = pytest.importorskip("scipy.sparse")
pytest.importorskip("sklearn")

import logloss as ll  # noqa: E402
from logloss.tables import preprocess as preprocess_module  # noqa: E402
from logloss.tables.hashing import hash_buckets  # noqa: E402
from logloss.tables.preprocess import Preprocessor  # noqa: E402


def table(n=300, seed=0, n_ids=40):
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 3, n)
    x[rng.random(n) < 0.1] = np.nan
    colour = rng.choice(["red", "green", "blue", "white"], n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    colour[rng.random(n) < 0.05] = None
    return pd.DataFrame(
        {
            "x": x,
            "flag": rng.random(n) < 0.3,
            "colour": colour,
            "id": [f"u{k}" for k in rng.integers(0, n_ids, n)],
        }
    )


def reference_design(train, df, columns):
    """The dense design by a plain formula: z-scores with the training median for a gap;
    one 0/1 column per training level except the most frequent (the first among ties)."""
    parts = []
    for col in columns:
        s = train[col]
        if s.dtype.kind in "fb":
            v = s.to_numpy(dtype=float)
            present = v[~np.isnan(v)]
            mean, std = present.mean(), present.std()
            x = df[col].to_numpy(dtype=float)
            x = np.where(np.isnan(x), np.median(present), x)
            parts.append(((x - mean) / (std if std > 0 else 1.0))[:, None])
        else:
            counts = s.dropna().astype(str).value_counts()
            mode = min(counts.index[counts == counts.max()])
            for level in sorted(counts.index):
                if level != mode:
                    parts.append((df[col].astype(object) == level).to_numpy(dtype=float)[:, None])
    return np.hstack(parts)


def test_the_sparse_design_equals_the_dense_one_and_a_plain_formula():
    df = table()
    cols = ["x", "flag", "colour", "id"]
    train, test = np.arange(0, 240), np.arange(240, 300)
    dense = Preprocessor(sparse_output=False).fit(df, cols, rows=train)
    sparse = Preprocessor(sparse_output=True).fit(df, cols, rows=train)
    D, rd = dense.transform(df, test)
    S, rs = sparse.transform(df, test)
    assert isinstance(D, np.ndarray) and sp.issparse(S) and S.format == "csr"
    assert S.has_sorted_indices and S.shape == D.shape == (60, dense.n_features_out)
    np.testing.assert_allclose(S.toarray(), D, rtol=0, atol=1e-12)
    expected = reference_design(df.iloc[train], df.iloc[test], cols)
    np.testing.assert_allclose(D, expected, rtol=0, atol=1e-12)
    assert rd.imputed == rs.imputed and rd.unseen == rs.unseen
    assert rd.missing_categories == rs.missing_categories


def test_blocks_chunks_and_parts_give_the_same_rows(monkeypatch):
    df = table(n=500, seed=1)
    cols = ["x", "colour", "id"]
    pre = Preprocessor(sparse_output=True).fit(df, cols)
    whole, _ = pre.transform(df)
    monkeypatch.setattr(preprocess_module, "CHUNK_ROWS", 7)
    blocks = [df.iloc[:123].reset_index(drop=True), df.iloc[123:].reset_index(drop=True)]
    parts = {"a": np.arange(0, 500, 3), "b": None}
    X, _ = pre.transform_parts(blocks, parts, consume=True)
    assert blocks == [None, None]
    np.testing.assert_array_equal(X["a"].toarray(), whole.toarray()[::3])
    np.testing.assert_array_equal(X["b"].toarray(), whole.toarray())
    assert X["a"].has_sorted_indices and X["b"].indptr[-1] == whole.nnz


def test_the_auto_rule_is_dense_for_small_designs_and_sparse_for_many_indicators():
    df = table(n=400, n_ids=60)
    small = Preprocessor().fit(df, ["x", "colour"])
    assert not small.sparse and isinstance(small.transform(df)[0], np.ndarray)
    many = Preprocessor().fit(df, ["x", "colour", "id"])
    # 2 numeric+one-hot columns ... at most 3 nonzeros in a row of 1 + 3 + 59 features
    assert many.n_features_out == 63 and many.sparse
    assert "(sparse)" in many.describe()
    assert sp.issparse(many.transform(df)[0])


def test_a_high_cardinality_column_is_one_hot_with_every_level_and_a_reference():
    rng = np.random.default_rng(2)
    levels = np.array([f"T{k:04d}" for k in range(5000)])
    ids = np.concatenate([levels, levels, levels[rng.integers(0, 5000, 3000)]])
    df = pd.DataFrame({"tail": ids, "x": rng.normal(size=ids.size)})
    pre = Preprocessor().fit(df, ["tail", "x"])  # 5,000 levels > max_categories 100
    counts = pd.Series(ids).value_counts()
    mode = min(counts.index[counts == counts.max()])
    assert pre.references == {"tail": mode} and pre.n_features_out == 5000
    assert pre.sparse
    new = pd.DataFrame({"tail": [mode, "T0001" if mode != "T0001" else "T0002", "never"], "x": 0.0})
    X, report = pre.transform(new)
    assert X[:, :-1].sum(axis=1).tolist() == [[0.0], [1.0], [0.0]]
    assert report.unseen == {"tail": {"never": 1}}


def test_an_identifier_is_still_refused_with_the_ways_out():
    ids = pd.DataFrame({"id": [f"u{i}" for i in range(300)]})
    with pytest.raises(
        ValueError, match=r"300 distinct.*--drop id.*--hash-features.*--max-categories 300"
    ):
        Preprocessor().fit(ids, ["id"])
    with pytest.raises(ValueError, match="hash_features=N"):
        ll.TablePreprocessor().fit(ids)


def test_hashing_equals_feature_hasher_and_sends_unseen_values_to_their_bucket():
    from sklearn.feature_extraction import FeatureHasher

    rng = np.random.default_rng(3)
    values = [f"N{k}Q{'é' * (k % 3)}" for k in rng.integers(0, 2000, 3000)]
    df = pd.DataFrame({"tail": values})
    pre = Preprocessor(hash_features=64).fit(df, ["tail"])
    assert pre.hashed["tail"]["n_features"] == 64 and not pre.categorical
    assert pre.feature_names_out[:2] == ["tail#0", "tail#1"]
    new = pd.DataFrame({"tail": values[:50] + ["never seen", None]})
    X, report = pre.transform(new)
    hasher = FeatureHasher(n_features=64, input_type="string", alternate_sign=True)
    expected = hasher.transform([[v] if isinstance(v, str) else [] for v in new["tail"]]).toarray()
    np.testing.assert_array_equal(X.toarray(), expected)
    assert report.missing_categories == {"tail": 1} and not report.unseen


def test_hashing_is_the_same_in_another_process():
    values = ["N123AA", "N9", "Zürich", "", "a b c"]
    here = hash_buckets(values, 1024)
    code = (
        "import json, sys; from logloss.tables.hashing import hash_buckets; "
        "b, s = hash_buckets(json.loads(sys.argv[1]), 1024); "
        "print(json.dumps([b.tolist(), s.tolist()]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(values)],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "PYTHONHASHSEED": "12345"},
    )
    there = json.loads(out.stdout)
    assert there == [here[0].tolist(), here[1].tolist()]


def test_tfidf_equals_tfidf_vectorizer_fitted_on_the_training_rows():
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [
        "Late departure, weather delay",
        "on time; smooth flight",
        None,
        "crew delay, LATE arrival and late departure",
        "bags lost",
        "weather weather weather",
        "",
        "a",
    ]
    df = pd.DataFrame({"note": texts, "x": np.arange(8.0)})
    train = np.arange(6)
    pre = Preprocessor(text_columns=["note"]).fit(df, ["x", "note"], rows=train)
    X, report = pre.transform(df)
    ref = TfidfVectorizer()
    ref.fit([t or "" for t in texts[:6]])
    expected = ref.transform([t or "" for t in texts]).toarray()
    assert pre.text["note"]["terms"] == ref.get_feature_names_out().tolist()
    np.testing.assert_allclose(pre.text["note"]["idf"], ref.idf_, rtol=1e-15)
    np.testing.assert_allclose(X.toarray()[:, 1:], expected, rtol=1e-12, atol=1e-15)
    assert pre.feature_names_out[1:3] == ["note:and", "note:arrival"]
    assert report.missing_categories == {"note": 1}
    assert pre.sparse  # a TF-IDF column always gives CSR


def test_the_state_round_trips_through_json_and_old_states_still_read():
    df = table(n=400, n_ids=60)
    df["note"] = np.where(np.arange(400) % 2, "late again", "fine flight")
    pre = Preprocessor(max_categories=10, hash_features=16, text_columns=["note"])
    pre.fit(df, ["x", "colour", "id", "note"])
    assert set(pre.hashed) == {"id"} and set(pre.text) == {"note"}
    state = json.loads(json.dumps(pre.to_dict()))
    assert state["format_version"] == 3
    again = Preprocessor.from_dict(state)
    a, b = pre.transform(df)[0], again.transform(df)[0]
    assert (a != b).nnz == 0 and again.feature_names_out == pre.feature_names_out
    old = {
        "format_version": 2,
        "max_categories": 100,
        "reference": "most_frequent",
        "columns": ["colour"],
        "numeric": {},
        "categorical": {
            "colour": {
                "categories": [f"c{k:02d}" for k in range(80)],
                "mode": "c00",
                "reference": "c00",
            }
        },
    }
    # a design of format 2 stays dense, as it was written
    old_pre = Preprocessor.from_dict(old)
    assert not old_pre.sparse and old_pre.hashed == {} and old_pre.text == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["text"]["note"].update(idf=[0.5]), "vocabulary of column 'note'"),
        (lambda s: s["text"]["note"].update(terms=["a", "a"]), "vocabulary of column 'note'"),
        (lambda s: s["text"]["note"].update(token_pattern=".+"), "tokenisation"),
        (lambda s: s["hashed"]["id"].update(n_features=0), "hashing of column 'id'"),
        (lambda s: s.update(sparse_output="yes"), "'sparse_output'"),
        (lambda s: s.update(hash_features=True), "'hash_features'"),
        (lambda s: s["text"].pop("note"), "do not match its encoders"),
    ],
)
def test_a_malformed_state_is_refused_naming_the_field(change, message):
    df = pd.DataFrame({"id": [f"u{k % 30}" for k in range(100)], "note": ["late flight"] * 100})
    state = Preprocessor(max_categories=10, hash_features=8, text_columns=["note"])
    state = json.loads(json.dumps(state.fit(df, ["id", "note"]).to_dict()))
    change(state)
    with pytest.raises(ValueError, match=message):
        Preprocessor.from_dict(state)


def test_bad_text_columns_are_clear_errors():
    df = pd.DataFrame({"n": [1.0, 2.0], "t": ["x y", "z z"], "e": [None, None], "w": ["a", "b"]})
    with pytest.raises(ValueError, match="--text names 'n', a numeric column"):
        Preprocessor(text_columns=["n"]).fit(df, ["n"])
    with pytest.raises(ValueError, match="--text names 'q', which is not a feature column"):
        Preprocessor(text_columns=["q"]).fit(df, ["t"])
    with pytest.raises(ValueError, match="'e' is entirely empty"):
        Preprocessor(text_columns=["e"]).fit(df, ["e"])
    with pytest.raises(ValueError, match="'w' holds no word"):
        Preprocessor(text_columns=["w"]).fit(df, ["w"])
    with pytest.raises(TypeError, match="`text_columns` must be a list"):
        Preprocessor(text_columns="t")
    with pytest.raises(ValueError, match="`sparse_output` must be"):
        Preprocessor(sparse_output="yes")
    with pytest.raises(ValueError, match="`hash_features` must be an integer >= 1; got 0"):
        Preprocessor(hash_features=0)


def test_a_model_on_the_sparse_design_predicts_as_on_the_dense_one():
    df = table(n=600, n_ids=80, seed=4)
    y = (df["colour"].fillna("red") == "red") ^ (df["id"].str[1:].astype(int) % 3 == 0)
    cols = ["x", "flag", "colour", "id"]
    D = Preprocessor(sparse_output=False).fit(df, cols).transform(df)[0]
    S = Preprocessor(sparse_output=True).fit(df, cols).transform(df)[0]
    dense = ll.LogisticRegression(tol=1e-10, max_iter=1000).fit(D, y)
    sparse = ll.LogisticRegression(tol=1e-10, max_iter=1000).fit(S, y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(sparse.predict_proba(S), dense.predict_proba(D), atol=1e-8)
    assert (sparse.predict(S) == dense.predict(D)).all()


def test_the_transformer_passes_the_new_parameters_and_clones():
    from sklearn.base import clone

    df = table(n=300, n_ids=50)
    df["note"] = np.where(np.arange(300) % 3, "late plane", "nice crew")
    tp = ll.TablePreprocessor(max_categories=10, hash_features=32, text_columns=["note"])
    X = tp.fit(df[["x", "id"]].assign(note=df["note"])).transform(df)
    assert sp.issparse(X) and X.shape == (300, 1 + 32 + 4)
    names = tp.get_feature_names_out().tolist()
    assert names[1] == "id#0" and names[-1] == "note:plane"
    assert clone(tp).get_params() == tp.get_params()
    dense = ll.TablePreprocessor(columns=["x", "id"], sparse_output=False).fit(df)
    assert isinstance(dense.transform(df), np.ndarray)


def test_predict_table_in_chunks_equals_one_pass_and_counts_every_chunk(monkeypatch):
    from logloss.tables import prediction

    df = table(n=400, n_ids=60, seed=5)
    y = np.where(df["colour"].fillna("red") == "red", "yes", "no")
    pre = Preprocessor().fit(df, ["x", "colour", "id"])
    model = ll.LogisticRegression().fit(pre.transform(df)[0], y)
    new = df.assign(colour=df["colour"].where(df.index % 97 != 0, "purple"))
    whole, report = prediction.predict_table(model, pre, new, proba=True)
    labels, _ = prediction.predict_table(model, pre, new)
    monkeypatch.setattr(prediction, "PREDICT_ROWS", 64)
    parts, chunked = prediction.predict_table(model, pre, new, proba=True)
    pd.testing.assert_frame_equal(parts, whole)
    assert chunked == report and report.unseen == {"colour": {"purple": 5}}
    pd.testing.assert_frame_equal(prediction.predict_table(model, pre, new)[0], labels)
    assert labels["prediction"].dtype == pd.Series(["yes"]).dtype


@pytest.mark.parametrize("dtype", ["str", "category", object])
def test_text_targets_are_encoded_and_split_as_before(dtype):
    from logloss.tables.columns import encode_target, train_test_rows

    rng = np.random.default_rng(6)
    labels = rng.choice(["on_time", "late", "Late", "é", "z10", "z9"], 500).astype(object)
    labels[rng.random(500) < 0.05] = None
    tgt = encode_target(pd.Series(labels, dtype=dtype), "arrival")
    present = np.array([v for v in labels if v is not None], dtype=str)
    classes, codes, counts = np.unique(present, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(tgt.y, present)
    np.testing.assert_array_equal(tgt.classes, classes)
    np.testing.assert_array_equal(tgt.counts, counts)
    np.testing.assert_array_equal(tgt.codes, codes)
    by_codes, by_labels = train_test_rows(tgt.codes, 0.3, 1), train_test_rows(tgt.y, 0.3, 1)
    for a, b in zip(by_codes, by_labels, strict=True):
        np.testing.assert_array_equal(a, b)
