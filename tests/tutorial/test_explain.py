"""The five answers of `logloss explain`: their sentences say what the formulas give.

Every number an answer prints is recomputed here, independently, from the plain
float64 formula (``-log p``, the sigmoid, the Bernoulli log-likelihood, a plain
gradient-descent loop), and the test looks for it, formatted as the answer
formats it, in the prose and in the table.
"""

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


def _says(answer, *phrases):
    """Every phrase stands in the answer's prose."""
    for phrase in phrases:
        assert phrase in answer.text, f"{phrase!r} not in: {answer.text}"


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_1_purpose():
    a = explain.purpose()
    _check(a, 1)
    assert a.numbers["loss_at_0.5"] == pytest.approx(math.log(2))
    assert a.numbers["loss_at_0.01"] == pytest.approx(-math.log(0.01))
    assert a.numbers["cost_of_halving"] == pytest.approx(math.log(2))
    assert a.numbers["uniform_3_classes"] == pytest.approx(math.log(3))
    # the loss of an example is -log p: each number in the prose, from that formula
    _says(
        a,
        "-log p",
        f"p = 0.99 costs {-math.log(0.99):.4f}",
        f"ln 2 = {math.log(2):.4f}",
        f"p = 0.01 costs {-math.log(0.01):.3f}",
        f"adds the same {math.log(0.5) - math.log(0.25):.4f} nats, one bit",
        f"ln 3 = {math.log(3):.4f}",
        "no ceiling",
    )
    expected = [
        (f"p(true class) = {p:g}", f"loss {-math.log(p):.4f}") for p in (0.99, 0.9, 0.5, 0.1, 0.01)
    ]
    assert a.table == [*expected, ("even guess among 3 classes", f"loss {math.log(3):.4f}")]


def test_2_suitability_proper_scoring_rule():
    a = explain.suitability()
    _check(a, 2)
    for q in (0.1, 0.3, 0.7):
        assert a.numbers[f"argmin_at_q={q:g}"] == pytest.approx(q, abs=1e-3)
    t = np.array([0.7, 0.2, 0.1])
    entropy = float(-np.sum(t * np.log(t)))
    assert a.numbers["soft_target_at_truth"] == pytest.approx(entropy)
    assert a.numbers["soft_target_at_uniform"] == pytest.approx(math.log(3))
    # The expected loss -[q log p + (1 - q) log(1 - p)] is lowest at p = q: on the answer's
    # grid the minimum is the grid point q itself.
    grid = np.linspace(0.001, 0.999, 999)
    best = [
        grid[np.argmin(-(q * np.log(grid) + (1 - q) * np.log1p(-grid)))] for q in (0.1, 0.3, 0.7)
    ]
    _says(
        a,
        "strictly proper scoring rule",
        "lowest exactly when the model says q",
        f"falls at p = {best[0]:.3f}, {best[1]:.3f} and {best[2]:.3f}",
        f"costs {entropy:.4f} when predicted exactly (its entropy)",
        f"and {math.log(3):.4f} when predicted evenly",
        f"cost {-math.log(0.51):.4f} and {-math.log(0.99):.4f}",
        "perplexity",
    )
    assert ("right class at p = 0.51", f"loss {-math.log(0.51):.4f}") in a.table


def _steps_to_90_percent(loss: str, max_steps: int = 2000) -> int | None:
    """The answer's experiment as a plain loop: same data, start and step size."""
    rng = np.random.default_rng(3)
    n = 200
    y = (np.arange(n) % 2).astype(np.float64)
    x = np.where(y == 1, 1.0, -1.0) + 0.6 * rng.standard_normal(n)
    X = np.column_stack([np.ones(n), x])
    w = np.array([0.0, -6.0])
    for step in range(1, max_steps + 1):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        g = (p - y) if loss == "ce" else 2.0 * (p - y) * p * (1.0 - p)
        w = w - 0.5 * (X.T @ g) / n
        if np.mean((X @ w > 0) == (y == 1)) >= 0.9:
            return step
    return None


def test_3_versus_mse_gradients():
    a = explain.versus_mse()
    _check(a, 3)
    p = 1 / (1 + math.exp(6))
    assert a.numbers["grad_ce"] == pytest.approx(p - 1, rel=1e-12)
    assert a.numbers["grad_mse"] == pytest.approx(2 * (p - 1) * p * (1 - p), rel=1e-12)
    assert a.numbers["grad_mse_finite_difference"] == pytest.approx(a.numbers["grad_mse"], rel=1e-5)
    assert a.numbers["ratio"] > 100
    assert a.numbers["steps_ce"] < a.numbers["steps_mse"]
    # the prose, number by number, from the formulas at z = -6
    g_mse = 2 * (p - 1) * p * (1 - p)
    h = 1e-6
    fd = ((_sigmoid(-6 + h) - 1) ** 2 - (_sigmoid(-6 - h) - 1) ** 2) / (2 * h)
    steps_ce, steps_mse = _steps_to_90_percent("ce"), _steps_to_90_percent("mse")
    assert (steps_ce, steps_mse) == (a.numbers["steps_ce"], a.numbers["steps_mse"])
    _says(
        a,
        f"p = {p:.4f}: confidently wrong",
        f"p - 1 = {p - 1:.4f}",
        f"2(p - 1)p(1 - p) = {g_mse:.6f}",
        f"finite differences agree: {fd:.6f}",
        f"{(p - 1) / g_mse:.0f} times smaller",
        f"90 % accuracy in {steps_ce} steps on cross-entropy and {steps_mse} steps on squared",
        "caps the cost of a certain, wrong answer at 1",
    )
    assert ("dMSE/dz", f"{g_mse:.6f}") in a.table
    assert ("ratio", f"{(p - 1) / g_mse:.0f} x") in a.table


def test_4_likelihood_identity_on_real_data():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_breast_cancer

    from logloss import LogisticRegression

    a = explain.likelihood()
    _check(a, 4)
    assert a.numbers["relative_difference"] < 1e-12
    assert a.numbers["wine_relative_difference"] < 1e-12
    assert a.numbers["n_times_mean_ce"] == pytest.approx(-a.numbers["log_likelihood"], rel=1e-12)
    assert a.numbers["best_scale_likelihood"] == a.numbers["best_scale_cross_entropy"]
    # The log-likelihood of the same fit, summed from the Bernoulli formula in float64.
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    z = LogisticRegression(C=1.0).fit(X, y).decision_function(X)
    log_lik = math.fsum(
        -math.log1p(math.exp(-zi)) if yi else -math.log1p(math.exp(zi))
        for zi, yi in zip(z, y, strict=True)
    )
    assert a.numbers["log_likelihood"] == pytest.approx(log_lik, rel=1e-12)
    # Along s * z the mean cross-entropy softplus(s z) - y s z is lowest at the printed s.
    scales = np.linspace(0.0, 4.0, 161)
    ce = [np.mean(np.logaddexp(0.0, s * z) - y * s * z) for s in scales]
    s_best = float(scales[int(np.argmin(ce))])
    assert s_best > 1.0  # the fit is penalised, so the unpenalised optimum lies beyond it
    _says(
        a,
        f"(n = {y.size})",
        "n times the mean cross-entropy is the negative log-likelihood",
        "minimising one is maximising the other",
        f"the likelihood is highest at s = {s_best:.3g} and the cross-entropy lowest at "
        f"s = {s_best:.3g}, the same point",
        f"a relative difference of {a.numbers['relative_difference']:.1e}",
    )
    assert f"{log_lik:.10f}" in a.text  # the log-likelihood, as the formula gives it


def test_5_overfitting_remedies_beat_the_plain_fit():
    a = explain.overfitting(steps=600)
    _check(a, 5)
    n = a.numbers
    assert n["train_plain"] < 0.2 < n["test_plain"]
    for remedy in ("l2", "label_smoothing", "early_stopping"):
        assert n[f"test_{remedy}"] < n["test_plain"]
        assert n[f"test_{remedy}"] < n["baseline"]
    assert n["library_check"] < 1e-12
    # the reported losses are the watched curves: the last step, or the early stop
    curves = a.extra["curves"]
    stop = int(np.argmin(curves["early"]["validation"]))
    assert stop + 1 == n["early_stopping_step"]
    assert n["test_plain"] == curves["plain"]["test"][-1]
    assert n["test_l2"] == curves["l2"]["test"][-1]
    assert n["test_early_stopping"] == curves["early"]["test"][stop]
    # what the prose claims, with the numbers it claims
    remedies = {
        "l2": "L2 penalty λ = 0.1",
        "label_smoothing": "label smoothing ε = 0.2",
        "early_stopping": f"early stopping at step {stop + 1}",
    }
    best = min(remedies, key=lambda k: n[f"test_{k}"])
    _says(
        a,
        "40 features (only 5 matter) and 100 training rows",
        "600 steps of gradient descent",
        f"the training loss falls to {n['train_plain']:.3f}",
        f"the held-out loss ends at {n['test_plain']:.3f}, worse than the {n['baseline']:.3f}",
        f"keeps the weights small: {n['test_l2']:.3f}",
        f"aims at {1 - 0.2 / 2:g} instead of 1",
        f"keeps the weights of step {stop + 1}",
        f"the best here is {remedies[best]}.",
    )
    assert a.table[-1] == (
        "predicting the class frequency",
        f"held-out log loss {n['baseline']:.4f}",
    )


def test_answer_dispatch_and_errors():
    assert explain.answer(1).number == 1
    for bad in (0, 6, "1", True, 1.0):
        with pytest.raises(ValueError, match="`number`"):
            explain.answer(bad)


def test_a_text_answer_draws_no_figure_until_asked():
    """Issue #12, finding 21: ``logloss explain 4`` without --save drew (and imported
    Matplotlib for) a figure it never printed. Run in a fresh interpreter, where nothing
    has imported Matplotlib yet."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from logloss.tutorial import explain\n"
        "answers = [explain.answer(k) for k in (1, 2, 3, 4)]\n"
        "assert 'matplotlib' not in sys.modules, 'a text answer imported matplotlib'\n"
        "assert answers[3].figure is answers[3].figure and answers[3].figure.axes\n"
        "assert 'matplotlib' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
