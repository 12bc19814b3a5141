"""The HTML report of a fitted model: one self-contained page, rendered here and only here.

:func:`write_report` writes ``index.html``: the metrics table, the training
history, the calibration diagram, the confusion matrix and the largest
coefficients by feature name, with the figures inline as SVG, no scripts and no
external resources. The numbers come from :mod:`logloss.metrics`
(:func:`~logloss.metrics.evaluation.evaluate`) and the figures from
:mod:`logloss.plot`. A figure that cannot be drawn becomes a sentence in the
page: no figure makes the report fail. :class:`Coefficients` (the coefficients
of a linear model by feature name) also feeds ``logloss coef``.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import plot
from ._version import __version__
from .metrics.calibration import N_BINS
from .metrics.evaluation import as_class_probabilities
from .plot._style import style

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

__all__ = ["write_report", "figure_svg", "Coefficients"]


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
    ("baseline_accuracy", "majority-class accuracy", "pct"),
    ("roc_auc", "ROC AUC", "num"),
    ("brier", "Brier", "num"),
    ("calibration_error", "top-label ECE", "num"),
)
# Columns left out when no row of the scores has them.
_OPTIONAL_COLUMNS = ("roc_auc", "baseline_accuracy")


def _metrics_html(scores: Mapping[str, Mapping[str, Any]]) -> str:
    present = {
        key for key in _OPTIONAL_COLUMNS if any(s.get(key) is not None for s in scores.values())
    }
    cols = [c for c in METRIC_COLUMNS if c[0] not in _OPTIONAL_COLUMNS or c[0] in present]
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in cols)
    rows = []
    for split, s in scores.items():
        cells = "".join(f"<td>{_fmt(s.get(key), kind)}</td>" for key, _, kind in cols)
        rows.append(f"<tr><td>{html.escape(split)}</td>{cells}</tr>")
    return (
        f"<table><thead><tr><th>data</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


class Coefficients:
    r"""A linear model's coefficients by feature name, largest first.

    For two classes a :class:`~logloss.LogisticRegression` has one column, the
    change of the log-odds of ``classes_[1]`` per unit of the feature; a
    :class:`~logloss.SoftmaxRegression` has one column per class, the change of
    that class's logit :math:`z_k = w_k^\top x + b_k`. Features are ranked by
    their largest absolute coefficient over the columns.

    Parameters
    ----------
    model : fitted estimator
        Has ``coef_`` (shape (p,), (1, p) or (K, p)), ``intercept_`` and ``classes_``.
    feature_names : sequence of str, optional
        One name per column of ``coef_`` (default: the model's
        ``feature_names_in_``, else ``x0``, ``x1``, ...).

    Examples
    --------
    >>> import numpy as np, logloss as ll
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> c = Coefficients(ll.LogisticRegression().fit(X, [0, 0, 1, 1]), ["age", "smoker"])
    >>> c.columns, [name for name, _ in c.largest(1)]
    (['1'], ['age'])
    """

    def __init__(self, model: Any, feature_names: Sequence[str] | None = None) -> None:
        coef = getattr(model, "coef_", None)
        if coef is None:
            raise ValueError(
                f"a {type(model).__name__} has no coefficients to show (only the linear "
                "models LogisticRegression and SoftmaxRegression have them)"
            )
        values = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        intercept = np.atleast_1d(np.asarray(getattr(model, "intercept_", 0.0), dtype=float))
        classes = [str(c) for c in np.asarray(model.classes_).tolist()]
        if values.shape[0] == 1:
            self.columns = [classes[-1]]  # the log-odds of the second class of two
        else:
            self.columns = classes[: values.shape[0]]
        n = values.shape[1]
        if feature_names is None:
            found = getattr(model, "feature_names_in_", None)
            feature_names = [f"x{j}" for j in range(n)] if found is None else list(found)
        names = [str(name) for name in feature_names]
        if len(names) != n:
            raise ValueError(f"{len(names)} feature names for {n} coefficients per class")
        self.names = names
        self.values: NDArray[np.float64] = values.T  # (p, columns)
        self.intercept: NDArray[np.float64] = np.broadcast_to(intercept, (values.shape[0],))

    def largest(self, top: int | None = None) -> list[tuple[str, NDArray[np.float64]]]:
        """(name, coefficients) of the `top` features of largest absolute coefficient."""
        size = np.abs(self.values).max(axis=1)
        order = np.argsort(-size, kind="stable")
        if top is not None:
            order = order[:top]
        return [(self.names[j], self.values[j]) for j in order]

    def heading(self) -> str:
        """What one column means, in words."""
        if len(self.columns) == 1:
            return f"change of the log-odds of {self.columns[0]}"
        return "change of each class's logit"


def _coefficients_html(coefs: Coefficients, top: int) -> str:
    rows = coefs.largest(top)
    titles = coefs.columns if len(coefs.columns) > 1 else ["coefficient"]
    head = "".join(f"<th>{html.escape(t)}</th>" for t in titles)
    body = [
        f"<tr><td>{html.escape(name)}</td>"
        + "".join(f"<td>{v:+.4f}</td>" for v in values)
        + "</tr>"
        for name, values in rows
    ]
    body.append(
        '<tr class="baseline"><td>(intercept)</td>'
        + "".join(f"<td>{v:+.4f}</td>" for v in coefs.intercept)
        + "</tr>"
    )
    shown = len(rows)
    total = len(coefs.names)
    which = f"The {shown} largest of {total}" if shown < total else f"All {total}"
    return (
        f"<table><thead><tr><th>feature</th>{head}</tr></thead><tbody>{''.join(body)}"
        f'</tbody></table><p class="sub">{which} coefficients by absolute value '
        f"({html.escape(coefs.heading())} per unit of the feature as the model saw it: a "
        "standardised column per standard deviation, an indicator from 0 to 1).</p>"
    )


def _inference_html(frame: Any, statistics: Sequence[tuple[str, str]]) -> str:
    """The coefficient table of inference, one table per equation, and the fit statistics."""
    stat = "chi2" if "chi2" in frame.columns else "z"  # a Firth fit's tests are LR tests
    p = "P>chi2" if stat == "chi2" else "P>|z|"
    heads = ("feature", "coef", "std. err.", stat, p, "interval from", "to")
    parts = []
    for cls in dict.fromkeys(frame["class"]):
        part = frame[frame["class"] == cls]
        reference = part["reference"].iloc[0]
        rows = "".join(
            f"<tr><td>{html.escape(str(r.feature))}</td>"
            + "".join(
                f"<td>{v:.4g}</td>"
                for v in (r.coef, r.std_err, getattr(r, stat), r.p_value, r.ci_lower, r.ci_upper)
            )
            + "</tr>"
            for r in part.itertuples(index=False)
        )
        parts.append(
            f"<h3>log-odds of {html.escape(str(cls))} against {html.escape(str(reference))}</h3>"
            "<table><thead><tr>"
            + "".join(f"<th>{html.escape(h)}</th>" for h in heads)
            + f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in statistics)
    return "".join(parts) + (f"<h3>Fit statistics</h3><dl>{items}</dl>" if items else "")


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
    feature_names: Sequence[str] | None = None,
    top_coefficients: int = 20,
    coefficient_table: Any = None,
    fit_statistics: Sequence[tuple[str, str]] = (),
    coefficients_note: str | None = None,
) -> Path:
    """Write ``out_dir/index.html``: metrics, figures and the largest coefficients.

    The page is one file: the figures are inline SVG, the styles inline CSS,
    and a Content-Security-Policy forbids loading anything else, so it opens
    the same offline, attached to an e-mail, or served from anywhere. A figure
    that raises is replaced by a sentence saying why it is missing.

    Parameters
    ----------
    out_dir : str or path-like
        Folder to write into; created (with parents) if missing.
    title : str
        The page's heading.
    scores : mapping of str to dict
        Rows of the metrics table, e.g. ``{"training": evaluate(...), "held-out": ...}``
        with :func:`logloss.metrics.evaluation.evaluate`; a ``baseline_accuracy``
        entry (the majority class's share) is shown when present.
    details : sequence of (str, str)
        Facts listed under the heading (model, data, features, ...).
    notes : sequence of str
        Sentences about the data (imputations, dropped rows, warnings).
    model : fitted estimator, optional
        Its ``loss_curve_`` gives the training-history figure and, for a linear
        model, its ``coef_`` the table of coefficients.
    y_true, y_prob, classes : optional
        Labels and probabilities for the calibration diagram and the confusion
        matrix (as for :func:`logloss.metrics.evaluation.evaluate`).
    evaluated_on : str
        What `y_true` is, for the captions.
    feature_names : sequence of str, optional
        The name of each column the model takes, for the coefficients
        (default: the model's ``feature_names_in_``, else ``x0``, ``x1``, ...).
    top_coefficients : int, default 20
        Most coefficients listed.
    coefficient_table : pandas.DataFrame, optional
        Inference on the coefficients (``logloss fit --summary``), with columns
        ``class, reference, feature, coef, std_err, z, p_value, ci_lower, ci_upper``:
        shown in full, one table per class, instead of the largest coefficients, with
        `fit_statistics` (``(name, value)`` pairs) beside it.
    coefficients_note : str, optional
        A sentence under the coefficients: what the inference is, or why there is none.

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
        "baseline predicts the training class frequencies for every example, and the "
        "majority-class accuracy is that of always predicting the most frequent class. "
        "Top-label ECE is the expected calibration error of the most probable class's "
        f"probability over {N_BINS} equal-width bins.</p>"
    )
    if notes:
        sections.append("<h2>Notes on the data</h2>")
        sections.append(
            '<ul class="notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"
        )
    for i, (heading, caption, draw) in enumerate(
        _figures(model, y_true, y_prob, classes, evaluated_on)
    ):
        sections.append(f"<h2>{html.escape(heading)}</h2>")
        try:
            svg = figure_svg(draw(), prefix=f"f{i}-")
        except Exception as exc:  # noqa: BLE001 - no figure may fail the report
            reason = str(exc).strip().rstrip(".") or type(exc).__name__
            sections.append(
                f'<p class="sub">This figure could not be drawn: {html.escape(reason)}.</p>'
            )
            continue
        sections.append(f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>")
    if coefficient_table is not None:
        sections.append("<h2>Coefficients</h2>")
        sections.append(_inference_html(coefficient_table, fit_statistics))
    elif model is not None and getattr(model, "coef_", None) is not None:
        sections.append("<h2>Coefficients</h2>")
        try:
            sections.append(
                _coefficients_html(Coefficients(model, feature_names), top_coefficients)
            )
        except ValueError as exc:
            sections.append(f'<p class="sub">{html.escape(str(exc))}.</p>')
    elif coefficients_note:
        sections.append("<h2>Coefficients</h2>")
    if coefficients_note:
        sections.append(f'<p class="sub">{html.escape(coefficients_note)}</p>')

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


def _figures(
    model: Any,
    y_true: ArrayLike | None,
    y_prob: ArrayLike | None,
    classes: ArrayLike | None,
    evaluated_on: str,
) -> list[tuple[str, str, Callable[[], Figure]]]:
    """(heading, caption, how to draw) of each figure of the report, drawn later one by one."""
    figures: list[tuple[str, str, Callable[[], Figure]]] = []
    curve = None if model is None else getattr(model, "loss_curve_", None)
    if curve is not None and len(curve):
        figures.append(
            (
                "Training history",
                "The objective the solver minimised after each iteration: the mean "
                "cross-entropy on the training rows plus the penalty on the weights, if any.",
                lambda: plot.history(model),
            )
        )
    if y_true is None or y_prob is None:
        return figures
    codes, proba, cls = as_class_probabilities(y_true, y_prob, classes)
    figures.append(
        (
            "Calibration",
            f"Reliability diagram on the {evaluated_on}: points on the diagonal mean that "
            "events said to happen with probability p happen a fraction p of the time "
            f"(for two classes, the probability of {cls[-1]}); a disc's area follows its "
            "bin's count, and a bin of fewer than 10 rows is a ring with its count. The "
            "title gives the top-label ECE of the scores table.",
            lambda: plot.calibration(cls[codes], proba, classes=cls, n_bins=N_BINS),
        )
    )
    figures.append(
        (
            "Confusion matrix",
            f"True class (rows) against predicted class (columns) on the {evaluated_on}.",
            lambda: plot.confusion_matrix(cls[codes], cls[proba.argmax(axis=1)], classes=cls),
        )
    )
    return figures
