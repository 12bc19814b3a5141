"""The HTML report (logloss.report), checked as text and rendered in headless Chromium.

The scores it shows are tested in tests/metrics/test_evaluation.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from logloss import report  # noqa: E402
from logloss.metrics.evaluation import evaluate  # noqa: E402


def _write(tmp_path):
    from logloss import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.where(X[:, 0] + rng.normal(size=200) > 0, "yes", "no")
    model = LogisticRegression().fit(X, y)
    P = model.predict_proba(X)
    scores = {"training": evaluate(y, P, model.classes_)}
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
    for word in ("log loss", "baseline log loss", "ROC AUC", "top-label ECE"):
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
