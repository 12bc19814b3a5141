"""Curves of the loss: one example's cost, and a training run's cost per iteration.

- :func:`loss_curve`: the cross-entropy of one example against the predicted probability;
- :func:`cost_history`: the mean cross-entropy after each step of a training loop;
- :func:`history`: the training objective a fitted estimator recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .._stable import sigmoid
from .._validation import as_real_array, check_finite, check_scalar
from ..losses import binary_cross_entropy_with_logits
from ._style import (
    BLUE,
    GREY,
    VERMILLION,
    figure_and_axes,
    mark_point,
    readable_log_axis,
    style,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["loss_curve", "cost_history", "history"]


def loss_curve(ax: Axes | None = None, *, ymax: float | None = 5.0) -> Figure:
    r"""The cross-entropy of one example against the predicted probability.

    For a logit :math:`z` the hypothesis is :math:`\phi(z) = \sigma(z)` and the
    cost of one example with label :math:`y \in \{0, 1\}` is

    .. math::

        J(w) = -\bigl[\,y \log \phi(z) + (1 - y) \log(1 - \phi(z))\,\bigr]
             = \begin{cases} -\log \phi(z) = \operatorname{softplus}(-z) & y = 1 \\
                             -\log(1 - \phi(z)) = \operatorname{softplus}(z) & y = 0
               \end{cases}

    The figure plots both branches for :math:`z` in ``arange(-10, 10, 0.1)``,
    with :math:`\phi(z)` on the x axis: the cost is 0 for a confident right
    answer and grows without bound for a confident wrong one. Both curves are
    computed from the logits by :func:`logloss.binary_cross_entropy_with_logits`
    (never as ``log(sigmoid(z))``), so they stay finite and exact in the tails.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Where to draw. By default a new 7.5 x 5 inch figure is created.
    ymax : float or None, default 5.0
        Upper limit of the y axis; None shows the whole curves (up to about 10).

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes, with two lines labelled ``"J(w) if y=1"``
        and ``"J(w) if y=0"``.

    See Also
    --------
    save_figure : write the figure to a PNG or SVG file.

    Examples
    --------
    >>> import logloss as ll
    >>> fig = ll.plot.loss_curve()
    >>> ax = fig.axes[0]
    >>> [line.get_label() for line in ax.get_lines()]
    ['J(w) if y=1', 'J(w) if y=0']
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('φ(z)', 'J(w)')
    """
    if ymax is not None:
        ymax = check_scalar(ymax, "ymax", low=0.0, low_inclusive=False)

    z = np.arange(-10.0, 10.0, 0.1)
    phi = sigmoid(z)  # only the x coordinate: the costs below come from the logits
    # J for y = 1 is softplus(-z) = -log(phi); for y = 0 it is softplus(z) = -log(1 - phi).
    cost_1 = binary_cross_entropy_with_logits(z, np.ones_like(z), reduction="none")
    cost_0 = binary_cross_entropy_with_logits(z, np.zeros_like(z), reduction="none")

    with style():
        fig, ax = figure_and_axes(ax, (7.5, 5.0))
        ax.plot(phi, cost_1, color=BLUE, label="J(w) if y=1")
        ax.plot(phi, cost_0, color=VERMILLION, label="J(w) if y=0")

        # Where the branches cross: phi = 1/2 costs log 2 whatever the label.
        ax.scatter([0.5], [np.log(2.0)], s=36, color=GREY, zorder=3)
        ax.annotate(
            "φ = 0.5 costs ln 2 ≈ 0.69\nwhatever the label",
            xy=(0.5, np.log(2.0)),
            xytext=(0.5, 1.9),
            ha="center",
            fontsize=11,
            color=GREY,
            arrowprops={"arrowstyle": "-", "color": GREY, "lw": 0.8},
        )
        top = float(max(cost_1.max(), cost_0.max())) * 1.02 if ymax is None else ymax
        # Both branches blow up at the wrong end: one note, an arrow to each end.
        ax.text(
            0.5,
            0.86 * top,
            "confident and wrong:\nthe cost grows without bound",
            ha="center",
            va="center",
            fontsize=11,
            color=GREY,
        )
        for x_from, x_to in ((0.31, 0.035), (0.69, 0.965)):
            ax.annotate(
                "",
                xy=(x_to, 0.86 * top),
                xytext=(x_from, 0.86 * top),
                arrowprops={"arrowstyle": "->", "color": GREY, "lw": 0.9},
            )
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, top)
        ax.set_xticks([0.0, 0.25, 0.5, 0.75, 1.0])
        ax.set_xlabel("φ(z)")
        ax.set_ylabel("J(w)")
        ax.set_title("Cross-entropy loss of a single example", pad=30)
        formula = r"$J(w) = -\,[\,y \log \phi(z) + (1 - y) \log(1 - \phi(z))\,]$"
        _axes_note(ax, 0.5, 1.025, formula, ha="center", va="bottom", fontsize=12)
        ax.legend(loc="upper center", ncols=2, bbox_to_anchor=(0.5, -0.13), handlelength=2.5)
    return fig


def cost_history(
    cost: ArrayLike,
    *,
    held_out: ArrayLike | None = None,
    ax: Axes | None = None,
    log_scale: bool = True,
) -> Figure:
    r"""The mean cross-entropy :math:`J(w)` after each iteration of a training run.

    Parameters
    ----------
    cost : array_like, shape (n_iter,)
        Training cost per iteration, finite and non-negative.
    held_out : array_like, shape (n_iter,), optional
        The cost on held-out data at the same iterations, drawn dashed.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    log_scale : bool, default True
        Logarithmic y axis, which shows the slow final phase of gradient descent.

    Returns
    -------
    matplotlib.figure.Figure
        The figure: one Axes with the training cost (and the held-out cost,
        dashed) against the iteration.

    Examples
    --------
    >>> import logloss as ll
    >>> fig = ll.plot.cost_history([0.69, 0.4, 0.3, 0.25], held_out=[0.69, 0.45, 0.36, 0.33])
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['training set', 'held-out set']
    """
    train = _as_curve(cost, "cost")
    test = None if held_out is None else _as_curve(held_out, "held_out")
    if test is not None and test.shape != train.shape:
        raise ValueError(
            f"`held_out` must have the same length as `cost` ({train.size}); got {test.size}"
        )
    if log_scale and ((train <= 0).any() or (test is not None and (test <= 0).any())):
        raise ValueError("`cost` must be positive for a logarithmic y axis; pass log_scale=False")

    with style():
        fig, ax = figure_and_axes(ax, (7.5, 4.5))
        steps = np.arange(train.size)
        ax.plot(steps, train, color=BLUE, label="training set")
        if test is not None:
            ax.plot(steps, test, color=VERMILLION, linestyle=(0, (4, 2)), label="held-out set")
            # Past the held-out minimum, further descent fits noise in the training set.
            best = int(np.argmin(test))
            if 0 < best < test.size - 1:
                text = f"lowest held-out cost {test[best]:.3g}\nat iteration {best}"
                mark_point(ax, best, test[best], text, offset=28)
        if log_scale:
            readable_log_axis(ax, train if test is None else np.concatenate([train, test]))
        ax.set_xlim(0, max(train.size - 1, 1))
        _integer_ticks(ax)
        ax.set_xlabel("iteration")
        ax.set_ylabel("J(w), mean cross-entropy")
        ax.set_title("Gradient descent on the cross-entropy cost")
        ax.legend(loc="upper right")
    return fig


def _axes_note(
    ax: Axes, x: float, y: float, text: str, *, ha: str, va: str, fontsize: float
) -> None:
    """Grey text at (x, y) in axes coordinates (0 to 1 across and up the Axes)."""
    ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=fontsize, color=GREY)


def _integer_ticks(ax: Axes) -> None:
    """Whole-number ticks on the x axis: there is no iteration 2.5."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _has_penalty(model: Any) -> bool:
    """Whether the model's training objective adds a penalty on the weights to the loss."""
    alpha = getattr(model, "alpha", None)
    if isinstance(alpha, (int, float)) and not isinstance(alpha, bool):
        return alpha > 0
    penalty = getattr(model, "penalty", None)
    if penalty is None or penalty == "none":
        return False
    c = getattr(model, "C", None)
    return not (isinstance(c, (int, float)) and np.isinf(c))


def _as_curve(values: ArrayLike, name: str) -> np.ndarray:
    arr = as_real_array(values, name, np.dtype(np.float64))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D sequence; got shape {arr.shape}")
    check_finite(arr, name)
    if (arr < 0).any():
        raise ValueError(f"`{name}` must be non-negative; got {float(arr.min())!r}")
    return arr


def _recorded_curves(model: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The model's ``loss_curve_`` and (when recorded) ``validation_loss_curve_``, checked."""
    curve = getattr(model, "loss_curve_", None)
    if curve is None:
        raise ValueError(
            f"`model` ({name}) has no loss_curve_: fit it first, or pass an estimator that "
            "records its training history"
        )
    train = _as_curve(curve, "model.loss_curve_")
    val_raw = getattr(model, "validation_loss_curve_", None)
    if val_raw is None or not len(val_raw):
        return train, None
    return train, _as_curve(val_raw, "model.validation_loss_curve_")


def history(model: Any, *, ax: Axes | None = None, log_scale: bool | None = None) -> Figure:
    r"""The training objective of a fitted estimator after each iteration.

    Draws ``model.loss_curve_``, the objective the solver minimised: the mean
    cross-entropy on the training rows plus the penalty on the weights when the
    model has one (``penalty`` with a finite ``C``, or ``alpha > 0``), which is
    what the legend and the y axis then say; and, when the model held out data
    for early stopping, ``model.validation_loss_curve_`` (the plain mean
    cross-entropy on it), with the lowest validation loss marked. The
    iteration axis has whole-number ticks.

    Parameters
    ----------
    model : fitted logloss estimator
        Anything with a non-empty ``loss_curve_``; ``validation_loss_curve_``
        is optional.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    log_scale : bool or None, default None
        Logarithmic y axis (needs positive losses). None chooses it when the
        losses span more than a factor of 3.

    Returns
    -------
    matplotlib.figure.Figure
        The figure: one Axes with the training objective (and the validation
        cross-entropy, its lowest point marked) against the iteration.

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> fig = ll.plot.history(ll.LogisticRegression().fit(X, y))
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['training objective (cross-entropy + penalty)']
    >>> fig.axes[0].get_ylabel()
    'mean cross-entropy + penalty'
    """
    name = type(model).__name__
    train, val = _recorded_curves(model, name)
    values = train if val is None else np.concatenate([train, val])
    if log_scale is None:
        log_scale = bool((values > 0).all() and values.max() > 3.0 * values.min())
    if log_scale and (values <= 0).any():
        raise ValueError(
            "the losses must be positive for a logarithmic y axis; pass log_scale=False"
        )

    with style():
        fig, ax = figure_and_axes(ax, (7.5, 4.5))
        steps = np.arange(1, train.size + 1)
        marker = "o" if train.size <= 30 else None
        penalised = _has_penalty(model)
        what = "training objective (cross-entropy + penalty)" if penalised else "training loss"
        ax.plot(steps, train, color=BLUE, marker=marker, markersize=4, label=what)
        if val is not None:
            vsteps = np.arange(1, val.size + 1)
            ax.plot(
                vsteps,
                val,
                color=VERMILLION,
                linestyle=(0, (4, 2)),
                marker=marker,
                markersize=4,
                label="validation cross-entropy",
            )
            best = int(np.argmin(val))
            text = f"lowest {val[best]:.4g}\nat iteration {best + 1}"
            mark_point(ax, best + 1, val[best], text, offset=26)
        if log_scale:
            readable_log_axis(ax, values)
        ax.set_xlim(0.5, max(train.size, 1) + 0.5)
        _integer_ticks(ax)
        ax.set_xlabel("iteration")
        ylabel = "mean cross-entropy"
        if penalised:
            ylabel += " + penalty" if val is None else " (training: + penalty)"
        ax.set_ylabel(ylabel)
        ax.set_title(f"Training history of {name}")
        summary = f"{train.size} iteration{'s' if train.size != 1 else ''}, final {train[-1]:.4g}"
        _axes_note(ax, 0.99, 0.97, summary, ha="right", va="top", fontsize=11)
        ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.9))
    return fig
