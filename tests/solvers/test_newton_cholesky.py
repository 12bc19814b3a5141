"""The "newton-cholesky" solver and the full Hessian it runs on.

References: the Hessian written out in float64 here (dense loops over the class pairs),
central differences of the gradient, and the optima of "lbfgs" and "newton" at a tight
tolerance.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import sparse
from support import one_blas_thread  # noqa: F401 (autouse fixture)

from logloss.objectives import LinearObjective
from logloss.solvers import (
    NEWTON_CHOLESKY,
    SOLVERS,
    SingularHessianWarning,
    minimize,
    newton_step,
)

pytestmark = pytest.mark.xdist_group("models")


def _data(n=400, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(size=(d, k))
    y = np.argmax(X @ W + rng.gumbel(size=(n, k)), axis=1)
    return X, y, rng


def _reference_hessian(X, y, sw, theta, k, link, fit_intercept, alpha):
    """The Hessian of the weighted mean cross-entropy + alpha/(2S) ||W||^2, by its formula,
    in the layout W (d, K') row-major then b."""
    n, d = X.shape
    kk = 1 if link == "sigmoid" else k
    Z = np.c_[X, np.ones(n)] if fit_intercept else X
    dp = Z.shape[1]
    B = theta.reshape(dp, kk) if fit_intercept else theta.reshape(d, kk)
    s = sw / sw.sum()
    H = np.zeros((dp * kk, dp * kk))
    eta = Z @ B
    if link == "sigmoid":
        p = 1.0 / (1.0 + np.exp(-eta[:, 0]))
        H = (Z * (s * p * (1 - p))[:, None]).T @ Z
    else:
        P = np.exp(eta - eta.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        for c in range(kk):
            for e in range(kk):
                a = s * ((c == e) * P[:, c] - P[:, c] * P[:, e])
                H[c::kk, e::kk] = (Z * a[:, None]).T @ Z
    H[np.arange(d * kk), np.arange(d * kk)] += alpha / sw.sum()
    return H


@pytest.mark.parametrize("link,k", [("sigmoid", 2), ("softmax", 3), ("softmax", 2)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_full_hessian_equals_the_formula_and_the_gradient_differences(link, k, fit_intercept):
    X, y, rng = _data(k=k)
    sw = rng.random(len(y)) + 0.5
    f = LinearObjective(
        X, y, n_classes=k, link=link, sample_weight=sw, fit_intercept=fit_intercept, alpha=0.3
    )
    theta = rng.normal(size=f.n_params) * 0.5
    loss, grad, H = f.loss_grad_hess(theta)
    ref = _reference_hessian(X, y, sw, theta, k, link, fit_intercept, 0.3)
    np.testing.assert_allclose(H, ref, rtol=1e-12, atol=1e-14)
    loss2, grad2 = f(theta)
    assert loss == pytest.approx(loss2, rel=1e-14)
    np.testing.assert_allclose(grad, grad2, rtol=1e-12, atol=1e-15)
    h = 1e-5
    fd = np.stack(
        [(f(theta + h * e)[1] - f(theta - h * e)[1]) / (2 * h) for e in np.eye(f.n_params)], 1
    )
    np.testing.assert_allclose(H, fd, rtol=0, atol=1e-8)


@pytest.mark.parametrize("link,k", [("sigmoid", 2), ("softmax", 4)])
def test_sparse_and_float32_hessians(link, k):
    X, y, rng = _data(k=k)
    X[rng.random(X.shape) < 0.6] = 0.0
    theta = rng.normal(size=(X.shape[1] + 1) * (1 if link == "sigmoid" else k))
    dense = LinearObjective(X, y, n_classes=k, link=link, alpha=1.0).loss_grad_hess(theta)
    csr = LinearObjective(
        sparse.csr_matrix(X), y, n_classes=k, link=link, alpha=1.0
    ).loss_grad_hess(theta)
    single = LinearObjective(
        X.astype(np.float32), y, n_classes=k, link=link, alpha=1.0
    ).loss_grad_hess(theta)
    np.testing.assert_allclose(csr[2], dense[2], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(csr[1], dense[1], rtol=1e-12, atol=1e-15)
    assert single[2].dtype == np.float64
    np.testing.assert_allclose(single[2], dense[2], rtol=0, atol=1e-6)


def test_newton_step_is_the_minimum_norm_step_on_the_shifts():
    X, y, rng = _data(k=3)
    f = LinearObjective(X, y, n_classes=3, alpha=0.0)
    _, g, H = f.loss_grad_hess(rng.normal(size=f.n_params))
    N = f.flat_directions
    assert N.shape == (f.n_params, X.shape[1] + 1)
    np.testing.assert_allclose(N.T @ N, np.eye(N.shape[1]), atol=1e-15)
    np.testing.assert_allclose(H @ N, 0.0, atol=1e-14)  # H is singular along the shifts
    np.testing.assert_allclose(N.T @ g, 0.0, atol=1e-15)
    step, damping = newton_step(H, g, N)
    assert damping == 0.0
    np.testing.assert_allclose(step, -np.linalg.pinv(H, hermitian=True) @ g, atol=1e-10)
    # with an L2 penalty the coefficients' shifts are curved: only the intercept's is flat
    assert LinearObjective(X, y, n_classes=3, alpha=1.0).flat_directions.shape[1] == 1
    assert LinearObjective(X, y, n_classes=2, link="sigmoid").flat_directions.shape[1] == 0


@pytest.mark.parametrize(
    "link,k,alpha", [("sigmoid", 2, 0.0), ("sigmoid", 2, 2.0), ("softmax", 3, 0.0),
                     ("softmax", 3, 1.0), ("softmax", 2, 0.0)],
)  # fmt: skip
def test_same_optimum_as_lbfgs_and_newton(link, k, alpha):
    X, y, rng = _data(n=600, k=k, seed=1)
    sw = rng.random(len(y)) + 0.5
    f = LinearObjective(X, y, n_classes=k, link=link, sample_weight=sw, alpha=alpha)
    res = minimize(f, np.zeros(f.n_params), solver=NEWTON_CHOLESKY, tol=1e-12, max_iter=50)
    assert res.converged and res.n_iter <= 10
    assert np.max(np.abs(f(res.x)[1])) <= 1e-12
    # L-BFGS-B stops on its relative loss reduction (ftol) with |gradient| about 3e-9
    # here, so it is 1e-7-close; trust-region Newton-CG can stop at "a bad approximation"
    # with |gradient| near 1e-9 (1e-8-close)
    for other, atol in (("lbfgs", 1e-7), ("newton", 1e-8)):
        ref = minimize(f, np.zeros(f.n_params), solver=other, tol=1e-12, max_iter=5000)
        a, b = res.x, ref.x
        if link == "softmax":  # compare what the shifts leave unchanged: the centred W, b
            N = f.flat_directions
            a, b = a - N @ (N.T @ a), b - N @ (N.T @ b)
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


def test_unpenalised_softmax_converges_quadratically():
    X, y, _ = _data(n=2000, d=5, k=4, seed=2)
    f = LinearObjective(X, y, n_classes=4, alpha=0.0)
    seen = []
    res = minimize(
        f, np.zeros(f.n_params), solver=NEWTON_CHOLESKY, tol=1e-13, max_iter=30,
        callback=lambda info: seen.append(np.max(np.abs(f(info.x)[1]))),
    )  # fmt: skip
    assert res.converged and res.n_iter <= 8
    assert np.max(np.abs(f(res.x)[1])) <= 1e-13
    # once close, each gradient is at most a constant times the square of the last
    # (measured here: the constant is about 30, against a linear rate it would be huge)
    close = [(a, b) for a, b in zip(seen, seen[1:], strict=False) if 1e-12 < b and a < 1e-3]
    assert close and all(b <= 100.0 * a * a for a, b in close)


def test_collinear_columns_warn_and_stay_finite():
    X, y, _ = _data(n=500, d=3, k=2, seed=3)
    Xc = np.c_[X, X[:, 0] - 2.0 * X[:, 1], np.zeros(len(y))]
    for link, k in (("sigmoid", 2), ("softmax", 2)):
        f = LinearObjective(Xc, y, n_classes=k, link=link, alpha=0.0)
        with pytest.warns(SingularHessianWarning, match="collinear or constant columns"):
            res = minimize(f, np.zeros(f.n_params), solver=NEWTON_CHOLESKY, tol=1e-9)
        assert np.all(np.isfinite(res.x)) and res.converged
        plain = LinearObjective(X, y, n_classes=k, link=link, alpha=0.0)
        ref = minimize(plain, np.zeros(plain.n_params), solver=NEWTON_CHOLESKY, tol=1e-11)
        assert res.fun == pytest.approx(ref.fun, rel=1e-12)


def test_well_conditioned_fits_do_not_warn():
    X, y, _ = _data()
    f = LinearObjective(X, y, n_classes=3, alpha=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minimize(f, np.zeros(f.n_params), solver=NEWTON_CHOLESKY, tol=1e-10)


def test_l1_and_objectives_without_a_hessian_are_refused():
    X, y, _ = _data()
    with pytest.raises(ValueError, match=r"L1 penalty needs a proximal solver.*'newton-cholesky'"):
        minimize(LinearObjective(X, y, n_classes=3, l1=1.0), np.zeros(15), solver=NEWTON_CHOLESKY)
    with pytest.raises(TypeError, match=r"needs an objective with loss_grad_hess"):
        minimize(lambda x: (float(x @ x), 2 * x), np.ones(2), solver=NEWTON_CHOLESKY)
    assert NEWTON_CHOLESKY in SOLVERS


def test_starts_at_the_optimum_and_callback_sees_every_iteration():
    X, y, _ = _data()
    f = LinearObjective(X, y, n_classes=3, alpha=1.0)
    infos = []
    res = minimize(
        f, np.zeros(f.n_params), solver=NEWTON_CHOLESKY, tol=1e-10, callback=infos.append
    )
    assert [i.iteration for i in infos] == list(range(1, res.n_iter + 1))
    assert [i.loss for i in infos] == res.loss_curve
    assert np.all(np.diff(res.loss_curve) <= 0.0)
    again = minimize(f, res.x, solver=NEWTON_CHOLESKY, tol=1e-10)  # a warm start
    assert again.converged and again.n_iter == 0
