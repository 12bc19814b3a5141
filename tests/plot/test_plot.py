"""Figures of logloss.plot: what they show, and the files save_figure writes."""

from __future__ import annotations

import subprocess
import sys

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


def test_save_figure_png(tmp_path):
    out = plot.save_figure(plot.loss_curve(), tmp_path / "loss.png")
    assert out == tmp_path / "loss.png"
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # 7.5 x 5 inches at 150 dpi
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1125, 750)


def test_save_figure_svg_is_reproducible(tmp_path):
    a = plot.save_figure(plot.loss_curve(), str(tmp_path / "a.svg"))
    b = plot.save_figure(plot.loss_curve(), tmp_path / "b.SVG")
    text = a.read_text()
    assert text.startswith("<?xml") and "<svg" in text
    assert "J(w) if y=1" in text and "J(w) if y=0" in text  # the legend, as comments
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("name", ["loss.pdf", "loss.jpg", "loss", "loss.png.txt"])
def test_save_figure_rejects_other_suffixes(tmp_path, name):
    with pytest.raises(ValueError, match=r"`path` must end in \.png or \.svg"):
        plot.save_figure(plot.loss_curve(), tmp_path / name)
    assert not (tmp_path / name).exists()


def test_save_figure_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot.save_figure(plot.loss_curve(), tmp_path / "no" / "such" / "loss.png")


def test_save_figure_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="`fig`"):
        plot.save_figure("figure", tmp_path / "x.png")
    with pytest.raises(ValueError, match="`dpi`"):
        plot.save_figure(plot.loss_curve(), tmp_path / "x.png", dpi=0)


def test_import_logloss_does_not_import_matplotlib():
    code = (
        "import sys, logloss\n"
        "assert 'matplotlib' not in sys.modules\n"
        "logloss.plot.loss_curve\n"
        "assert 'matplotlib' not in sys.modules\n"
        "logloss.plot.loss_curve()\n"
        "assert 'matplotlib' in sys.modules and 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- history, calibration, decision boundary, confusion matrix --


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
    assert list(lines) == ["training objective", "validation cross-entropy"]
    np.testing.assert_array_equal(lines["training objective"].get_xdata(), [1, 2, 3, 4])
    assert fig.axes[0].get_yscale() == "linear"  # a span under 3x stays linear
    assert plot.history(_Fitted([10.0, 1.0, 0.1])).axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="loss_curve_"):
        plot.history(object())
    with pytest.raises(ValueError, match="logarithmic"):
        plot.history(_Fitted([1.0, 0.0]), log_scale=True)


def test_calibration_points_are_bin_means():
    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.15, 0.85, 0.95, 0.9, 0.8])
    fig = plot.calibration(y, p, n_bins=2)
    model = _lines(fig)["model"]
    np.testing.assert_allclose(model.get_xdata(), [0.1, 0.875])
    np.testing.assert_allclose(model.get_ydata(), [0.0, 0.75])
    assert "ECE" in fig.axes[0].get_title()
    assert len(fig.axes) == 2  # the diagram and the histogram
    three = plot.calibration(["a", "b", "c"], np.eye(3) * 0.8 + 0.2 / 3, n_bins=5)
    assert three.axes[1].get_xlabel() == "confidence (top class)"
    with pytest.raises(ValueError, match="n_bins"):
        plot.calibration(y, p, n_bins=1)
    with pytest.raises(ValueError, match="probabilities"):
        plot.calibration(y, p + 1.0)


def test_decision_boundary_binary_and_multiclass():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.5], [3.0, 1.0]])
    y = np.array(["a", "b", "a", "b"])
    fig = plot.decision_boundary(_Fitted([1.0]), X, y, resolution=20, feature_names=("u", "v"))
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("u", "v")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert len(fig.axes) == 2  # the probability colour bar
    with pytest.raises(ValueError, match="shape \\(n, 2\\)"):
        plot.decision_boundary(_Fitted([1.0]), X[:, :1], y)
    with pytest.raises(ValueError, match="does not know"):
        plot.decision_boundary(_Fitted([1.0]), X, np.array(["a", "b", "c", "a"]))
    with pytest.raises(TypeError, match="predict_proba"):
        plot.decision_boundary(object(), X, y)

    class Three:
        classes_ = np.array([0, 1, 2])

        def predict_proba(self, G):
            z = np.column_stack([G[:, 0], G[:, 1], -G[:, 0] - G[:, 1]])
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

    fig = plot.decision_boundary(Three(), X, np.array([0, 1, 2, 0]), resolution=15)
    assert len(fig.axes[0].get_images()) == 1


def test_confusion_matrix_counts():
    fig = plot.confusion_matrix(["a", "a", "b", "b", "b"], ["a", "b", "b", "b", "a"])
    image = fig.axes[0].get_images()[0]
    np.testing.assert_allclose(image.get_array(), [[0.5, 0.5], [1 / 3, 2 / 3]])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["1\n50%", "1\n50%", "1\n33%", "2\n67%"]
    assert "accuracy 60.0%" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="not among"):
        plot.confusion_matrix(["a"], ["z"], classes=["a"])


def test_new_figures_save_as_svg(tmp_path):
    fig = plot.calibration([0, 1, 1, 0], [0.2, 0.7, 0.9, 0.4], n_bins=4)
    assert plot.save_figure(fig, tmp_path / "c.svg").read_text().startswith("<?xml")
