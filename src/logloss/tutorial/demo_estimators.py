"""Part two of ``logloss demo``: the same ideas with logloss's estimators.

Called by :func:`logloss.tutorial.demo.run_demo` after the hand-written gradient descent:

6. the breast-cancer logistic regression again, as ``LogisticRegression`` with plain
   gradient descent (``solver="gd"``) and with L-BFGS, side by side;
7. softmax (multinomial) regression and a small neural network on the digits data;
8. temperature scaling of the network's probabilities, with reliability diagrams.

Everything runs on data bundled with scikit-learn, offline, in a few seconds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._console import heading

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.console import Console


def _fit_timed(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def _scores(model: Any, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from ..metrics import log_loss

    proba = model.predict_proba(X)
    return log_loss(y, proba, labels=model.classes_), float(np.mean(model.predict(X) == y))


def run_estimators(
    con: Console, data: dict[str, np.ndarray], out: Path, seed: int, first_step: int
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Steps `first_step`.. of the demo; returns (numbers, figure paths)."""
    result: dict[str, Any] = {}
    files: dict[str, Path] = {}
    _step_solvers(con, first_step, data, out, result, files)
    mlp, calibration_split = _step_digits(con, first_step + 1, seed, out, result, files)
    _step_temperature(con, first_step + 2, mlp, calibration_split, out, result, files)
    return result, files


def _step_solvers(
    con: Console,
    number: int,
    data: dict[str, np.ndarray],
    out: Path,
    result: dict[str, Any],
    files: dict[str, Path],
) -> None:
    """gd against lbfgs on the same objective (no penalty, as in the hand-written loop)."""
    import warnings

    from rich.table import Table

    from .. import plot
    from ..models import LogisticRegression

    heading(con, number, "The same model with ll.LogisticRegression: gradient descent vs L-BFGS")
    X_tr, y_tr = data["X_train"][:, 1:], data["y_train"]  # drop the column of ones
    X_te, y_te = data["X_test"][:, 1:], data["y_test"]
    # Padding 1, not 2: the six columns fit an 80-column terminal with whole headers.
    table = Table(header_style="bold", padding=(0, 1))
    for col in ("solver", "iterations", "seconds", "final J(w)", "held-out log loss", "accuracy"):
        table.add_column(col, justify="left" if col == "solver" else "right", min_width=len(col))
    models = {}
    for solver, max_iter in (("gd", 2000), ("lbfgs", 500)):
        model = LogisticRegression(penalty=None, solver=solver, max_iter=max_iter, tol=1e-6)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gd may stop at max_iter: that is the point shown
            seconds = _fit_timed(model, X_tr, y_tr)
        loss, acc = _scores(model, X_te, y_te)
        models[solver] = model
        result[f"{solver}_n_iter"] = int(model.n_iter_)
        result[f"{solver}_final_cost"] = float(model.loss_curve_[-1])
        result[f"{solver}_test_log_loss"] = loss
        table.add_row(
            solver,
            str(model.n_iter_),
            f"{seconds:.2f}",
            f"{model.loss_curve_[-1]:.6f}",
            f"{loss:.4f}",
            f"{acc:.1%}",
        )
    con.print(table)
    con.print(
        "Both minimise the same J(w); L-BFGS uses curvature from past gradients and gets "
        "lower in far fewer steps. Without a penalty the lowest J is not the best held-out "
        "loss: the weights grow to fit the training set's noise.",
        style="dim",
    )
    fig = _solver_figure(models["gd"].loss_curve_, models["lbfgs"].loss_curve_)
    files["solvers"] = out / "solvers.png"
    plot.save_figure(fig, files["solvers"])


def _step_digits(
    con: Console,
    number: int,
    seed: int,
    out: Path,
    result: dict[str, Any],
    files: dict[str, Path],
) -> tuple[Any, tuple[np.ndarray, ...]]:
    """Softmax regression and an MLP on digits; returns the MLP and the calibration split."""
    import warnings

    from rich.table import Table
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from .. import plot
    from ..models import MLPClassifier, SoftmaxRegression

    heading(con, number, "Many classes: softmax regression and a neural network on digits")
    digits = load_digits()
    Xd = digits.data / 16.0  # pixel intensities 0..16 -> 0..1
    Xd_tr, Xd_rest, yd_tr, yd_rest = train_test_split(
        Xd, digits.target, test_size=0.4, stratify=digits.target, random_state=seed
    )
    Xd_cal, Xd_te, yd_cal, yd_te = train_test_split(
        Xd_rest, yd_rest, test_size=0.5, stratify=yd_rest, random_state=seed
    )
    table = Table(header_style="bold", padding=(0, 1))
    for col in ("model", "iterations", "seconds", "held-out log loss", "accuracy"):
        table.add_column(col, justify="left" if col == "model" else "right", min_width=len(col))
    softmax = SoftmaxRegression(C=1.0)
    mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=200, random_state=seed)
    for name, model in (("softmax regression", softmax), ("MLP, 64 ReLU units", mlp)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seconds = _fit_timed(model, Xd_tr, yd_tr)
        loss, acc = _scores(model, Xd_te, yd_te)
        key = "softmax" if model is softmax else "mlp"
        result[f"{key}_test_log_loss"], result[f"{key}_test_accuracy"] = loss, acc
        table.add_row(name, str(model.n_iter_), f"{seconds:.2f}", f"{loss:.4f}", f"{acc:.1%}")
    con.print(table)
    con.print(
        f"{len(yd_tr)} training and {len(yd_te)} held-out images of 10 digits; both models "
        "minimise the mean softmax cross-entropy of their logits.",
        style="dim",
    )
    files["mlp_history"] = out / "mlp_history.png"
    plot.save_figure(plot.history(mlp), files["mlp_history"])
    return mlp, (Xd_cal, yd_cal, Xd_te, yd_te)


def _step_temperature(
    con: Console,
    number: int,
    mlp: Any,
    split: tuple[np.ndarray, ...],
    out: Path,
    result: dict[str, Any],
    files: dict[str, Path],
) -> None:
    """Temperature scaling on a separate calibration split."""
    from .. import plot
    from ..metrics import log_loss
    from ..models import TemperatureScaling

    Xd_cal, yd_cal, Xd_te, yd_te = split
    heading(con, number, "Calibration: one temperature fitted on held-out data")
    ts = TemperatureScaling(estimator=mlp).fit(Xd_cal, yd_cal)
    before = mlp.predict_proba(Xd_te)
    after = ts.predict_proba(Xd_te)
    result["temperature"] = float(ts.temperature_)
    result["test_log_loss_before_ts"] = log_loss(yd_te, before, labels=mlp.classes_)
    result["test_log_loss_after_ts"] = log_loss(yd_te, after, labels=mlp.classes_)
    con.print(
        f"T = {ts.temperature_:.3f} (fitted on {len(yd_cal)} calibration images); held-out "
        f"log loss {result['test_log_loss_before_ts']:.4f} -> "
        f"{result['test_log_loss_after_ts']:.4f}; "
        "accuracy is unchanged (dividing logits by T keeps their order).",
        highlight=False,
    )
    fig = _calibration_figure(yd_te, before, after, mlp.classes_, ts.temperature_)
    files["calibration"] = out / "calibration.png"
    plot.save_figure(fig, files["calibration"])


def _solver_figure(gd_curve: Any, lbfgs_curve: Any):
    """Both solvers' objective per iteration on one log-log plot, in the library's style."""
    from matplotlib.figure import Figure

    from ..plot._style import BLUE, VERMILLION, style

    with style():
        fig = Figure(figsize=(8, 4.8), layout="constrained")
        ax = fig.add_subplot()
        for curve, colour, label in (
            (gd_curve, BLUE, "gradient descent (solver='gd')"),
            (lbfgs_curve, VERMILLION, "L-BFGS (solver='lbfgs')"),
        ):
            ax.plot(np.arange(1, len(curve) + 1), curve, color=colour, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("J(w), mean cross-entropy")
        ax.set_title("Two solvers, one objective (breast cancer, no penalty)")
        ax.legend()
    return fig


def _calibration_figure(y: Any, before: Any, after: Any, classes: Any, temperature: float):
    """Reliability diagrams before and after temperature scaling, side by side."""
    from matplotlib.figure import Figure

    from .. import plot
    from ..plot._style import style

    with style():
        fig = Figure(figsize=(11, 5), layout="constrained")
        left, right = fig.subplots(1, 2, sharey=True)
    plot.calibration(y, before, classes=classes, ax=left, label="MLP")
    plot.calibration(y, after, classes=classes, ax=right, label=f"MLP / T, T = {temperature:.2f}")
    return fig
