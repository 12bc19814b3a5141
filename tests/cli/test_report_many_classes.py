"""Issue 12, finding 2: `logloss fit --report` with more than 50 classes writes the report."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from typer.testing import CliRunner  # noqa: E402

from logloss.cli import app  # noqa: E402


def test_a_fit_of_60_classes_writes_its_report(tmp_path):
    rng = np.random.default_rng(0)
    n, k = 1200, 60
    dest = rng.integers(0, k, size=n)
    df = pd.DataFrame(
        {
            "distance": dest * 10.0 + rng.normal(0.0, 5.0, n),
            "hour": rng.integers(5, 23, n).astype(float),
            "dest": [f"D{d:02d}" for d in dest],
        }
    )
    data = tmp_path / "flights.csv"
    df.to_csv(data, index=False)
    result = CliRunner().invoke(
        app,
        [
            "fit",
            str(data),
            "-t",
            "dest",
            "-m",
            "softmax",
            "--max-iter",
            "30",
            "-o",
            str(tmp_path / "m.npz"),
            "--report",
            str(tmp_path / "report"),
        ],
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report" / "index.html").read_text()
    assert "<h2>Confusion matrix</h2>" in html
    assert "could not be drawn" not in html
    assert "40 pooled as" in html  # 20 most frequent of 60 drawn, the rest as 'other'
