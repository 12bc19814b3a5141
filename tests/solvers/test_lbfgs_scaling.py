"""L-BFGS in the variables scaled by the objective's Hessian-diagonal estimate."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from support import one_blas_thread  # noqa: F401 (autouse fixture)

from logloss.objectives import LinearObjective
from logloss.solvers import IterationInfo, minimize

pytestmark = pytest.mark.xdist_group("models")


class Unscaled:
    """The same objective without its ``preconditioner``: plain L-BFGS."""

    def __init__(self, objective):
        self.objective = objective

    def __call__(self, x):
        return self.objective(x)


def _zipf_onehot(n=4000, levels=600, k=2, seed=0):
    """A one-hot identifier with Zipfian level counts (a few levels in thousands of rows,
    most in one or two) beside 3 numeric columns: badly scaled columns."""
    rng = np.random.default_rng(seed)
    ident = np.minimum(rng.zipf(1.3, size=n) - 1, levels - 1)
    X = sp.hstack(
        [sp.csr_matrix((np.ones(n), (np.arange(n), ident)), shape=(n, levels)),
         sp.csr_matrix(rng.normal(size=(n, 3)))],
        format="csr",
    )  # fmt: skip
    Z = X @ rng.normal(size=(X.shape[1], k)) * 2.0 + rng.gumbel(size=(n, k))
    return X, Z.argmax(axis=1)


def _float64_preconditioner(X, y, k, sw, alpha, link):
    """The Hessian diagonal at equal probabilities, from the definition on dense X."""
    D = X.toarray() if sp.issparse(X) else np.asarray(X, np.float64)
    w = np.ones(len(y)) if sw is None else np.asarray(sw, np.float64)
    kappa = 0.25 if link == "sigmoid" else (1 - 1 / k) / k
    kk = 1 if link == "sigmoid" else k
    cols = kappa * (w @ (D * D)) / w.sum() + alpha / w.sum()
    return np.concatenate([np.repeat(cols, kk), np.full(kk, kappa)])


@pytest.mark.parametrize("link,k", [("sigmoid", 2), ("softmax", 4)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_preconditioner_is_the_hessian_diagonal_at_equal_probabilities(link, k, weighted, sparse):
    X, y = _zipf_onehot(n=500, levels=40, k=k, seed=1)
    sw = np.random.default_rng(2).uniform(0.1, 3.0, size=len(y)) if weighted else None
    Xin = X if sparse else X.toarray()
    f = LinearObjective(Xin, y, n_classes=k, link=link, sample_weight=sw, alpha=2.0)
    expected = _float64_preconditioner(X, y, k, sw, 2.0, link)
    np.testing.assert_allclose(f.preconditioner, expected, rtol=1e-12)
    # where every class is equally likely it is the exact diagonal of the Hessian
    theta = np.zeros(f.n_params)
    if link == "sigmoid":  # p = 1/2 at theta = 0
        _, _, hessp = f.loss_grad_hessp(theta)
        diag = [hessp(np.eye(f.n_params)[j])[j] for j in range(0, f.n_params, 7)]
        np.testing.assert_allclose(diag, expected[::7], rtol=1e-10)


@pytest.mark.parametrize("k", [2, 5])
def test_same_minimum_in_far_fewer_iterations(k):
    X, y = _zipf_onehot(k=k)
    link = "sigmoid" if k == 2 else "softmax"
    f = LinearObjective(X, y, n_classes=k, link=link, alpha=1.0)
    x0 = np.zeros(f.n_params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaled = minimize(f, x0, solver="lbfgs", tol=1e-6, max_iter=2000)
        plain = minimize(Unscaled(f), x0, solver="lbfgs", tol=1e-6, max_iter=2000)
    assert scaled.converged and plain.converged
    # the same minimum (the reference: Newton's method to the float64 limit)
    best = minimize(f, x0, solver="newton", tol=1e-10, max_iter=200)
    assert scaled.fun == pytest.approx(best.fun, rel=1e-9)
    assert plain.fun == pytest.approx(best.fun, rel=1e-7)
    np.testing.assert_allclose(scaled.x, best.x, atol=1e-3)
    assert scaled.n_iter * 2 < plain.n_iter, (scaled.n_iter, plain.n_iter)


class ScaledQuadratic:
    """f(x) = 1/2 sum_j d_j (x_j - c_j)^2 with a (deliberately wrong) preconditioner."""

    def __init__(self, d, c, guess):
        self.d, self.c, self.preconditioner = d, c, guess

    def __call__(self, x):
        r = x - self.c
        return 0.5 * float(np.sum(self.d * r * r)), self.d * r


@pytest.mark.parametrize("guess", [np.array([100.0, 0.01, 1.0]), np.array([1e-4, 1e4, 9.0])])
def test_stopping_test_is_on_the_gradient_in_x(guess):
    rng = np.random.default_rng(3)
    f = ScaledQuadratic(np.array([50.0, 0.02, 3.0]), rng.normal(size=3), guess)
    res = minimize(f, np.zeros(3), solver="lbfgs", tol=1e-7, max_iter=500)
    assert res.converged
    assert np.max(np.abs(f(res.x)[1])) <= 1e-7
    np.testing.assert_allclose(res.x, f.c, atol=1e-7 / 0.02 * 1.01)


def test_callback_sees_the_unscaled_parameters():
    X, y = _zipf_onehot(n=800, levels=60, k=3, seed=4)
    f = LinearObjective(X, y, n_classes=3, alpha=1.0)
    seen: list[IterationInfo] = []
    res = minimize(f, np.zeros(f.n_params), solver="lbfgs", tol=1e-5, callback=seen.append)
    assert len(seen) == res.n_iter and res.n_iter > 0
    for info in seen[:: max(1, len(seen) // 5)]:
        assert f(info.x)[0] == pytest.approx(info.loss, rel=1e-12)
    assert seen[-1].loss == pytest.approx(res.fun, rel=1e-12)


def test_a_start_that_passes_the_test_costs_no_iteration():
    X, y = _zipf_onehot(n=800, levels=60, k=2, seed=5)
    f = LinearObjective(X, y, n_classes=2, link="sigmoid", alpha=1.0)
    first = minimize(f, np.zeros(f.n_params), solver="lbfgs", tol=1e-8, max_iter=1000)
    calls = []

    def counted(x):
        calls.append(1)
        return f(x)

    again = minimize(counted, first.x, solver="lbfgs", tol=1e-8)
    assert again.converged and again.n_iter == 0 and len(calls) == 1
    np.testing.assert_array_equal(again.x, first.x)


def test_an_empty_unpenalised_column_is_left_alone():
    X, y = _zipf_onehot(n=600, levels=50, k=2, seed=6)
    X = sp.hstack([X, sp.csr_matrix((X.shape[0], 1))], format="csr")  # an empty column
    f = LinearObjective(X, y, n_classes=2, link="sigmoid", alpha=0.0)
    assert f.preconditioner[X.shape[1] - 1] == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(f, np.zeros(f.n_params), solver="lbfgs", tol=1e-6, max_iter=300)
    assert np.all(np.isfinite(res.x)) and res.x[X.shape[1] - 1] == 0.0


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_weighted_column_squares_over_several_blocks(sparse, weighted):
    from logloss.objectives import weighted_column_squares

    rng = np.random.default_rng(7)
    D = rng.normal(size=(300, 5000)) * (rng.random((300, 5000)) < (0.9 if not sparse else 0.3))
    w = rng.uniform(0.1, 2.0, 300) if weighted else None
    X = sp.csr_matrix(D) if sparse else D.astype(np.float32)  # dense: 209 rows a block
    expected = (np.ones(300) if w is None else w) @ (D.astype(X.dtype).astype(np.float64) ** 2)
    np.testing.assert_allclose(weighted_column_squares(X, w), expected, rtol=1e-12)
