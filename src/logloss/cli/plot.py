"""``logloss plot ...``: write the figures of :mod:`logloss.plot` to files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._errors import LoglossGroup

app = typer.Typer(
    cls=LoglossGroup,
    help="Draw figures that explain cross-entropy (PNG or SVG).",
    no_args_is_help=True,
)

SUFFIXES = (".png", ".svg")


def _figure_path(value: Path) -> Path:
    if value.suffix.lower() not in SUFFIXES:
        raise typer.BadParameter(f"must end in .png or .svg; got '{value}'")
    return value


@app.command("loss-curve")
def loss_curve(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="File to write; .png or .svg picks the format.",
            callback=_figure_path,
            dir_okay=False,
        ),
    ] = Path("loss_curve.png"),
    dpi: Annotated[float, typer.Option(help="Resolution of a PNG.", min=1)] = 150.0,
) -> None:
    """The loss of one example, J(w) = -log φ(z) if y=1 and -log(1-φ(z)) if y=0."""
    from .. import plot

    path = plot.save_figure(plot.loss_curve(), output, dpi=dpi)
    typer.echo(f"Wrote {path}")
