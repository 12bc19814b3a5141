"""Scores of predicted probabilities, and the HTML report of a fitted model.

- :func:`as_class_probabilities` turns labels and probability columns into class
  codes and an ``(n, K)`` probability matrix (the form every score here takes);
- :func:`evaluate` computes the log loss, accuracy, Brier score, calibration error
  and (for two classes) ROC AUC of any model's probabilities, with the baseline
  log loss of predicting class frequencies;
- :func:`reliability_bins` is the binning behind the calibration error and
  :func:`logloss.plot.calibration`;
- :func:`write_report` writes ``index.html``: one self-contained page (figures
  inline as SVG, no scripts, no external resources) with the metrics table, the
  training history, the calibration diagram and the confusion matrix.
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

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

__all__ = [
    "as_class_probabilities",
    "evaluate",
    "reliability_bins",
    "roc_auc",
    "write_report",
    "N_BINS",
]

# Bins of the calibration error and the reliability diagram (Guo et al. 2017 use 15).
N_BINS = 15
# Rows whose probabilities sum to 1 within this are renormalised; others are an error.
_SUM_TOLERANCE = 1e-2


def as_class_probabilities(
    y_true: ArrayLike, y_prob: ArrayLike, classes: ArrayLike | None = None
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray]:
    """Class codes, an ``(n, K)`` probability matrix and the classes, checked.

    Parameters
    ----------
    y_true : array_like of shape (n,)
        True labels, each one of `classes`.
    y_prob : array_like of shape (n,) or (n, K)
        Probabilities; a 1-D array is the probability of the second class of two.
        Rows of a 2-D array must sum to 1 within 0.01 (they are then renormalised,
        which absorbs rounding in a written file).
    classes : array_like of shape (K,), optional
        The class of each column; by default the sorted distinct labels of
        `y_true` (scikit-learn's column order).

    Returns
    -------
    codes : ndarray of shape (n,)
        Column index of each row's true class.
    proba : ndarray of shape (n, K), float64
    classes : ndarray of shape (K,)

    Examples
    --------
    >>> codes, proba, classes = as_class_probabilities(["b", "a"], [0.9, 0.2])
    >>> codes.tolist(), proba.tolist(), classes.tolist()
    ([1, 0], [[0.1, 0.9], [0.8, 0.2]], ['a', 'b'])
    """
    t = np.asarray(y_true)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"`y_true` must be a non-empty 1-D array of labels; got shape {t.shape}")
    p = np.asarray(y_prob)
    if p.dtype.kind not in "biuf":
        raise TypeError(f"`y_prob` must hold numbers (probabilities); got dtype {p.dtype}")
    p = p.astype(np.float64)
    if p.ndim == 1:
        p = np.column_stack([1.0 - p, p])
        one_column = True
    elif p.ndim == 2:
        one_column = False
    else:
        raise ValueError(f"`y_prob` must be 1-D or 2-D; got shape {p.shape}")
    if p.shape[0] != t.size:
        raise ValueError(
            f"`y_prob` has {p.shape[0]} rows but `y_true` has {t.size} labels; they must match"
        )
    bad = ~np.isfinite(p) | (p < 0.0) | (p > 1.0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        value = np.asarray(y_prob).reshape(p.shape[0], -1)[row, 0 if one_column else col]
        raise ValueError(
            f"`y_prob` must hold probabilities in [0, 1]; got {value!r} in row {int(row)}"
        )
    cls = np.unique(t) if classes is None else np.asarray(classes)
    if cls.ndim != 1 or np.unique(cls).size != cls.size:
        raise ValueError("`classes` must be a 1-D array of distinct labels")
    if cls.size != p.shape[1]:
        if one_column:
            raise ValueError(
                f"one probability column fits two classes, but there are {cls.size}: "
                f"{_show_list(cls)}"
            )
        raise ValueError(
            f"`y_prob` has {p.shape[1]} columns but there are {cls.size} classes "
            f"({_show_list(cls)}); give one probability column per class"
        )
    if cls.size < 2:
        raise ValueError("scoring needs at least two classes")
    order = np.argsort(cls, kind="stable")
    pos = np.searchsorted(cls[order], t)
    pos = np.clip(pos, 0, cls.size - 1)
    found = cls[order][pos] == t
    if not found.all():
        missing = np.unique(t[~found])
        raise ValueError(
            f"the labels {_show_list(missing)} have no probability column; the columns are for "
            f"{_show_list(cls)}"
        )
    codes = order[pos].astype(np.intp)
    if not one_column:
        sums = p.sum(axis=1)
        off = np.abs(sums - 1.0) > _SUM_TOLERANCE
        if off.any():
            row = int(np.flatnonzero(off)[0])
            raise ValueError(
                f"the probabilities of row {row} sum to {sums[row]:.6g}, not 1; give one "
                "column per class"
            )
        p /= sums[:, None]
    return codes, p, cls


def _show_list(values: Any, most: int = 6) -> str:
    items = [repr(v.item() if isinstance(v, np.generic) else v) for v in list(values)[:most]]
    more = f" and {len(values) - most} more" if len(values) > most else ""
    return ", ".join(items) + more


def reliability_bins(
    codes: NDArray[np.intp], proba: NDArray[np.float64], *, n_bins: int = N_BINS
) -> dict[str, Any]:
    """Equal-width bins of predicted probability, with the calibration error.

    For two classes the predicted probability is that of the second class and
    the outcome is "the second class happened"; for more, the top-label
    confidence and "the top class was right". Bin ``b`` holds the predictions in
    ``(b/n_bins, (b+1)/n_bins]`` (the first bin includes 0).

    Returns
    -------
    dict
        ``edges`` (n_bins + 1,), ``count``, ``mean_predicted`` and ``observed``
        (n_bins,; NaN for empty bins) and ``ece``, the count-weighted mean of
        ``|observed - mean_predicted|``.
    """
    if proba.shape[1] == 2:
        predicted = proba[:, 1]
        outcome = (codes == 1).astype(np.float64)
    else:
        predicted = proba.max(axis=1)
        outcome = (proba.argmax(axis=1) == codes).astype(np.float64)
    b = np.clip(np.ceil(predicted * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    count = np.bincount(b, minlength=n_bins).astype(np.float64)
    sum_p = np.bincount(b, weights=predicted, minlength=n_bins)
    sum_y = np.bincount(b, weights=outcome, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.where(count > 0, sum_p / np.maximum(count, 1), np.nan)
        observed = np.where(count > 0, sum_y / np.maximum(count, 1), np.nan)
    ece = float(np.sum(np.abs(sum_y - sum_p)) / codes.size)
    return {
        "edges": np.linspace(0.0, 1.0, n_bins + 1),
        "count": count.astype(np.int64),
        "mean_predicted": mean_p,
        "observed": observed,
        "ece": ece,
    }


def roc_auc(positive: NDArray[np.bool_], score: NDArray[np.float64]) -> float | None:
    """Area under the ROC curve: the chance a random positive outranks a random negative.

    Computed from ranks (the Mann-Whitney U statistic), ties counting one half;
    None when one of the two classes is absent.

    Examples
    --------
    >>> import numpy as np
    >>> roc_auc(np.array([False, False, True, True]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    from scipy.stats import rankdata

    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(score)  # average ranks: a tie between a positive and a negative counts 1/2
    u = float(ranks[positive].sum()) - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


def evaluate(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    classes: ArrayLike | None = None,
    *,
    prior: ArrayLike | None = None,
    n_bins: int = N_BINS,
) -> dict[str, Any]:
    """How good are these probabilities? Log loss, accuracy, Brier, calibration, ROC AUC.

    Parameters
    ----------
    y_true, y_prob, classes
        As for :func:`as_class_probabilities`.
    prior : array_like of shape (K,), optional
        Class frequencies for the baseline (default: those of `y_true`). The
        baseline predicts them for every row; its log loss is the entropy of the
        labels when the frequencies are their own.
    n_bins : int, default 15
        Bins of the calibration error.

    Returns
    -------
    dict
        ``n``, ``classes`` (list), ``log_loss`` (nats), ``accuracy``,
        ``brier`` (in [0, 1] for two classes, [0, 2] for more),
        ``calibration_error`` (ECE over `n_bins` bins, see :func:`reliability_bins`),
        ``roc_auc`` (two classes; else None) and ``baseline_log_loss``.

    Examples
    --------
    >>> r = evaluate(["no", "no", "yes", "yes"], [0.1, 0.4, 0.35, 0.8])
    >>> round(r["log_loss"], 4), r["accuracy"], r["roc_auc"], round(r["baseline_log_loss"], 4)
    (0.4722, 0.75, 0.75, 0.6931)
    """
    from .metrics import brier_score, log_loss

    codes, proba, cls = as_class_probabilities(y_true, y_prob, classes)
    k = cls.size
    labels = np.arange(k)
    if prior is None:
        freq = np.bincount(codes, minlength=k) / codes.size
    else:
        freq = np.asarray(prior, dtype=np.float64)
        if freq.shape != (k,) or (freq < 0).any() or not freq.sum() > 0:
            raise ValueError(f"`prior` must be {k} non-negative class frequencies")
        freq = freq / freq.sum()
    baseline = np.broadcast_to(freq, proba.shape)
    return {
        "n": int(codes.size),
        "classes": [c.item() if isinstance(c, np.generic) else c for c in cls],
        "log_loss": float(log_loss(codes, proba, labels=labels)),
        "accuracy": float(np.mean(proba.argmax(axis=1) == codes)),
        "brier": float(brier_score(codes, proba, labels=labels)),
        "calibration_error": reliability_bins(codes, proba, n_bins=n_bins)["ece"],
        "roc_auc": roc_auc(codes == 1, proba[:, 1]) if k == 2 else None,
        "baseline_log_loss": float(log_loss(codes, baseline, labels=labels)),
    }


# ---------------------------------------------------------------------------
# the HTML report
# ---------------------------------------------------------------------------

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
    from . import plot

    buffer = io.StringIO()
    with plot._style():
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
        Rows of the metrics table, e.g. ``{"training": evaluate(...), "held-out": ...}``.
    details : sequence of (str, str)
        Facts listed under the heading (model, data, features, ...).
    notes : sequence of str
        Sentences about the data (imputations, dropped rows, warnings).
    model : fitted estimator, optional
        Its ``loss_curve_`` gives the training-history figure.
    y_true, y_prob, classes : optional
        Labels and probabilities for the calibration diagram and the confusion
        matrix (as for :func:`evaluate`).
    evaluated_on : str
        What `y_true` is, for the captions.

    Returns
    -------
    pathlib.Path
        The ``index.html`` written.
    """
    from . import plot

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
