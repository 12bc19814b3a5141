"""The preprocessing of ``logloss fit`` as a scikit-learn transformer.

:class:`TablePreprocessor` wraps the one implementation, :class:`~.preprocess.Preprocessor`,
so that a Python user gets the numbers ``logloss fit`` trains on, in a
:class:`sklearn.pipeline.Pipeline` (``logloss.load`` of a model file written by
``logloss fit`` returns such a pipeline).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .preprocess import MAX_CATEGORIES, Preprocessor, TooManyCategoriesError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = ["TablePipeline", "TablePreprocessor"]


class TablePreprocessor(TransformerMixin, BaseEstimator):
    """Standardise numeric columns, impute the median, one-hot encode text: ``logloss fit``'s
    preprocessing, as a scikit-learn transformer.

    Fitted on a table, it writes any table with the same columns into a float64
    matrix, exactly as ``logloss fit`` does (one implementation,
    :class:`logloss.tables.Preprocessor`):

    - a numeric or boolean column ``c`` becomes ``(x - mean) / std`` with the
      training mean and standard deviation (``ddof=0``; a constant column gives 0);
      a missing value is first replaced by the training median;
    - a text column with training levels ``k_1 < ... < k_m`` becomes ``m - 1`` 0/1
      columns ``c=k_j``, one per level except the reference ``k_r``, the most
      frequent training level (a tie goes to the first in sorted order), so that
      each coefficient is the effect of ``k_j`` against ``k_r``;
      ``references_`` names them. A missing value, or a level never seen in
      training, is encoded as the reference (a row of zeros) — the most frequent
      level, as a missing number becomes the median — and an unseen level is a
      ``UserWarning`` naming it.

    Parameters
    ----------
    columns : sequence of str, optional
        The feature columns; default: every column of the table given to
        :meth:`fit` (other columns are ignored by :meth:`transform`).
    max_categories : int, default 100
        A text column with more distinct training values is hashed (with
        `hash_features`), or one-hot encoded when its rows hold two or more per
        value on average (a ``ValueError`` otherwise: most likely an identifier).
    reference : {"most_frequent", None}, default "most_frequent"
        With None every level keeps its column (the coding of model files
        written before reference levels).
    hash_features : int, optional
        Hash each text column above `max_categories` into this many signed
        columns ``c#0, c#1, ...`` (scikit-learn's ``FeatureHasher`` semantics).
    text_columns : sequence of str, optional
        Free-text columns, encoded as TF-IDF features ``c:term``
        (scikit-learn's ``TfidfVectorizer`` with its defaults but at most 10,000
        terms).
    sparse_output : {"auto", True, False}, default "auto"
        Whether :meth:`transform` returns a scipy CSR matrix; "auto": with a
        free-text column, or from 32 features on when at most half of them can
        be nonzero in a row (:attr:`logloss.tables.Preprocessor.sparse`).

    Attributes
    ----------
    preprocessor_ : logloss.tables.Preprocessor
        The fitted preprocessing (its :meth:`~logloss.tables.Preprocessor.to_dict`
        is what a model file stores).
    references_ : dict
        The reference level of each text column (None with ``reference=None``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        The table's columns at fit (a DataFrame only).

    Examples
    --------
    >>> import pandas as pd, logloss as ll
    >>> df = pd.DataFrame({"x": [1.0, None, 3.0, 4.0], "colour": ["red", "blue", "red", None]})
    >>> tp = ll.TablePreprocessor().fit(df)
    >>> tp.get_feature_names_out().tolist(), tp.references_
    (['x', 'colour=blue'], {'colour': 'red'})
    >>> tp.transform(df).round(3).tolist()
    [[-1.336, 0.0], [0.267, 1.0], [0.267, 0.0], [1.069, 0.0]]

    In a pipeline, raw tables in, probabilities out:

    >>> from sklearn.pipeline import make_pipeline
    >>> pipe = make_pipeline(ll.TablePreprocessor(), ll.LogisticRegression())
    >>> pipe.fit(df, [0, 1, 1, 0]).predict_proba(df).shape
    (4, 2)
    """

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        *,
        max_categories: int = MAX_CATEGORIES,
        reference: str | None = "most_frequent",
        hash_features: int | None = None,
        text_columns: Sequence[str] | None = None,
        sparse_output: str | bool = "auto",
    ) -> None:
        self.columns = columns
        self.max_categories = max_categories
        self.reference = reference
        self.hash_features = hash_features
        self.text_columns = text_columns
        self.sparse_output = sparse_output

    def fit(self, X: Any, y: Any = None) -> TablePreprocessor:
        """Learn the medians, means, scales and levels of the columns of `X` (`y` is ignored).

        `X` is a DataFrame, or a 2-D array whose columns are named ``x0, x1, ...``.
        """
        df, names = _frame(X)
        columns = list(df.columns) if self.columns is None else [str(c) for c in self.columns]
        text = [str(c) for c in self.text_columns or ()]
        if self.columns is None:
            columns += [c for c in text if c not in columns]
        pre = Preprocessor(
            max_categories=self.max_categories,
            reference=self.reference,
            hash_features=self.hash_features,
            text_columns=text,
            sparse_output=self.sparse_output,
        )
        try:
            pre.fit(df, columns)
        except TooManyCategoriesError as exc:
            raise ValueError(
                exc.message(
                    f"max_categories={exc.limit}",
                    "leave it out of `columns`, or hash it with hash_features=N",
                    f"admit it with max_categories={exc.n_levels}",
                )
            ) from None
        self._set_fitted(pre, df.shape[1], names)
        return self

    def _set_fitted(self, pre: Preprocessor, n_features: int, names: list[str] | None) -> None:
        self.preprocessor_ = pre
        self.references_ = pre.references
        self.n_features_in_ = n_features
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    @classmethod
    def from_preprocessor(cls, preprocessor: Preprocessor) -> TablePreprocessor:
        """A fitted transformer around a fitted :class:`Preprocessor` (e.g. a model file's).

        Its parameters are the preprocessor's, so ``clone`` refits the same preprocessing.
        """
        tp = cls(
            columns=list(preprocessor.columns),
            max_categories=preprocessor.max_categories,
            reference=preprocessor.reference,
            hash_features=preprocessor.hash_features,
            text_columns=list(preprocessor.text_columns) or None,
            sparse_output=preprocessor.sparse_output,
        )
        tp._set_fitted(preprocessor, len(preprocessor.columns), list(preprocessor.columns))
        return tp

    def transform(self, X: Any) -> Any:
        """The float64 design matrix of `X`, shape ``(n_rows, len(get_feature_names_out()))``:
        a NumPy array, or a scipy CSR matrix (see `sparse_output`).

        A level of a text column never seen in training is a ``UserWarning``.
        """
        check_is_fitted(self, "preprocessor_")
        names = getattr(self, "feature_names_in_", None)
        df, _ = _frame(X, self.n_features_in_, None if names is None else list(names))
        matrix, report = self.preprocessor_.transform(df, source="X")
        for message in report.messages(self.preprocessor_):
            if message.startswith("Warning: "):
                warnings.warn(message[len("Warning: ") :], UserWarning, stacklevel=_user_level())
        return matrix

    def get_feature_names_out(self, input_features: Any = None) -> NDArray[np.object_]:
        """Names of the output columns: ``c`` for a number, ``c=level`` for a text level,
        ``c#k`` for a hashed bucket, ``c:term`` for a TF-IDF term."""
        check_is_fitted(self, "preprocessor_")
        if input_features is not None:
            known = getattr(self, "feature_names_in_", None)
            if known is not None and list(map(str, input_features)) != known.tolist():
                raise ValueError("`input_features` differ from the columns seen in fit")
        return np.asarray(self.preprocessor_.feature_names_out, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags


class TablePipeline(Pipeline):
    """A scikit-learn ``Pipeline`` that also reads its final estimator's fitted attributes.

    ``logloss.load`` returns one for a model file written by ``logloss fit``
    (a :class:`TablePreprocessor`, then the estimator), so that ``model.coef_``,
    ``model.n_iter_`` or ``model.loss_curve_`` still read as they did when the
    file loaded as the bare estimator. Everything else is ``Pipeline``'s.

    Examples
    --------
    >>> import pandas as pd, logloss as ll
    >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "c": ["a", "b", "a", "b"]})
    >>> pipe = TablePipeline([("preprocess", ll.TablePreprocessor()),
    ...                       ("model", ll.LogisticRegression())]).fit(df, [0, 0, 1, 1])
    >>> pipe.coef_.shape, pipe.feature_names_in_.tolist()
    ((1, 2), ['x', 'c'])
    """

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: a fitted attribute ("coef_") of the last step.
        steps = self.__dict__.get("steps")
        if name.endswith("_") and not name.startswith("__") and steps:
            try:
                return getattr(steps[-1][1], name)
            except AttributeError:
                pass
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def _user_level() -> int:
    """The `stacklevel` of the first caller outside logloss and scikit-learn (a Pipeline's
    methods call transform), so that a warning names the user's line, not a library's."""
    level, frame = 2, sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] in (
        "logloss",
        "sklearn",
    ):
        frame, level = frame.f_back, level + 1
    return level


def _frame(
    X: Any, n_columns: int | None = None, names: list[str] | None = None
) -> tuple[pd.DataFrame, list[str] | None]:
    """`X` as a DataFrame with text column names, and those names (None for an array).

    An array's columns are named by `names` (those seen in fit) or ``x0, x1, ...``;
    it must have `n_columns` columns when that is given.
    """
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        columns = [str(c) for c in X.columns]
        if columns != list(X.columns):
            X = X.set_axis(columns, axis=1)
        return X, columns
    if hasattr(X, "tocsr"):  # a scipy sparse matrix or array
        raise TypeError("sparse input is not supported by TablePreprocessor; pass a table")
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(
            f"`X` must be a table (2-D); got an array of shape {array.shape}. Reshape your data "
            "with X.reshape(-1, 1) for one column or X.reshape(1, -1) for one row"
        )
    if array.dtype.kind == "c":
        raise ValueError("Complex data not supported by TablePreprocessor")
    for axis, what in ((0, "sample"), (1, "feature")):
        if array.shape[axis] == 0:
            raise ValueError(
                f"Found array with 0 {what}(s) (shape={array.shape}) while a minimum of 1 "
                "is required by TablePreprocessor"
            )
    if n_columns is not None and array.shape[1] != n_columns:
        raise ValueError(
            f"X has {array.shape[1]} features, but TablePreprocessor is expecting {n_columns} "
            "features as input"
        )
    if names is None:
        names = [f"x{j}" for j in range(array.shape[1])]
    return pd.DataFrame(array, columns=names), None
