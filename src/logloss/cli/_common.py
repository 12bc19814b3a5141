"""Helpers shared by the commands: option parsing, output checks, consoles, warnings."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.console import Console


def names(values: Sequence[str] | None) -> list[str]:
    """Column names from options given as ``--drop a,b --drop c`` -> ``['a', 'b', 'c']``."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def writable_file(path: Path, what: str) -> Path:
    """`path` can be created: its folder exists and it is not a folder itself."""
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


def out_console() -> Console:
    """The console for results (standard output)."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=_soft_wrap())


def err_console() -> Console:
    """The console for notes, warnings and progress (standard error)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=_soft_wrap())


def _soft_wrap() -> bool:
    # Piped output keeps each sentence on one line, so it greps and diffs well.
    return not sys.stdout.isatty()


@contextlib.contextmanager
def warnings_as_lines(console: Console) -> Iterator[None]:
    """Show each warning raised inside as one ``Warning: ...`` line on `console`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen = set()
            for w in caught:
                text = " ".join(str(w.message).split())
                if text in seen:
                    continue
                seen.add(text)
                console.print(f"[yellow]Warning:[/yellow] {text}", highlight=False)


def display_name(path: str | os.PathLike) -> str:
    """How a data path is named in messages: 'standard input' for ``-``."""
    return "standard input" if os.fspath(path) == "-" else repr(os.fspath(path))


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def probability_columns(
    columns: Sequence[str], proba: Sequence[str], labels_from_columns: bool, source: str
) -> tuple[list[str], list[str] | None]:
    """The probability columns to score and, with `labels_from_columns`, their classes.

    `proba` lists the columns (comma-separated option values); without it,
    `labels_from_columns` takes every column named ``p_<class>``.
    """
    from ..tabular import closest_names

    chosen = names(proba)
    if not chosen and not labels_from_columns:
        raise typer.BadParameter(
            "give the probability columns with --proba P_COL[,P_COL...], or --labels-from-columns "
            "to use every p_<class> column",
            param_hint="'--proba'",
        )
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


def scoring_inputs(
    df: Any, target: str, proba: Sequence[str], labels_from_columns: bool, source: str
) -> tuple[Any, Any, Any, list[str]]:
    """(labels, probabilities, classes or None, notes) for `score` and `plot calibration`."""
    import numpy as np

    from ..tabular import closest_names, encode_target

    if target not in df.columns:
        raise ValueError(
            f"{source} has no target column {target!r}{closest_names(target, df.columns)}"
        )
    columns, labels = probability_columns(
        list(map(str, df.columns)), proba, labels_from_columns, source
    )
    notes = []
    tgt = encode_target(df[target], target) if labels is None else None
    if tgt is None:
        # Class names come from the column names: compare the target as text.
        series = df[target]
        keep = np.flatnonzero(series.notna().to_numpy())
        values = series.iloc[keep]
        if values.dtype.kind == "f" and (values == values.round()).all():
            values = values.astype("int64")
        y = values.astype(str).to_numpy(dtype=str)
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
    else:
        keep, y, n_missing, classes = tgt.rows, tgt.y, tgt.n_missing, None
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
