"""Evaluation metrics built on cross-entropy: log loss, perplexity, entropy, KL, Brier.

:func:`log_loss` and :func:`brier_score` follow scikit-learn 1.9's
``sklearn.metrics.log_loss`` and ``brier_score_loss`` (label handling, column
order, clipping, warnings, the [0, 2] multiclass Brier range); where they differ
(negative sample weights are an error here) their docstrings say so.
:func:`entropy` and :func:`kl_divergence` follow ``scipy.stats.entropy``
(inputs are normalised along `axis`). :func:`perplexity` takes logits and
integer targets, like :func:`logloss.cross_entropy`.

Scores are returned as Python floats; :func:`entropy` and :func:`kl_divergence`
return one value per distribution.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._array import FLOAT_DTYPES, as_result, to_numpy
from ._validation import (
    _describe,
    _first_index,
    as_float_array,
    check_axis,
    check_ignore_index,
    check_labels,
    check_nonempty_classes,
    check_scalar,
)

__all__ = ["log_loss", "brier_score", "perplexity", "entropy", "kl_divergence"]

# Rows of logits processed at once by `perplexity`: bounds the float64 temporaries.
_CHUNK_ELEMENTS = 1 << 20


# --------------------------------------------------------------------------------------
# Input checks specific to the metrics (generic ones live in _validation.py)
# --------------------------------------------------------------------------------------


def _py(value: Any) -> Any:
    """A NumPy scalar as the Python value, so messages read ``1.5``, not ``np.float64(1.5)``."""
    return value.item() if isinstance(value, np.generic) else value


def _raise_at(name: str, requirement: str, arr: np.ndarray, bad: np.ndarray) -> None:
    """ValueError naming `name`, the requirement, the first bad value and its index."""
    where = _first_index(bad)
    raise ValueError(f"`{name}` {requirement}; got {_py(arr[where])!r} at index {where}")


def _check_finite(arr: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        _raise_at(name, "must be finite", arr, bad)


def _as_probabilities(y_prob: Any) -> np.ndarray:
    """`y_prob` as a 1-D or 2-D float array in scikit-learn's dtype, finite, in [0, 1].

    Float arrays keep their dtype (float16, float32, float64); integer and boolean
    arrays and Python sequences become float64, as ``sklearn.utils.check_array``
    does. The dtype matters: probabilities are clipped to its machine epsilon.
    """
    has_numpy_dtype = hasattr(getattr(y_prob, "dtype", None), "kind")
    arr = to_numpy(y_prob)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"`y_prob` must be a real numeric array of probabilities; got dtype {arr.dtype}"
        )
    if arr.dtype not in FLOAT_DTYPES or not has_numpy_dtype:
        arr = arr.astype(np.float64)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"`y_prob` must be 1-D (probability of the positive class) or 2-D "
            f"(n_samples, n_classes); got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"`y_prob` is empty (shape {arr.shape}); need at least one sample")
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise ValueError(f"`y_prob` has zero classes (shape {arr.shape})")
    _check_finite(arr, "y_prob")
    bad = (arr < 0) | (arr > 1)
    if bad.any():
        _raise_at("y_prob", "must be in [0, 1]", arr, bad)
    return arr


def _check_label_values(arr: np.ndarray, name: str) -> None:
    """Class labels are integers, booleans or strings; floats must be integral, never NaN."""
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            _raise_at(name, "holds class labels, which must be integers or strings", arr, bad)
    elif arr.dtype.kind == "c":
        raise TypeError(f"`{name}` must hold integer or string class labels; got dtype {arr.dtype}")
    elif arr.dtype.kind == "O":
        for i, v in enumerate(arr.ravel()):
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                raise ValueError(
                    f"`{name}` must not contain missing labels; got {v!r} at index {i}"
                )


def _unique(arr: np.ndarray, name: str) -> np.ndarray:
    try:
        return np.unique(arr)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in arr.ravel()})
        raise TypeError(
            f"`{name}` mixes label types ({', '.join(kinds)}); use one type for all labels"
        ) from None


def _encode(y_true: np.ndarray, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """(classes, codes): sorted classes and each label's column index, as LabelBinarizer."""
    if labels is None:
        classes = _unique(y_true, "y_true")
        codes = np.searchsorted(classes, y_true)
        return classes, codes
    lab = to_numpy(labels)
    if lab.ndim != 1:
        raise ValueError(f"`labels` must be a 1-D sequence of class labels; got shape {lab.shape}")
    _check_label_values(lab, "labels")
    classes = _unique(lab, "labels")
    if classes.shape[0] != lab.shape[0]:
        raise ValueError(f"`labels` must not contain duplicates; got {lab.tolist()}")
    if classes.shape[0] < 2:
        raise ValueError(f"`labels` must contain at least two classes; got {lab.tolist()}")
    if not np.array_equal(classes, lab):
        warnings.warn(
            f"`labels` were passed as {lab.tolist()}, but the columns of `y_prob` are taken "
            f"to follow the sorted order {classes.tolist()} (as in scikit-learn); pass "
            f"labels={classes.tolist()} and order the columns of `y_prob` that way.",
            UserWarning,
            stacklevel=4,
        )
    codes = np.zeros(y_true.shape, np.intp)
    found = np.zeros(y_true.shape, bool)
    try:  # a label of another type (a string among numbers) is simply not found
        codes = np.clip(np.searchsorted(classes, y_true), 0, classes.shape[0] - 1)
        found = np.asarray(classes[codes] == y_true, dtype=bool)
    except TypeError:
        pass
    if found.shape != y_true.shape or not found.all():
        found = found if found.shape == y_true.shape else np.zeros(y_true.shape, bool)
        missing = _unique(y_true[~found], "y_true").tolist()
        raise ValueError(
            f"`y_true` contains labels {missing[:10]} that are not in `labels` {lab.tolist()}"
        )
    return classes, codes


def _check_sample_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    """Per-sample weights: 1-D, length n, finite, non-negative, not all zero."""
    if sample_weight is None:
        return None
    w = to_numpy(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"`sample_weight` must be a real numeric array; got dtype {w.dtype}")
    w = w.astype(np.float64)
    if w.shape != (n,):
        raise ValueError(
            f"`sample_weight` must have shape ({n},), one weight per sample; got {w.shape}"
        )
    _check_finite(w, "sample_weight")
    if (w < 0).any():
        _raise_at("sample_weight", "must be non-negative", w, w < 0)
    if not w.any():
        raise ValueError("`sample_weight` must contain at least one non-zero weight; got all zeros")
    return w


def _check_normalize(normalize: Any) -> bool:
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"`normalize` must be a bool; got {_describe(normalize)}")
    return bool(normalize)


def _weighted(losses: np.ndarray, w: np.ndarray | None, normalize: bool) -> float:
    """Weighted mean (normalize) or weighted sum of per-sample losses, as a Python float."""
    if w is None:
        total, weight = float(np.sum(losses)), float(losses.shape[0])
    else:
        total, weight = float(np.dot(w, losses)), float(np.sum(w))
    return total / weight if normalize else total


class _Targets:
    """`y_true` encoded against the columns of `y_prob`.

    Exactly one of `codes` (column index of each sample's class) and `indicator`
    (an (n, n_classes) 0/1 matrix) is set.
    """

    def __init__(
        self, classes: np.ndarray | None, codes: np.ndarray | None, indicator: np.ndarray | None
    ) -> None:
        self.classes = classes
        self.codes = codes
        self.indicator = indicator

    @property
    def n_classes(self) -> int:
        if self.indicator is not None:
            return self.indicator.shape[1]
        return self.classes.shape[0]


def _as_true_labels(y_true: Any, n: int) -> np.ndarray:
    arr = to_numpy(y_true)
    if arr.ndim == 2 and arr.shape[1] == 1:  # a column vector is a 1-D target
        arr = arr[:, 0]
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"`y_true` must be 1-D class labels or a 2-D indicator matrix; got shape {arr.shape}"
        )
    if arr.shape[0] != n:
        raise ValueError(
            f"`y_true` must have one entry per row of `y_prob` ({n}); got {arr.shape[0]}"
        )
    _check_label_values(arr, "y_true")
    return arr


def _encode_targets(y_true: np.ndarray, labels: Any, *, binary_1d: bool) -> _Targets:
    """Encode `y_true` as scikit-learn's LabelBinarizer would (sorted classes)."""
    if y_true.ndim == 2:
        if labels is not None:
            raise ValueError(
                "`labels` cannot be used when `y_true` is a 2-D indicator matrix "
                f"(shape {y_true.shape}); its columns are the classes"
            )
        if y_true.dtype.kind not in "biuf":
            raise TypeError(
                f"a 2-D `y_true` must be a 0/1 indicator matrix; got dtype {y_true.dtype}"
            )
        bad = (y_true != 0) & (y_true != 1)
        if bad.any():
            _raise_at(
                "y_true", "given as a 2-D indicator matrix must hold only 0 and 1", y_true, bad
            )
        return _Targets(None, None, y_true.astype(np.float64))
    classes, codes = _encode(y_true, labels)
    if classes.shape[0] == 1:
        raise ValueError(
            f"`y_true` contains only one label ({_py(classes[0])!r}); pass all expected class "
            f"labels with `labels=`{' (e.g. labels=[0, 1])' if binary_1d else ''}"
        )
    return _Targets(classes, codes, None)


def _check_columns(targets: _Targets, n_columns: int, labels: Any) -> None:
    if targets.n_classes == n_columns:
        return
    if targets.indicator is not None:
        where = f"`y_true` has {targets.n_classes} indicator columns"
    elif labels is None:
        where = (
            f"`y_true` has {targets.n_classes} classes {targets.classes.tolist()[:10]}; "
            "pass all class labels with `labels=`"
        )
    else:
        where = f"`labels` has {targets.n_classes} classes"
    raise ValueError(f"`y_prob` has {n_columns} column(s) but {where}")


def _warn_if_not_normalised(p: np.ndarray) -> None:
    """UserWarning when a row of 2-D `y_prob` does not sum to 1 within sqrt(eps) (scikit-learn)."""
    sums = np.sum(p, axis=1)
    tol = 1e-8 + math.sqrt(float(np.finfo(p.dtype).eps))
    off = np.abs(sums.astype(np.float64) - 1.0) > tol
    if off.any():
        row = int(np.argmax(off))
        warnings.warn(
            f"The rows of `y_prob` do not all sum to 1 (row {row} sums to {float(sums[row])!r}); "
            "make sure to pass probabilities.",
            UserWarning,
            stacklevel=3,
        )


def _prepare(y_true: Any, y_prob: Any, labels: Any, sample_weight: Any):
    """Shared validation of log_loss and brier_score (2-D or multiclass-capable path)."""
    p = _as_probabilities(y_prob)
    n = p.shape[0]
    t = _as_true_labels(y_true, n)
    w = _check_sample_weight(sample_weight, n)
    binary_1d = p.ndim == 1 or p.shape[1] == 1
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    return p, t, w, binary_1d


# --------------------------------------------------------------------------------------
# log_loss
# --------------------------------------------------------------------------------------


def log_loss(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    normalize: bool = True,
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
    y_prob : array_like of shape (n_samples, n_classes) or (n_samples,)
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
    normalize = _check_normalize(normalize)
    p, t, w, binary_1d = _prepare(y_true, y_prob, labels, sample_weight)
    targets = _encode_targets(t, labels, binary_1d=binary_1d)
    _check_columns(targets, 2 if binary_1d else p.shape[1], labels)
    if not binary_1d:
        _warn_if_not_normalised(p)

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
    return _weighted(losses, w, normalize)


# --------------------------------------------------------------------------------------
# brier_score
# --------------------------------------------------------------------------------------


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
    y_prob: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
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
    y_prob : array_like of shape (n_samples,) or (n_samples, n_classes)
        Predicted probabilities in [0, 1]. A 1-D array is the probability of the
        positive class, the greater label; columns follow the sorted labels, as
        for :func:`log_loss` (rows that do not sum to 1 warn).
    labels : array_like of shape (n_classes,), optional
        All class labels when `y_true` lacks some (sorted to give the column order).
    sample_weight : array_like of shape (n_samples,), optional
        Non-negative per-sample weights, not all zero.

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
    p, t, w, binary_1d = _prepare(y_true, y_prob, labels, sample_weight)
    if binary_1d:
        positive = _single_numeric_class_positive(t, labels)
        if positive is None:
            targets = _encode_targets(t, labels, binary_1d=True)
            _check_columns(targets, 2, labels)
            if targets.codes is not None:
                positive = targets.codes == 1
        if positive is not None:
            # Halved two-column form: ((1-y) - (1-p))^2 + (y - p)^2 = 2 (y - p)^2.
            d = positive.astype(np.float64) - p.astype(np.float64)
            return _weighted(d * d, w, True)
        # An indicator `y_true` against a 1-D `y_prob`: the two columns are [1 - p, p].
        p = np.stack((1.0 - p.astype(np.float64), p), axis=1)
    else:
        targets = _encode_targets(t, labels, binary_1d=False)
        _check_columns(targets, p.shape[1], labels)
        _warn_if_not_normalised(p)
    d = p.astype(np.float64)  # a copy: y_ic - p_ic is -p_ic except in the true class
    if targets.indicator is not None:
        d -= targets.indicator
    else:
        d[np.arange(d.shape[0]), targets.codes] -= 1.0
    scores = np.einsum("ij,ij->i", d, d)
    return _weighted(scores, w, True) * (0.5 if p.shape[1] == 2 else 1.0)


# --------------------------------------------------------------------------------------
# perplexity
# --------------------------------------------------------------------------------------


def _raise_bad_position(z: np.ndarray, m: float, flat: int, lead_shape: tuple) -> None:
    """The error for one row of logits (classes `z`, max `m`) at flat position `flat`.

    The position indexes `logits` without its class axis (= `target`'s index).
    """
    idx = np.unravel_index(flat, lead_shape) if len(lead_shape) > 1 else (flat,)
    where = idx[0] if len(idx) == 1 else tuple(int(i) for i in idx)
    if np.isnan(z).any() or np.isposinf(z).any():
        what = "NaN or +inf"
    elif np.isneginf(m):
        what = "a row with no finite entry (all -inf)"
    else:
        what = "-inf at the target class (probability 0)"
    raise ValueError(f"`logits` must not contain {what}; found at position {where}")


def perplexity(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = -1,
    ignore_index: int = -100,
) -> float:
    r"""Perplexity of integer targets under softmax(logits): exp of the mean cross-entropy.

    .. math::

        \operatorname{PPL} = \exp\Big(\frac{1}{|V|} \sum_{i \in V} \big(
            \operatorname{LSE}(x_i) - x_{i, y_i}\big)\Big), \qquad
        \operatorname{LSE}(x) = m + \log \sum_j e^{x_j - m},\ m = \max_j x_j

    over the positions :math:`V` whose target is not `ignore_index`. It is the
    same number in any log base (:math:`b^{H/\log b} = e^H`), so there is no
    ``base`` argument. ``exp(ll.cross_entropy(logits, target))`` gives the same
    value for unweighted targets; this function works in float64 over blocks of
    rows, so large vocabularies in float16/float32 neither overflow nor hold a
    full-size float64 copy.

    Parameters
    ----------
    logits : array_like of float16, float32 or float64
        Unnormalised scores, classes along `axis`, e.g. (n_tokens, vocab) or
        (batch, seq_len, vocab). Log-probabilities work too (``log_softmax`` of
        log-probabilities is themselves), so ``perplexity(np.log(probs), target)``
        is the perplexity of probabilities. ``-inf`` masks a class; a masked
        target, a row of only ``-inf``, NaN or ``+inf`` are a ``ValueError``
        naming the position. Rows whose target is ignored are not read.
    target : array_like of int
        Class indices in [0, n_classes), shaped like `logits` without `axis`.
        Positions equal to `ignore_index` are left out.
    axis : int, default -1
        The class axis of `logits`.
    ignore_index : int, default -100
        Target value that marks a position to skip (padding).

    Returns
    -------
    float
        The perplexity, >= 1; ``inf`` when the mean loss exceeds about 709.78
        (``exp`` overflows float64).

    Raises
    ------
    ValueError
        Bad shapes or labels, an empty batch, or every target ignored (the mean
        over zero tokens is undefined, so no value is made up).

    Notes
    -----
    From a mean loss you already have, perplexity is ``math.exp(loss)``; in bits
    per token use ``math.log2(perplexity(...))``.

    Examples
    --------
    >>> import numpy as np
    >>> from logloss.metrics import perplexity
    >>> logits = np.log(np.array([[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.2, 0.2, 0.6]]))
    >>> perplexity(logits, np.array([0, 1, -100]))   # both kept tokens have p = 0.5
    2.0
    >>> perplexity(np.zeros((4, 10)), np.arange(4))  # uniform over 10 classes
    10.0
    """
    x = as_float_array(logits, "logits")
    if x.ndim == 0:
        raise ValueError("`logits` must have at least one dimension (the class axis); got a scalar")
    ax = check_axis(axis, x.ndim, "logits")
    n_classes = x.shape[ax]
    check_nonempty_classes(n_classes, "logits")
    ignore_index = check_ignore_index(ignore_index)
    moved = np.moveaxis(x, ax, -1)
    y = check_labels(target, moved.shape[:-1], n_classes, ignore_index, "target")
    if y.size == 0:
        raise ValueError(
            f"`logits` is empty (shape {x.shape}); perplexity needs at least one token"
        )

    # Blocks of the leading axis (rows of (rows, C) when 2-D) keep temporaries small.
    lead_shape = moved.shape[:-1]
    if moved.ndim == 1:
        moved, y = moved[None, :], y[None]
    per_lead = int(np.prod(moved.shape[1:-1], dtype=np.int64)) * n_classes
    step = max(1, _CHUNK_ELEMENTS // max(per_lead, 1))
    total, count, row0 = 0.0, 0, 0
    for start in range(0, moved.shape[0], step):
        block = moved[start : start + step].reshape(-1, n_classes)
        labels = y[start : start + step].reshape(-1)
        keep = labels != ignore_index
        rows = np.nonzero(keep)[0]
        if rows.size:
            z = block[rows].astype(np.float64, copy=False)
            m = np.max(z, axis=1)  # NaN propagates into m; +inf makes m = +inf
            zy = z[np.arange(rows.size), labels[rows]]
            bad = ~np.isfinite(m) | np.isneginf(zy)
            if bad.any():
                k = int(np.argmax(bad))
                _raise_bad_position(z[k], m[k], row0 + int(rows[k]), lead_shape)
            # LSE(z) - z_y = log sum_j e^{z_j - m} - (z_y - m): every exponent is <= 0.
            total += float(np.sum(np.log(np.sum(np.exp(z - m[:, None]), axis=1)) - (zy - m)))
            count += rows.size
        row0 += labels.shape[0]
    if count == 0:
        raise ValueError(
            f"every `target` equals ignore_index={ignore_index}: "
            "perplexity over zero tokens is undefined"
        )
    try:
        return math.exp(total / count)
    except OverflowError:
        return math.inf


# --------------------------------------------------------------------------------------
# entropy, kl_divergence
# --------------------------------------------------------------------------------------


def _as_distribution(x: Any, name: str) -> np.ndarray:
    arr = to_numpy(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be a real numeric array; got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(
            f"`{name}` must have at least one dimension (the distribution axis); "
            f"got a scalar {_py(arr[()])!r}"
        )
    return arr


def _check_distribution(arr: np.ndarray, ax: int, name: str) -> np.ndarray:
    """Finite, non-negative, positive sums along `ax`; returns it normalised, in float64."""
    if arr.shape[ax] == 0:
        raise ValueError(f"`{name}` is empty along axis {ax} (shape {arr.shape})")
    _check_finite(arr, name)
    if (arr < 0).any():
        _raise_at(name, "must be non-negative", arr, arr < 0)
    a = arr.astype(np.float64)
    s = np.sum(a, axis=ax, keepdims=True)
    if (s == 0).any():
        where = _first_index(np.squeeze(s == 0, axis=ax)) if arr.ndim > 1 else 0
        raise ValueError(
            f"`{name}` must have a positive sum along axis {ax}; the distribution at "
            f"index {where} sums to 0"
        )
    return a / s


def _check_base(base: Any) -> float | None:
    if base is None:
        return None
    b = check_scalar(base, "base", low=0.0, low_inclusive=False)
    if b == 1.0:
        raise ValueError("`base` must be positive and not 1; got 1.0")
    return b


def _result_dtype(*arrays: np.ndarray) -> np.dtype:
    dt = np.result_type(*arrays)
    return dt if dt in FLOAT_DTYPES else np.dtype(np.float64)


def entropy(p: ArrayLike, *, axis: int = -1, base: float | None = None) -> NDArray:
    r"""Shannon entropy of discrete distributions along `axis`.

    .. math:: H(p) = -\sum_k p_k \log p_k, \qquad 0 \log 0 = 0

    As ``scipy.stats.entropy``, `p` is first normalised to sum to 1 along `axis`,
    so counts work as well as probabilities.

    Parameters
    ----------
    p : array_like
        Non-negative, finite values (float, integer or boolean); every
        distribution must have a positive sum.
    axis : int, default -1
        The axis that holds each distribution (scipy's default is 0).
    base : float, optional
        Logarithm base: None for nats (natural log), 2 for bits.

    Returns
    -------
    ndarray or scalar
        `p`'s shape without `axis`, in `p`'s float dtype (float64 for integers);
        values in :math:`[0, \log K]` for :math:`K` outcomes.

    Examples
    --------
    >>> import numpy as np
    >>> from logloss.metrics import entropy
    >>> entropy(np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]]), base=2)
    array([1., 0.])
    >>> entropy([1, 1, 1, 1])   # counts are normalised: log(4) nats
    np.float64(1.3862943611198906)
    """
    arr = _as_distribution(p, "p")
    ax = check_axis(axis, arr.ndim, "p")
    b = _check_base(base)
    q = _check_distribution(arr, ax, "p")
    with np.errstate(divide="ignore", invalid="ignore"):
        # -p log p, with the limit 0 at p = 0.
        terms = np.where(q > 0, -q * np.log(np.where(q > 0, q, 1.0)), 0.0)
    h = np.sum(terms, axis=ax)
    if b is not None:
        h = h / math.log(b)
    return as_result(h, _result_dtype(arr))


def kl_divergence(
    p: ArrayLike, q: ArrayLike, *, axis: int = -1, base: float | None = None
) -> NDArray:
    r"""Kullback-Leibler divergence :math:`D_{KL}(p \,\|\, q)` along `axis`.

    .. math::

        D_{KL}(p \,\|\, q) = \sum_k p_k \log \frac{p_k}{q_k}, \qquad
        0 \log \frac{0}{q} = 0, \quad p \log \frac{p}{0} = +\infty \ (p > 0)

    As ``scipy.stats.entropy(p, q)``, both are normalised along `axis` first. The
    result is ``inf`` exactly when some :math:`q_k = 0` with :math:`p_k > 0`
    (no warning is raised: that is the divergence's value, not an overflow).

    Parameters
    ----------
    p : array_like
        The reference distribution(s): non-negative, finite, positive sums.
    q : array_like
        The approximating distribution(s), same conditions; `p` and `q` broadcast
        against each other (e.g. one `q` for a batch of `p`).
    axis : int, default -1
        The axis that holds each distribution.
    base : float, optional
        Logarithm base: None for nats, 2 for bits.

    Returns
    -------
    ndarray or scalar
        The broadcast shape without `axis`; values >= 0 (``inf`` possible).

    Examples
    --------
    >>> import numpy as np
    >>> from logloss.metrics import kl_divergence
    >>> kl_divergence([0.5, 0.5], [0.25, 0.75], base=2)
    np.float64(0.20751874963942185)
    >>> kl_divergence([0.5, 0.5], [1.0, 0.0])
    np.float64(inf)
    """
    pa = _as_distribution(p, "p")
    qa = _as_distribution(q, "q")
    try:
        shape = np.broadcast_shapes(pa.shape, qa.shape)
    except ValueError:
        raise ValueError(
            f"`p` of shape {pa.shape} and `q` of shape {qa.shape} do not broadcast together"
        ) from None
    ax = check_axis(axis, len(shape), "p")
    b = _check_base(base)
    pa_b, qa_b = np.broadcast_to(pa, shape), np.broadcast_to(qa, shape)
    pn = _check_distribution(pa_b, ax, "p")
    qn = _check_distribution(qa_b, ax, "q")
    pos = pn > 0
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        ratio = np.where(pos, pn, 1.0) / np.where(qn > 0, qn, 1.0)
        log_ratio = np.log(ratio)
        # p/q can overflow (tiny q) or underflow; log p - log q is exact in range there.
        bad = pos & (qn > 0) & ~((ratio > 0) & np.isfinite(ratio))
        if bad.any():
            log_ratio = np.where(
                bad, np.log(np.where(pos, pn, 1.0)) - np.log(np.where(qn > 0, qn, 1.0)), log_ratio
            )
        terms = np.where(pos, np.where(qn > 0, pn * log_ratio, np.inf), 0.0)
    d = np.sum(terms, axis=ax)
    if b is not None:
        d = d / math.log(b)
    return as_result(d, _result_dtype(pa, qa))
