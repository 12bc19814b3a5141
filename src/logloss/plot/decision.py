"""Where a classifier switches class, and how often it confuses one class for another."""

from __future__ import annotations

from collections.abc import Mapping
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
    held_at: Mapping[str, Any] | None = None,
) -> Figure:
    r"""Where a fitted classifier switches class, over two features, with the data on top.

    The model's ``predict_proba`` is evaluated on a `resolution` x `resolution`
    grid spanning the data (plus 5 % on each side). For two classes the
    background shades the probability of ``classes_[1]`` and a line marks
    :math:`p = 0.5`, the decision boundary; for more classes each region takes
    its predicted class's colour, paler where the model is less sure, and the
    boundaries are the contours where the two most probable classes are equally
    probable (smooth lines, not the steps of the grid). The points of `X` are
    drawn in their true class's colour and marker (a random sample of
    `max_points` when there are more), smaller and more transparent the more
    there are. The legend's title says how many rows are drawn of how many, and
    at which values the model's other features were held.

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
    held_at : mapping of str to value, optional
        The features the model takes besides the two drawn, and the value each
        was held at to draw the regions (e.g. a training median); named in the
        figure.

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
            # Class c's region is where p_c beats every other class: its boundary is the
            # zero contour of log p_c - max_{j != c} log p_j, which for a linear model is
            # the linear z_c - z_j near the boundary, so interpolation between grid
            # points puts it where it is, not on the grid's steps.
            logp = np.log(np.clip(proba, 1e-300, None))
            for c in range(k):
                margin = logp[:, c] - np.delete(logp, c, axis=1).max(axis=1)
                margin = margin.reshape(xx.shape)
                if margin.min() < 0.0 < margin.max():
                    ax.contour(xx, yy, margin, levels=[0.0], colors=GREY, linewidths=1.2)
        n_rows = pts.shape[0]
        shown = np.arange(n_rows)
        if shown.size > max_points:
            shown = np.sort(np.random.default_rng(0).choice(shown, max_points, replace=False))
        # Fewer, larger, opaque points for a few hundred rows; smaller and fainter for more.
        crowd = min(1.0, np.sqrt(300.0 / shown.size))
        size, alpha = 22.0 * max(crowd, 0.3), max(crowd, 0.35)
        for i, cls in enumerate(classes):
            member = shown[labels[shown] == cls]
            if member.size:
                ax.scatter(
                    pts[member, 0],
                    pts[member, 1],
                    s=size,
                    color=colours[i],
                    marker=CLASS_MARKERS[i % len(CLASS_MARKERS)],
                    edgecolor="white",
                    linewidth=0.6 * crowd,
                    alpha=alpha,
                    label=str(cls),
                    zorder=3,
                )
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.grid(False)
        ax.set_title(f"Decision regions of {getattr(model, 'display_name', type(model).__name__)}")
        note = _boundary_note(shown.size, n_rows, held_at)
        legend = ax.legend(
            loc="upper left",
            bbox_to_anchor=(0.0, -0.12),
            ncols=min(k, 4),
            frameon=False,
            title=note,
            title_fontsize=9.5,
            alignment="left",
        )
        for handle in legend.legend_handles:
            if handle is not None:
                handle.set_alpha(1.0)
    return fig


def _boundary_note(shown: int, total: int, held_at: Mapping[str, Any] | None) -> str:
    """The legend's title: how many rows are drawn, and where the other features are held.

    Examples
    --------
    >>> print(_boundary_note(2000, 10000, {"age": 41.0, "colour": "White"}))
    2,000 of 10,000 rows drawn (a random sample)
    other features held at: age = 41, colour = White
    """
    if shown < total:
        lines = [f"{shown:,} of {total:,} rows drawn (a random sample)"]
    else:
        lines = [f"all {total:,} rows drawn"]
    if held_at:
        items = [f"{name} = {_short(value)}" for name, value in held_at.items()]
        more = len(items) - 6
        text = ", ".join(items[:6]) + (f" and {more} more" if more > 0 else "")
        lines.append(f"other features held at: {text}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


def confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    classes: ArrayLike | None = None,
    ax: Axes | None = None,
    max_classes: int = 50,
    top: int = 20,
) -> Figure:
    """How often each true class (rows) was predicted as each class (columns).

    Each cell shows its count and its share of the row (the recall of the
    diagonal); the shade follows that share. A share is never rounded to
    0 % or 100 % unless it is exactly that: ``"<1%"`` and ``">99%"`` say so.

    With more than `max_classes` classes a full matrix is unreadable; the
    `top` most frequent true classes are drawn and every other class is
    pooled into one row and column, ``other``, so that the matrix keeps every
    example. The title says how many classes were pooled; the accuracy in the
    title is that of all classes.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (n,)
        True and predicted labels.
    classes : array_like, optional
        Row and column order (default: the sorted labels of both).
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    max_classes : int, default 50
        Most classes drawn one by one.
    top : int, default 20
        Classes drawn one by one (the most frequent true classes, in `classes`
        order) when there are more than `max_classes`.

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
    >>> many = ll.plot.confusion_matrix([f"c{i:02d}" for i in range(60)], ["c00"] * 60, top=5)
    >>> [t.get_text() for t in many.axes[0].get_yticklabels()][-2:]
    ['c04', 'other']
    """
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if t.ndim != 1 or p.shape != t.shape or t.size == 0:
        raise ValueError(
            f"`y_true` and `y_pred` must be non-empty 1-D arrays of one length; got shapes "
            f"{t.shape} and {p.shape}"
        )
    for value, name, low in ((max_classes, "max_classes", 2), (top, "top", 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"`{name}` must be an integer >= {low}; got {value!r}")
    labels = np.unique(np.concatenate([t, p])) if classes is None else np.asarray(classes)
    k = labels.size
    index = {v: i for i, v in enumerate(labels.tolist())}
    try:
        ti = np.array([index[v] for v in t.tolist()])
        pi = np.array([index[v] for v in p.tolist()])
    except KeyError as exc:
        raise ValueError(f"label {exc.args[0]!r} is not among `classes`") from None
    accuracy = float(np.mean(ti == pi))
    names = [str(v) for v in labels.tolist()]
    title = f"Confusion matrix (accuracy {accuracy:.1%})"
    if k > max_classes and top < k:
        ti, pi, names, pooled = _pool_rare_classes(ti, pi, names, top)
        k = len(names)
        title = (
            f"Confusion matrix (accuracy {accuracy:.1%})\n{top} most frequent of "
            f"{top + pooled} classes; {pooled} pooled as 'other'"
        )
    counts = np.bincount(ti * k + pi, minlength=k * k).reshape(k, k)
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0)

    with style():
        size = min(3.0 + 0.7 * k, 12.0)
        fig, ax = figure_and_axes(ax, (size + 1.0, size))
        image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
        for i in range(k):
            for j in range(k):
                if k > 14 and counts[i, j] == 0:
                    continue  # a large matrix is mostly zeros: empty cells read faster
                dark = share[i, j] > 0.6
                ax.text(
                    j,
                    i,
                    f"{counts[i, j]:,}\n{_share_text(counts[i, j], int(rows[i, 0]))}",
                    ha="center",
                    va="center",
                    fontsize=10 if k <= 8 else 8 if k <= 14 else 6.5,
                    color="white" if dark else "#1A1A1A",
                )
        long_names = max(map(len, names)) > 6
        ax.set_xticks(
            range(k),
            names,
            rotation=45 if long_names else 0,
            ha="right" if long_names else "center",
        )
        ax.set_yticks(range(k), names)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.grid(False)
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_title(title)
        fig.colorbar(image, ax=ax, shrink=0.8).set_label("share of the true class")
    return fig


def _share_text(count: int, total: int) -> str:
    """`count` / `total` as a whole percentage that is 0 % or 100 % only when exact.

    Examples
    --------
    >>> _share_text(1090, 1095), _share_text(5, 1095), _share_text(0, 7), _share_text(3, 4)
    ('>99%', '<1%', '0%', '75%')
    """
    if total <= 0 or count == 0:
        return "0%"
    if count == total:
        return "100%"
    share = count / total
    if share < 0.005:
        return "<1%"
    if share >= 0.995:
        return ">99%"
    return f"{share:.0%}"


def _pool_rare_classes(
    ti: np.ndarray, pi: np.ndarray, names: list[str], top: int
) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """Codes over the `top` most frequent true classes plus one pooled ``other`` class."""
    k = len(names)
    freq = np.bincount(ti, minlength=k)
    # Most frequent first; a stable sort keeps the given order among equal counts.
    kept = np.sort(np.argsort(-freq, kind="stable")[:top])
    new_code = np.full(k, top, dtype=np.intp)  # every class not kept becomes "other"
    new_code[kept] = np.arange(top)
    shown = [names[i] for i in kept]
    pool = "other" if "other" not in shown else "(other)"
    return new_code[ti], new_code[pi], [*shown, pool], k - top
