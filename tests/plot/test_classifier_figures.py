"""logloss.plot.reliability and logloss.plot.decision: calibration, decision regions, confusion."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from logloss import plot  # noqa: E402


def _lines(fig: Figure) -> dict[str, object]:
    return {line.get_label(): line for line in fig.axes[0].get_lines()}


class _Fitted:
    """A stand-in with the attributes plot.history and plot.decision_boundary read."""

    def __init__(self, loss_curve, validation=()):
        self.loss_curve_ = list(loss_curve)
        self.validation_loss_curve_ = list(validation)
        self.classes_ = np.array(["a", "b"])

    def predict_proba(self, X):
        p = 1.0 / (1.0 + np.exp(-(X[:, 0] - X[:, 1])))
        return np.column_stack([1.0 - p, p])


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


def test_calibration_title_shows_the_metrics_ece():
    from logloss.metrics.calibration import expected_calibration_error

    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.15, 0.85, 0.95, 0.9, 0.8])
    ece = expected_calibration_error(y, np.column_stack([1 - p, p]), n_bins=2)
    title = plot.calibration(y, p, n_bins=2).axes[0].get_title()
    assert title == f"Calibration: top-label ECE {ece:.3f}\n6 predictions"
