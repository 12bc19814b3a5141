"""``logloss score``: score the probabilities any model wrote into a table."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ._consoles import err_console, out_console
from ._options import data_argument, names, target_option

ScoredData = Annotated[
    str,
    data_argument(
        "CSV, TSV or Parquet file with the true labels and the predicted "
        "probabilities; '-' reads CSV from standard input."
    ),
]


def score(
    data: ScoredData,
    target: Annotated[str, target_option()],
    proba: Annotated[
        list[str] | None,
        typer.Option(
            "--proba",
            "-p",
            help="Probability columns, comma-separated. One column is the probability "
            "of the class its name names (p_<class>, proba_<class>, <class>), else of the "
            "second of two sorted classes; several follow the sorted class labels "
            "(or their names, with --labels-from-columns).",
        ),
    ] = None,
    labels_from_columns: Annotated[
        bool,
        typer.Option(
            "--labels-from-columns",
            help="Each probability column is named p_<class> (as `logloss predict "
            "--proba` writes them); without --proba, use every p_* column.",
        ),
    ] = False,
    bins: Annotated[
        int, typer.Option("--bins", min=2, max=100, help="Bins of the calibration error.")
    ] = 15,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the scores as JSON instead of a table.")
    ] = False,
) -> None:
    """The log loss, accuracy, Brier score and top-label ECE of predicted probabilities.

    Works for the probabilities of any model: give the true-label column and
    the probability columns. Rows whose label is missing are left out.
    """
    from ..tables import score_file

    result, inputs = score_file(
        data, target, names(proba), labels_from_columns=labels_from_columns, n_bins=bins
    )
    err = err_console()
    for note in inputs.notes:
        err.print(note)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        out_console().print(_scores_table(result, inputs.source, bins))


def _scores_table(result: dict, source: str, bins: int) -> Any:
    """The scores as a rich table of three columns: name, value, what it means."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title=f"Scores of {source}", show_header=False, title_style="bold", padding=(0, 1)
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column(style="dim")
    k = len(result["classes"])
    table.add_row("examples", f"{result['n']:,}", f"{k} classes")
    table.add_row("log loss", f"{result['log_loss']:.4f}", "mean cross-entropy, nats")
    table.add_row(
        "baseline log loss",
        f"{result['baseline_log_loss']:.4f}",
        "predicting the class frequencies",
    )
    table.add_row("accuracy", f"{result['accuracy']:.1%}", "most probable class")
    baseline = result.get("baseline_accuracy")
    if baseline is not None:
        # A model no more accurate than always predicting one class finds nothing.
        worse = result["accuracy"] <= baseline
        table.add_row(
            "baseline accuracy",
            f"{baseline:.1%}",
            f"always predicting {escape(str(result.get('majority_class')))}"
            + (": [yellow]no less accurate than the model[/yellow]" if worse else ""),
        )
    table.add_row(
        "Brier score", f"{result['brier']:.4f}", "mean squared error of the probabilities"
    )
    table.add_row(
        "top-label ECE",
        f"{result['calibration_error']:.4f}",
        f"top class, {bins} equal-width bins",
    )
    if result["roc_auc"] is not None:
        table.add_row(
            "ROC AUC",
            f"{result['roc_auc']:.4f}",
            f"{result['classes'][1]} against {result['classes'][0]}",
        )
    return table
