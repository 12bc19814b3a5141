"""Free text as TF-IDF features (``logloss fit --text COLUMN``).

The semantics are scikit-learn's :class:`~sklearn.feature_extraction.text.TfidfVectorizer`
with its defaults (lower-cased words of two or more word characters,
``token_pattern=r"(?u)\\b\\w\\w+\\b"``, single words, raw counts, smoothed idf,
rows scaled to unit L2 norm) except ``max_features``: the vocabulary keeps the
:data:`MAX_TERMS` terms most frequent in the training rows. For a document with
term counts ``tf(t)`` among ``n`` training documents of which ``df(t)`` hold ``t``,

    x_t = tf(t) * idf(t) / ||tf * idf||_2,   idf(t) = ln((1 + n) / (1 + df(t))) + 1.

A missing text is an empty document (a row of zeros; counted among the ``n``
training documents, as TfidfVectorizer counts an empty string). The fitted state
is the list of terms (in column order) and the idf of each, plain JSON: a model
file rebuilds the vectoriser from them, without pickle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .columns import as_text
from .design import CsrPiece

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = ["MAX_TERMS", "TOKEN_PATTERN", "fit_tfidf", "tfidf_piece"]

# The most terms a --text column keeps (the most frequent in training); bounds the width.
MAX_TERMS = 10_000
TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def _documents(series: pd.Series) -> tuple[list[str], int]:
    """The texts of `series` (missing ones empty) and how many were missing."""
    text = as_text(series)
    missing = text.isna().to_numpy()
    return text.fillna("").tolist(), int(missing.sum())


def _counts(documents: list[str], terms: list[str] | None, dtype: Any) -> tuple[Any, list[str]]:
    """Term counts (CSR, sorted column indices) over a fixed vocabulary, or over the
    :data:`MAX_TERMS` most frequent terms of `documents` when `terms` is None."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(
        lowercase=True,
        token_pattern=TOKEN_PATTERN,
        vocabulary=terms,
        max_features=None if terms is not None else MAX_TERMS,
        dtype=dtype,
    )
    counts = (
        vectorizer.fit_transform(documents) if terms is None else vectorizer.transform(documents)
    )
    counts.sort_indices()
    return counts.tocsr(), list(vectorizer.get_feature_names_out())


def fit_tfidf(series: pd.Series, col: str) -> dict[str, Any]:
    """The vocabulary and idf of a text column's training values (its JSON state).

    Examples
    --------
    >>> import pandas as pd
    >>> spec = fit_tfidf(pd.Series(["late flight", "Flight on time", None]), "note")
    >>> spec["terms"], [round(v, 4) for v in spec["idf"]], spec["n_missing"]
    (['flight', 'late', 'on', 'time'], [1.2877, 1.6931, 1.6931, 1.6931], 1)
    """
    documents, n_missing = _documents(series)
    try:
        counts, terms = _counts(documents, None, np.float64)
    except ValueError:
        raise ValueError(
            f"the --text column {col!r} holds no word of two or more letters or digits in "
            "the training rows, so it gives no TF-IDF feature"
        ) from None
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=len(terms))
    # smoothed idf: as if one extra document held every term once
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    return {
        "terms": [str(t) for t in terms],
        "idf": idf.tolist(),
        "n_missing": n_missing,
        "lowercase": True,
        "token_pattern": TOKEN_PATTERN,
        "max_terms": MAX_TERMS,
    }


def tfidf_piece(
    series: pd.Series, spec: dict[str, Any], dtype: Any = np.float64
) -> tuple[CsrPiece, int]:
    """The TF-IDF rows of the texts of `series` and how many texts were missing."""
    documents, n_missing = _documents(series)
    counts, _ = _counts(documents, spec["terms"], dtype)
    del documents
    idf = np.asarray(spec["idf"], dtype=dtype)
    counts.data *= idf[counts.indices]
    # unit L2 norm per row; an empty row stays zero
    lengths = np.diff(counts.indptr)
    row_of = np.repeat(np.arange(counts.shape[0]), lengths)
    norms = np.sqrt(np.bincount(row_of, weights=counts.data**2, minlength=counts.shape[0]))
    counts.data /= norms[row_of]
    return CsrPiece(counts), n_missing
