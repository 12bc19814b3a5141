"""The JSON state of a :class:`~logloss.tables.preprocess.Preprocessor`, read back and checked.

A model file carries its preprocessing as plain JSON; :func:`read_state` checks every
field of it (a ``ValueError`` naming the field otherwise) and reads the older
format as it was written.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["FORMAT_VERSION", "REFERENCES", "SPARSE_OUTPUTS", "read_state"]

# Version of the state :meth:`Preprocessor.to_dict` writes; a newer one is refused.
# 1: every level of a text column kept; 2: a reference level dropped ("reference");
# 3: hashed columns ("hashed", "hash_features"), TF-IDF columns ("text"), "sparse_output".
FORMAT_VERSION = 3
# How a text column's reference level is chosen; None keeps every level (format 1's coding).
REFERENCES = ("most_frequent", None)
# Whether the design is CSR: always, never, or by the rule of Preprocessor.sparse.
SPARSE_OUTPUTS = ("auto", True, False)


def read_state(state: Any) -> dict[str, Any]:
    """The fields of a preprocessing state (:meth:`Preprocessor.to_dict`), each checked.

    Examples
    --------
    >>> state = {"format_version": 1, "max_categories": 100, "columns": ["c"], "numeric": {},
    ...          "categorical": {"c": {"categories": ["a", "b"], "mode": "b"}}}
    >>> parts = read_state(state)
    >>> parts["reference"], parts["categorical"]["c"]["reference"]
    (None, None)
    """
    if not isinstance(state, dict):
        raise ValueError("the preprocessing state must be a mapping")
    version = state.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError("the preprocessing state has no format version")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"the preprocessing state has format version {version}; this logloss reads "
            f"version {FORMAT_VERSION}: upgrade logloss"
        )
    # format 1 kept every level of a text column; format 2 records its choice
    reference = state.get("reference") if version >= 2 else None
    if reference not in REFERENCES:
        raise ValueError("the preprocessing state's 'reference' is malformed")
    max_categories = _field(state, "max_categories", int)
    columns = _field(state, "columns", list)
    numeric = _field(state, "numeric", dict)
    categorical = _field(state, "categorical", dict)
    # formats 1 and 2 had neither hashed nor TF-IDF columns, and always a dense design
    hashed = _field(state, "hashed", dict) if version >= 3 else {}
    text = _field(state, "text", dict) if version >= 3 else {}
    hash_features = state.get("hash_features") if version >= 3 else None
    if hash_features is not None and not _count(hash_features, 1):
        raise ValueError("the preprocessing state's 'hash_features' is malformed")
    sparse_output = state.get("sparse_output", False) if version >= 3 else False
    if not (sparse_output == "auto" or isinstance(sparse_output, bool)):
        raise ValueError("the preprocessing state's 'sparse_output' is malformed")
    if not columns or not all(isinstance(c, str) for c in columns):
        raise ValueError("the preprocessing state's columns must be a non-empty list of names")
    groups = (numeric, categorical, hashed, text)
    if (
        len(set(columns)) != len(columns)
        or set(columns) != set().union(*groups)
        or sum(map(len, groups)) != len(columns)
    ):
        raise ValueError("the preprocessing state's columns do not match its encoders")
    return {
        "max_categories": max_categories,
        "reference": reference,
        "hash_features": hash_features,
        "sparse_output": sparse_output,
        "columns": list(columns),
        "numeric": {col: _numeric_state(col, spec) for col, spec in numeric.items()},
        "categorical": {
            col: _text_state(col, spec, reference) for col, spec in categorical.items()
        },
        "hashed": {col: _hashed_state(col, spec) for col, spec in hashed.items()},
        "text": {col: _tfidf_state(col, spec) for col, spec in text.items()},
    }


def _numeric_state(col: str, spec: Any) -> dict[str, Any]:
    """A numeric column's encoder read back from JSON, every field checked."""
    if not isinstance(spec, dict):
        raise ValueError(f"the preprocessing of column {col!r} is malformed")
    values = {k: spec.get(k) for k in ("median", "mean", "scale")}
    if (
        not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in values.values()
        )
        or values["scale"] <= 0
    ):
        raise ValueError(f"the preprocessing of column {col!r} has invalid numbers")
    if spec.get("kind") not in ("numeric", "boolean"):
        raise ValueError(f"the preprocessing of column {col!r} has an unknown kind")
    return {
        "kind": spec["kind"],
        **{k: float(v) for k, v in values.items()},
        "n_missing": _missing_count(col, spec),
    }


def _text_state(col: str, spec: Any, reference: str | None) -> dict[str, Any]:
    """A text column's encoder read back from JSON: sorted distinct categories, a mode,
    a reference level (one of the categories with `reference`, None without)."""
    levels = spec.get("categories") if isinstance(spec, dict) else None
    if (
        not isinstance(levels, list)
        or not levels
        or not all(isinstance(v, str) for v in levels)
        or levels != sorted(set(levels))
    ):
        raise ValueError(f"the categories of column {col!r} are malformed")
    n_missing = _missing_count(col, spec)
    mode = spec.get("mode", levels[0])
    if mode not in levels:
        raise ValueError(f"the most frequent category of column {col!r} is malformed")
    level = spec.get("reference")
    if (reference is None) != (level is None) or (level is not None and level not in levels):
        raise ValueError(f"the reference level of column {col!r} is malformed")
    return {"categories": list(levels), "mode": mode, "reference": level, "n_missing": n_missing}


def _hashed_state(col: str, spec: Any) -> dict[str, Any]:
    """A hashed column's encoder read back: its width, level count and most frequent value."""
    if (
        not isinstance(spec, dict)
        or not _count(spec.get("n_features"), 1)
        or not _count(spec.get("n_levels"), 1)
        or not isinstance(spec.get("mode"), str)
    ):
        raise ValueError(f"the hashing of column {col!r} is malformed")
    return {
        "n_features": spec["n_features"],
        "n_levels": spec["n_levels"],
        "mode": spec["mode"],
        "n_missing": _missing_count(col, spec),
    }


def _tfidf_state(col: str, spec: Any) -> dict[str, Any]:
    """A TF-IDF column's encoder read back: distinct terms, one finite idf >= 1 per term,
    and the tokenisation this logloss applies (another is refused, not misread)."""
    from .text import MAX_TERMS, TOKEN_PATTERN

    terms = spec.get("terms") if isinstance(spec, dict) else None
    idf = spec.get("idf") if isinstance(spec, dict) else None
    if (
        not isinstance(terms, list)
        or not terms
        or not all(isinstance(t, str) and t for t in terms)
        or len(set(terms)) != len(terms)
        or not isinstance(idf, list)
        or len(idf) != len(terms)
        or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 1
            for v in idf
        )
    ):
        raise ValueError(f"the TF-IDF vocabulary of column {col!r} is malformed")
    if spec.get("lowercase") is not True or spec.get("token_pattern") != TOKEN_PATTERN:
        raise ValueError(f"the TF-IDF tokenisation of column {col!r} is not one this logloss reads")
    max_terms = spec.get("max_terms", MAX_TERMS)
    if not _count(max_terms, 1):
        raise ValueError(f"the TF-IDF vocabulary of column {col!r} is malformed")
    return {
        "terms": list(terms),
        "idf": [float(v) for v in idf],
        "n_missing": _missing_count(col, spec),
        "lowercase": True,
        "token_pattern": TOKEN_PATTERN,
        "max_terms": max_terms,
    }


def _count(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _missing_count(col: str, spec: dict) -> int:
    n_missing = spec.get("n_missing", 0)
    if not isinstance(n_missing, int) or n_missing < 0:
        raise ValueError(f"the preprocessing of column {col!r} is malformed")
    return n_missing


def _field(state: dict, key: str, kind: type) -> Any:
    value = state.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"the preprocessing state's {key!r} is missing or malformed")
    return value
