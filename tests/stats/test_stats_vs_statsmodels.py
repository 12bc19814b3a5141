"""logloss.stats.infer against statsmodels' Logit, MNLogit and GLM (freq_weights), to 1e-6.

statsmodels is the reference throughout; logloss's model is fitted to the maximum of the
likelihood first (Newton, tight tolerance), so both describe the same estimate.
"""

from __future__ import annotations

import numpy as np
import pytest
from stats_support import fit, synthetic_binary, synthetic_multinomial

import logloss as ll
from logloss.stats import infer

pytestmark = [
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning:statsmodels"),
    pytest.mark.filterwarnings("ignore:cov_type not fully supported"),
]
TOL = 1e-6
COV_TYPES = ["nonrobust", "HC0", "HC1", "cluster"]


def sm_fit(model, cov_type, groups):
    kwds = {"groups": groups} if cov_type == "cluster" else {}
    return model.fit(disp=0, method="newton", maxiter=200, cov_type=cov_type, cov_kwds=kwds)


def close(a, b, tol=TOL):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def check_same(ours, ref, *, weighted=False):
    close(ours.params, ref.params)
    close(ours.bse, ref.bse)
    close(ours.zvalues, ref.tvalues)
    close(ours.tvalues, ref.tvalues)
    close(ours.pvalues, ref.pvalues)
    close(ours.conf_int(), ref.conf_int())
    close(ours.conf_int(alpha=0.1), ref.conf_int(alpha=0.1))
    close(ours.cov_params(), ref.cov_params())
    for name in ("llf", "nobs", "df_model", "df_resid", "aic", "bic"):
        close(getattr(ours, name), getattr(ref, name))
    if not weighted:  # GLM has no llnull/prsquared in Logit's sense
        for name in ("llnull", "llr", "llr_pvalue", "prsquared"):
            close(getattr(ours, name), getattr(ref, name))


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_binary_spector(sm, spector, cov_type):
    X, y = spector
    groups = np.arange(len(y)) % 6
    ours = infer(
        fit(ll.LogisticRegression, X, y), X, y, cov_type=cov_type,
        groups=groups if cov_type == "cluster" else None,
    )  # fmt: skip
    ref = sm_fit(sm.Logit(y.to_numpy(), sm.add_constant(X.to_numpy())), cov_type, groups)
    check_same(ours, ref)
    close(ours.deviance, -2 * ref.llf)
    assert ours.to_frame().index.tolist() == ["intercept", "GPA", "TUCE", "PSI"]
    assert ours.feature_names == ["intercept", "GPA", "TUCE", "PSI"]


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_multinomial_anes96(sm, anes, cov_type):
    X, y = anes
    groups = np.arange(len(y)) % 15
    ours = infer(
        fit(ll.SoftmaxRegression, X, y), X, y, cov_type=cov_type,
        groups=groups if cov_type == "cluster" else None,
    )  # fmt: skip
    ref = sm_fit(sm.MNLogit(y.to_numpy(), sm.add_constant(X.to_numpy())), cov_type, groups)
    assert ours.params.shape == (6, 6)
    check_same(ours, ref)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_multiclass_logistic_regression_is_mnlogit(sm, cov_type):
    X, y = synthetic_multinomial(k=3, seed=3)
    groups = np.arange(len(y)) % 9
    ours = infer(
        fit(ll.LogisticRegression, X, y), X, y, cov_type=cov_type,
        groups=groups if cov_type == "cluster" else None,
    )  # fmt: skip
    check_same(ours, sm_fit(sm.MNLogit(y, sm.add_constant(X)), cov_type, groups))


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1"])
def test_binary_frequency_weights_glm(sm, cov_type):
    X, y = synthetic_binary(seed=1)
    w = np.random.default_rng(1).integers(1, 4, size=len(y)).astype(float)
    ours = infer(fit(ll.LogisticRegression, X, y, w), X, y, sample_weight=w, cov_type=cov_type)
    glm = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(), freq_weights=w)
    ref = glm.fit(cov_type=cov_type, tol=1e-12)
    close(ours.params, ref.params)
    close(ours.bse, ref.bse)
    close(ours.pvalues, ref.pvalues)
    close(ours.conf_int(), ref.conf_int())
    close(ours.llf, ref.llf)
    close(ours.deviance, ref.deviance)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_binary_weights_are_repeated_rows(sm, cov_type):
    # the definition of a frequency weight; statsmodels' Logit on the repeated rows is the
    # reference (GLM's freq_weights differ for cluster: it warns its support is partial)
    X, y = synthetic_binary(n=300, seed=2)
    rng = np.random.default_rng(2)
    w = rng.integers(0, 4, size=len(y))
    groups = rng.integers(0, 12, size=len(y))
    ours = infer(
        fit(ll.LogisticRegression, X, y, w.astype(float)), X, y, sample_weight=w,
        cov_type=cov_type, groups=groups if cov_type == "cluster" else None,
    )  # fmt: skip
    Xr, yr, gr = np.repeat(X, w, axis=0), np.repeat(y, w), np.repeat(groups, w)
    check_same(ours, sm_fit(sm.Logit(yr, sm.add_constant(Xr)), cov_type, gr))


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_multinomial_weights_are_repeated_rows(sm, cov_type):
    X, y = synthetic_multinomial(n=400, k=3, seed=4)
    rng = np.random.default_rng(4)
    w = rng.integers(1, 4, size=len(y))
    groups = rng.integers(0, 10, size=len(y))
    ours = infer(
        fit(ll.SoftmaxRegression, X, y, w.astype(float)), X, y, sample_weight=w,
        cov_type=cov_type, groups=groups if cov_type == "cluster" else None,
    )  # fmt: skip
    Xr, yr, gr = np.repeat(X, w, axis=0), np.repeat(y, w), np.repeat(groups, w)
    check_same(ours, sm_fit(sm.MNLogit(yr, sm.add_constant(Xr)), cov_type, gr))


def test_two_class_softmax_is_mnlogit(sm, spector):
    X, y = spector
    ours = infer(fit(ll.SoftmaxRegression, X, y), X, y)
    ref = sm_fit(sm.MNLogit(y.to_numpy(), sm.add_constant(X.to_numpy())), "nonrobust", None)
    assert ours.params.shape == (4, 1)
    check_same(ours, ref)


def test_no_intercept(sm):
    X, y = synthetic_binary(seed=5)
    model = ll.LogisticRegression(
        penalty=None, solver="newton", tol=1e-10, fit_intercept=False
    ).fit(X, y)
    ours = infer(model, X, y)
    ref = sm.Logit(y, X).fit(disp=0, method="newton")
    close(ours.params, ref.params)
    close(ours.bse, ref.bse)
    close(ours.llf, ref.llf)
    close(ours.llnull, ref.llnull)
    assert ours.feature_names == ["x1", "x2", "x3"]


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "cluster"])
def test_marginal_effects_spector(sm, spector, cov_type):
    X, y = spector
    groups = np.arange(len(y)) % 6
    ours = infer(
        fit(ll.LogisticRegression, X, y), X, y, cov_type=cov_type,
        groups=groups if cov_type == "cluster" else None,
    ).marginal_effects()  # fmt: skip
    ref = sm_fit(sm.Logit(y.to_numpy(), sm.add_constant(X.to_numpy())), cov_type, groups)
    me = ref.get_margeff()
    close(ours.margeff, me.margeff)
    close(ours.margeff_se, me.margeff_se)
    close(ours.pvalues, me.pvalues)
    close(ours.conf_int(), me.conf_int())
    frame = ours.to_frame()
    assert frame.index.tolist() == ["GPA", "TUCE", "PSI"]
    assert frame.columns[0] == "dy/dx"


def test_marginal_effects_need_a_binary_model(anes):
    X, y = anes
    with pytest.raises(ValueError, match="binary"):
        infer(fit(ll.SoftmaxRegression, X, y), X, y).marginal_effects()


@pytest.mark.parametrize("cov_type", ["HC0", "cluster"])
def test_many_small_blocks(sm, monkeypatch, cov_type):
    # blocks of a few rows: the sums over blocks are the sums over rows
    from logloss.stats import _information

    monkeypatch.setattr(_information, "_BLOCK_ENTRIES", 97)
    X, y = synthetic_multinomial(n=300, k=3, seed=13)
    w = np.random.default_rng(13).integers(1, 3, size=len(y))
    groups = np.arange(len(y)) % 7
    ours = infer(
        fit(ll.SoftmaxRegression, X, y, w.astype(float)), X, y, sample_weight=w,
        cov_type=cov_type, groups=groups if cov_type == "cluster" else None,
    )  # fmt: skip
    Xr, yr, gr = np.repeat(X, w, axis=0), np.repeat(y, w), np.repeat(groups, w)
    check_same(ours, sm_fit(sm.MNLogit(yr, sm.add_constant(Xr)), cov_type, gr))
