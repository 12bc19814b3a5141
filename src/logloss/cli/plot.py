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


OutputOption = Annotated[
    Path,
    typer.Option(
        "--output",
        "-o",
        help="File to write; .png or .svg picks the format.",
        callback=_figure_path,
        dir_okay=False,
        show_default=False,
    ),
]
DpiOption = Annotated[float, typer.Option(help="Resolution of a PNG.", min=1)]


@app.command("history")
def history(
    model_file: Annotated[
        str,
        typer.Argument(
            metavar="MODEL", help="Model file written by `logloss fit`.", show_default=False
        ),
    ],
    output: OutputOption,
    dpi: DpiOption = 150.0,
) -> None:
    """The training objective of a saved model, iteration by iteration."""
    from .. import io, plot
    from ..tabular import base_estimator

    model = base_estimator(io.load(model_file))
    path = plot.save_figure(plot.history(model), output, dpi=dpi)
    typer.echo(f"Wrote {path}")


@app.command("calibration")
def calibration(
    data: Annotated[
        str,
        typer.Argument(
            metavar="DATA",
            help="Table with true labels and predicted probabilities (CSV, TSV, "
            "Parquet; '-' is CSV on standard input).",
            show_default=False,
        ),
    ],
    target: Annotated[
        str,
        typer.Option(
            "--target", "-t", help="Column holding the true class labels.", show_default=False
        ),
    ],
    output: OutputOption,
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
    from ..tabular import read_table
    from . import _common

    if not _common.names(proba) and not labels_from_columns:
        raise typer.BadParameter(
            "give the probability columns with --proba P_COL[,P_COL...], or "
            "--labels-from-columns to use every p_<class> column",
            param_hint="'--proba'",
        )
    source = _common.display_name(data)
    y, P, classes, notes = _common.scoring_inputs(
        read_table(data), target, _common.names(proba), labels_from_columns, source
    )
    for note in notes:
        typer.echo(note, err=True)
    fig = plot.calibration(y, P, classes=classes, n_bins=bins)
    typer.echo(f"Wrote {plot.save_figure(fig, output, dpi=dpi)}")


@app.command("decision-boundary")
def decision_boundary(
    model_file: Annotated[
        str,
        typer.Argument(
            metavar="MODEL", help="Model file written by `logloss fit`.", show_default=False
        ),
    ],
    data: Annotated[
        str,
        typer.Argument(
            metavar="DATA",
            help="Table whose points are drawn (CSV, TSV, Parquet; '-' is CSV on standard input).",
            show_default=False,
        ),
    ],
    target: Annotated[
        str,
        typer.Option(
            "--target", "-t", help="Column holding the true class labels.", show_default=False
        ),
    ],
    output: OutputOption,
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
    import numpy as np

    from .. import io, plot
    from ..tabular import FeatureSlice, encode_target, preprocessor_of, read_table
    from . import _common

    model, meta = io.load(model_file, with_metadata=True)
    pre = preprocessor_of(model, meta, repr(model_file))
    if features is None:
        if len(pre.columns) != 2:
            raise typer.BadParameter(
                f"the model takes {len(pre.columns)} input columns; choose the two to draw "
                "with --features A,B",
                param_hint="'--features'",
            )
        chosen = list(pre.columns)
    else:
        chosen = _common.names([features])
    view = FeatureSlice(model, pre, chosen)
    df = read_table(data)
    source = _common.display_name(data)
    for col in [target, *chosen]:
        if col not in df.columns:
            from ..tabular import closest_names

            raise ValueError(f"{source} has no column {col!r}{closest_names(col, df.columns)}")
    tgt = encode_target(df[target], target)
    X = np.column_stack(
        [df[c].to_numpy(dtype=np.float64, na_value=np.nan)[tgt.rows] for c in chosen]
    )
    present = ~np.isnan(X).any(axis=1)
    if not present.any():
        raise ValueError(f"no row of {source} has values in both {chosen[0]!r} and {chosen[1]!r}")
    y = tgt.y[present]
    if y.dtype.kind != model.classes_.dtype.kind and model.classes_.dtype.kind == "U":
        y = y.astype(str)
    fig = plot.decision_boundary(
        view, X[present], y, resolution=resolution, feature_names=(chosen[0], chosen[1])
    )
    typer.echo(f"Wrote {plot.save_figure(fig, output, dpi=dpi)}")
