"""lr_test against statsmodels' two fits; the tables' names and shapes; lazy imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from stats_support import fit, synthetic_binary, synthetic_multinomial

import logloss as ll
from logloss.stats import infer, lr_test

pytestmark = [
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning:statsmodels"),
]


def test_lr_test_binary_against_statsmodels(sm, spector):
    X, y = spector
    small = X[["GPA"]]
    stat, df, p = lr_test(
        fit(ll.LogisticRegression, X, y), fit(ll.LogisticRegression, small, y), X, y
    )
    full = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton")
    restricted = sm.Logit(y, sm.add_constant(small)).fit(disp=0, method="newton")
    ref = 2 * (full.llf - restricted.llf)
    from scipy.stats import chi2

    assert df == 2
    np.testing.assert_allclose(stat, ref, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(p, chi2.sf(ref, 2), rtol=1e-6, atol=1e-10)


def test_lr_test_multinomial_against_statsmodels(sm):
    X, y = synthetic_multinomial(n=500, k=3, seed=9)
    stat, df, p = lr_test(
        fit(ll.SoftmaxRegression, X, y), fit(ll.SoftmaxRegression, X[:, :2], y), X, y,
        X_restricted=X[:, :2],
    )  # fmt: skip
    full = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton")
    restricted = sm.MNLogit(y, sm.add_constant(X[:, :2])).fit(disp=0, method="newton")
    assert df == 2
    np.testing.assert_allclose(stat, 2 * (full.llf - restricted.llf), rtol=1e-8, atol=1e-8)


def test_lr_test_is_the_difference_of_infers_llr():
    # both are 2 (llf - llf_null) differences; the null log-likelihood cancels
    X, y = synthetic_binary(n=300, seed=10)
    full, small = fit(ll.LogisticRegression, X, y), fit(ll.LogisticRegression, X[:, :1], y)
    stat, df, p = lr_test(full, small, X, y, X_restricted=X[:, :1])
    expected = infer(full, X, y).llr - infer(small, X[:, :1], y).llr
    np.testing.assert_allclose(stat, expected, rtol=1e-9)
    assert df == 2


def test_to_frame_and_summary_by_feature_name():
    X, y = synthetic_binary(n=300, seed=11)
    frame = pd.DataFrame(X, columns=["age", "dose", "weight"])
    model = fit(ll.LogisticRegression, frame, y)
    res = infer(model, frame, y, alpha=0.1)
    table = res.to_frame()
    assert table.index.tolist() == ["intercept", "age", "dose", "weight"]
    assert table.columns.tolist() == ["coef", "std err", "z", "P>|z|", "[0.05", "0.95]"]
    np.testing.assert_array_equal(table["coef"], res.params)
    np.testing.assert_array_equal(table["[0.05"], res.conf_int()[:, 0])
    # a NumPy X takes the names the model was fitted with
    assert infer(model, X, y).to_frame().index.tolist() == table.index.tolist()
    text = res.summary()
    assert "Logit Regression Results" in text and "dose" in text and "Pseudo R-squ." in text
    assert str(res) == text
    with pytest.raises(ValueError, match="not the ones the model was fitted on"):
        infer(model, frame[["dose", "age", "weight"]], y)


def test_multinomial_frame_rows_are_class_and_feature():
    X, y = synthetic_multinomial(n=400, k=3, seed=12)
    labels = np.array(["a", "b", "c"])[y]
    res = infer(fit(ll.SoftmaxRegression, X, labels), X, labels)
    table = res.to_frame()
    assert table.index.tolist()[:4] == [("b", "intercept"), ("b", "x1"), ("b", "x2"), ("b", "x3")]
    assert table.index.tolist()[4][0] == "c"
    np.testing.assert_array_equal(table["coef"].to_numpy(), res.params.ravel(order="F"))
    assert res.conf_int().shape == (2, 4, 2)
    assert "y=b" in res.summary() and "y=c" in res.summary()


def test_lazy_import():
    code = (
        "import sys, logloss; assert 'logloss.stats' not in sys.modules; "
        "import logloss.stats; assert 'pandas' not in sys.modules, 'pandas'; "
        "assert 'scipy' not in sys.modules, 'scipy'; "
        "assert logloss.stats.infer is __import__('logloss').stats.infer"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
