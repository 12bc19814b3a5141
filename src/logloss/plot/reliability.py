"""The reliability diagram: how often events happen against how probable they were said to be."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..metrics.calibration import expected_calibration_error, reliability_bins
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
    bin (its count written on the bar). Each point's area follows its bin's
    count, and a bin of fewer than 10 predictions is drawn as an empty ring
    with its count beside it, so one or two rows do not look like evidence. The title gives
    the top-label expected calibration error (that of the most probable
    class's probability, :func:`logloss.metrics.calibration.expected_calibration_error`,
    the one number ``logloss`` calls "top-label ECE")

    .. math::

        \mathrm{ECE} = \sum_b \frac{n_b}{n} \, \lvert \mathrm{acc}_b - \mathrm{conf}_b \rvert .

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
        x, y, n = bins["mean_predicted"][used], bins["observed"][used], bins["count"][used]
        ax.plot(x, y, color=BLUE, linewidth=1.3, marker="o", markersize=3, label=label or "model")
        # A disc per bin, its area by count (the fullest bin the largest); a bin of few rows
        # is an empty ring with its count beside it: drawn, but not as evidence.
        area = 20.0 + 200.0 * np.sqrt(n / n.max())
        few = n < _FEW
        ax.scatter(x[~few], y[~few], s=area[~few], color=BLUE, alpha=0.45, linewidths=0)
        ax.scatter(x[few], y[few], s=area[few], facecolors="none", edgecolors=BLUE, linewidths=0.9)
        for xi, yi, ni in zip(x[few], y[few], n[few], strict=True):
            ax.annotate(
                f"n={ni}",
                xy=(xi, yi),
                xytext=(6, -10 if yi > 0.9 else 4),
                textcoords="offset points",
                fontsize=9,
                color=GREY,
                annotation_clip=False,
            )
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        ax.set_ylabel(observed)
        ece = expected_calibration_error(codes, proba, n_bins=int(n_bins))
        ax.set_title(f"Calibration: top-label ECE {ece:.3f}\n{codes.size:,} predictions")
        ax.legend(loc="upper left")
        if ax_hist is not None:
            from matplotlib.ticker import FuncFormatter

            edges = bins["edges"]
            bars = ax_hist.bar(
                edges[:-1],
                bins["count"],
                width=np.diff(edges),
                align="edge",
                color=SKY_BLUE,
                edgecolor="white",
                linewidth=0.8,
            )
            ax_hist.bar_label(
                bars,
                labels=[_compact(c) if c else "" for c in bins["count"]],
                fontsize=7.5,
                color=GREY,
                padding=1,
            )
            # Plain counts (12,000), never an axis offset such as "1e6".
            ax_hist.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _compact(v)))
            ax_hist.set_ylim(0.0, float(bins["count"].max()) * 1.25)
            ax_hist.set_ylabel("count")
            ax_hist.set_xlabel(what)
            ax_hist.set_xlim(0.0, 1.0)
        else:
            ax.set_xlabel(what)
    return fig


# Bins with fewer predictions than this are drawn pale, with their count.
_FEW = 10


def _compact(count: float) -> str:
    """A count in at most four characters and a suffix: 950, 12k, 1.2M.

    Examples
    --------
    >>> _compact(950), _compact(12_345), _compact(1_234_567), _compact(2.5)
    ('950', '12.3k', '1.23M', '2.5')
    """
    if abs(count) >= 1e6:
        return f"{count / 1e6:.3g}M"
    if abs(count) >= 1e4:
        return f"{count / 1e3:.3g}k"
    return f"{count:,.0f}" if float(count).is_integer() else f"{count:g}"
