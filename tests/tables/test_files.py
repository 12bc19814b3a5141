"""Reading and writing data files: logloss.tables.files."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

import logloss.tables.files as files  # noqa: E402
from logloss.tables import Preprocessor, check_writable, read_table, table_format, write_table  # noqa: E402

CSV = b"x,colour,y\n1.5,red,a\n,blue,b\n3.0,,a\n"


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
    monkeypatch.setattr(files, "_BLOCK_BYTES", 64)
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


def test_read_table_blocks_join_to_read_table(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_BLOCK_BYTES", 256)
    rows = ["a,b,c"] + [f"{i},{'x' if i % 3 else ''},{i / 7}" for i in range(300)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    blocks = files.read_table_blocks(tmp_path / "d.csv")
    assert len(blocks) > 3 and sum(len(b) for b in blocks) == 300
    whole = read_table(tmp_path / "d.csv")
    pd.testing.assert_frame_equal(pd.concat(blocks, ignore_index=True), whole)
    pre = Preprocessor().fit(blocks, ["a", "b", "c"], rows=np.arange(0, 300, 2))
    again = Preprocessor().fit(whole, ["a", "b", "c"], rows=np.arange(0, 300, 2))
    assert pre.to_dict() == again.to_dict()
    X_blocks, _ = pre.transform_parts(blocks, {"t": np.arange(5, 290, 7)})
    X_whole, _ = pre.transform(whole, np.arange(5, 290, 7))
    np.testing.assert_array_equal(X_blocks["t"], X_whole)
    monkeypatch.setattr(files, "_BLOCK_ROWS", 64)
    whole.to_parquet(tmp_path / "d.parquet")
    assert len(files.read_table_blocks(tmp_path / "d.parquet")) == 5


def test_check_writable(tmp_path):
    assert check_writable(tmp_path / "m.npz", "model file") == tmp_path / "m.npz"
    assert str(check_writable("-", "output file")) == "-"
    with pytest.raises(IsADirectoryError, match="output file .* is a directory"):
        check_writable(tmp_path, "output file")
    with pytest.raises(FileNotFoundError, match="cannot write model file .* does not exist"):
        check_writable(tmp_path / "no" / "m.npz", "model file")
