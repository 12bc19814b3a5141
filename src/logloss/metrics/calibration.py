"""Calibration: reliability bins and the expected calibration error, written once.

A model is calibrated when events it gives probability p happen a fraction p of
the time. Both functions sort the predictions into `n_bins` equal-width bins of
predicted probability; bin ``b`` holds the predictions in ``(b/n_bins, (b+1)/n_bins]``
(the first bin includes 0) and compares the mean prediction with the observed
frequency there:

.. math:: \\mathrm{ECE} = \\sum_b \\frac{W_b}{W} \\, \\lvert \\bar y_b - \\bar p_b \\rvert
          = \\frac{1}{W} \\sum_b \\Big\\lvert \\sum_{i \\in b} w_i (y_i - p_i) \\Big\\rvert .

:func:`reliability_bins` feeds :func:`logloss.plot.calibration` and the HTML report;
:func:`expected_calibration_error` is the number ``TemperatureScaling`` reports.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["N_BINS", "reliability_bins", "expected_calibration_error"]

# Bins of the calibration error and the reliability diagram (Guo et al. 2017 use 15).
N_BINS = 15


def _bin_sums(
    predicted: NDArray[np.float64],
    outcome: NDArray[np.float64],
    n_bins: int,
    weight: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per bin: the total weight, the weighted sum of predictions and of outcomes."""
    # bin b holds the predictions in (b/n, (b+1)/n]; 0 falls in the first bin.
    b = np.clip(np.ceil(predicted * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    w = np.ones(predicted.shape[0]) if weight is None else weight
    count = np.bincount(b, weights=w, minlength=n_bins)
    sum_p = np.bincount(b, weights=w * predicted, minlength=n_bins)
    sum_y = np.bincount(b, weights=w * outcome, minlength=n_bins)
    return count, sum_p, sum_y


def _ece(sum_p: NDArray[np.float64], sum_y: NDArray[np.float64], total: float) -> float:
    # sum_b (W_b / W) |ybar_b - pbar_b| = sum_b |sum_y_b - sum_p_b| / W: no division per bin.
    return float(np.sum(np.abs(sum_y - sum_p)) / total) if total > 0 else 0.0


def reliability_bins(
    codes: NDArray[np.intp], proba: NDArray[np.float64], *, n_bins: int = N_BINS
) -> dict[str, Any]:
    """Equal-width bins of predicted probability, with the calibration error.

    For two classes the predicted probability is that of the second class and
    the outcome is "the second class happened"; for more, the top-label
    confidence and "the top class was right".

    Parameters
    ----------
    codes : ndarray of shape (n,)
        Column index of each row's true class (see
        :func:`logloss.metrics.evaluation.as_class_probabilities`).
    proba : ndarray of shape (n, K)
        Probabilities, one column per class.
    n_bins : int, default 15
        Number of bins.

    Returns
    -------
    dict
        ``edges`` (n_bins + 1,), ``count``, ``mean_predicted`` and ``observed``
        (n_bins,; NaN for empty bins) and ``ece``, the count-weighted mean of
        ``|observed - mean_predicted|``.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    >>> bins = reliability_bins(np.array([0, 1, 1, 1]), P, n_bins=10)
    >>> bins["count"].tolist()
    [2, 0, 0, 0, 0, 1, 0, 1, 0, 0]
    >>> round(bins["ece"], 4)
    0.35
    """
    if proba.shape[1] == 2:
        predicted = proba[:, 1]
        outcome = (codes == 1).astype(np.float64)
    else:
        predicted = proba.max(axis=1)
        outcome = (proba.argmax(axis=1) == codes).astype(np.float64)
    count, sum_p, sum_y = _bin_sums(predicted, outcome, n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.where(count > 0, sum_p / np.maximum(count, 1), np.nan)
        observed = np.where(count > 0, sum_y / np.maximum(count, 1), np.nan)
    return {
        "edges": np.linspace(0.0, 1.0, n_bins + 1),
        "count": count.astype(np.int64),
        "mean_predicted": mean_p,
        "observed": observed,
        "ece": _ece(sum_p, sum_y, float(codes.size)),
    }


def expected_calibration_error(
    y: NDArray, proba: NDArray, *, n_bins: int = N_BINS, sample_weight: NDArray | None = None
) -> float:
    """Expected calibration error of the top-label confidence, with equal-width bins.

    .. math::

        \\mathrm{ECE} = \\sum_b \\frac{W_b}{W}
                       \\lvert \\mathrm{acc}_b - \\mathrm{conf}_b \\rvert

    over bins b of the confidence max_c p_ic in (0, 1], where acc_b and conf_b are the
    (weighted) accuracy and mean confidence of the rows in bin b and W_b their weight.
    Unlike :func:`reliability_bins`, two classes are binned by their top-label
    confidence too (the form Guo et al. 2017 use for temperature scaling).

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Encoded labels (column indices of `proba`).
    proba : ndarray of shape (n_samples, n_classes)
        Predicted probabilities.
    n_bins : int, default=15
        Number of equal-width confidence bins.
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    float
        ECE in [0, 1]; 0 when the weights sum to 0.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    >>> round(expected_calibration_error(np.array([0, 1, 1, 1]), p, n_bins=10), 4)
    0.35
    """
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    conf = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(np.float64)
    _, sum_conf, sum_correct = _bin_sums(conf, correct, n_bins, w)
    return _ece(sum_conf, sum_correct, float(w.sum()))
