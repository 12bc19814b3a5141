"""``logloss.load`` and ``logloss.save``: model files as whole pipelines.

A model file written by ``logloss fit`` holds an estimator and, in its metadata, the
preprocessing it was trained behind. :func:`load` gives both back as one
:class:`sklearn.pipeline.Pipeline` (:class:`~.transformer.TablePreprocessor`, then the
estimator) that predicts raw tables exactly as ``logloss predict`` does;
:func:`save` writes such a pipeline back in the same form. A model saved from
Python without preprocessing loads as the estimator itself, as before.
:mod:`logloss.model_file` (below this layer) reads and writes the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import model_file
from ..model_file import ModelFileError
from .prediction import stored_preprocessor

__all__ = ["load", "pipeline_of", "save"]


def load(path: str | os.PathLike, *, with_metadata: bool = False) -> Any:
    """Load a model file; one written with its preprocessing comes back as a pipeline.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save` or by ``logloss fit``.
    with_metadata : bool, default False
        Also return the file's metadata (for ``logloss fit``: the preprocessing,
        the target, the training settings and scores).

    Returns
    -------
    model, or (model, dict) when `with_metadata`
        For a file with ``logloss fit``'s preprocessing, a
        :class:`~logloss.tables.transformer.TablePipeline` (a scikit-learn
        ``Pipeline([("preprocess", TablePreprocessor), ("model", estimator)])``),
        whose ``feature_names_in_`` are the table's columns, whose
        ``predict_proba(df)`` equals ``logloss predict``'s probabilities, and
        which reads the estimator's fitted attributes (``coef_``, ``n_iter_``, ...)
        through; otherwise the estimator. Loading is
        :func:`logloss.model_file.load`: every field checked, no code run.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ModelFileError
        A ``ValueError``: not a valid model file, or its preprocessing does not
        fit its estimator.

    Examples
    --------
    >>> import numpy as np, pandas as pd, logloss as ll, tempfile, os
    >>> from sklearn.pipeline import make_pipeline
    >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "c": ["a", "b", "a", "b"]})
    >>> pipe = make_pipeline(ll.TablePreprocessor(), ll.LogisticRegression())
    >>> pipe = pipe.fit(df, [0, 0, 1, 1])
    >>> path = ll.save(pipe, os.path.join(tempfile.mkdtemp(), "m.npz"))
    >>> again = ll.load(path)
    >>> again.feature_names_in_.tolist(), again[-1].n_features_in_
    (['x', 'c'], 2)
    >>> np.array_equal(again.predict_proba(df), pipe.predict_proba(df))
    True
    """
    model, metadata = model_file.load(path, with_metadata=True)
    state = metadata.get("preprocessing")
    if _is_table_state(state):
        model = pipeline_of(model, state, f"'{Path(path)}'")
    return (model, metadata) if with_metadata else model


def _is_table_state(state: Any) -> bool:
    """A preprocessing state as ``logloss fit`` writes it (a caller's own metadata under
    the same key, saved from Python, is left alone: that model loads as before)."""
    return isinstance(state, dict) and {"format_version", "columns"} <= set(state)


def pipeline_of(model: Any, state: Any, source: str = "the model file") -> Any:
    """A :class:`TablePipeline` of a :class:`TablePreprocessor` and a fitted estimator,
    from a preprocessing state (:meth:`Preprocessor.to_dict`)."""
    from .transformer import TablePipeline, TablePreprocessor

    try:
        pre = stored_preprocessor(model, state, source)
    except ValueError as exc:
        raise ModelFileError(str(exc)) from None
    return TablePipeline(
        [("preprocess", TablePreprocessor.from_preprocessor(pre)), ("model", model)]
    )


def save(model: Any, path: str | os.PathLike, *, metadata: dict | None = None) -> Path:
    """Save a fitted estimator, or a pipeline of a fitted :class:`TablePreprocessor`
    and an estimator, to one file (:func:`logloss.model_file.save`: JSON and arrays).

    A pipeline's preprocessing goes into the metadata as ``logloss fit`` writes it
    (``"preprocessing"``, ``"feature_names"``), so ``logloss predict`` and
    :func:`load` use the file as one written by ``logloss fit``. Everything else is
    :func:`logloss.model_file.save`'s, whose parameters these are.

    Examples
    --------
    >>> import numpy as np, logloss as ll, tempfile, os
    >>> model = ll.LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    >>> path = ll.save(model, os.path.join(tempfile.mkdtemp(), "model.npz"))
    >>> type(ll.load(path)).__name__
    'LogisticRegression'
    """
    if _is_pipeline(model):
        from .transformer import TablePreprocessor

        steps = [step for _, step in model.steps if step not in (None, "passthrough")]
        first = steps[0] if len(steps) == 2 else None
        if not isinstance(first, TablePreprocessor) or not hasattr(first, "preprocessor_"):
            raise TypeError(
                "a Pipeline is saved when it is a fitted TablePreprocessor followed by a "
                f"logloss estimator; got the steps {[type(s).__name__ for s in steps]}"
            )
        pre = first.preprocessor_
        metadata = {
            **(metadata or {}),
            "preprocessing": pre.to_dict(),
            "feature_names": pre.feature_names_out,
        }
        model = steps[1]
    return model_file.save(model, path, metadata=metadata)


def _is_pipeline(model: Any) -> bool:
    if not hasattr(model, "steps"):
        return False
    from sklearn.pipeline import Pipeline

    return isinstance(model, Pipeline)
