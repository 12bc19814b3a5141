"""Issue 12, `logloss score`: a single p_<class> column (finding 4), the majority-class
accuracy (12) and the top-label ECE (9), checked against plain formulas."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from logloss.tables.scoring import score_file  # noqa: E402


@pytest.fixture
def scored(tmp_path):
    """A No/Yes target (No the majority) and P(No) written as one column p_No."""
    rng = np.random.default_rng(0)
    n = 600
    p_yes = rng.uniform(0.0, 0.3, size=n)
    y = np.where(rng.uniform(size=n) < p_yes, "Yes", "No")
    path = tmp_path / "scored.csv"
    pd.DataFrame({"default": y, "p_No": 1.0 - p_yes, "score": p_yes}).to_csv(path, index=False)
    return path, y, p_yes


def _log_loss(y, p_yes):
    # Plain float64 formula: -mean(log p of the true class).
    return float(-np.mean(np.where(y == "Yes", np.log(p_yes), np.log1p(-p_yes))))


def _top_label_ece(y, p_yes, n_bins):
    conf = np.maximum(p_yes, 1.0 - p_yes)
    right = ((p_yes > 0.5) == (y == "Yes")).astype(float)
    b = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    return sum(abs(right[b == i].sum() - conf[b == i].sum()) for i in range(n_bins)) / y.size


def test_a_column_named_p_No_is_the_probability_of_No(scored):
    path, y, p_yes = scored
    result, inputs = score_file(path, "default", ["p_No"], n_bins=10)
    assert result["log_loss"] == pytest.approx(_log_loss(y, p_yes), rel=1e-12)
    assert result["accuracy"] == pytest.approx(np.mean((p_yes > 0.5) == (y == "Yes")))
    assert any("'p_No' as the probability of 'No'" in note for note in inputs.notes)


def test_a_column_that_names_no_class_keeps_its_meaning_and_says_so(scored):
    path, y, p_yes = scored
    result, inputs = score_file(path, "default", ["score"])
    assert result["log_loss"] == pytest.approx(_log_loss(y, p_yes), rel=1e-12)
    (note,) = inputs.notes
    assert "'score' as the probability of 'Yes'" in note and "p_No or p_Yes" in note


def test_majority_accuracy_and_top_label_ece(scored):
    path, y, p_yes = scored
    result, _ = score_file(path, "default", ["p_No"], n_bins=10)
    assert result["baseline_accuracy"] == pytest.approx(np.mean(y == "No"))
    assert result["majority_class"] == "No"
    assert result["calibration_error"] == pytest.approx(_top_label_ece(y, p_yes, 10), abs=1e-12)
    # One definition: the same number whichever class the column is for.
    other, _ = score_file(path, "default", ["score"], n_bins=10)
    assert other["calibration_error"] == pytest.approx(result["calibration_error"], abs=1e-12)


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("p_No", 0),
        ("p_Yes", 1),
        ("proba_yes", 1),
        ("No", 0),
        ("P(Yes)", 1),
        ("prob_no", 0),
        ("score", None),
        ("p_", None),
    ],
)
def test_named_class(column, expected):
    from logloss.tables.scoring import named_class

    assert named_class(column, ["No", "Yes"]) == expected


def test_an_exact_match_wins_over_a_case_blind_one():
    from logloss.tables.scoring import named_class

    assert named_class("p_a", ["A", "a"]) == 1
    assert named_class("p_B", ["b", "c"]) == 0
    assert named_class("p_x", ["X", "x2"]) == 0


def test_the_cli_table_shows_the_majority_accuracy_and_flags_a_model_no_better(scored):
    from typer.testing import CliRunner

    from logloss.cli import app

    path, _, _ = scored
    result = CliRunner().invoke(app, ["score", str(path), "-t", "default", "--proba", "p_No"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.replace("│", " ").split())  # the table may wrap a cell
    assert "baseline accuracy" in out and "always predicting No" in out
    assert "top-label ECE" in out and "calibration error" not in out
    assert "no less accurate than the model" in out  # p_Yes < 0.3 everywhere: always "No"
    assert "as the probability of 'No'" in result.stderr
