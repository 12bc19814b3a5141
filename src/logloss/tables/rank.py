"""Rank deficiency of an encoded design matrix, found before an unpenalised fit.

Without a penalty, the coefficients of a design whose columns are linearly dependent
(a constant column beside the intercept, a duplicated column, one column a sum of
others, an indicator equal to another column) are not identified: infinitely many
maximise the likelihood, and their standard errors are undefined. :func:`check_rank`
finds every such dependency in one blocked pass over the rows and names its columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["BLOCK_ROWS", "RankDeficiencyError", "centred_gram", "check_rank", "dependencies"]

BLOCK_ROWS = 65_536
# Most dependencies one message lists (the count of the others is given).
_MOST_LISTED = 6


class RankDeficiencyError(ValueError):
    """The encoded columns are linearly dependent (a ``ValueError``); ``relations`` holds
    one readable relation per dependency, e.g. ``"a = b + c"``."""

    def __init__(self, message: str, relations: list[str]) -> None:
        super().__init__(message)
        self.relations = relations


def centred_gram(X: Any, block_rows: int = BLOCK_ROWS) -> tuple[NDArray, NDArray, int]:
    """``(C, mean, n)``: the covariance ``C = Z^T Z / n`` of the centred columns of `X` and
    their means, from one pass over blocks of rows, accumulated in float64.

    Each dense block is shifted by the first block's column means before its products are
    summed (``C = S/n - m m^T`` on the shifted sums then loses no digits to a large mean);
    a ``scipy.sparse`` X is not shifted, so it stays sparse.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 13.0]])
    >>> C, mean, n = centred_gram(X, block_rows=2)
    >>> np.allclose(C, np.cov(X.T, bias=True)), mean.tolist(), n
    (True, [2.0, 11.0], 3)
    """
    n, p = X.shape
    sparse = hasattr(X, "tocsr")
    first = X[: min(block_rows, n)]
    shift = np.zeros(p) if sparse else np.asarray(first, dtype=np.float64).mean(axis=0)
    S = np.zeros((p, p))
    s = np.zeros(p)
    for start in range(0, n, block_rows):
        block = X[start : start + block_rows]
        if sparse:
            S += (block.T @ block).toarray()
            s += np.asarray(block.sum(axis=0)).ravel()
        else:
            Z = np.asarray(block, dtype=np.float64) - shift
            S += Z.T @ Z
            s += Z.sum(axis=0)
    m = s / max(n, 1)
    C = S / max(n, 1) - np.outer(m, m)
    return 0.5 * (C + C.T), m + shift, n


def dependencies(
    X: Any,
    names: Sequence[str],
    *,
    offsets: Sequence[float] | None = None,
    scales: Sequence[float] | None = None,
    block_rows: int = BLOCK_ROWS,
) -> list[tuple[list[str], str]]:
    """Every linear dependency among the columns of `X` and an intercept.

    The columns are centred (the intercept takes the means) and scaled to unit variance,
    and :func:`logloss.stats._inputs.linear_dependencies` finds the dependencies of the
    standardised design (relative tolerance ``RANK_TOL`` = 1e-10 on the unexplained
    variance of a column). A column of variance at most 1e-10 of its mean square is
    constant: the intercept's multiple.

    `offsets` and `scales` say how each column was encoded from the table's
    (``x = (raw - offset) / scale``); the relations are written in the table's units.

    Returns
    -------
    list of (columns, relation)
        The names involved and the relation, solved for the first of them, e.g.
        ``(["a", "b", "c"], "a = b + c")`` or ``(["k"], "k is constant")``.

    Examples
    --------
    >>> import numpy as np
    >>> b, c = np.arange(6.0), np.array([1.0, 0, 2, 5, 3, 3])
    >>> X = np.column_stack([b + c, b, c, np.full(6, 2.0)])
    >>> dependencies(X, ["a", "b", "c", "k"])
    [(['k'], 'k is constant (2)'), (['a', 'b', 'c'], 'a = b + c')]
    """
    from ..stats._inputs import RANK_TOL, linear_dependencies

    p = X.shape[1]
    names = [str(n) for n in names]
    if len(names) != p:
        raise ValueError(f"`names` has {len(names)} names for {p} columns")
    offsets = np.zeros(p) if offsets is None else np.asarray(offsets, dtype=np.float64)
    scales = np.ones(p) if scales is None else np.asarray(scales, dtype=np.float64)
    C, mean, _ = centred_gram(X, block_rows)
    var = np.diag(C).copy()
    constant = var <= RANK_TOL * (var + mean**2)
    found: list[tuple[list[str], str]] = []
    for j in np.flatnonzero(constant):
        value = _num(offsets[j] + scales[j] * mean[j])
        found.append(([names[j]], f"{names[j]} is constant ({value})"))
    live = np.flatnonzero(~constant)
    for members, coefs in linear_dependencies(C[np.ix_(live, live)]):
        cols = live[members]
        # sum_k c_k (x_k - mean_k) = 0 with x_k = (raw_k - offset_k) / scale_k:
        # sum_k (c_k / scale_k) raw_k = sum_k c_k (mean_k + offset_k / scale_k)
        a = coefs / scales[cols]
        rhs = float(np.sum(coefs * (mean[cols] + offsets[cols] / scales[cols])))
        found.append(([names[k] for k in cols], _relation([names[k] for k in cols], a, rhs)))
    return found


def check_rank(X: Any, names: Sequence[str], units: tuple[Any, Any] | None = None) -> None:
    """Raise :class:`RankDeficiencyError` naming the columns of every linear dependency
    among the columns of `X` (beside an intercept); see :func:`dependencies`, whose
    `offsets` and `scales` are `units` (:func:`encoded_units`).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(5.0)
    >>> check_rank(np.column_stack([x, 2 * x + 1]), ["x", "y"])
    Traceback (most recent call last):
    ...
    logloss.tables.rank.RankDeficiencyError: the encoded training columns are linearly dependent, so the unpenalised coefficients are not identified (and have no standard errors): columns `x` and `y` are linearly dependent (x = 0.5·y - 0.5): drop one
    """  # noqa: E501
    offsets, scales = (None, None) if units is None else units
    found = dependencies(X, names, offsets=offsets, scales=scales)
    if not found:
        return
    parts = [_clause(cols, relation) for cols, relation in found[:_MOST_LISTED]]
    if len(found) > _MOST_LISTED:
        parts.append(f"and {len(found) - _MOST_LISTED} more dependencies")
    raise RankDeficiencyError(
        "the encoded training columns are linearly dependent, so the unpenalised "
        "coefficients are not identified (and have no standard errors): " + "; ".join(parts),
        [relation for _, relation in found],
    )


def _clause(cols: list[str], relation: str) -> str:
    if len(cols) == 1:
        return f"column `{cols[0]}` is constant in the training rows, as the intercept: drop it"
    quoted = [f"`{c}`" for c in cols]
    listed = ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
    return f"columns {listed} are linearly dependent ({relation}): drop one"


def _num(x: float) -> str:
    return f"{x:.4g}"


def _relation(names: list[str], a: NDArray, rhs: float) -> str:
    """``sum_k a_k names_k = rhs`` solved for the first name, e.g. ``"a = b + 2·c - 1"``."""
    lead, rest = a[0], -a[1:] / a[0]
    terms = []
    for name, c in zip(names[1:], rest, strict=True):
        sign = "-" if c < 0 else "+"
        size = abs(c)
        body = name if abs(size - 1.0) < 1e-6 else f"{_num(size)}·{name}"
        terms.append((sign, body))
    const = rhs / lead
    # a constant below 1e-9 of the terms' size is rounding
    if abs(const) > 1e-9 * max(1.0, float(np.abs(rest).max(initial=0.0))):
        terms.append(("-" if const < 0 else "+", _num(abs(const))))
    if not terms:
        return f"{names[0]} = 0"
    text = ("-" if terms[0][0] == "-" else "") + terms[0][1]
    text += "".join(f" {sign} {body}" for sign, body in terms[1:])
    return f"{names[0]} = {text}"


def encoded_units(preprocessor: Any) -> tuple[NDArray, NDArray]:
    """``(offsets, scales)`` of each encoded column of a fitted
    :class:`~logloss.tables.preprocess.Preprocessor`: a numeric column's training mean and
    scale, ``(0, 1)`` for an indicator."""
    offsets: list[float] = []
    scales: list[float] = []
    for col in preprocessor.columns:
        if col in preprocessor.numeric:
            spec = preprocessor.numeric[col]
            offsets.append(float(spec["mean"]))
            scales.append(float(spec["scale"]))
        else:
            spec = preprocessor.categorical[col]
            width = len(spec["categories"]) - (spec["reference"] is not None)
            offsets += [0.0] * width
            scales += [1.0] * width
    return np.array(offsets), np.array(scales)
