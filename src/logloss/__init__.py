"""logloss: cross-entropy (log) loss, exactly and fast.

The losses and activations live in :mod:`logloss.losses` and
:mod:`logloss.activations`; gradients come from :func:`logloss.value_and_grad`.
Heavy modules (numba kernels, matplotlib, scikit-learn estimators, the CLI) are
imported on first use, so ``import logloss`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._buffers import release_buffers
from ._version import __version__
from .activations import log_sigmoid, log_softmax, logsumexp, sigmoid, softmax, softplus
from .grad import value_and_grad
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    nll_loss,
    sigmoid_focal_loss,
    softmax_focal_loss,
)

# name -> module that defines it; resolved on first attribute access (PEP 562).
_LAZY = {
    "linear_cross_entropy": "logloss.losses.linear",
    "metrics": "logloss.metrics",
    "plot": "logloss.plot",
    "stats": "logloss.stats",
    "LogisticRegression": "logloss.models",
    "SoftmaxRegression": "logloss.models",
    "MLPClassifier": "logloss.models",
    "TemperatureScaling": "logloss.models",
    "TablePreprocessor": "logloss.tables.transformer",
    "save": "logloss.tables.loading",
    "load": "logloss.tables.loading",
    "ModelFileError": "logloss.model_file",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'logloss' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name == f"logloss.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    "sigmoid",
    "log_sigmoid",
    "softplus",
    "softmax",
    "log_softmax",
    "logsumexp",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
    "value_and_grad",
    "release_buffers",
    *_LAZY,
]
