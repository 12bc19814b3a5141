"""Issue 12 and the HTML report: no figure fails it (finding 2), one named calibration error
(9), the majority-class accuracy (12) and the coefficients by feature name (13)."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from logloss import plot, report  # noqa: E402
from logloss.metrics.evaluation import evaluate  # noqa: E402


def _binary(n=200, seed=0):
    from logloss import LogisticRegression

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = np.where(X[:, 0] - 0.5 * X[:, 2] + rng.normal(size=n) > 0, "yes", "no")
    return X, y, LogisticRegression().fit(X, y)


def test_a_figure_that_raises_becomes_a_sentence(tmp_path, monkeypatch):
    X, y, model = _binary()
    P = model.predict_proba(X)

    def broken(*args, **kwargs):
        raise RuntimeError("the diagram broke")

    monkeypatch.setattr(plot, "calibration", broken)
    index = report.write_report(
        tmp_path / "rep",
        title="t",
        scores={"training": evaluate(y, P, model.classes_)},
        model=model,
        y_true=y,
        y_prob=P,
        classes=model.classes_,
    )
    html = index.read_text()
    assert "This figure could not be drawn: the diagram broke." in html
    assert html.count("<svg") == 2  # the history and the confusion matrix are still there


def test_105_classes_give_a_report_with_a_pooled_confusion_matrix(tmp_path):
    rng = np.random.default_rng(1)
    k, n = 105, 3000
    classes = np.array([f"A{i:03d}" for i in range(k)])
    codes = np.minimum(rng.geometric(0.03, size=n) - 1, k - 1)
    codes[:k] = np.arange(k)  # every class present
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), codes] += 3.0
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = classes[codes]
    index = report.write_report(
        tmp_path / "rep",
        title="flights",
        scores={"held-out": evaluate(y, P, classes)},
        y_true=y,
        y_prob=P,
        classes=classes,
    )
    html = index.read_text()
    assert html.count("<svg") == 2  # calibration and the confusion matrix
    assert "pooled as &#x27;other&#x27;" in html or "pooled as 'other'" in html
    assert "could not be drawn" not in html


def test_scores_name_the_top_label_ece_and_the_majority_accuracy(tmp_path):
    X, y, model = _binary()
    P = model.predict_proba(X)
    scores = {"training": dict(evaluate(y, P, model.classes_), baseline_accuracy=0.6)}
    html = report.write_report(tmp_path / "rep", title="t", scores=scores).read_text()
    assert "top-label ECE" in html and "calibration error</th>" not in html
    assert "<th>majority-class accuracy</th>" in html and "<td>60.0%</td>" in html
    # Without the entry (scores from elsewhere) the column is left out, not shown empty.
    bare = {"training": evaluate(y, P, model.classes_)}
    bare["training"].pop("baseline_accuracy", None)
    html = report.write_report(tmp_path / "bare", title="t", scores=bare).read_text()
    assert "majority-class accuracy</th>" not in html


def test_coefficients_by_feature_name(tmp_path):
    X, y, model = _binary()
    names = ["age", "colour=White", "income"]
    html = report.write_report(
        tmp_path / "rep",
        title="t",
        scores={"training": evaluate(y, model.predict_proba(X), model.classes_)},
        model=model,
        feature_names=names,
        top_coefficients=2,
    ).read_text()
    section = html[html.index("<h2>Coefficients</h2>") :]
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td></tr>", section)
    # The two largest by absolute value, in order, with the fitted values.
    order = np.argsort(-np.abs(model.coef_[0]))[:2]
    assert rows == [(names[j], f"{model.coef_[0][j]:+.4f}") for j in order]
    assert f"{model.intercept_[0]:+.4f}" in section
    assert "The 2 largest of 3 coefficients" in section


def test_softmax_coefficients_per_class():
    from logloss import SoftmaxRegression

    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 2))
    y = np.digitize(X[:, 0] + X[:, 1], [-0.7, 0.7])
    model = SoftmaxRegression().fit(X, y)
    coefs = report.Coefficients(model, ["u", "v"])
    assert coefs.columns == ["0", "1", "2"]
    (first, values), _ = coefs.largest()
    j = int(np.argmax(np.abs(model.coef_).max(axis=0)))
    assert first == ["u", "v"][j]
    np.testing.assert_array_equal(values, model.coef_[:, j])
    with pytest.raises(ValueError, match="no coefficients"):
        report.Coefficients(object())
