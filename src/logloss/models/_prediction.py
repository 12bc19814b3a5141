"""The prediction methods of a classifier whose model ends in logits.

A subclass defines ``_logits(X)``: (n, 1) for a sigmoid model (the logit of
``classes_[1]``) and (n, K) for a softmax model; the probabilities are computed in log
space from them. A collection of an optional library (a Dask array) is handed to its
integration, which returns a lazy result computed block by block.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ..activations import log_sigmoid, log_softmax, sigmoid, softmax
from ._data import check_same_rows, validate_X
from ._registry import collection_handler, collection_library


def _collections_to_integration(method: Callable) -> Callable:
    """A prediction method that hands a collection of an optional library (a Dask array)
    to the integration's method of the same name, which returns a lazy result."""

    @functools.wraps(method)
    def predict_or_hand_over(self: Any, X: Any) -> Any:
        handler = collection_handler(X)
        if handler is not None:
            return getattr(handler, method.__name__)(self, X)
        return method(self, X)

    return predict_or_hand_over


class LogitClassifierMixin(ClassifierMixin):
    """predict / predict_proba / predict_log_proba / score from ``_logits(X)``.

    ``_logits`` returns (n, 1) for a sigmoid model (logit of ``classes_[1]``) and (n, K)
    for a softmax model.
    """

    def _logits(self, X: NDArray) -> NDArray:  # pragma: no cover - defined by subclasses
        """Hook each estimator defines: the logits of validated `X`, (n, 1) or (n, K)."""
        raise NotImplementedError(f"{type(self).__name__} must define _logits")

    def _validated_logits(self, X: Any) -> NDArray:
        check_is_fitted(self)
        X = validate_X(self, X, self._dtype_, reset=False)
        return self._logits(X)

    @_collections_to_integration
    def decision_function(self, X: Any) -> NDArray:
        """Confidence scores: the logit of ``classes_[1]`` (binary, shape (n,)) or the K
        logits (shape (n, K)). For a binary softmax model, the logit difference z_1 - z_0."""
        Z = self._validated_logits(X)
        if Z.shape[1] == 1:
            return Z[:, 0]
        if Z.shape[1] == 2:
            return Z[:, 1] - Z[:, 0]
        return Z

    @_collections_to_integration
    def predict_proba(self, X: Any) -> NDArray:
        """Class probabilities, shape (n, K), columns ordered as ``classes_``."""
        Z = self._validated_logits(X)
        if Z.shape[1] == 1:
            p = sigmoid(Z[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(Z, axis=1)

    @_collections_to_integration
    def predict_log_proba(self, X: Any) -> NDArray:
        """Log-probabilities, computed in log space (no ``log(softmax)``)."""
        Z = self._validated_logits(X)
        if Z.shape[1] == 1:
            # log(1 - sigmoid(z)) = log_sigmoid(-z)
            return np.column_stack([log_sigmoid(-Z[:, 0]), log_sigmoid(Z[:, 0])])
        return log_softmax(Z, axis=1)

    @_collections_to_integration
    def predict(self, X: Any) -> NDArray:
        """Most probable class label for each row."""
        Z = self._validated_logits(X)
        idx = (Z[:, 0] > 0).astype(np.intp) if Z.shape[1] == 1 else np.argmax(Z, axis=1)
        return self.classes_[idx]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy; labels in `y` that the model never saw are a ``ValueError``."""
        check_is_fitted(self)
        y_arr = np.asarray(y)
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:
            y_arr = y_arr[:, 0]
        unseen = np.setdiff1d(np.unique(y_arr), self.classes_)
        if unseen.size:
            raise ValueError(
                f"`y` contains label(s) the model never saw in fit: {unseen.tolist()[:5]}; "
                f"known classes_ are {self.classes_.tolist()}"
            )
        if collection_library(X) is None:
            check_same_rows(X, y_arr)
        return super().score(X, y, sample_weight=sample_weight)
