"""The preprocessing of ``logloss fit``: standardise numbers, one-hot encode text.

:class:`Preprocessor` is fitted on the training rows of a table and writes any
table with the same columns straight into one float64 matrix (no copy of the
table); :class:`TransformReport` says what it had to impute or could not encode.
Its whole state is plain JSON (:meth:`Preprocessor.to_dict`), which is how a model
file carries it. :class:`logloss.TablePreprocessor` (``transformer.py``) is the same
preprocessing as a scikit-learn transformer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .columns import as_float, as_frames, as_text, closest_names, column_kind, column_of
from .files import release_arrow_memory
from .preprocess_state import FORMAT_VERSION, REFERENCES, read_state

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = [
    "FORMAT_VERSION",
    "MAX_CATEGORIES",
    "REFERENCES",
    "Preprocessor",
    "TooManyCategoriesError",
    "TransformReport",
]

# A text column with more distinct values than this is almost surely an identifier.
MAX_CATEGORIES = 100


class TooManyCategoriesError(ValueError):
    """A text column with more distinct values than ``max_categories`` allows.

    The message names the command line's options; :meth:`message` words it for
    another caller (the Python transformer names its parameters).
    """

    def __init__(self, column: str, n_levels: int, limit: int) -> None:
        self.column, self.n_levels, self.limit = column, n_levels, limit
        super().__init__(
            self.message(
                f"--max-categories {limit}",
                f"drop it with --drop {column}",
                f"admit it with --max-categories {n_levels}",
            )
        )

    def message(self, limit: str, drop: str, admit: str) -> str:
        """The sentence with the caller's names for the limit and the two ways out."""
        return (
            f"the text column {self.column!r} has {self.n_levels:,} distinct values, more "
            f"than the {self.limit} categories one-hot encoding allows ({limit}); if it is "
            f"an identifier, {drop}; if it is a category, {admit}"
        )


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
            parts = ", ".join(
                f"{col} ({n:,}{_as_level(preprocessor, col)})" for col, n in items[:5]
            ) + (f" and {len(items) - 5} more columns" if len(items) > 5 else "")
            out.append(
                f"{total:,} missing text value{'s' if total != 1 else ''} encoded as "
                f"{_as_what(preprocessor, self.missing_categories)}: {parts}."
            )
        if self.unseen:
            total = sum(sum(v.values()) for v in self.unseen.values())
            parts = []
            for col, values in self.unseen.items():
                examples = ", ".join(repr(v) for v in list(values)[:3])
                more = f" and {len(values) - 3} more" if len(values) > 3 else ""
                count = sum(values.values())
                parts.append(
                    f"{col}: {examples}{more} ({count:,} row{'s' if count != 1 else ''}"
                    f"{_as_level(preprocessor, col)})"
                )
            out.append(
                f"Warning: {total:,} categor{'ies' if total != 1 else 'y'} not seen in training "
                f"{'were' if total != 1 else 'was'} encoded as "
                f"{_as_what(preprocessor, self.unseen)}: {'; '.join(parts)}."
            )
        return out


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _as_what(preprocessor: Preprocessor, columns: Iterable[str]) -> str:
    """How a missing or unseen category was encoded: its column's reference level, or zeros."""
    if all(preprocessor.categorical[col]["reference"] is None for col in columns):
        return "all zeros"
    return "the most frequent level of their column"


def _as_level(preprocessor: Preprocessor, col: str) -> str:
    """`` → 'White'``: the level a missing or unseen category of `col` became (if any)."""
    level = preprocessor.categorical[col]["reference"]
    return "" if level is None else f" → {level!r}"


class Preprocessor:
    """Standardise numeric columns, one-hot encode text columns, impute with the median.

    Fitted on the training rows of a table, it writes any table with the same
    columns into a float64 matrix:

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
      column's reference level.

    With ``reference=None`` every level keeps its column and a missing or unseen
    value is a row of zeros: the coding of the states of format version 1 (model
    files written before reference levels), which still load and encode as then.
    The state is plain JSON (:meth:`to_dict` / :meth:`from_dict`).

    Parameters
    ----------
    max_categories : int, default 100
        A text column with more distinct training values than this is a
        :class:`TooManyCategoriesError` (a ``ValueError``: it is most likely an
        identifier; drop it, or raise the limit).
    reference : {"most_frequent", None}, default "most_frequent"
        Which level of a text column has no column of its own.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, None, 3.0], "colour": ["red", "blue", "red"]})
    >>> pre = Preprocessor().fit(df, ["x", "colour"])
    >>> pre.feature_names_out, pre.references
    (['x', 'colour=blue'], {'colour': 'red'})
    >>> X, report = pre.transform(df)
    >>> X.round(3).tolist()
    [[-1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    >>> report.imputed
    {'x': 1}
    >>> Preprocessor(reference=None).fit(df, ["colour"]).feature_names_out
    ['colour=blue', 'colour=red']
    """

    def __init__(
        self, max_categories: int = MAX_CATEGORIES, reference: str | None = "most_frequent"
    ) -> None:
        if (
            isinstance(max_categories, bool)
            or not isinstance(max_categories, int)
            or max_categories < 1
        ):
            raise ValueError(f"`max_categories` must be an integer >= 1; got {max_categories!r}")
        if reference not in REFERENCES:
            raise ValueError(
                f"`reference` must be one of {', '.join(map(repr, REFERENCES))}; got {reference!r}"
            )
        self.max_categories = max_categories
        self.reference = reference
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
        frames = as_frames(df)
        self.columns = [str(c) for c in columns]
        if not self.columns:
            raise ValueError("no feature columns are given to fit on")
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
            kind = column_kind(series, col)
            if kind in ("numeric", "boolean"):
                self.numeric[col] = _numeric_encoder(series, col, kind, missing, rows)
            else:
                self.categorical[col] = self._text_encoder(series, col, missing)
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

    def _text_encoder(
        self, series: pd.Series, col: str, missing: NDArray[np.bool_]
    ) -> dict[str, Any]:
        """The sorted categories of a text column, its most frequent one (the first in
        sorted order among ties), its reference level, its gaps."""
        text = as_text(series)
        present = text[~missing] if missing.any() else text
        counts = present.value_counts()
        levels = sorted(str(k) for k in counts.index)
        if len(levels) > self.max_categories:
            raise TooManyCategoriesError(col, len(levels), self.max_categories)
        mode = min(str(k) for k in counts.index[counts.to_numpy() == counts.max()])
        return {
            "categories": levels,
            "mode": mode,
            "reference": mode if self.reference == "most_frequent" else None,
            "n_missing": int(missing.sum()),
        }

    @property
    def feature_names_out(self) -> list[str]:
        """Names of the matrix columns, in order."""
        self._check_fitted()
        names: list[str] = []
        for col in self.columns:
            if col in self.numeric:
                names.append(col)
            else:
                spec = self.categorical[col]
                names.extend(
                    f"{col}={level}" for level in spec["categories"] if level != spec["reference"]
                )
        return names

    @property
    def references(self) -> dict[str, str | None]:
        """Each text column's reference level (None: every level has a column)."""
        self._check_fitted()
        return {col: spec["reference"] for col, spec in self.categorical.items()}

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
                release_arrow_memory()
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
                spec = self.categorical[col]
                levels = spec["categories"]
                codes = self._codes(series, levels)
                if rows is not None:
                    codes = codes[rows]
                # slot[k]: the column of level k in this block; -1 for the reference
                slot = np.arange(len(levels))
                if spec["reference"] is not None:
                    r = levels.index(spec["reference"])
                    slot[r] = -1
                    slot[r + 1 :] -= 1
                width = len(levels) - (spec["reference"] is not None)
                block = X[:, j : j + width]
                block[...] = 0.0
                known = codes >= 0
                where = np.flatnonzero(known)
                cols = slot[codes[known]]
                block[where[cols >= 0], cols[cols >= 0]] = 1.0
                if not known.all():
                    self._count_unknown(series, rows, known, col, report)
                j += width

    def _numeric_values(self, series: pd.Series, col: str, source: str) -> NDArray[np.float64]:
        try:
            return as_float(series)
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
        text = as_text(series)
        return pd.Index(levels, dtype="str").get_indexer(text)

    @staticmethod
    def _count_unknown(
        series: pd.Series, rows: Any, known: NDArray[np.bool_], col: str, report: TransformReport
    ) -> None:
        values = (series if rows is None else series.iloc[rows]).iloc[np.flatnonzero(~known)]
        n_missing = int(values.isna().sum())
        if n_missing:
            report.missing_categories[col] = report.missing_categories.get(col, 0) + n_missing
        counts = as_text(values.dropna()).value_counts()
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
            "reference": self.reference,
            "columns": list(self.columns),
            "numeric": {c: dict(s) for c, s in self.numeric.items()},
            "categorical": {c: dict(s) for c, s in self.categorical.items()},
        }

    @classmethod
    def from_dict(cls, state: Any) -> Preprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_dict`, checking every field."""
        parts = read_state(state)
        pre = cls(max_categories=parts["max_categories"], reference=parts["reference"])
        pre.numeric, pre.categorical = parts["numeric"], parts["categorical"]
        pre.columns = parts["columns"]
        pre.fitted = True
        return pre

    def describe(self) -> str:
        """One line: how many columns of each kind became how many features (naming only
        the kinds there are)."""
        self._check_fitted()
        n_num, n_text, n_out = len(self.numeric), len(self.categorical), self.n_features_out
        parts = []
        if n_num:
            parts.append(f"{_count(n_num, 'numeric column')} standardised")
        if n_text:
            # each numeric column gives one feature; the rest are the indicators
            ref = ", the most frequent level of each as reference" if self._has_references() else ""
            indicators = _count(n_out - n_num, "indicator")
            parts.append(f"{_count(n_text, 'text column')} one-hot encoded ({indicators}{ref})")
        return f"{', '.join(parts) or 'no columns'}: {_count(n_out, 'feature')}"

    def _has_references(self) -> bool:
        return any(s["reference"] is not None for s in self.categorical.values())

    def _check_fitted(self) -> None:
        if not self.fitted:
            raise ValueError("this Preprocessor is not fitted yet; call fit first")

    def __repr__(self) -> str:
        if not self.fitted:
            return "Preprocessor()"
        return f"Preprocessor(<{self.describe()}>)"


def _numeric_encoder(
    series: pd.Series,
    col: str,
    kind: str,
    missing: NDArray[np.bool_],
    rows: NDArray[np.intp] | None,
) -> dict[str, Any]:
    """Median, mean and scale of a numeric (or boolean) column's training values."""
    x = as_float(series)
    if not np.isfinite(x[~np.isnan(x)]).all():
        bad = int(np.flatnonzero(np.isinf(x))[0])
        raise ValueError(
            f"the feature column {col!r} holds an infinite value (row "
            f"{bad if rows is None else int(rows[bad])})"
        )
    present = x[~missing] if missing.any() else x
    std = float(np.std(present))
    return {
        "kind": kind,
        "median": float(np.median(present)),
        "mean": float(np.mean(present)),
        # A constant column has no spread: divide by 1 and it becomes 0.
        "scale": std if std > 0 and math.isfinite(std) else 1.0,
        "n_missing": int(missing.sum()),
    }


def _not_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return True
    return False
