"""The preprocessing of ``logloss fit``: standardise numbers, encode text, build the design.

:class:`Preprocessor` is fitted on the training rows of a table and writes any
table with the same columns into one design matrix — dense float64, or scipy CSR
when one-hot, hashed or TF-IDF columns make it sparse (:attr:`Preprocessor.sparse`)
— without a copy of the table. :class:`TransformReport` says what it had to impute
or could not encode. Its whole state is plain JSON (:meth:`Preprocessor.to_dict`),
which is how a model file carries it. :class:`logloss.TablePreprocessor`
(``transformer.py``) is the same preprocessing as a scikit-learn transformer.
The column encoders live in ``encoders.py``, ``hashing.py`` and ``text.py``; the
matrix assembly in ``design.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .columns import as_frames, closest_names, column_kind, column_of
from .design import assemble_csr, stack_rows, write_dense
from .encoders import (
    TooManyCategoriesError,
    levels_spec,
    numeric_piece,
    numeric_spec,
    one_hot_piece,
)
from .files import release_arrow_memory
from .hashing import hashed_piece
from .preprocess_state import FORMAT_VERSION, REFERENCES, SPARSE_OUTPUTS, read_state
from .text import fit_tfidf, tfidf_piece
from .transform_report import TransformReport, count_noun

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = [
    "CHUNK_ROWS",
    "FORMAT_VERSION",
    "MAX_CATEGORIES",
    "REFERENCES",
    "SPARSE_MIN_FEATURES",
    "Preprocessor",
    "TooManyCategoriesError",
    "TransformReport",
]

# A text column with more distinct values than this is one-hot encoded only with at least
# two training rows per value on average, or hashed with `hash_features` (--hash-features).
MAX_CATEGORIES = 100
# sparse_output="auto" gives CSR from this many features on, when at most half can be nonzero
SPARSE_MIN_FEATURES = 32
# Rows encoded at a time: bounds the temporary arrays of one step, whatever the table's size.
CHUNK_ROWS = 1 << 16


class Preprocessor:
    """Standardise numeric columns, encode text columns, impute with the median.

    Fitted on the training rows of a table, it writes any table with the same
    columns into a design matrix:

    - a numeric (or boolean) column ``c`` becomes ``(x - mean) / std``, where the
      mean and standard deviation are those of the training values; a missing
      value is first replaced by the training median (a constant column gives 0);
    - a text column with training categories ``k_1 < ... < k_m`` and reference
      level ``k_r`` (the most frequent training value; a tie goes to the first in
      sorted order) becomes ``m - 1`` 0/1 columns named ``c=k_j``, ``j != r``, so
      that each coefficient is the effect of ``k_j`` against ``k_r`` and reads
      alone. A missing value, or one never seen in training, is encoded as the
      reference level (a row of zeros), as a missing number becomes the median;
      the :class:`TransformReport` counts them. :attr:`references` names each
      column's reference level;
    - a text column with more than `max_categories` levels is one-hot encoded the
      same way when its training rows hold at least two per level on average (a
      :class:`TooManyCategoriesError` otherwise: most likely an identifier), or,
      with `hash_features` ``N``, hashed into ``N`` columns ``c#0 ... c#N-1``
      (:mod:`logloss.tables.hashing`: FeatureHasher's signed MurmurHash3; any
      value, seen in training or not, lands in its bucket);
    - a column of `text_columns` is free text: TF-IDF features ``c:term``
      (:mod:`logloss.tables.text`, scikit-learn's ``TfidfVectorizer``).

    The matrix is scipy CSR (:attr:`sparse`) with ``sparse_output=True``, or with
    ``"auto"`` when a TF-IDF column is present or the design has at least
    :data:`SPARSE_MIN_FEATURES` features of which at most half can be nonzero in a
    row (each numeric, one-hot or hashed column gives at most one nonzero per row);
    dense float64 otherwise. Both hold the same numbers.

    With ``reference=None`` every level keeps its column and a missing or unseen
    value is a row of zeros: the coding of the states of format version 1 (model
    files written before reference levels), which still load and encode as then.
    The state is plain JSON (:meth:`to_dict` / :meth:`from_dict`).

    Parameters
    ----------
    max_categories : int, default 100
        Above this many distinct training values a text column is hashed (with
        `hash_features`), or one-hot encoded only with two training rows or more
        per value on average.
    reference : {"most_frequent", None}, default "most_frequent"
        Which level of a one-hot encoded column has no column of its own.
    hash_features : int, optional
        Columns per hashed text column; None: no column is hashed.
    text_columns : sequence of str, default ()
        Free-text columns, encoded as TF-IDF (they must be among the fitted columns).
    sparse_output : {"auto", True, False}, default "auto"
        Whether :meth:`transform` gives a CSR matrix.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, None, 3.0], "colour": ["red", "blue", "red"]})
    >>> pre = Preprocessor().fit(df, ["x", "colour"])
    >>> pre.feature_names_out, pre.references, pre.sparse
    (['x', 'colour=blue'], {'colour': 'red'}, False)
    >>> X, report = pre.transform(df)
    >>> X.round(3).tolist()
    [[-1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    >>> report.imputed
    {'x': 1}
    >>> Preprocessor(reference=None).fit(df, ["colour"]).feature_names_out
    ['colour=blue', 'colour=red']
    >>> S, _ = Preprocessor(sparse_output=True).fit(df, ["x", "colour"]).transform(df)
    >>> S.format, bool((S.toarray() == X).all())
    ('csr', True)
    """

    def __init__(
        self,
        max_categories: int = MAX_CATEGORIES,
        reference: str | None = "most_frequent",
        *,
        hash_features: int | None = None,
        text_columns: Sequence[str] = (),
        sparse_output: str | bool = "auto",
    ) -> None:
        for name, value in (("max_categories", max_categories), ("hash_features", hash_features)):
            if value is None and name == "hash_features":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be an integer >= 1; got {value!r}")
        if reference not in REFERENCES:
            raise ValueError(
                f"`reference` must be one of {', '.join(map(repr, REFERENCES))}; got {reference!r}"
            )
        if sparse_output not in SPARSE_OUTPUTS:
            raise ValueError(
                f"`sparse_output` must be 'auto', True or False; got {sparse_output!r}"
            )
        if isinstance(text_columns, str) or not all(isinstance(c, str) for c in text_columns):
            raise TypeError(f"`text_columns` must be a list of column names; got {text_columns!r}")
        self.max_categories = max_categories
        self.reference = reference
        self.hash_features = hash_features
        self.text_columns = list(dict.fromkeys(text_columns))
        self.sparse_output = sparse_output
        self.columns: list[str] = []
        self.numeric: dict[str, dict[str, Any]] = {}
        self.categorical: dict[str, dict[str, Any]] = {}
        self.hashed: dict[str, dict[str, Any]] = {}
        self.text: dict[str, dict[str, Any]] = {}
        self.fitted = False

    # -- fitting --

    def fit(
        self,
        df: pd.DataFrame | Sequence[pd.DataFrame],
        columns: Sequence[str],
        rows: NDArray[np.intp] | None = None,
    ) -> Preprocessor:
        """Learn medians, means, scales, levels and vocabularies from `rows` of `df`.

        `df` is a DataFrame or the consecutive blocks of one (:func:`read_table_blocks`);
        `rows` count from the first row of the first block (all rows by default).
        """
        frames = as_frames(df)
        self.columns = [str(c) for c in columns]
        if not self.columns:
            raise ValueError("no feature columns are given to fit on")
        for col in self.text_columns:
            if col not in self.columns:
                raise ValueError(f"--text names {col!r}, which is not a feature column")
        self.numeric, self.categorical, self.hashed, self.text = {}, {}, {}, {}
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
            kind = column_kind(series, col)
            if col in self.text_columns:
                if kind != "text":
                    raise ValueError(
                        f"--text names {col!r}, a {kind} column; TF-IDF features are made "
                        "from free text"
                    )
                self.text[col] = fit_tfidf(series, col)
            elif kind in ("numeric", "boolean"):
                self.numeric[col] = numeric_spec(series, col, kind, missing, rows)
            else:
                self._fit_levels(series, col, missing)
        self.fitted = True
        if not self.n_features_out:
            self.fitted = False
            names = ", ".join(repr(c) for c in self.categorical)
            raise ValueError(
                f"the text column{'s' if len(self.categorical) != 1 else ''} {names} "
                f"hold{'s' if len(self.categorical) == 1 else ''} a single value in the "
                "training rows, so no feature is left to fit on"
            )
        return self

    def _fit_levels(self, series: pd.Series, col: str, missing: NDArray[np.bool_]) -> None:
        """One-hot levels of a text column, or its hashing above `max_categories`."""
        spec = levels_spec(series, missing, self.reference)
        n_levels = len(spec["categories"])
        if n_levels > self.max_categories:
            if self.hash_features is not None:
                self.hashed[col] = {
                    "n_features": self.hash_features,
                    "n_levels": n_levels,
                    "mode": spec["mode"],
                    "n_missing": spec["n_missing"],
                }
                return
            n_present = missing.size - spec["n_missing"]
            if 2 * n_levels >= n_present:
                raise TooManyCategoriesError(col, n_levels, self.max_categories)
        self.categorical[col] = spec

    def _widths(self) -> list[tuple[str, int]]:
        """(column, number of features) in column order."""
        out = []
        for col in self.columns:
            if col in self.numeric:
                out.append((col, 1))
            elif col in self.categorical:
                spec = self.categorical[col]
                out.append((col, len(spec["categories"]) - (spec["reference"] is not None)))
            elif col in self.hashed:
                out.append((col, self.hashed[col]["n_features"]))
            else:
                out.append((col, len(self.text[col]["terms"])))
        return out

    @property
    def feature_names_out(self) -> list[str]:
        """Names of the matrix columns, in order: ``c``, ``c=level``, ``c#bucket``, ``c:term``."""
        self._check_fitted()
        names: list[str] = []
        for col in self.columns:
            if col in self.numeric:
                names.append(col)
            elif col in self.categorical:
                spec = self.categorical[col]
                names.extend(
                    f"{col}={level}" for level in spec["categories"] if level != spec["reference"]
                )
            elif col in self.hashed:
                names.extend(f"{col}#{k}" for k in range(self.hashed[col]["n_features"]))
            else:
                names.extend(f"{col}:{term}" for term in self.text[col]["terms"])
        return names

    @property
    def references(self) -> dict[str, str | None]:
        """Each one-hot column's reference level (None: every level has a column)."""
        self._check_fitted()
        return {col: spec["reference"] for col, spec in self.categorical.items()}

    @property
    def n_features_out(self) -> int:
        return int(sum(width for _, width in self._widths()))

    @property
    def sparse(self) -> bool:
        """Whether :meth:`transform` gives a CSR matrix (see ``sparse_output``)."""
        self._check_fitted()
        if self.sparse_output != "auto":
            return bool(self.sparse_output)
        if self.text:
            return True
        width = self.n_features_out
        # each numeric, one-hot or hashed column has at most one nonzero in a row
        per_row = len(self.numeric) + len(self.categorical) + len(self.hashed)
        return width >= SPARSE_MIN_FEATURES and 2 * per_row <= width

    def training_report(self) -> TransformReport:
        """The imputations and missing categories of the training rows."""
        self._check_fitted()
        report = TransformReport()
        report.imputed = {c: s["n_missing"] for c, s in self.numeric.items() if s["n_missing"]}
        report.missing_categories = {
            c: s["n_missing"]
            for group in (self.categorical, self.hashed, self.text)
            for c, s in group.items()
            if s["n_missing"]
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
    ) -> tuple[Any, TransformReport]:
        """The design matrix of `rows` of `df` (all by default) and what was imputed.

        The matrix has shape ``(len(rows), n_features_out)``: C-ordered float64, or
        a CSR matrix when :attr:`sparse`; it is written :data:`CHUNK_ROWS` rows at a
        time, so no second copy of the table exists.
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
    ) -> tuple[dict[str, Any], dict[str, TransformReport]]:
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
        width, sparse = self.n_features_out, self.sparse
        sizes = {name: total if r is None else int(r.size) for name, r in parts.items()}
        dense = {} if sparse else {n: np.empty((k, width)) for n, k in sizes.items()}
        blocks: dict[str, list] = {name: [] for name in parts}
        reports = {name: TransformReport(n_rows=k) for name, k in sizes.items()}
        start = 0
        for i, length in enumerate(lengths):
            frame, stop = frames[i], start + length
            positions = frame.columns.get_indexer(self.columns)
            for name, rows in parts.items():
                if rows is None:
                    a, b, local = start, stop, None
                else:
                    a, b = (int(v) for v in np.searchsorted(rows, [start, stop]))
                    local = rows[a:b] - start
                for lo in range(a, b, CHUNK_ROWS):
                    hi = min(lo + CHUNK_ROWS, b)
                    take = slice(lo - a, hi - a) if local is None else local[lo - a : hi - a]
                    chunk = frame.iloc[take, positions]
                    pieces = self._encode(chunk, reports[name], source)
                    if sparse:
                        blocks[name].append(assemble_csr(pieces, hi - lo))
                    else:
                        write_dense(pieces, dense[name][lo:hi])
                    del chunk, pieces
            if consume and isinstance(df, list):
                frames[i] = None  # type: ignore[call-overload]
                del frame
                release_arrow_memory()
            start = stop
        if not sparse:
            return dense, reports
        X = {name: stack_rows(blocks[name], width) for name in parts}
        release_arrow_memory()  # the chunks' pages, freed by stack_rows, go back to the system
        return X, reports

    def _encode(self, frame: pd.DataFrame, report: TransformReport, source: str) -> list:
        """The pieces of the design (:mod:`logloss.tables.design`) of every row of `frame`."""
        pieces: list = []
        for col in self.columns:
            series = frame[col]
            if col in self.numeric:
                pieces.append(numeric_piece(series, self.numeric[col], col, report, source))
            elif col in self.categorical:
                pieces.append(one_hot_piece(series, self.categorical[col], col, report))
            else:
                if col in self.hashed:
                    piece, n_missing = hashed_piece(series, self.hashed[col]["n_features"])
                else:
                    piece, n_missing = tfidf_piece(series, self.text[col])
                if n_missing:
                    report.missing_categories[col] = (
                        report.missing_categories.get(col, 0) + n_missing
                    )
                pieces.append(piece)
        return pieces

    # -- state --

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON-ready Python values."""
        self._check_fitted()
        return {
            "format_version": FORMAT_VERSION,
            "max_categories": self.max_categories,
            "reference": self.reference,
            "hash_features": self.hash_features,
            "sparse_output": self.sparse_output,
            "columns": list(self.columns),
            "numeric": {c: dict(s) for c, s in self.numeric.items()},
            "categorical": {c: dict(s) for c, s in self.categorical.items()},
            "hashed": {c: dict(s) for c, s in self.hashed.items()},
            "text": {c: dict(s) for c, s in self.text.items()},
        }

    @classmethod
    def from_dict(cls, state: Any) -> Preprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_dict`, checking every field."""
        parts = read_state(state)
        pre = cls(
            max_categories=parts["max_categories"],
            reference=parts["reference"],
            hash_features=parts["hash_features"],
            text_columns=list(parts["text"]),
            sparse_output=parts["sparse_output"],
        )
        pre.numeric, pre.categorical = parts["numeric"], parts["categorical"]
        pre.hashed, pre.text = parts["hashed"], parts["text"]
        pre.columns = parts["columns"]
        pre.fitted = True
        return pre

    def describe(self) -> str:
        """One line: how many columns of each kind became how many features (naming only
        the kinds there are)."""
        self._check_fitted()
        widths = dict(self._widths())
        n_num, n_text, n_out = len(self.numeric), len(self.categorical), self.n_features_out
        parts = []
        if n_num:
            parts.append(f"{count_noun(n_num, 'numeric column')} standardised")
        if n_text:
            ref = ", the most frequent level of each as reference" if self._has_references() else ""
            indicators = count_noun(sum(widths[c] for c in self.categorical), "indicator")
            parts.append(f"{count_noun(n_text, 'text column')} one-hot encoded ({indicators}{ref})")
        if self.hashed:
            parts.append(
                f"{count_noun(len(self.hashed), 'text column')} hashed "
                f"({self.hash_features:,} columns each)"
            )
        if self.text:
            terms = count_noun(sum(widths[c] for c in self.text), "term")
            parts.append(f"{count_noun(len(self.text), 'free-text column')} as TF-IDF ({terms})")
        layout = " (sparse)" if self.sparse else ""
        return f"{', '.join(parts) or 'no columns'}: {count_noun(n_out, 'feature')}{layout}"

    def _has_references(self) -> bool:
        return any(s["reference"] is not None for s in self.categorical.values())

    def _check_fitted(self) -> None:
        if not self.fitted:
            raise ValueError("this Preprocessor is not fitted yet; call fit first")

    def __repr__(self) -> str:
        if not self.fitted:
            return "Preprocessor()"
        return f"Preprocessor(<{self.describe()}>)"
