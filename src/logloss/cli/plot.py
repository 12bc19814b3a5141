"""``logloss plot ...``: write the figures of :mod:`logloss.plot` to files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._errors import LoglossGroup
from ._options import (
    DpiOption,
    FigureOutput,
    ModelArgument,
    TargetOption,
    data_argument,
    figure_output,
    names,
)

app = typer.Typer(
    cls=LoglossGroup,
    help="Draw figures that explain cross-entropy (PNG or SVG).",
    no_args_is_help=True,
)


@app.command("loss-curve")
def loss_curve(
    output: Annotated[Path, figure_output()] = Path("loss_curve.png"),
    dpi: DpiOption = 150.0,
) -> None:
    """The loss of one example, J(w) = -log φ(z) if y=1 and -log(1-φ(z)) if y=0."""
    from .. import plot

    path = plot.save_figure(plot.loss_curve(), output, dpi=dpi)
    typer.echo(f"Wrote {path}")


@app.command("history")
def history(model_file: ModelArgument, output: FigureOutput, dpi: DpiOption = 150.0) -> None:
    """The training objective of a saved model, iteration by iteration."""
    from .. import plot
    from ..model_file import load
    from ..tables import base_estimator

    model = base_estimator(load(model_file))
    path = plot.save_figure(plot.history(model), output, dpi=dpi)
    typer.echo(f"Wrote {path}")


@app.command("calibration")
def calibration(
    data: Annotated[
        str,
        data_argument(
            "Table with true labels and predicted probabilities (CSV, TSV, "
            "Parquet; '-' is CSV on standard input)."
        ),
    ],
    target: TargetOption,
    output: FigureOutput,
    proba: Annotated[
        list[str] | None,
        typer.Option("--proba", "-p", help="Probability columns, as for `logloss score`."),
    ] = None,
    labels_from_columns: Annotated[
        bool,
        typer.Option(
            "--labels-from-columns",
            help="Columns are named p_<class>; without --proba, use every p_* column.",
        ),
    ] = False,
    bins: Annotated[int, typer.Option("--bins", min=2, max=100, help="Number of bins.")] = 15,
    dpi: DpiOption = 150.0,
) -> None:
    """A reliability diagram of predicted probabilities against observed frequencies."""
    from .. import plot
    from ..tables import read_scoring_inputs

    inputs = read_scoring_inputs(
        data, target, names(proba), labels_from_columns=labels_from_columns
    )
    for note in inputs.notes:
        typer.echo(note, err=True)
    fig = plot.calibration(inputs.y, inputs.proba, classes=inputs.classes, n_bins=bins)
    typer.echo(f"Wrote {plot.save_figure(fig, output, dpi=dpi)}")


@app.command("decision-boundary")
def decision_boundary(
    model_file: ModelArgument,
    data: Annotated[
        str,
        data_argument(
            "Table whose points are drawn (CSV, TSV, Parquet; '-' is CSV on standard input)."
        ),
    ],
    target: TargetOption,
    output: FigureOutput,
    features: Annotated[
        str | None,
        typer.Option(
            "--features",
            "-f",
            help="The two numeric columns on the axes, e.g. x1,x2 (needed when the "
            "model has more than two input columns; the others are held at their "
            "training median or most frequent category).",
            show_default=False,
        ),
    ] = None,
    resolution: Annotated[
        int, typer.Option("--resolution", min=10, max=1000, help="Grid points per axis.")
    ] = 200,
    dpi: DpiOption = 150.0,
) -> None:
    """The regions where a saved model predicts each class, over two numeric columns."""
    from .. import plot
    from ..tables import boundary_data

    chosen = None if features is None else names([features])
    shown = boundary_data(model_file, data, target, chosen)
    pre = shown.view.preprocessor
    # The values FeatureSlice fills in for every other input column, named in the figure.
    held = {
        col: pre.numeric[col]["median"] if col in pre.numeric else pre.categorical[col]["mode"]
        for col in pre.columns
        if col not in shown.features
    }
    fig = plot.decision_boundary(
        shown.view,
        shown.X,
        shown.y,
        resolution=resolution,
        feature_names=shown.features,
        held_at=held,
    )
    typer.echo(f"Wrote {plot.save_figure(fig, output, dpi=dpi)}")
