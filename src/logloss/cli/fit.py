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


class ClassWeight(str, enum.Enum):
    none = "none"
    balanced = "balanced"


class Penalty(str, enum.Enum):
    l2 = "l2"
    l1 = "l1"
    elasticnet = "elasticnet"
    none = "none"
    firth = "firth"


MODEL_SUFFIX = ".npz"


def _model_file(value: Path | None, name: str) -> Path | None:
    """A model file name ends in .npz (the archive it is): refuse any other name."""
    if value is not None and value.suffix.lower() != MODEL_SUFFIX:
        raise typer.BadParameter(
            f"a model file is an .npz archive, so its name must end in .npz; got '{value}'",
            param_hint=f"'{name}'",
        )
    return value


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
        "--output",
        "-o",
        help="Model file to write (a name ending in .npz).",
        dir_okay=False,
        show_default=False,
        callback=lambda v: _model_file(v, "--output"),
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
        help="lbfgs, newton, newton-cholesky, gd, sgd or adam (linear); adam, sgd or "
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
ClassWeightOption = Annotated[
    ClassWeight,
    typer.Option(
        "--class-weight",
        help="balanced weighs each class by n / (classes × its rows), so a rare class "
        "counts as much as a common one; none weighs every row alike.",
    ),
]
PenaltyOption = Annotated[
    Penalty | None,
    typer.Option(
        "--penalty",
        show_default=False,
        help="Penalty of the logistic and softmax models, of strength 1/C (default l2, "
        "none with --summary); l1 and elasticnet need --solver gd or sgd; firth is Firth's "
        "bias-reducing penalty of a logistic model.",
    ),
]
L1Ratio = Annotated[
    float | None,
    typer.Option(
        "--l1-ratio",
        min=0.0,
        max=1.0,
        show_default=False,
        help="L1 share of --penalty elasticnet (default 0.5).",
    ),
]
Tol = Annotated[
    float | None,
    typer.Option(
        "--tol",
        min=0.0,
        show_default=False,
        help="Stopping tolerance: the gradient size (lbfgs, newton, gd) or the loss "
        "improvement per epoch (sgd, adam). Default 1e-4.",
    ),
]
EarlyStopping = Annotated[
    bool,
    typer.Option(
        "--early-stopping",
        help="Keep a tenth of the training rows apart and stop when their loss stops "
        "improving (--solver sgd or adam).",
    ),
]
Seed = Annotated[int, typer.Option("--seed", min=0, help="Seed of the split and the model.")]
MaxCategories = Annotated[
    int,
    typer.Option(
        "--max-categories",
        min=1,
        help="Text columns with more distinct values are hashed (--hash-features), or "
        "one-hot encoded if they have two rows or more per value on average.",
    ),
]
Text = Annotated[
    list[str] | None,
    typer.Option(
        "--text",
        help="Free-text column to turn into TF-IDF features (repeatable, comma-separated).",
    ),
]
HashFeatures = Annotated[
    int | None,
    typer.Option(
        "--hash-features",
        min=1,
        show_default=False,
        help="Hash each text column with more than --max-categories values into this "
        "many signed columns.",
    ),
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
        callback=lambda v: _model_file(v, "--checkpoint"),
        help="Model file (.npz) to save the training progress to every --checkpoint-every "
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
SummaryOption = Annotated[
    bool,
    typer.Option(
        "--summary",
        help="After the fit, print the coefficient table (coefficient, standard error, z, "
        "P>|z|, 95% interval, by encoded feature) and the fit statistics of maximum "
        "likelihood. Fits unpenalised (by --solver newton to --tol 1e-8) unless --penalty "
        "none or firth or --solver is given; logistic and softmax models only.",
    ),
]
SummaryFile = Annotated[
    Path | None,
    typer.Option(
        "--summary-file",
        dir_okay=False,
        show_default=False,
        help="Write the coefficient table of --summary (which it implies) to this CSV, TSV "
        "or Parquet file: class, reference, feature, coef, std_err, z, p_value, ci_lower, "
        "ci_upper.",
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
    class_weight: ClassWeightOption = ClassWeight.none,
    penalty: PenaltyOption = None,
    l1_ratio: L1Ratio = None,
    tol: Tol = None,
    early_stopping: EarlyStopping = False,
    summary: SummaryOption = False,
    summary_file: SummaryFile = None,
    text: Text = None,
    hash_features: HashFeatures = None,
) -> None:
    """Train a classifier on a table: preprocess, split, fit, score, save.

    Numeric columns are standardised (missing values become the training
    median), text columns one-hot encoded (or hashed, --hash-features), --text
    columns turned into TF-IDF features; the preprocessing is saved with the
    model. A design with many indicator columns is held sparse. The scores table
    puts each split's log loss beside that of predicting the class frequencies,
    its accuracy beside that of always predicting the majority class, and the
    top-label expected calibration error (ECE).

    With --checkpoint the model is saved every --checkpoint-every iterations while
    the solver runs on (the fit is the one without checkpoints); --resume continues
    from such a file, or keeps its model as it is when nothing is left to train.

    With --summary (or --summary-file) the model is fitted unpenalised unless --penalty
    none or firth is given (another penalty is an error: its coefficients have no standard
    errors of maximum likelihood), the encoded columns must be linearly independent, and
    the coefficient table and fit statistics are printed after the scores (one block per
    class against the first, for more than two classes). --penalty none checks the columns
    the same way.

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
        class_weight=None if class_weight is ClassWeight.none else class_weight.value,
        penalty=None if penalty is None else penalty.value,
        l1_ratio=l1_ratio,
        tol=tol,
        early_stopping=early_stopping,
    )
    job = FitJob(
        data=data,
        target=target,
        output=output,
        settings=settings,
        max_categories=max_categories,
        text=tuple(names(text)),
        hash_features=hash_features,
        report=report,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        resume=resume,
        summary=summary or summary_file is not None,
        summary_file=summary_file,
    )
    outcome = run_fit(job, out=out_console(), err=err_console())
    if outcome.interrupted:
        # The model is saved; the status still tells a script that training was cut short.
        raise typer.Exit(130)
