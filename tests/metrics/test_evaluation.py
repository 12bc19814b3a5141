"""The scores the report and the CLI show (logloss.metrics.evaluation)."""

from __future__ import annotations

import numpy as np
import pytest

from logloss.metrics.evaluation import as_class_probabilities, evaluate, roc_auc


def _probs(n=400, k=2, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = 1.5 * np.eye(k)[y] + rng.normal(size=(n, k))
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, P


def test_evaluate_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    for k in (2, 3):
        y, P = _probs(k=k)
        r = evaluate(y, P)
        assert r["log_loss"] == pytest.approx(metrics.log_loss(y, P), rel=1e-12)
        assert r["accuracy"] == pytest.approx(metrics.accuracy_score(y, P.argmax(1)))
        if k == 2:
            assert r["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, P[:, 1]), rel=1e-12)
            assert r["brier"] == pytest.approx(metrics.brier_score_loss(y, P[:, 1]), rel=1e-12)
        else:
            assert r["roc_auc"] is None
        freq = np.bincount(y) / y.size
        assert r["baseline_log_loss"] == pytest.approx(-np.sum(freq * np.log(freq)), rel=1e-12)


def test_evaluate_calibration_error_is_the_reliability_bins_ece():
    from logloss.metrics.calibration import reliability_bins

    y, P = _probs(k=3, seed=1)
    codes, proba, _ = as_class_probabilities(y, P)
    assert (
        evaluate(y, P, n_bins=7)["calibration_error"]
        == reliability_bins(codes, proba, n_bins=7)["ece"]
    )


def test_roc_auc_counts_ties_as_half():
    positive = np.array([False, True, False, True])
    assert roc_auc(positive, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert roc_auc(positive, np.array([0.1, 0.9, 0.2, 0.8])) == 1.0
    assert roc_auc(np.array([True, True]), np.array([0.1, 0.2])) is None


def test_as_class_probabilities_checks():
    codes, P, cls = as_class_probabilities(["b", "a"], [[0.3, 0.7], [0.6, 0.4]], classes=["a", "b"])
    assert codes.tolist() == [1, 0] and cls.tolist() == ["a", "b"]
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        as_class_probabilities([0, 1], [0.5, 1.2])
    with pytest.raises(ValueError, match="sum to"):
        as_class_probabilities([0, 1], [[0.5, 0.2], [0.5, 0.5]])
    with pytest.raises(ValueError, match="3 columns but there are 2 classes"):
        as_class_probabilities([0, 1], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="have no probability column"):
        as_class_probabilities(["a", "z"], [0.5, 0.5], classes=["a", "b"])
    with pytest.raises(ValueError, match="rows"):
        as_class_probabilities([0, 1, 1], [0.5, 0.5])
