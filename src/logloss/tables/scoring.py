"""Scoring probabilities that any model wrote into a table (``logloss score``).

:func:`scoring_inputs` finds the true labels and the probability columns of a
table; :func:`read_scoring_inputs` reads the file first, and :func:`score_file`
scores them with :func:`logloss.metrics.evaluation.evaluate`. The same inputs feed
``logloss plot calibration``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .columns import closest_names, encode_target
from .console import display_name
from .files import read_table
from .options import OptionError

__all__ = [
    "ScoringInputs",
    "named_class",
    "probability_columns",
    "read_scoring_inputs",
    "score_file",
    "scoring_inputs",
]


@dataclass
class ScoringInputs:
    """True labels and predicted probabilities read from a table."""

    y: NDArray  # the labels of the rows whose target is present
    proba: NDArray[np.float64]  # (n,) for one column, else (n, k)
    classes: NDArray | None  # the class of each column, when named by the columns
    notes: list[str]  # what was left out, for the user
    source: str  # how the table is named in messages


def _require_columns(proba: Sequence[str], labels_from_columns: bool) -> None:
    if not proba and not labels_from_columns:
        raise OptionError(
            "--proba",
            "give the probability columns with --proba P_COL[,P_COL...], or "
            "--labels-from-columns to use every p_<class> column",
        )


def probability_columns(
    columns: Sequence[str], proba: Sequence[str], labels_from_columns: bool, source: str
) -> tuple[list[str], list[str] | None]:
    """The probability columns to score and, with `labels_from_columns`, their classes.

    `proba` lists the columns; without it, `labels_from_columns` takes every column
    named ``p_<class>``.

    Examples
    --------
    >>> probability_columns(["y", "p_a", "p_b"], [], True, "the table")
    (['p_a', 'p_b'], ['a', 'b'])
    """
    chosen = list(proba)
    _require_columns(chosen, labels_from_columns)
    if not chosen:
        chosen = [c for c in columns if str(c).startswith("p_") and len(str(c)) > 2]
        if not chosen:
            raise ValueError(f"{source} has no p_<class> columns for --labels-from-columns")
    for col in chosen:
        if col not in columns:
            raise ValueError(
                f"{source} has no probability column {col!r}{closest_names(col, columns)}"
            )
    if len(set(chosen)) != len(chosen):
        raise ValueError("--proba names a column twice")
    if not labels_from_columns:
        return chosen, None
    labels = []
    for col in chosen:
        if not col.startswith("p_") or len(col) == 2:
            raise ValueError(f"--labels-from-columns needs columns named p_<class>; got {col!r}")
        labels.append(col[2:])
    return chosen, labels


# Prefixes that name a class in a probability column's name: p_No, proba_No, P(No).
_CLASS_PREFIXES = ("p_", "proba_", "prob_", "probability_", "pr_", "p(", "p ")


def named_class(column: str, classes: Sequence[Any]) -> int | None:
    """The index of the class that the column name `column` names, or None.

    A name names a class when it is the class's label, or the label after one
    of the prefixes ``p_``, ``proba_``, ``prob_``, ``probability_``, ``pr_`` or
    inside ``P(...)``; an exact match wins over one that ignores case, and a
    case-blind match must be unique.

    Examples
    --------
    >>> named_class("p_No", ["No", "Yes"]), named_class("P(yes)", ["No", "Yes"])
    (0, 1)
    >>> named_class("score", ["No", "Yes"]) is None
    True
    """
    labels = [str(c) for c in classes]
    stems = [column]
    lower = column.lower()
    for prefix in _CLASS_PREFIXES:
        if lower.startswith(prefix) and len(column) > len(prefix):
            stem = column[len(prefix) :]
            stems.append(stem[:-1] if prefix == "p(" and stem.endswith(")") else stem)
    for stem in stems:
        if stem in labels:
            return labels.index(stem)
    for stem in stems:
        hits = [i for i, label in enumerate(labels) if label.lower() == stem.lower()]
        if len(hits) == 1:
            return hits[0]
    return None


def _one_column_classes(column: str, classes: NDArray) -> tuple[NDArray, str]:
    """The class order under which one column is the second class's probability, and a note.

    A column whose name names a class (``p_No``) is that class's probability;
    any other is the probability of the second of the sorted classes.
    """
    shown = [str(c) for c in classes.tolist()]
    index = named_class(column, shown)
    if index is None:
        return classes, (
            f"Read the one probability column {column!r} as the probability of "
            f"{shown[1]!r}, the second of the classes {shown[0]!r} and {shown[1]!r} (its name "
            f"names neither; call it p_{shown[0]} or p_{shown[1]} to say which)."
        )
    order = classes if index == 1 else classes[::-1]
    return order, (
        f"Read the one probability column {column!r} as the probability of {shown[index]!r}, "
        "the class its name names."
    )


def _labels_as_text(df: Any, target: str) -> tuple[NDArray[np.intp], NDArray]:
    """Rows with a target and the target as text (class names come from column names)."""
    series = df[target]
    keep = np.flatnonzero(series.notna().to_numpy())
    values = series.iloc[keep]
    if values.dtype.kind == "f" and (values == values.round()).all():
        values = values.astype("int64")
    return keep, values.astype(str).to_numpy(dtype=str)


def scoring_inputs(
    df: Any, target: str, proba: Sequence[str], labels_from_columns: bool, source: str
) -> tuple[Any, Any, Any, list[str]]:
    """(labels, probabilities, classes or None, notes) of the table `df`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": ["a", "b", None], "p_a": [0.9, 0.3, 0.5], "p_b": [0.1, 0.7, 0.5]})
    >>> y, P, classes, notes = scoring_inputs(df, "y", [], True, "the table")
    >>> y.tolist(), P.tolist(), classes.tolist()
    (['a', 'b'], [[0.9, 0.1], [0.3, 0.7]], ['a', 'b'])
    >>> notes
    ["Left out 1 row whose target 'y' is missing."]
    """
    if target not in df.columns:
        raise ValueError(
            f"{source} has no target column {target!r}{closest_names(target, df.columns)}"
        )
    columns, labels = probability_columns(
        list(map(str, df.columns)), proba, labels_from_columns, source
    )
    notes: list[str] = []
    if labels is None:
        tgt = encode_target(df[target], target)
        keep, y, n_missing, classes = tgt.rows, tgt.y, tgt.n_missing, None
        if len(columns) == 1 and tgt.classes.size == 2:
            classes, note = _one_column_classes(columns[0], tgt.classes)
            notes.append(note)
    else:
        keep, y = _labels_as_text(df, target)
        n_missing = len(df) - keep.size
        classes = np.asarray(labels)
        if classes.size == 1:
            # One column p_<class>: its class against the one other label of the target.
            others = np.setdiff1d(np.unique(y), classes)
            if others.size != 1:
                raise ValueError(
                    f"one probability column ({columns[0]!r}) fits a target with two classes; "
                    f"{target!r} has {others.size + 1}"
                )
            classes = np.array([others[0], classes[0]])
    if keep.size == 0:
        raise ValueError(f"the target column {target!r} of {source} is entirely empty")
    if n_missing:
        notes.append(
            f"Left out {n_missing:,} row{'s' if n_missing != 1 else ''} whose target "
            f"{target!r} is missing."
        )
    P = np.empty((keep.size, len(columns)))
    for j, col in enumerate(columns):
        series = df[col]
        if series.dtype.kind not in "fiu":
            raise ValueError(f"the probability column {col!r} of {source} does not hold numbers")
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)[keep]
        bad = np.flatnonzero(np.isnan(values))
        if bad.size:
            raise ValueError(
                f"the probability column {col!r} of {source} has a missing value in row "
                f"{int(keep[bad[0]])}"
            )
        P[:, j] = values
    if P.shape[1] == 1:
        P = P[:, 0]
    return y, P, classes, notes


def read_scoring_inputs(
    data: str | os.PathLike,
    target: str,
    proba: Sequence[str] = (),
    *,
    labels_from_columns: bool = False,
) -> ScoringInputs:
    """Read the table `data` and find its labels and probabilities (:func:`scoring_inputs`).

    Naming no probability column without `labels_from_columns` is an
    :class:`OptionError` for ``--proba``, before the file is read.
    """
    _require_columns(list(proba), labels_from_columns)
    source = display_name(data)
    y, P, classes, notes = scoring_inputs(
        read_table(data), target, list(proba), labels_from_columns, source
    )
    return ScoringInputs(y=y, proba=P, classes=classes, notes=notes, source=source)


def score_file(
    data: str | os.PathLike,
    target: str,
    proba: Sequence[str] = (),
    *,
    labels_from_columns: bool = False,
    n_bins: int = 15,
) -> tuple[dict[str, Any], ScoringInputs]:
    """``logloss score``: the probabilities in `data` scored by
    :func:`logloss.metrics.evaluation.evaluate`.

    Returns the scores and the inputs they were computed from. Besides
    :func:`~logloss.metrics.evaluation.evaluate`'s entries the scores hold
    ``baseline_accuracy`` (always predicting ``majority_class``, the most
    frequent true class), and ``calibration_error`` is the top-label ECE
    (:func:`logloss.metrics.calibration.expected_calibration_error`).
    """
    from ..metrics.calibration import expected_calibration_error
    from ..metrics.evaluation import as_class_probabilities, evaluate

    inputs = read_scoring_inputs(data, target, proba, labels_from_columns=labels_from_columns)
    result = evaluate(inputs.y, inputs.proba, inputs.classes, n_bins=n_bins)
    codes, P, _ = as_class_probabilities(inputs.y, inputs.proba, inputs.classes)
    # One calibration error everywhere: the top-label ECE (the most probable class's probability).
    result["calibration_error"] = expected_calibration_error(codes, P, n_bins=n_bins)
    # The accuracy of always predicting the most frequent class, the bar to clear.
    counts = np.bincount(codes, minlength=P.shape[1])
    result["baseline_accuracy"] = float(counts.max() / codes.size)
    result["majority_class"] = result["classes"][int(counts.argmax())]
    return result, inputs
