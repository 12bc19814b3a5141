"""What :meth:`Preprocessor.transform <logloss.tables.preprocess.Preprocessor.transform>`
had to do beyond the plain encoding: imputed numbers, missing and unseen categories.

:class:`TransformReport` counts them while a table is encoded and words them for the
user (:meth:`TransformReport.messages`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TransformReport", "count_noun"]


@dataclass
class TransformReport:
    """What :meth:`Preprocessor.transform` had to do beyond the plain encoding."""

    n_rows: int = 0
    imputed: dict[str, int] = field(default_factory=dict)  # numeric column -> values imputed
    missing_categories: dict[str, int] = field(default_factory=dict)  # text column -> missing
    unseen: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> value -> count

    def add(self, other: TransformReport) -> None:
        """Count `other` (the report of more rows) in this one.

        Examples
        --------
        >>> a = TransformReport(2, {"x": 1}, {}, {"c": {"q": 1}})
        >>> a.add(TransformReport(3, {"x": 2}, {"c": 1}, {"c": {"q": 1, "r": 1}}))
        >>> a
        TransformReport(n_rows=5, imputed={'x': 3}, missing_categories={'c': 1}, unseen={'c': {'q': 2, 'r': 1}})
        """  # noqa: E501
        self.n_rows += other.n_rows
        for mine, theirs in (
            (self.imputed, other.imputed),
            (self.missing_categories, other.missing_categories),
        ):
            for col, n in theirs.items():
                mine[col] = mine.get(col, 0) + n
        for col, values in other.unseen.items():
            seen = self.unseen.setdefault(col, {})
            for value, n in values.items():
                seen[value] = seen.get(value, 0) + n

    def messages(self, preprocessor: Any) -> list[str]:
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


def count_noun(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _reference(preprocessor: Any, col: str) -> str | None:
    """The reference level of a one-hot column; None for a hashed or TF-IDF column, or one
    that keeps every level (their missing values are rows of zeros)."""
    spec = preprocessor.categorical.get(col)
    return None if spec is None else spec["reference"]


def _as_what(preprocessor: Any, columns: Iterable[str]) -> str:
    """How a missing or unseen category was encoded: its column's reference level, or zeros."""
    levels = [_reference(preprocessor, col) for col in columns]
    if all(level is None for level in levels):
        return "all zeros"
    if any(level is None for level in levels):
        return "the most frequent level of their column (all zeros for hashed or free text)"
    return "the most frequent level of their column"


def _as_level(preprocessor: Any, col: str) -> str:
    """`` → 'White'``: the level a missing or unseen category of `col` became (if any)."""
    level = _reference(preprocessor, col)
    return "" if level is None else f" → {level!r}"
