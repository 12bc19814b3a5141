"""The look every logloss figure shares, and the writing of figures to files.

Colours are Okabe & Ito's palette; :func:`style` applies the shared Matplotlib
settings; :func:`figure_and_axes` gives the Axes to draw on (a new ``Figure``
built directly, never through ``pyplot``: nothing here opens a window or needs a
display); :func:`save_figure` writes PNG or SVG with reproducible bytes.
Matplotlib is imported inside the functions, so ``import logloss`` stays light.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_scalar

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["save_figure", "style", "figure_and_axes", "mark_point", "readable_log_axis"]

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
STYLE: dict[str, Any] = {
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
def style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
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


def mark_point(ax: Axes, x: float, y: float, text: str, *, offset: float) -> None:
    """A grey dot at (x, y) with `text` centred `offset` points above it, joined by a line."""
    ax.scatter([x], [y], s=36, color=GREY, zorder=3)
    ax.annotate(
        text,
        xy=(x, y),
        xytext=(0, offset),
        textcoords="offset points",
        ha="center",
        fontsize=11,
        color=GREY,
        arrowprops={"arrowstyle": "-", "color": GREY, "lw": 0.8},
    )


def readable_log_axis(ax: Axes, values: Any) -> None:
    """A log y axis labelled with plain decimals (0.05, 0.1, 0.2), not powers of ten."""
    from matplotlib.ticker import FixedLocator, NullFormatter, StrMethodFormatter

    values = np.asarray(values, dtype=np.float64)
    ax.set_yscale("log")
    low, high = float(values.min()), float(values.max())
    decades = 10.0 ** np.arange(np.floor(np.log10(low)), np.ceil(np.log10(high)) + 1)
    ticks = np.outer(decades, [1.0, 2.0, 5.0]).ravel()
    ticks = ticks[(ticks >= low / 1.05) & (ticks <= high * 1.05)]
    if ticks.size < 2:  # a span inside one 1-2-5 step: four ticks spread over it
        ticks = np.unique([float(f"{v:.3g}") for v in np.geomspace(low, high, 4)])
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
    # Never "6×10⁻¹": minor ticks are unlabelled (a span inside one decade keeps 1-2-5 labels).
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="minor", color="#EEEEEE", linewidth=0.6)


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
        `path` as a ``Path``, now holding the figure.

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
    with style():
        fig.savefig(target, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
    return target
