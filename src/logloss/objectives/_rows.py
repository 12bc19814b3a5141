"""The training rows an objective owns: X in its compute dtype, encoded targets, weights.

Sample weights are stored divided by their sum S (so the data term is a weighted
mean), together with S, which scales the penalty: ``alpha / (2 S) ||W||^2``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from .._array import is_sparse

Link = Literal["softmax", "sigmoid"]


def normalised_weights(
    sample_weight: NDArray | None, n_samples: int, dtype: np.dtype
) -> tuple[NDArray | None, float]:
    """Sample weights divided by their sum S, and S (``None`` and n when unweighted).

    Examples
    --------
    >>> import numpy as np
    >>> normalised_weights(np.array([1.0, 3.0]), 2, np.dtype(np.float64))
    (array([0.25, 0.75]), 4.0)
    >>> normalised_weights(None, 5, np.dtype(np.float32))
    (None, 5.0)
    """
    if sample_weight is None:
        return None, float(n_samples)
    total = float(np.sum(sample_weight, dtype=np.float64))
    return (np.asarray(sample_weight, dtype=np.float64) / total).astype(dtype), total


class TrainingRows:
    """X (C-contiguous, its dtype is the compute dtype), encoded targets and weights.

    A ``scipy.sparse`` X is kept sparse, as CSR (converted once if in another format):
    the objectives only multiply it by dense parameter blocks and slice its rows.

    ``link="softmax"``: the targets are int64 labels in ``[0, n_classes)`` and the model
    has K' = K outputs; ``link="sigmoid"``: the targets are ``y == 1`` in the compute
    dtype (the kernels read them as floats) and the model has one output.
    """

    def __init__(
        self,
        X: NDArray,
        y: NDArray,
        *,
        n_classes: int,
        link: Link,
        sample_weight: NDArray | None,
    ):
        self.X = X.tocsr() if is_sparse(X) else np.ascontiguousarray(X)
        self.dtype = self.X.dtype
        self.n_samples, self.n_features = self.X.shape
        self.n_classes = int(n_classes)
        self.link = link
        self.k = self.n_classes if link == "softmax" else 1
        y = np.asarray(y)
        if link == "softmax":
            self.y = y.astype(np.int64, copy=False)
        else:
            self.y = (y == 1).astype(self.dtype)
        self.sw, self.sw_sum = normalised_weights(sample_weight, self.n_samples, self.dtype)

    def select(self, rows: NDArray | None) -> tuple[NDArray, NDArray, NDArray | None, float]:
        """``(X, y, sw, S)`` of `rows` (all rows for None), weights renormalised over them."""
        if rows is None:
            return self.X, self.y, self.sw, self.sw_sum
        if self.sw is None:
            sw, sw_sum = None, float(len(rows))
        else:
            raw = self.sw[rows].astype(np.float64) * self.sw_sum
            sw_sum = float(raw.sum())
            sw = (raw / sw_sum).astype(self.dtype) if sw_sum > 0 else raw.astype(self.dtype)
        return self.X[rows], self.y[rows], sw, sw_sum

    def column_squares(self) -> NDArray:
        """``sum_i s~_i x_ij^2`` for every feature j (float64; s~ the normalised weights,
        1/n when unweighted): :func:`weighted_column_squares` of the rows.

        Examples
        --------
        >>> import numpy as np
        >>> from scipy.sparse import csr_matrix
        >>> X = np.array([[1.0, 0.0], [3.0, 2.0]])
        >>> rows = TrainingRows(X, np.array([0, 1]), n_classes=2, link="sigmoid",
        ...                     sample_weight=None)
        >>> rows.column_squares()
        array([5., 2.])
        >>> TrainingRows(csr_matrix(X), np.array([0, 1]), n_classes=2, link="sigmoid",
        ...              sample_weight=np.array([3.0, 1.0])).column_squares()
        array([3., 1.])
        """
        if self.sw is None:
            return weighted_column_squares(self.X, None) / self.n_samples
        return weighted_column_squares(self.X, self.sw)


# elements of X per block of weighted_column_squares (8 MiB as float64)
_SQUARES_BLOCK = 1 << 20


def weighted_column_squares(X: NDArray, weights: NDArray | None) -> NDArray:
    """``sum_i w_i x_ij^2`` for every column j of a dense or CSR X (float64; w_i = 1 for
    None), in blocks of rows of about 8 MiB: no copy of X is made.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse import csr_matrix
    >>> X = np.array([[1.0, 0.0], [3.0, 2.0]])
    >>> weighted_column_squares(X, None)
    array([10.,  4.])
    >>> weighted_column_squares(csr_matrix(X), np.array([2.0, 1.0]))
    array([11.,  4.])
    """
    n, d = X.shape
    out = np.zeros(d)
    sparse = is_sparse(X)
    per_row = max(1, X.nnz // max(1, n)) if sparse else max(1, d)
    step = max(1, _SQUARES_BLOCK // per_row)
    for start in range(0, n, step):
        stop = min(start + step, n)
        w = None if weights is None else np.asarray(weights[start:stop], dtype=np.float64)
        if sparse:
            lo, hi = int(X.indptr[start]), int(X.indptr[stop])
            vals = X.data[lo:hi].astype(np.float64)
            vals *= vals
            if w is not None:
                vals *= np.repeat(w, np.diff(X.indptr[start : stop + 1]))
            out += np.bincount(X.indices[lo:hi], weights=vals, minlength=d)
        else:
            Xb = np.asarray(X[start:stop], dtype=np.float64)
            Xb = Xb * Xb
            out += Xb.sum(axis=0) if w is None else w @ Xb
    return out
