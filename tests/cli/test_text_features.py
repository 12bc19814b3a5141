"""The command line on a table with a 5,000-value column and a free-text column (issue 14):
fit, predict, score, coef, the report and the reload of the model file; bad --text input."""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
pytest.importorskip("sklearn")

from typer.testing import CliRunner  # noqa: E402

import logloss as ll  # noqa: E402
from logloss.cli import app  # noqa: E402

runner = CliRunner()

WORDS = ["late", "delay", "weather", "crew", "fine", "smooth", "early", "bags", "gate", "seat"]


def flights(n=15_000, seed=0):
    rng = np.random.default_rng(seed)
    tails = np.array([f"N{k:04d}" for k in range(5000)])
    # every one of the 5,000 values at least twice, the rest drawn at random
    tail = np.concatenate([np.arange(5000), np.arange(5000), rng.integers(0, 5000, n)])[:n]
    rng.shuffle(tail)
    hour = rng.integers(5, 24, n)
    words = rng.integers(0, len(WORDS), (n, 4))
    notes = [" ".join(WORDS[w] for w in row[: 1 + i % 4]) for i, row in enumerate(words)]
    z = 0.1 * (hour - 14) + 1.5 * (words[:, 0] < 4) - 0.75 + 0.3 * (tail % 5 == 0)
    y = np.where(z + rng.logistic(size=n) > 0, "late", "on_time")
    note = np.array(notes, dtype=object)
    note[rng.random(n) < 0.02] = None
    return pd.DataFrame({"hour": hour, "tail": tails[tail], "note": note, "arrival": y})


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    d = tmp_path_factory.mktemp("text")
    df = flights()
    df.to_csv(d / "train.csv", index=False)
    df.iloc[:500].assign(tail=lambda t: t["tail"].where(t.index % 50 != 0, "NEVER")).to_csv(
        d / "new.csv", index=False
    )
    args = ["fit", str(d / "train.csv"), "-t", "arrival", "-o", str(d / "m.npz")]
    args += ["--text", "note", "--max-iter", "60", "--report", str(d / "report")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return d, df, result


def test_fit_holds_the_design_sparse_and_names_the_features(fitted):
    d, _, result = fitted
    assert "(sparse)" in result.stdout
    assert "1 free-text column as TF-IDF (10 terms)" in result.stdout
    # hour + the training levels of tail but the reference + 10 terms
    meta = ll.model_file.read_metadata(d / "m.npz")["metadata"]
    names, state = meta["feature_names"], meta["preprocessing"]
    levels = state["categorical"]["tail"]["categories"]
    assert len(levels) > 4500 and len(names) == 1 + len(levels) - 1 + 10
    assert names[0] == "hour" and names[1].startswith("tail=N") and names[-1] == "note:weather"
    assert state["format_version"] == 3 and state["text"]["note"]["terms"][0] == "bags"
    assert len(state["text"]["note"]["idf"]) == 10


def test_the_model_file_holds_no_pickle(fitted):
    d, _, _ = fitted
    with zipfile.ZipFile(d / "m.npz") as zf:
        for name in zf.namelist():
            if name.endswith(".npy"):
                np.load(zf.open(name), allow_pickle=False)
            else:
                json.loads(zf.read(name))


def test_predict_score_and_reload_agree(fitted):
    d, _, _ = fitted
    out = d / "p.csv"
    result = runner.invoke(
        app,
        [
            "predict",
            str(d / "m.npz"),
            str(d / "new.csv"),
            "--proba",
            "--keep",
            "arrival",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "not seen in training" in result.stderr and "'NEVER'" in result.stderr
    predicted = pd.read_csv(out)
    assert len(predicted) == 500 and list(predicted.columns) == ["arrival", "p_late", "p_on_time"]
    new = pd.read_csv(d / "new.csv")
    with pytest.warns(UserWarning, match="NEVER"):
        proba = ll.load(d / "m.npz").predict_proba(new)
    np.testing.assert_allclose(proba, predicted[["p_late", "p_on_time"]].to_numpy(), atol=1e-12)
    score = runner.invoke(app, ["score", str(out), "-t", "arrival", "--labels-from-columns"])
    assert score.exit_code == 0, score.output
    labels = runner.invoke(app, ["predict", str(d / "m.npz"), str(d / "new.csv")])
    assert labels.exit_code == 0
    assert set(labels.stdout.split()[1:]) <= {"late", "on_time"}


def test_coef_and_the_report_show_the_largest_coefficients_by_name(fitted):
    d, _, _ = fitted
    result = runner.invoke(app, ["coef", str(d / "m.npz"), "--top", "5", "--json"])
    assert result.exit_code == 0, result.output
    coefficients = json.loads(result.stdout)["coefficients"]
    sizes = [max(abs(v) for v in values) for values in coefficients.values()]
    assert sizes == sorted(sizes, reverse=True) and "note:late" in coefficients
    table = runner.invoke(app, ["coef", str(d / "m.npz"), "--top", "3"])
    assert f"3 largest of {len(coefficients)}" in table.stdout
    html = (d / "report" / "index.html").read_text()
    assert all(name in html for name in list(coefficients)[:5])
    assert f"largest of {len(coefficients)}" in html


def test_hashing_from_the_command_line(tmp_path):
    df = flights(n=12_000, seed=1)
    df.to_csv(tmp_path / "t.csv", index=False)
    args = ["fit", str(tmp_path / "t.csv"), "-t", "arrival", "-o", str(tmp_path / "h.npz")]
    args += ["--hash-features", "256", "--drop", "note", "--max-iter", "30"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 text column hashed (256 columns each)" in result.stdout
    meta = ll.model_file.read_metadata(tmp_path / "h.npz")["metadata"]
    assert meta["preprocessing"]["hashed"]["tail"]["n_features"] == 256
    result = runner.invoke(app, ["predict", str(tmp_path / "h.npz"), str(tmp_path / "t.csv")])
    assert result.exit_code == 0 and "not seen" not in result.stderr


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hours", "--text names 'hours', which is not a column of .*did you mean 'hour'"),
        ("hour", "--text names 'hour', a numeric column"),
        ("empty", "'empty' is entirely empty"),
        ("letters", "'letters' holds no word"),
        ("arrival", "--text names the target column 'arrival'"),
    ],
)
def test_bad_text_options_are_one_sentence_and_exit_2(tmp_path, text, message):
    df = flights(n=200).drop(columns="note")
    df["tail"] = df["tail"].str[:2]
    if text in ("empty", "letters"):
        df[text] = None if text == "empty" else "a"
    df.to_csv(tmp_path / "t.csv", index=False)
    args = ["fit", str(tmp_path / "t.csv"), "-t", "arrival", "-o", str(tmp_path / "m.npz")]
    result = runner.invoke(app, [*args, "--text", text])
    assert re.search(message, one_line_error(result))
