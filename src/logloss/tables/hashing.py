"""Signed feature hashing of a high-cardinality text column (``--hash-features N``).

A value ``v`` of the column goes to bucket ``|h(v)| mod N`` with the sign of
``h(v)``, where ``h`` is the signed 32-bit MurmurHash3 (seed 0) of the UTF-8 bytes
of ``v`` — scikit-learn's :class:`~sklearn.feature_extraction.FeatureHasher`
(``input_type="string"``, ``alternate_sign=True``) applied to the column alone, so
the same value lands in the same bucket in every process and every version (no
use of Python's salted ``hash()``). A level never seen in training hashes like
any other; a missing value is a row of zeros.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .columns import as_text
from .design import SlotPiece

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = ["hash_buckets", "hashed_piece"]

_INT32_MIN = -(2**31)


def hash_buckets(
    values: list[str], n_features: int
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """The bucket and the sign (+1 or -1) of each value.

    Examples
    --------
    >>> buckets, signs = hash_buckets(["N123AA", "N123AA", "N9"], 16)
    >>> bool(buckets[0] == buckets[1]), set(signs.tolist()) <= {1.0, -1.0}
    (True, True)
    """
    from sklearn.utils import murmurhash3_32

    h = np.fromiter(
        (murmurhash3_32(v.encode("utf-8"), seed=0) for v in values),
        dtype=np.int64,
        count=len(values),
    )
    # |h| of the one value without a positive twin, -2**31, as FeatureHasher takes it
    magnitude = np.where(h == _INT32_MIN, 2**31 - 1 - (n_features - 1), np.abs(h))
    return (magnitude % n_features).astype(np.intp), np.where(h >= 0, 1.0, -1.0)


def hashed_piece(series: pd.Series, n_features: int) -> tuple[SlotPiece, int]:
    """The hashed columns of the values of `series` and how many are missing. Each
    distinct value is hashed once per call."""
    import pandas as pd

    codes, uniques = pd.factorize(as_text(series), use_na_sentinel=True)
    buckets, signs = hash_buckets([str(u) for u in uniques], n_features)
    known = codes >= 0
    slot = np.full(codes.shape, -1, dtype=np.intp)
    value = np.zeros(codes.shape, dtype=np.float64)
    slot[known] = buckets[codes[known]]
    value[known] = signs[codes[known]]
    return SlotPiece(slot, value, n_features), int((~known).sum())
