"""Evaluation metrics built on cross-entropy: log loss, perplexity, entropy, KL, Brier.

:func:`log_loss` and :func:`brier_score` follow scikit-learn 1.9's
``sklearn.metrics.log_loss`` and ``brier_score_loss`` (label handling, column
order, clipping, warnings, the [0, 2] multiclass Brier range); where they differ
(negative sample weights are an error here) their docstrings say so.
:func:`entropy` and :func:`kl_divergence` follow ``scipy.stats.entropy``
(inputs are normalised along `axis`). :func:`perplexity` takes logits and
integer targets, like :func:`logloss.cross_entropy`.

Scores are returned as Python floats; :func:`entropy` and :func:`kl_divergence`
return one value per distribution.

The modules:

- :mod:`~logloss.metrics.scores`: :func:`log_loss`, :func:`brier_score`;
- :mod:`~logloss.metrics.information`: :func:`perplexity`, :func:`entropy`,
  :func:`kl_divergence`;
- :mod:`~logloss.metrics.calibration`: reliability bins and the expected
  calibration error, used by :func:`logloss.plot.calibration` and the report;
- :mod:`~logloss.metrics.evaluation`: the summary of a model's probabilities
  (log loss, accuracy, Brier, calibration error, ROC AUC) that the report and
  the command line show.
"""

from __future__ import annotations

from .information import entropy, kl_divergence, perplexity
from .scores import brier_score, log_loss

__all__ = ["log_loss", "brier_score", "perplexity", "entropy", "kl_divergence"]
