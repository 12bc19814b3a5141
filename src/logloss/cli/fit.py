"""``logloss fit``: train a classifier on a table and save it with its preprocessing.

The steps are separate functions so that another data engine (e.g. Dask) can
replace the reading and preparing while keeping the training, the scores
table, the model file and the report: :func:`fit` = read -> prepare -> train
-> score -> save (-> report).
"""

from __future__ import annotations

import enum
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import _common

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.console import Console

    from ..tabular import Prepared


class Model(str, enum.Enum):
    logistic = "logistic"
    softmax = "softmax"
    mlp = "mlp"


def fit(
    data: Annotated[
        str,
        typer.Argument(
            metavar="DATA",
            help="CSV, TSV or Parquet file (by suffix); '-' reads CSV from standard input.",
            show_default=False,
        ),
    ],
    target: Annotated[
        str,
        typer.Option("--target", "-t", help="Column holding the class labels.", show_default=False),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Model file to write (.npz).", dir_okay=False, show_default=False
        ),
    ],
    model: Annotated[Model, typer.Option("--model", "-m", help="The classifier.")] = Model.logistic,
    features: Annotated[
        list[str] | None,
        typer.Option(
            "--features",
            "-f",
            help="Feature columns, comma-separated (default: all but the target).",
        ),
    ] = None,
    drop: Annotated[
        list[str] | None,
        typer.Option("--drop", help="Columns to leave out, comma-separated or repeated."),
    ] = None,
    test_size: Annotated[
        float,
        typer.Option(
            "--test-size",
            min=0.0,
            max=0.9,
            help="Share of rows held out for scoring (stratified); 0 holds out none.",
        ),
    ] = 0.2,
    C: Annotated[
        float | None,
        typer.Option(
            "--C",
            "-C",
            callback=lambda v: _positive(v, "--C"),
            help="Inverse L2 strength (default: the model's, 1.0 for linear models, "
            "1e4 for mlp, whose alpha is 1/C).",
            show_default=False,
        ),
    ] = None,
    solver: Annotated[
        str | None,
        typer.Option(
            "--solver",
            help="lbfgs, newton, gd, sgd or adam (linear); adam, sgd or "
            "lbfgs (mlp). Default: lbfgs (linear), adam (mlp).",
            show_default=False,
        ),
    ] = None,
    max_iter: Annotated[
        int | None,
        typer.Option(
            "--max-iter",
            min=1,
            help="Most solver iterations (epochs for sgd/adam).",
            show_default=False,
        ),
    ] = None,
    hidden: Annotated[
        str | None,
        typer.Option(
            "--hidden",
            help="Hidden layer widths of the mlp, e.g. 64,32 (default 100).",
            show_default=False,
        ),
    ] = None,
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate",
            help="Keep a fifth of the training rows apart and fit a "
            "temperature on them (temperature scaling).",
        ),
    ] = False,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Seed of the split and the model.")
    ] = 0,
    max_categories: Annotated[
        int,
        typer.Option(
            "--max-categories", min=1, help="Most distinct values a text column may have."
        ),
    ] = 100,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Folder for an HTML report (index.html).",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Train a classifier on a table: preprocess, split, fit, score, save.

    Numeric columns are standardised (missing values become the training
    median), text columns one-hot encoded; the preprocessing is saved with the
    model. The scores table compares training and held-out log loss with the
    baseline of predicting the class frequencies.
    """
    from ..tabular import make_estimator

    started = time.perf_counter()
    out, err = _common.out_console(), _common.err_console()
    _common.writable_file(output, "model file")
    if report is not None and report.exists() and not report.is_dir():
        raise NotADirectoryError(f"report folder {str(report)!r} exists and is not a directory")
    estimator = make_estimator(
        model.value,
        C=C,
        solver=solver,
        max_iter=max_iter,
        hidden_layer_sizes=_widths(hidden),
        seed=seed,
        verbose=1,
    )
    settings = {
        "model": model.value,
        "features": _common.names(features) or None,
        "drop": _common.names(drop),
        "test_size": test_size,
        "C": C,
        "solver": solver,
        "max_iter": max_iter,
        "hidden": hidden,
        "calibrate": calibrate,
        "seed": seed,
    }

    blocks = read(data, err)
    size = sum(int(b.memory_usage(deep=True).sum()) for b in blocks)
    summary = (
        f"Read {_common.display_name(data)}: {sum(len(b) for b in blocks):,} rows × "
        f"{blocks[0].shape[1]} columns ({_common.human_bytes(size)} in memory)."
    )
    # Each block is dropped as soon as it is encoded: the table shrinks as the matrices grow.
    prepared = prepare(blocks, data, target, settings, max_categories)
    del blocks
    # Nothing is printed before the data passed every check: a mistake gets one line.
    out.print(summary)
    describe_prepared(prepared, target, settings, out)
    fitted, seconds = train(prepared, estimator, err)
    scores = finish(prepared, fitted, output, data, settings, out, seconds)
    if report is not None:
        index = write_report(report, prepared, fitted, scores, data, settings)
        out.print(f"Report: {index}")
    out.print(f"Done in {time.perf_counter() - started:.1f} s.")


def _positive(value: float | None, name: str) -> float | None:
    if value is not None and not value > 0:
        raise typer.BadParameter(
            f"must be a positive number; got {value:g}", param_hint=f"'{name}'"
        )
    return value


def _widths(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        widths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"must be comma-separated layer widths such as 64,32; got {text!r}",
            param_hint="'--hidden'",
        ) from None
    if not widths or min(widths) < 1:
        raise typer.BadParameter(
            f"widths must be positive integers; got {text!r}", param_hint="'--hidden'"
        )
    return widths


def read(data: str, err: Console) -> list:
    """The table as consecutive blocks of rows (a spinner on stderr while it loads)."""
    from ..tabular import read_table_blocks

    with err.status(f"Reading {data} …"):
        return read_table_blocks(data)


def prepare(df: Any, data: str, target: str, settings: dict, max_categories: int) -> Prepared:
    """Split and preprocess; the blocks are dropped from the list as they are encoded."""
    from ..tabular import prepare_training

    return prepare_training(
        df,
        target,
        features=settings["features"],
        drop=settings["drop"],
        test_size=settings["test_size"],
        seed=settings["seed"],
        calibrate=settings["calibrate"],
        max_categories=max_categories,
        source=_common.display_name(data),
        consume=True,
    )


def describe_prepared(prepared: Prepared, target: str, settings: dict, out: Console) -> None:
    """What was done to the data: classes, features, imputations, the split."""
    counts = {c: int((prepared.y["training"] == c).sum()) for c in prepared.classes}
    shown = ", ".join(f"{c} ({n:,})" for c, n in list(counts.items())[:8])
    more = f" and {len(counts) - 8} more" if len(counts) > 8 else ""
    out.print(
        f"Target {target!r}: {len(prepared.classes)} classes; in the training rows {shown}{more}."
    )
    out.print(f"Features: {prepared.preprocessor.describe()}.")
    for note in prepared.notes:
        out.print(note)
    split = ", ".join(f"{y.size:,} {name}" for name, y in prepared.y.items())
    out.print(f"Rows: {split} (stratified split, seed {settings['seed']}).")


def train(prepared: Prepared, estimator: Any, err: Console) -> tuple[Any, float]:
    """Fit (with a progress bar on stderr); warnings become one line each."""
    from ..tabular import fit_prepared

    started = time.perf_counter()
    with _common.warnings_as_lines(err):
        fitted, notes = fit_prepared(prepared, estimator)
    prepared.notes.extend(notes)
    for note in notes:
        err.print(note)
    return fitted, time.perf_counter() - started


def finish(
    prepared: Prepared,
    fitted: Any,
    output: Path,
    data: str,
    settings: dict,
    out: Console,
    seconds: float,
) -> dict:
    """Score every split, print the table, save the model file."""
    from .. import io
    from ..tabular import base_estimator, model_metadata, score_splits

    scores = score_splits(prepared, fitted)
    out.print(scores_table(scores))
    inner = base_estimator(fitted)
    inner.set_params(verbose=0)
    meta = model_metadata(prepared, scores, source=str(data), settings=settings)
    meta["training"]["seconds"] = round(seconds, 3)
    path = io.save(fitted, output, metadata=meta)
    out.print(
        f"Fitted {describe_model(fitted)} in {seconds:.2f} s "
        f"({inner.n_iter_} iteration{'s' if inner.n_iter_ != 1 else ''}); saved to {path}."
    )
    return scores


def describe_model(model: Any) -> str:
    from ..tabular import base_estimator

    inner = base_estimator(model)
    params = inner.get_params()
    name = type(inner).__name__
    if name == "MLPClassifier":
        text = (
            f"MLPClassifier(hidden_layer_sizes={params['hidden_layer_sizes']}, "
            f"alpha={params['alpha']:g}, solver={params['solver']!r})"
        )
    else:
        text = f"{name}(C={params['C']:g}, solver={params['solver']!r})"
    if inner is not model:
        text += f" with temperature {model.temperature_:.3g}"
    return text


def scores_table(scores: dict) -> Any:
    """The rich table of :func:`logloss.report.evaluate` results, one row per split."""
    from rich.table import Table

    binary = any(s.get("roc_auc") is not None for s in scores.values())
    table = Table(title="Scores", header_style="bold", title_style="bold", padding=(0, 1))
    table.add_column("data")
    for title in ("examples", "log loss", "baseline", "accuracy"):
        table.add_column(title, justify="right")
    if binary:
        table.add_column("ROC AUC", justify="right")
    for split, s in scores.items():
        row = [
            split,
            f"{s['n']:,}",
            f"{s['log_loss']:.4f}",
            f"{s['baseline_log_loss']:.4f}",
            f"{s['accuracy']:.1%}",
        ]
        if binary:
            row.append("–" if s["roc_auc"] is None else f"{s['roc_auc']:.4f}")
        table.add_row(*row)
    table.caption = (
        "log loss: mean cross-entropy in nats; baseline: the log loss of "
        "predicting the training class frequencies"
    )
    return table


def write_report(
    folder: Path, prepared: Prepared, fitted: Any, scores: dict, data: str, settings: dict
) -> Path:
    from ..report import write_report as write
    from ..tabular import base_estimator

    split = "held-out" if "held-out" in prepared.X else "training"
    proba = fitted.predict_proba(prepared.X[split])
    details = [
        ("model", describe_model(fitted)),
        ("data", f"{data}: {prepared.n_rows:,} rows"),
        (
            "target",
            f"{prepared.target} ({len(prepared.classes)} classes: "
            f"{', '.join(map(str, prepared.classes.tolist()[:10]))})",
        ),
        ("features", prepared.preprocessor.describe()),
        (
            "split",
            ", ".join(f"{y.size:,} {name}" for name, y in prepared.y.items())
            + f" (seed {settings['seed']})",
        ),
    ]
    return write(
        folder,
        title=f"logloss fit: {Path(str(data)).name if data != '-' else 'standard input'}",
        scores=scores,
        details=details,
        notes=prepared.notes,
        model=base_estimator(fitted),
        y_true=prepared.y[split],
        y_prob=proba,
        classes=fitted.classes_,
        evaluated_on=f"{split} rows",
    )
