"""Objectives: gradients and Hessian-vector products against finite differences, and the
linear objective against scikit-learn's ``LinearModelLoss`` (the definition of ``C``)."""

from __future__ import annotations

import numpy as np
import pytest
from reference import numeric_grad
from support import one_blas_thread  # noqa: F401 (autouse fixture)

import logloss as ll
from logloss.objectives import LinearObjective, MLPObjective, TemperatureObjective

pytestmark = pytest.mark.xdist_group("models")


def _data(n=40, f=4, k=3, seed=0, weighted=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f))
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)
    sw = rng.uniform(0.1, 2.0, n) if weighted else None
    return X, y, sw, rng


CASES = [
    (link, k, weighted, fit_intercept)
    for link, k in [("softmax", 3), ("softmax", 2), ("sigmoid", 2)]
    for weighted in (False, True)
    for fit_intercept in (True, False)
]


@pytest.mark.parametrize("link,k,weighted,fit_intercept", CASES)
def test_linear_gradient_matches_finite_differences(link, k, weighted, fit_intercept):
    X, y, sw, rng = _data(k=k, weighted=weighted)
    f = LinearObjective(
        X, y, n_classes=k, link=link, sample_weight=sw, fit_intercept=fit_intercept, alpha=0.7
    )
    theta = rng.normal(size=f.n_params)
    loss, grad = f(theta)
    fd = numeric_grad(lambda t: f(t)[0], theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    assert loss == pytest.approx(f.loss(theta), rel=1e-14)


@pytest.mark.parametrize("link,k,weighted,fit_intercept", CASES)
def test_linear_hessp_matches_finite_differences_of_gradient(link, k, weighted, fit_intercept):
    X, y, sw, rng = _data(k=k, weighted=weighted, seed=1)
    f = LinearObjective(
        X, y, n_classes=k, link=link, sample_weight=sw, fit_intercept=fit_intercept, alpha=0.3
    )
    theta, v = rng.normal(size=f.n_params), rng.normal(size=f.n_params)
    h = 1e-6
    fd = (f(theta + h * v)[1] - f(theta - h * v)[1]) / (2 * h)
    np.testing.assert_allclose(f.hessp(theta, v), fd, rtol=1e-6, atol=1e-8)
    # the Hessian is symmetric: u.Hv = v.Hu
    u = rng.normal(size=f.n_params)
    assert u @ f.hessp(theta, v) == pytest.approx(v @ f.hessp(theta, u), rel=1e-10)


@pytest.mark.parametrize("link,k", [("softmax", 3), ("sigmoid", 2)])
@pytest.mark.parametrize("weighted", [False, True])
def test_linear_objective_equals_scikit_learn(link, k, weighted):
    loss_mod = pytest.importorskip("sklearn._loss.loss")
    from sklearn.linear_model._linear_loss import LinearModelLoss

    X, y, sw, rng = _data(k=k, weighted=weighted, seed=2)
    C = 0.37
    f = LinearObjective(X, y, n_classes=k, link=link, sample_weight=sw, alpha=1.0 / C)
    theta = rng.normal(size=f.n_params)
    S = len(y) if sw is None else sw.sum()
    if link == "softmax":
        base = loss_mod.HalfMultinomialLoss(n_classes=k)
        W, b = f.unpack(theta)
        coef = np.hstack([W.T, b[:, None]]).ravel(order="F")
    else:
        base = loss_mod.HalfBinomialLoss()
        coef = theta
    ref_loss, _ = LinearModelLoss(base, True).loss_gradient(
        coef, X, y.astype(float), sw, l2_reg_strength=1.0 / (C * S)
    )
    assert f(theta)[0] == pytest.approx(ref_loss, rel=1e-12)


def test_linear_blocks_give_the_same_result():
    X, y, sw, rng = _data(n=101, k=4, weighted=True, seed=3)
    f = LinearObjective(X, y, n_classes=4, sample_weight=sw, alpha=0.5)
    theta = rng.normal(size=f.n_params)
    loss, grad = f(theta)
    f.block = 7  # many blocks, the last one short
    loss7, grad7 = f(theta)
    assert loss7 == pytest.approx(loss, rel=1e-13)
    np.testing.assert_allclose(grad7, grad, rtol=1e-12, atol=1e-14)


def test_linear_minibatch_of_all_rows_equals_full_objective():
    X, y, sw, rng = _data(weighted=True, seed=4)
    f = LinearObjective(X, y, n_classes=3, sample_weight=sw, alpha=0.5)
    theta = rng.normal(size=f.n_params)
    full = f(theta)
    batch = f.minibatch(theta, np.arange(len(y)))
    assert batch[0] == pytest.approx(full[0], rel=1e-13)
    np.testing.assert_allclose(batch[1], full[1], rtol=1e-12)


def test_linear_float32_is_close_to_float64():
    X, y, _, rng = _data(n=200, k=3, seed=5)
    f64 = LinearObjective(X, y, n_classes=3, alpha=0.1)
    f32 = LinearObjective(X.astype(np.float32), y, n_classes=3, alpha=0.1)
    theta = rng.normal(size=f64.n_params)
    (l64, g64), (l32, g32) = f64(theta), f32(theta)
    assert g32.dtype == np.float64  # scipy wants float64
    assert l32 == pytest.approx(l64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5)


def test_linear_zero_parameters_give_log_k():
    X, y, _, _ = _data(k=5, seed=6)
    y[:5] = np.arange(5)
    f = LinearObjective(X, y, n_classes=5, alpha=1.0)
    assert f(np.zeros(f.n_params))[0] == pytest.approx(np.log(5), rel=1e-14)


def test_linear_pack_unpack_and_l1():
    X, y, _, rng = _data(seed=7)
    f = LinearObjective(X, y, n_classes=3, l1=2.0)
    W, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    theta = f.pack(W, b)
    W2, b2 = f.unpack(theta)
    np.testing.assert_array_equal(W2, W)
    np.testing.assert_array_equal(b2, b)
    assert f.penalty_mask.sum() == 12
    assert f.l1_scale == pytest.approx(2.0 / len(y))
    assert f.penalty_l1(theta) == pytest.approx(2.0 / len(y) * np.abs(W).sum())
    assert f.loss(theta) == pytest.approx(f(theta)[0] + f.penalty_l1(theta))


def test_linear_objective_rejects_bad_link():
    X, y, _, _ = _data()
    with pytest.raises(ValueError, match="`link` must be"):
        LinearObjective(X, y, n_classes=3, link="probit")
    with pytest.raises(ValueError, match="needs exactly 2 classes; got n_classes=3"):
        LinearObjective(X, y, n_classes=3, link="sigmoid")


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("link,k", [("softmax", 3), ("sigmoid", 2)])
def test_mlp_gradient_matches_finite_differences(activation, link, k):
    X, y, sw, rng = _data(n=25, f=3, k=k, weighted=True, seed=8)
    f = MLPObjective(
        X,
        y,
        n_classes=k,
        hidden_layer_sizes=(5, 4),
        activation=activation,
        link=link,
        sample_weight=sw,
        alpha=0.3,
        label_smoothing=0.1,
    )
    theta = f.initial_params(rng) * 2.0
    _, grad = f(theta)
    fd = numeric_grad(lambda t: f(t)[0], theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)


def test_mlp_without_hidden_layers_is_the_linear_objective():
    X, y, sw, rng = _data(weighted=True, seed=9)
    mlp = MLPObjective(X, y, n_classes=3, hidden_layer_sizes=(), sample_weight=sw, alpha=0.4)
    lin = LinearObjective(X, y, n_classes=3, sample_weight=sw, alpha=0.4)
    theta = rng.normal(size=lin.n_params)
    (a, ga), (b, gb) = mlp(theta), lin(theta)
    assert a == pytest.approx(b, rel=1e-13)
    np.testing.assert_allclose(ga, gb, rtol=1e-12)


def test_mlp_label_smoothing_matches_cross_entropy():
    X, y, _, rng = _data(seed=10)
    f = MLPObjective(X, y, n_classes=3, hidden_layer_sizes=(6,), label_smoothing=0.2)
    theta = f.initial_params(rng)
    logits = f.forward(theta, X)[-1]
    expected = ll.cross_entropy(logits, y, label_smoothing=0.2)
    assert f(theta)[0] == pytest.approx(float(expected), rel=1e-12)


def test_temperature_objective_gradient_and_value():
    rng = np.random.default_rng(11)
    Z = 3 * rng.normal(size=(30, 4))
    y = rng.integers(0, 4, 30)
    f = TemperatureObjective(Z, y, rng.uniform(0.5, 1.5, 30))
    for tau in (-0.5, 0.0, 0.8):
        theta = np.array([tau])
        fd = numeric_grad(lambda t: f(t)[0], theta)
        np.testing.assert_allclose(f(theta)[1], fd, rtol=1e-6)
    g = TemperatureObjective(Z, y)
    expected = ll.cross_entropy(Z / np.exp(0.3), y)
    assert g(np.array([0.3]))[0] == pytest.approx(float(expected), rel=1e-13)


@pytest.mark.parametrize("link,k,weighted,fit_intercept", CASES)
def test_linear_loss_grad_hessp_returns_the_objective_and_a_hessian_closure(
    link, k, weighted, fit_intercept
):
    X, y, sw, rng = _data(k=k, weighted=weighted, seed=12)
    f = LinearObjective(
        X, y, n_classes=k, link=link, sample_weight=sw, fit_intercept=fit_intercept, alpha=0.3
    )
    theta, v = rng.normal(size=f.n_params), rng.normal(size=f.n_params)
    loss, grad, hessp = f.loss_grad_hessp(theta)
    ref_loss, ref_grad = f(theta)
    assert loss == pytest.approx(ref_loss, rel=1e-13)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-15)
    # the closure keeps the curvature at theta: later products need no other evaluation
    np.testing.assert_array_equal(hessp(v), f.hessp(theta, v))
    h = 1e-6
    fd = (f(theta + h * v)[1] - f(theta - h * v)[1]) / (2 * h)
    np.testing.assert_allclose(hessp(v), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("link,k", [("softmax", 3), ("sigmoid", 2)])
def test_rows_loss_grad_sums_what_the_objective_averages(link, k):
    """The block function shared with the Dask path: weights 1 per row give the sum."""
    from logloss.objectives import rows_loss_grad

    X, y, _, rng = _data(n=57, k=k, seed=13)
    f = LinearObjective(X, y, n_classes=k, link=link)
    theta = rng.normal(size=f.n_params)
    W, b = f.unpack(theta)
    total, gW, gb = rows_loss_grad(X, f.y, None, W, b, link=link, row_weight=1.0, block=10)
    loss, grad = f(theta)
    assert total / len(y) == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(np.concatenate([gW.ravel(), gb]) / len(y), grad, rtol=1e-11)
