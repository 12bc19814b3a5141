"""`logloss fit`, `predict`, `score`, `plot` and `explain` through CliRunner, and end to end.

One small table (string labels, a text column, missing values) is fitted once per
module; the tests read the model file and the outputs it leads to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

from svg_figure import read_axes, svg_text_rc  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import logloss as ll  # noqa: E402
from logloss.cli import app  # noqa: E402

runner = CliRunner()
SCRIPT = Path(sys.executable).with_name("logloss")


def make_table(n=400, seed=1, classes=("ham", "spam")):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(2.0, 3.0, size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    z = 2.0 * x1 - 0.6 * x2 + np.where(colour == "red", 1.5, 0.0) + 0.5
    if len(classes) == 2:
        y = np.where(z + rng.logistic(size=n) > 0, classes[1], classes[0])
    else:
        cut = np.quantile(z, [1 / 3, 2 / 3])
        y = np.asarray(classes)[np.digitize(z + 0.3 * rng.normal(size=n), cut)]
    df = pd.DataFrame({"id": np.arange(n), "x1": x1, "x2": x2, "colour": colour, "label": y})
    df.loc[rng.choice(n, min(20, n // 5), replace=False), "x1"] = np.nan
    df.loc[rng.choice(n, min(8, n // 10), replace=False), "colour"] = None
    return df


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    make_table().to_csv(folder / "train.csv", index=False)
    result = runner.invoke(
        app,
        [
            "fit",
            str(folder / "train.csv"),
            "--target",
            "label",
            "--drop",
            "id",
            "-o",
            str(folder / "model.npz"),
            "--report",
            str(folder / "report"),
            "--seed",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    return folder, result


def test_fit_prints_the_scores_and_notes(work):
    _, result = work
    out = result.stdout
    assert "train.csv': 400 rows × 5 columns" in out
    assert "Target 'label': 2 classes" in out
    assert (
        "2 numeric columns standardised, 1 text column one-hot encoded (2 indicators, the most "
        "frequent level of each as reference)" in out
    )
    assert "missing numeric value" in out and "training median" in out
    assert "Rows: 320 training, 80 held-out (stratified split, seed 3)" in out
    for word in ("training", "held-out", "log loss", "baseline", "accuracy", "ROC AUC"):
        assert word in out
    assert "saved to" in out and "Report:" in out


def test_fit_model_file_carries_the_preprocessing(work):
    folder, _ = work
    model, meta = ll.load(folder / "model.npz", with_metadata=True)
    assert isinstance(model[-1], ll.LogisticRegression)  # after its TablePreprocessor
    assert model.classes_.tolist() == ["ham", "spam"] and model.verbose == 0
    assert meta["feature_names"] == ["x1", "x2", "colour=green", "colour=red"]  # blue: reference
    assert meta["target"] == {"name": "label", "classes": ["ham", "spam"], "kind": "text"}
    assert meta["preprocessing"]["columns"] == ["x1", "x2", "colour"]
    scores = meta["training"]["scores"]
    assert set(scores) == {"training", "held-out"}
    assert scores["held-out"]["accuracy"] > 0.7
    assert scores["held-out"]["log_loss"] < scores["held-out"]["baseline_log_loss"]
    assert meta["training"]["settings"]["seed"] == 3


def test_fit_table_matches_a_direct_evaluation(work):
    """The printed held-out log loss is the library's log loss of the saved model."""
    folder, result = work
    model, meta = ll.load(folder / "model.npz", with_metadata=True)
    from logloss.tables import Preprocessor, encode_target, read_table, train_test_rows

    df = read_table(folder / "train.csv")
    tgt = encode_target(df["label"])
    _, test = train_test_rows(tgt.y, 0.2, 3)
    pre = Preprocessor.from_dict(meta["preprocessing"])
    X, _ = pre.transform(df, tgt.rows[test])
    expected = ll.metrics.log_loss(tgt.y[test], model[-1].predict_proba(X))
    assert meta["training"]["scores"]["held-out"]["log_loss"] == pytest.approx(expected, rel=1e-12)
    assert f"{expected:.4f}" in result.stdout


def test_predict_labels_to_stdout_in_row_order(work):
    folder, _ = work
    result = runner.invoke(
        app, ["predict", str(folder / "model.npz"), str(folder / "train.csv"), "--keep", "id"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "id,prediction"
    assert [int(line.split(",")[0]) for line in lines[1:]] == list(range(400))
    assert {line.split(",")[1] for line in lines[1:]} <= {"ham", "spam"}
    assert "Imputed 20 missing numeric values" in result.stderr


def test_predict_proba_to_files(work):
    from logloss.tables import read_table

    folder, _ = work
    for suffix in (".csv", ".tsv", ".parquet"):
        out = folder / f"p{suffix}"
        result = runner.invoke(
            app,
            [
                "predict",
                str(folder / "model.npz"),
                str(folder / "train.csv"),
                "--proba",
                "-o",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
        df = read_table(out)
        assert list(df.columns) == ["p_ham", "p_spam"] and len(df) == 400
        np.testing.assert_allclose(df["p_ham"] + df["p_spam"], 1.0)
    model = ll.load(folder / "model.npz")
    direct = read_table(folder / "p.csv")["p_spam"].to_numpy()
    assert np.all((direct > 0) & (direct < 1))
    assert "Wrote 400 probabilities" in result.stderr
    assert model.classes_[1] == "spam"


def test_predict_reads_stdin(work):
    folder, _ = work
    data = (folder / "train.csv").read_bytes()
    result = runner.invoke(app, ["predict", str(folder / "model.npz"), "-"], input=data)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 401


def test_predict_warns_about_unseen_categories(work, tmp_path):
    folder, _ = work
    df = make_table(n=10, seed=9).drop(columns=["label"])
    df.loc[[0, 3], "colour"] = "purple"
    df.to_csv(tmp_path / "new.csv", index=False)
    result = runner.invoke(app, ["predict", str(folder / "model.npz"), str(tmp_path / "new.csv")])
    assert result.exit_code == 0, result.output
    assert "2 categories not seen in training were encoded as the most frequent" in result.stderr
    assert "'purple'" in result.stderr
    assert len(result.stdout.splitlines()) == 11


def test_score_labels_from_columns_and_json(work, tmp_path):
    folder, _ = work
    preds = tmp_path / "preds.csv"
    result = runner.invoke(
        app,
        [
            "predict",
            str(folder / "model.npz"),
            str(folder / "train.csv"),
            "--proba",
            "--keep",
            "label",
            "-o",
            str(preds),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["score", str(preds), "--target", "label", "--labels-from-columns", "--json"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    df = pd.read_csv(preds)
    assert scores["n"] == 400 and scores["classes"] == ["ham", "spam"]
    assert scores["log_loss"] == pytest.approx(
        ll.metrics.log_loss(df["label"], df[["p_ham", "p_spam"]].to_numpy()), rel=1e-12
    )
    assert scores["brier"] == pytest.approx(
        ll.metrics.brier_score(df["label"], df["p_spam"].to_numpy()), rel=1e-12
    )
    # One column is the probability of the second class: the same scores.
    one = runner.invoke(app, ["score", str(preds), "-t", "label", "--proba", "p_spam", "--json"])
    assert json.loads(one.stdout)["log_loss"] == pytest.approx(scores["log_loss"], rel=1e-12)
    # One p_<class> column named by --labels-from-columns: the probability of that class.
    named = runner.invoke(
        app,
        ["score", str(preds), "-t", "label", "--proba", "p_ham", "--labels-from-columns", "--json"],
    )
    named = json.loads(named.stdout)
    assert named["classes"] == ["spam", "ham"]
    assert named["log_loss"] == pytest.approx(scores["log_loss"], rel=1e-12)
    table = runner.invoke(app, ["score", str(preds), "-t", "label", "--proba", "p_ham,p_spam"])
    assert table.exit_code == 0
    for word in ("log loss", "accuracy", "Brier score", "top-label ECE", "ROC AUC"):
        assert word in table.stdout


def test_score_any_models_probabilities_multiclass(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    logits = 2.0 * np.eye(3)[y] + rng.normal(size=(300, 3))
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    df = pd.DataFrame({"truth": y, "a": P[:, 0], "b": P[:, 1], "c": P[:, 2]})
    df.to_parquet(tmp_path / "s.parquet")
    result = runner.invoke(
        app,
        ["score", str(tmp_path / "s.parquet"), "--target", "truth", "--proba", "a,b,c", "--json"],
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["roc_auc"] is None and scores["classes"] == [0, 1, 2]
    assert scores["log_loss"] == pytest.approx(ll.metrics.log_loss(y, P), rel=1e-12)


def test_fit_other_models_and_calibration(tmp_path):
    make_table(n=300, seed=4, classes=("a", "b", "c")).to_csv(tmp_path / "t.csv", index=False)
    for args, kind in (
        (["--model", "softmax", "--C", "0.5"], ll.SoftmaxRegression),
        (
            ["--model", "mlp", "--hidden", "8", "--solver", "lbfgs", "--max-iter", "60"],
            ll.MLPClassifier,
        ),
        (["--calibrate", "--test-size", "0.3"], ll.TemperatureScaling),
    ):
        out = tmp_path / "m.npz"
        result = runner.invoke(
            app,
            ["fit", str(tmp_path / "t.csv"), "-t", "label", "--drop", "id", "-o", str(out), *args],
        )
        assert result.exit_code == 0, result.output
        model = ll.load(out)
        assert isinstance(model[-1], kind)
        assert model.classes_.tolist() == ["a", "b", "c"]
    assert "Temperature scaling on" in result.stderr
    assert "calibration" in result.stdout  # the calibration rows get their own line


@pytest.fixture
def svg_text():
    """SVG files keep their strings as <text>, so a test can read what a figure says."""
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none"}):
        yield


def test_plot_commands_draw_what_the_data_says(work, tmp_path, svg_text):
    folder, _ = work
    preds = tmp_path / "preds.csv"
    runner.invoke(
        app,
        [
            "predict",
            str(folder / "model.npz"),
            str(folder / "train.csv"),
            "--proba",
            "--keep",
            "label",
            "-o",
            str(preds),
        ],
    )
    commands = {
        "history": ["plot", "history", str(folder / "model.npz"), "-o", str(tmp_path / "h.svg")],
        "calibration": [
            "plot",
            "calibration",
            str(preds),
            "-t",
            "label",
            "--labels-from-columns",
            "-o",
            str(tmp_path / "c.svg"),
            "--bins",
            "8",
        ],
        "boundary": [
            "plot",
            "decision-boundary",
            str(folder / "model.npz"),
            str(folder / "train.csv"),
            "-t",
            "label",
            "--features",
            "x1,x2",
            "--resolution",
            "40",
            "-o",
            str(tmp_path / "d.svg"),
        ],
        "boundary-png": [
            "plot",
            "decision-boundary",
            str(folder / "model.npz"),
            str(folder / "train.csv"),
            "-t",
            "label",
            "--features",
            "x1,x2",
            "--resolution",
            "40",
            "-o",
            str(tmp_path / "d.png"),
        ],
    }
    for cmd in commands.values():
        result = runner.invoke(app, cmd)
        assert result.exit_code == 0, result.output
        assert result.stdout == f"Wrote {cmd[cmd.index('-o') + 1]}\n"
    assert (tmp_path / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = ll.load(folder / "model.npz")
    table = pd.read_csv(folder / "train.csv")
    proba = pd.read_csv(preds)

    # history: one marker per iteration of the saved model, and its final loss
    (hist,) = read_axes(tmp_path / "h.svg")
    curve = model.loss_curve_
    assert "Training history of LogisticRegression" in hist.texts
    assert {"iteration", "mean cross-entropy + penalty"} <= set(hist.texts)
    assert f"{len(curve)} iterations, final {curve[-1]:.4g}" in hist.texts
    assert hist.legend == ["training objective (cross-entropy + penalty)"]
    assert hist.line_markers == [len(curve)]

    # calibration: the top-label ECE `logloss score` computes, one point per non-empty bin,
    # 8 bars
    reliability, counts = read_axes(tmp_path / "c.svg")
    scored = runner.invoke(
        app, ["score", str(preds), "-t", "label", "--labels-from-columns", "--bins", "8", "--json"]
    )
    ece = json.loads(scored.stdout)["calibration_error"]
    assert f"Calibration: top-label ECE {ece:.3f}" in reliability.texts
    assert "observed frequency of spam" in reliability.texts
    assert "predicted probability of spam" in counts.texts and "count" in counts.texts
    assert reliability.legend == ["perfectly calibrated", "model"]
    used = np.count_nonzero(np.histogram(proba["p_spam"], bins=8, range=(0.0, 1.0))[0])
    assert reliability.line_markers == [0, used]  # the diagonal has no markers
    assert counts.bars == 8

    # decision boundary: the two columns on the axes, every complete row as a point
    regions, colourbar = read_axes(tmp_path / "d.svg")
    assert "Decision regions of LogisticRegression" in regions.texts
    assert {"x1", "x2"} <= set(regions.texts)
    assert regions.legend[-2:] == ["ham", "spam"]  # under a title: rows drawn, held values
    assert regions.legend[0] == f"all {regions.points} rows drawn"
    assert regions.legend[1].startswith("other features held at: colour = ")
    assert regions.points == int(table[["x1", "x2"]].notna().all(axis=1).sum())
    assert colourbar.texts == ["P(spam)"]


def test_explain_one_and_save(tmp_path):
    result = runner.invoke(
        app, ["explain", "3", "--save", str(tmp_path / "figs"), "--format", "svg"]
    )
    assert result.exit_code == 0, result.output
    assert "3. How does it compare with mean squared error?" in result.stdout
    assert "dCE/dz" in result.stdout
    assert [p.name for p in (tmp_path / "figs").iterdir()] == ["3-versus-mse.svg"]


def test_explain_all_five_without_saving(monkeypatch):
    """All five in order; the answers themselves are tested in test_explain.py."""
    from logloss.tutorial import explain

    calls = []
    one = explain.answer(1)

    def fake(number):
        calls.append(number)
        return one

    monkeypatch.setattr(explain, "answer", fake)
    result = runner.invoke(app, ["explain"])
    assert result.exit_code == 0, result.output
    assert calls == [1, 2, 3, 4, 5]
    assert "write them with --save DIR" in result.stdout


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed")
def test_end_to_end_subprocess(tmp_path):
    """fit -> predict -> score -> plot as real processes, on string labels with gaps."""
    make_table(n=300, seed=7).to_csv(tmp_path / "data.csv", index=False)
    env = {**os.environ, "COLUMNS": "120", "MATPLOTLIBRC": str(svg_text_rc(tmp_path))}

    def run(*args):
        proc = subprocess.run(
            [str(SCRIPT), *args], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
        )
        assert proc.returncode == 0, proc.stderr
        return proc

    fit = run("fit", "data.csv", "--target", "label", "--drop", "id", "-o", "model.npz")
    assert "held-out" in fit.stdout
    run("predict", "model.npz", "data.csv", "--proba", "--keep", "label", "-o", "preds.csv")
    score = run("score", "preds.csv", "--target", "label", "--labels-from-columns", "--json")
    assert json.loads(score.stdout)["n"] == 300
    run("plot", "calibration", "preds.csv", "-t", "label", "--labels-from-columns", "-o", "cal.svg")
    run("plot", "history", "model.npz", "-o", "hist.png")
    (reliability, counts) = read_axes(tmp_path / "cal.svg")
    assert any(t.startswith("Calibration: top-label ECE ") for t in reliability.texts)
    assert "300 predictions" in reliability.texts
    assert reliability.legend == ["perfectly calibrated", "model"] and counts.bars == 15
    assert (tmp_path / "hist.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    labels = run("predict", "model.npz", "data.csv").stdout.splitlines()
    assert labels[0] == "prediction" and len(labels) == 301


def test_help_imports_no_command_dependencies():
    """`logloss --help` lists every command without importing what the commands need.

    What is imported does not depend on the machine; the time it takes is measured in
    ``benchmarks/bench_cli.py``, never asserted here.
    """
    code = (
        "import sys\n"
        "from logloss.cli import main\n"
        "sys.argv = ['logloss', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('matplotlib', 'numba', 'pandas', 'pyarrow', 'dask', 'torch', 'sklearn')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for command in ("fit", "predict", "score", "explain", "plot", "demo"):
        assert command in proc.stdout
    assert "LOADED []" in proc.stdout, proc.stdout[-400:]


def test_warmup_compiles_into_the_cache_and_reports(tmp_path):
    result = runner.invoke(app, ["warmup", "--dtype", "float64"])
    assert result.exit_code == 0, result.output
    for kernel in ("ce_labels", "ce_probs", "bce_logits", "logistic_loss_grad", "matvec"):
        assert kernel in result.output
    assert "kernels ready in" in result.output
    # a new process finds everything in the cache this one wrote
    proc = subprocess.run(
        [sys.executable, "-m", "logloss.cli", "warmup", "--dtype", "float64"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "0 specialisations compiled" in proc.stdout


def test_warmup_rejects_other_dtypes():
    result = runner.invoke(app, ["warmup", "--dtype", "float16"])
    assert result.exit_code == 2
    assert "float32 or float64" in result.output
