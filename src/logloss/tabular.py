"""Tables in, design matrices out: reading data files and preparing their columns.

This is what ``logloss fit`` and ``logloss predict`` do between a file and an
estimator:

- :func:`read_table` reads CSV, TSV or Parquet (chosen by the file's suffix; ``-``
  reads CSV from standard input) with pyarrow into a pandas ``DataFrame``;
  :func:`write_table` writes one the same way.
- :func:`choose_features` and :func:`encode_target` pick the feature columns and
  turn the target column (strings or numbers) into class labels.
- :func:`train_test_rows` draws a stratified held-out split as row indices, so
  no copy of the table is made.
- :class:`Preprocessor` standardises numeric columns (missing values become
  the training median), one-hot encodes text columns, and writes the result
  straight into one float64 matrix. Its whole state is plain JSON
  (:meth:`Preprocessor.to_dict`), which is how a model file carries it.

Every mistake in the data is a ``ValueError`` (or ``FileNotFoundError``) whose
message names the file or column and what is wrong with it, so the command
line can print it as one sentence. pandas and pyarrow are imported inside the
functions.
"""

from __future__ import annotations

import difflib
import io
import math
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = [
    "FORMATS",
    "Preprocessor",
    "TransformReport",
    "choose_features",
    "closest_names",
    "encode_target",
    "read_table",
    "table_format",
    "train_test_rows",
    "write_table",
]

# File suffix -> format. Compressed CSV/TSV is read by pyarrow, which decompresses by suffix.
FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_COMPRESSED = (".gz", ".bz2", ".zst", ".lz4")

# A text column with more distinct values than this is almost surely an identifier.
MAX_CATEGORIES = 100
# A target with more classes than this is almost surely a continuous value or an identifier.
MAX_CLASSES = 1000
FORMAT_VERSION = 1
# Size of the blocks a CSV file is parsed in.
_BLOCK_BYTES = 8 << 20
# Rows per block where the file has no natural blocks (Parquet batches, the fallback read).
_BLOCK_ROWS = 65_536


# ---------------------------------------------------------------------------
# reading and writing files
# ---------------------------------------------------------------------------


def table_format(path: str | os.PathLike) -> str:
    """The format of `path` from its suffix: ``"csv"``, ``"tsv"`` or ``"parquet"``.

    ``-`` (standard input or output) is CSV; ``.csv.gz`` and the like are the
    compressed forms of CSV and TSV.

    Examples
    --------
    >>> table_format("data.tsv"), table_format("data.csv.gz"), table_format("-")
    ('tsv', 'csv', 'csv')
    >>> table_format("data.xlsx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: cannot tell the format of 'data.xlsx' from its suffix '.xlsx'; use .csv, ...
    """
    text = os.fspath(path)
    if text == "-":
        return "csv"
    p = Path(text)
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED and len(suffixes) >= 2:
        fmt = FORMATS.get(suffixes[-2])
        if fmt in ("csv", "tsv"):
            return fmt
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        shown = "".join(p.suffixes[-2:]) or "(none)"
        raise ValueError(
            f"cannot tell the format of {text!r} from its suffix {shown!r}; "
            "use .csv, .tsv or .parquet (or '-' for CSV on standard input)"
        )
    return fmt


def _arrow_message(exc: BaseException) -> str:
    """The first line of a pyarrow error, without its 'In CSV column #3:' noise doubled."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def read_table(
    path: str | os.PathLike,
    *,
    columns: Sequence[str] | None = None,
    stdin: BinaryIO | None = None,
) -> pd.DataFrame:
    """Read a CSV, TSV or Parquet file into a pandas ``DataFrame``.

    The format follows the suffix (:func:`table_format`); ``-`` reads CSV from
    standard input. CSV and TSV are parsed by pyarrow with one header row;
    empty fields and the usual markers (``NA``, ``NaN``, ``null``, ...) are
    missing values, in text columns too. Numeric columns are NumPy float64 (or
    int64 when complete), every other column Arrow-backed (``pd.ArrowDtype``,
    e.g. ``string[pyarrow]``), each column in its own block.

    Parameters
    ----------
    path : str or path-like
        The file, or ``"-"``.
    columns : sequence of str, optional
        Read only these columns (all by default). A name that is not in the
        file is a ``ValueError`` suggesting the closest names.
    stdin : binary file, optional
        What ``-`` reads; by default ``sys.stdin.buffer``.

    Returns
    -------
    pandas.DataFrame
        At least one row.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        An unknown suffix, an empty file, a header without rows, duplicate
        column names, or content pyarrow cannot parse.

    Examples
    --------
    >>> import io
    >>> df = read_table("-", stdin=io.BytesIO(b"x,colour,y\\n1.5,red,a\\n,blue,b\\n"))
    >>> df.shape, [str(t) for t in df.dtypes]
    ((2, 3), ['float64', 'string[pyarrow]', 'string[pyarrow]'])
    """
    frames = read_table_blocks(path, columns=columns, stdin=stdin)
    if len(frames) == 1:
        return frames[0]
    import pandas as pd

    # Join one column at a time, releasing the blocks' pieces of it as it goes.
    joined: dict[str, Any] = {}
    for col in list(frames[0].columns):
        pieces = [f.pop(col) for f in frames]
        joined[col] = pd.concat(pieces, ignore_index=True)
        del pieces
    return pd.DataFrame(joined, copy=False)


def read_table_blocks(
    path: str | os.PathLike,
    *,
    columns: Sequence[str] | None = None,
    stdin: BinaryIO | None = None,
) -> list[pd.DataFrame]:
    """Read a table as consecutive blocks of rows (DataFrames of a few MB each).

    The same file and checks as :func:`read_table`, without joining the blocks:
    code that walks the rows in order (:func:`prepare_training`) can then free
    each block once it is used, so the table and what it becomes never have to
    be in memory together.
    """
    fmt = table_format(path)
    text = os.fspath(path)
    if text == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read()
        if not data or not data.strip():
            raise ValueError("standard input is empty; expected CSV with a header row")
        source: Any = io.BytesIO(data)
        name = "standard input"
    else:
        p = Path(text)
        if not p.exists():
            raise FileNotFoundError(f"data file {text!r} does not exist")
        if p.is_dir():
            raise IsADirectoryError(f"data file {text!r} is a directory")
        if p.stat().st_size == 0:
            raise ValueError(f"data file {text!r} is empty")
        with open(p, "rb"):  # a readable file, or PermissionError naming it
            pass
        source = str(p)
        name = repr(text)

    import pyarrow as pa

    try:
        schema, blocks = _read_blocks(source, fmt, name, columns)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        kind = {"csv": "CSV", "tsv": "TSV", "parquet": "Parquet"}[fmt]
        message = _arrow_message(exc)
        if "Empty CSV file" in message:
            raise ValueError(f"{name} is empty") from None
        raise ValueError(f"cannot read {name} as {kind}: {message}") from None
    names = schema.names
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise ValueError(f"{name} has duplicate column names: {', '.join(map(repr, dupes))}")
    if not blocks or sum(len(b[0]) if b else 0 for b in blocks) == 0:
        raise ValueError(f"{name} has a header but no rows of data")
    return [_block_frame(schema, blocks.pop(0)) for _ in range(len(blocks))]


def _read_blocks(
    source: Any, fmt: str, name: str, columns: Sequence[str] | None
) -> tuple[Any, list[list[Any]]]:
    """(schema, blocks): each block a list of column pieces, NumPy for numbers, Arrow else.

    Numbers are converted block by block as they are parsed, so Arrow reuses the
    same scratch memory for the next block instead of holding the whole file.
    """
    import pyarrow as pa

    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(source)
        if columns is not None:
            _check_columns_exist(columns, pf.schema_arrow.names, name)
        schema = (
            pf.schema_arrow
            if columns is None
            else pa.schema([pf.schema_arrow.field(c) for c in columns])
        )
        batches = pf.iter_batches(
            batch_size=_BLOCK_ROWS, columns=list(columns) if columns is not None else None
        )
        return schema, [_convert_batch(b) for b in batches]

    import pyarrow.csv as pcsv

    parse = pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",")
    convert = pcsv.ConvertOptions(
        strings_can_be_null=True,
        include_columns=list(columns) if columns is not None else None,
    )
    reopen = (
        (lambda: source) if isinstance(source, str) else (lambda: io.BytesIO(source.getvalue()))
    )
    if columns is not None:
        # Read the header alone first, so a missing column gets our message.
        header = pcsv.open_csv(reopen(), parse_options=parse).schema.names
        _check_columns_exist(columns, header, name)
    try:
        reader = pcsv.open_csv(
            reopen(),
            read_options=pcsv.ReadOptions(block_size=_BLOCK_BYTES),
            parse_options=parse,
            convert_options=convert,
        )
        blocks = []
        for batch in reader:
            blocks.append(_convert_batch(batch))
            del batch
            _release_arrow_memory()
        return reader.schema, blocks
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            raise
    # The streaming reader infers column types from its first block; a later block
    # disagreed (integers that turn into decimals, a column empty at first): read the
    # file again in one piece, with types inferred from all of it.
    table = pcsv.read_csv(reopen(), parse_options=parse, convert_options=convert)
    blocks = [_convert_batch(b) for b in table.to_batches(max_chunksize=_BLOCK_ROWS)]
    return table.schema, blocks


def _is_number_type(arrow_type: Any) -> bool:
    import pyarrow.types as pt

    return pt.is_integer(arrow_type) or pt.is_floating(arrow_type)


def _convert_batch(batch: Any) -> list[Any]:
    """A record batch's columns: NumPy arrays for numbers (NaN for missing), Arrow otherwise."""
    return [
        column.to_numpy(zero_copy_only=False) if _is_number_type(column.type) else column
        for column in batch.columns
    ]


def _block_frame(schema: Any, pieces: list[Any]) -> pd.DataFrame:
    """One block as a DataFrame that keeps each column its own block (no consolidation)."""
    import pandas as pd
    import pyarrow as pa

    columns = {}
    for spec, piece in zip(schema, pieces, strict=True):
        if isinstance(piece, np.ndarray):
            columns[spec.name] = piece
        else:
            columns[spec.name] = pd.arrays.ArrowExtensionArray(
                pa.chunked_array([piece], type=spec.type)
            )
    return pd.DataFrame(columns, copy=False)


def _check_columns_exist(wanted: Iterable[str], available: Sequence[str], where: str) -> None:
    for col in wanted:
        if col not in available:
            raise ValueError(f"{where} has no column {col!r}{closest_names(col, available)}")


def write_table(
    df: pd.DataFrame, path: str | os.PathLike, *, stdout: BinaryIO | None = None
) -> None:
    """Write `df` as CSV, TSV or Parquet, chosen by the suffix of `path` (``-``: CSV on stdout).

    Text fields are quoted only where needed (pandas' CSV writer); floats are
    written in the shortest form that reads back to the same value.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> write_table(pd.DataFrame({"a": [1.5, 0.1], "b": ["x", "y"]}), path)
    >>> open(path).read().splitlines()
    ['a,b', '1.5,x', '0.1,y']
    """
    fmt = table_format(path)
    text = os.fspath(path)
    if text != "-":
        folder = Path(text).parent
        if not folder.is_dir():
            raise FileNotFoundError(
                f"cannot write {text!r}: its directory {str(folder)!r} does not exist"
            )
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), text)
        return
    sep = "\t" if fmt == "tsv" else ","
    if text == "-":
        sink = stdout if stdout is not None else sys.stdout.buffer
        sink.write(df.to_csv(index=False, sep=sep, lineterminator="\n").encode("utf-8"))
        sink.flush()
    else:
        df.to_csv(text, index=False, sep=sep, lineterminator="\n")


def closest_names(name: str, choices: Iterable[str]) -> str:
    """A hint for a misspelt column name: "; did you mean 'age'?" (or the columns there are).

    Examples
    --------
    >>> closest_names("agee", ["age", "income", "colour"])
    "; did you mean 'age'?"
    >>> closest_names("zzz", ["a", "b"])
    "; the columns are 'a', 'b'"
    """
    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = ", ".join(repr(c) for c in choices[:12])
    more = f" and {len(choices) - 12} more" if len(choices) > 12 else ""
    return f"; the columns are {shown}{more}"


# ---------------------------------------------------------------------------
# columns and target
# ---------------------------------------------------------------------------


def split_names(text: str | None) -> list[str]:
    """``"a, b,c"`` -> ``['a', 'b', 'c']``; None or blank -> ``[]``."""
    if text is None:
        return []
    return [part.strip() for part in text.split(",") if part.strip()]


def choose_features(
    columns: Sequence[str],
    target: str | None,
    *,
    features: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    source: str = "the data",
) -> list[str]:
    """The feature columns: `features` (default: every column but `target`) minus `drop`.

    Every name must be a column of the table (a ``ValueError`` suggests the
    closest ones otherwise); the target cannot be a feature.

    Examples
    --------
    >>> choose_features(["x", "colour", "y"], "y", drop=["colour"])
    ['x']
    """
    columns = [str(c) for c in columns]
    if target is not None and target not in columns:
        raise ValueError(
            f"{source} has no target column {target!r}{closest_names(target, columns)}"
        )
    for label, names in (("--features", features or ()), ("--drop", drop)):
        for col in names:
            if col not in columns:
                raise ValueError(
                    f"{label} names {col!r}, which is not a column of {source}"
                    f"{closest_names(col, columns)}"
                )
    if features:
        if target in features:
            raise ValueError(f"the target column {target!r} cannot also be a feature")
        chosen = list(dict.fromkeys(features))
    else:
        chosen = [c for c in columns if c != target]
    chosen = [c for c in chosen if c not in set(drop)]
    if not chosen:
        raise ValueError(f"no feature columns are left in {source} (after --features and --drop)")
    return chosen


@dataclass
class Target:
    """The class label of each usable row and which rows those are."""

    y: NDArray  # labels of the rows in `rows` (str or numbers), as the estimator sees them
    rows: NDArray[np.intp]  # row positions in the table (rows with a missing target are left out)
    classes: NDArray
    counts: NDArray[np.intp]
    n_missing: int


def encode_target(series: pd.Series, name: str | None = None) -> Target:
    """Class labels from a target column of strings, booleans or integral numbers.

    Rows whose target is missing are left out (``n_missing`` says how many).
    A continuous target (floats with fractions), a single class, or more than
    1000 classes is a ``ValueError``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = encode_target(pd.Series(["b", "a", None, "b"], name="y"))
    >>> t.classes.tolist(), t.counts.tolist(), t.rows.tolist(), t.n_missing
    (['a', 'b'], [1, 2], [0, 1, 3], 1)
    """
    import pandas as pd

    label = name if name is not None else str(series.name)
    missing = series.isna().to_numpy()
    rows = np.flatnonzero(~missing)
    if rows.size == 0:
        raise ValueError(f"the target column {label!r} is entirely empty")
    values = series.iloc[rows] if missing.any() else series
    kind = _column_kind(values, label, target=True)
    if kind == "numeric":
        y = values.to_numpy(dtype=np.float64)
        if not np.isfinite(y).all():
            raise ValueError(f"the target column {label!r} holds infinite values")
        if not (y == np.round(y)).all():
            raise ValueError(
                f"the target column {label!r} holds continuous numbers (e.g. "
                f"{y[y != np.round(y)][0]!r}); logloss fits classifiers, whose targets are "
                "class labels (text or whole numbers)"
            )
        y = y.astype(np.int64)
    elif kind == "boolean":
        y = values.to_numpy(dtype=bool)
    else:
        y = (
            values.astype(str).to_numpy(dtype=str)
            if not pd.api.types.is_string_dtype(values)
            else values.to_numpy(dtype=str)
        )
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise ValueError(
            f"the target column {label!r} has a single class ({_show(classes[0])}); "
            "a classifier needs at least two"
        )
    if classes.size > MAX_CLASSES:
        raise ValueError(
            f"the target column {label!r} has {classes.size:,} distinct values; a classifier's "
            f"target is a class label with at most {MAX_CLASSES} classes"
        )
    return Target(y=y, rows=rows, classes=classes, counts=counts, n_missing=int(missing.sum()))


def _show(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def train_test_rows(
    y: NDArray, test_size: float, seed: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """A stratified split: positions into `y` for training and held-out rows.

    Each class keeps its share in both parts (rounded); every class keeps at
    least one training row, and a class with two rows or more gets at least
    one held-out row when ``test_size > 0``. Both parts come back sorted, so
    reading rows from a table stays a forward scan. ``test_size = 0`` leaves
    the held-out part empty.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array(["a"] * 8 + ["b"] * 2)
    >>> train, test = train_test_rows(y, 0.5, seed=0)
    >>> len(train), len(test), np.unique(y[test]).tolist()
    (5, 5, ['a', 'b'])
    """
    if not (isinstance(test_size, (int, float)) and 0.0 <= test_size < 1.0):
        raise ValueError(f"`test_size` must be in [0, 1); got {test_size!r}")
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


# ---------------------------------------------------------------------------
# preprocessing
# ---------------------------------------------------------------------------


def _column_kind(series: pd.Series, name: str, *, target: bool = False) -> str:
    """ "numeric", "boolean" or "text" for a column; dates and the like are a ValueError."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return "numeric"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "boolean":
            return "boolean"
        if inferred in ("string", "categorical", "empty", "mixed", "mixed-integer"):
            return "text"
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
            return "numeric"
        return "text"
    role = "target column" if target else "column"
    raise ValueError(
        f"the {role} {name!r} has type {dtype}, which logloss cannot use; it reads numbers "
        "and text" + ("" if target else f" (leave it out with --drop {name})")
    )


def _as_float(series: pd.Series) -> NDArray[np.float64]:
    """A numeric or boolean column as float64 with NaN for missing values (a view if possible)."""
    import pandas as pd

    if series.dtype == np.float64:
        return series.to_numpy()
    if pd.api.types.is_string_dtype(series.dtype) or series.dtype == object:
        return pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _as_text(series: pd.Series) -> pd.Series:
    """A column as strings (missing stays missing), e.g. categories written as numbers."""
    import pandas as pd

    if pd.api.types.is_string_dtype(series.dtype) and not series.dtype == object:
        return series
    missing = series.isna()
    out = series.astype(str).astype("str")
    out[missing.to_numpy()] = None
    return out


@dataclass
class TransformReport:
    """What :meth:`Preprocessor.transform` had to do beyond the plain encoding."""

    n_rows: int = 0
    imputed: dict[str, int] = field(default_factory=dict)  # numeric column -> values imputed
    missing_categories: dict[str, int] = field(default_factory=dict)  # text column -> missing
    unseen: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> value -> count

    def messages(self, preprocessor: Preprocessor) -> list[str]:
        """Sentences for the user: imputed values (a note) and unseen categories (a warning)."""
        out = []
        if self.imputed:
            total = sum(self.imputed.values())
            items = list(self.imputed.items())
            parts = ", ".join(
                f"{col} ({n:,} → {_fmt(preprocessor.numeric[col]['median'])})"
                for col, n in items[:5]
            ) + (f" and {len(items) - 5} more columns" if len(items) > 5 else "")
            out.append(
                f"Imputed {total:,} missing numeric value{'s' if total != 1 else ''} with the "
                f"training median: {parts}."
            )
        if self.missing_categories:
            total = sum(self.missing_categories.values())
            items = list(self.missing_categories.items())
            parts = ", ".join(f"{col} ({n:,})" for col, n in items[:5]) + (
                f" and {len(items) - 5} more columns" if len(items) > 5 else ""
            )
            out.append(
                f"{total:,} missing text value{'s' if total != 1 else ''} encoded as all zeros: "
                f"{parts}."
            )
        if self.unseen:
            total = sum(sum(v.values()) for v in self.unseen.values())
            parts = []
            for col, values in self.unseen.items():
                examples = ", ".join(repr(v) for v in list(values)[:3])
                more = f" and {len(values) - 3} more" if len(values) > 3 else ""
                count = sum(values.values())
                parts.append(f"{col}: {examples}{more} ({count:,} row{'s' if count != 1 else ''})")
            out.append(
                f"Warning: {total:,} categor{'ies' if total != 1 else 'y'} not seen in training "
                f"{'were' if total != 1 else 'was'} encoded as all zeros: {'; '.join(parts)}."
            )
        return out


def _fmt(x: float) -> str:
    return f"{x:.6g}"


class Preprocessor:
    """Standardise numeric columns, one-hot encode text columns, impute with the median.

    Fitted on the training rows of a table, it writes any table with the same
    columns into a float64 matrix:

    - a numeric (or boolean) column ``c`` becomes ``(x - mean) / std``, where the
      mean and standard deviation are those of the training values; a missing
      value is first replaced by the training median (a constant column gives 0);
    - a text column with training categories ``k_1 < ... < k_m`` becomes ``m``
      0/1 columns named ``c=k_j``; a missing value, or one never seen in
      training, gives a row of zeros (counted in the :class:`TransformReport`).

    The state is plain JSON (:meth:`to_dict` / :meth:`from_dict`).

    Parameters
    ----------
    max_categories : int, default 100
        A text column with more distinct training values than this is a
        ``ValueError`` (it is most likely an identifier; drop it).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, None, 3.0], "colour": ["red", "blue", "red"]})
    >>> pre = Preprocessor().fit(df, ["x", "colour"])
    >>> pre.feature_names_out
    ['x', 'colour=blue', 'colour=red']
    >>> X, report = pre.transform(df)
    >>> X.round(3).tolist()
    [[-1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    >>> report.imputed
    {'x': 1}
    """

    def __init__(self, max_categories: int = MAX_CATEGORIES) -> None:
        if (
            isinstance(max_categories, bool)
            or not isinstance(max_categories, int)
            or max_categories < 1
        ):
            raise ValueError(f"`max_categories` must be an integer >= 1; got {max_categories!r}")
        self.max_categories = max_categories
        self.columns: list[str] = []
        self.numeric: dict[str, dict[str, Any]] = {}
        self.categorical: dict[str, dict[str, Any]] = {}
        self.fitted = False

    # -- fitting --

    def fit(
        self,
        df: pd.DataFrame | Sequence[pd.DataFrame],
        columns: Sequence[str],
        rows: NDArray[np.intp] | None = None,
    ) -> Preprocessor:
        """Learn medians, means, scales and categories from `rows` of `df` (all by default).

        `df` is a DataFrame or the consecutive blocks of one (:func:`read_table_blocks`);
        `rows` count from the first row of the first block.
        """
        frames = _as_frames(df)
        self.columns = [str(c) for c in columns]
        self.numeric, self.categorical = {}, {}
        for col in self.columns:
            if col not in frames[0].columns:
                raise ValueError(
                    f"the data has no column {col!r}{closest_names(col, frames[0].columns)}"
                )
            whole = column_of(frames, col)
            series = whole if rows is None else whole.iloc[rows]
            missing = series.isna().to_numpy()
            n_missing = int(missing.sum())
            if n_missing == missing.size:
                raise ValueError(
                    f"the feature column {col!r} is entirely empty"
                    + (" in the training rows" if rows is not None and whole.notna().any() else "")
                    + f"; drop it with --drop {col}"
                )
            del whole
            kind = _column_kind(series, col)
            if kind in ("numeric", "boolean"):
                x = _as_float(series)
                if not np.isfinite(x[~np.isnan(x)]).all():
                    bad = int(np.flatnonzero(np.isinf(x))[0])
                    raise ValueError(
                        f"the feature column {col!r} holds an infinite value (row "
                        f"{bad if rows is None else int(rows[bad])})"
                    )
                present = x[~missing] if n_missing else x
                median = float(np.median(present))
                mean = float(np.mean(present))
                std = float(np.std(present))
                self.numeric[col] = {
                    "kind": kind,
                    "median": median,
                    "mean": mean,
                    # A constant column has no spread: divide by 1 and it becomes 0.
                    "scale": std if std > 0 and math.isfinite(std) else 1.0,
                    "n_missing": n_missing,
                }
            else:
                text = _as_text(series)
                present = text[~missing] if n_missing else text
                levels = sorted(present.unique().tolist())
                if len(levels) > self.max_categories:
                    raise ValueError(
                        f"the text column {col!r} has {len(levels):,} distinct values, more than "
                        f"the {self.max_categories} categories one-hot encoding allows; it looks "
                        f"like an identifier: drop it with --drop {col}"
                    )
                counts = present.value_counts()
                mode = str(counts.index[0]) if len(counts) else levels[0]
                self.categorical[col] = {"categories": levels, "mode": mode, "n_missing": n_missing}
        self.fitted = True
        return self

    @property
    def feature_names_out(self) -> list[str]:
        """Names of the matrix columns, in order."""
        self._check_fitted()
        names: list[str] = []
        for col in self.columns:
            if col in self.numeric:
                names.append(col)
            else:
                names.extend(f"{col}={level}" for level in self.categorical[col]["categories"])
        return names

    @property
    def n_features_out(self) -> int:
        return len(self.feature_names_out)

    def training_report(self) -> TransformReport:
        """The imputations and missing categories of the training rows."""
        self._check_fitted()
        report = TransformReport()
        report.imputed = {c: s["n_missing"] for c, s in self.numeric.items() if s["n_missing"]}
        report.missing_categories = {
            c: s["n_missing"] for c, s in self.categorical.items() if s["n_missing"]
        }
        return report

    # -- transforming --

    def check_columns(self, columns: Iterable[str], source: str = "the data") -> None:
        """A ``ValueError`` listing the training columns that `columns` lacks."""
        self._check_fitted()
        have = set(map(str, columns))
        missing = [c for c in self.columns if c not in have]
        if missing:
            shown = ", ".join(repr(c) for c in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            raise ValueError(
                f"{source} lacks {len(missing)} column{'s' if len(missing) != 1 else ''} the "
                f"model was trained on: {shown}{more}"
            )

    def transform(
        self,
        df: pd.DataFrame,
        rows: NDArray[np.intp] | None = None,
        *,
        source: str = "the data",
    ) -> tuple[NDArray[np.float64], TransformReport]:
        """The design matrix of `rows` of `df` (all by default) and what was imputed.

        The matrix is C-ordered float64 of shape ``(len(rows), n_features_out)``,
        filled one column at a time so that no second copy of the table exists.
        """
        key = "rows"
        X, reports = self.transform_parts(df, {key: rows}, source=source)
        return X[key], reports[key]

    def transform_parts(
        self,
        df: pd.DataFrame | list[pd.DataFrame],
        parts: Mapping[str, NDArray[np.intp] | None],
        *,
        source: str = "the data",
        consume: bool = False,
    ) -> tuple[dict[str, NDArray[np.float64]], dict[str, TransformReport]]:
        """One design matrix per named set of rows (None: all rows), in one pass.

        `df` is a DataFrame or a list of consecutive blocks of one; the row sets
        must then be increasing (as :func:`train_test_rows` gives them), so each
        block fills a contiguous slice of each matrix. With ``consume=True`` and
        a list, each block is dropped from the list once encoded: the matrices
        grow while the table shrinks, and the peak memory stays near the larger
        of the two instead of their sum.
        """
        self._check_fitted()
        frames = df if isinstance(df, list) else [df]
        self.check_columns(frames[0].columns, source)
        lengths = [len(f) for f in frames]
        total = int(sum(lengths))
        for name, rows in parts.items():
            if (
                rows is not None
                and len(frames) > 1
                and rows.size > 1
                and not (np.diff(rows) > 0).all()
            ):
                raise ValueError(f"the rows of {name!r} must be increasing to read blocks")
        width = self.n_features_out
        X = {
            name: np.empty((total if r is None else int(r.size), width), dtype=np.float64)
            for name, r in parts.items()
        }
        reports = {name: TransformReport(n_rows=X[name].shape[0]) for name in parts}
        start = 0
        for i, length in enumerate(lengths):
            frame, stop = frames[i], start + length
            for name, rows in parts.items():
                if rows is None:
                    a, b, local = start, stop, None
                else:
                    a, b = (int(v) for v in np.searchsorted(rows, [start, stop]))
                    local = rows[a:b] - start
                if b > a:
                    self._encode(frame, local, X[name][a:b], reports[name], source)
            if consume and isinstance(df, list):
                frames[i] = None  # type: ignore[call-overload]
                del frame
                _release_arrow_memory()
            start = stop
        return X, reports

    def _encode(
        self,
        frame: pd.DataFrame,
        rows: NDArray[np.intp] | None,
        X: NDArray[np.float64],
        report: TransformReport,
        source: str,
    ) -> None:
        """Write the encoding of `rows` of `frame` (all if None) into the rows of `X`."""
        j = 0
        for col in self.columns:
            series = frame[col]
            if col in self.numeric:
                spec = self.numeric[col]
                values = self._numeric_values(series, col, source)
                x = values if rows is None else values[rows]
                out = X[:, j]
                np.subtract(x, spec["mean"], out=out)
                out /= spec["scale"]
                missing = np.isnan(out)
                if missing.any():
                    out[missing] = (spec["median"] - spec["mean"]) / spec["scale"]
                    report.imputed[col] = report.imputed.get(col, 0) + int(missing.sum())
                if np.isinf(out).any():
                    raise ValueError(f"the column {col!r} of {source} holds an infinite value")
                j += 1
            else:
                levels = self.categorical[col]["categories"]
                codes = self._codes(series, levels)
                if rows is not None:
                    codes = codes[rows]
                block = X[:, j : j + len(levels)]
                block[...] = 0.0
                known = codes >= 0
                block[np.flatnonzero(known), codes[known]] = 1.0
                if not known.all():
                    self._count_unknown(series, rows, known, col, report)
                j += len(levels)

    def _numeric_values(self, series: pd.Series, col: str, source: str) -> NDArray[np.float64]:
        try:
            return _as_float(series)
        except (ValueError, TypeError):
            sample = series.dropna()
            example = (
                next((v for v in sample.head(1000) if _not_number(v)), sample.iloc[0])
                if len(sample)
                else None
            )
            raise ValueError(
                f"the column {col!r} of {source} was numeric in training but holds text "
                f"(e.g. {example!r})"
            ) from None

    @staticmethod
    def _codes(series: pd.Series, levels: list[str]) -> NDArray:
        """Position of each value among the levels; -1 for a missing or unseen value."""
        import pandas as pd

        if isinstance(series.dtype, pd.ArrowDtype):
            import pyarrow as pa
            import pyarrow.compute as pc

            arrow = series.array._pa_array  # the ChunkedArray behind the column, no copy
            if pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type):
                # Arrow looks the strings up in place: no Python string per row.
                found = pc.index_in(arrow, value_set=pa.array(levels, type=arrow.type))
                return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
        text = _as_text(series)
        return pd.Index(levels, dtype="str").get_indexer(text)

    @staticmethod
    def _count_unknown(
        series: pd.Series, rows: Any, known: NDArray[np.bool_], col: str, report: TransformReport
    ) -> None:
        values = (series if rows is None else series.iloc[rows]).iloc[np.flatnonzero(~known)]
        n_missing = int(values.isna().sum())
        if n_missing:
            report.missing_categories[col] = report.missing_categories.get(col, 0) + n_missing
        counts = _as_text(values.dropna()).value_counts()
        if len(counts):
            seen = report.unseen.setdefault(col, {})
            for k, v in counts.items():
                seen[str(k)] = seen.get(str(k), 0) + int(v)

    # -- state --

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON-ready Python values."""
        self._check_fitted()
        return {
            "format_version": FORMAT_VERSION,
            "max_categories": self.max_categories,
            "columns": list(self.columns),
            "numeric": {c: dict(s) for c, s in self.numeric.items()},
            "categorical": {c: dict(s) for c, s in self.categorical.items()},
        }

    @classmethod
    def from_dict(cls, state: Any) -> Preprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_dict`, checking every field."""
        if not isinstance(state, dict):
            raise ValueError("the preprocessing state must be a mapping")
        version = state.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("the preprocessing state has no format version")
        if version > FORMAT_VERSION:
            raise ValueError(
                f"the preprocessing state has format version {version}; this logloss reads "
                f"version {FORMAT_VERSION}: upgrade logloss"
            )
        pre = cls(max_categories=_field(state, "max_categories", int))
        columns = _field(state, "columns", list)
        numeric = _field(state, "numeric", dict)
        categorical = _field(state, "categorical", dict)
        if not columns or not all(isinstance(c, str) for c in columns):
            raise ValueError("the preprocessing state's columns must be a non-empty list of names")
        if (
            len(set(columns)) != len(columns)
            or set(columns) != set(numeric) | set(categorical)
            or set(numeric) & set(categorical)
        ):
            raise ValueError("the preprocessing state's columns do not match its encoders")
        for col, spec in numeric.items():
            if not isinstance(spec, dict):
                raise ValueError(f"the preprocessing of column {col!r} is malformed")
            values = {k: spec.get(k) for k in ("median", "mean", "scale")}
            if (
                not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    for v in values.values()
                )
                or values["scale"] <= 0
            ):
                raise ValueError(f"the preprocessing of column {col!r} has invalid numbers")
            if spec.get("kind") not in ("numeric", "boolean"):
                raise ValueError(f"the preprocessing of column {col!r} has an unknown kind")
            n_missing = spec.get("n_missing", 0)
            if not isinstance(n_missing, int) or n_missing < 0:
                raise ValueError(f"the preprocessing of column {col!r} is malformed")
            pre.numeric[col] = {
                "kind": spec["kind"],
                **{k: float(v) for k, v in values.items()},
                "n_missing": n_missing,
            }
        for col, spec in categorical.items():
            levels = spec.get("categories") if isinstance(spec, dict) else None
            if (
                not isinstance(levels, list)
                or not levels
                or not all(isinstance(v, str) for v in levels)
                or levels != sorted(set(levels))
            ):
                raise ValueError(f"the categories of column {col!r} are malformed")
            n_missing = spec.get("n_missing", 0)
            if not isinstance(n_missing, int) or n_missing < 0:
                raise ValueError(f"the preprocessing of column {col!r} is malformed")
            mode = spec.get("mode", levels[0])
            if mode not in levels:
                raise ValueError(f"the most frequent category of column {col!r} is malformed")
            pre.categorical[col] = {
                "categories": list(levels),
                "mode": mode,
                "n_missing": n_missing,
            }
        pre.columns = list(columns)
        pre.fitted = True
        return pre

    def describe(self) -> str:
        """One line: how many columns of each kind became how many features."""
        self._check_fitted()
        n_cat = sum(len(s["categories"]) for s in self.categorical.values())
        return (
            f"{len(self.numeric)} numeric column{'s' if len(self.numeric) != 1 else ''} "
            f"standardised, {len(self.categorical)} text column"
            f"{'s' if len(self.categorical) != 1 else ''} one-hot encoded ({n_cat} indicator"
            f"{'s' if n_cat != 1 else ''}): {self.n_features_out} features"
        )

    def _check_fitted(self) -> None:
        if not self.fitted:
            raise ValueError("this Preprocessor is not fitted yet; call fit first")

    def __repr__(self) -> str:
        if not self.fitted:
            return "Preprocessor()"
        return f"Preprocessor(<{self.describe()}>)"


def _as_frames(data: Any) -> list[pd.DataFrame]:
    frames = list(data) if isinstance(data, (list, tuple)) else [data]
    if not frames or any(f is None for f in frames):
        raise ValueError("the table has no blocks left (were they consumed already?)")
    return frames


def column_of(data: pd.DataFrame | Sequence[pd.DataFrame], col: str) -> pd.Series:
    """Column `col` of a DataFrame, or of consecutive blocks joined (one column only)."""
    import pandas as pd

    frames = _as_frames(data)
    if len(frames) == 1:
        return frames[0][col]
    return pd.concat([f[col] for f in frames], ignore_index=True)


def _release_arrow_memory() -> None:
    """Return memory Arrow's allocator holds but no longer uses (a no-op without pyarrow)."""
    import sys as _sys

    pa = _sys.modules.get("pyarrow")
    if pa is not None:
        pa.default_memory_pool().release_unused()


def _not_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return True
    return False


def _field(state: dict, key: str, kind: type) -> Any:
    value = state.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"the preprocessing state's {key!r} is missing or malformed")
    return value


# ---------------------------------------------------------------------------
# fitting and predicting tables (what `logloss fit` and `logloss predict` run)
# ---------------------------------------------------------------------------

MODELS = ("logistic", "softmax", "mlp")
ESTIMATOR_OF_MODEL = {
    "logistic": "LogisticRegression",
    "softmax": "SoftmaxRegression",
    "mlp": "MLPClassifier",
}
CALIBRATION_FRACTION = 0.2


def make_estimator(
    model: str = "logistic",
    *,
    C: float | None = None,
    solver: str | None = None,
    max_iter: int | None = None,
    hidden_layer_sizes: Sequence[int] | None = None,
    seed: int | None = 0,
    verbose: int = 0,
) -> Any:
    """An unfitted estimator of :mod:`logloss.models` from command-line style options.

    `C` is the inverse L2 strength of every model: scikit-learn's ``C`` for the
    linear models and ``alpha = 1 / C`` for the MLP, whose penalty has the same
    form (``||W||^2 / (2 C)`` added to the summed loss, all divided by n).
    Options left at None keep the estimator's defaults.

    Examples
    --------
    >>> make_estimator("mlp", C=100.0, hidden_layer_sizes=[8]).get_params()["alpha"]
    0.01
    """
    from . import models

    if model not in MODELS:
        raise ValueError(f"`model` must be one of {', '.join(MODELS)}; got {model!r}")
    if C is not None and not (isinstance(C, (int, float)) and C > 0):
        raise ValueError(f"`C` must be a positive number; got {C!r}")
    if max_iter is not None and (not isinstance(max_iter, int) or max_iter < 1):
        raise ValueError(f"`max_iter` must be an integer >= 1; got {max_iter!r}")
    params: dict[str, Any] = {"random_state": seed, "verbose": verbose}
    if max_iter is not None:
        params["max_iter"] = max_iter
    if model == "mlp":
        from .models.mlp import MLP_SOLVERS as solvers

        if C is not None:
            params["alpha"] = 1.0 / C
        if hidden_layer_sizes is not None:
            if not hidden_layer_sizes or any(
                isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hidden_layer_sizes
            ):
                raise ValueError(
                    f"`hidden_layer_sizes` must be positive integers; got {hidden_layer_sizes!r}"
                )
            params["hidden_layer_sizes"] = tuple(hidden_layer_sizes)
    else:
        from .models.linear import LINEAR_SOLVERS as solvers

        if hidden_layer_sizes is not None:
            raise ValueError("hidden layer sizes apply to --model mlp only")
        if C is not None:
            params["C"] = float(C)
    if solver is not None:
        if solver not in solvers:
            raise ValueError(
                f"solver {solver!r} does not train a {model} model; choose one of "
                f"{', '.join(solvers)}"
            )
        params["solver"] = solver
    return getattr(models, ESTIMATOR_OF_MODEL[model])(**params)


@dataclass
class Prepared:
    """A table turned into matrices: one design matrix and label vector per split."""

    X: dict[str, NDArray[np.float64]]  # "training", "calibration" (optional), "held-out"
    y: dict[str, NDArray]
    preprocessor: Preprocessor
    target: str
    classes: NDArray
    prior: NDArray[np.float64]  # class frequencies of the training rows
    notes: list[str]
    n_rows: int  # rows of the table


def prepare_training(
    df: pd.DataFrame | list[pd.DataFrame],
    target: str,
    *,
    features: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    test_size: float = 0.2,
    seed: int = 0,
    calibrate: bool = False,
    max_categories: int = MAX_CATEGORIES,
    source: str = "the data",
    consume: bool = False,
) -> Prepared:
    """Split `df` (stratified), fit the :class:`Preprocessor` on the training rows, encode all.

    With `calibrate`, a fifth of the training rows is kept apart for fitting
    the temperature. No copy of the table is made: each matrix is written
    directly from the table's columns. `df` may be the list of blocks from
    :func:`read_table_blocks`; with `consume`, each block is dropped from that
    list once encoded (see :meth:`Preprocessor.transform_parts`).
    """
    frames = _as_frames(df)
    columns = choose_features(
        list(frames[0].columns), target, features=features, drop=drop, source=source
    )
    tgt = encode_target(column_of(frames, target), target)
    train_pos, test_pos = train_test_rows(tgt.y, test_size, seed)
    parts = {"training": train_pos}
    if calibrate:
        fit_sub, cal_sub = train_test_rows(tgt.y[train_pos], CALIBRATION_FRACTION, seed + 1)
        if cal_sub.size == 0:
            raise ValueError("too few training rows to keep some apart for --calibrate")
        parts = {"training": train_pos[fit_sub], "calibration": train_pos[cal_sub]}
    if test_pos.size:
        parts["held-out"] = test_pos

    notes = []
    if tgt.n_missing:
        notes.append(
            f"Left out {tgt.n_missing:,} row{'s' if tgt.n_missing != 1 else ''} whose target "
            f"{target!r} is missing."
        )
    pre = Preprocessor(max_categories=max_categories)
    pre.fit(frames, columns, rows=tgt.rows[parts["training"]])
    n_rows = int(sum(len(f) for f in frames))
    del frames
    X, reports = pre.transform_parts(
        df if isinstance(df, list) else [df],
        {name: tgt.rows[pos] for name, pos in parts.items()},
        source=source,
        consume=consume,
    )
    y = {name: tgt.y[pos] for name, pos in parts.items()}
    for name, report in reports.items():
        if name == "training":
            notes.extend(report.messages(pre))
        elif report.unseen:
            notes.extend(
                m.replace("Warning: ", f"In the {name} rows, ")
                for m in report.messages(pre)
                if m.startswith("Warning")
            )
    _, train_counts = np.unique(y["training"], return_counts=True)
    return Prepared(
        X=X,
        y=y,
        preprocessor=pre,
        target=target,
        classes=tgt.classes,
        prior=train_counts / train_counts.sum(),
        notes=notes,
        n_rows=n_rows,
    )


def fit_prepared(prepared: Prepared, estimator: Any) -> tuple[Any, list[str]]:
    """Fit `estimator` on the training matrix; with a calibration split, wrap it in
    :class:`~logloss.models.TemperatureScaling` fitted there. Returns the model and notes."""
    from .models import TemperatureScaling

    estimator.fit(prepared.X["training"], prepared.y["training"])
    notes: list[str] = []
    if "calibration" not in prepared.X:
        return estimator, notes
    scaler = TemperatureScaling(estimator, verbose=0)
    scaler.fit(prepared.X["calibration"], prepared.y["calibration"])
    notes.append(
        f"Temperature scaling on {prepared.y['calibration'].size:,} calibration rows: "
        f"T = {scaler.temperature_:.4g}, log loss {scaler.loss_before_:.4f} → "
        f"{scaler.loss_after_:.4f}, calibration error {scaler.ece_before_:.4f} → "
        f"{scaler.ece_after_:.4f}."
    )
    return scaler, notes


def score_splits(prepared: Prepared, model: Any) -> dict[str, dict[str, Any]]:
    """:func:`logloss.report.evaluate` on each split, with the training frequencies as baseline."""
    from .report import evaluate

    scores = {}
    for name, X in prepared.X.items():
        proba = model.predict_proba(X)
        scores[name] = evaluate(prepared.y[name], proba, model.classes_, prior=prepared.prior)
    return scores


def base_estimator(model: Any) -> Any:
    """The trained classifier inside a calibrated model (the model itself otherwise)."""
    inner = getattr(model, "estimator", None)
    return inner if inner is not None and hasattr(inner, "classes_") else model


def model_metadata(
    prepared: Prepared, scores: Mapping[str, Any], *, source: str, settings: Mapping[str, Any]
) -> dict[str, Any]:
    """What a model file written by ``logloss fit`` carries besides the estimator."""
    classes = [c.item() if isinstance(c, np.generic) else c for c in prepared.classes]
    kind = {"U": "text", "b": "boolean"}.get(prepared.classes.dtype.kind, "integer")
    return {
        "preprocessing": prepared.preprocessor.to_dict(),
        "feature_names": prepared.preprocessor.feature_names_out,
        "target": {"name": prepared.target, "classes": classes, "kind": kind},
        "training": {
            "data": source,
            "rows": prepared.n_rows,
            "settings": dict(settings),
            "scores": {k: dict(v) for k, v in scores.items()},
        },
    }


def preprocessor_of(model: Any, metadata: Mapping[str, Any], source: str) -> Preprocessor:
    """The preprocessing stored with a model, checked against the model's input size."""
    state = metadata.get("preprocessing")
    if state is None:
        names = getattr(model, "feature_names_in_", None)
        if names is None:
            raise ValueError(
                f"{source} holds no preprocessing (it was saved from Python without it), so "
                "its column names are unknown; fit it on a DataFrame, or with `logloss fit`"
            )
        # Saved from Python after fitting on a DataFrame: its columns, used as they are.
        pre = Preprocessor()
        pre.columns = [str(n) for n in names]
        pre.numeric = {
            c: {"kind": "numeric", "median": 0.0, "mean": 0.0, "scale": 1.0, "n_missing": 0}
            for c in pre.columns
        }
        pre.fitted = True
        return pre
    try:
        pre = Preprocessor.from_dict(state)
    except ValueError as exc:
        raise ValueError(f"{source} holds invalid preprocessing: {exc}") from None
    if pre.n_features_out != model.n_features_in_:
        raise ValueError(
            f"{source} is inconsistent: its preprocessing makes {pre.n_features_out} features "
            f"but its model takes {model.n_features_in_}"
        )
    return pre


def predict_table(
    model: Any,
    preprocessor: Preprocessor,
    df: pd.DataFrame,
    *,
    proba: bool = False,
    keep: Sequence[str] = (),
    source: str = "the data",
) -> tuple[pd.DataFrame, TransformReport]:
    """Predictions for every row of `df`, in order: a ``prediction`` column, or
    ``p_<class>`` columns with `proba`; the `keep` columns are copied in front."""
    import pandas as pd

    for col in keep:
        if col not in df.columns:
            raise ValueError(
                f"--keep names {col!r}, which is not a column of {source}"
                f"{closest_names(col, df.columns)}"
            )
    X, report = preprocessor.transform(df, source=source)
    out = pd.DataFrame({col: df[col] for col in keep})
    if proba:
        P = model.predict_proba(X)
        names = [f"p_{c}" for c in model.classes_.tolist()]
        clash = [n for n in names if n in out.columns]
        if clash:
            raise ValueError(f"--keep column {clash[0]!r} clashes with a probability column")
        for j, name in enumerate(names):
            out[name] = P[:, j]
    else:
        if "prediction" in out.columns:
            raise ValueError("--keep column 'prediction' clashes with the prediction column")
        out["prediction"] = model.predict(X)
    return out, report


class FeatureSlice:
    """A fitted model seen through two numeric input columns, the others held fixed.

    ``predict_proba(G)`` takes the two columns' values (shape (m, 2), original
    units), fills every other input column with its training median (numeric)
    or most frequent category (text), preprocesses and predicts, so that
    :func:`logloss.plot.decision_boundary` can draw any tabular model.
    """

    def __init__(self, model: Any, preprocessor: Preprocessor, features: Sequence[str]) -> None:
        if len(features) != 2:
            raise ValueError(f"a decision boundary needs exactly two features; got {len(features)}")
        for col in features:
            if col not in preprocessor.columns:
                raise ValueError(
                    f"the model was not trained on a column {col!r}"
                    f"{closest_names(col, preprocessor.columns)}"
                )
            if col not in preprocessor.numeric:
                raise ValueError(
                    f"column {col!r} is text; a decision boundary is drawn over two numeric columns"
                )
        self.model = model
        self.preprocessor = preprocessor
        self.features = list(features)
        self.classes_ = model.classes_
        self.display_name = type(base_estimator(model)).__name__

    def predict_proba(self, grid: NDArray[np.float64]) -> NDArray[np.float64]:
        import pandas as pd

        grid = np.asarray(grid, dtype=np.float64)
        columns: dict[str, Any] = {}
        m = grid.shape[0]
        for col in self.preprocessor.columns:
            if col in self.features:
                columns[col] = grid[:, self.features.index(col)]
            elif col in self.preprocessor.numeric:
                columns[col] = np.full(m, self.preprocessor.numeric[col]["median"])
            else:
                columns[col] = pd.Series(
                    [self.preprocessor.categorical[col]["mode"]] * m, dtype="str"
                )
        X, _ = self.preprocessor.transform(pd.DataFrame(columns))
        return self.model.predict_proba(X)
