"""``logloss fit``: its new options and what its output says (issue #12: 9, 12, 16, 18, 19)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("typer")

from typer.testing import CliRunner  # noqa: E402

import logloss as ll  # noqa: E402
from logloss.cli import app  # noqa: E402

runner = CliRunner()


def _one_line_error(result) -> str:
    """The single `Error: ...` line a user mistake must produce, with nothing on stdout."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def _csv(path: Path, n: int = 400, rare: float | None = None, text: bool = True) -> str:
    """Four numeric features (and a text one); with `rare`, a class of that share that
    the features hardly predict (a Caravan in miniature)."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(n, 4))
    if rare is None:
        y = np.where(X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(size=n) > 0, "yes", "no")
    else:
        y = np.where(rng.random(n) < rare * (1 + 0.3 * np.tanh(X[:, 0])), "yes", "no")
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    if text:
        df["colour"] = rng.choice(["red", "green", "blue"], n)
    df["y"] = y
    df.to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    return _csv(tmp_path_factory.mktemp("opts") / "d.csv")


def _fit(*args: str):
    result = runner.invoke(app, ["fit", *args])
    assert result.exit_code == 0, result.output
    return result


# ----------------------------------------------------------------- finding 16


@pytest.mark.parametrize(
    "options,params",
    [
        (["--class-weight", "balanced"], {"class_weight": "balanced"}),
        (["--penalty", "l1", "--solver", "gd"], {"penalty": "l1", "solver": "gd"}),
        (
            ["--penalty", "elasticnet", "--l1-ratio", "0.25", "--solver", "sgd"],
            {"penalty": "elasticnet", "l1_ratio": 0.25},
        ),
        (["--penalty", "none"], {"penalty": None}),
        (["--tol", "1e-7"], {"tol": 1e-7}),
        (["--early-stopping", "--solver", "sgd"], {"early_stopping": True}),
        (["--model", "mlp", "--hidden", "3", "--early-stopping"], {"early_stopping": True}),
    ],
)
def test_fit_options_reach_the_model_and_its_file(tmp_path, data, options, params):
    out = tmp_path / "m.npz"
    _fit(data, "-t", "y", "-o", str(out), "--max-iter", "30", *options)
    model, meta = ll.load(out, with_metadata=True)
    for key, value in params.items():
        assert model[-1].get_params()[key] == value  # the estimator after its preprocessing
    settings = meta["training"]["settings"]
    given = dict(zip(options[::1], options[1:] + [""], strict=False))
    if "--class-weight" in given:
        assert settings["class_weight"] == "balanced"
    if "--penalty" in given:
        assert settings["penalty"] == given["--penalty"]
    if "--tol" in given:
        assert settings["tol"] == 1e-7
    assert settings["early_stopping"] is ("--early-stopping" in options)


def test_l1_from_the_command_line_gives_zeros(tmp_path):
    data = _csv(tmp_path / "d.csv", n=600)
    out = tmp_path / "m.npz"
    _fit(data, "-t", "y", "-o", str(out), "--penalty", "l1", "--solver", "gd", "--C", "0.02",
         "--max-iter", "500")  # fmt: skip
    assert np.count_nonzero(ll.load(out).coef_ == 0.0) >= 1


@pytest.mark.parametrize(
    "options,expected",
    [
        (["--penalty", "l1"], "'--penalty': l1 needs --solver gd or sgd (proximal steps); "
         "got the default solver lbfgs"),
        (["--penalty", "elasticnet", "--solver", "adam"], "got --solver adam"),
        (["--penalty", "l2", "--model", "mlp"], "'--penalty': applies to --model logistic"),
        (["--l1-ratio", "0.5"], "'--l1-ratio': applies only with --penalty elasticnet"),
        (["--l1-ratio", "1.5", "--penalty", "elasticnet"], "'--l1-ratio'"),
        (["--early-stopping"], "'--early-stopping': needs --solver sgd or adam; got the "
         "default solver lbfgs"),
        (["--model", "mlp", "--solver", "lbfgs", "--early-stopping"], "got --solver lbfgs"),
        (["--tol", "-1"], "'--tol'"),
        (["--class-weight", "heavy"], "'--class-weight'"),
    ],
)  # fmt: skip
def test_bad_fit_options_are_one_sentence_and_exit_2(tmp_path, data, options, expected):
    line = _one_line_error(
        runner.invoke(app, ["fit", data, "-t", "y", "-o", str(tmp_path / "m.npz"), *options])
    )
    assert expected in line
    assert not (tmp_path / "m.npz").exists()


# ----------------------------------------------------------------- findings 9 and 12


def test_the_scores_table_shows_the_majority_baseline_and_flags_a_useless_model(tmp_path):
    data = _csv(tmp_path / "rare.csv", n=1000, rare=0.06, text=False)
    result = _fit(data, "-t", "y", "-o", str(tmp_path / "m.npz"))
    y = pd.read_csv(data)["y"]
    assert "majority" in result.stdout and "top-label" in result.stdout
    assert "always predicting 'no'" in " ".join(result.stdout.split())
    text = " ".join(result.stdout.split())
    assert "held-out accuracy" in text and "is not above the" in text
    assert "--class-weight balanced" in text
    _, meta = ll.load(tmp_path / "m.npz", with_metadata=True)
    held = meta["training"]["scores"]["held-out"]
    assert held["majority_class"] == "no"
    assert held["baseline_accuracy"] == pytest.approx(
        1.0 - (y == "yes").mean(), abs=0.02
    )  # the held-out rows are a stratified fifth
    # balanced weights make the rare class found at all
    _fit(data, "-t", "y", "-o", str(tmp_path / "b.npz"), "--class-weight", "balanced")
    model = ll.load(tmp_path / "b.npz")
    X = pd.read_csv(data)[["a", "b", "c", "d"]].to_numpy()
    X = (X - np.median(X, axis=0)) / X.std(axis=0)
    assert (model.predict(X) == "yes").any()


def test_calibration_is_named_top_label_ece_everywhere_in_fit(tmp_path, data):
    result = _fit(data, "-t", "y", "-o", str(tmp_path / "m.npz"), "--calibrate")
    text = " ".join(result.output.split())
    assert "top-label ECE 0." in text  # the temperature line
    assert "calibration error" not in text.replace("expected calibration error", "")
    model, meta = ll.load(tmp_path / "m.npz", with_metadata=True)
    # the temperature line's "after" is the calibration row's number in the table
    after = model.ece_after_
    assert meta["training"]["scores"]["calibration"]["calibration_error"] == pytest.approx(
        after, abs=1e-12
    )


# ----------------------------------------------------------------- finding 18


def test_no_numpy_reprs_in_messages(tmp_path):
    scored = tmp_path / "s.csv"
    scored.write_text("y,p_yes\nyes,0.5\nno,10.91\n")
    line = _one_line_error(
        runner.invoke(app, ["score", str(scored), "-t", "y", "--proba", "p_yes"])
    )
    assert "got 10.91 in row 1" in line and "np." not in line


def test_non_convergence_names_the_cli_option(tmp_path, data):
    result = _fit(data, "-t", "y", "-o", str(tmp_path / "m.npz"), "--solver", "gd",
                  "--max-iter", "2")  # fmt: skip
    text = " ".join(result.stderr.split())
    assert "did not converge in --max-iter 2 iterations; increase --max-iter" in text
    assert "scale the data" not in text and "max_iter=" not in text


# ----------------------------------------------------------------- finding 19


def test_a_model_file_name_must_end_in_npz(tmp_path, data):
    line = _one_line_error(
        runner.invoke(app, ["fit", data, "-t", "y", "-o", str(tmp_path / "x.csv")])
    )
    assert "must end in .npz" in line and "x.csv" in line
    assert not (tmp_path / "x.csv").exists()
    line = _one_line_error(
        runner.invoke(
            app,
            [
                "fit",
                data,
                "-t",
                "y",
                "-o",
                str(tmp_path / "m.npz"),
                "--checkpoint",
                str(tmp_path / "ck"),
            ],
        )  # fmt: skip
    )
    assert "'--checkpoint'" in line


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_model_files_respect_the_umask(tmp_path, data, umask):
    old = os.umask(umask)
    try:
        _fit(data, "-t", "y", "-o", str(tmp_path / "m.npz"), "--checkpoint",
             str(tmp_path / "ck.npz"), "--max-iter", "5")  # fmt: skip
        (tmp_path / "other.txt").write_text("x")
    finally:
        os.umask(old)
    expected = stat.S_IMODE((tmp_path / "other.txt").stat().st_mode)
    assert expected == 0o666 & ~umask
    for name in ("m.npz", "ck.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == expected


def test_describes_only_what_there_is(tmp_path):
    data = _csv(tmp_path / "d.csv", text=False)
    result = _fit(data, "-t", "y", "-o", str(tmp_path / "m.npz"), "--test-size", "0")
    assert "Features: 4 numeric columns standardised: 4 features." in result.stdout
    assert "text column" not in result.stdout and "indicator" not in result.stdout
    assert "Rows: 400 training (no rows held out)." in result.stdout
    assert "stratified" not in result.stdout and "seed" not in result.stdout


def test_majority_warning_advises_class_weights_only_when_not_given():
    from logloss.tables.fit_run import majority_warnings

    scores = {"held-out": {"accuracy": 0.9, "baseline_accuracy": 0.94, "majority_class": "No"}}
    assert "--class-weight balanced" in majority_warnings(scores)[0]
    assert "--class-weight" not in majority_warnings(scores, balanced=True)[0]
    scores["held-out"]["accuracy"] = 0.95
    assert majority_warnings(scores) == []
