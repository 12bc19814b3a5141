"""Data files in and out: CSV, TSV and Parquet, read with pyarrow into pandas.

- :func:`table_format` tells the format from a file's suffix (``-``: CSV on
  standard input or output; ``.csv.gz`` and the like: compressed CSV or TSV).
- :func:`read_table` reads a file into one ``DataFrame``; :func:`read_table_blocks`
  into consecutive blocks of rows, which a caller can free one by one.
- :func:`write_table` writes a ``DataFrame`` the same way.
- :func:`check_writable` says before any work whether an output file can be created.

Every mistake is a ``ValueError`` (or an ``OSError``) whose message names the file
and what is wrong with it. pandas and pyarrow are imported inside the functions.
"""

from __future__ import annotations

import functools
import io
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from .columns import closest_names

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = [
    "FORMATS",
    "check_writable",
    "read_table",
    "read_table_blocks",
    "release_arrow_memory",
    "table_format",
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


# Size of the blocks a CSV file is parsed in.
_BLOCK_BYTES = 8 << 20
# Rows per block where the file has no natural blocks (Parquet batches, the fallback read).
_BLOCK_ROWS = 65_536


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
        # Arrow's allocator keeps the freed pieces unless told: at 2M rows ~0.5x the table
        release_arrow_memory()
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

    Examples
    --------
    >>> import io
    >>> blocks = read_table_blocks("-", stdin=io.BytesIO(b"x,y\\n1,a\\n2,b\\n"))
    >>> len(blocks), blocks[0].shape
    (1, (2, 2))
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
            release_arrow_memory()
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


def check_writable(path: str | os.PathLike, what: str) -> Path:
    """`path` can be created: its folder exists and it is not a folder itself (``-`` passes).

    Called before any work, so that a wrong output path costs nothing.

    Examples
    --------
    >>> check_writable("no-such-folder/model.npz", "model file")
    Traceback (most recent call last):
    ...
    FileNotFoundError: cannot write model file 'no-such-folder/model.npz': its directory ...
    """
    path = Path(path)
    if str(path) == "-":
        return path
    if path.is_dir():
        raise IsADirectoryError(f"{what} {str(path)!r} is a directory")
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"cannot write {what} {str(path)!r}: its directory {str(folder)!r} does not exist"
        )
    return path


def release_arrow_memory() -> None:
    """Return freed memory to the system: what Arrow's allocator holds but no longer uses,
    and (with glibc) the free pages of the C heap, where blocks of a few MB freed one by one
    otherwise stay resident (glibc raises its mmap threshold as such blocks are freed)."""
    pa = sys.modules.get("pyarrow")
    if pa is not None:
        pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


# glibc's mallopt parameter for the size from which a block gets pages of its own
_M_MMAP_THRESHOLD = -3
LARGE_BLOCK = 8 << 20  # 8 MiB: as low a peak as 1 MiB, without the page faults' cost


def map_large_blocks(threshold: int = LARGE_BLOCK) -> bool:
    """Have the C heap (glibc) give every block of `threshold` bytes or more pages of its
    own, which go back to the system when the block is freed; False where it cannot.

    glibc raises that threshold (from 128 KB up to 32 MB) each time such a block is freed,
    so the arrays of a few to 30 MB that a run frees one by one then stay in the heap,
    resident, and the process's peak is the sum of its phases' leftovers rather than of what
    is alive at once (``logloss fit`` at 5M rows: 1.30 GB instead of 1.20 GB). Setting the
    threshold keeps it fixed for the rest of the process.
    """
    libc = _libc()
    if libc is None:
        return False
    try:
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, int(threshold)))
    except AttributeError:
        return False


def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None (another C library, another system)."""
    libc = _libc()
    return getattr(libc, "malloc_trim", None) if libc is not None else None


@functools.cache
def _libc() -> Any:
    """glibc through ctypes, or None (another C library, another system)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc has it; musl and others may not
    except (OSError, AttributeError):
        return None
    return libc
