"""The five answers of `logloss explain`: their numbers say what their sentences claim."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from logloss.tutorial import explain  # noqa: E402


def _check(answer, number):
    assert answer.number == number and answer.question == explain.QUESTIONS[number]
    assert isinstance(answer.figure, Figure) and answer.figure.axes
    assert answer.slug.startswith(f"{number}-")
    assert 300 < len(answer.text) < 1600  # a few sentences
    assert answer.table and all(isinstance(v, str) for _, v in answer.table)
    assert all(math.isfinite(v) for v in answer.numbers.values())


def test_1_purpose():
    a = explain.purpose()
    _check(a, 1)
    assert a.numbers["loss_at_0.5"] == pytest.approx(math.log(2))
    assert a.numbers["loss_at_0.01"] == pytest.approx(-math.log(0.01))
    assert a.numbers["cost_of_halving"] == pytest.approx(math.log(2))
    assert a.numbers["uniform_3_classes"] == pytest.approx(math.log(3))
    assert "4.605" in a.text


def test_2_suitability_proper_scoring_rule():
    a = explain.suitability()
    _check(a, 2)
    for q in (0.1, 0.3, 0.7):
        assert a.numbers[f"argmin_at_q={q:g}"] == pytest.approx(q, abs=1e-3)
    t = np.array([0.7, 0.2, 0.1])
    assert a.numbers["soft_target_at_truth"] == pytest.approx(-np.sum(t * np.log(t)))
    assert a.numbers["soft_target_at_uniform"] == pytest.approx(math.log(3))


def test_3_versus_mse_gradients():
    a = explain.versus_mse()
    _check(a, 3)
    p = 1 / (1 + math.exp(6))
    assert a.numbers["grad_ce"] == pytest.approx(p - 1, rel=1e-12)
    assert a.numbers["grad_mse"] == pytest.approx(2 * (p - 1) * p * (1 - p), rel=1e-12)
    assert a.numbers["grad_mse_finite_difference"] == pytest.approx(a.numbers["grad_mse"], rel=1e-5)
    assert a.numbers["ratio"] > 100
    assert a.numbers["steps_ce"] < a.numbers["steps_mse"]


def test_4_likelihood_identity_on_real_data():
    pytest.importorskip("sklearn")
    a = explain.likelihood()
    _check(a, 4)
    assert a.numbers["relative_difference"] < 1e-12
    assert a.numbers["wine_relative_difference"] < 1e-12
    assert a.numbers["n_times_mean_ce"] == pytest.approx(-a.numbers["log_likelihood"], rel=1e-12)
    assert a.numbers["best_scale_likelihood"] == a.numbers["best_scale_cross_entropy"]


def test_5_overfitting_remedies_beat_the_plain_fit():
    a = explain.overfitting(steps=600)
    _check(a, 5)
    n = a.numbers
    assert n["train_plain"] < 0.2 < n["test_plain"]
    for remedy in ("l2", "label_smoothing", "early_stopping"):
        assert n[f"test_{remedy}"] < n["test_plain"]
        assert n[f"test_{remedy}"] < n["baseline"]
    assert n["library_check"] < 1e-12


def test_answer_dispatch_and_errors():
    assert explain.answer(1).number == 1
    for bad in (0, 6, "1", True, 1.0):
        with pytest.raises(ValueError, match="`number`"):
            explain.answer(bad)
