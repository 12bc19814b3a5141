"""Every bad input to the commands: one `Error:` sentence on stderr, exit 2, no traceback."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
pytest.importorskip("sklearn")

from typer.testing import CliRunner  # noqa: E402

import logloss as ll  # noqa: E402
from logloss.cli import app  # noqa: E402

runner = CliRunner()


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and lines[0].endswith((".", "?"))
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    rng = np.random.default_rng(0)
    n = 60
    df = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "height": rng.normal(170, 10, n),
            "colour": rng.choice(["a", "b"], n),
            "label": rng.choice(["yes", "no"], n),
        }
    )
    df.to_csv(d / "good.csv", index=False)
    result = runner.invoke(
        app, ["fit", str(d / "good.csv"), "-t", "label", "-o", str(d / "model.npz")]
    )
    assert result.exit_code == 0, result.output
    (d / "empty.csv").write_bytes(b"")
    (d / "header.csv").write_text("age,colour,label\n")
    (d / "data.xlsx").write_text("x")
    df.assign(label="yes").to_csv(d / "oneclass.csv", index=False)
    df.assign(age=np.nan).to_csv(d / "emptycol.csv", index=False)
    df.drop(columns=["colour"]).to_csv(d / "nocolour.csv", index=False)
    df.assign(label=df["age"] / 7.0).to_csv(d / "continuous.csv", index=False)
    (d / "ragged.csv").write_text("a,b\n1,2\n3,4,5\n")
    (d / "corrupt.npz").write_bytes(b"PK\x03\x04garbage")
    np.savez(d / "foreign.npz", x=np.arange(3))
    data = (d / "model.npz").read_bytes()
    (d / "truncated.npz").write_bytes(data[: len(data) // 2])
    (d / "preds.csv").write_text("label,p_yes,p_no\nyes,0.9,0.1\nno,0.2,0.8\nyes,1.5,-0.5\n")
    return d


def p(files, name):
    return str(files / name)


CASES = {
    "missing data file": (
        ["fit", "{missing.csv}", "-t", "label", "-o", "{m.npz}"],
        "does not exist",
    ),
    "empty file": (["fit", "{empty.csv}", "-t", "label", "-o", "{m.npz}"], "is empty"),
    "header only": (["fit", "{header.csv}", "-t", "label", "-o", "{m.npz}"], "no rows"),
    "unknown suffix": (
        ["fit", "{data.xlsx}", "-t", "label", "-o", "{m.npz}"],
        "cannot tell the format",
    ),
    "ragged csv": (["fit", "{ragged.csv}", "-t", "a", "-o", "{m.npz}"], "cannot read"),
    "target missing": (
        ["fit", "{good.csv}", "-t", "lable", "-o", "{m.npz}"],
        "no target column 'lable'; did you mean 'label'?",
    ),
    "single class": (
        ["fit", "{oneclass.csv}", "-t", "label", "-o", "{m.npz}"],
        "single class ('yes')",
    ),
    "empty feature": (
        ["fit", "{emptycol.csv}", "-t", "label", "-o", "{m.npz}"],
        "'age' is entirely empty",
    ),
    "continuous target": (
        ["fit", "{continuous.csv}", "-t", "label", "-o", "{m.npz}"],
        "continuous numbers",
    ),
    "feature typo": (
        ["fit", "{good.csv}", "-t", "label", "--features", "agee", "-o", "{m.npz}"],
        "did you mean 'age'",
    ),
    "bad model": (
        ["fit", "{good.csv}", "-t", "label", "--model", "tree", "-o", "{m.npz}"],
        "--model",
    ),
    "bad C": (["fit", "{good.csv}", "-t", "label", "--C", "0", "-o", "{m.npz}"], "--C"),
    "bad C text": (["fit", "{good.csv}", "-t", "label", "--C", "big", "-o", "{m.npz}"], "--C"),
    "bad test size": (
        ["fit", "{good.csv}", "-t", "label", "--test-size", "1.5", "-o", "{m.npz}"],
        "--test-size",
    ),
    "bad solver": (
        ["fit", "{good.csv}", "-t", "label", "--solver", "magic", "-o", "{m.npz}"],
        "solver 'magic'",
    ),
    "bad hidden": (
        ["fit", "{good.csv}", "-t", "label", "--hidden", "8,x", "-o", "{m.npz}"],
        "--hidden",
    ),
    "hidden for linear": (
        ["fit", "{good.csv}", "-t", "label", "--hidden", "8", "-o", "{m.npz}"],
        "mlp only",
    ),
    "output folder missing": (
        ["fit", "{good.csv}", "-t", "label", "-o", "{no/m.npz}"],
        "does not exist",
    ),
    "no output": (["fit", "{good.csv}", "-t", "label"], "--output"),
    "predict missing column": (
        ["predict", "{model.npz}", "{nocolour.csv}"],
        "lacks 1 column the model was trained on: 'colour'",
    ),
    "predict corrupt model": (
        ["predict", "{corrupt.npz}", "{good.csv}"],
        "not a valid logloss model file",
    ),
    "predict truncated model": (
        ["predict", "{truncated.npz}", "{good.csv}"],
        "not a valid logloss model file",
    ),
    "predict foreign model": (["predict", "{foreign.npz}", "{good.csv}"], "no logloss metadata"),
    "predict text as model": (["predict", "{good.csv}", "{good.csv}"], "not a zip"),
    "predict missing model": (["predict", "{none.npz}", "{good.csv}"], "does not exist"),
    "predict bad output suffix": (
        ["predict", "{model.npz}", "{good.csv}", "-o", "{out.json}"],
        "cannot tell the format",
    ),
    "predict keep typo": (["predict", "{model.npz}", "{good.csv}", "--keep", "lbl"], "--keep"),
    "score no proba": (["score", "{preds.csv}", "-t", "label"], "--proba"),
    "score bad probability": (
        ["score", "{preds.csv}", "-t", "label", "--proba", "p_no,p_yes"],
        "probabilities in [0, 1]",
    ),
    "score missing column": (
        ["score", "{preds.csv}", "-t", "label", "--proba", "p_maybe"],
        "no probability column 'p_maybe'",
    ),
    "score target typo": (
        ["score", "{preds.csv}", "-t", "labl", "--proba", "p_yes"],
        "did you mean 'label'",
    ),
    "score bins": (
        ["score", "{preds.csv}", "-t", "label", "--proba", "p_yes", "--bins", "1"],
        "--bins",
    ),
    "plot history corrupt": (
        ["plot", "history", "{corrupt.npz}", "-o", "{h.png}"],
        "not a valid logloss model file",
    ),
    "plot calibration bad suffix": (
        ["plot", "calibration", "{preds.csv}", "-t", "label", "--proba", "p_yes", "-o", "{c.pdf}"],
        ".png or .svg",
    ),
    "plot boundary needs features": (
        ["plot", "decision-boundary", "{model.npz}", "{good.csv}", "-t", "label", "-o", "{d.png}"],
        "--features",
    ),
    "plot boundary text feature": (
        [
            "plot",
            "decision-boundary",
            "{model.npz}",
            "{good.csv}",
            "-t",
            "label",
            "--features",
            "age,colour",
            "-o",
            "{d.png}",
        ],
        "is text",
    ),
    "explain out of range": (["explain", "6"], "less than or equal to 5"),
    "explain bad format": (["explain", "1", "--format", "gif"], "--format"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_sentence(files, name):
    args, needle = CASES[name]
    argv = [p(files, a[1:-1]) if a.startswith("{") else a for a in args]
    line = one_line_error(runner.invoke(app, argv))
    assert needle in line, line
    assert not (files / "m.npz").exists()


def test_verbose_shows_the_traceback(files):
    result = runner.invoke(
        app, ["--verbose", "predict", p(files, "corrupt.npz"), p(files, "good.csv")]
    )
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: ")


def test_newer_model_file_says_upgrade(files, tmp_path):
    import json

    with np.load(p(files, "model.npz")) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(arrays.pop("__metadata__").tobytes())
    meta["format_version"] = 7
    np.savez(
        tmp_path / "new.npz",
        __metadata__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        **arrays,
    )
    line = one_line_error(
        runner.invoke(app, ["predict", str(tmp_path / "new.npz"), p(files, "good.csv")])
    )
    assert "format version 7" in line and "upgrade logloss" in line


def test_model_without_preprocessing_is_explained(files, tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 2))
    model = ll.LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    ll.save(model, tmp_path / "plain.npz")
    line = one_line_error(
        runner.invoke(app, ["predict", str(tmp_path / "plain.npz"), p(files, "good.csv")])
    )
    assert "holds no preprocessing" in line
