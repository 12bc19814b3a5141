"""Reading tables and preparing their columns: logloss.tabular."""

from __future__ import annotations

import gzip
import io
import json

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from logloss import tabular  # noqa: E402
from logloss.tabular import (  # noqa: E402
    Preprocessor,
    choose_features,
    encode_target,
    read_table,
    table_format,
    train_test_rows,
    write_table,
)

CSV = b"x,colour,y\n1.5,red,a\n,blue,b\n3.0,,a\n"


def _frame():
    return pd.DataFrame(
        {
            "x": [1.0, np.nan, 3.0, 5.0],
            "n": [1, 2, 3, 4],
            "flag": [True, False, True, True],
            "colour": ["red", "blue", None, "red"],
        }
    )


# -- formats ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.csv", "csv"),
        ("a.CSV", "csv"),
        ("a.tsv", "tsv"),
        ("a.tab", "tsv"),
        ("a.parquet", "parquet"),
        ("a.pq", "parquet"),
        ("a.csv.gz", "csv"),
        ("a.tsv.bz2", "tsv"),
        ("-", "csv"),
    ],
)
def test_table_format(name, fmt):
    assert table_format(name) == fmt


@pytest.mark.parametrize("name", ["a.xlsx", "a", "a.json", "a.gz", "a.parquet.gz"])
def test_table_format_unknown(name):
    with pytest.raises(ValueError, match="cannot tell the format"):
        table_format(name)


def test_read_csv_tsv_parquet_gzip_and_stdin_agree(tmp_path):
    (tmp_path / "d.csv").write_bytes(CSV)
    (tmp_path / "d.tsv").write_bytes(CSV.replace(b",", b"\t"))
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(CSV))
    frames = [read_table(tmp_path / n) for n in ("d.csv", "d.tsv", "d.csv.gz")]
    frames.append(read_table("-", stdin=io.BytesIO(CSV)))
    write_table(frames[0], tmp_path / "d.parquet")
    frames.append(read_table(tmp_path / "d.parquet"))
    for df in frames:
        assert list(df.columns) == ["x", "colour", "y"]
        assert df["x"].isna().tolist() == [False, True, False]
        assert df["colour"].isna().tolist() == [False, False, True]  # empty text is missing
        assert df["y"].tolist() == ["a", "b", "a"]


def test_read_columns_subset_and_missing_column(tmp_path):
    (tmp_path / "d.csv").write_bytes(CSV)
    assert list(read_table(tmp_path / "d.csv", columns=["y"]).columns) == ["y"]
    with pytest.raises(ValueError, match="no column 'colur'; did you mean 'colour'"):
        read_table(tmp_path / "d.csv", columns=["colur"])


def test_type_change_after_the_first_block_falls_back_to_a_full_read(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "_BLOCK_BYTES", 64)
    rows = ["a,b"] + [f"{i},x" for i in range(200)] + ["2.5,y", ",z"]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    df = read_table(tmp_path / "d.csv")
    assert len(df) == 202
    assert df["a"].iloc[200] == 2.5 and df["a"].isna().iloc[201]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "is empty"),
        (b"a,b\n", "header but no rows"),
        (b"a,a\n1,2\n", "duplicate column"),
        (b"a,b\n1,2\n3,4,5\n", "cannot read .* as CSV"),
    ],
)
def test_read_bad_files(tmp_path, content, match):
    (tmp_path / "d.csv").write_bytes(content)
    with pytest.raises(ValueError, match=match):
        read_table(tmp_path / "d.csv")


def test_read_missing_directory_and_corrupt_parquet(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(IsADirectoryError):
        read_table(tmp_path / "d.csv")
    (tmp_path / "x.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match="as Parquet"):
        read_table(tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="standard input is empty"):
        read_table("-", stdin=io.BytesIO(b""))


def test_write_table_formats_and_quoting(tmp_path):
    df = pd.DataFrame({"id": [1, 2], "label": ["a", "b,c"], "p": [0.25, 1 / 3]})
    write_table(df, tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text() == 'id,label,p\n1,a,0.25\n2,"b,c",0.3333333333333333\n'
    write_table(df, tmp_path / "o.tsv")
    assert (tmp_path / "o.tsv").read_text().splitlines()[0] == "id\tlabel\tp"
    out = io.BytesIO()
    write_table(df, "-", stdout=out)
    assert out.getvalue().decode().startswith("id,label,p\n")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_table(df, tmp_path / "no" / "o.csv")


# -- columns and target --------------------------------------------------------------


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


# -- preprocessing ---------------------------------------------------------------------


def test_preprocessor_encodes_standardises_and_imputes():
    df = _frame()
    pre = Preprocessor().fit(df, ["x", "n", "flag", "colour"])
    assert pre.feature_names_out == ["x", "n", "flag", "colour=blue", "colour=red"]
    X, report = pre.transform(df)
    present = np.array([1.0, 3.0, 5.0])
    expected_x = (np.array([1.0, 3.0, 3.0, 5.0]) - present.mean()) / present.std()
    np.testing.assert_allclose(X[:, 0], expected_x)  # the median (3) fills the gap
    np.testing.assert_allclose(X[:, 1], (df["n"] - 2.5) / df["n"].std(ddof=0))
    np.testing.assert_array_equal(X[:, 3:], [[0, 1], [1, 0], [0, 0], [0, 1]])
    assert report.imputed == {"x": 1} and report.missing_categories == {"colour": 1}
    assert X.flags.c_contiguous and X.dtype == np.float64
    messages = report.messages(pre)
    assert messages[0].startswith("Imputed 1 missing numeric value with the training median")


def test_preprocessor_rows_and_parts_match_the_whole():
    df = _frame()
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


def test_read_table_blocks_join_to_read_table(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "_BLOCK_BYTES", 256)
    rows = ["a,b,c"] + [f"{i},{'x' if i % 3 else ''},{i / 7}" for i in range(300)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    blocks = tabular.read_table_blocks(tmp_path / "d.csv")
    assert len(blocks) > 3 and sum(len(b) for b in blocks) == 300
    whole = read_table(tmp_path / "d.csv")
    pd.testing.assert_frame_equal(pd.concat(blocks, ignore_index=True), whole)
    pre = Preprocessor().fit(blocks, ["a", "b", "c"], rows=np.arange(0, 300, 2))
    again = Preprocessor().fit(whole, ["a", "b", "c"], rows=np.arange(0, 300, 2))
    assert pre.to_dict() == again.to_dict()
    X_blocks, _ = pre.transform_parts(blocks, {"t": np.arange(5, 290, 7)})
    X_whole, _ = pre.transform(whole, np.arange(5, 290, 7))
    np.testing.assert_array_equal(X_blocks["t"], X_whole)
    monkeypatch.setattr(tabular, "_BLOCK_ROWS", 64)
    whole.to_parquet(tmp_path / "d.parquet")
    assert len(tabular.read_table_blocks(tmp_path / "d.parquet")) == 5


def test_preprocessor_unseen_categories_and_missing_columns():
    pre = Preprocessor().fit(_frame(), ["x", "colour"])
    new = pd.DataFrame({"x": [1.0, 2.0, 3.0], "colour": ["purple", "red", "purple"]})
    X, report = pre.transform(new)
    np.testing.assert_array_equal(X[:, 1:], [[0, 0], [0, 1], [0, 0]])
    assert report.unseen == {"colour": {"purple": 2}}
    assert (
        "Warning: 2 categories not seen in training were encoded as all zeros"
        in report.messages(pre)[-1]
    )
    with pytest.raises(ValueError, match="lacks 1 column the model was trained on: 'colour'"):
        pre.transform(new.drop(columns=["colour"]))
    with pytest.raises(ValueError, match="was numeric in training but holds text"):
        pre.transform(pd.DataFrame({"x": ["a", "b"], "colour": ["red", "red"]}))


def test_preprocessor_fit_errors():
    df = _frame()
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


def test_preprocessor_state_is_json_and_round_trips():
    df = _frame()
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
    ],
)
def test_preprocessor_state_is_validated(edit):
    state = Preprocessor().fit(_frame(), ["x", "colour"]).to_dict()
    edit(state)
    with pytest.raises(ValueError):
        Preprocessor.from_dict(state)


def test_feature_slice_holds_other_columns_fixed():
    from logloss import LogisticRegression

    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"a": rng.normal(size=60), "b": rng.normal(size=60), "c": rng.choice(["u", "v"], size=60)}
    )
    y = np.where(df["a"] > 0, "hi", "lo")
    pre = Preprocessor().fit(df, ["a", "b", "c"])
    model = LogisticRegression().fit(pre.transform(df)[0], y)
    view = tabular.FeatureSlice(model, pre, ["a", "b"])
    P = view.predict_proba(np.array([[2.0, 0.0], [-2.0, 0.0]]))
    assert P.shape == (2, 2) and P[0, 0] > 0.5 > P[1, 0]  # classes_ = ['hi', 'lo']
    with pytest.raises(ValueError, match="is text"):
        tabular.FeatureSlice(model, pre, ["a", "c"])
    with pytest.raises(ValueError, match="not trained on a column 'z'"):
        tabular.FeatureSlice(model, pre, ["a", "z"])
