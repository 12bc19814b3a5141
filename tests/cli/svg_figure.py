"""What an SVG written by matplotlib shows: the text and the marks of each axes.

Written with ``svg.fonttype: none`` (set by :func:`svg_text_rc`), matplotlib keeps
every string as a ``<text>`` element, and groups each artist as ``<g id="kind_N">``:
``axes_N`` holds ``text_N`` (title, labels, notes), ``legend_N``, ``line2d_N``
(a marker is a ``<use>``), ``patch_N`` (a bar; spines are unfilled ones) and
``PathCollection_N`` (scatter points, one ``<use>`` each); tick labels sit in
``xtick_N``/``ytick_N``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class AxesMarks:
    texts: list[str] = field(default_factory=list)  # title, axis labels, notes (not ticks)
    legend: list[str] = field(default_factory=list)
    line_markers: list[int] = field(default_factory=list)  # markers of each line drawn
    bars: int = 0  # patches drawn in the axes, its background left out
    points: int = 0  # scatter points


def _kind(element: ET.Element) -> str:
    return re.sub(r"_\d+$", "", element.get("id", ""))


def _texts(element: ET.Element) -> list[str]:
    return [t.text for t in element.iter(f"{SVG}text") if t.text]


def _unfilled(group: ET.Element) -> bool:
    path = group.find(f"{SVG}path")
    return path is not None and "fill: none" in (path.get("style") or "")


def _walk(group: ET.Element, marks: AxesMarks) -> None:
    for child in group.findall(f"{SVG}g"):
        kind = _kind(child)
        if kind in ("xtick", "ytick", "axes"):
            continue  # tick labels; a nested axes is read on its own
        if kind == "text":
            marks.texts += _texts(child)
        elif kind == "legend":
            marks.legend += _texts(child)
        elif kind == "line2d":
            marks.line_markers.append(len(child.findall(f".//{SVG}use")))
        elif kind == "patch" and not _unfilled(child):
            marks.bars += 1  # spines are unfilled patches: not counted
        elif kind == "PathCollection":
            marks.points += len(child.findall(f".//{SVG}use"))
        else:
            _walk(child, marks)  # matplotlib.axis_N and other containers


def read_axes(path: str | Path) -> list[AxesMarks]:
    """One :class:`AxesMarks` per axes of the figure in `path`, in drawing order."""
    root = ET.parse(path).getroot()
    out = []
    for group in root.iter(f"{SVG}g"):
        if _kind(group) == "axes":
            marks = AxesMarks()
            _walk(group, marks)
            marks.bars -= 1  # the axes' own background
            out.append(marks)
    return out


def svg_text_rc(folder: Path) -> Path:
    """A matplotlibrc that keeps text as text in SVG files (for a subprocess: MATPLOTLIBRC)."""
    path = folder / "matplotlibrc"
    path.write_text("svg.fonttype: none\n")
    return path
