"""About 95 % of the 95 % Wald intervals cover the true coefficients over repeated draws."""

from __future__ import annotations

import numpy as np
import pytest
from stats_support import fit

import logloss as ll
from logloss.stats import infer

DRAWS = 200
TRUE = np.array([-0.5, 1.0, -0.7])  # intercept, x1, x2


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_wald_interval_coverage(cov_type):
    rng = np.random.default_rng(20261201)
    covered = np.zeros(len(TRUE), dtype=int)
    for _ in range(DRAWS):
        X = rng.normal(size=(400, 2))
        eta = TRUE[0] + X @ TRUE[1:]
        y = (rng.random(400) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
        ci = infer(fit(ll.LogisticRegression, X, y), X, y, cov_type=cov_type).conf_int()
        covered += (ci[:, 0] <= TRUE) & (TRUE <= ci[:, 1])
    # each count is Binomial(200, 0.95) if the intervals are exact: mean 190, sd 3.1;
    # [180, 199] holds with probability > 0.999 (the Wald interval is close to exact at n=400)
    assert np.all((covered >= 180) & (covered <= 199)), covered
