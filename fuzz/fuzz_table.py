"""Fuzz the command line's table ingestion: every input is read and prepared, or fails
with the project's own clean error.

What ``logloss fit DATA -t TARGET`` does before training: :func:`read_table_blocks`
(CSV, TSV or Parquet by suffix), then :func:`prepare_training` (target encoding, the
stratified split, standardising and one-hot encoding); then what ``logloss predict``
does with the fitted preprocessing (:meth:`Preprocessor.transform` of the same table).

Clean error: what the CLI prints as one ``Error: ...`` line with exit status 2, raised by
logloss itself: a ``ValueError``, ``TypeError`` or ``OSError`` of Python's own classes
(not, say, a pyarrow or pandas exception passed through unexplained). Anything else,
and non-finite numbers in the prepared matrices, is a crash.

The first byte picks the format (CSV, TSV, Parquet), the second the target column and
the test share; the rest is the file.

Run: ``.venv/bin/python fuzz/fuzz_table.py -max_total_time=120 fuzz/corpus-table``
(atheris), or with ``--plain`` for the plain mutation loop.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness  # noqa: E402

if _harness.use_atheris():  # coverage feedback from logloss's own code only
    import atheris

    with atheris.instrument_imports(include=["logloss"]):
        from logloss import tables
else:
    from logloss import tables

WORK = tempfile.mkdtemp(prefix="fuzz-table-")
SUFFIXES = (".csv", ".tsv", ".parquet")
CLEAN = (ValueError, TypeError, OSError)


def _is_clean(exc: BaseException) -> bool:
    return isinstance(exc, CLEAN) and type(exc).__module__ == "builtins"


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    fmt, knobs, body = data[0] % 3, data[1], data[2:]
    path = os.path.join(WORK, "table" + SUFFIXES[fmt])
    with open(path, "wb") as fh:
        fh.write(body)
    try:
        blocks = tables.read_table_blocks(path)
        columns = list(blocks[0].columns)
        target = columns[knobs % len(columns)] if columns else "y"
        test_size = (0.0, 0.2, 0.5)[(knobs >> 4) % 3]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prepared = tables.prepare_training(
                blocks, target, test_size=test_size, max_categories=20, source="the table"
            )
        for name, X in prepared.X.items():
            if X.size and not np.isfinite(X).all():
                raise AssertionError(f"non-finite values in the prepared {name} matrix")
        table = tables.read_table(path)
        X, _ = prepared.preprocessor.transform(table, source="the table")
        if X.size and not np.isfinite(X).all():
            raise AssertionError("non-finite values in a transformed table")
    except Exception as exc:
        if not _is_clean(exc):
            raise


def seeds() -> list[bytes]:
    import pandas as pd

    csv = [
        b"x,y\n1,0\n2,1\n3,0\n4,1\n",
        b"a,b,colour,y\n1.5,,red,yes\n-2,3e10,blue,no\n,4,red,yes\n7,1e-300,,no\n0,0,green,yes\n",
        b'id,text,y\n1,"quoted, comma",a\n2,"multi\nline",b\n3,plain,a\n4,\xc3\xa9t\xc3\xa9,b\n',
        b"x,y\nnan,1\ninf,0\n-inf,1\n1e308,0\n-1e308,1\n",
        b"x,y\n1,1.0\n2,2.5\n3,1.0\n4,2.5\n5,1.0\n",
        b"x,y,z\n1,a,TRUE\n2,b,FALSE\n3,a,true\n4,b,false\n",
    ]
    out = [bytes([0, k]) + body for k, body in zip([1, 3, 2, 1, 1, 1], csv, strict=True)]
    out += [bytes([1, 1]) + body.replace(b",", b"\t") for body in csv[:2]]
    df = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0], "c": ["a", None, "b", "a"], "y": [0, 1, 0, 1]})
    buf = io.BytesIO()
    df.to_parquet(buf)
    out.append(bytes([2, 2]) + buf.getvalue())
    return out


if __name__ == "__main__":
    _harness.run(test_one_input, seeds())
