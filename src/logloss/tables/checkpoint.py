"""Checkpoints of ``logloss fit``: one solver run that saves as it goes, resumed later.

A checkpoint is an ordinary model file (:func:`logloss.save`) whose metadata also
holds the progress, ``{"checkpoint": {"iterations": done, "max_iter": total,
"finished": bool}}`` (finished: not interrupted; a finished run with fewer iterations
than its ``max_iter`` converged), so ``logloss predict`` reads it like any model file
and ``logloss fit --resume`` continues from it with the same data and options.

The fit is one run of the solver: a callback saves the model of the current
iterate every ``--checkpoint-every`` iterations and lets the solver go on, so
L-BFGS keeps its curvature memory and sgd/adam their moments and step schedule,
and a fit with checkpoints gives the model the same fit without them gives.
``--resume`` starts a new run from the checkpoint's parameters (``warm_start``);
that run's solver memory starts afresh, the one thing a model file cannot carry.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model_file import load, save
from .training import Prepared, base_estimator, model_metadata

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.console import Console

__all__ = ["RESUME_MUST_MATCH", "CheckpointPlan", "check_resumable", "read_checkpoint"]

# Options that must be the same for a run to continue another one (--max-iter may grow).
RESUME_MUST_MATCH = (
    "model",
    "features",
    "drop",
    "test_size",
    "C",
    "solver",
    "hidden",
    "seed",
    "class_weight",
    "penalty",
    "l1_ratio",
    "tol",
    "early_stopping",
)
# What an option absent from a file written before it existed meant.
_ABSENT_MEANS = {"early_stopping": False}


def read_checkpoint(path: str | os.PathLike) -> tuple[Any, dict]:
    """(model, metadata) of a checkpoint or model file written by ``logloss fit``."""
    model, meta = load(path, with_metadata=True)
    training = meta.get("training")
    if not isinstance(training, dict) or not isinstance(training.get("settings"), dict):
        raise ValueError(
            f"--resume {str(path)!r} was not written by `logloss fit` (it has no training "
            "settings to continue from)"
        )
    return model, meta


def check_resumable(start: tuple[Any, dict], settings: dict, path: str | os.PathLike) -> None:
    """The run that wrote the checkpoint used the same options (except --max-iter)."""
    model, meta = start
    if settings["calibrate"] or base_estimator(model) is not model:
        raise ValueError("--resume cannot continue a calibrated model; leave out --calibrate")
    written = meta["training"]["settings"]
    for key in RESUME_MUST_MATCH:
        before = written.get(key, _ABSENT_MEANS.get(key))
        if before != settings.get(key, _ABSENT_MEANS.get(key)):
            option = "--" + key.replace("_", "-")
            raise ValueError(
                f"--resume {str(path)!r} was written with {option} {before!r}; "
                f"this run has {settings[key]!r}: continue with the same options"
            )


def _is_fitted_name(key: str) -> bool:
    """``coef_``, ``_dtype_``: what a fit sets (and a model file holds)."""
    return key.endswith("_") and not key.startswith("__")


@dataclass
class _Run:
    """Where a fit stands: iterations and losses before this run (from --resume)."""

    done: int = 0
    curve: list = field(default_factory=list)
    converged: bool = False  # the checkpoint's run had stopped for good
    max_iter: int | None = None  # the checkpoint's limit


@dataclass
class CheckpointPlan:
    """How ``logloss fit`` trains: one solver run, saving to `path` every `every` iterations.

    `start` is what :func:`read_checkpoint` read for ``--resume``; `settings` and
    `data` are recorded in every checkpoint, as in the final model file.
    """

    path: Path | None
    every: int
    start: tuple[Any, dict] | None
    settings: dict
    data: str

    @property
    def active(self) -> bool:
        """Whether a checkpoint is written or one is resumed."""
        return self.path is not None or self.start is not None

    def train(self, prepared: Prepared, estimator: Any, err: Console) -> None:
        """Fit `estimator` on the training rows (from the checkpoint, with `start`).

        Warnings are worded for the command line (``--max-iter``, ``--resume``).
        A checkpoint whose run converged, or that already has as many iterations as
        ``--max-iter`` allows, is kept as it is.
        """
        X, y = prepared.X["training"], prepared.y["training"]
        total = int(estimator.get_params()["max_iter"])
        run = _Run()
        if self.start is not None:
            run = self._restore(estimator, X)
            if run.converged or run.done >= total:
                self._keep(estimator, prepared, run, total, err)
                return
            err.print(f"Resuming from the checkpoint: {run.done:,} of {total:,} iterations done.")
        params = estimator.get_params()
        writer = None
        if self.path is not None:
            writer = _Writer(self, estimator, prepared, run, total, err, params["callback"])
        estimator.set_params(
            max_iter=total - run.done,
            warm_start=True if self.start is not None else params["warm_start"],
            callback=writer if writer is not None else params["callback"],
            # one line per checkpoint instead of a progress bar drawn over them
            verbose=0 if writer is not None else params["verbose"],
        )
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                estimator.fit(X, y)
        finally:
            estimator.set_params(
                max_iter=total,
                warm_start=params["warm_start"],
                callback=params["callback"],
                verbose=params["verbose"],
            )
        ran = int(estimator.n_iter_)
        interrupted = bool(getattr(estimator, "interrupted_", False))
        estimator.n_iter_ = run.done + ran
        estimator.loss_curve_ = list(run.curve) + list(estimator.loss_curve_)
        self._say_again(caught, estimator, run, total)
        if self.path is not None:
            self._save(estimator, prepared, total, finished=not interrupted)
            state = "interrupted" if interrupted else "done"
            err.print(
                f"Checkpoint: {estimator.n_iter_:,} iterations ({state}) saved to {self.path}."
            )

    def _keep(
        self, estimator: Any, prepared: Prepared, run: _Run, total: int, err: Console
    ) -> None:
        """The checkpoint's model as it is: its run converged, or --max-iter is reached."""
        if run.converged:
            why = f"its fit converged after {run.done:,} iterations"
        else:
            why = (
                f"it has {run.done:,} iterations, as many as --max-iter {total:,} allows "
                "(give a larger --max-iter to train on)"
            )
        err.print(f"Nothing left to train in the checkpoint: {why}; its model is kept as it is.")
        if hasattr(estimator, "interrupted_"):
            estimator.interrupted_ = False
        if self.path is not None:
            # a converged run keeps its own limit, so that the file still says it converged
            limit = run.max_iter if run.converged and run.max_iter else total
            self._save(estimator, prepared, limit, finished=True)

    def _say_again(self, caught: list, estimator: Any, run: _Run, total: int) -> None:
        """The fit's warnings, worded for the whole run and for the command line."""
        from sklearn.exceptions import ConvergenceWarning

        from ..models import FitInterruptedWarning

        for w in caught:
            text = str(w.message)
            if issubclass(w.category, FitInterruptedWarning) and run.done:
                text = (
                    f"{text} ({estimator.n_iter_} iterations in all, {run.done} of them "
                    "before --resume)"
                )
            elif issubclass(w.category, ConvergenceWarning) and "max_iter=" in text:
                # the data is standardised by the command line; the option is --max-iter
                text = (
                    f"{type(estimator).__name__} did not converge in --max-iter {total} "
                    "iterations; increase --max-iter"
                    + (" (or continue with --resume from the checkpoint)" if self.path else "")
                )
            warnings.warn(text, w.category, stacklevel=3)

    def _restore(self, estimator: Any, X: Any) -> _Run:
        model, meta = self.start
        n_features = getattr(model, "n_features_in_", None)
        if n_features != X.shape[1]:
            raise ValueError(
                f"--resume model takes {n_features} features, but this data gives "
                f"{X.shape[1]}: continue with the same data and options"
            )
        # every fitted attribute, `_dtype_` included: the model predicts as it is
        for key, value in vars(model).items():
            if _is_fitted_name(key):
                setattr(estimator, key, value)
        progress = meta.get("checkpoint", {})
        done = progress.get("iterations")
        if isinstance(done, bool) or not isinstance(done, int) or done < 0:
            done = int(getattr(model, "n_iter_", 0))  # a finished model file
        limit = progress.get("max_iter")
        # a run that ended (not interrupted) before its limit converged or stopped early
        converged = progress.get("finished") is True and isinstance(limit, int) and done < limit
        return _Run(done, list(getattr(model, "loss_curve_", [])), converged, limit)

    def _save(self, estimator: Any, prepared: Prepared, total: int, *, finished: bool) -> None:
        meta = model_metadata(prepared, {}, source=str(self.data), settings=self.settings)
        meta["checkpoint"] = {
            "iterations": int(estimator.n_iter_),
            "max_iter": total,
            "finished": finished,
        }
        params = estimator.get_params()
        # the file holds the run's options, as a finished model would
        estimator.set_params(max_iter=total, warm_start=False)
        try:
            save(estimator, self.path, metadata=meta)
        finally:
            estimator.set_params(max_iter=params["max_iter"], warm_start=params["warm_start"])


class _Writer:
    """The solver callback that saves a checkpoint every ``plan.every`` iterations."""

    def __init__(
        self, plan: CheckpointPlan, estimator: Any, prepared: Prepared, run: _Run, total: int,
        err: Console, user_callback: Any,
    ) -> None:  # fmt: skip
        self.plan, self.estimator, self.prepared = plan, estimator, prepared
        self.run, self.total, self.err = run, total, err
        self.user_callback = user_callback
        self.losses: list[float] = []

    def __call__(self, info: Any) -> bool:
        self.losses.append(float(info.loss))
        done = self.run.done + int(info.iteration)
        # the last iteration's checkpoint is written once the fit has ended
        if done % self.plan.every == 0 and done < self.total:
            self.estimator._fitted_at(info.x, list(self.run.curve) + self.losses)
            self.plan._save(self.estimator, self.prepared, self.total, finished=False)
            self.err.print(
                f"Checkpoint: {done:,} of {self.total:,} iterations (loss {info.loss:.6g}) "
                f"saved to {self.plan.path}."
            )
        return bool(self.user_callback(info)) if self.user_callback is not None else False
