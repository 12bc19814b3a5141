"""Fixtures of the tests of logloss.stats: statsmodels and its data sets (skipped without it)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def sm():
    sm = pytest.importorskip("statsmodels.api")
    return sm


@pytest.fixture(scope="module")
def spector(sm):
    data = sm.datasets.spector.load_pandas()
    return data.exog, data.endog.astype(int)


@pytest.fixture(scope="module")
def anes(sm):
    data = sm.datasets.anes96.load_pandas()
    return data.exog[["logpopul", "selfLR", "age", "educ", "income"]], data.endog.astype(int)
