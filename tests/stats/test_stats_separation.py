"""Separation is reported in words naming the columns, as a warning and on the result."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import logloss as ll
from logloss.stats import SeparationWarning, infer
from logloss.stats.separation import detect


def fitted(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the solver does not converge on separated data
        return estimator(penalty=None, solver="lbfgs", max_iter=200).fit(X, y)


def frame(seed=0, n=80):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.normal(size=n), "dose": rng.normal(size=n)})


def test_complete_separation_names_the_column():
    X = frame()
    y = (X["dose"] > 0.1).astype(int)
    with pytest.warns(SeparationWarning, match=r"complete separation.*'dose'") as record:
        res = infer(fitted(ll.LogisticRegression, X, y), X, y)
    assert "quasi" not in str(record[0].message)
    assert res.separation is not None and "'dose'" in res.separation
    assert "'age'" not in res.separation
    assert "Warning: complete separation" in res.summary()


def test_quasi_complete_separation():
    X = frame(1)
    X["treated"] = (np.arange(len(X)) % 3 == 0).astype(float)
    y = np.where(X["treated"] == 1, 1, (np.arange(len(X)) % 2)).astype(int)
    with pytest.warns(SeparationWarning, match=r"quasi-complete separation.*'treated'"):
        res = infer(fitted(ll.LogisticRegression, X, y), X, y)
    assert "'treated'" in res.separation
    n_treated = int(X["treated"].sum())
    assert f"{n_treated} of {len(X)} rows" in res.separation


def test_multinomial_separation():
    X = frame(2, n=120)
    rng = np.random.default_rng(2)
    y = np.where(X["dose"] > 0.8, 2, rng.integers(0, 2, size=len(X)))
    with pytest.warns(SeparationWarning, match=r"separation.*'dose'"):
        res = infer(fitted(ll.SoftmaxRegression, X, y), X, y)
    assert "'dose'" in res.separation


def test_no_separation_no_warning():
    X = frame(3, n=200)
    rng = np.random.default_rng(3)
    y = (rng.random(len(X)) < 1 / (1 + np.exp(-X["dose"]))).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        model = ll.LogisticRegression(penalty=None, solver="newton", tol=1e-10).fit(X, y)
        res = infer(model, X, y)
    assert res.separation is None


def test_overlapping_point_is_not_separation():
    # x = 0 holds both classes and the rest splits by sign: quasi-complete
    Z = np.array([[1, -2], [1, -1], [1, 0], [1, 0], [1, 1], [1, 2]], dtype=float)
    y = np.array([0, 0, 0, 1, 1, 1])
    found = detect(Z, y, 2, ["intercept", "x"])
    assert found is not None and found.kind == "quasi-complete" and found.n_perfect == 4
    assert found.columns == ("x",)
    # swap one label on each side: overlap, no separating direction
    assert detect(Z, np.array([0, 1, 0, 1, 0, 1]), 2, ["intercept", "x"]) is None


def test_one_class_in_the_data_is_separation_by_the_intercept():
    X = frame(4, n=30)
    y = (X["dose"] > 0).astype(int)
    model = fitted(ll.LogisticRegression, X, y)
    with pytest.warns(SeparationWarning, match="the intercept alone separates"):
        res = infer(model, X[y == 1], y[y == 1])
    assert np.isnan(res.prsquared) and "Warning" in res.summary()
