"""The estimators with solver="newton-cholesky": scikit-learn's newton-cholesky and
statsmodels' MNLogit as references, weights, sparse and float32 input, bad input.

scikit-learn's objective is ``C sum_i s_i l_i + ||W||^2 / 2``, ours
``(sum_i s_i l_i + ||W||^2 / (2 C)) / S``: the same minimiser for the same C.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import sparse
from support import one_blas_thread  # noqa: F401 (autouse fixture)

from logloss import LogisticRegression, MLPClassifier, SoftmaxRegression
from logloss.solvers import SingularHessianWarning

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression as SkLR  # noqa: E402

pytestmark = pytest.mark.xdist_group("models")
SOLVER = "newton-cholesky"


def _data(n=800, d=4, k=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 2.0, 0.5, 1.0][:d]
    W = rng.normal(size=(d, k))
    y = np.argmax(X @ W + rng.gumbel(size=(n, k)), axis=1)
    return X, y, rng


def _centred(coef, intercept):
    """A softmax's coefficients with the shift common to the classes removed."""
    if coef.shape[0] == 1:
        return coef, intercept
    return coef - coef.mean(axis=0), intercept - intercept.mean()


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("C", [np.inf, 0.5])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_equals_scikit_learn_newton_cholesky(k, C, fit_intercept):
    X, y, _ = _data(k=k, seed=k)
    ref = SkLR(C=C, solver=SOLVER, tol=1e-14, max_iter=200, fit_intercept=fit_intercept).fit(X, y)
    ours = LogisticRegression(
        penalty=None if np.isinf(C) else "l2", C=1.0 if np.isinf(C) else C, solver=SOLVER,
        tol=1e-12, fit_intercept=fit_intercept,
    ).fit(X, y)  # fmt: skip
    assert ours.n_iter_ <= 10
    a = _centred(ours.coef_, ours.intercept_)
    b = _centred(ref.coef_, ref.intercept_)
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(a[1], b[1], rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=0, atol=1e-10)


@pytest.mark.parametrize("Est", [LogisticRegression, SoftmaxRegression])
def test_same_solution_as_the_other_solvers(Est):
    X, y, _ = _data(k=3, seed=4)
    ours = Est(C=2.0, solver=SOLVER, tol=1e-12).fit(X, y)
    for solver in ("newton", "lbfgs"):
        other = Est(C=2.0, solver=solver, tol=1e-10, max_iter=1000).fit(X, y)
        np.testing.assert_allclose(ours.coef_, other.coef_, rtol=0, atol=1e-6)


def test_weights_and_class_weights_equal_scikit_learn():
    X, y, rng = _data(k=3, seed=5)
    sw = rng.integers(1, 4, size=len(y)).astype(float)
    kw = dict(C=0.7, class_weight={0: 2.0, 1: 1.0, 2: 0.5})
    ref = SkLR(solver=SOLVER, tol=1e-14, **kw).fit(X, y, sample_weight=sw)
    ours = LogisticRegression(solver=SOLVER, tol=1e-12, **kw).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, _centred(ref.coef_, ref.intercept_)[0], atol=1e-8)
    # frequency weights: a row of weight 2 is the row twice
    rows = np.repeat(np.arange(len(y)), sw.astype(int))
    twice = LogisticRegression(solver=SOLVER, tol=1e-12, **kw).fit(X[rows], y[rows])
    np.testing.assert_allclose(ours.coef_, twice.coef_, rtol=0, atol=1e-9)


def test_unpenalised_softmax_matches_statsmodels_mnlogit():
    sm = pytest.importorskip("statsmodels.api")
    X, y, _ = _data(n=1500, d=3, k=4, seed=6)
    ours = SoftmaxRegression(penalty=None, solver=SOLVER, tol=1e-10).fit(X, y)
    assert ours.n_iter_ <= 10
    Z = sm.add_constant(X)
    ref = sm.MNLogit(y, Z).fit(disp=0, method="newton", maxiter=100, tol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict(Z), rtol=0, atol=1e-9)
    # statsmodels' parameters are relative to the first class
    rel = (ours.coef_ - ours.coef_[0]).T[:, 1:]
    np.testing.assert_allclose(rel, ref.params[1:], rtol=0, atol=1e-7)


def test_sparse_equals_dense_and_float32():
    X, y, rng = _data(k=3, seed=7)
    X[rng.random(X.shape) < 0.5] = 0.0
    dense = LogisticRegression(C=1.0, solver=SOLVER, tol=1e-12).fit(X, y)
    csr = LogisticRegression(C=1.0, solver=SOLVER, tol=1e-12).fit(sparse.csr_matrix(X), y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(csr.intercept_, dense.intercept_, rtol=0, atol=1e-10)
    single = LogisticRegression(C=1.0, solver=SOLVER, tol=1e-5).fit(X.astype(np.float32), y)
    assert single.coef_.dtype == np.float32
    np.testing.assert_allclose(single.coef_, dense.coef_, rtol=0, atol=1e-4)


def test_collinear_columns_give_finite_coefficients_and_a_warning():
    X, y, _ = _data(seed=8)
    Xc = np.c_[X, X[:, 0] + X[:, 1]]
    with pytest.warns(SingularHessianWarning, match="drop the collinear columns"):
        model = LogisticRegression(penalty=None, solver=SOLVER, tol=1e-8).fit(Xc, y)
    assert np.all(np.isfinite(model.coef_))
    plain = LogisticRegression(penalty=None, solver=SOLVER, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(model.predict_proba(Xc), plain.predict_proba(X), atol=1e-7)
    # an L2 penalty makes the Hessian definite: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LogisticRegression(C=1.0, solver=SOLVER).fit(Xc, y)


def test_l1_and_the_mlp_are_clear_errors():
    X, y, _ = _data()
    with pytest.raises(ValueError, match=r"`penalty`='l1' needs solver 'gd' or 'sgd'.*"
                                         r"got solver='newton-cholesky'"):  # fmt: skip
        LogisticRegression(penalty="l1", solver=SOLVER).fit(X, y)
    with pytest.raises(ValueError, match=r"`penalty`='elasticnet' needs solver"):
        LogisticRegression(penalty="elasticnet", solver=SOLVER).fit(X, y)
    with pytest.raises(ValueError, match=r"`solver` must be one of 'adam', 'sgd', 'lbfgs'; "
                                         r"got 'newton-cholesky'"):  # fmt: skip
        MLPClassifier(solver=SOLVER).fit(X, y)


def test_warm_start_callback_and_max_iter():
    X, y, _ = _data(k=3, seed=9)
    seen = []
    model = LogisticRegression(solver=SOLVER, tol=1e-10, warm_start=True, callback=seen.append)
    model.fit(X, y)
    assert [i.iteration for i in seen] == list(range(1, model.n_iter_ + 1))
    assert model.loss_curve_ == [i.loss for i in seen]
    model.fit(X, y)  # from the previous optimum
    assert model.n_iter_ <= 1
    from sklearn.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        LogisticRegression(solver=SOLVER, max_iter=2, tol=1e-12).fit(X, y)


@pytest.mark.parametrize("k", [2, 4])
def test_a_fit_for_inference_gives_statsmodels_standard_errors(k):
    sm = pytest.importorskip("statsmodels.api")
    from logloss.stats import NotConvergedWarning, infer

    X, y, _ = _data(n=1500, d=3, k=k, seed=10)
    Est = LogisticRegression if k == 2 else SoftmaxRegression
    model = Est(penalty=None, solver=SOLVER, tol=1e-8).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotConvergedWarning)
        ours = infer(model, X, y)
    Z = sm.add_constant(X)
    ref = (sm.Logit if k == 2 else sm.MNLogit)(y, Z).fit(disp=0)
    np.testing.assert_allclose(ours.params, ref.params, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.bse, ref.bse, rtol=1e-6)
