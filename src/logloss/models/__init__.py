"""scikit-learn estimators trained on cross-entropy.

- :class:`LogisticRegression`: sigmoid for two classes, softmax for three or more;
  scikit-learn's objective and ``C``.
- :class:`SoftmaxRegression`: always a softmax, two classes included.
- :class:`MLPClassifier`: a multi-layer perceptron with a softmax (or sigmoid) output.
- :class:`TemperatureScaling`: one temperature that calibrates a classifier's logits.

Each is built as objective (:mod:`logloss.objectives`) -> solver (:mod:`logloss.solvers`)
-> fitted arrays by one fit skeleton (:mod:`._fit`), with its hyperparameters declared
with their constraints (:mod:`._params`); it shows a progress bar with ``verbose=1``;
Ctrl-C during ``fit`` keeps the best parameters so far and warns with
:class:`FitInterruptedWarning`. The prediction methods are :mod:`._prediction`'s;
collections of optional libraries (Dask) reach their integration through
:mod:`._registry`.
"""

from __future__ import annotations

from ..solvers import DivergenceError, FitInterruptedWarning
from .calibration import TemperatureScaling, expected_calibration_error
from .linear import LogisticRegression, SoftmaxRegression
from .mlp import MLPClassifier

__all__ = [
    "LogisticRegression",
    "SoftmaxRegression",
    "MLPClassifier",
    "TemperatureScaling",
    "FitInterruptedWarning",
    "DivergenceError",
    "expected_calibration_error",
]
