"""Checkpoints of ``logloss fit``: train in slices, save after each, resume later.

A checkpoint is an ordinary model file (:func:`logloss.save`) whose metadata also
holds the progress, ``{"checkpoint": {"iterations": done, "max_iter": total,
"finished": bool}}``, so ``logloss predict`` reads it like any model file and
``logloss fit --resume`` continues from it with the same data and options.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model_file import load, save
from .training import Prepared, base_estimator, model_metadata

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.console import Console

__all__ = ["RESUME_MUST_MATCH", "CheckpointPlan", "check_resumable", "read_checkpoint"]

# Options that must be the same for a run to continue another one (--max-iter may grow).
RESUME_MUST_MATCH = ("model", "features", "drop", "test_size", "C", "solver", "hidden", "seed")


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
class _Progress:
    """Where a sliced fit stands: iterations done of `total`, the loss curve so far."""

    total: int
    done: int = 0
    curve: list | None = None
    interrupted: bool = False
    finished: bool = False
    last_warnings: list | None = None  # those of the last slice, said again at the end


@dataclass
class CheckpointPlan:
    """Train in slices of `every` iterations, saving to `path` after each one.

    Each slice warm-starts from the previous one (``warm_start=True``, ``max_iter`` of at
    most `every`), so a checkpoint is an ordinary model file. L-BFGS keeps no curvature
    memory across slices and sgd/adam restart their step-size schedule, so a sliced fit
    follows a slightly different path to the same optimum.

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
        """Whether training goes in slices (a checkpoint is written, or one is resumed)."""
        return self.path is not None or self.start is not None

    def train(self, prepared: Prepared, estimator: Any, err: Console) -> None:
        """Fit `estimator` on the training rows slice by slice; it ends as one fit would."""
        X = prepared.X["training"]
        state = _Progress(total=int(estimator.get_params()["max_iter"]), curve=[])
        if self.start is not None:
            state.done, state.curve = self._restore(estimator, X)
            err.print(
                f"Resuming from the checkpoint: {state.done:,} of {state.total:,} iterations done."
            )
        # one line per checkpoint instead of one progress bar per slice
        verbose = estimator.get_params()["verbose"]
        estimator.set_params(warm_start=True, verbose=0)
        state.finished = state.done >= state.total
        try:
            self._slices(prepared, estimator, state, err)
        except KeyboardInterrupt:
            # Ctrl-C outside the solver (while saving a checkpoint): keep what is fitted.
            if not hasattr(estimator, "n_iter_"):
                raise
            self._interrupted(estimator, state)
        finally:
            estimator.set_params(max_iter=state.total, warm_start=False, verbose=verbose)
        self._warn_again(estimator, state)
        if self.path is not None:
            self._save(estimator, prepared, state.done, state.total, finished=not state.interrupted)
            done = "interrupted" if state.interrupted else "done"
            err.print(f"Checkpoint: {state.done:,} iterations ({done}) saved to {self.path}.")

    def _slices(self, prepared: Prepared, estimator: Any, state: _Progress, err: Console) -> None:
        from sklearn.exceptions import ConvergenceWarning

        X, y = prepared.X["training"], prepared.y["training"]
        while not state.finished:
            size = min(self.every, state.total - state.done)
            estimator.set_params(max_iter=size)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                estimator.fit(X, y)
            state.done += int(estimator.n_iter_)
            state.curve += list(estimator.loss_curve_)
            state.interrupted = bool(getattr(estimator, "interrupted_", False))
            # a slice that used all its iterations without converging goes on
            hit_limit = estimator.n_iter_ >= size and any(
                issubclass(w.category, ConvergenceWarning) for w in caught
            )
            state.finished = state.interrupted or not hit_limit or state.done >= state.total
            state.last_warnings = list(caught) if state.finished else []
            self._settle(estimator, state)
            if self.path is not None and (not state.finished or state.interrupted):
                self._save(estimator, prepared, state.done, state.total, finished=False)
                err.print(
                    f"Checkpoint: {state.done:,} of {state.total:,} iterations "
                    f"(loss {state.curve[-1]:.6g}) saved to {self.path}."
                    if state.curve
                    else f"Checkpoint: {state.done:,} iterations saved to {self.path}."
                )

    def _interrupted(self, estimator: Any, state: _Progress) -> None:
        from ..models import FitInterruptedWarning

        state.interrupted = True
        self._settle(estimator, state)
        state.last_warnings = []
        warnings.warn(
            f"training was interrupted (KeyboardInterrupt) after {state.done} iteration(s); "
            "keeping the parameters of the last completed slice",
            FitInterruptedWarning,
            stacklevel=3,
        )

    @staticmethod
    def _warn_again(estimator: Any, state: _Progress) -> None:
        """The last slice's warnings, said for the whole run."""
        from sklearn.exceptions import ConvergenceWarning

        from ..models import FitInterruptedWarning

        for w in state.last_warnings or []:
            text = str(w.message)
            if issubclass(w.category, FitInterruptedWarning):
                text = f"{text} ({state.done} iterations in all)"
            elif issubclass(w.category, ConvergenceWarning) and state.done >= state.total:
                # the slice's message names the slice's max_iter; say it for the whole run
                text = (
                    f"{type(estimator).__name__} did not converge in --max-iter {state.total} "
                    "iterations; increase --max-iter, or continue with --resume"
                )
            warnings.warn(text, w.category, stacklevel=3)

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
    def _settle(estimator: Any, state: _Progress) -> None:
        """The estimator's counters describe the whole run, not the last slice."""
        estimator.n_iter_ = state.done
        estimator.loss_curve_ = list(state.curve)
        if hasattr(estimator, "interrupted_"):
            estimator.interrupted_ = state.interrupted

    def _save(
        self, estimator: Any, prepared: Prepared, done: int, total: int, finished: bool
    ) -> None:
        meta = model_metadata(prepared, {}, source=str(self.data), settings=self.settings)
        meta["checkpoint"] = {"iterations": done, "max_iter": total, "finished": finished}
        params = estimator.get_params()
        # the file holds the run's options, as a finished model would
        estimator.set_params(max_iter=total, warm_start=False)
        try:
            save(estimator, self.path, metadata=meta)
        finally:
            estimator.set_params(max_iter=params["max_iter"], warm_start=params["warm_start"])
