"""The guided demo: files written, and numbers that a correct walkthrough must produce."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")
pytest.importorskip("rich")

from rich.console import Console  # noqa: E402

from logloss.tutorial.demo import run_demo  # noqa: E402

N_EXAMPLES = 569  # the Wisconsin breast-cancer data shipped with scikit-learn


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "nested" / "out"
    buffer = io.StringIO()
    result = run_demo(out, console=Console(file=buffer, width=100, color_system=None))
    return out, result, buffer.getvalue()


def test_files_written(demo):
    out, result, _ = demo
    figures = {"loss_curve.png", "gd_cost.png", "solvers.png", "mlp_history.png", "calibration.png"}
    names = figures | {"summary.txt", "summary.json"}
    assert {p.name for p in out.iterdir()} == names
    for name in figures:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(result["files"].values()) == {str(out / name) for name in names}


def test_summary_files_hold_the_returned_numbers(demo):
    out, result, _ = demo
    saved = json.loads((out / "summary.json").read_text())
    for key in ("test_log_loss", "test_accuracy", "mean_bce", "log_likelihood", "learning_rate"):
        assert saved[key] == result[key]
    assert saved["cost"] == result["cost"]
    text = (out / "summary.txt").read_text()
    assert f"{result['test_log_loss']:.4f}" in text
    assert "negative log-likelihood" in text


def test_split_sizes(demo):
    _, result, _ = demo
    assert result["n_train"] + result["n_test"] == N_EXAMPLES
    assert result["n_test"] == math.ceil(0.25 * N_EXAMPLES)
    assert result["n_features"] == 30
    assert len(result["coef"]) == 31  # intercept first


def test_mean_bce_is_negative_log_likelihood_over_n(demo):
    _, r, _ = demo
    assert r["neg_log_likelihood_over_n"] == pytest.approx(-r["log_likelihood"] / r["n_train"])
    assert abs(r["mean_bce"] - r["neg_log_likelihood_over_n"]) <= 1e-12 * r["mean_bce"]
    assert r["identity_rel_diff"] <= 1e-12
    # The objective J (from logits) is the same number, up to rounding the probabilities.
    assert r["mean_bce_from_logits"] == pytest.approx(r["mean_bce"], rel=1e-9)
    assert r["mean_bce_from_logits"] == pytest.approx(r["cost"][-1], rel=1e-14)


def test_gradient_descent_cost_falls_monotonically(demo):
    _, r, _ = demo
    cost = np.asarray(r["cost"])
    assert cost.size == r["n_iter"] + 1 == 2001
    assert cost[0] == pytest.approx(math.log(2.0), rel=1e-15)  # w = 0 gives phi = 1/2
    assert np.all(np.diff(cost) <= 0.0)
    assert cost[-1] < 0.1 * cost[0]
    assert 0 <= r["best_test_iteration"] <= r["n_iter"]


def test_fit_quality(demo):
    _, r, _ = demo
    assert r["test_log_loss"] < r["baseline_log_loss"]
    # The baseline predicts the training class frequency: its log loss is about the label entropy.
    p = 357 / N_EXAMPLES
    assert r["baseline_log_loss"] == pytest.approx(
        -(p * math.log(p) + (1 - p) * math.log(1 - p)), rel=0.02
    )
    assert r["test_log_loss"] < 0.2
    assert r["test_accuracy"] > 0.9
    assert r["train_accuracy"] > 0.95
    assert r["train_log_loss"] == pytest.approx(r["cost"][-1], rel=1e-9)


def test_console_output(demo):
    _, r, text = demo
    for phrase in (
        "The cost of one example",
        "Gradient descent",
        "negative log-likelihood",
        "log loss",
        "accuracy",
        "iteration  2000",
        "summary.json",
    ):
        assert phrase in text
    assert f"{r['test_log_loss']:.4f}" in text


def test_first_step_is_minus_lr_times_xt_g(tmp_path):
    # One step from w = 0 by hand: phi = 1/2, g = (1/2 - y) / n, w1 = -lr X1^T g.
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    r = run_demo(tmp_path, console=Console(quiet=True), seed=3, n_iter=1, learning_rate=0.5)
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, _, y_tr, _ = train_test_split(X, y, test_size=0.25, stratify=y, random_state=3)
    X_tr = (X_tr - X_tr.mean(axis=0)) / X_tr.std(axis=0)
    X1 = np.column_stack([np.ones(len(y_tr)), X_tr])
    expected = -0.5 * X1.T @ ((0.5 - y_tr) / len(y_tr))
    np.testing.assert_allclose(r["coef"], expected, rtol=1e-12, atol=1e-15)
    assert r["learning_rate"] == 0.5


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_iter": 0}, ValueError, "`n_iter`"),
        ({"n_iter": 2.5}, TypeError, "`n_iter`"),
        ({"seed": -1}, ValueError, "`seed`"),
        ({"seed": True}, TypeError, "`seed`"),
        ({"learning_rate": 0.0}, ValueError, "`learning_rate`"),
        ({"learning_rate": float("nan")}, ValueError, "`learning_rate`"),
    ],
)
def test_bad_arguments_fail_before_writing(tmp_path, kwargs, error, match):
    out = tmp_path / "out"
    with pytest.raises(error, match=match):
        run_demo(out, console=Console(quiet=True), **kwargs)
    assert not out.exists()


def test_out_dir_that_is_a_file(tmp_path):
    target = tmp_path / "taken"
    target.write_text("")
    with pytest.raises(NotADirectoryError, match="`out_dir`"):
        run_demo(target, console=Console(quiet=True))


def test_estimator_section(demo):
    _, result, text = demo
    # L-BFGS reaches a far lower objective than plain gradient descent, in fewer steps
    assert result["lbfgs_n_iter"] < result["gd_n_iter"]
    assert result["lbfgs_final_cost"] < result["gd_final_cost"]
    # the estimator's gd (with backtracking) and the hand-written loop minimise the same J
    # for the same 2000 steps, so they end close to each other
    assert abs(result["gd_final_cost"] - result["cost"][-1]) < 0.02
    # multinomial models on digits: well above chance (10 %), finite log losses
    assert result["softmax_test_accuracy"] > 0.9 and result["mlp_test_accuracy"] > 0.9
    # temperature scaling never raises the log loss on the split it was not fitted on by much,
    # and leaves the ranking alone
    assert result["temperature"] > 0
    assert result["test_log_loss_after_ts"] < result["test_log_loss_before_ts"] * 1.05
    assert "Calibration: one temperature" in text
