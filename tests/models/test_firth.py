"""LogisticRegression(penalty="firth") against independent references: logistf's printed
results on its sex2 data, the closed form of a 2 x 2 table, and a direct maximisation of
Firth's penalised log-likelihood with scipy in float64."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp

from logloss import LogisticRegression, SoftmaxRegression

DATA = Path(__file__).resolve().parents[1] / "data"
TIGHT = dict(penalty="firth", tol=1e-10, max_iter=200)

# logistf 1.26 (R), summary(logistf(case ~ age + oc + vic + vicl + vis + dia, data = sex2)),
# printed to 8 digits; logistf stops at |U*| < 1e-5, so the last digit of `dia` (whose
# profile is flat: dia separates) differs from the exact maximum by about 2e-7.
SEX2_COEF = {
    "intercept": 0.12025405,
    "age": -1.10598131,
    "oc": -0.06881673,
    "vic": 2.26887464,
    "vicl": -2.11140817,
    "vis": -0.78831694,
    "dia": 3.09601166,
}


def sex2():
    import pandas as pd

    frame = pd.read_csv(DATA / "sex2.csv")
    return frame.drop(columns="case"), frame["case"].to_numpy()


def penalized_loglik(beta, Z, y, w):
    """l*(beta) = sum w (y eta - log(1 + e^eta)) + 1/2 log det(Z^T diag(w p (1-p)) Z),
    written out in float64 with its gradient (the reference of these tests)."""
    eta = Z @ beta
    p = 1.0 / (1.0 + np.exp(-eta))
    ll = np.sum(w * (y * eta - np.logaddexp(0.0, eta)))
    v = w * p * (1.0 - p)
    info = (Z * v[:, None]).T @ Z
    sign, logdet = np.linalg.slogdet(info)
    inv = np.linalg.inv(info)
    # d/dbeta_j 1/2 log det I = 1/2 tr(I^-1 Z^T diag(v (1 - 2p) z_j) Z)
    dv = v * (1.0 - 2.0 * p)
    quad = np.einsum("ij,jk,ik->i", Z, inv, Z)
    grad = Z.T @ (w * (y - p)) + 0.5 * Z.T @ (dv * quad)
    return ll + 0.5 * logdet, grad


def scipy_firth(X, y, w=None, intercept=True):
    """Firth's estimate by BFGS on -l* and a root polish of its gradient (intercept first)."""
    Z = np.column_stack([np.ones(len(y)), X]) if intercept else np.asarray(X, float)
    w = np.ones(len(y)) if w is None else np.asarray(w, float)

    def neg(beta):
        f, g = penalized_loglik(beta, Z, y, w)
        return -f, -g

    res = scipy.optimize.minimize(neg, np.zeros(Z.shape[1]), jac=True, method="BFGS",
                                  options={"gtol": 1e-10, "maxiter": 1000})  # fmt: skip
    root = scipy.optimize.root(lambda b: penalized_loglik(b, Z, y, w)[1], res.x, tol=1e-14)
    return root.x


def as_beta(model):
    return np.r_[model.intercept_, model.coef_.ravel()].astype(np.float64)


def random_binary(n=300, p=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    eta = -0.4 + X @ np.linspace(1.0, -0.5, p)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
    return X, y


def test_sex2_matches_logistf_printed_coefficients():
    X, y = sex2()
    model = LogisticRegression(**TIGHT).fit(X, y)
    got = dict(zip(["intercept", *X.columns], as_beta(model), strict=True))
    for name, want in SEX2_COEF.items():
        assert got[name] == pytest.approx(want, abs=5e-7), name
    assert model.n_iter_ < 20


def test_sex2_aggregated_with_frequency_weights_equals_rows():
    """logistf's `sexagg` (the same data, one row per pattern with its COUNT) as weights."""
    import pandas as pd

    X, y = sex2()
    agg = pd.read_csv(DATA / "sexagg.csv")
    weighted = LogisticRegression(**TIGHT).fit(
        agg[X.columns], agg["case"], sample_weight=agg["COUNT"]
    )
    rows = LogisticRegression(**TIGHT).fit(X, y)
    np.testing.assert_allclose(as_beta(weighted), as_beta(rows), rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    "counts",
    # (y=1 | x=0, y=0 | x=0, y=1 | x=1, y=0 | x=1)
    [(7, 13, 11, 4), (0, 9, 6, 5), (3, 8, 12, 0), (1, 1, 1, 1), (0, 5, 5, 0)],
)
def test_two_by_two_table_closed_form(counts):
    """One binary covariate: the log odds ratio with 1/2 added to every cell, and the
    reference row's log odds with 1/2 added, also with zero cells (separation)."""
    a, b, c, d = counts
    X = np.repeat([0.0, 0.0, 1.0, 1.0], counts)[:, None]
    y = np.repeat([1, 0, 1, 0], counts)
    model = LogisticRegression(**TIGHT).fit(X, y)
    intercept = np.log((a + 0.5) / (b + 0.5))
    slope = np.log((c + 0.5) / (d + 0.5)) - intercept
    np.testing.assert_allclose(as_beta(model), [intercept, slope], rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_random_data_matches_scipy_maximisation(seed):
    X, y = random_binary(seed=seed)
    w = np.random.default_rng(seed + 10).integers(1, 4, size=len(y)).astype(float)
    model = LogisticRegression(**TIGHT).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(as_beta(model), scipy_firth(X, y, w), rtol=0, atol=1e-6)


def test_no_intercept_matches_scipy():
    X, y = random_binary(seed=3)
    model = LogisticRegression(fit_intercept=False, **TIGHT).fit(X, y)
    assert model.intercept_.tolist() == [0.0]
    want = scipy_firth(X, y, intercept=False)
    np.testing.assert_allclose(model.coef_.ravel(), want, rtol=0, atol=1e-6)


def test_separated_data_give_finite_estimates():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)  # complete separation by the first column
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning either
        model = LogisticRegression(**TIGHT).fit(X, y)
    beta = as_beta(model)
    assert np.all(np.isfinite(beta)) and np.abs(beta).max() < 50
    np.testing.assert_allclose(beta, scipy_firth(X, y), rtol=0, atol=1e-6)


def test_weight_two_equals_row_twice():
    X, y = random_binary(n=120, seed=7)
    w = np.ones(len(y))
    w[:30] = 2.0
    weighted = LogisticRegression(**TIGHT).fit(X, y, sample_weight=w)
    doubled = LogisticRegression(**TIGHT).fit(np.r_[X, X[:30]], np.r_[y, y[:30]])
    np.testing.assert_allclose(as_beta(weighted), as_beta(doubled), rtol=0, atol=1e-9)


def test_class_weight_is_multiplied_into_the_weights():
    X, y = random_binary(n=150, seed=8)
    by_class = LogisticRegression(class_weight={0: 1.0, 1: 3.0}, **TIGHT).fit(X, y)
    by_row = LogisticRegression(**TIGHT).fit(X, y, sample_weight=np.where(y == 1, 3.0, 1.0))
    np.testing.assert_allclose(as_beta(by_class), as_beta(by_row), rtol=0, atol=1e-10)


def test_float32_input_is_computed_in_float64():
    X, y = random_binary(seed=9)
    X32 = X.astype(np.float32)
    single = LogisticRegression(**TIGHT).fit(X32, y)
    double = LogisticRegression(**TIGHT).fit(X32.astype(np.float64), y)
    assert single.coef_.dtype == np.float32  # the estimator's dtype convention
    np.testing.assert_allclose(as_beta(single), as_beta(double), rtol=1e-6, atol=1e-7)


def test_sparse_equals_dense():
    X, y = random_binary(n=200, p=4, seed=11)
    X[np.abs(X) < 0.8] = 0.0
    dense = LogisticRegression(**TIGHT).fit(X, y)
    for sparse in (sp.csr_matrix(X), sp.csc_array(X)):
        model = LogisticRegression(**TIGHT).fit(sparse, y)
        np.testing.assert_allclose(as_beta(model), as_beta(dense), rtol=0, atol=1e-10)
    model = LogisticRegression(fit_intercept=False, **TIGHT).fit(sp.csr_matrix(X), y)
    ref = LogisticRegression(fit_intercept=False, **TIGHT).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=0, atol=1e-10)


def test_warm_start_callback_and_history():
    X, y = random_binary(seed=12)
    seen = []
    model = LogisticRegression(warm_start=True, callback=seen.append, **TIGHT).fit(X, y)
    assert model.n_iter_ == len(seen) == len(model.loss_curve_) > 0
    assert seen[-1].loss == pytest.approx(model.loss_curve_[-1])
    # the loss is the mean penalised cross-entropy, -l*/n: non-increasing
    assert np.all(np.diff(model.loss_curve_) <= 1e-12)
    model.fit(X, y)  # from the previous solution: already converged
    assert model.n_iter_ == 0
    stopped = LogisticRegression(penalty="firth", callback=lambda info: True).fit(X, y)
    assert stopped.n_iter_ == 1


def test_C_and_l1_ratio_do_not_apply():
    X, y = random_binary(seed=13)
    base = LogisticRegression(**TIGHT).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        other = LogisticRegression(C=0.01, l1_ratio=0.2, **TIGHT).fit(X, y)
    np.testing.assert_array_equal(as_beta(base), as_beta(other))


def test_solver_newton_is_the_same_fit():
    X, y = random_binary(seed=14)
    a = LogisticRegression(solver="newton", **TIGHT).fit(X, y)
    b = LogisticRegression(**TIGHT).fit(X, y)
    np.testing.assert_array_equal(as_beta(a), as_beta(b))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: SoftmaxRegression(penalty="firth"), "binary.*SoftmaxRegression"),
        (lambda: LogisticRegression(penalty="firth", solver="sgd"), "solver='sgd'"),
        (lambda: LogisticRegression(penalty="firth", solver="adam"), "solver='adam'"),
    ],
)
def test_refused_models(make, match):
    X, y = random_binary(seed=15)
    with pytest.raises(ValueError, match=match):
        make().fit(X, y)


def test_three_classes_refused():
    X, y = random_binary(seed=16)
    y = y + (X[:, 1] > 1)
    with pytest.raises(ValueError, match="binary.*3 classes"):
        LogisticRegression(penalty="firth").fit(X, y)


def test_collinear_columns_are_a_clear_error():
    X, y = random_binary(seed=17)
    X = np.column_stack([X, X[:, 0] + X[:, 1]])
    with pytest.raises(ValueError, match="singular.*collinear"):
        LogisticRegression(penalty="firth").fit(X, y)


def test_dask_input_refused():
    da = pytest.importorskip("dask.array")
    X, y = random_binary(seed=18)
    with pytest.raises(ValueError, match="firth.*Dask"):
        LogisticRegression(penalty="firth").fit(da.from_array(X, chunks=100), y)
