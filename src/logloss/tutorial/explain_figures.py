"""The figures of the answers in :mod:`logloss.tutorial.explain`, one function per answer.

Each takes the numbers its answer computed and draws them in logloss's style
(question 1 uses :func:`logloss.plot.loss_curve` as it is).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..plot._style import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    VERMILLION,
    figure_and_axes,
    readable_log_axis,
    style,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

__all__ = ["suitability_figure", "versus_mse_figure", "likelihood_figure", "overfitting_figure"]

_DOTTED = (0, (3, 3))


def suitability_figure(
    grid: np.ndarray, curves: dict[float, np.ndarray], best: dict[float, float]
) -> Figure:
    """Question 2: the expected loss against the prediction, for three event frequencies."""
    with style():
        fig, ax = figure_and_axes(None, (7.5, 4.8))
        for q, colour in zip(curves, (BLUE, VERMILLION, GREEN), strict=True):
            ax.plot(grid, curves[q], color=colour, label=f"event frequency q = {q:g}")
            ax.scatter([best[q]], [curves[q].min()], s=40, color=colour, zorder=3)
            ax.axvline(best[q], color=colour, linewidth=0.9, linestyle=_DOTTED)
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 2.5)
        ax.set_xlabel("predicted probability p")
        ax.set_ylabel("expected cross-entropy")
        ax.set_title("Honest probabilities minimise the expected loss")
        # Below the axes: the curves fill the plot, and a legend inside would cover them.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, fontsize=10)
    return fig


def versus_mse_figure(
    z: np.ndarray, g_ce: np.ndarray, g_mse: np.ndarray, z0: float, g0_ce: float, g0_mse: float
) -> Figure:
    """Question 3: the size of both gradients along the logit of a label-1 example."""
    with style():
        fig, ax = figure_and_axes(None, (7.5, 4.8))
        ax.plot(z, np.abs(g_ce), color=BLUE, label="cross-entropy  |p - y|")
        ax.plot(
            z,
            np.abs(g_mse),
            color=VERMILLION,
            linestyle=(0, (4, 2)),
            label="squared error  |2(p - y)p(1 - p)|",
        )
        ax.scatter([z0, z0], [abs(g0_ce), abs(g0_mse)], s=36, color=GREY, zorder=3)
        ax.annotate(
            f"{g0_ce / g0_mse:.0f}x smaller",
            xy=(z0, abs(g0_mse)),
            xytext=(12, -4),
            textcoords="offset points",
            fontsize=11,
            color=GREY,
        )
        ax.set_yscale("log")
        ax.set_ylim(1e-5, 2.0)
        ax.set_xlim(-10, 10)
        ax.set_xlabel("logit z of an example whose label is y = 1")
        ax.set_ylabel("|gradient with respect to z|")
        ax.set_title("Confidently wrong: cross-entropy still pushes")
        ax.legend(loc="lower left")
    return fig


def likelihood_figure(
    scales: np.ndarray,
    ll_path: np.ndarray,
    ce_path: np.ndarray,
    s_ll: float,
    s_ce: float,
    n: int,
) -> Figure:
    """Question 4: the likelihood and the mean cross-entropy along a ray of weights."""
    from matplotlib.figure import Figure

    with style():
        fig = Figure(figsize=(10.0, 4.4), layout="constrained")
        left, right = fig.subplots(1, 2)
        panels = (
            (left, ll_path, s_ll, BLUE, "log-likelihood  Σ log p(yᵢ | xᵢ)", "Likelihood: highest"),
            (right, ce_path, s_ce, VERMILLION, "mean cross-entropy", "Cross-entropy: lowest"),
        )
        for ax, path, s_best, colour, ylabel, title in panels:
            ax.plot(scales, path, color=colour)
            ax.axvline(s_best, color=GREY, linestyle=_DOTTED, linewidth=1.0)
            ax.set_xlabel("scale s of the fitted weights")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{title} at s = {s_best:.3g}", fontsize=13)
        readable_log_axis(right, ce_path)  # plain decimals, never "6×10⁻¹"
        fig.suptitle(
            f"Breast-cancer data, n = {n}: cross-entropy = -log-likelihood / n",
            fontsize=14,
            fontweight="bold",
        )
    return fig


def overfitting_figure(
    curves: dict[str, dict[str, np.ndarray]],
    stop: int,
    baseline: float,
    *,
    lam: float,
    eps: float,
) -> Figure:
    """Question 5: held-out loss per step for the plain fit and each remedy.

    `curves` maps "plain", "l2", "smoothing" and "early" to the per-step losses
    their runs watched; `stop` is the early-stopping step (0-based).
    """
    plain, early = curves["plain"], curves["early"]
    # (losses, colour, line width, dash pattern, label): one row per drawn curve.
    lines: tuple[tuple[np.ndarray, str, float | None, Any, str], ...] = (
        (plain["test"], VERMILLION, None, None, "no remedy"),
        (plain["train"], VERMILLION, 1.2, (0, (1, 2)), "no remedy, training rows"),
        (curves["l2"]["test"], BLUE, None, None, f"L2, λ = {lam:g}"),
        (curves["smoothing"]["test"], GREEN, None, None, f"label smoothing, ε = {eps:g}"),
        (early["test"], GREY, 1.4, (0, (4, 2)), "trained on 3/4 (early stopping)"),
    )
    steps = plain["test"].size
    with style():
        fig, ax = figure_and_axes(None, (7.5, 4.8))
        it = np.arange(1, steps + 1)
        for losses, colour, width, dashes, label in lines:
            ax.plot(it, losses, color=colour, linewidth=width, linestyle=dashes, label=label)
        ax.scatter([stop + 1], [early["test"][stop]], s=50, color=GREY, zorder=3)
        ax.annotate(
            "early stop",
            xy=(stop + 1, early["test"][stop]),
            xytext=(-20, -22),
            textcoords="offset points",
            fontsize=11,
            color=GREY,
        )
        ax.axhline(
            baseline,
            color=ORANGE,
            linewidth=1.0,
            linestyle=(0, (2, 2)),
            label="class-frequency baseline",
        )
        ax.set_xscale("log")
        ax.set_xlim(1, steps)
        ax.set_ylim(0.0, max(1.6, float(min(plain["test"].max(), 3.0))) * 1.05)
        ax.set_xlabel("gradient-descent step")
        ax.set_ylabel("log loss (held-out unless noted)")
        ax.set_title("Keeping confidence in check")
        ax.legend(loc="upper left", fontsize=9.5, ncols=2)
    return fig
