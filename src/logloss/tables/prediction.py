"""Predicting with a model file written by ``logloss fit``.

- :func:`preprocessor_of` rebuilds the preprocessing stored with a model.
- :func:`predict_table` predicts every row of a ``DataFrame``, in order.
- :func:`predict_file` is ``logloss predict``: model file and data file in, table out.
- :class:`FeatureSlice` and :func:`boundary_data` show a model through two numeric
  columns, which is what ``logloss plot decision-boundary`` draws.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..model_file import load
from .columns import closest_names, encode_target
from .console import display_name, warnings_as_lines
from .files import check_writable, read_table, table_format, write_table
from .options import OptionError
from .preprocess import Preprocessor, TransformReport
from .training import base_estimator

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    from rich.console import Console

# Rows encoded and predicted at a time by predict_table: bounds the design it holds.
PREDICT_ROWS = 1 << 18

__all__ = [
    "BoundaryData",
    "FeatureSlice",
    "boundary_data",
    "label_column",
    "model_input",
    "predict_file",
    "predict_table",
    "preprocessor_of",
    "stored_preprocessor",
]


def preprocessor_of(model: Any, metadata: Mapping[str, Any], source: str) -> Preprocessor:
    """The preprocessing stored with a model, checked against the model's input size."""
    state = metadata.get("preprocessing")
    if state is None:
        names = getattr(model, "feature_names_in_", None)
        if names is None:
            raise ValueError(
                f"{source} holds no preprocessing (it was saved from Python without it), so "
                "its column names are unknown; fit it on a DataFrame, or with `logloss fit`"
            )
        # Saved from Python after fitting on a DataFrame: its columns, used as they are.
        pre = Preprocessor()
        pre.columns = [str(n) for n in names]
        pre.numeric = {
            c: {"kind": "numeric", "median": 0.0, "mean": 0.0, "scale": 1.0, "n_missing": 0}
            for c in pre.columns
        }
        pre.fitted = True
        return pre
    return stored_preprocessor(model, state, source)


def stored_preprocessor(model: Any, state: Any, source: str) -> Preprocessor:
    """A preprocessing state (:meth:`Preprocessor.to_dict`) read back and checked against
    the model's input size; a ``ValueError`` naming `source` otherwise."""
    try:
        pre = Preprocessor.from_dict(state)
    except ValueError as exc:
        raise ValueError(f"{source} holds invalid preprocessing: {exc}") from None
    if pre.n_features_out != model.n_features_in_:
        raise ValueError(
            f"{source} is inconsistent: its preprocessing makes {pre.n_features_out} features "
            f"but its model takes {model.n_features_in_}"
        )
    return pre


def model_input(model: Any, X: NDArray[np.float64]) -> Any:
    """The design matrix as `model` takes it: a table of its columns when it was fitted on
    a DataFrame (saved from Python; an array would make scikit-learn warn), else `X`."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return X
    import pandas as pd

    return pd.DataFrame(X, columns=[str(n) for n in names], copy=False)


def predict_table(
    model: Any,
    preprocessor: Preprocessor,
    df: pd.DataFrame,
    *,
    proba: bool = False,
    keep: Sequence[str] = (),
    source: str = "the data",
) -> tuple[pd.DataFrame, TransformReport]:
    """Predictions for every row of `df`, in order: a ``prediction`` column, or
    ``p_<class>`` columns with `proba`; the `keep` columns are copied in front."""
    import pandas as pd

    for col in keep:
        if col not in df.columns:
            raise ValueError(
                f"--keep names {col!r}, which is not a column of {source}"
                f"{closest_names(col, df.columns)}"
            )
    out = pd.DataFrame({col: df[col] for col in keep})
    names = [f"p_{c}" for c in model.classes_.tolist()] if proba else ["prediction"]
    clash = [n for n in names if n in out.columns]
    if clash:
        what = "a probability column" if proba else "the prediction column"
        raise ValueError(f"--keep column {clash[0]!r} clashes with {what}")
    # Encode and predict PREDICT_ROWS rows at a time: the whole design never exists.
    n = len(df)
    report = TransformReport()
    P = np.empty((len(names), n)) if proba else None
    labels = []
    for start in range(0, n, PREDICT_ROWS) if n else [0]:
        stop = min(start + PREDICT_ROWS, n)
        X, part = preprocessor.transform(df, np.arange(start, stop), source=source)
        report.add(part)
        X = model_input(model, X)
        if P is not None:
            P[:, start:stop] = model.predict_proba(X).T
        else:
            labels.append(model.predict(X))
        del X
    if P is not None:
        for j, name in enumerate(names):
            out[name] = P[j]
    else:
        out["prediction"] = label_column(labels)
    return out, report


def label_column(labels: Sequence[NDArray]) -> Any:
    """Predicted labels, given in consecutive parts, as one table column; text labels go to
    pandas' ``str`` dtype through Arrow, which reads the NumPy strings in place (pandas would
    make a Python string per row first: at 5M rows some 600 MB more at the peak).

    Examples
    --------
    >>> label_column([np.array(["no", "yes"]), np.array(["no"])]).tolist()
    ['no', 'yes', 'no']
    """
    if labels[0].dtype.kind != "U":
        return np.concatenate(labels)
    import pandas as pd
    import pyarrow as pa

    return pd.array(pa.chunked_array([pa.array(part) for part in labels]), dtype="str")


class FeatureSlice:
    """A fitted model seen through two numeric input columns, the others held fixed.

    ``predict_proba(G)`` takes the two columns' values (shape (m, 2), original
    units), fills every other input column with its training median (numeric)
    or most frequent category (text; free text is left empty), preprocesses and
    predicts, so that
    :func:`logloss.plot.decision_boundary` can draw any tabular model.
    """

    def __init__(self, model: Any, preprocessor: Preprocessor, features: Sequence[str]) -> None:
        if len(features) != 2:
            raise ValueError(f"a decision boundary needs exactly two features; got {len(features)}")
        for col in features:
            if col not in preprocessor.columns:
                raise ValueError(
                    f"the model was not trained on a column {col!r}"
                    f"{closest_names(col, preprocessor.columns)}"
                )
            if col not in preprocessor.numeric:
                raise ValueError(
                    f"column {col!r} is text; a decision boundary is drawn over two numeric columns"
                )
        self.model = model
        self.preprocessor = preprocessor
        self.features = list(features)
        self.classes_ = model.classes_
        self.display_name = type(base_estimator(model)).__name__

    def predict_proba(self, grid: NDArray[np.float64]) -> NDArray[np.float64]:
        import pandas as pd

        grid = np.asarray(grid, dtype=np.float64)
        columns: dict[str, Any] = {}
        m = grid.shape[0]
        for col in self.preprocessor.columns:
            if col in self.features:
                columns[col] = grid[:, self.features.index(col)]
            elif col in self.preprocessor.numeric:
                columns[col] = np.full(m, self.preprocessor.numeric[col]["median"])
            else:
                # a text column's most frequent training value; free text: an empty document
                spec = {**self.preprocessor.categorical, **self.preprocessor.hashed}.get(col)
                columns[col] = pd.Series([spec["mode"] if spec else ""] * m, dtype="str")
        X, _ = self.preprocessor.transform(pd.DataFrame(columns))
        return self.model.predict_proba(model_input(self.model, X))


def predict_file(
    model_path: str | os.PathLike,
    data: str | os.PathLike,
    output: str | os.PathLike = "-",
    *,
    proba: bool = False,
    keep: Sequence[str] = (),
    err: Console,
) -> pd.DataFrame:
    """``logloss predict``: predict every row of the table `data` with a saved model.

    Writes the predictions (:func:`predict_table`) to `output` (``-``: CSV on
    standard output) and says on `err` what the preprocessing imputed or could not
    encode. An unknown suffix or a missing folder of `output` is an error before
    any work. Returns the table written.
    """
    output = os.fspath(output)
    if output != "-":
        table_format(output)  # an unknown suffix is an error before any work
        check_writable(output, "output file")
    model, meta = load(model_path, with_metadata=True)
    pre = preprocessor_of(model, meta, repr(os.fspath(model_path)))
    source = display_name(data)
    df = read_table(data)
    with warnings_as_lines(err):
        table, report = predict_table(model, pre, df, proba=proba, keep=keep, source=source)
    for message in report.messages(pre):
        if message.startswith("Warning: "):
            err.print(f"[yellow]Warning:[/yellow] {message[len('Warning: ') :]}")
        else:
            err.print(message)
    write_table(table, output)
    if output != "-":
        what = "probabilities" if proba else "predictions"
        err.print(f"Wrote {len(table):,} {what} to {output}.")
    return table


@dataclass
class BoundaryData:
    """What :func:`logloss.plot.decision_boundary` draws for a saved model."""

    view: FeatureSlice  # the model seen through the two columns
    X: NDArray[np.float64]  # (n, 2): the rows with values in both columns
    y: NDArray  # their true labels, as the model's classes
    features: tuple[str, str]


def boundary_data(
    model_path: str | os.PathLike,
    data: str | os.PathLike,
    target: str,
    features: Sequence[str] | None = None,
) -> BoundaryData:
    """A saved model over two numeric columns of `data`, and the points to draw on top.

    `features` names the two columns; it may be left out when the model takes two
    input columns only (an :class:`OptionError` for ``--features`` otherwise). Rows
    whose target or either column is missing are left out.
    """
    model, meta = load(model_path, with_metadata=True)
    pre = preprocessor_of(model, meta, repr(os.fspath(model_path)))
    if features is None:
        if len(pre.columns) != 2:
            raise OptionError(
                "--features",
                f"the model takes {len(pre.columns)} input columns; choose the two to draw "
                "with --features A,B",
            )
        features = list(pre.columns)
    chosen = list(features)
    view = FeatureSlice(model, pre, chosen)
    df = read_table(data)
    source = display_name(data)
    for col in [target, *chosen]:
        if col not in df.columns:
            raise ValueError(f"{source} has no column {col!r}{closest_names(col, df.columns)}")
    tgt = encode_target(df[target], target)
    X = np.column_stack(
        [df[c].to_numpy(dtype=np.float64, na_value=np.nan)[tgt.rows] for c in chosen]
    )
    present = ~np.isnan(X).any(axis=1)
    if not present.any():
        raise ValueError(f"no row of {source} has values in both {chosen[0]!r} and {chosen[1]!r}")
    y = tgt.y[present]
    if y.dtype.kind != model.classes_.dtype.kind and model.classes_.dtype.kind == "U":
        y = y.astype(str)
    return BoundaryData(view=view, X=X[present], y=y, features=(chosen[0], chosen[1]))
