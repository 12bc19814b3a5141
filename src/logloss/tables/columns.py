"""Columns of a table: which are features, what the target's classes are, how rows split.

- :func:`closest_names` turns a misspelt column name into a hint.
- :func:`choose_features` picks the feature columns (``--features``, ``--drop``).
- :func:`encode_target` turns a target column (text, booleans or whole numbers)
  into class labels, leaving out rows whose target is missing.
- :func:`train_test_rows` draws a stratified held-out split as row indices, so no
  copy of the table is made.
- :func:`column_kind`, :func:`as_float` and :func:`as_text` say how a column is
  read; :func:`column_of` takes one column of a table given as blocks of rows.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = [
    "MAX_CLASSES",
    "Target",
    "as_float",
    "as_frames",
    "as_text",
    "choose_features",
    "closest_names",
    "column_kind",
    "column_of",
    "encode_target",
    "train_test_rows",
]

# A target with more classes than this is almost surely a continuous value or an identifier.
MAX_CLASSES = 1000


def closest_names(name: str, choices: Iterable[str]) -> str:
    """A hint for a misspelt column name: "; did you mean 'age'?" (or the columns there are).

    Examples
    --------
    >>> closest_names("agee", ["age", "income", "colour"])
    "; did you mean 'age'?"
    >>> closest_names("zzz", ["a", "b"])
    "; the columns are 'a', 'b'"
    """
    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = ", ".join(repr(c) for c in choices[:12])
    more = f" and {len(choices) - 12} more" if len(choices) > 12 else ""
    return f"; the columns are {shown}{more}"


def choose_features(
    columns: Sequence[str],
    target: str | None,
    *,
    features: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    source: str = "the data",
    text: Sequence[str] = (),
) -> list[str]:
    """The feature columns: `features` (default: every column but `target`) minus `drop`,
    plus the free-text columns `text` (``--text``) that `features` leaves out.

    Every name must be a column of the table (a ``ValueError`` suggests the
    closest ones otherwise); the target cannot be a feature, nor a `text` column
    one that `drop` leaves out.

    Examples
    --------
    >>> choose_features(["x", "colour", "y"], "y", drop=["colour"])
    ['x']
    >>> choose_features(["x", "note", "y"], "y", features=["x"], text=["note"])
    ['x', 'note']
    """
    columns = [str(c) for c in columns]
    if target is not None and target not in columns:
        raise ValueError(
            f"{source} has no target column {target!r}{closest_names(target, columns)}"
        )
    for label, names in (("--features", features or ()), ("--drop", drop), ("--text", text)):
        for col in names:
            if col not in columns:
                raise ValueError(
                    f"{label} names {col!r}, which is not a column of {source}"
                    f"{closest_names(col, columns)}"
                )
    for col in text:
        if col == target:
            raise ValueError(
                f"--text names the target column {target!r}, which cannot be a feature"
            )
        if col in drop:
            raise ValueError(f"--text names {col!r}, which --drop leaves out")
    if features:
        if target in features:
            raise ValueError(f"the target column {target!r} cannot also be a feature")
        chosen = list(dict.fromkeys([*features, *text]))
    else:
        chosen = [c for c in columns if c != target]
    chosen = [c for c in chosen if c not in set(drop)]
    if not chosen:
        raise ValueError(f"no feature columns are left in {source} (after --features and --drop)")
    return chosen


@dataclass
class Target:
    """The class label of each usable row and which rows those are."""

    # labels of the rows in `rows` (str or numbers), as the estimator sees them; None when
    # encode_target was asked for no labels
    y: NDArray | None
    rows: NDArray[np.intp]  # row positions in the table (rows with a missing target are left out)
    classes: NDArray
    counts: NDArray[np.intp]
    n_missing: int
    # y as positions in classes, in the smallest integer type that holds them (int8 for
    # up to 127 classes); train_test_rows takes them as they are
    codes: NDArray[np.signedinteger] | None = None


def encode_target(series: pd.Series, name: str | None = None, *, labels: bool = True) -> Target:
    """Class labels from a target column of strings, booleans or integral numbers.

    Rows whose target is missing are left out (``n_missing`` says how many).
    ``y = classes[codes]``; with ``labels=False`` it is left None (a caller that
    needs the labels of some rows only takes ``classes[codes[rows]]``, which
    saves a whole-table array of strings).
    A continuous target (floats with fractions), a single class, or more than
    1000 classes is a ``ValueError``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = encode_target(pd.Series(["b", "a", None, "b"], name="y"))
    >>> t.classes.tolist(), t.counts.tolist(), t.rows.tolist(), t.n_missing
    (['a', 'b'], [1, 2], [0, 1, 3], 1)
    """
    import pandas as pd

    label = name if name is not None else str(series.name)
    missing = series.isna().to_numpy()
    n_missing = int(missing.sum())
    if n_missing == missing.size:
        raise ValueError(f"the target column {label!r} is entirely empty")
    rows = np.flatnonzero(~missing)
    del missing
    values = series.iloc[rows] if n_missing else series
    kind = column_kind(values, label, target=True)
    if kind == "numeric":
        y = values.to_numpy(dtype=np.float64)
        if not np.isfinite(y).all():
            raise ValueError(f"the target column {label!r} holds infinite values")
        if not (y == np.round(y)).all():
            raise ValueError(
                f"the target column {label!r} holds continuous numbers (e.g. "
                f"{y[y != np.round(y)][0]!r}); logloss fits classifiers, whose targets are "
                "class labels (text or whole numbers)"
            )
        y = y.astype(np.int64)
    elif kind == "boolean":
        y = values.to_numpy(dtype=bool)
    else:
        y = None
    if y is None:
        # Text: the distinct labels first (pandas factorises Arrow strings in place), then
        # y = classes[codes], so no Python string is made per row.
        codes, uniques = pd.factorize(values)
        names = np.array([str(u) for u in uniques], dtype=str)
        order = np.argsort(names, kind="stable")
        rank = np.empty(order.size, dtype=_code_type(order.size))
        rank[order] = np.arange(order.size)
        codes = rank[codes]  # the small codes; pandas's int64 ones go now
        classes, counts = names[order], np.bincount(codes, minlength=order.size)
    else:
        classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
        codes = codes.reshape(-1).astype(_code_type(classes.size))
    if classes.size < 2:
        raise ValueError(
            f"the target column {label!r} has a single class ({_show(classes[0])}); "
            "a classifier needs at least two"
        )
    if classes.size > MAX_CLASSES:
        raise ValueError(
            f"the target column {label!r} has {classes.size:,} distinct values; a classifier's "
            f"target is a class label with at most {MAX_CLASSES} classes"
        )
    return Target(
        y=classes[codes] if labels else None,
        rows=rows,
        classes=classes,
        counts=counts,
        n_missing=n_missing,
        codes=codes,
    )


def _code_type(n_classes: int) -> type[np.signedinteger]:
    """The smallest signed integer type that holds the codes 0..n_classes-1."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_classes <= np.iinfo(dtype).max + 1:
            return dtype
    return np.int64


def _show(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def train_test_rows(
    y: NDArray, test_size: float, seed: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """A stratified split: positions into `y` for training and held-out rows.

    Each class keeps its share in both parts (rounded); every class keeps at
    least one training row, and a class with two rows or more gets at least
    one held-out row when ``test_size > 0``. Both parts come back sorted, so
    reading rows from a table stays a forward scan. ``test_size = 0`` leaves
    the held-out part empty.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array(["a"] * 8 + ["b"] * 2)
    >>> train, test = train_test_rows(y, 0.5, seed=0)
    >>> len(train), len(test), np.unique(y[test]).tolist()
    (5, 5, ['a', 'b'])
    """
    if not (isinstance(test_size, (int, float)) and 0.0 <= test_size < 1.0):
        raise ValueError(f"`test_size` must be in [0, 1); got {test_size!r}")
    rng = np.random.default_rng(seed)
    codes, counts = _class_codes(y)
    if test_size == 0.0:
        return np.arange(codes.size), np.empty(0, dtype=np.intp)
    # The rows of each class in increasing order, class after class, as a stable argsort
    # of the codes would list them; each class's draw consumes the generator as before.
    # Few classes: one scan per class, so only one class's positions live at a time.
    order = np.argsort(codes, kind="stable") if counts.size > _SCANNED_CLASSES else None
    ends = np.cumsum(counts)
    is_test = np.zeros(codes.size, dtype=bool)
    for c, n in enumerate(counts.tolist()):
        k = int(round(test_size * n))
        k = min(max(k, 1 if n >= 2 else 0), n - 1)
        if not k:
            continue
        members = np.flatnonzero(codes == c) if order is None else order[ends[c] - n : ends[c]]
        is_test[rng.choice(members, size=k, replace=False)] = True
        del members
    del order
    test = np.flatnonzero(is_test)
    np.logical_not(is_test, out=is_test)
    return np.flatnonzero(is_test), test


# Up to this many classes, train_test_rows scans the codes once per class instead of sorting.
_SCANNED_CLASSES = 8


def _class_codes(y: NDArray) -> tuple[NDArray, NDArray[np.intp]]:
    """`y` as class codes 0..K-1 (positions in ``np.unique(y)``) and the count of each.

    Codes already (integers whose distinct values are exactly 0..K-1, as
    :func:`encode_target` gives them) are used as they are, without sorting a copy.
    """
    y = np.asarray(y).reshape(-1)
    if y.dtype.kind in "iu" and y.size and int(y.min()) >= 0:
        counts = np.bincount(y)
        if counts.all():
            return y, counts
    _, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    return codes.reshape(-1), counts


def column_kind(series: pd.Series, name: str, *, target: bool = False) -> str:
    """ "numeric", "boolean" or "text" for a column; dates and the like are a ValueError."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return "numeric"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "boolean":
            return "boolean"
        if inferred in ("string", "categorical", "empty", "mixed", "mixed-integer"):
            return "text"
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
            return "numeric"
        return "text"
    role = "target column" if target else "column"
    raise ValueError(
        f"the {role} {name!r} has type {dtype}, which logloss cannot use; it reads numbers "
        "and text" + ("" if target else f" (leave it out with --drop {name})")
    )


def as_float(series: pd.Series) -> NDArray[np.float64]:
    """A numeric or boolean column as float64 with NaN for missing values (a view if possible)."""
    import pandas as pd

    if series.dtype == np.float64:
        return series.to_numpy()
    if pd.api.types.is_string_dtype(series.dtype) or series.dtype == object:
        return pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def as_text(series: pd.Series) -> pd.Series:
    """A column as strings (missing stays missing), e.g. categories written as numbers."""
    import pandas as pd

    if pd.api.types.is_string_dtype(series.dtype) and not series.dtype == object:
        return series
    missing = series.isna()
    out = series.astype(str).astype("str")
    out[missing.to_numpy()] = None
    return out


def as_frames(data: Any) -> list[pd.DataFrame]:
    """A DataFrame or the list of its blocks, as a list of blocks (none consumed yet)."""
    frames = list(data) if isinstance(data, (list, tuple)) else [data]
    if not frames or any(f is None for f in frames):
        raise ValueError("the table has no blocks left (were they consumed already?)")
    return frames


def column_of(data: pd.DataFrame | Sequence[pd.DataFrame], col: str) -> pd.Series:
    """Column `col` of a DataFrame, or of consecutive blocks joined (one column only)."""
    import pandas as pd

    frames = as_frames(data)
    if len(frames) == 1:
        return frames[0][col]
    return pd.concat([f[col] for f in frames], ignore_index=True)
