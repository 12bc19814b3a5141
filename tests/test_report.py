"""Scores of probabilities (logloss.report) and the HTML report, rendered in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from logloss import report  # noqa: E402


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
        r = report.evaluate(y, P)
        assert r["log_loss"] == pytest.approx(metrics.log_loss(y, P), rel=1e-12)
        assert r["accuracy"] == pytest.approx(metrics.accuracy_score(y, P.argmax(1)))
        if k == 2:
            assert r["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, P[:, 1]), rel=1e-12)
            assert r["brier"] == pytest.approx(metrics.brier_score_loss(y, P[:, 1]), rel=1e-12)
        else:
            assert r["roc_auc"] is None
        freq = np.bincount(y) / y.size
        assert r["baseline_log_loss"] == pytest.approx(-np.sum(freq * np.log(freq)), rel=1e-12)


def test_calibration_error_by_hand():
    codes = np.array([0, 1, 1, 1])
    P = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    bins = report.reliability_bins(codes, P, n_bins=10)
    # second-class probabilities 0.1, 0.1, 0.8, 0.6 against outcomes 0, 1, 1, 1
    assert bins["ece"] == pytest.approx((abs(1 - 0.2) + abs(1 - 0.8) + abs(1 - 0.6)) / 4)
    assert bins["count"].sum() == 4 and bins["edges"].size == 11


def test_as_class_probabilities_checks():
    codes, P, cls = report.as_class_probabilities(
        ["b", "a"], [[0.3, 0.7], [0.6, 0.4]], classes=["a", "b"]
    )
    assert codes.tolist() == [1, 0] and cls.tolist() == ["a", "b"]
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        report.as_class_probabilities([0, 1], [0.5, 1.2])
    with pytest.raises(ValueError, match="sum to"):
        report.as_class_probabilities([0, 1], [[0.5, 0.2], [0.5, 0.5]])
    with pytest.raises(ValueError, match="3 columns but there are 2 classes"):
        report.as_class_probabilities([0, 1], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="have no probability column"):
        report.as_class_probabilities(["a", "z"], [0.5, 0.5], classes=["a", "b"])
    with pytest.raises(ValueError, match="rows"):
        report.as_class_probabilities([0, 1, 1], [0.5, 0.5])


def _write(tmp_path):
    from logloss import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.where(X[:, 0] + rng.normal(size=200) > 0, "yes", "no")
    model = LogisticRegression().fit(X, y)
    P = model.predict_proba(X)
    scores = {"training": report.evaluate(y, P, model.classes_)}
    return report.write_report(
        tmp_path / "rep",
        title="A <test> report",
        scores=scores,
        details=[("model", "LogisticRegression")],
        notes=["Imputed 3 values & more."],
        model=model,
        y_true=y,
        y_prob=P,
        classes=model.classes_,
    )


def test_report_is_self_contained(tmp_path):
    index = _write(tmp_path)
    assert index == tmp_path / "rep" / "index.html"
    html = index.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "A &lt;test&gt; report" in html and "Imputed 3 values &amp; more." in html
    assert html.count("<svg") == 3  # history, calibration, confusion matrix
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html
    assert "Content-Security-Policy" in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids repeat across figures"
    for ref in set(re.findall(r'(?:href="#|url\(#)([^")]+)', html)):
        assert ref in ids, ref
    for word in ("log loss", "baseline log loss", "ROC AUC", "calibration error"):
        assert word in html


CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)


def _render(url: str, tmp_path) -> tuple[str, bytes]:
    """Open `url` in headless Chromium; return its log (stderr) and a PNG screenshot."""
    shot = tmp_path / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                "--window-size=1100,2400",
                f"--screenshot={shot}",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stderr, shot.read_bytes()


def _console_messages(log: str) -> list[str]:
    # Chromium writes every console message (errors, CSP violations) as INFO:CONSOLE lines.
    return [line for line in log.splitlines() if ":CONSOLE" in line]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_renders_in_chromium_without_console_errors(tmp_path):
    index = _write(tmp_path)
    log, png = _render(index.resolve().as_uri(), tmp_path)
    assert _console_messages(log) == []
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000  # a page with figures drawn

    # The check itself works: a broken page is caught.
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><title>x</title><script>console.error('boom')</script>")
    log, _ = _render(bad.resolve().as_uri(), tmp_path)
    assert any("boom" in line for line in _console_messages(log))
