"""``logloss coef``: the largest coefficients of a saved linear model, by feature name."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ._consoles import out_console
from ._options import ModelArgument


def coef(
    model_file: ModelArgument,
    top: Annotated[
        int,
        typer.Option("--top", "-k", min=1, help="How many coefficients to list (largest first)."),
    ] = 20,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every coefficient as JSON instead of a table.")
    ] = False,
) -> None:
    """The coefficients of a saved linear model by feature name, largest |value| first.

    A model with two classes has one coefficient per feature (the change of the
    log-odds of the second class); a softmax model one per feature and class.
    The features are those the model saw: standardised numeric columns and
    one-hot indicators, named as `logloss fit` made them.
    """
    from ..model_file import load
    from ..report import Coefficients
    from ..tables import base_estimator

    model, meta = load(model_file, with_metadata=True)
    estimator = base_estimator(model)
    coefs = Coefficients(estimator, _feature_names(meta, estimator))
    if as_json:
        payload = {
            "columns": coefs.columns,
            "intercept": coefs.intercept.tolist(),
            "coefficients": {name: values.tolist() for name, values in coefs.largest()},
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    out_console().print(_coef_table(coefs, top, model_file))


def _feature_names(meta: dict[str, Any], estimator: Any) -> list[str] | None:
    """The names `logloss fit` stored with the model, else the estimator's own (if any)."""
    names = meta.get("feature_names")
    n = getattr(estimator, "n_features_in_", None)
    if isinstance(names, list) and len(names) == n:
        return [str(name) for name in names]
    return None  # Coefficients falls back to feature_names_in_, then x0, x1, ...


def _coef_table(coefs: Any, top: int, source: str) -> Any:
    from rich.markup import escape
    from rich.table import Table

    rows = coefs.largest(top)
    total = len(coefs.names)
    which = f"{len(rows)} largest of {total}" if len(rows) < total else f"all {total}"
    table = Table(
        title=f"Coefficients of {escape(source)} ({which}, by absolute value)",
        caption=f"{coefs.heading()} per unit of each feature as the model saw it",
        title_style="bold",
        header_style="bold",
        padding=(0, 1),
    )
    table.add_column("feature")
    titles = coefs.columns if len(coefs.columns) > 1 else ["coefficient"]
    for title in titles:
        table.add_column(escape(title), justify="right")
    for name, values in rows:
        table.add_row(escape(name), *(f"{v:+.4f}" for v in values))
    table.add_row("[dim](intercept)[/dim]", *(f"[dim]{v:+.4f}[/dim]" for v in coefs.intercept))
    return table
