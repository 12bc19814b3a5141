"""Issue 12, finding 17: the explain figures and the demo's tables read cleanly."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("rich")

from rich.console import Console  # noqa: E402

from logloss.tutorial import explain_figures  # noqa: E402


def test_figure_2_legend_sits_below_the_curves():
    grid = np.linspace(0.001, 0.999, 200)
    curves = {q: -(q * np.log(grid) + (1 - q) * np.log1p(-grid)) for q in (0.1, 0.3, 0.7)}
    fig = explain_figures.suitability_figure(grid, curves, {q: q for q in curves})
    fig.canvas.draw()
    ax = fig.axes[0]
    legend_box = ax.get_legend().get_window_extent()
    axes_box = ax.get_window_extent()
    assert legend_box.y1 <= axes_box.y0  # wholly under the plotting area


def test_figure_4_has_plain_decimal_tick_labels():
    scales = np.linspace(0.0, 4.0, 81)
    ce = 0.05 + 0.6 * np.exp(-3 * scales) + 0.01 * scales**2  # between 0.05 and 0.65
    fig = explain_figures.likelihood_figure(scales, -569 * ce, ce, 1.4, 1.4, 569)
    fig.canvas.draw()
    right = fig.axes[1]
    labels = [t.get_text() for t in right.get_yticklabels() + right.get_yticklabels(minor=True)]
    shown = [s for s in labels if s]
    assert shown and not any("10^" in s or "times" in s or "×" in s for s in shown)
    assert set(shown) <= {"0.05", "0.1", "0.2", "0.5"}


def test_demo_solver_table_fits_80_columns(tmp_path):
    from logloss.tutorial.demo_estimators import _step_solvers

    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(120), rng.normal(size=(120, 3))])
    y = (X[:, 1] + rng.normal(size=120) > 0).astype(float)
    data = {"X_train": X[:80], "y_train": y[:80], "X_test": X[80:], "y_test": y[80:]}
    buffer = io.StringIO()
    con = Console(file=buffer, width=80, color_system=None)
    _step_solvers(con, 6, data, tmp_path, {}, {})
    text = buffer.getvalue()
    for header in ("solver", "iterations", "seconds", "final J(w)", "accuracy"):
        assert header in text
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
