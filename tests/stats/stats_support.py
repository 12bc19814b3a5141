"""Helpers of the tests of logloss.stats: logloss models fitted to the maximum of the
likelihood (Newton, tight tolerance), and synthetic data."""

from __future__ import annotations

import warnings

import numpy as np

TIGHT = dict(penalty=None, solver="newton", tol=1e-10, max_iter=500)


def fit(estimator, X, y, sample_weight=None):
    """A logloss model at the MLE: Newton-CG to a tiny gradient (its trust region may report
    that it cannot improve further, which is the point where it stops)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator(**TIGHT).fit(X, y, sample_weight=sample_weight)


def synthetic_binary(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    eta = 0.3 + X @ np.array([1.0, -0.5, 0.2])
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
    return X, y


def synthetic_multinomial(n=800, k=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    B = rng.normal(scale=0.7, size=(3, k))
    logits = X @ B + rng.normal(scale=0.3, size=k)
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = (rng.random(n)[:, None] > np.cumsum(P, axis=1)).sum(axis=1)
    return X, np.minimum(y, k - 1)
