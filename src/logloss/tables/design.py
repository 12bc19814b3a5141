"""The design matrix of a table, dense or CSR, assembled from one piece per column group.

Each feature column of a table becomes a *piece* of the design matrix for a block
of rows, in one of three forms:

- :class:`NumericPiece`: one value per row (a standardised number), one column;
- :class:`SlotPiece`: at most one nonzero per row, at a column of the group's own
  (a one-hot level, a hashed bucket): ``slot[i]`` is that column, ``-1`` none;
- :class:`CsrPiece`: any rows of nonzeros (TF-IDF), as a scipy CSR matrix.

:func:`write_dense` writes the pieces side by side into rows of a float matrix;
:func:`assemble_csr` writes them straight into the three arrays of one CSR
matrix, never through a dense intermediate; :func:`stack_rows` joins the CSR
matrices of consecutive blocks, freeing each as it is copied. Both layouts hold
the same numbers (the CSR one stores the numeric columns' values, zeros included,
and no zero of the other groups).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .files import release_arrow_memory

__all__ = [
    "CsrPiece",
    "NumericPiece",
    "SlotPiece",
    "assemble_csr",
    "empty_csr",
    "stack_rows",
    "write_dense",
]


# nonzeros copied by stack_rows between two returns of freed memory to the system
_TRIM_EVERY = 1 << 22


class NumericPiece(NamedTuple):
    """One column: ``values[i]`` is row i's feature."""

    values: NDArray[np.float64]

    @property
    def width(self) -> int:
        return 1

    def row_counts(self) -> NDArray[np.intp] | int:
        return 1


class SlotPiece(NamedTuple):
    """`width` columns with at most one nonzero per row: ``value`` at column ``slot[i]``."""

    slot: NDArray[np.intp]  # (n,) column within the group; -1: the row has none
    value: NDArray[np.float64] | float  # (n,) or one value for every row
    width: int

    def row_counts(self) -> NDArray[np.intp]:
        return (self.slot >= 0).astype(np.intp)


class CsrPiece(NamedTuple):
    """`width` columns given as a CSR matrix with sorted column indices in each row."""

    matrix: Any  # scipy.sparse.csr_matrix of shape (n, width)

    @property
    def width(self) -> int:
        return int(self.matrix.shape[1])

    def row_counts(self) -> NDArray[np.intp]:
        return np.diff(self.matrix.indptr)


Piece = NumericPiece | SlotPiece | CsrPiece


def write_dense(pieces: Sequence[Piece], X: NDArray) -> None:
    """Write the pieces side by side into `X` (rows of the design, all columns)."""
    j = 0
    for piece in pieces:
        if isinstance(piece, NumericPiece):
            X[:, j] = piece.values
        elif isinstance(piece, SlotPiece):
            block = X[:, j : j + piece.width]
            block[...] = 0.0
            rows = np.flatnonzero(piece.slot >= 0)
            value = piece.value if np.isscalar(piece.value) else piece.value[rows]
            block[rows, piece.slot[rows]] = value
        else:
            X[:, j : j + piece.width] = piece.matrix.toarray()
        j += piece.width


def _index_dtype(*sizes: int) -> type:
    return np.int32 if max(sizes, default=0) < np.iinfo(np.int32).max else np.int64


def assemble_csr(pieces: Sequence[Piece], n_rows: int, dtype: Any = np.float64) -> Any:
    """The pieces side by side as one CSR matrix of `n_rows` rows, written in place.

    The row lengths are counted first; then each piece writes its nonzeros at
    ``indptr[i] + (nonzeros of row i already written)``, so the column indices of
    every row come out sorted and no intermediate matrix is made.

    Examples
    --------
    >>> import numpy as np
    >>> pieces = [NumericPiece(np.array([0.5, -1.0])), SlotPiece(np.array([1, -1]), 1.0, 2)]
    >>> assemble_csr(pieces, 2).toarray().tolist()
    [[0.5, 0.0, 1.0], [-1.0, 0.0, 0.0]]
    """
    import scipy.sparse as sp

    width = int(sum(p.width for p in pieces))
    counts = np.zeros(n_rows, dtype=np.int64)
    for piece in pieces:
        counts += piece.row_counts()
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    del counts
    nnz = int(indptr[-1])
    itype = _index_dtype(nnz, width)
    data = np.empty(nnz, dtype=dtype)
    indices = np.empty(nnz, dtype=itype)
    fill = indptr[:-1].copy()  # where row i's next nonzero goes
    j = 0
    for piece in pieces:
        if isinstance(piece, NumericPiece):
            data[fill] = piece.values
            indices[fill] = j
            fill += 1
        elif isinstance(piece, SlotPiece):
            rows = np.flatnonzero(piece.slot >= 0)
            at = fill[rows]
            data[at] = piece.value if np.isscalar(piece.value) else piece.value[rows]
            indices[at] = j + piece.slot[rows]
            fill[rows] += 1
        else:
            m = piece.matrix
            lengths = np.diff(m.indptr)
            rows = np.repeat(np.arange(n_rows), lengths)
            # k-th nonzero of row i in the piece -> fill[i] + k
            at = fill[rows] + (np.arange(m.nnz) - m.indptr[rows])
            data[at] = m.data
            indices[at] = j + m.indices
            fill += lengths
        j += piece.width
    out = sp.csr_matrix((data, indices, indptr.astype(itype)), shape=(n_rows, width), copy=False)
    out.has_sorted_indices = True
    return out


def empty_csr(n_cols: int, dtype: Any = np.float64) -> Any:
    """A CSR matrix with no rows and `n_cols` columns."""
    import scipy.sparse as sp

    return sp.csr_matrix((0, n_cols), dtype=dtype)


def stack_rows(blocks: list[Any], n_cols: int, dtype: Any = np.float64) -> Any:
    """The CSR matrices of consecutive row blocks as one; `blocks` is emptied as it is read,
    so the peak memory is the result plus one block, not twice the result."""
    import scipy.sparse as sp

    if len(blocks) == 1:
        return blocks.pop()
    if not blocks:
        return empty_csr(n_cols, dtype)
    n_rows = sum(b.shape[0] for b in blocks)
    nnz = sum(b.nnz for b in blocks)
    itype = _index_dtype(nnz, n_cols)
    data = np.empty(nnz, dtype=dtype)
    indices = np.empty(nnz, dtype=itype)
    indptr = np.empty(n_rows + 1, dtype=itype)
    indptr[0] = 0
    row = at = 0
    blocks.reverse()
    copied = 0
    while blocks:
        b = blocks.pop()
        n, k = b.shape[0], b.nnz
        data[at : at + k] = b.data
        indices[at : at + k] = b.indices
        indptr[row + 1 : row + n + 1] = b.indptr[1:] + at
        row, at = row + n, at + k
        del b
        copied += k
        if copied > _TRIM_EVERY:
            # the freed blocks' pages go back to the system as the result fills in
            release_arrow_memory()
            copied = 0
    out = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols), copy=False)
    out.has_sorted_indices = True
    return out
