"""The one fit skeleton of every estimator (and of the Dask path).

``fit`` runs the same steps for each estimator; the estimator supplies the parts that
differ (its objective, its starting point, the fitted attributes it stores):

1. a collection of an optional library (a Dask array) goes to its integration
   (:mod:`._registry`) when the estimator fits such collections; the integration runs
   steps 2 and 5 with its own data and objective;
2. ``_check_params()``: the hyperparameters, as the estimator's typed :class:`~._params.Params`;
3. ``_check_data(X, y, sample_weight, params)``: the data as a :class:`FitData`;
4. ``_fit_problem(data, params)``: the objective, the starting point (``_initial_params``,
   which honours ``warm_start``) and the solver's options, as a :class:`FitProblem`;
5. ``_run_fit(problem, classes, dtype, params)``: sets ``classes_``, minimises under the
   thread policy (:mod:`._threads`) with the progress bar (a Ctrl-C keeps the best
   parameters so far: the solvers return them), stores the estimator's attributes
   (``_store_solution``) and the history every estimator keeps (``n_iter_``,
   ``loss_curve_``, ``validation_loss_curve_``, ``interrupted_``), and warns with
   :func:`logloss.solvers.progress.report`.

``_check_params``, ``_run_fit`` and the linear models' ``_initial_params`` and ``_link``
are the documented protected methods an integration may call.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ..solvers import OptimizeResult, minimize
from ..solvers.progress import progress, report
from ._data import fold_weights, validate_Xy
from ._params import Params
from ._registry import collection_handler
from ._threads import kernel_threads


@dataclass
class FitData:
    """Checked training data: X in its compute dtype, encoded labels, classes, weights."""

    X: NDArray
    y: NDArray
    classes: NDArray
    dtype: np.dtype
    sample_weight: NDArray | None


@dataclass
class FitProblem:
    """What ``_run_fit`` minimises, and how."""

    objective: Any
    x0: NDArray
    # keyword arguments of `minimize` besides the objective, x0, max_iter and callback
    options: dict[str, Any] = field(default_factory=dict)
    # the arguments of kernel_threads (logits per kernel call, BLAS columns); None: no limit
    threads: tuple[int, int | None] | None = None
    minimize: Callable[..., OptimizeResult] = minimize


class FitSkeleton:
    """``fit`` written once; the estimator classes fill in its steps (see the module)."""

    _params_type: ClassVar[type[Params]]
    # whether a collection of an optional library (a Dask array) is fitted by its
    # integration; other estimators convert it with numpy.asarray, as any array-like
    _fits_collections: ClassVar[bool] = False

    def fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Fit the model to `X` (n_samples, n_features) and labels `y`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; NaN or inf is a ``ValueError`` naming the column. For
            ``LogisticRegression`` and ``SoftmaxRegression``, a Dask array or DataFrame is
            fitted blockwise on its cluster (:func:`logloss.dask.fit`: solvers "lbfgs" and
            "newton"); PyTorch CPU tensors are converted to NumPy.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,) or None
            Non-negative weights.

        Returns
        -------
        self
        """
        if self._fits_collections:
            handler = collection_handler(X)
            if handler is not None:  # blockwise on the cluster, by the integration
                return handler.fit(self, X, y, sample_weight)
        params = self._check_params()
        data = self._check_data(X, y, sample_weight, params)
        problem = self._fit_problem(data, params)
        self._run_fit(problem, data.classes, data.dtype, params)
        return self

    # -- the steps ------------------------------------------------------------------

    def _check_params(self) -> Any:
        """The hyperparameters, checked, as the estimator's :class:`Params` dataclass."""
        return self._params_type.of(self)

    def _check_data(self, X: Any, y: Any, sample_weight: Any, params: Any) -> FitData:
        """X, encoded y, classes, the compute dtype and the folded sample weights."""
        X, y_enc, classes, dtype = validate_Xy(self, X, y, params.dtype)
        sw = fold_weights(sample_weight, params.class_weight, X, y_enc, classes)
        return FitData(X, y_enc, classes, dtype, sw)

    def _fit_problem(self, data: FitData, params: Any) -> FitProblem:  # pragma: no cover
        """Hook each estimator defines (step 4 above): its objective, starting point and
        solver options for `data`. The skeleton itself has none to offer."""
        raise NotImplementedError(f"{type(self).__name__} must define _fit_problem")

    def _run_fit(
        self, problem: FitProblem, classes: NDArray, dtype: np.dtype, params: Any
    ) -> OptimizeResult:
        """Minimise `problem` and store the fitted attributes; warns like every fit."""
        self.classes_ = classes
        self._dtype_ = dtype
        name = type(self).__name__
        # what `_fitted_at` needs while the solver runs (a name without a trailing
        # underscore: not a fitted attribute, so a model file never holds it)
        self._fit_in_progress = (problem, params)
        try:
            with (
                kernel_threads(*problem.threads) if problem.threads else nullcontext(),
                progress(params.verbose, params.max_iter, name, params.callback) as cb,
            ):
                result = problem.minimize(
                    problem.objective,
                    problem.x0,
                    max_iter=params.max_iter,
                    callback=cb,
                    **problem.options,
                )
        finally:
            del self._fit_in_progress
        self._store_solution(problem, result, params)
        self.n_iter_ = int(result.n_iter)
        self.loss_curve_ = list(result.loss_curve)
        self.validation_loss_curve_ = list(result.validation_curve)
        self.interrupted_ = bool(result.interrupted)
        report(result, name, params.solver, params.max_iter, stacklevel=4)
        return result

    def _fitted_at(self, x: NDArray, loss_curve: list[float]) -> None:
        """Make the estimator, while its fit runs, the model of the parameters `x`.

        Called from a ``callback`` during ``fit`` (e.g. to save a checkpoint with
        :func:`logloss.save` without stopping the solver): sets the fitted attributes
        (``coef_``, ``coefs_``, ...) from the solver's flat vector `x`, and ``n_iter_``
        and ``loss_curve_`` from `loss_curve`, the losses of the iterations so far. The
        end of the fit sets them again from the solver's result.
        """
        state = getattr(self, "_fit_in_progress", None)
        if state is None:
            raise RuntimeError("_fitted_at is only for a callback while fit runs")
        problem, params = state
        so_far = OptimizeResult(
            np.array(x, dtype=np.float64, copy=True),
            float(loss_curve[-1]) if loss_curve else float("nan"),
            len(loss_curve),
            False,
        )
        self._store_solution(problem, so_far, params)
        self.n_iter_ = len(loss_curve)
        self.loss_curve_ = list(loss_curve)
        self.validation_loss_curve_ = []
        self.interrupted_ = False

    def _store_solution(
        self, problem: FitProblem, result: OptimizeResult, params: Any
    ) -> None:  # pragma: no cover
        """Hook each estimator defines (step 5 above): set its fitted attributes
        (``coef_``, ``coefs_``, ``temperature_``, ...) from `result`."""
        raise NotImplementedError(f"{type(self).__name__} must define _store_solution")
