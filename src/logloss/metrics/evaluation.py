"""How good are a model's probabilities? The scores the HTML report and the CLI show.

- :func:`as_class_probabilities` turns labels and probability columns into class
  codes and an ``(n, K)`` probability matrix (the form every score here takes);
- :func:`roc_auc` ranks the probabilities of two classes;
- :func:`evaluate` computes the log loss, accuracy, Brier score, top-label expected
  calibration error and (for two classes) ROC AUC of any model's probabilities, with
  the baselines: the log loss of predicting class frequencies and the accuracy of
  always predicting the most frequent class.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._score_inputs import py_value
from .calibration import N_BINS, expected_calibration_error
from .scores import brier_score, log_loss

__all__ = ["as_class_probabilities", "evaluate", "roc_auc"]

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
        # the number as a user wrote it (10.91), never numpy's repr (np.float64(10.91))
        shown = value.item() if isinstance(value, np.generic) else value
        raise ValueError(
            f"`y_prob` must hold probabilities in [0, 1]; got {shown!r} in row {int(row)}"
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

    With the class frequencies :math:`\\pi` of `prior` and the most frequent class
    :math:`m = \\arg\\max_c \\pi_c`, the baselines are what a model that ignores
    the features scores: ``baseline_log_loss`` :math:`= -\\frac{1}{n} \\sum_i
    \\log \\pi_{y_i}` and ``baseline_accuracy`` :math:`= \\frac{1}{n} \\sum_i
    [y_i = m]` (the majority-class rate). A model whose accuracy is not above the
    latter has learned nothing a constant answer does not know.

    Parameters
    ----------
    y_true, y_prob, classes
        As for :func:`as_class_probabilities`.
    prior : array_like of shape (K,), optional
        Class frequencies for the baselines (default: those of `y_true`). The
        baseline predicts them for every row; its log loss is the entropy of the
        labels when the frequencies are their own.
    n_bins : int, default 15
        Bins of the calibration error.

    Returns
    -------
    dict
        ``n``, ``classes`` (list), ``log_loss`` (nats), ``accuracy``,
        ``brier`` (in [0, 1] for two classes, [0, 2] for more),
        ``calibration_error`` (the top-label ECE over `n_bins` bins, for any number
        of classes: :func:`logloss.metrics.calibration.expected_calibration_error`,
        the number temperature scaling reports), ``roc_auc`` (two classes; else
        None), ``baseline_log_loss``, ``baseline_accuracy`` and ``majority_class``
        (the class the latter always predicts).

    Examples
    --------
    >>> r = evaluate(["no", "no", "yes", "yes"], [0.1, 0.4, 0.35, 0.8])
    >>> round(r["log_loss"], 4), r["accuracy"], r["roc_auc"], round(r["baseline_log_loss"], 4)
    (0.4722, 0.75, 0.75, 0.6931)
    >>> r = evaluate(["no", "no", "no", "yes"], [0.1, 0.2, 0.3, 0.4], prior=[0.9, 0.1])
    >>> r["baseline_accuracy"], r["majority_class"]
    (0.75, 'no')
    """
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
    majority = int(np.argmax(freq))  # the first of equally frequent classes
    return {
        "n": int(codes.size),
        "classes": [py_value(c) for c in cls],
        "log_loss": float(log_loss(codes, proba, labels=labels)),
        "accuracy": float(np.mean(proba.argmax(axis=1) == codes)),
        "brier": float(brier_score(codes, proba, labels=labels)),
        "calibration_error": expected_calibration_error(codes, proba, n_bins=n_bins),
        "roc_auc": roc_auc(codes == 1, proba[:, 1]) if k == 2 else None,
        "baseline_log_loss": float(log_loss(codes, baseline, labels=labels)),
        "baseline_accuracy": float(np.mean(codes == majority)),
        "majority_class": py_value(cls[majority]),
    }
