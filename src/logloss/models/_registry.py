"""Collections of optional libraries (Dask) that the estimators hand to an integration.

The estimators never import an integration: a collection is recognised by the module of
its type (``dask.array.core.Array`` starts with ``"dask"``, which needs no import of
Dask), and the integration registered for that prefix is imported by name, as a plugin
is, the first time such a collection arrives. The integration module registers its
handler when it is imported (:func:`register_collection_handler`).

A handler provides ``fit(est, X, y, sample_weight)`` and the lazy predictions
``decision_function``, ``predict_proba``, ``predict_log_proba`` and ``predict``
(each ``(est, X)``), all written with the estimators' public and documented fit steps.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol


class CollectionHandler(Protocol):
    """What an integration provides for its collections."""

    def fit(self, est: Any, X: Any, y: Any, sample_weight: Any = None) -> Any: ...

    def decision_function(self, est: Any, X: Any) -> Any: ...

    def predict_proba(self, est: Any, X: Any) -> Any: ...

    def predict_log_proba(self, est: Any, X: Any) -> Any: ...

    def predict(self, est: Any, X: Any) -> Any: ...


# top-level module of a collection's type -> the integration module that handles it
INTEGRATIONS = {"dask": "logloss.dask"}
_HANDLERS: dict[str, CollectionHandler] = {}


def register_collection_handler(prefix: str, handler: CollectionHandler) -> None:
    """Make `handler` serve the collections whose type lives in the package `prefix`."""
    _HANDLERS[prefix] = handler


def collection_library(X: Any) -> str | None:
    """The library of a registered kind of collection `X` is (e.g. "dask"), else None.

    Examples
    --------
    >>> import numpy as np
    >>> collection_library(np.zeros(3)) is None
    True
    """
    prefix = type(X).__module__.split(".")[0]
    return prefix if prefix in INTEGRATIONS or prefix in _HANDLERS else None


def collection_handler(X: Any) -> CollectionHandler | None:
    """The handler of `X`'s kind of collection (importing its integration), or None."""
    prefix = collection_library(X)
    if prefix is None:
        return None
    if prefix not in _HANDLERS:
        importlib.import_module(INTEGRATIONS[prefix])  # registers itself
    return _HANDLERS[prefix]
