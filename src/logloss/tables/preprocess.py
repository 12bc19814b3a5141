"""The preprocessing of ``logloss fit``: standardise numbers, one-hot encode text.

:class:`Preprocessor` is fitted on the training rows of a table and writes any
table with the same columns straight into one float64 matrix (no copy of the
table); :class:`TransformReport` says what it had to impute or could not encode.
Its whole state is plain JSON (:meth:`Preprocessor.to_dict`), which is how a model
file carries it.
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

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = ["FORMAT_VERSION", "MAX_CATEGORIES", "Preprocessor", "TransformReport"]

# A text column with more distinct values than this is almost surely an identifier.
MAX_CATEGORIES = 100
# Version of the state :meth:`Preprocessor.to_dict` writes; a newer one is refused.
FORMAT_VERSION = 1


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
        frames = as_frames(df)
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
            kind = column_kind(series, col)
            if kind in ("numeric", "boolean"):
                self.numeric[col] = _numeric_encoder(series, col, kind, missing, rows)
            else:
                self.categorical[col] = self._text_encoder(series, col, missing)
        self.fitted = True
        return self

    def _text_encoder(
        self, series: pd.Series, col: str, missing: NDArray[np.bool_]
    ) -> dict[str, Any]:
        """The sorted categories of a text column, its most frequent one, its gaps."""
        text = as_text(series)
        present = text[~missing] if missing.any() else text
        levels = sorted(present.unique().tolist())
        if len(levels) > self.max_categories:
            raise ValueError(
                f"the text column {col!r} has {len(levels):,} distinct values, more than "
                f"the {self.max_categories} categories one-hot encoding allows; it looks "
                f"like an identifier: drop it with --drop {col}"
            )
        counts = present.value_counts()
        mode = str(counts.index[0]) if len(counts) else levels[0]
        return {"categories": levels, "mode": mode, "n_missing": int(missing.sum())}

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
        pre.numeric = {col: _numeric_state(col, spec) for col, spec in numeric.items()}
        pre.categorical = {col: _text_state(col, spec) for col, spec in categorical.items()}
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


def _numeric_state(col: str, spec: Any) -> dict[str, Any]:
    """A numeric column's encoder read back from JSON, every field checked."""
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
    return {
        "kind": spec["kind"],
        **{k: float(v) for k, v in values.items()},
        "n_missing": _missing_count(col, spec),
    }


def _text_state(col: str, spec: Any) -> dict[str, Any]:
    """A text column's encoder read back from JSON: sorted distinct categories, a mode."""
    levels = spec.get("categories") if isinstance(spec, dict) else None
    if (
        not isinstance(levels, list)
        or not levels
        or not all(isinstance(v, str) for v in levels)
        or levels != sorted(set(levels))
    ):
        raise ValueError(f"the categories of column {col!r} are malformed")
    n_missing = _missing_count(col, spec)
    mode = spec.get("mode", levels[0])
    if mode not in levels:
        raise ValueError(f"the most frequent category of column {col!r} is malformed")
    return {"categories": list(levels), "mode": mode, "n_missing": n_missing}


def _missing_count(col: str, spec: dict) -> int:
    n_missing = spec.get("n_missing", 0)
    if not isinstance(n_missing, int) or n_missing < 0:
        raise ValueError(f"the preprocessing of column {col!r} is malformed")
    return n_missing


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
