"""logloss.plot.curves: loss_curve, cost_history and history, checked against what they draw."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from logloss import plot  # noqa: E402


def _lines(fig: Figure) -> dict[str, object]:
    return {line.get_label(): line for line in fig.axes[0].get_lines()}


def test_loss_curve_labels_and_limits():
    fig = plot.loss_curve()
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.get_lines()] == ["J(w) if y=1", "J(w) if y=0"]
    assert ax.get_xlabel() == "φ(z)"
    assert ax.get_ylabel() == "J(w)"
    assert ax.get_title()
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["J(w) if y=1", "J(w) if y=0"]
    assert ax.get_xlim() == (0.0, 1.0)
    assert ax.get_ylim() == (0.0, 5.0)


def test_loss_curve_x_is_sigmoid_of_the_tutorial_grid():
    z = np.arange(-10, 10, 0.1)
    h = 1.0 / (1.0 + np.exp(-z))
    for line in plot.loss_curve().axes[0].get_lines():
        np.testing.assert_allclose(line.get_xdata(), h, rtol=1e-15, atol=0)


def test_loss_curve_equals_the_plain_float64_formula():
    # Independent reference: the tutorial's -log(h) and -log(1 - h), at interior points
    # where rounding h (and 1 - h) costs nothing measurable.
    lines = _lines(plot.loss_curve())
    h = np.asarray(lines["J(w) if y=1"].get_xdata())
    inner = (h > 0.01) & (h < 0.99)
    assert inner.sum() > 50
    j1 = np.asarray(lines["J(w) if y=1"].get_ydata())
    j0 = np.asarray(lines["J(w) if y=0"].get_ydata())
    np.testing.assert_allclose(j1[inner], -np.log(h[inner]), rtol=1e-13)
    np.testing.assert_allclose(j0[inner], -np.log(1.0 - h[inner]), rtol=1e-13)


def test_loss_curve_tails_are_finite_and_exact():
    # At z = -10 the y=1 cost is softplus(10) = 10 + log1p(e^-10), not a rounded log.
    lines = _lines(plot.loss_curve(ymax=None))
    j1 = np.asarray(lines["J(w) if y=1"].get_ydata())
    j0 = np.asarray(lines["J(w) if y=0"].get_ydata())
    assert np.isfinite(j1).all() and np.isfinite(j0).all()
    assert j1[0] == pytest.approx(10.0 + np.log1p(np.exp(-10.0)), rel=1e-15)
    assert j0[0] == pytest.approx(np.log1p(np.exp(-10.0)), rel=1e-14)
    assert np.all(np.diff(j1) < 0) and np.all(np.diff(j0) > 0)


def test_loss_curve_ymax_none_shows_the_whole_curve():
    ax = plot.loss_curve(ymax=None).axes[0]
    assert 10.0 < ax.get_ylim()[1] < 10.5


def test_loss_curve_draws_on_a_given_axes():
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plot.loss_curve(ax=right) is fig
    assert len(right.get_lines()) == 2
    assert len(left.get_lines()) == 0


def test_loss_curve_bad_arguments():
    with pytest.raises(TypeError, match="`ax`"):
        plot.loss_curve(ax="left")
    with pytest.raises(ValueError, match="`ymax`"):
        plot.loss_curve(ymax=0.0)


def test_cost_history_content():
    fig = plot.cost_history([0.69, 0.3, 0.2, 0.15], held_out=[0.69, 0.35, 0.3, 0.31])
    ax = fig.axes[0]
    lines = _lines(fig)
    assert list(lines) == ["training set", "held-out set"]
    np.testing.assert_array_equal(lines["training set"].get_xdata(), [0, 1, 2, 3])
    np.testing.assert_array_equal(lines["held-out set"].get_ydata(), [0.69, 0.35, 0.3, 0.31])
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "iteration"
    assert plot.cost_history([0.0, 1.0], log_scale=False).axes[0].get_yscale() == "linear"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"cost": []}, ValueError, "non-empty"),
        ({"cost": [[0.5]]}, ValueError, "1-D"),
        ({"cost": [0.5, np.nan]}, ValueError, "finite"),
        ({"cost": [0.5, -0.1], "log_scale": False}, ValueError, "non-negative"),
        ({"cost": [0.5, 0.0]}, ValueError, "logarithmic"),
        ({"cost": [0.5, 0.4], "held_out": [0.5]}, ValueError, "same length"),
        ({"cost": ["a"]}, TypeError, "`cost`"),
    ],
)
def test_cost_history_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        plot.cost_history(**kwargs)


class _Fitted:
    """A stand-in with the attributes plot.history and plot.decision_boundary read."""

    def __init__(self, loss_curve, validation=()):
        self.loss_curve_ = list(loss_curve)
        self.validation_loss_curve_ = list(validation)
        self.classes_ = np.array(["a", "b"])

    def predict_proba(self, X):
        p = 1.0 / (1.0 + np.exp(-(X[:, 0] - X[:, 1])))
        return np.column_stack([1.0 - p, p])


def test_history_draws_the_training_and_validation_curves():
    fig = plot.history(_Fitted([0.5, 0.45, 0.42, 0.4], validation=[0.55, 0.5, 0.48, 0.49]))
    lines = _lines(fig)
    # A stand-in without penalty attributes: its curve is called the training loss.
    assert list(lines) == ["training loss", "validation cross-entropy"]
    np.testing.assert_array_equal(lines["training loss"].get_xdata(), [1, 2, 3, 4])
    assert fig.axes[0].get_yscale() == "linear"  # a span under 3x stays linear
    assert plot.history(_Fitted([10.0, 1.0, 0.1])).axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="loss_curve_"):
        plot.history(object())
    with pytest.raises(ValueError, match="logarithmic"):
        plot.history(_Fitted([1.0, 0.0]), log_scale=True)


def test_history_marks_the_lowest_validation_loss_on_two_lines():
    fig = plot.history(_Fitted([0.5, 0.45, 0.42, 0.4], validation=[0.55, 0.5, 0.48, 0.49]))
    (note,) = [t for t in fig.axes[0].texts if t.get_text().startswith("lowest")]
    text = note.get_text()
    # a real line break, not the two characters backslash and n
    assert text == "lowest 0.48\nat iteration 3"
    assert "\\" not in text and text.count("\n") == 1
    assert note.xy == (3, 0.48)


def test_cost_history_marks_the_lowest_held_out_cost_on_two_lines():
    fig = plot.cost_history([0.69, 0.3, 0.2, 0.15], held_out=[0.69, 0.35, 0.3, 0.31])
    (note,) = [t for t in fig.axes[0].texts if t.get_text().startswith("lowest")]
    assert note.get_text() == "lowest held-out cost 0.3\nat iteration 2"
    assert note.xy == (2, 0.3)
