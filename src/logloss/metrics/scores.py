"""Scores of predicted probabilities: log loss and the Brier score, as scikit-learn computes them.

:func:`log_loss` and :func:`brier_score` follow scikit-learn 1.9's
``sklearn.metrics.log_loss`` and ``brier_score_loss`` (label handling, column
order, clipping, warnings, the [0, 2] multiclass Brier range); where they differ
(negative sample weights are an error here) their docstrings say so. Both return
Python floats.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._score_inputs import (
    check_columns,
    check_normalize,
    encode_targets,
    prepare,
    proba_argument,
    warn_if_not_normalised,
    weighted_mean,
)

__all__ = ["log_loss", "brier_score"]


def log_loss(
    y_true: ArrayLike,
    y_proba: ArrayLike | None = None,
    *,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    normalize: bool = True,
    y_prob: ArrayLike | None = None,
) -> float:
    r"""Log loss (cross-entropy) of predicted probabilities, with scikit-learn's semantics.

    For :math:`N` samples, :math:`C` classes, one-hot targets :math:`y_{ic}` and
    predicted probabilities :math:`p_{ic}`,

    .. math::

        L = \frac{\sum_i w_i \ell_i}{\sum_i w_i}, \qquad
        \ell_i = -\sum_{c=1}^{C} y_{ic} \log \operatorname{clip}(p_{ic}, \epsilon, 1 - \epsilon)

    where :math:`\epsilon` is the machine epsilon of `y_prob`'s dtype, and
    :math:`w_i = 1` without `sample_weight`. With ``normalize=False`` the weighted
    sum :math:`\sum_i w_i \ell_i` is returned instead. This is
    ``sklearn.metrics.log_loss`` (version 1.9): same classes, same column order,
    same clipping, same warnings.

    Only the probability of each sample's own class is read and logged, so no
    ``(N, C)`` one-hot or log-probability matrix is formed.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,)
        True class labels: integers, booleans, integral floats or strings. A 2-D 0/1
        indicator matrix of shape (n_samples, n_classes) is also accepted (without
        `labels`); then :math:`\ell_i` sums over every column that is 1.
    y_proba : array_like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, in [0, 1]. Column :math:`c` belongs to the
        :math:`c`-th class in sorted order (numbers ascending, strings
        lexicographically), as ``predict_proba`` of a scikit-learn classifier
        returns them. A 1-D array is the probability of the positive class, i.e.
        the greater of the two labels. Float arrays keep their dtype (which sets
        :math:`\epsilon`: about 2.2e-16 for float64, 1.2e-7 for float32, 9.8e-4
        for float16); integer arrays and Python lists are float64.
    labels : array_like of shape (n_classes,), optional
        All class labels, for when `y_true` does not contain every class (a single
        batch, one class only). They are sorted to give the column order; passing
        them unsorted warns (``UserWarning``). By default, the classes of `y_true`.
    sample_weight : array_like of shape (n_samples,), optional
        Non-negative per-sample weights, not all zero.
    normalize : bool, default True
        Return the (weighted) mean over samples; ``False`` returns the sum.
    y_prob : array_like, optional
        The name `y_proba` had before scikit-learn 1.9; still accepted, by keyword,
        instead of `y_proba` (not both).

    Returns
    -------
    float
        The log loss, >= 0, in nats.

    Raises
    ------
    ValueError
        NaN or values outside [0, 1] in `y_prob`; lengths that differ; a single
        class in `y_true` without `labels`; `y_true` labels missing from `labels`;
        a number of columns of `y_prob` other than the number of classes;
        negative or all-zero weights; empty input.
    TypeError
        Non-numeric `y_prob` or `sample_weight`; mixed label types.

    Warns
    -----
    UserWarning
        When a row of a 2-D `y_prob` does not sum to 1 within
        :math:`\sqrt{\epsilon}`, and when `labels` is not sorted.

    See Also
    --------
    logloss.cross_entropy : the same loss from logits, with gradients.

    Notes
    -----
    Differences from scikit-learn: negative sample weights are an error (a
    negative weight makes the weighted mean meaningless); the error messages
    differ; the logarithms are taken in float64 after clipping in `y_prob`'s
    dtype, so float16/float32 results are slightly more accurate.

    References
    ----------
    .. [1] C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, 2006, p. 209.

    Examples
    --------
    >>> from logloss.metrics import log_loss
    >>> log_loss(["cat", "dog", "dog"], [[0.8, 0.2], [0.3, 0.7], [0.1, 0.9]])
    0.228393
    >>> log_loss([1, 1], [0.6, 0.9], labels=[0, 1])   # one class present: say which exist
    0.3080931
    """
    normalize = check_normalize(normalize)
    y_prob = proba_argument(y_proba, y_prob)
    p, t, w, binary_1d = prepare(y_true, y_prob, labels, sample_weight)
    targets = encode_targets(t, labels, binary_1d=binary_1d)
    check_columns(targets, 2 if binary_1d else p.shape[1], labels)
    if not binary_1d:
        warn_if_not_normalised(p)

    dtype = p.dtype
    eps = np.finfo(dtype).eps
    lo, hi = dtype.type(eps), dtype.type(1) - dtype.type(eps)
    if targets.indicator is not None:
        # y_prob 1-D is the positive column: the two columns are [1 - p, p] (in p's dtype).
        full = np.stack((dtype.type(1) - p, p), axis=1) if binary_1d else p
        logp = np.log(np.clip(full, lo, hi).astype(np.float64))
        losses = -np.sum(targets.indicator * logp, axis=1)
    else:
        if binary_1d:
            # The true class's probability: p for the positive (greater) label, else 1 - p.
            pk = np.where(targets.codes == 1, p, dtype.type(1) - p)
        else:
            pk = p[np.arange(p.shape[0]), targets.codes]
        # Clip in the input's dtype (as scikit-learn), then take the log in float64.
        losses = -np.log(np.clip(pk, lo, hi).astype(np.float64))
    return weighted_mean(losses, w, normalize)


def _single_numeric_class_positive(t: np.ndarray, labels: Any) -> np.ndarray | None:
    """scikit-learn's binary `pos_label` default when 1-D `y_true` holds one numeric class.

    0 and -1 (and False) are then the negative class, any other number the positive
    one. Returns the per-sample 'is positive' mask, or None when this rule does not apply.
    """
    if labels is not None or t.ndim != 1 or t.dtype.kind not in "biuf":
        return None
    first = t[0]
    if not (t == first).all():
        return None
    return np.full(t.shape, first not in (0, -1))


def brier_score(
    y_true: ArrayLike,
    y_proba: ArrayLike | None = None,
    *,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    y_prob: ArrayLike | None = None,
) -> float:
    r"""Brier score: the mean squared error of predicted probabilities.

    For :math:`N` samples, :math:`C` classes, one-hot targets :math:`y_{ic}` and
    probabilities :math:`p_{ic}`,

    .. math::

        B = \frac{1}{\sum_i w_i} \sum_{i=1}^{N} w_i \sum_{c=1}^{C} (y_{ic} - p_{ic})^2,

    which lies in [0, 2]. For two classes (a 1-D `y_prob`, or two columns) it is
    halved to the customary binary form in [0, 1],

    .. math:: B = \frac{1}{\sum_i w_i} \sum_{i=1}^{N} w_i (y_i - p_i)^2,

    with :math:`y_i \in \{0, 1\}` and :math:`p_i` the probability of the positive
    class. This is ``sklearn.metrics.brier_score_loss`` (1.9) with its default
    ``scale_by_half="auto"``.

    Parameters
    ----------
    y_true : array_like of shape (n_samples,)
        True class labels (numbers, booleans or strings), or a 2-D 0/1 indicator matrix.
    y_proba : array_like of shape (n_samples,) or (n_samples, n_classes)
        Predicted probabilities in [0, 1]. A 1-D array is the probability of the
        positive class, the greater label; columns follow the sorted labels, as
        for :func:`log_loss` (rows that do not sum to 1 warn).
    labels : array_like of shape (n_classes,), optional
        All class labels when `y_true` lacks some (sorted to give the column order).
    sample_weight : array_like of shape (n_samples,), optional
        Non-negative per-sample weights, not all zero.

    y_prob : array_like, optional
        The earlier name of `y_proba`, still accepted by keyword (not both).

    Returns
    -------
    float
        The Brier score: in [0, 1] for two classes, [0, 2] for more.

    Notes
    -----
    Where ``brier_score_loss`` has no answer this function gives the one
    :func:`log_loss` gives: with a 1-D `y_prob` and string labels the positive
    class is the greater label (scikit-learn requires ``pos_label``), and
    `labels` is honoured for a 1-D `y_prob` too. A 1-D `y_prob` with a single
    numeric class in `y_true` follows scikit-learn: 0 and -1 are the negative
    class, any other number the positive one. Negative weights are an error.

    References
    ----------
    .. [1] G. W. Brier, "Verification of forecasts expressed in terms of probability",
       *Monthly Weather Review* 78(1), 1950, pp. 1-3.

    Examples
    --------
    >>> from logloss.metrics import brier_score
    >>> brier_score([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.4])
    0.055
    >>> brier_score([0, 1], [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]], labels=[0, 1, 2])
    0.1
    """
    y_prob = proba_argument(y_proba, y_prob)
    p, t, w, binary_1d = prepare(y_true, y_prob, labels, sample_weight)
    if binary_1d:
        positive = _single_numeric_class_positive(t, labels)
        if positive is None:
            targets = encode_targets(t, labels, binary_1d=True)
            check_columns(targets, 2, labels)
            if targets.codes is not None:
                positive = targets.codes == 1
        if positive is not None:
            # Halved two-column form: ((1-y) - (1-p))^2 + (y - p)^2 = 2 (y - p)^2.
            d = positive.astype(np.float64) - p.astype(np.float64)
            return weighted_mean(d * d, w, True)
        # An indicator `y_true` against a 1-D `y_prob`: the two columns are [1 - p, p].
        p = np.stack((1.0 - p.astype(np.float64), p), axis=1)
    else:
        targets = encode_targets(t, labels, binary_1d=False)
        check_columns(targets, p.shape[1], labels)
        warn_if_not_normalised(p)
    d = p.astype(np.float64)  # a copy: y_ic - p_ic is -p_ic except in the true class
    if targets.indicator is not None:
        d -= targets.indicator
    else:
        d[np.arange(d.shape[0]), targets.codes] -= 1.0
    scores = np.einsum("ij,ij->i", d, d)
    return weighted_mean(scores, w, True) * (0.5 if p.shape[1] == 2 else 1.0)
