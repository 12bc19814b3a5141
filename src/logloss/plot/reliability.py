"""The reliability diagram: how often events happen against how probable they were said to be."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..metrics.calibration import reliability_bins
from ..metrics.evaluation import as_class_probabilities
from ._style import BLUE, GREY, SKY_BLUE, figure_and_axes, style

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["calibration"]


def calibration(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    classes: ArrayLike | None = None,
    n_bins: int = 10,
    ax: Axes | None = None,
    label: str | None = None,
) -> Figure:
    r"""A reliability diagram: how often events happen against how probable they were said to be.

    The predictions are sorted into `n_bins` equal-width bins of predicted
    probability; each bin's point is the mean predicted probability (x) against
    the observed frequency (y). Perfect calibration is the diagonal. For two
    classes the probability is that of the second class (``classes[1]``); for
    more, it is the top-label confidence :math:`\max_c p_{ic}` and the frequency
    is the accuracy. Below, a histogram shows how many predictions fell in each
    bin, and the title gives the expected calibration error

    .. math:: \mathrm{ECE} = \sum_b \frac{n_b}{n} \, \lvert \bar y_b - \bar p_b \rvert .

    Parameters
    ----------
    y_true : array_like of shape (n,)
        True labels.
    y_prob : array_like of shape (n,) or (n, n_classes)
        Predicted probabilities; a 1-D array is that of the second class.
        Columns follow `classes`.
    classes : array_like, optional
        The class of each column (default: the sorted labels of `y_true`).
    n_bins : int, default 10
        Number of bins of the probability axis, from 2 to 100.
    ax : matplotlib.axes.Axes, optional
        Where to draw the diagram (then without the histogram); by default a
        new figure with both.
    label : str, optional
        Legend label of the curve (default ``"model"``).

    Returns
    -------
    matplotlib.figure.Figure
        The figure: the diagram (and, on a new figure, the histogram of the
        predictions per bin below it).

    Examples
    --------
    >>> import logloss as ll
    >>> fig = ll.plot.calibration([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], n_bins=5)
    >>> fig.axes[0].get_ylabel(), fig.axes[1].get_xlabel()
    ('observed frequency of 1', 'predicted probability of 1')
    """
    if (
        isinstance(n_bins, bool)
        or not isinstance(n_bins, (int, np.integer))
        or not 2 <= n_bins <= 100
    ):
        raise ValueError(f"`n_bins` must be an integer in [2, 100]; got {n_bins!r}")
    codes, proba, classes_arr = as_class_probabilities(y_true, y_prob, classes)
    bins = reliability_bins(codes, proba, n_bins=int(n_bins))
    binary = proba.shape[1] == 2
    what = f"predicted probability of {classes_arr[1]}" if binary else "confidence (top class)"
    observed = f"observed frequency of {classes_arr[1]}" if binary else "accuracy"

    with style():
        if ax is None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(6.5, 6.5), layout="constrained")
            ax, ax_hist = fig.subplots(2, 1, height_ratios=(3, 1), sharex=True)
        else:
            fig, ax = figure_and_axes(ax, (6.5, 5.0))
            ax_hist = None
        ax.plot(
            [0, 1],
            [0, 1],
            color=GREY,
            linestyle=(0, (3, 3)),
            linewidth=1.2,
            label="perfectly calibrated",
        )
        used = bins["count"] > 0
        ax.plot(
            bins["mean_predicted"][used],
            bins["observed"][used],
            color=BLUE,
            marker="o",
            markersize=6,
            label=label or "model",
        )
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        ax.set_ylabel(observed)
        ax.set_title(f"Calibration (ECE {bins['ece']:.3f}, {codes.size:,} predictions)")
        ax.legend(loc="upper left")
        if ax_hist is not None:
            edges = bins["edges"]
            ax_hist.bar(
                edges[:-1],
                bins["count"],
                width=np.diff(edges),
                align="edge",
                color=SKY_BLUE,
                edgecolor="white",
                linewidth=0.8,
            )
            ax_hist.set_ylabel("count")
            ax_hist.set_xlabel(what)
            ax_hist.set_xlim(0.0, 1.0)
        else:
            ax.set_xlabel(what)
    return fig
