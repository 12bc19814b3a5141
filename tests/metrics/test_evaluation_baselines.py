"""`evaluate`: one calibration error (the top-label ECE) and the majority-class baseline."""

from __future__ import annotations

import numpy as np
import pytest

from logloss.metrics.calibration import reliability_bins
from logloss.metrics.evaluation import evaluate


def _top_label_ece(codes, proba, n_bins):
    """Plain float64 loops: |accuracy - confidence| per equal-width confidence bin."""
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        rows = [
            i
            for i in range(len(codes))
            if (lo < proba[i].max() <= hi) or (b == 0 and proba[i].max() == 0.0)
        ]
        if rows:
            acc = np.mean([proba[i].argmax() == codes[i] for i in rows])
            conf = np.mean([proba[i].max() for i in rows])
            total += len(rows) / len(codes) * abs(acc - conf)
    return total


def test_the_calibration_error_is_the_top_label_ece_for_two_classes_too():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.02, 0.98, 300)
    y = (rng.random(300) < p**2).astype(int)  # over-confident in the positive class
    proba = np.column_stack([1 - p, p])
    got = evaluate(y, p, n_bins=10)["calibration_error"]
    assert got == pytest.approx(_top_label_ece(y, proba, 10), abs=1e-12)
    # not the positive-class reliability ECE the binary reliability diagram draws
    assert abs(got - reliability_bins(y, proba, n_bins=10)["ece"]) > 1e-3


def test_the_calibration_error_of_many_classes():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(200, 4)) * 2
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, 4, 200)
    got = evaluate(y, proba, classes=np.arange(4))["calibration_error"]
    assert got == pytest.approx(_top_label_ece(y, proba, 15), abs=1e-12)


def test_the_majority_baseline_uses_the_training_frequencies():
    y = np.array(["a", "b", "b", "c", "c", "c"])
    proba = np.full((6, 3), 1 / 3)
    own = evaluate(y, proba)
    assert own["majority_class"] == "c" and own["baseline_accuracy"] == pytest.approx(0.5)
    # with a prior from other (training) rows, the majority class is theirs
    other = evaluate(y, proba, prior=[0.7, 0.2, 0.1])
    assert other["majority_class"] == "a" and other["baseline_accuracy"] == pytest.approx(1 / 6)
