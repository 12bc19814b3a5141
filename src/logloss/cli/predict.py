"""``logloss predict``: apply a saved model to a table, keeping the row order."""

from __future__ import annotations

from typing import Annotated

import typer

from . import _common


def predict(
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
            help="CSV, TSV or Parquet file (by suffix); '-' reads CSV from standard input.",
            show_default=False,
        ),
    ],
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
    from pathlib import Path

    from .. import io
    from ..tabular import predict_table, preprocessor_of, read_table, table_format, write_table

    if output != "-":
        table_format(output)  # an unknown suffix is an error before any work
        _common.writable_file(Path(output), "output file")
    model, meta = io.load(model_file, with_metadata=True)
    pre = preprocessor_of(model, meta, repr(model_file))
    source = _common.display_name(data)
    df = read_table(data)
    err = _common.err_console()
    with _common.warnings_as_lines(err):
        table, report = predict_table(
            model, pre, df, proba=proba, keep=_common.names(keep), source=source
        )
    for message in report.messages(pre):
        if message.startswith("Warning: "):
            err.print(f"[yellow]Warning:[/yellow] {message[len('Warning: ') :]}")
        else:
            err.print(message)
    write_table(table, output)
    if output != "-":
        what = "probabilities" if proba else "predictions"
        err.print(f"Wrote {len(table):,} {what} to {output}.")
