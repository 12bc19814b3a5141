"""How one column of a table is learned and encoded: standardised numbers, one-hot levels.

Fitting gives each column a JSON-ready spec (:func:`numeric_spec`,
:func:`levels_spec`); encoding a block of rows gives its piece of the design
matrix (:mod:`logloss.tables.design`): :func:`numeric_piece` and
:func:`one_hot_piece`. :class:`TooManyCategoriesError` is a text column that is too
many levels for one-hot encoding and too few rows per level to learn them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .columns import as_float, as_text
from .design import NumericPiece, SlotPiece
from .transform_report import TransformReport

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = [
    "TooManyCategoriesError",
    "category_codes",
    "levels_spec",
    "numeric_piece",
    "numeric_spec",
    "one_hot_piece",
]


class TooManyCategoriesError(ValueError):
    """A text column with more distinct values than ``max_categories`` and, on average,
    at most two training rows per value: most likely an identifier.

    The message names the command line's options; :meth:`message` words it for
    another caller (the Python transformer names its parameters).
    """

    def __init__(self, column: str, n_levels: int, limit: int) -> None:
        self.column, self.n_levels, self.limit = column, n_levels, limit
        super().__init__(
            self.message(
                f"--max-categories {limit}",
                f"drop it with --drop {column}, or hash it with --hash-features N",
                f"admit it with --max-categories {n_levels}",
            )
        )

    def message(self, limit: str, drop: str, admit: str) -> str:
        """The sentence with the caller's names for the limit and the ways out."""
        return (
            f"the text column {self.column!r} has {self.n_levels:,} distinct values, more "
            f"than the {self.limit} categories one-hot encoding takes without question "
            f"({limit}) and at most two training rows each; if it is an identifier, {drop}; "
            f"if it is a category, {admit}"
        )


def numeric_spec(
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


def levels_spec(
    series: pd.Series, missing: NDArray[np.bool_], reference: str | None
) -> dict[str, Any]:
    """The sorted levels of a text column, its most frequent one (the first in sorted
    order among ties), its reference level and its gaps; ``n_present`` values seen."""
    text = as_text(series)
    present = text[~missing] if missing.any() else text
    counts = present.value_counts()
    levels = sorted(str(k) for k in counts.index)
    mode = min(str(k) for k in counts.index[counts.to_numpy() == counts.max()])
    return {
        "categories": levels,
        "mode": mode,
        "reference": mode if reference == "most_frequent" else None,
        "n_missing": int(missing.sum()),
    }


def numeric_piece(
    series: pd.Series, spec: dict[str, Any], col: str, report: TransformReport, source: str
) -> NumericPiece:
    """``(x - mean) / scale`` of each value of the column, a missing value the median's."""
    out = np.subtract(_numeric_values(series, col, source), spec["mean"])
    out /= spec["scale"]
    missing = np.isnan(out)
    if missing.any():
        out[missing] = (spec["median"] - spec["mean"]) / spec["scale"]
        report.imputed[col] = report.imputed.get(col, 0) + int(missing.sum())
    if np.isinf(out).any():
        raise ValueError(f"the column {col!r} of {source} holds an infinite value")
    return NumericPiece(out)


def one_hot_piece(
    series: pd.Series, spec: dict[str, Any], col: str, report: TransformReport
) -> SlotPiece:
    """The 0/1 columns of a text column's levels but the reference; a missing or unseen
    value is a row of zeros (the reference's coding), counted in `report`."""
    levels = spec["categories"]
    codes = category_codes(series, levels)
    # slot[k]: the column of level k; -1 for the reference
    slot = np.arange(len(levels))
    if spec["reference"] is not None:
        r = levels.index(spec["reference"])
        slot[r] = -1
        slot[r + 1 :] -= 1
    width = len(levels) - (spec["reference"] is not None)
    known = codes >= 0
    out = np.full(codes.shape, -1, dtype=np.intp)
    out[known] = slot[codes[known]]
    if not known.all():
        _count_unknown(series, known, col, report)
    return SlotPiece(out, 1.0, width)


def category_codes(series: pd.Series, levels: list[str]) -> NDArray:
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


def _count_unknown(
    series: pd.Series, known: NDArray[np.bool_], col: str, report: TransformReport
) -> None:
    values = series.iloc[np.flatnonzero(~known)]
    n_missing = int(values.isna().sum())
    if n_missing:
        report.missing_categories[col] = report.missing_categories.get(col, 0) + n_missing
    counts = as_text(values.dropna()).value_counts()
    if len(counts):
        seen = report.unseen.setdefault(col, {})
        for k, v in counts.items():
            seen[str(k)] = seen.get(str(k), 0) + int(v)


def _numeric_values(series: pd.Series, col: str, source: str) -> NDArray[np.float64]:
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


def _not_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return True
    return False
