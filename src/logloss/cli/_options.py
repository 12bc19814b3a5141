"""Arguments and options that several commands share, and how option values are split."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "DataArgument",
    "DpiOption",
    "FigureOutput",
    "ModelArgument",
    "TargetOption",
    "data_argument",
    "names",
    "target_option",
]

TABLE_HELP = "CSV, TSV or Parquet file (by suffix); '-' reads CSV from standard input."
FIGURE_SUFFIXES = (".png", ".svg")


def names(values: Sequence[str] | None) -> list[str]:
    """Column names from options given as ``--drop a,b --drop c`` -> ``['a', 'b', 'c']``.

    Examples
    --------
    >>> names(["a,b", " c "]), names(None)
    (['a', 'b', 'c'], [])
    """
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def data_argument(help: str = TABLE_HELP) -> Any:
    """The DATA argument: a table file, or '-' for CSV on standard input."""
    return typer.Argument(metavar="DATA", help=help, show_default=False)


def target_option(help: str = "Column holding the true class labels.") -> Any:
    """``--target/-t``: the column of class labels."""
    return typer.Option("--target", "-t", help=help, show_default=False)


def _figure_path(value: Path) -> Path:
    if value.suffix.lower() not in FIGURE_SUFFIXES:
        raise typer.BadParameter(f"must end in .png or .svg; got '{value}'")
    return value


def figure_output(**extra: Any) -> Any:
    """``--output/-o``: a figure file whose suffix, .png or .svg, picks the format."""
    return typer.Option(
        "--output",
        "-o",
        help="File to write; .png or .svg picks the format.",
        callback=_figure_path,
        dir_okay=False,
        **extra,
    )


DataArgument = Annotated[str, data_argument()]
ModelArgument = Annotated[
    str,
    typer.Argument(
        metavar="MODEL", help="Model file written by `logloss fit`.", show_default=False
    ),
]
TargetOption = Annotated[str, target_option()]
FigureOutput = Annotated[Path, figure_output(show_default=False)]
DpiOption = Annotated[float, typer.Option(help="Resolution of a PNG.", min=1)]
