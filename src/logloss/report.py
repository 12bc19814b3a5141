"""The HTML report of a fitted model: one self-contained page, rendered here and only here.

:func:`write_report` writes ``index.html``: the metrics table, the training
history, the calibration diagram and the confusion matrix, with the figures
inline as SVG, no scripts and no external resources. The numbers come from
:mod:`logloss.metrics` (:func:`~logloss.metrics.evaluation.evaluate`) and the
figures from :mod:`logloss.plot`; this module computes nothing of its own.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from numpy.typing import ArrayLike

from . import plot
from ._version import __version__
from .metrics.calibration import N_BINS
from .metrics.evaluation import as_class_probabilities
from .plot._style import style

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

__all__ = ["write_report", "figure_svg"]


_CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1a1a1a; max-width: 980px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.sub { color: #4d4d4d; margin-top: 0; }
table { border-collapse: collapse; margin: .8rem 0; }
th, td { padding: .35rem .9rem; text-align: right; border-bottom: 1px solid #e5e5e5; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #4d4d4d; }
tr.baseline td { color: #6b6b6b; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1.2rem; }
dt { font-weight: 600; } dd { margin: 0; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #4d4d4d; font-size: .92rem; }
ul.notes li { margin: .2rem 0; }
footer { margin-top: 3rem; color: #6b6b6b; font-size: .85rem; }
"""


def figure_svg(fig: Figure, prefix: str) -> str:
    """`fig` as an inline ``<svg>`` element whose ids all start with `prefix`.

    Matplotlib names glyphs and clip paths by content, so two figures in one
    page would repeat ids; the prefix keeps every id unique in the document.
    """
    buffer = io.StringIO()
    with style():
        fig.savefig(buffer, format="svg", metadata={"Date": None}, facecolor="white")
    text = buffer.getvalue()
    start = text.find("<svg")
    if start < 0:  # pragma: no cover - Matplotlib always writes an <svg> element
        raise RuntimeError("Matplotlib wrote no <svg> element")
    text = text[start:]
    # Matplotlib's RDF block names its web site; the page needs no outside references.
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)
    return text


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "int":
        return f"{value:,}"
    if kind == "pct":
        return f"{value:.1%}"
    return f"{value:.4f}"


METRIC_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("n", "examples", "int"),
    ("log_loss", "log loss", "num"),
    ("baseline_log_loss", "baseline log loss", "num"),
    ("accuracy", "accuracy", "pct"),
    ("roc_auc", "ROC AUC", "num"),
    ("brier", "Brier", "num"),
    ("calibration_error", "calibration error", "num"),
)


def _metrics_html(scores: Mapping[str, Mapping[str, Any]]) -> str:
    binary = any(s.get("roc_auc") is not None for s in scores.values())
    cols = [c for c in METRIC_COLUMNS if binary or c[0] != "roc_auc"]
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in cols)
    rows = []
    for split, s in scores.items():
        cells = "".join(f"<td>{_fmt(s.get(key), kind)}</td>" for key, _, kind in cols)
        rows.append(f"<tr><td>{html.escape(split)}</td>{cells}</tr>")
    return (
        f"<table><thead><tr><th>data</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def write_report(
    out_dir: str | os.PathLike,
    *,
    title: str,
    scores: Mapping[str, Mapping[str, Any]],
    details: Sequence[tuple[str, str]] = (),
    notes: Sequence[str] = (),
    model: Any = None,
    y_true: ArrayLike | None = None,
    y_prob: ArrayLike | None = None,
    classes: ArrayLike | None = None,
    evaluated_on: str = "held-out data",
) -> Path:
    """Write ``out_dir/index.html``: metrics, training history, calibration, confusion matrix.

    The page is one file: the figures are inline SVG, the styles inline CSS,
    and a Content-Security-Policy forbids loading anything else, so it opens
    the same offline, attached to an e-mail, or served from anywhere.

    Parameters
    ----------
    out_dir : str or path-like
        Folder to write into; created (with parents) if missing.
    title : str
        The page's heading.
    scores : mapping of str to dict
        Rows of the metrics table, e.g. ``{"training": evaluate(...), "held-out": ...}``
        with :func:`logloss.metrics.evaluation.evaluate`.
    details : sequence of (str, str)
        Facts listed under the heading (model, data, features, ...).
    notes : sequence of str
        Sentences about the data (imputations, dropped rows, warnings).
    model : fitted estimator, optional
        Its ``loss_curve_`` gives the training-history figure.
    y_true, y_prob, classes : optional
        Labels and probabilities for the calibration diagram and the confusion
        matrix (as for :func:`logloss.metrics.evaluation.evaluate`).
    evaluated_on : str
        What `y_true` is, for the captions.

    Returns
    -------
    pathlib.Path
        The ``index.html`` written.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"report folder {str(out)!r} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)

    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="sub">Written by logloss {html.escape(__version__)} on '
        f"{_dt.date.today().isoformat()}.</p>",
    ]
    if details:
        items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in details)
        sections.append(f"<dl>{items}</dl>")
    sections.append("<h2>Scores</h2>")
    sections.append(_metrics_html(scores))
    sections.append(
        '<p class="sub">Log loss is the mean cross-entropy in nats (lower is better); the '
        "baseline predicts the training class frequencies for every example. Calibration "
        f"error is the expected calibration error over {N_BINS} bins.</p>"
    )
    if notes:
        sections.append("<h2>Notes on the data</h2>")
        sections.append(
            '<ul class="notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"
        )

    figures: list[tuple[str, str, Figure]] = []
    if model is not None and getattr(model, "loss_curve_", None):
        figures.append(
            (
                "Training history",
                "The objective the solver minimised, after each iteration.",
                plot.history(model),
            )
        )
    if y_true is not None and y_prob is not None:
        codes, proba, cls = as_class_probabilities(y_true, y_prob, classes)
        figures.append(
            (
                "Calibration",
                f"Reliability diagram on the {evaluated_on}: points on the diagonal mean that "
                "events said to happen with probability p happen a fraction p of the time.",
                plot.calibration(cls[codes], proba, classes=cls, n_bins=N_BINS),
            )
        )
        figures.append(
            (
                "Confusion matrix",
                f"True class (rows) against predicted class (columns) on the {evaluated_on}.",
                plot.confusion_matrix(cls[codes], cls[proba.argmax(axis=1)], classes=cls),
            )
        )
    for i, (heading, caption, fig) in enumerate(figures):
        svg = figure_svg(fig, prefix=f"f{i}-")
        sections.append(f"<h2>{html.escape(heading)}</h2>")
        sections.append(f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>")

    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + f"\n<footer>logloss {html.escape(__version__)}</footer>\n</body>\n</html>\n"
    )
    target = out / "index.html"
    target.write_text(page, encoding="utf-8")
    return target
