"""Solvers: convergence on known problems, proximal L1, callbacks, Ctrl-C, divergence."""

from __future__ import annotations

import numpy as np
import pytest
from support import one_blas_thread  # noqa: F401 (autouse fixture)

from logloss.objectives import LinearObjective
from logloss.solvers import (
    SOLVERS,
    DivergenceError,
    IterationInfo,
    minimize,
    soft_threshold,
)

pytestmark = pytest.mark.xdist_group("models")


class Quadratic:
    """f(x) = 1/2 (x - c)^T A (x - c), minimum at c; the Hessian is A."""

    def __init__(self, n=5, seed=0):
        rng = np.random.default_rng(seed)
        M = rng.normal(size=(n, n))
        self.A = M @ M.T / n + np.eye(n)
        self.c = rng.normal(size=n)
        self.n_params = n
        self.n_samples = 1

    def __call__(self, x):
        d = x - self.c
        return 0.5 * float(d @ self.A @ d), self.A @ d

    def hessp(self, x, v):
        return self.A @ v


def _problem(n=300, k=3, seed=0, l1=0.0, alpha=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    W = rng.normal(size=(5, k))
    y = np.argmax(X @ W + rng.gumbel(size=(n, k)), axis=1)
    return LinearObjective(X, y, n_classes=k, alpha=alpha, l1=l1)


@pytest.mark.parametrize("solver", ["lbfgs", "newton", "gd"])
def test_deterministic_solvers_find_the_minimum_of_a_quadratic(solver):
    q = Quadratic()
    res = minimize(q, np.zeros(q.n_params), solver=solver, tol=1e-9, max_iter=2000)
    assert res.converged
    np.testing.assert_allclose(res.x, q.c, atol=1e-6)
    assert res.n_iter == len(res.loss_curve) >= 1


def test_lbfgs_newton_and_gd_agree_on_a_logistic_objective():
    f = _problem()
    x0 = np.zeros(f.n_params)
    ref = minimize(f, x0, solver="lbfgs", tol=1e-10, max_iter=500).x
    for solver in ("newton", "gd"):
        res = minimize(f, x0, solver=solver, tol=1e-9, max_iter=5000)
        assert res.converged, solver
        np.testing.assert_allclose(res.x, ref, atol=1e-6)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_solvers_approach_the_minimum(solver):
    f = _problem()
    x0 = np.zeros(f.n_params)
    best = minimize(f, x0, solver="lbfgs", tol=1e-10).fun
    lr = 0.05 if solver == "sgd" else 0.05
    res = minimize(
        f,
        x0,
        solver=solver,
        learning_rate=lr,
        batch_size=50,
        max_iter=60,
        schedule="cosine",
        random_state=np.random.default_rng(0),
        tol=0.0,
        n_iter_no_change=100,
    )
    assert f(res.x)[0] < best + 1e-2
    assert res.loss_curve[-1] < res.loss_curve[0]


def test_gd_with_l1_is_sparse_and_optimal():
    f = _problem(l1=30.0, alpha=0.0)
    res = minimize(f, np.zeros(f.n_params), solver="gd", tol=1e-10, max_iter=20000)
    assert res.converged
    x = res.x
    _, g = f(x)
    lam = f.l1_scale
    coef, gc = x[: f.n_coef], g[: f.n_coef]
    zero = coef == 0
    assert zero.any() and (~zero).any()
    # optimality of the lasso-type problem: g = -lam sign(x) off zero, |g| <= lam at zero
    np.testing.assert_allclose(gc[~zero], -lam * np.sign(coef[~zero]), atol=1e-7)
    assert np.all(np.abs(gc[zero]) <= lam + 1e-7)
    np.testing.assert_allclose(g[f.n_coef :], 0.0, atol=1e-7)  # intercept unpenalised


def test_sgd_with_l1_gives_zeros():
    f = _problem(l1=30.0, alpha=0.0)
    res = minimize(
        f,
        np.zeros(f.n_params),
        solver="sgd",
        learning_rate=0.05,
        max_iter=30,
        momentum=0.0,
        random_state=np.random.default_rng(1),
    )
    assert np.any(res.x[: f.n_coef] == 0.0)


@pytest.mark.parametrize("solver", ["lbfgs", "newton", "adam"])
def test_l1_is_refused_by_smooth_solvers(solver):
    f = _problem(l1=1.0)
    with pytest.raises(ValueError, match=f"needs a proximal solver.*got solver='{solver}'"):
        minimize(f, np.zeros(f.n_params), solver=solver)


def testsoft_threshold():
    x = np.array([-3.0, -0.5, 0.0, 0.2, 2.0])
    soft_threshold(x, 1.0, np.array([True, True, True, True, False]))
    np.testing.assert_array_equal(x, [-2.0, 0.0, 0.0, 0.0, 2.0])


@pytest.mark.parametrize("solver", SOLVERS)
def test_keyboard_interrupt_returns_best_parameters(solver):
    f = _problem()
    seen = []

    def callback(info: IterationInfo):
        seen.append(info.loss)
        if info.iteration == 3:
            raise KeyboardInterrupt

    res = minimize(
        f,
        np.zeros(f.n_params),
        solver=solver,
        callback=callback,
        max_iter=50,
        learning_rate=0.01 if solver in ("sgd", "adam") else "auto",
    )
    assert res.interrupted and not res.converged
    assert np.all(np.isfinite(res.x))
    assert f(res.x)[0] <= min(seen) + 1e-12 or solver in ("sgd", "adam")
    assert f(res.x)[0] < np.log(3)


@pytest.mark.parametrize("solver", SOLVERS)
def test_callback_returning_true_stops(solver):
    f = _problem()
    res = minimize(
        f,
        np.zeros(f.n_params),
        solver=solver,
        max_iter=50,
        callback=lambda info: info.iteration >= 2,
    )
    assert res.n_iter == 2 and not res.converged


def test_max_iter_reached_is_not_converged():
    res = minimize(_problem(), np.zeros(18), solver="gd", max_iter=2, tol=1e-12)
    assert not res.converged and res.n_iter == 2 and "max_iter" in res.message


@pytest.mark.parametrize("solver,lr", [("gd", 500.0), ("sgd", 1e4), ("adam", 1e3)])
def test_divergence_is_an_error_naming_the_learning_rate(solver, lr):
    rng = np.random.default_rng(0)
    X = 50.0 * rng.normal(size=(200, 5))
    y = rng.integers(0, 3, 200)
    f = LinearObjective(X, y, n_classes=3, alpha=0.0)
    with pytest.raises(DivergenceError, match=r"diverged.*`learning_rate`=.* is too high"):
        minimize(
            f, np.zeros(f.n_params), solver=solver, learning_rate=lr, max_iter=50, momentum=0.99
        )


def test_backtracking_gd_never_diverges():
    rng = np.random.default_rng(0)
    X = 50.0 * rng.normal(size=(200, 5))
    y = rng.integers(0, 3, 200)
    f = LinearObjective(X, y, n_classes=3, alpha=1.0)
    res = minimize(f, np.zeros(f.n_params), solver="gd", max_iter=300, tol=1e-6)
    assert np.all(np.diff(res.loss_curve) <= 1e-12)  # monotone
    assert res.fun < np.log(3)


def test_early_stopping_returns_the_best_validation_point():
    f = _problem(n=200, alpha=0.0)
    vals = iter([3.0, 2.0, 1.0, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0])
    xs = []

    def validation(x):
        xs.append(x.copy())
        return next(vals)

    res = minimize(
        f,
        np.zeros(f.n_params),
        solver="adam",
        learning_rate=0.01,
        validation=validation,
        n_iter_no_change=3,
        max_iter=100,
        tol=0.0,
    )
    assert res.validation_curve == [3.0, 2.0, 1.0, 1.5, 1.6, 1.7]
    assert res.converged and "validation loss" in res.message
    np.testing.assert_array_equal(res.x, xs[2])


def test_bad_solver_arguments():
    f = _problem()
    with pytest.raises(ValueError, match="`solver` must be one of .*got 'bfgs'"):
        minimize(f, np.zeros(f.n_params), solver="bfgs")
    with pytest.raises(ValueError, match="`schedule` must be one of .*got 'step'"):
        minimize(f, np.zeros(f.n_params), solver="sgd", schedule="step")
    with pytest.raises(ValueError, match="`learning_rate` must be a positive number or 'auto'"):
        minimize(f, np.zeros(f.n_params), solver="gd", learning_rate="fast")


def test_newton_uses_the_objectives_hessian_closure():
    """One evaluation per iterate: scipy's Hessian products reuse that point's closure."""
    f = _problem()
    calls = {"loss_grad_hessp": 0, "products": 0}
    inner = f.loss_grad_hessp

    def counted(theta):
        calls["loss_grad_hessp"] += 1
        loss, grad, hessp = inner(theta)

        def product(v):
            calls["products"] += 1
            return hessp(v)

        return loss, grad, product

    f.loss_grad_hessp = counted
    res = minimize(f, np.zeros(f.n_params), solver="newton", tol=1e-9, max_iter=100)
    assert res.converged
    assert calls["products"] > calls["loss_grad_hessp"] >= res.n_iter
