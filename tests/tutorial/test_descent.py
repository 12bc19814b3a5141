"""The one gradient descent of the tutorial (logloss.tutorial.descent)."""

from __future__ import annotations

import numpy as np
import pytest

from logloss.tutorial.descent import curvature_bound, gradient_descent


def test_steps_follow_the_update_rule_by_hand():
    X = np.array([[1.0, 2.0], [1.0, -1.0], [1.0, 0.5]])
    y = np.array([1.0, 0.0, 1.0])

    def grad(z):  # mean BCE: dJ/dz = (sigmoid(z) - y) / n
        return (1.0 / (1.0 + np.exp(-z)) - y) / y.size

    seen = []
    w, taken = gradient_descent(
        X, grad, steps=3, learning_rate=0.7, l2=0.2, on_step=lambda k, w: seen.append(w.copy())
    )
    expected = np.zeros(2)
    for k in range(3):
        expected = expected - 0.7 * (
            X.T @ grad(X @ expected) + 0.2 * np.array([0.0, 1.0]) * expected
        )
        np.testing.assert_allclose(seen[k], expected, rtol=1e-15)
    np.testing.assert_allclose(w, expected, rtol=1e-15)
    assert taken == 3


def test_the_penalty_spares_the_intercept_and_start_is_not_modified():
    start = np.array([2.0, 2.0, -4.0])
    w, _ = gradient_descent(
        np.ones((4, 3)), np.zeros_like, steps=5, learning_rate=0.5, l2=0.4, start=start
    )
    # no data gradient: each penalised weight shrinks by (1 - lr l2) per step
    np.testing.assert_allclose(w, [2.0, 2.0 * 0.8**5, -4.0 * 0.8**5], rtol=1e-15)
    assert start.tolist() == [2.0, 2.0, -4.0]


def test_on_step_returning_true_stops():
    calls = []

    def stop_at_4(step, w):
        calls.append(step)
        return step == 4

    _, taken = gradient_descent(
        np.eye(2), lambda z: z, steps=100, learning_rate=0.1, start=np.ones(2), on_step=stop_at_4
    )
    assert taken == 4 and calls == [1, 2, 3, 4]


def test_curvature_bound_is_the_largest_eigenvalue_over_4n():
    X = np.random.default_rng(0).standard_normal((50, 4))
    assert curvature_bound(X) == pytest.approx(np.linalg.norm(X, 2) ** 2 / 200, rel=1e-12)
    assert curvature_bound(X, 0.3) == pytest.approx(curvature_bound(X) + 0.3)
