"""Information measures: perplexity of logits, entropy and KL divergence of distributions.

:func:`entropy` and :func:`kl_divergence` follow ``scipy.stats.entropy`` (inputs
are normalised along `axis`) and return one value per distribution.
:func:`perplexity` takes logits and integer targets, like
:func:`logloss.cross_entropy`, and returns a Python float.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._array import FLOAT_DTYPES, as_result, to_numpy
from .._stable import log_softmax
from .._validation import (
    _first_index,
    as_float_array,
    check_axis,
    check_finite,
    check_ignore_index,
    check_labels,
    check_nonempty_classes,
    check_scalar,
)
from ._score_inputs import py_value, raise_at

__all__ = ["perplexity", "entropy", "kl_divergence"]

# Rows of logits processed at once by `perplexity`: bounds the float64 temporaries.
_CHUNK_ELEMENTS = 1 << 20


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
            # LSE(z) - z_y = -log_softmax(z)_y = log sum_j e^{z_j - m} - (z_y - m): every
            # exponent is <= 0 and nothing cancels (the identity lives in logloss._stable).
            total -= float(np.sum(log_softmax(z, axis=1)[np.arange(rows.size), labels[rows]]))
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


def _as_distribution(x: Any, name: str) -> np.ndarray:
    arr = to_numpy(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be a real numeric array; got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(
            f"`{name}` must have at least one dimension (the distribution axis); "
            f"got a scalar {py_value(arr[()])!r}"
        )
    return arr


def _check_distribution(arr: np.ndarray, ax: int, name: str) -> np.ndarray:
    """Finite, non-negative, positive sums along `ax`; returns it normalised, in float64."""
    if arr.shape[ax] == 0:
        raise ValueError(f"`{name}` is empty along axis {ax} (shape {arr.shape})")
    check_finite(arr, name)
    if (arr < 0).any():
        raise_at(name, "must be non-negative", arr, arr < 0)
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
