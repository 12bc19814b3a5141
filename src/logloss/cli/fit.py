"""``logloss fit``: train a classifier on a table and save it with its preprocessing.

The options become a :class:`~logloss.tables.FitJob`; the run is
:func:`logloss.tables.run_fit`.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from ._consoles import err_console, out_console
from ._options import DataArgument, names, target_option


class Model(str, enum.Enum):
    logistic = "logistic"
    softmax = "softmax"
    mlp = "mlp"


def _positive(value: float | None, name: str) -> float | None:
    if value is not None and not value > 0:
        raise typer.BadParameter(
            f"must be a positive number; got {value:g}", param_hint=f"'{name}'"
        )
    return value


Target = Annotated[str, target_option("Column holding the class labels.")]
Output = Annotated[
    Path,
    typer.Option(
        "--output", "-o", help="Model file to write (.npz).", dir_okay=False, show_default=False
    ),
]
ModelChoice = Annotated[Model, typer.Option("--model", "-m", help="The classifier.")]
Features = Annotated[
    list[str] | None,
    typer.Option(
        "--features", "-f", help="Feature columns, comma-separated (default: all but the target)."
    ),
]
Drop = Annotated[
    list[str] | None,
    typer.Option("--drop", help="Columns to leave out, comma-separated or repeated."),
]
TestSize = Annotated[
    float,
    typer.Option(
        "--test-size",
        min=0.0,
        max=0.9,
        help="Share of rows held out for scoring (stratified); 0 holds out none.",
    ),
]
InverseL2 = Annotated[
    float | None,
    typer.Option(
        "--C",
        "-C",
        callback=lambda v: _positive(v, "--C"),
        show_default=False,
        help="Inverse L2 strength (default: the model's, 1.0 for linear models, "
        "1e4 for mlp, whose alpha is 1/C).",
    ),
]
Solver = Annotated[
    str | None,
    typer.Option(
        "--solver",
        show_default=False,
        help="lbfgs, newton, gd, sgd or adam (linear); adam, sgd or "
        "lbfgs (mlp). Default: lbfgs (linear), adam (mlp).",
    ),
]
MaxIter = Annotated[
    int | None,
    typer.Option(
        "--max-iter",
        min=1,
        show_default=False,
        help="Most solver iterations (epochs for sgd/adam).",
    ),
]
Hidden = Annotated[
    str | None,
    typer.Option(
        "--hidden",
        show_default=False,
        help="Hidden layer widths of the mlp, e.g. 64,32 (default 100).",
    ),
]
Calibrate = Annotated[
    bool,
    typer.Option(
        "--calibrate",
        help="Keep a fifth of the training rows apart and fit a "
        "temperature on them (temperature scaling).",
    ),
]
Seed = Annotated[int, typer.Option("--seed", min=0, help="Seed of the split and the model.")]
MaxCategories = Annotated[
    int,
    typer.Option("--max-categories", min=1, help="Most distinct values a text column may have."),
]
Report = Annotated[
    Path | None,
    typer.Option(
        "--report",
        help="Folder for an HTML report (index.html).",
        file_okay=False,
        show_default=False,
    ),
]
Checkpoint = Annotated[
    Path | None,
    typer.Option(
        "--checkpoint",
        dir_okay=False,
        show_default=False,
        help="Model file to save the training progress to every --checkpoint-every "
        "iterations (and on Ctrl-C); continue later with --resume.",
    ),
]
CheckpointEvery = Annotated[
    int,
    typer.Option(
        "--checkpoint-every",
        min=1,
        help="Iterations (epochs for sgd/adam) between two checkpoints.",
    ),
]
Resume = Annotated[
    Path | None,
    typer.Option(
        "--resume",
        dir_okay=False,
        show_default=False,
        help="Checkpoint (or model file) to continue training from, with the same "
        "data and options.",
    ),
]


def fit(
    data: DataArgument,
    target: Target,
    output: Output,
    model: ModelChoice = Model.logistic,
    features: Features = None,
    drop: Drop = None,
    test_size: TestSize = 0.2,
    C: InverseL2 = None,
    solver: Solver = None,
    max_iter: MaxIter = None,
    hidden: Hidden = None,
    calibrate: Calibrate = False,
    seed: Seed = 0,
    max_categories: MaxCategories = 100,
    report: Report = None,
    checkpoint: Checkpoint = None,
    checkpoint_every: CheckpointEvery = 10,
    resume: Resume = None,
) -> None:
    """Train a classifier on a table: preprocess, split, fit, score, save.

    Numeric columns are standardised (missing values become the training
    median), text columns one-hot encoded; the preprocessing is saved with the
    model. The scores table compares training and held-out log loss with the
    baseline of predicting the class frequencies.

    Ctrl-C during training stops it with the best parameters found so far: the
    model is still scored and written, with a warning, and the exit status is 130.
    """
    from ..tables import FitJob, FitSettings, run_fit

    settings = FitSettings(
        model=model.value,
        features=names(features) or None,
        drop=names(drop),
        test_size=test_size,
        C=C,
        solver=solver,
        max_iter=max_iter,
        hidden=hidden,
        calibrate=calibrate,
        seed=seed,
    )
    job = FitJob(
        data=data,
        target=target,
        output=output,
        settings=settings,
        max_categories=max_categories,
        report=report,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        resume=resume,
    )
    outcome = run_fit(job, out=out_console(), err=err_console())
    if outcome.interrupted:
        # The model is saved; the status still tells a script that training was cut short.
        raise typer.Exit(130)
