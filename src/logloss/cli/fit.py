"""``logloss fit``: train a classifier on a table and save it with its preprocessing.

The steps are separate functions so that another data engine (e.g. Dask) can
replace the reading and preparing while keeping the training, the scores
table, the model file and the report: :func:`fit` = read -> prepare -> train
-> score -> save (-> report).
"""

from __future__ import annotations

import enum
import time
import warnings
from dataclasses import dataclass
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
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="Model file to save the training progress to every --checkpoint-every "
            "iterations (and on Ctrl-C); continue later with --resume.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    checkpoint_every: Annotated[
        int,
        typer.Option(
            "--checkpoint-every",
            min=1,
            help="Iterations (epochs for sgd/adam) between two checkpoints.",
        ),
    ] = 10,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            help="Checkpoint (or model file) to continue training from, with the same "
            "data and options.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Train a classifier on a table: preprocess, split, fit, score, save.

    Numeric columns are standardised (missing values become the training
    median), text columns one-hot encoded; the preprocessing is saved with the
    model. The scores table compares training and held-out log loss with the
    baseline of predicting the class frequencies.

    Ctrl-C during training stops it with the best parameters found so far: the
    model is still scored and written, with a warning, and the exit status is 130.
    """
    from ..tabular import base_estimator, make_estimator

    started = time.perf_counter()
    out, err = _common.out_console(), _common.err_console()
    _common.writable_file(output, "model file")
    if checkpoint is not None:
        _common.writable_file(checkpoint, "checkpoint file")
    start = read_checkpoint(resume) if resume is not None else None
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
    if start is not None:
        check_resumable(start, settings, resume)

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
    plan = CheckpointPlan(checkpoint, checkpoint_every, start, settings, data)
    fitted, seconds = train(prepared, estimator, err, plan)
    scores = finish(prepared, fitted, output, data, settings, out, seconds)
    if report is not None:
        index = write_report(report, prepared, fitted, scores, data, settings)
        out.print(f"Report: {index}")
    out.print(f"Done in {time.perf_counter() - started:.1f} s.")
    if getattr(base_estimator(fitted), "interrupted_", False):
        # The model is saved; the status still tells a script that training was cut short.
        raise typer.Exit(130)


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


# ---------------------------------------------------------------------------
# checkpoints: an ordinary model file whose metadata also holds the progress
# ---------------------------------------------------------------------------

# Options that must be the same for a run to continue another one (--max-iter may grow).
_RESUME_MUST_MATCH = ("model", "features", "drop", "test_size", "C", "solver", "hidden", "seed")


def read_checkpoint(path: Path) -> tuple[Any, dict]:
    """(model, metadata) of a checkpoint or model file written by ``logloss fit``."""
    from .. import io

    model, meta = io.load(path, with_metadata=True)
    training = meta.get("training")
    if not isinstance(training, dict) or not isinstance(training.get("settings"), dict):
        raise ValueError(
            f"--resume {str(path)!r} was not written by `logloss fit` (it has no training "
            "settings to continue from)"
        )
    return model, meta


def check_resumable(start: tuple[Any, dict], settings: dict, path: Path) -> None:
    """The run that wrote the checkpoint used the same options (except --max-iter)."""
    from ..tabular import base_estimator

    model, meta = start
    if settings["calibrate"] or base_estimator(model) is not model:
        raise ValueError("--resume cannot continue a calibrated model; leave out --calibrate")
    written = meta["training"]["settings"]
    for key in _RESUME_MUST_MATCH:
        if written.get(key) != settings[key]:
            option = "--" + key.replace("_", "-")
            raise ValueError(
                f"--resume {str(path)!r} was written with {option} {written.get(key)!r}; "
                f"this run has {settings[key]!r}: continue with the same options"
            )


def _iterations_done(meta: dict, model: Any) -> int:
    done = meta.get("checkpoint", {}).get("iterations")
    if isinstance(done, int) and not isinstance(done, bool) and done >= 0:
        return done
    return int(getattr(model, "n_iter_", 0))  # a finished model file


@dataclass
class CheckpointPlan:
    """Train in slices of `every` iterations, saving to `path` after each one.

    Each slice warm-starts from the previous one (``warm_start=True``, ``max_iter`` of at
    most `every`), so a checkpoint is an ordinary model file; its metadata adds
    ``{"checkpoint": {"iterations": done, "max_iter": total, "finished": bool}}``.
    L-BFGS keeps no curvature memory across slices and sgd/adam restart their step-size
    schedule, so a sliced fit follows a slightly different path to the same optimum.
    """

    path: Path | None
    every: int
    start: tuple[Any, dict] | None
    settings: dict
    data: str

    @property
    def active(self) -> bool:
        return self.path is not None or self.start is not None

    def fit(self, prepared: Prepared, estimator: Any, err: Console) -> None:
        from sklearn.exceptions import ConvergenceWarning

        from ..models import FitInterruptedWarning

        X, y = prepared.X["training"], prepared.y["training"]
        total = int(estimator.get_params()["max_iter"])
        done, curve = 0, []
        if self.start is not None:
            done, curve = self._restore(estimator, X)
            err.print(f"Resuming from the checkpoint: {done:,} of {total:,} iterations done.")
        # one line per checkpoint instead of one progress bar per slice
        verbose = estimator.get_params()["verbose"]
        estimator.set_params(warm_start=True, verbose=0)
        finished = done >= total
        interrupted = False
        last: list = []
        try:
            while not finished:
                size = min(self.every, total - done)
                estimator.set_params(max_iter=size)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    estimator.fit(X, y)
                done += int(estimator.n_iter_)
                curve += list(estimator.loss_curve_)
                interrupted = bool(getattr(estimator, "interrupted_", False))
                # a slice that used all its iterations without converging goes on
                hit_limit = estimator.n_iter_ >= size and any(
                    issubclass(w.category, ConvergenceWarning) for w in caught
                )
                finished = interrupted or not hit_limit or done >= total
                last = list(caught) if finished else []
                self._settle(estimator, done, total, curve, interrupted)
                if self.path is not None and (not finished or interrupted):
                    self._save(estimator, prepared, done, total, finished=False)
                    err.print(
                        f"Checkpoint: {done:,} of {total:,} iterations "
                        f"(loss {curve[-1]:.6g}) saved to {self.path}."
                        if curve
                        else f"Checkpoint: {done:,} iterations saved to {self.path}."
                    )
        except KeyboardInterrupt:
            # Ctrl-C outside the solver (while saving a checkpoint): keep what is fitted.
            if not hasattr(estimator, "n_iter_"):
                raise
            interrupted = True
            self._settle(estimator, done, total, curve, interrupted)
            last = []
            warnings.warn(
                f"training was interrupted (KeyboardInterrupt) after {done} iteration(s); "
                "keeping the parameters of the last completed slice",
                FitInterruptedWarning,
                stacklevel=2,
            )
        finally:
            estimator.set_params(max_iter=total, warm_start=False, verbose=verbose)
        for w in last:
            text = str(w.message)
            if issubclass(w.category, FitInterruptedWarning):
                text = f"{text} ({done} iterations in all)"
            elif issubclass(w.category, ConvergenceWarning) and done >= total:
                # the slice's message names the slice's max_iter; say it for the whole run
                text = (
                    f"{type(estimator).__name__} did not converge in --max-iter {total} "
                    "iterations; increase --max-iter, or continue with --resume"
                )
            warnings.warn(text, w.category, stacklevel=2)
        if self.path is not None:
            self._save(estimator, prepared, done, total, finished=not interrupted)
            state = "interrupted" if interrupted else "done"
            err.print(f"Checkpoint: {done:,} iterations ({state}) saved to {self.path}.")

    def _restore(self, estimator: Any, X: Any) -> tuple[int, list]:
        model, meta = self.start
        n_features = getattr(model, "n_features_in_", None)
        if n_features != X.shape[1]:
            raise ValueError(
                f"--resume model takes {n_features} features, but this data gives "
                f"{X.shape[1]}: continue with the same data and options"
            )
        for key, value in vars(model).items():
            if key.endswith("_") and not key.startswith("_"):
                setattr(estimator, key, value)
        return _iterations_done(meta, model), list(getattr(model, "loss_curve_", []))

    @staticmethod
    def _settle(estimator: Any, done: int, total: int, curve: list, interrupted: bool) -> None:
        """The estimator's counters describe the whole run, not the last slice."""
        estimator.n_iter_ = done
        estimator.loss_curve_ = list(curve)
        if hasattr(estimator, "interrupted_"):
            estimator.interrupted_ = interrupted

    def _save(self, estimator: Any, prepared: Prepared, done: int, total: int, finished: bool):
        from .. import io
        from ..tabular import model_metadata

        meta = model_metadata(prepared, {}, source=str(self.data), settings=self.settings)
        meta["checkpoint"] = {"iterations": done, "max_iter": total, "finished": finished}
        params = estimator.get_params()
        # the file holds the run's options, as a finished model would
        estimator.set_params(max_iter=total, warm_start=False)
        try:
            io.save(estimator, self.path, metadata=meta)
        finally:
            estimator.set_params(max_iter=params["max_iter"], warm_start=params["warm_start"])


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


def train(
    prepared: Prepared, estimator: Any, err: Console, plan: CheckpointPlan | None = None
) -> tuple[Any, float]:
    """Fit (with a progress bar on stderr); warnings become one line each.

    With a `plan` that checkpoints or resumes, the estimator is trained in slices of
    ``plan.every`` iterations (warm-started from the previous slice) and saved after each.
    """
    from ..tabular import fit_prepared

    started = time.perf_counter()
    with _common.warnings_as_lines(err):
        if plan is None or not plan.active:
            fitted, notes = fit_prepared(prepared, estimator)
        else:
            plan.fit(prepared, estimator, err)
            # Already trained: fit_prepared only adds the calibration step, if any.
            estimator.fit = lambda *args, **kwargs: estimator
            try:
                fitted, notes = fit_prepared(prepared, estimator)
            finally:
                del estimator.fit
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
