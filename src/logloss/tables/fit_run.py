"""A whole ``logloss fit`` run: read -> prepare -> train -> score -> save (-> report).

:func:`run_fit` takes a :class:`FitJob` (the files and how to checkpoint) holding
:class:`FitSettings` (the options a model file records and ``--resume`` checks),
and prints what it does to two consoles: results to `out`, notes, warnings and
progress to `err`. The steps are the functions of :mod:`logloss.tables.training`
and :mod:`logloss.tables.checkpoint`, so another data engine (e.g. Dask) can
replace the reading and preparing while keeping the training, the scores table,
the model file and the report.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model_file import save
from .checkpoint import CheckpointPlan, check_resumable, read_checkpoint
from .console import display_name, human_bytes, warnings_as_lines
from .files import (
    check_writable,
    map_large_blocks,
    read_table_blocks,
    table_format,
    write_table,
)
from .options import OptionError, parse_widths
from .preprocess import MAX_CATEGORIES
from .rank import check_rank, encoded_units
from .summary import (
    INFERENCE_PENALTIES,
    Summary,
    coefficient_frame,
    fit_statistics,
    infer_prepared,
    no_inference_reason,
    print_summary,
    summary_options,
)
from .training import (
    SplitLabels,
    base_estimator,
    calibrate_prepared,
    make_estimator,
    model_metadata,
    prepare_training,
    score_splits,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.console import Console

    from .training import Prepared

__all__ = ["FitJob", "FitOutcome", "FitSettings", "run_fit"]


@dataclass(frozen=True)
class FitSettings:
    """The options of a fit that its model file records (``training.settings``).

    ``--resume`` continues a run only with the same settings but `max_iter`.
    `hidden` is the text given to ``--hidden`` (e.g. ``"64,32"``), kept as written.

    Examples
    --------
    >>> FitSettings(model="mlp", hidden="8,4").hidden_layer_sizes
    [8, 4]
    """

    model: str = "logistic"
    features: list[str] | None = None
    drop: list[str] = field(default_factory=list)
    test_size: float = 0.2
    C: float | None = None
    solver: str | None = None
    max_iter: int | None = None
    hidden: str | None = None
    calibrate: bool = False
    seed: int = 0
    class_weight: str | None = None  # "balanced", or None for equal weights
    penalty: str | None = None  # "l2", "l1", "elasticnet", "none"; None: the model's (l2)
    l1_ratio: float | None = None  # the L1 share of --penalty elasticnet
    tol: float | None = None  # None: the model's
    early_stopping: bool = False

    @property
    def hidden_layer_sizes(self) -> list[int] | None:
        """The widths in `hidden` (an :class:`~logloss.tables.options.OptionError` if bad)."""
        return parse_widths(self.hidden, "--hidden")

    def as_dict(self) -> dict[str, Any]:
        """The settings as a model file records them (plain JSON values)."""
        return asdict(self)


@dataclass(frozen=True)
class FitJob:
    """One ``logloss fit``: which data, which target, which files it writes."""

    data: str  # CSV, TSV or Parquet file, or "-" for CSV on standard input
    target: str
    output: Path
    settings: FitSettings = field(default_factory=FitSettings)
    max_categories: int = MAX_CATEGORIES
    text: tuple[str, ...] = ()  # --text: free-text columns (TF-IDF)
    hash_features: int | None = None  # --hash-features: columns per hashed text column
    report: Path | None = None  # folder for an HTML report
    checkpoint: Path | None = None  # model file saved every `checkpoint_every` iterations
    checkpoint_every: int = 10
    resume: Path | None = None  # checkpoint (or model file) to continue from
    summary: bool = False  # print the coefficient table and fit statistics (--summary)
    summary_file: Path | None = None  # write the coefficient table there (CSV, TSV, Parquet)


@dataclass
class FitOutcome:
    """What a run made: the model, its scores per split, and where it is saved."""

    model: Any
    scores: dict[str, dict[str, Any]]
    path: Path
    interrupted: bool  # Ctrl-C cut training short (the model is saved all the same)


def run_fit(job: FitJob, *, out: Console, err: Console) -> FitOutcome:
    """Train a classifier on a table: preprocess, split, fit, score, save (and report).

    Every output path is checked before the data is read, and nothing is printed
    before the data passed every check, so a mistake gets one line. Ctrl-C during
    training stops it with the best parameters found so far: the model is still
    scored and written, with a warning, and ``interrupted`` is set.

    Examples
    --------
    >>> import io, os, tempfile
    >>> from pathlib import Path
    >>> from rich.console import Console
    >>> folder = Path(tempfile.mkdtemp())
    >>> rows = "".join(f"{i % 7},{'ab'[i % 7 > 3]}\\n" for i in range(40))
    >>> _ = (folder / "t.csv").write_text("x,y\\n" + rows)
    >>> job = FitJob(data=str(folder / "t.csv"), target="y", output=folder / "m.npz")
    >>> quiet = Console(file=io.StringIO())
    >>> outcome = run_fit(job, out=quiet, err=quiet)
    >>> outcome.path.name, sorted(outcome.scores), outcome.interrupted
    ('m.npz', ['held-out', 'training'], False)
    """
    started = time.perf_counter()
    job, summary_note = _with_summary_options(job)
    settings = job.settings.as_dict()
    start = _check_job(job, settings)
    estimator = make_estimator(
        job.settings.model,
        C=job.settings.C,
        solver=job.settings.solver,
        max_iter=job.settings.max_iter,
        hidden_layer_sizes=job.settings.hidden_layer_sizes,
        seed=job.settings.seed,
        verbose=1,
        class_weight=job.settings.class_weight,
        penalty=job.settings.penalty,
        l1_ratio=job.settings.l1_ratio,
        tol=job.settings.tol,
        early_stopping=job.settings.early_stopping,
    )
    if start is not None:
        check_resumable(start, settings, job.resume)
    # the large temporaries of each step go back to the system when freed: the peak is
    # what one step holds at once, not the heap every step before it left behind
    map_large_blocks()
    with err.status(f"Reading {job.data} …"):
        blocks = read_table_blocks(job.data)
    size = sum(int(b.memory_usage(deep=True).sum()) for b in blocks)
    summary = (
        f"Read {display_name(job.data)}: {sum(len(b) for b in blocks):,} rows × "
        f"{blocks[0].shape[1]} columns ({human_bytes(size)} in memory)."
    )
    # Each block is dropped as soon as it is encoded: the table shrinks as the matrices grow.
    prepared = _prepare(blocks, job)
    del blocks
    if job.settings.model != "mlp" and job.settings.penalty in INFERENCE_PENALTIES:
        # unpenalised, the coefficients of dependent columns are not identified
        pre = prepared.preprocessor
        check_rank(prepared.X["training"], pre.feature_names_out, encoded_units(pre))
    out.print(summary)
    describe_prepared(prepared, job.settings.seed, out)
    if summary_note:
        out.print(summary_note, highlight=False)
    plan = CheckpointPlan(job.checkpoint, job.checkpoint_every, start, settings, job.data)
    fitted, seconds = _train(prepared, estimator, err, plan)
    scores, path = _score_and_save(prepared, fitted, job, settings, out, seconds)
    inference = _summary(job, prepared, fitted, out) if job.summary else None
    if job.report is not None:
        index = _write_report(job, prepared, fitted, scores, inference)
        out.print(f"Report: {index}")
    out.print(f"Done in {time.perf_counter() - started:.1f} s.")
    interrupted = bool(getattr(base_estimator(fitted), "interrupted_", False))
    return FitOutcome(model=fitted, scores=scores, path=path, interrupted=interrupted)


def _with_summary_options(job: FitJob) -> tuple[FitJob, str | None]:
    """The job with the options ``--summary`` implies (no penalty, Newton to 1e-8), and the
    note saying so; an ``OptionError`` when ``--summary`` cannot apply."""
    if not job.summary:
        return job, None
    s = job.settings
    changes, note = summary_options(
        model=s.model, penalty=s.penalty, solver=s.solver, tol=s.tol, class_weight=s.class_weight
    )
    return replace(job, settings=replace(s, **changes)), note


def _summary(job: FitJob, prepared: Prepared, fitted: Any, out: Console) -> Summary:
    """Print the coefficient table and fit statistics; write the table to `summary_file`."""
    result = infer_prepared(prepared, fitted)
    print_summary(result, out, target=prepared.target)
    if job.summary_file is not None:
        write_table(coefficient_frame(result.result), job.summary_file)
        out.print(f"Coefficient table: {job.summary_file}")
    return result


def _check_job(job: FitJob, settings: dict) -> tuple[Any, dict] | None:
    """The output paths can be written; the checkpoint to resume from, if any."""
    check_writable(job.output, "model file")
    if job.summary_file is not None:
        if str(job.summary_file) == "-":
            raise OptionError("--summary-file", "must name a file: standard output shows the table")
        check_writable(job.summary_file, "summary file")
        table_format(job.summary_file)  # a suffix it can write, before any work
    if job.checkpoint is not None:
        check_writable(job.checkpoint, "checkpoint file")
    start = read_checkpoint(job.resume) if job.resume is not None else None
    if job.report is not None and job.report.exists() and not job.report.is_dir():
        raise NotADirectoryError(f"report folder {str(job.report)!r} exists and is not a directory")
    return start


def _prepare(blocks: list, job: FitJob) -> Prepared:
    """Split and preprocess; the blocks are dropped from the list as they are encoded."""
    s = job.settings
    return prepare_training(
        blocks,
        job.target,
        features=s.features,
        drop=s.drop,
        test_size=s.test_size,
        seed=s.seed,
        calibrate=s.calibrate,
        max_categories=job.max_categories,
        source=display_name(job.data),
        consume=True,
        text=job.text,
        hash_features=job.hash_features,
    )


def describe_prepared(prepared: Prepared, seed: int, out: Console) -> None:
    """What was done to the data: classes, features, imputations, the split."""
    counts = dict(zip(prepared.classes, _class_counts(prepared).tolist(), strict=True))
    shown = ", ".join(f"{c} ({n:,})" for c, n in list(counts.items())[:8])
    more = f" and {len(counts) - 8} more" if len(counts) > 8 else ""
    out.print(
        f"Target {prepared.target!r}: {len(prepared.classes)} classes; in the training rows "
        f"{shown}{more}."
    )
    out.print(f"Features: {prepared.preprocessor.describe()}.")
    for note in prepared.notes:
        out.print(note)
    split = f"stratified split, seed {seed}" if len(prepared.y) > 1 else "no rows held out"
    out.print(f"Rows: {_split_sizes(prepared)} ({split}).")


def _class_counts(prepared: Prepared) -> Any:
    """The training rows of each class, from the codes when the labels are held as such."""
    y = prepared.y
    if isinstance(y, SplitLabels):
        return y.counts("training")
    return np.array([int((y["training"] == c).sum()) for c in prepared.classes])


def _split_sizes(prepared: Prepared) -> str:
    y = prepared.y
    sizes = {n: y.size(n) if isinstance(y, SplitLabels) else y[n].size for n in y}
    return ", ".join(f"{size:,} {name}" for name, size in sizes.items())


def _train(
    prepared: Prepared, estimator: Any, err: Console, plan: CheckpointPlan
) -> tuple[Any, float]:
    """Fit (with a progress bar on stderr); warnings become one line each.

    The estimator is trained by :meth:`CheckpointPlan.train` (one solver run that
    saves checkpoints if asked, from the checkpoint to resume if any), then
    calibrated, if asked.
    """
    started = time.perf_counter()
    with warnings_as_lines(err):
        plan.train(prepared, estimator, err)
        fitted, notes = calibrate_prepared(prepared, estimator)
    prepared.notes.extend(notes)
    for note in notes:
        err.print(note)
    return fitted, time.perf_counter() - started


def _score_and_save(
    prepared: Prepared, fitted: Any, job: FitJob, settings: dict, out: Console, seconds: float
) -> tuple[dict, Path]:
    """Score every split, print the table, save the model file."""
    # Without --summary or --report nothing reads the matrices after their scores: each goes
    # before its scoring's temporaries come (at 5M rows the training matrix is ~460 MB).
    release = not job.summary and job.report is None
    scores = score_splits(prepared, fitted, release=release)
    out.print(scores_table(scores))
    for line in majority_warnings(scores, balanced=job.settings.class_weight == "balanced"):
        out.print(line, highlight=False)
    inner = base_estimator(fitted)
    inner.set_params(verbose=0)
    meta = model_metadata(prepared, scores, source=str(job.data), settings=settings)
    meta["training"]["seconds"] = round(seconds, 3)
    path = save(fitted, job.output, metadata=meta)
    out.print(
        f"Fitted {describe_model(fitted)} in {seconds:.2f} s "
        f"({inner.n_iter_} iteration{'s' if inner.n_iter_ != 1 else ''}); saved to {path}."
    )
    return scores, path


def describe_model(model: Any) -> str:
    """The estimator and its main options in one line, e.g. ``LogisticRegression(C=1, ...)``."""
    inner = base_estimator(model)
    params = inner.get_params()
    name = type(inner).__name__
    if name == "MLPClassifier":
        text = (
            f"MLPClassifier(hidden_layer_sizes={params['hidden_layer_sizes']}, "
            f"alpha={params['alpha']:g}, solver={params['solver']!r})"
        )
    elif params.get("penalty", "l2") in ("l2", "l1", "elasticnet"):
        text = f"{name}(C={params['C']:g}, solver={params['solver']!r})"
    else:  # no penalty, or Firth's, which C does not scale
        text = f"{name}(penalty={params['penalty']!r}, solver={params['solver']!r})"
    if inner is not model:
        text += f" with temperature {model.temperature_:.3g}"
    return text


def scores_table(scores: dict) -> Any:
    """The rich table of :func:`logloss.metrics.evaluation.evaluate` results, one row per split.

    Each score sits beside its baseline: the log loss beside that of predicting the
    training class frequencies, the accuracy beside that of always predicting the
    majority class.
    """
    from rich import box
    from rich.table import Table

    binary = any(s.get("roc_auc") is not None for s in scores.values())
    # no vertical rules and a two-line header where needed: the table fits 80 columns
    table = Table(
        title="Scores",
        header_style="bold",
        title_style="bold",
        padding=(0, 0, 0, 1),
        pad_edge=False,
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    longest = max(map(len, scores), default=4)
    table.add_column("data", vertical="bottom", min_width=longest)
    titles = ("rows", "log loss", "baseline", "accuracy", "majority", "top-label\nECE")
    for title in titles + (("ROC AUC",) if binary else ()):
        # every header stays whole; only a count of millions of rows may fold
        width = None if title == "rows" else max(map(len, title.split("\n")))
        table.add_column(
            title, justify="right", vertical="bottom", min_width=width, overflow="fold"
        )
    for split, s in scores.items():
        row = [
            split,
            f"{s['n']:,}",
            f"{s['log_loss']:.4f}",
            f"{s['baseline_log_loss']:.4f}",
            f"{s['accuracy']:.1%}",
            f"{s['baseline_accuracy']:.1%}",
            f"{s['calibration_error']:.4f}",
        ]
        if binary:
            row.append("–" if s["roc_auc"] is None else f"{s['roc_auc']:.4f}")
        table.add_row(*row)
    majority = next(iter(scores.values()))["majority_class"] if scores else None
    table.caption = (
        "log loss: mean cross-entropy in nats; baseline: the log loss of predicting the "
        f"training class frequencies; majority: the accuracy of always predicting {majority!r}, "
        "the most frequent training class; top-label ECE: expected calibration error of the "
        "most probable class"
    )
    return table


def majority_warnings(scores: dict, balanced: bool = False) -> list[str]:
    """One line per split where the accuracy is not above the majority-class rate; the
    advice to weight the classes is left out when they already were (`balanced`).

    Examples
    --------
    >>> majority_warnings({"held-out": {"accuracy": 0.936, "baseline_accuracy": 0.94,
    ...                                 "majority_class": "No"}})[0][:62]
    'Warning: held-out accuracy 93.6% is not above the 94.0% of alw'
    """
    advice = (
        "judge the model by its log loss and ROC AUC, which accuracy does not reflect"
        if balanced
        else "for a rare class, try --class-weight balanced (and judge by the log loss)"
    )
    lines = []
    for split, s in scores.items():
        if s["accuracy"] <= s["baseline_accuracy"]:
            lines.append(
                f"Warning: {split} accuracy {s['accuracy']:.1%} is not above the "
                f"{s['baseline_accuracy']:.1%} of always predicting {s['majority_class']!r}; "
                f"{advice}."
            )
    return lines


def _report_inference(
    job: FitJob, prepared: Prepared, fitted: Any, inference: Summary | None
) -> dict[str, Any]:
    """The report's coefficient table and statistics, or the sentence why there are none."""
    inner = base_estimator(fitted)
    reason = no_inference_reason(inner, job.settings.penalty)
    if inference is None and reason is None:
        try:
            inference = infer_prepared(prepared, fitted)
        except ValueError as exc:  # e.g. class weights: the reason is the message
            reason = f"No standard errors: {exc}."
    if inference is None:
        return {"coefficients_note": reason}
    return {
        "coefficient_table": coefficient_frame(inference.result),
        "fit_statistics": fit_statistics(inference),
        "coefficients_note": inference.sentence(),
    }


def _write_report(
    job: FitJob, prepared: Prepared, fitted: Any, scores: dict, inference: Summary | None
) -> Path:
    from ..report import write_report as write

    data = job.data
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
        ("split", f"{_split_sizes(prepared)} (seed {job.settings.seed})"),
    ]
    return write(
        job.report,
        title=f"logloss fit: {Path(str(data)).name if data != '-' else 'standard input'}",
        scores=scores,
        details=details,
        notes=prepared.notes,
        model=base_estimator(fitted),
        y_true=prepared.y[split],
        y_prob=proba,
        classes=fitted.classes_,
        evaluated_on=f"{split} rows",
        feature_names=prepared.preprocessor.feature_names_out,
        **_report_inference(job, prepared, fitted, inference),
    )
