"""Objectives: the penalised weighted mean cross-entropy of a model, ``(loss, grad) = f(params)``.

Every solver in :mod:`logloss.solvers` minimises one of these callables. An objective
owns the training data and turns a flat float64 parameter vector into logits, sends the
logits through the fused kernel of :mod:`logloss._kernels` (which writes the gradient
with respect to the logits over the logits buffer, in the same pass as the loss), and
back-propagates that gradient to the parameters with BLAS.

The penalised objective of a linear model follows scikit-learn's ``LogisticRegression``
(so the same ``C`` gives the same coefficients):

.. math::

    f(W, b) = \\frac{1}{S} \\Big[ \\sum_i s_i \\, \\ell(x_i W + b, y_i)
              + \\frac{\\alpha}{2} \\lVert W \\rVert_2^2 \\Big],
    \\qquad S = \\sum_i s_i,

with sample weights :math:`s_i` (class weights already folded in), :math:`\\ell` the
softmax cross-entropy (or the sigmoid cross-entropy of one logit for binary problems),
:math:`\\alpha = 1/C` and an unpenalised intercept :math:`b`. An L1 part
:math:`\\frac{\\beta}{S} \\lVert W \\rVert_1` is not differentiable; it is reported by
:meth:`LinearObjective.penalty_l1` and handled by the proximal step of the solvers.

A solver that needs Hessian-vector products calls ``loss_grad_hessp(theta)``, which returns
the loss, the gradient and ``hessp(v)``, a closure over the curvature at `theta`.

Layout: :mod:`.linear_block` (the one loss/gradient/Hessian-product function over a
block of rows, shared with :mod:`logloss.dask`), :mod:`.linear`, :mod:`.mlp`,
:mod:`.temperature`. This package imports only NumPy, the kernels and ``_stable``; it
sits below the solvers and the estimators.
"""

from __future__ import annotations

from ._rows import Link, TrainingRows, normalised_weights, weighted_column_squares
from .linear import LinearObjective, diagonal_estimate, pack_linear, unpack_linear
from .linear_block import (
    block_loss_grad,
    block_rows,
    column_sums,
    linear_backward,
    linear_forward,
    rows_hessp,
    rows_loss_grad,
)
from .mlp import ACTIVATIONS, MLPObjective, mlp_logits
from .temperature import TemperatureObjective

__all__ = [
    "ACTIVATIONS",
    "Link",
    "LinearObjective",
    "MLPObjective",
    "TemperatureObjective",
    "TrainingRows",
    "block_loss_grad",
    "block_rows",
    "column_sums",
    "diagonal_estimate",
    "linear_backward",
    "linear_forward",
    "mlp_logits",
    "normalised_weights",
    "pack_linear",
    "rows_hessp",
    "rows_loss_grad",
    "unpack_linear",
    "weighted_column_squares",
]
