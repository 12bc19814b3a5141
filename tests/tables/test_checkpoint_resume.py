"""Checkpoints and --resume of ``logloss fit`` (issue #12, findings 1, 5 and 11).

A fit with checkpoints is the fit without them (one solver run; the checkpoints are
written from its callback); a checkpoint with nothing left to train is kept as it is;
Ctrl-C says what was kept, once.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("typer")

from typer.testing import CliRunner  # noqa: E402

import logloss as ll  # noqa: E402
from logloss.cli import app  # noqa: E402

runner = CliRunner()


def _csv(path: Path, n: int = 400, seed: int = 3) -> str:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = np.where(X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(size=n) > 0, "yes", "no")
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["colour"] = rng.choice(["red", "green", "blue"], n)
    df["y"] = y
    df.to_csv(path, index=False)
    return str(path)


def _fit(*args: str, code: int = 0):
    result = runner.invoke(app, ["fit", *args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    return _csv(tmp_path_factory.mktemp("ck") / "d.csv")


# ----------------------------------------------------------------- finding 5


@pytest.mark.parametrize("solver", ["lbfgs", "sgd"])
def test_checkpoints_do_not_change_the_fit(tmp_path, data, solver):
    common = ["-t", "y", "--solver", solver, "--max-iter", "60"]
    _fit(data, *common, "-o", str(tmp_path / "plain.npz"))
    ck = tmp_path / "ck.npz"
    _fit(data, *common, "-o", str(tmp_path / "ck_run.npz"), "--checkpoint", str(ck),
         "--checkpoint-every", "3")  # fmt: skip
    plain, checked = ll.load(tmp_path / "plain.npz"), ll.load(tmp_path / "ck_run.npz")
    # the same iterations, the same path, the same model
    assert checked.n_iter_ == plain.n_iter_
    np.testing.assert_array_equal(checked.loss_curve_, plain.loss_curve_)
    np.testing.assert_array_equal(checked.coef_, plain.coef_)
    np.testing.assert_array_equal(checked.intercept_, plain.intercept_)
    # the checkpoint at the end is that model too
    np.testing.assert_array_equal(ll.load(ck).coef_, plain.coef_)


def test_a_checkpoint_written_during_the_fit_is_the_model_of_that_iteration(
    tmp_path, data, monkeypatch
):
    from logloss.tables import checkpoint

    saved = []

    def recording_save(model, path, metadata=None):
        saved.append((model.n_iter_, model.coef_.copy(), list(model.loss_curve_)))
        return ll.save(model, path, metadata=metadata)

    monkeypatch.setattr(checkpoint, "save", recording_save)
    # gd's iterates do not depend on how many iterations are allowed: the checkpoint
    # of iteration 6 in a 9-iteration run is the model a 6-iteration fit gives
    common = ["-t", "y", "--solver", "gd", "--tol", "0"]
    result = _fit(data, *common, "--max-iter", "9", "-o", str(tmp_path / "m9.npz"),
                  "--checkpoint", str(tmp_path / "ck.npz"), "--checkpoint-every", "6")  # fmt: skip
    assert "Checkpoint: 6 of 9 iterations" in result.output
    assert [n for n, _, _ in saved] == [6, 9]
    _fit(data, *common, "--max-iter", "6", "-o", str(tmp_path / "m6.npz"))
    m6 = ll.load(tmp_path / "m6.npz")
    np.testing.assert_array_equal(saved[0][1], m6.coef_)
    np.testing.assert_array_equal(saved[0][2], m6.loss_curve_)


# ----------------------------------------------------------------- finding 1


@pytest.fixture(scope="module")
def long_checkpoint(tmp_path_factory, data) -> Path:
    """A finished, unconverged gd checkpoint of 120 iterations (more than the default 100)."""
    folder = tmp_path_factory.mktemp("long")
    ck = folder / "ck.npz"
    _fit(data, "-t", "y", "--solver", "gd", "--tol", "0", "--max-iter", "120",
         "-o", str(folder / "m.npz"), "--checkpoint", str(ck),
         "--checkpoint-every", "50")  # fmt: skip
    return ck


@pytest.mark.parametrize("max_iter", [["--max-iter", "80"], ["--max-iter", "120"], []])
def test_resuming_a_checkpoint_with_nothing_left_keeps_its_model(
    tmp_path, data, long_checkpoint, max_iter
):
    out = tmp_path / "resumed.npz"
    result = _fit(data, "-t", "y", "--solver", "gd", "--tol", "0", *max_iter, "-o", str(out),
                  "--resume", str(long_checkpoint))  # fmt: skip
    assert "AttributeError" not in result.output
    assert "Nothing left to train in the checkpoint: it has 120 iterations" in result.output
    assert "its model is kept as it is" in result.output
    kept, before = ll.load(out), ll.load(long_checkpoint)
    assert kept.n_iter_ == 120
    np.testing.assert_array_equal(kept.coef_, before.coef_)
    X = np.zeros((1, before.n_features_in_))
    np.testing.assert_array_equal(kept.predict_proba(X), before.predict_proba(X))


def test_resuming_a_converged_checkpoint_keeps_its_model(tmp_path, data):
    ck = tmp_path / "ck.npz"
    _fit(data, "-t", "y", "-o", str(tmp_path / "m.npz"), "--checkpoint", str(ck))
    converged = ll.load(ck)
    assert converged.n_iter_ < 100
    result = _fit(data, "-t", "y", "-o", str(tmp_path / "r.npz"), "--max-iter", "500",
                  "--resume", str(ck))  # fmt: skip
    assert f"its fit converged after {converged.n_iter_} iterations" in result.output
    np.testing.assert_array_equal(ll.load(tmp_path / "r.npz").coef_, converged.coef_)


def test_resuming_an_unfinished_checkpoint_trains_on(tmp_path, data, long_checkpoint):
    out = tmp_path / "more.npz"
    result = _fit(data, "-t", "y", "--solver", "gd", "--tol", "0", "--max-iter", "130",
                  "-o", str(out), "--resume", str(long_checkpoint))  # fmt: skip
    assert "Resuming from the checkpoint: 120 of 130 iterations done." in result.output
    more = ll.load(out)
    assert more.n_iter_ == 130 and len(more.loss_curve_) == 130
    assert more.loss_curve_[-1] <= ll.load(long_checkpoint).loss_curve_[-1]


# ----------------------------------------------------------------- finding 11


def _interrupt_minibatch(monkeypatch, at_call: int) -> None:
    """Ctrl-C inside the `at_call`-th mini-batch of the MLP's objective."""
    from logloss.objectives import MLPObjective

    original = MLPObjective.minibatch
    calls = {"n": 0}

    def minibatch(self, theta, rows):
        calls["n"] += 1
        if calls["n"] == at_call:
            raise KeyboardInterrupt
        return original(self, theta, rows)

    monkeypatch.setattr(MLPObjective, "minibatch", minibatch)


MLP = ["-t", "y", "--model", "mlp", "--hidden", "4", "--max-iter", "50"]


def test_ctrl_c_on_an_mlp_says_what_it_kept_once(tmp_path, data, monkeypatch):
    # 320 training rows in batches of 200: two mini-batches an epoch; call 6 is in epoch 3
    _interrupt_minibatch(monkeypatch, at_call=6)
    ck = tmp_path / "ck.npz"
    result = _fit(data, *MLP, "-o", str(tmp_path / "m.npz"), "--checkpoint", str(ck),
                  "--checkpoint-every", "1", code=130)  # fmt: skip
    text = " ".join(result.output.split())
    assert "after 2 iterations; keeping the best parameters found so far (loss " in text
    loss = float(re.search(r"found so far \(loss ([0-9.e+-]+)\)", text).group(1))
    assert np.isfinite(loss)
    assert "inf" not in text.replace("information", "")
    assert text.count("(interrupted) saved to") == 1
    model, meta = ll.load(ck, with_metadata=True)
    assert model.n_iter_ == 2 and meta["checkpoint"]["finished"] is False


def test_ctrl_c_in_the_first_epoch_keeps_the_starting_parameters(tmp_path, data, monkeypatch):
    _interrupt_minibatch(monkeypatch, at_call=1)
    result = _fit(data, *MLP, "-o", str(tmp_path / "m.npz"), code=130)
    text = " ".join(result.output.split())
    assert "after 0 iterations; keeping the starting parameters" in text
    assert "loss inf" not in text
