"""logloss's own L-BFGS (two-loop recursion, strong-Wolfe line search), used from
``solvers.scipy_methods.OWN_LBFGS_PARAMS`` parameters on: against known minima and
against scipy's L-BFGS-B on the estimators' objectives."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from support import one_blas_thread  # noqa: F401 (autouse fixture)

from logloss.objectives import LinearObjective
from logloss.solvers import lbfgs as own
from logloss.solvers import minimize, scipy_methods

pytestmark = pytest.mark.xdist_group("models")


def _run(fun, x0, **kw):
    opts = {"max_iter": 500, "gtol": 1e-9, "ftol": 0.0} | kw
    return own.lbfgs(fun, x0, *fun(x0), **opts)


def test_ill_conditioned_quadratic_reaches_the_gradient_tolerance():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(40, 40)))
    A = Q @ np.diag(np.logspace(-1.5, 1.5, 40)) @ Q.T
    c = rng.normal(size=40)
    res = _run(lambda x: (0.5 * float(x @ A @ x) - float(c @ x), A @ x - c), np.zeros(40),
               max_iter=5000, memory=3, gtol=1e-8)  # fmt: skip
    assert res.success and res.message == own.CONVERGED_G
    assert np.max(np.abs(A @ res.x - c)) <= 1e-8
    np.testing.assert_allclose(res.x, np.linalg.solve(A, c), atol=1e-6)


def test_rosenbrock_from_the_classic_start():
    def rosen(x):
        a, b = x
        f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
        g = np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])
        return f, g

    res = _run(rosen, np.array([-1.2, 1.0]))
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)


def test_an_overshooting_first_step_is_cut_back():
    calls = []

    def steep(x):  # the unit step overshoots the minimum at 1e-3 a thousandfold
        calls.append(float(x[0]))
        return 500.0 * float(x[0] - 1e-3) ** 2, np.array([1000.0 * (x[0] - 1e-3)])

    res = _run(steep, np.array([0.0]))
    assert res.success
    assert res.x[0] == pytest.approx(1e-3, abs=1e-12)
    assert max(calls) > 0.5  # the first trial went far past the minimum, then zoomed in


def test_non_finite_values_shrink_the_step():
    def walled(x):  # infinite beyond |x| = 2, minimum at 1.5
        if abs(x[0]) > 2.0:
            return np.inf, np.array([np.inf])
        return float(x[0] - 1.5) ** 2, np.array([2.0 * (x[0] - 1.5)])

    res = _run(walled, np.array([-1.0]), gtol=1e-10)
    assert res.success and res.x[0] == pytest.approx(1.5, abs=1e-9)


def test_a_wrong_gradient_ends_in_a_failed_line_search():
    res = _run(lambda x: (float(x @ x), -2.0 * x), np.ones(3))  # the gradient's sign is wrong
    assert not res.success and res.message == own.LINE_SEARCH_FAILED
    np.testing.assert_array_equal(res.x, np.ones(3))  # never a step that increased f


def test_callback_stop_and_relative_reduction_stop():
    def bowl(x):
        return float(x @ x), 2.0 * x

    seen = []
    res = _run(bowl, np.ones(5) * 3, callback=lambda x, f, g: seen.append(f) or len(seen) == 2)
    assert not res.success and res.message == own.STOPPED and res.nit == 2 == len(seen)
    res = _run(bowl, np.ones(5) * 3, ftol=10.0)  # any decrease counts as too small
    assert res.success and res.message == own.CONVERGED_F and res.nit == 1


def _problem(k, sparse, weighted, seed=0):
    rng = np.random.default_rng(seed)
    n = 700
    ident = np.minimum(rng.zipf(1.4, size=n) - 1, 79)
    X = sp.hstack(
        [sp.csr_matrix((np.ones(n), (np.arange(n), ident)), shape=(n, 80)),
         sp.csr_matrix(rng.normal(size=(n, 4)))],
        format="csr",
    )  # fmt: skip
    y = (X @ rng.normal(size=(X.shape[1], k)) * 2 + rng.gumbel(size=(n, k))).argmax(axis=1)
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    return (X if sparse else X.toarray()), y, sw


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_same_minimum_as_scipy_on_the_linear_objective(monkeypatch, k, sparse, weighted):
    X, y, sw = _problem(k, sparse, weighted, seed=k)
    link = "sigmoid" if k == 2 else "softmax"
    f = LinearObjective(X, y, n_classes=k, link=link, sample_weight=sw, alpha=0.5)
    x0 = np.zeros(f.n_params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = minimize(f, x0, solver="lbfgs", tol=1e-10, max_iter=2000)
        monkeypatch.setattr(scipy_methods, "OWN_LBFGS_PARAMS", 0)
        calls = []
        monkeypatch.setattr(scipy_methods, "lbfgs", lambda *a, **kw: calls.append(1) or
                            own.lbfgs(*a, **kw))  # fmt: skip
        res = minimize(f, x0, solver="lbfgs", tol=1e-10, max_iter=2000)
    assert calls, "the own L-BFGS did not run"
    assert res.fun == pytest.approx(ref.fun, rel=1e-12)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    assert np.max(np.abs(f(res.x)[1])) <= 1e-8


def test_estimator_fit_with_the_own_solver_equals_scikit_learn(monkeypatch):
    from sklearn.linear_model import LogisticRegression as SkLR

    from logloss import LogisticRegression

    X, y, _ = _problem(3, True, False, seed=9)
    ref = SkLR(C=2.0, tol=1e-12, max_iter=10_000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scipys = LogisticRegression(C=2.0, tol=1e-10, max_iter=2000, dtype="float64").fit(X, y)
        monkeypatch.setattr(scipy_methods, "OWN_LBFGS_PARAMS", 0)
        est = LogisticRegression(C=2.0, tol=1e-10, max_iter=2000, dtype="float64").fit(X, y)
    np.testing.assert_allclose(est.coef_, scipys.coef_, atol=1e-8)
    # scikit-learn stops with its gradient near 1e-8 here: agreement to its accuracy
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-6)


def test_a_float32_objective_keeps_its_pairs_in_float32(monkeypatch):
    X, y, _ = _problem(4, True, False, seed=11)
    f64 = LinearObjective(X, y, n_classes=4, alpha=0.5)
    f32 = LinearObjective(X.astype(np.float32), y, n_classes=4, alpha=0.5)
    x0 = np.zeros(f64.n_params)
    ref = minimize(f64, x0, solver="lbfgs", tol=1e-9, max_iter=2000)
    monkeypatch.setattr(scipy_methods, "OWN_LBFGS_PARAMS", 0)
    kwargs = []
    monkeypatch.setattr(scipy_methods, "lbfgs", lambda *a, **kw: kwargs.append(kw) or
                        own.lbfgs(*a, **kw))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(f32, x0, solver="lbfgs", tol=1e-5, max_iter=2000)
    assert kwargs[0]["pair_dtype"] == np.float32
    assert f64(res.x)[0] == pytest.approx(ref.fun, rel=1e-6)
    assert np.max(np.abs(f64(res.x)[1])) <= 1e-4


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_rejected_pair_drops_the_oldest_it_overwrote(dtype):
    rng = np.random.default_rng(12)
    n, m = 30, 3
    points = [rng.normal(size=n) for _ in range(m + 1)]
    grads = [2.0 * p + 0.1 * rng.normal(size=n) for p in points]  # y . s > 0
    full = own._Pairs(m, n, dtype)
    for i in range(m):
        full.push(points[i + 1], points[i], grads[i + 1], grads[i])
    assert full.count == m
    full.push(points[0], points[1], grads[1], grads[0])  # y . s < 0: rejected
    assert full.count == m - 1
    newest = own._Pairs(m, n, dtype)  # the m - 1 newest pairs alone
    for i in range(1, m):
        newest.push(points[i + 1], points[i], grads[i + 1], grads[i])
    g = rng.normal(size=n)
    np.testing.assert_allclose(full.direction(g), newest.direction(g), rtol=1e-5)


def test_bad_arguments_name_themselves():
    fun = lambda x: (float(x @ x), 2.0 * x)  # noqa: E731
    with pytest.raises(ValueError, match="`x0` must be a vector and `g0` its gradient"):
        own.lbfgs(fun, np.ones(3), 3.0, np.ones(2), max_iter=5, gtol=0.0, ftol=0.0)
    with pytest.raises(ValueError, match="`max_iter` must be an integer >= 0; got -1"):
        own.lbfgs(fun, np.ones(3), *fun(np.ones(3)), max_iter=-1, gtol=0.0, ftol=0.0)
