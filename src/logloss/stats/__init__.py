"""Statistical inference for fitted logloss linear models, in statsmodels' conventions.

:func:`infer` gives standard errors (nonrobust, HC0, HC1, cluster), z statistics,
p-values, intervals, likelihood-ratio and information statistics and marginal effects;
:func:`lr_test` compares nested models; separation is detected by linear programming
(:mod:`logloss.stats.separation`). A ``LogisticRegression(penalty="firth")`` gets Firth's
penalised-likelihood inference, as R's logistf: Wald errors, penalised likelihood-ratio
tests and profile intervals (:mod:`logloss.stats.profile`). scipy and pandas are imported
when first needed.
"""

from __future__ import annotations

from .infer import NotConvergedWarning, infer, lr_test
from .result import InferenceResult, MarginalEffects
from .separation import SeparationWarning

__all__ = [
    "infer",
    "lr_test",
    "InferenceResult",
    "MarginalEffects",
    "SeparationWarning",
    "NotConvergedWarning",
]
