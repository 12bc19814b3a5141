"""Clear errors naming the argument for what infer() cannot answer."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from stats_support import fit, synthetic_binary

import logloss as ll
from logloss.stats import NotConvergedWarning, infer, lr_test


@pytest.fixture(scope="module")
def data():
    X, y = synthetic_binary(n=200, seed=7)
    return X, y, fit(ll.LogisticRegression, X, y)


def test_penalised_model(data):
    X, y, _ = data
    model = ll.LogisticRegression(C=1.0).fit(X, y)
    with pytest.raises(ValueError, match=r"`model` has penalty='l2'.*do not apply"):
        infer(model, X, y)


def test_infinite_c_counts_as_unpenalised(data):
    X, y, ref = data
    model = ll.LogisticRegression(C=np.inf, solver="newton", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(infer(model, X, y).bse, infer(ref, X, y).bse, rtol=1e-6)


def test_unfitted_and_foreign_models(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="`model` is not fitted"):
        infer(ll.LogisticRegression(penalty=None), X, y)
    with pytest.raises(TypeError, match="`model` must be a fitted logloss"):
        infer(object(), X, y)
    with pytest.raises(ValueError, match="class_weight"):
        infer(ll.LogisticRegression(penalty=None, class_weight="balanced").fit(X, y), X, y)


def test_wrong_width_and_labels(data):
    X, y, model = data
    with pytest.raises(ValueError, match="`X` has 2 columns but the model was fitted on 3"):
        infer(model, X[:, :2], y)
    with pytest.raises(ValueError, match="`y` must have shape"):
        infer(model, X, y[:-1])
    with pytest.raises(ValueError, match="`y` holds label 5"):
        infer(model, X, np.where(np.arange(len(y)) == 0, 5, y))
    with pytest.raises(ValueError, match="`X` contains NaN"):
        infer(model, np.where(np.arange(X.size).reshape(X.shape) == 4, np.nan, X), y)


def test_groups(data):
    X, y, model = data
    with pytest.raises(ValueError, match="`groups` must have one label per row"):
        infer(model, X, y, cov_type="cluster", groups=np.arange(len(y) - 1) % 4)
    with pytest.raises(ValueError, match="`groups` has 1 cluster"):
        infer(model, X, y, cov_type="cluster", groups=np.zeros(len(y)))
    with pytest.raises(ValueError, match="`groups` is required"):
        infer(model, X, y, cov_type="cluster")
    with pytest.raises(ValueError, match="`groups` is used only with"):
        infer(model, X, y, groups=np.arange(len(y)) % 4)


def test_cov_type_alpha_weights(data):
    X, y, model = data
    with pytest.raises(ValueError, match="`cov_type` must be one of"):
        infer(model, X, y, cov_type="HC3")
    with pytest.raises(ValueError, match="`alpha` must be"):
        infer(model, X, y, alpha=1.5)
    with pytest.raises(ValueError, match="`alpha` must be"):
        infer(model, X, y).conf_int(alpha=0)
    with pytest.raises(ValueError, match="`sample_weight` must be finite and non-negative"):
        infer(model, X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="`sample_weight` must have shape"):
        infer(model, X, y, sample_weight=np.ones(3))


def test_collinear_columns_are_named():
    X, y = synthetic_binary(n=200, seed=8)
    X = np.column_stack([X, X[:, 0] + X[:, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ll.LogisticRegression(penalty=None, solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match=r"singular.*\['x1', 'x2', 'x4'\]"):
        infer(model, X, y)


def test_not_converged_warns(data):
    X, y, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rough = ll.LogisticRegression(penalty=None, max_iter=2).fit(X, y)
    with pytest.warns(NotConvergedWarning, match="standard errors from the maximum"):
        infer(rough, X, y)


def test_lr_test_bad_input(data):
    X, y, model = data
    with pytest.raises(ValueError, match="must have fewer"):
        lr_test(model, model, X, y)
    with pytest.raises(ValueError, match="`restricted`: `model` has penalty"):
        lr_test(model, ll.LogisticRegression().fit(X[:, :1], y), X, y, X_restricted=X[:, :1])
