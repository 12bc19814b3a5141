"""Figures that explain cross-entropy, drawn from values logloss computes.

Every function draws on a Matplotlib ``Axes`` (a new ``Figure`` when none is
given) and returns the ``Figure``. New figures are built with
``matplotlib.figure.Figure`` directly, not through ``pyplot``: nothing here
opens a window, touches pyplot's global figure list, or needs a display, so
the module works the same in a script, a notebook, a test and a server.
:func:`save_figure` writes PNG or SVG.

Matplotlib is imported inside the functions, so ``import logloss`` stays light.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_real_array, check_finite, check_scalar

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "loss_curve",
    "cost_history",
    "history",
    "calibration",
    "decision_boundary",
    "confusion_matrix",
    "save_figure",
]

# Okabe & Ito's palette: distinguishable under the common colour-vision deficiencies.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREEN = "#009E73"
GREY = "#4D4D4D"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
# One colour per class, in this order (then repeated).
CLASS_COLOURS = (BLUE, VERMILLION, GREEN, ORANGE, SKY_BLUE, PURPLE, YELLOW, GREY)
CLASS_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

# The look shared by every figure: large readable text, a light grid, no top/right frame.
_STYLE: dict[str, Any] = {
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.titleweight": "bold",
    "axes.labelsize": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": GREY,
    "axes.grid": True,
    "grid.color": "#D9D9D9",
    "grid.linewidth": 0.8,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "xtick.color": GREY,
    "ytick.color": GREY,
    "legend.fontsize": 12,
    "legend.frameon": False,
    "lines.linewidth": 2.6,
    "lines.solid_capstyle": "round",
    "svg.hashsalt": "logloss",  # stable ids: the same figure gives the same SVG bytes
}

_FORMATS = {".png": "png", ".svg": "svg"}


@contextlib.contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        yield


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The given Axes and its Figure, or a new Figure (not registered with pyplot)."""
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"`ax` must be a matplotlib Axes or None; got {type(ax).__name__}")
    try:
        fig = ax.get_figure(root=True)  # Matplotlib >= 3.10: the top figure, not a subfigure
    except TypeError:  # pragma: no cover - older Matplotlib has no subfigure distinction here
        fig = ax.get_figure()
    return fig, ax


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
    from .losses import binary_cross_entropy_with_logits

    if ymax is not None:
        ymax = check_scalar(ymax, "ymax", low=0.0, low_inclusive=False)

    z = np.arange(-10.0, 10.0, 0.1)
    phi = 1.0 / (1.0 + np.exp(-z))  # |z| <= 10: no overflow, and phi is only the x coordinate
    # J for y = 1 is softplus(-z) = -log(phi); for y = 0 it is softplus(z) = -log(1 - phi).
    cost_1 = binary_cross_entropy_with_logits(z, np.ones_like(z), reduction="none")
    cost_0 = binary_cross_entropy_with_logits(z, np.zeros_like(z), reduction="none")

    with _style():
        fig, ax = _figure_and_axes(ax, (7.5, 5.0))
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
        ax.text(
            0.5,
            1.025,
            r"$J(w) = -\,[\,y \log \phi(z) + (1 - y) \log(1 - \phi(z))\,]$",
            transform=ax.transAxes,
            ha="center",
            va="bottom",
            fontsize=12,
            color=GREY,
        )
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

    with _style():
        fig, ax = _figure_and_axes(ax, (7.5, 4.5))
        steps = np.arange(train.size)
        ax.plot(steps, train, color=BLUE, label="training set")
        if test is not None:
            ax.plot(steps, test, color=VERMILLION, linestyle=(0, (4, 2)), label="held-out set")
            # Past the held-out minimum, further descent fits noise in the training set.
            best = int(np.argmin(test))
            if 0 < best < test.size - 1:
                ax.scatter([best], [test[best]], s=36, color=GREY, zorder=3)
                ax.annotate(
                    f"lowest held-out cost {test[best]:.3g}\nat iteration {best}",
                    xy=(best, test[best]),
                    xytext=(0, 28),
                    textcoords="offset points",
                    ha="center",
                    fontsize=11,
                    color=GREY,
                    arrowprops={"arrowstyle": "-", "color": GREY, "lw": 0.8},
                )
        if log_scale:
            _readable_log_axis(ax, train if test is None else np.concatenate([train, test]))
        ax.set_xlim(0, max(train.size - 1, 1))
        ax.set_xlabel("iteration")
        ax.set_ylabel("J(w), mean cross-entropy")
        ax.set_title("Gradient descent on the cross-entropy cost")
        ax.legend(loc="upper right")
    return fig


def _readable_log_axis(ax: Axes, values: np.ndarray) -> None:
    """A log y axis labelled with plain decimals (0.05, 0.1, 0.2), not powers of ten."""
    from matplotlib.ticker import FixedLocator, NullFormatter, StrMethodFormatter

    ax.set_yscale("log")
    low, high = float(values.min()), float(values.max())
    decades = 10.0 ** np.arange(np.floor(np.log10(low)), np.ceil(np.log10(high)) + 1)
    ticks = np.outer(decades, [1.0, 2.0, 5.0]).ravel()
    ticks = ticks[(ticks >= low / 1.05) & (ticks <= high * 1.05)]
    if ticks.size >= 2:
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="minor", color="#EEEEEE", linewidth=0.6)


def _as_curve(values: ArrayLike, name: str) -> np.ndarray:
    arr = as_real_array(values, name, np.dtype(np.float64))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D sequence; got shape {arr.shape}")
    check_finite(arr, name)
    if (arr < 0).any():
        raise ValueError(f"`{name}` must be non-negative; got {arr.min()!r}")
    return arr


def history(model: Any, *, ax: Axes | None = None, log_scale: bool | None = None) -> Figure:
    r"""The training objective of a fitted estimator after each iteration.

    Draws ``model.loss_curve_`` (the penalised mean cross-entropy the solver
    minimised) and, when the model held out data for early stopping,
    ``model.validation_loss_curve_`` (the plain mean cross-entropy on it), with
    the lowest validation loss marked.

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

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> fig = ll.plot.history(ll.LogisticRegression().fit(X, y))
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['training objective']
    """
    name = type(model).__name__
    curve = getattr(model, "loss_curve_", None)
    if curve is None:
        raise ValueError(
            f"`model` ({name}) has no loss_curve_: fit it first, or pass an estimator that "
            "records its training history"
        )
    train = _as_curve(curve, "model.loss_curve_")
    val_raw = getattr(model, "validation_loss_curve_", None)
    val = (
        _as_curve(val_raw, "model.validation_loss_curve_")
        if val_raw is not None and len(val_raw)
        else None
    )
    values = train if val is None else np.concatenate([train, val])
    if log_scale is None:
        log_scale = bool((values > 0).all() and values.max() > 3.0 * values.min())
    if log_scale and (values <= 0).any():
        raise ValueError(
            "the losses must be positive for a logarithmic y axis; pass log_scale=False"
        )

    with _style():
        fig, ax = _figure_and_axes(ax, (7.5, 4.5))
        steps = np.arange(1, train.size + 1)
        marker = "o" if train.size <= 30 else None
        ax.plot(steps, train, color=BLUE, marker=marker, markersize=4, label="training objective")
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
            ax.scatter([best + 1], [val[best]], s=36, color=GREY, zorder=3)
            ax.annotate(
                f"lowest {val[best]:.4g}\\nat iteration {best + 1}",
                xy=(best + 1, val[best]),
                xytext=(0, 26),
                textcoords="offset points",
                ha="center",
                fontsize=11,
                color=GREY,
                arrowprops={"arrowstyle": "-", "color": GREY, "lw": 0.8},
            )
        if log_scale:
            _readable_log_axis(ax, values)
        ax.set_xlim(0.5, max(train.size, 1) + 0.5)
        ax.set_xlabel("iteration")
        ax.set_ylabel("mean cross-entropy")
        ax.set_title(f"Training history of {name}")
        ax.text(
            0.99,
            0.97,
            f"{train.size} iteration{'s' if train.size != 1 else ''}, final {train[-1]:.4g}",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=11,
            color=GREY,
        )
        ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.9))
    return fig


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

    Examples
    --------
    >>> import logloss as ll
    >>> fig = ll.plot.calibration([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], n_bins=5)
    >>> fig.axes[0].get_ylabel(), fig.axes[1].get_xlabel()
    ('observed frequency of 1', 'predicted probability of 1')
    """
    from .report import as_class_probabilities, reliability_bins

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

    with _style():
        if ax is None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(6.5, 6.5), layout="constrained")
            ax, ax_hist = fig.subplots(2, 1, height_ratios=(3, 1), sharex=True)
        else:
            fig, ax = _figure_and_axes(ax, (6.5, 5.0))
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


def decision_boundary(
    model: Any,
    X: ArrayLike,
    y: ArrayLike,
    *,
    ax: Axes | None = None,
    resolution: int = 200,
    feature_names: tuple[str, str] | None = None,
    max_points: int = 2000,
) -> Figure:
    r"""Where a fitted classifier switches class, over two features, with the data on top.

    The model's ``predict_proba`` is evaluated on a `resolution` x `resolution`
    grid spanning the data (plus 5 % on each side). For two classes the
    background shades the probability of ``classes_[1]`` and a line marks
    :math:`p = 0.5`, the decision boundary; for more classes each region takes
    its predicted class's colour, paler where the model is less sure. The
    points of `X` are drawn in their true class's colour and marker (a random
    sample of `max_points` when there are more).

    Parameters
    ----------
    model : fitted classifier
        Has ``classes_`` and ``predict_proba`` taking arrays of shape (m, 2); its
        ``display_name`` attribute, if any, names it in the title.
    X : array_like of shape (n, 2)
        The two features the model takes.
    y : array_like of shape (n,)
        True labels, among ``model.classes_``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    resolution : int, default 200
        Grid points along each axis, from 10 to 1000.
    feature_names : (str, str), optional
        Axis labels (default ``"x1"``, ``"x2"``).
    max_points : int, default 2000
        Most points drawn.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> y = np.array(["a", "a", "b", "b"])
    >>> fig = ll.plot.decision_boundary(ll.LogisticRegression().fit(X, y), X, y)
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('x1', 'x2')
    """
    from matplotlib.colors import LinearSegmentedColormap, to_rgb

    if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
        raise TypeError(
            "`model` must be a fitted classifier with predict_proba and classes_; "
            f"got {type(model).__name__}"
        )
    pts = as_real_array(X, "X", np.dtype(np.float64))
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] == 0:
        raise ValueError(f"`X` must have shape (n, 2) with n >= 1; got {pts.shape}")
    check_finite(pts, "X")
    labels = np.asarray(y)
    if labels.shape != (pts.shape[0],):
        raise ValueError(f"`y` must have shape ({pts.shape[0]},); got {labels.shape}")
    classes = np.asarray(model.classes_)
    unknown = np.setdiff1d(np.unique(labels), classes)
    if unknown.size:
        raise ValueError(
            f"`y` holds labels the model does not know: {unknown.tolist()[:5]}; "
            f"its classes are {classes.tolist()}"
        )
    if (
        isinstance(resolution, bool)
        or not isinstance(resolution, (int, np.integer))
        or not 10 <= resolution <= 1000
    ):
        raise ValueError(f"`resolution` must be an integer in [10, 1000]; got {resolution!r}")
    names = feature_names or ("x1", "x2")

    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    gx = np.linspace(lo[0], hi[0], resolution)
    gy = np.linspace(lo[1], hi[1], resolution)
    xx, yy = np.meshgrid(gx, gy)
    proba = np.asarray(model.predict_proba(np.column_stack([xx.ravel(), yy.ravel()])))
    k = classes.size
    if proba.shape != (xx.size, k):
        raise ValueError(
            f"`model.predict_proba` returned shape {proba.shape}; expected {(xx.size, k)}"
        )
    colours = [CLASS_COLOURS[i % len(CLASS_COLOURS)] for i in range(k)]

    with _style():
        fig, ax = _figure_and_axes(ax, (7.0, 6.0))
        if k == 2:
            cmap = LinearSegmentedColormap.from_list(
                "logloss_pair", [colours[0], "white", colours[1]]
            )
            p1 = proba[:, 1].reshape(xx.shape)
            mesh = ax.pcolormesh(
                xx,
                yy,
                p1,
                cmap=cmap,
                vmin=0.0,
                vmax=1.0,
                shading="auto",
                alpha=0.55,
                rasterized=True,
            )
            if p1.min() < 0.5 < p1.max():
                ax.contour(xx, yy, p1, levels=[0.5], colors=GREY, linewidths=1.6)
            bar = fig.colorbar(mesh, ax=ax, shrink=0.85)
            bar.set_label(f"P({classes[1]})")
        else:
            top = proba.argmax(axis=1).reshape(xx.shape)
            conf = proba.max(axis=1).reshape(xx.shape)
            rgb = np.array([to_rgb(c) for c in colours])[top]
            # Paler where the model is unsure: blend towards white as confidence falls to 1/k.
            strength = ((conf - 1.0 / k) / (1.0 - 1.0 / k)).clip(0.0, 1.0)[..., None]
            image = 1.0 - (0.25 + 0.35 * strength) * (1.0 - rgb)
            ax.imshow(
                image,
                origin="lower",
                extent=(lo[0], hi[0], lo[1], hi[1]),
                aspect="auto",
                interpolation="nearest",
            )
            ax.contour(xx, yy, top, levels=np.arange(k) + 0.5, colors=GREY, linewidths=1.2)
        shown = np.arange(pts.shape[0])
        if shown.size > max_points:
            shown = np.sort(np.random.default_rng(0).choice(shown, max_points, replace=False))
        for i, cls in enumerate(classes):
            member = shown[labels[shown] == cls]
            if member.size:
                ax.scatter(
                    pts[member, 0],
                    pts[member, 1],
                    s=22,
                    color=colours[i],
                    marker=CLASS_MARKERS[i % len(CLASS_MARKERS)],
                    edgecolor="white",
                    linewidth=0.6,
                    label=str(cls),
                    zorder=3,
                )
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.grid(False)
        ax.set_title(f"Decision regions of {getattr(model, 'display_name', type(model).__name__)}")
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.12), ncols=min(k, 4), frameon=False)
    return fig


def confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    classes: ArrayLike | None = None,
    ax: Axes | None = None,
) -> Figure:
    """How often each true class (rows) was predicted as each class (columns).

    Each cell shows its count and its share of the row (the recall of the
    diagonal); the shade follows that share.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (n,)
        True and predicted labels.
    classes : array_like, optional
        Row and column order (default: the sorted labels of both).
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import logloss as ll
    >>> fig = ll.plot.confusion_matrix(["a", "b", "b"], ["a", "b", "a"])
    >>> fig.axes[0].get_ylabel()
    'true class'
    """
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if t.ndim != 1 or p.shape != t.shape or t.size == 0:
        raise ValueError(
            f"`y_true` and `y_pred` must be non-empty 1-D arrays of one length; got shapes "
            f"{t.shape} and {p.shape}"
        )
    labels = np.unique(np.concatenate([t, p])) if classes is None else np.asarray(classes)
    k = labels.size
    if k > 50:
        raise ValueError(f"a confusion matrix of {k} classes is unreadable; at most 50 are drawn")
    index = {v: i for i, v in enumerate(labels.tolist())}
    try:
        ti = np.array([index[v] for v in t.tolist()])
        pi = np.array([index[v] for v in p.tolist()])
    except KeyError as exc:
        raise ValueError(f"label {exc.args[0]!r} is not among `classes`") from None
    counts = np.bincount(ti * k + pi, minlength=k * k).reshape(k, k)
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0)

    with _style():
        size = min(3.0 + 0.7 * k, 12.0)
        fig, ax = _figure_and_axes(ax, (size + 1.0, size))
        image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
        for i in range(k):
            for j in range(k):
                dark = share[i, j] > 0.6
                ax.text(
                    j,
                    i,
                    f"{counts[i, j]:,}\n{share[i, j]:.0%}",
                    ha="center",
                    va="center",
                    fontsize=10 if k <= 8 else 8,
                    color="white" if dark else "#1A1A1A",
                )
        names = [str(v) for v in labels.tolist()]
        ax.set_xticks(
            range(k),
            names,
            rotation=45 if max(map(len, names)) > 6 else 0,
            ha="right" if max(map(len, names)) > 6 else "center",
        )
        ax.set_yticks(range(k), names)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.grid(False)
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
        accuracy = np.trace(counts) / counts.sum()
        ax.set_title(f"Confusion matrix (accuracy {accuracy:.1%})")
        fig.colorbar(image, ax=ax, shrink=0.8).set_label("share of the true class")
    return fig


def save_figure(fig: Figure, path: str | Path, *, dpi: float = 150.0) -> Path:
    """Write `fig` to `path` as PNG or SVG, chosen by the file's suffix.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, e.g. from :func:`loss_curve`.
    path : str or path-like
        Ends in ``.png`` or ``.svg`` (any case). Its directory must exist; an
        existing file is overwritten.
    dpi : float, default 150
        Resolution of a PNG (an SVG is resolution-independent).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If the suffix is neither ``.png`` nor ``.svg``.
    FileNotFoundError
        If the directory of `path` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib, logloss as ll
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = ll.plot.save_figure(ll.plot.loss_curve(), pathlib.Path(tmp) / "loss.svg")
    ...     out.read_text()[:5]
    '<?xml'
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"`fig` must be a matplotlib Figure; got {type(fig).__name__}")
    dpi = check_scalar(dpi, "dpi", low=1.0)
    target = Path(path)
    fmt = _FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"`path` must end in .png or .svg; got {str(path)!r}"
            + (f" (suffix {target.suffix!r})" if target.suffix else " (no suffix)")
        )
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"cannot write `path` {str(target)!r}: its directory {str(folder)!r} does not exist"
        )
    # No creation date or software version in the file: the same figure gives the same bytes.
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    with _style():
        fig.savefig(target, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
    return target
