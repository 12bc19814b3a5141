"""logloss.stats.infer for Firth models against logistf's printed results on its sex2
data and against brute-force references: profile bounds and penalised likelihood-ratio
tests from scipy refits of Firth's penalised log-likelihood written out in float64."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
from scipy.stats import chi2, norm
from stats_support import fit

from logloss import LogisticRegression
from logloss.stats import SeparationWarning, infer

DATA = Path(__file__).resolve().parents[1] / "data"
FIRTH = dict(penalty="firth", tol=1e-10, max_iter=200)

# logistf 1.26 (R): summary(logistf(case ~ age + oc + vic + vicl + vis + dia, data = sex2,
# alpha = 0.1)), as printed: coef, se(coef), lower 0.9, upper 0.9, Chisq, p
SEX2_LOGISTF = np.array([
    [0.12025405, 0.4763429, -0.6673577, 0.9177303, 0.06286298, 8.020268e-01],
    [-1.10598131, 0.4149021, -1.8277045, -0.4328451, 7.50773092, 6.143472e-03],
    [-0.06881673, 0.4344026, -0.7986318, 0.6507581, 0.02467044, 8.751911e-01],
    [2.26887464, 0.5384872, 1.4248338, 3.2325326, 22.93139022, 1.678877e-06],
    [-2.11140817, 0.5320395, -3.0613215, -1.2704704, 19.10407252, 1.237805e-05],
    [-0.78831694, 0.4089620, -1.4743338, -0.1137542, 3.69740975, 5.449701e-02],
    [3.09601166, 1.5052197, 1.0835108, 6.8752016, 7.89693139, 4.951873e-03],
])  # fmt: skip
# "Likelihood ratio test=49.09064 on 6 df, p=7.15089e-09, n=239"
SEX2_LRT = (49.09064, 6, 7.15089e-09)


def sex2():
    import pandas as pd

    frame = pd.read_csv(DATA / "sex2.csv")
    return frame.drop(columns="case"), frame["case"].to_numpy()


@pytest.fixture(scope="module")
def sex2_result():
    X, y = sex2()
    model = LogisticRegression(**FIRTH).fit(X, y)
    return infer(model, X, y, alpha=0.1)


def test_sex2_matches_logistf_table(sex2_result):
    res, ref = sex2_result, SEX2_LOGISTF
    assert res.to_frame().index.tolist() == ["intercept", "age", "oc", "vic", "vicl", "vis", "dia"]
    np.testing.assert_allclose(res.params, ref[:, 0], rtol=0, atol=5e-7)
    # dia's printed error reflects logistf's estimate, 2e-7 from the maximum
    np.testing.assert_allclose(res.bse, ref[:, 1], rtol=1e-6, atol=1e-7)
    # logistf's profile limits stop at a tolerance of about 1e-6 in the log-likelihood
    np.testing.assert_allclose(res.conf_int(), ref[:, 2:4], rtol=0, atol=2e-6)
    np.testing.assert_allclose(res.chi2, ref[:, 4], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(res.pvalues, ref[:, 5], rtol=1e-5)
    assert res.llr == pytest.approx(SEX2_LRT[0], abs=1e-5)
    assert res.df_model == SEX2_LRT[1]
    assert res.llr_pvalue == pytest.approx(SEX2_LRT[2], rel=1e-5)


def test_sex2_result_api(sex2_result):
    res = sex2_result
    assert res.method == "firth" and res.separation is None
    wald = res.conf_int(method="wald")
    np.testing.assert_allclose(wald[:, 1] - res.params, norm.ppf(0.95) * res.bse)
    np.testing.assert_allclose(res.zvalues, res.params / res.bse)
    wide = res.conf_int(alpha=0.05)
    assert np.all(wide[:, 0] < res.conf_int()[:, 0]) and np.all(wide[:, 1] > res.conf_int()[:, 1])
    frame = res.to_frame()
    assert list(frame.columns) == ["coef", "std err", "chi2", "P>chi2", "[0.05", "0.95]"]
    text = res.summary()
    assert "Firth" in text and "profile penalized likelihood" in text and "AIC" not in text
    assert res.penalized_llf > res.llf  # + 1/2 log det I, positive here
    for name in ("aic", "bic"):
        with pytest.raises(ValueError, match="not defined for a Firth model"):
            getattr(res, name)
    with pytest.raises(ValueError, match='"wald" or "profile"'):
        res.conf_int(method="exact")
    assert res.marginal_effects().margeff.shape == (6,)


def test_llf_is_the_unpenalised_loglik(sex2_result):
    X, y = sex2()
    eta = sex2_result.params[0] + X.to_numpy() @ sex2_result.params[1:]
    want = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
    assert sex2_result.llf == pytest.approx(want, rel=1e-12)


# -- brute-force references on random data --------------------------------------------


def penalized_loglik(beta, Z, y, w):
    eta = Z @ beta
    p = 1.0 / (1.0 + np.exp(-eta))
    info = (Z * (w * p * (1.0 - p))[:, None]).T @ Z
    return np.sum(w * (y * eta - np.logaddexp(0.0, eta))) + 0.5 * np.linalg.slogdet(info)[1]


def restricted_max(Z, y, w, j, b, start):
    """max over the other coefficients of l* with beta_j = b (Nelder-Mead then BFGS)."""
    others = [k for k in range(Z.shape[1]) if k != j]

    def neg(free):
        beta = np.empty(Z.shape[1])
        beta[others], beta[j] = free, b
        return -penalized_loglik(beta, Z, y, w)

    res = scipy.optimize.minimize(neg, start[others], method="BFGS", options={"gtol": 1e-9})
    return -res.fun


def random_problem(seed=0, n=60):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(0.3 + X @ [1.5, -1.0])))).astype(int)
    w = rng.integers(1, 3, size=n).astype(float)
    return X, y, w


def test_profile_tests_and_bounds_by_brute_force():
    X, y, w = random_problem()
    model = LogisticRegression(**FIRTH).fit(X, y, sample_weight=w)
    res = infer(model, X, y, sample_weight=w)
    Z = np.column_stack([np.ones(len(y)), X])
    top = penalized_loglik(res.params, Z, y, w)
    assert res.penalized_llf == pytest.approx(top, rel=1e-12)
    q = chi2.ppf(0.95, 1)
    for j in range(3):
        stat = 2.0 * (top - restricted_max(Z, y, w, j, 0.0, res.params))
        assert res.chi2[j] == pytest.approx(stat, abs=1e-6)
        assert res.pvalues[j] == pytest.approx(chi2.sf(stat, 1), rel=1e-5, abs=1e-12)
        for side, bound in zip((-1, 1), res.conf_int()[j], strict=True):

            def gap(b, j=j):
                return 2.0 * (top - restricted_max(Z, y, w, j, b, res.params)) - q

            far = res.params[j] + side * 10 * res.bse[j]
            want = scipy.optimize.brentq(gap, *sorted((res.params[j], far)), xtol=1e-9)
            assert bound == pytest.approx(want, abs=1e-5)


def test_wald_errors_from_the_augmented_information():
    """bse: logistf's vcov, the inverse of sum_i (w_i + h_i) p_i (1 - p_i) z_i z_i^T with h
    the diagonal of the (dense, n x n here) weighted hat matrix."""
    X, y, w = random_problem(seed=1)
    model = LogisticRegression(**FIRTH).fit(X, y, sample_weight=w)
    res = infer(model, X, y, sample_weight=w)
    Z = np.column_stack([np.ones(len(y)), X])
    p = 1.0 / (1.0 + np.exp(-(Z @ res.params)))
    root = np.sqrt(w * p * (1.0 - p))[:, None] * Z
    hat = np.diag(root @ np.linalg.inv(root.T @ root) @ root.T)
    augmented = (Z * ((w + hat) * p * (1.0 - p))[:, None]).T @ Z
    np.testing.assert_allclose(res.cov_params(), np.linalg.inv(augmented), rtol=1e-8)


def test_weights_equal_repeated_rows():
    X, y, _ = random_problem(seed=2)
    w = np.ones(len(y))
    w[:20] = 2.0
    weighted = infer(LogisticRegression(**FIRTH).fit(X, y, sample_weight=w), X, y,
                     sample_weight=w)  # fmt: skip
    Xr, yr = np.r_[X, X[:20]], np.r_[y, y[:20]]
    repeated = infer(LogisticRegression(**FIRTH).fit(Xr, yr), Xr, yr)
    for name in ("params", "bse", "pvalues"):
        np.testing.assert_allclose(getattr(weighted, name), getattr(repeated, name), rtol=1e-7)
    np.testing.assert_allclose(weighted.conf_int(), repeated.conf_int(), rtol=0, atol=1e-7)
    assert weighted.nobs == repeated.nobs == len(yr)


def test_separated_data_finite_inference_and_warning_text():
    X, y = sex2()  # `dia` separates: every woman with dia = 1 is a case
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plain = LogisticRegression(penalty=None, solver="newton", tol=1e-8, max_iter=50)
        infer(plain.fit(X, y), X, y)
    text = " ".join(str(c.message) for c in caught if issubclass(c.category, SeparationWarning))
    assert "'dia'" in text and "penalty='firth'" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        res = infer(LogisticRegression(**FIRTH).fit(X, y), X, y)
    assert np.all(np.isfinite(res.conf_int())) and np.all(np.isfinite(res.bse))


def test_two_by_two_with_a_zero_cell_has_finite_profile_bounds():
    X = np.repeat([0.0, 0.0, 1.0, 1.0], [0, 9, 6, 5])[:, None]
    y = np.repeat([1, 0, 1, 0], [0, 9, 6, 5])
    res = infer(LogisticRegression(**FIRTH).fit(X, y), X, y)
    ci = res.conf_int()
    assert np.all(np.isfinite(ci)) and ci[1, 0] > 0  # the slope's lower bound is positive
    assert np.all((ci[:, 0] < res.params) & (res.params < ci[:, 1]))


@pytest.mark.parametrize("cov_type, groups", [("HC0", None), ("HC1", None), ("cluster", 1)])
def test_robust_covariances_refused(cov_type, groups):
    X, y, _ = random_problem(seed=3)
    model = LogisticRegression(**FIRTH).fit(X, y)
    g = None if groups is None else np.arange(len(y)) % 3
    with pytest.raises(ValueError, match=f"cov_type='{cov_type}' is not available for a Firth"):
        infer(model, X, y, cov_type=cov_type, groups=g)


def test_maximum_likelihood_results_refuse_firth_only_parts():
    X, y, _ = random_problem(seed=4)
    res = infer(fit(LogisticRegression, X, y), X, y)
    with pytest.raises(ValueError, match="Firth models"):
        res.conf_int(method="profile")
    with pytest.raises(ValueError, match="Firth models"):
        res.chi2  # noqa: B018
    assert np.isfinite(res.aic)


def test_a_loose_firth_fit_is_polished_with_a_warning():
    from logloss.stats import NotConvergedWarning

    X, y, _ = random_problem(seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loose = LogisticRegression(penalty="firth", max_iter=1).fit(X, y)
    tight = infer(LogisticRegression(**FIRTH).fit(X, y), X, y)
    with pytest.warns(NotConvergedWarning, match="standard errors from the maximum"):
        res = infer(loose, X, y)
    np.testing.assert_allclose(res.params, tight.params, rtol=0, atol=1e-8)
