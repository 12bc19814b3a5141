"""Where a classifier switches class, and how often it confuses one class for another."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_real_array, check_finite
from ._style import CLASS_COLOURS, CLASS_MARKERS, GREY, figure_and_axes, style

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["decision_boundary", "confusion_matrix"]


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
        The figure: the probability (two classes) or class regions with the
        points on top; for two classes a second Axes holds the colour bar.

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

    with style():
        fig, ax = figure_and_axes(ax, (7.0, 6.0))
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
        The figure: the shaded matrix with a count and a share in each cell,
        and a colour bar.

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

    with style():
        size = min(3.0 + 0.7 * k, 12.0)
        fig, ax = figure_and_axes(ax, (size + 1.0, size))
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
