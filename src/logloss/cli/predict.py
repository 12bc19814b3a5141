"""``logloss predict``: apply a saved model to a table, keeping the row order."""

from __future__ import annotations

from typing import Annotated

import typer

from ._consoles import err_console
from ._options import DataArgument, ModelArgument, names


def predict(
    model_file: ModelArgument,
    data: DataArgument,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="File to write (.csv, .tsv or .parquet); '-' is CSV on standard output.",
        ),
    ] = "-",
    proba: Annotated[
        bool,
        typer.Option(
            "--proba",
            help="Write one probability column per class, p_<class>, "
            "instead of the predicted label.",
        ),
    ] = False,
    keep: Annotated[
        list[str] | None,
        typer.Option(
            "--keep",
            help="Input columns to copy into the output first (e.g. an id or "
            "the true label), comma-separated or repeated.",
        ),
    ] = None,
) -> None:
    """Predict the class (or the class probabilities) of every row of DATA.

    Rows come out in the order they came in. Missing numeric values are imputed
    with the training median, and categories the model never saw become all
    zeros; both are reported on standard error. Columns the model needs but
    DATA lacks are an error.
    """
    from ..tables import predict_file

    predict_file(model_file, data, output, proba=proba, keep=names(keep), err=err_console())
