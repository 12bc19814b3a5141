"""Issue 12: figures that never fail a report, and say what they draw (findings 2, 10, 14, 17)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from logloss import plot  # noqa: E402


def _cell_texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def test_confusion_matrix_of_105_classes_pools_the_rare_ones():
    # 105 classes, class i seen i + 1 times: the 20 most frequent are 85..104.
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(105), np.arange(1, 106)).astype(str)
    pred = np.where(rng.uniform(size=y.size) < 0.8, y, "3")
    fig = plot.confusion_matrix(y, pred)
    ax = fig.axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert len(rows) == 21 and rows[-1] == "other"
    assert set(rows[:-1]) == {str(i) for i in range(85, 105)}
    assert "85 pooled" in ax.get_title() and "105 classes" in ax.get_title()
    # Every example is still in the matrix: the counts written in the cells add up to n.
    counts = [int(t.split("\n")[0].replace(",", "")) for t in _cell_texts(fig)]
    assert sum(counts) == y.size
    accuracy = np.mean(y == pred)
    assert f"accuracy {accuracy:.1%}" in ax.get_title()
    # 50 classes or fewer are drawn one by one, as before.
    few = plot.confusion_matrix(y[y.astype(int) < 50], pred[y.astype(int) < 50], top=5)
    assert len(few.axes[0].get_yticklabels()) >= 50


def test_confusion_matrix_shares_are_never_rounded_to_0_or_100_percent():
    # 1,090 of 1,095 right and 5 wrong: neither "100%" nor "0%".
    y = np.array(["a"] * 1095 + ["b"] * 4)
    pred = np.array(["a"] * 1090 + ["b"] * 5 + ["b"] * 4)
    texts = _cell_texts(plot.confusion_matrix(y, pred))
    assert texts[0] == "1,090\n>99%"
    assert texts[1] == "5\n<1%"
    assert texts[3] == "4\n100%"  # exact shares stay exact
    assert texts[2] == "0\n0%"


def test_history_labels_the_penalised_objective_and_has_integer_ticks():
    from logloss import LogisticRegression

    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] + rng.normal(size=80) > 0).astype(int)
    model = LogisticRegression(C=0.1, solver="gd", max_iter=9, tol=0.0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    fig = plot.history(model)
    ax = fig.axes[0]
    assert "penalty" in ax.get_ylabel()
    assert "penalty" in ax.get_lines()[0].get_label()
    fig.canvas.draw()
    ticks = ax.get_xticks()
    visible = ticks[(ticks >= ax.get_xlim()[0]) & (ticks <= ax.get_xlim()[1])]
    assert visible.size >= 2 and np.all(visible == np.round(visible))
    # Without a penalty the curve is the plain cross-entropy, and says so.
    plain = LogisticRegression(penalty=None).fit(X, y)
    assert plot.history(plain).axes[0].get_ylabel() == "mean cross-entropy"


def test_cost_history_has_integer_ticks():
    fig = plot.cost_history([0.7, 0.5, 0.4], log_scale=False)
    fig.canvas.draw()
    ticks = fig.axes[0].get_xticks()
    assert np.all(ticks == np.round(ticks))


class _Softmax:
    """Three linear logits: the boundaries are straight lines known in closed form."""

    classes_ = np.array(["a", "b", "c"])
    W = np.array([[1.0, 0.3], [-0.4, 1.1], [-0.6, -1.4]])
    b = np.array([0.2, -0.1, 0.0])

    def predict_proba(self, G):
        z = G @ self.W.T + self.b
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def test_multiclass_boundaries_are_smooth_not_grid_steps():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 2))
    model = _Softmax()
    y = model.classes_[model.predict_proba(X).argmax(axis=1)]
    fig = plot.decision_boundary(model, X, y, resolution=20)
    ax = fig.axes[0]
    segments = [
        seg
        for coll in ax.collections
        if hasattr(coll, "get_paths") and type(coll).__name__ in ("QuadContourSet", "ContourSet")
        for seg in (p.vertices for p in coll.get_paths())
        if len(seg)
    ]
    assert segments
    pts = np.concatenate(segments)
    z = pts @ model.W.T + model.b
    order = np.argsort(z, axis=1)
    first, second = order[:, -1], order[:, -2]
    rows = np.arange(len(pts))
    # Distance from each vertex to the line where its two largest logits are equal.
    normal = np.linalg.norm(model.W[first] - model.W[second], axis=1)
    distance = (z[rows, first] - z[rows, second]) / normal
    # Steps on the grid would be off by up to half a grid step (1/20 of the span); the
    # contour of the log-probability margin is exact but near the point where three meet.
    grid_step = (X.max(axis=0) - X.min(axis=0)).min() / 20
    assert np.median(distance) < 1e-9
    assert np.max(distance) < 0.2 * grid_step


def test_decision_boundary_says_what_is_drawn_and_thins_crowds():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5000, 2))
    model = _Softmax()
    y = model.classes_[model.predict_proba(X).argmax(axis=1)]
    fig = plot.decision_boundary(
        model, X, y, resolution=20, held_at={"age": 41.0, "colour": "White"}
    )
    legend = fig.axes[0].get_legend()
    title = legend.get_title().get_text()
    assert "2,000 of 5,000 rows drawn" in title
    assert "age = 41" in title and "colour = White" in title
    alphas = [c.get_alpha() for c in fig.axes[0].collections if c.get_label() in {"a", "b", "c"}]
    assert alphas and max(alphas) < 1.0
    few = plot.decision_boundary(model, X[:100], y[:100], resolution=20)
    assert "all 100 rows drawn" in few.axes[0].get_legend().get_title().get_text()


def test_calibration_shows_counts_and_rings_small_bins():
    y = np.array([0] * 500 + [1] * 500 + [1])
    p = np.concatenate([np.full(500, 0.1), np.full(500, 0.6), [0.95]])
    fig = plot.calibration(y, p, n_bins=10)
    ax, hist = fig.axes
    notes = [t.get_text() for t in ax.texts]
    assert "n=1" in notes  # the one-row bin is labelled with its count
    bar_labels = [t.get_text() for t in hist.texts]
    assert {"500", "1"} <= set(bar_labels)
    rings = [c for c in ax.collections if len(c.get_offsets()) and not c.get_facecolor().size]
    assert len(rings) == 1 and len(rings[0].get_offsets()) == 1


def test_large_histograms_have_no_axis_offset():
    rng = np.random.default_rng(4)
    p = rng.uniform(size=3_000_000)
    y = (rng.uniform(size=p.size) < p).astype(np.int8)
    fig = plot.calibration(y, p, n_bins=10)
    hist = fig.axes[1]
    fig.canvas.draw()
    assert hist.yaxis.get_offset_text().get_text() == ""
    labels = [t.get_text() for t in hist.get_yticklabels()]
    assert "300k" in labels and not any("e" in s for s in labels)


def test_calibration_title_names_the_top_label_ece():
    from logloss.metrics.calibration import expected_calibration_error

    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.15, 0.85, 0.95, 0.9, 0.8])
    title = plot.calibration(y, p, n_bins=5).axes[0].get_title()
    # Top-label ECE by hand: confidence max(p, 1 - p), right when the top class is the label.
    conf = np.maximum(p, 1 - p)
    right = ((p > 0.5) == (y == 1)).astype(float)
    bins = np.clip(np.ceil(conf * 5).astype(int) - 1, 0, 4)
    ece = sum(abs(right[bins == b].sum() - conf[bins == b].sum()) for b in range(5)) / y.size
    assert ece == pytest.approx(
        expected_calibration_error(y, np.column_stack([1 - p, p]), n_bins=5)
    )
    assert f"top-label ECE {ece:.3f}" in title
