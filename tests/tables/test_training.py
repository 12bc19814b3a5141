"""Training on a table: logloss.tables.training, .checkpoint and .fit_run."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
pytest.importorskip("rich")

import logloss as ll  # noqa: E402
from logloss.tables import (  # noqa: E402
    FitJob,
    FitSettings,
    OptionError,
    calibrate_prepared,
    fit_prepared,
    make_estimator,
    model_metadata,
    prepare_training,
    run_fit,
)


def _table(n=200, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["u", "v", "w"], n)})
    df["y"] = np.where(df["x"] + (df["c"] == "u") + 0.5 * rng.normal(size=n) > 0.3, "b", "a")
    return df


def _consoles():
    from rich.console import Console

    out, err = io.StringIO(), io.StringIO()
    return (
        Console(file=out, highlight=False, soft_wrap=True),
        Console(file=err, highlight=False, soft_wrap=True),
        out,
        err,
    )


def test_make_estimator_maps_the_options():
    est = make_estimator("mlp", C=100.0, hidden_layer_sizes=[8], solver="lbfgs", max_iter=5)
    params = est.get_params()
    assert isinstance(est, ll.MLPClassifier) and params["alpha"] == 0.01
    assert params["hidden_layer_sizes"] == (8,) and params["max_iter"] == 5
    assert make_estimator("softmax", C=0.5).get_params()["C"] == 0.5
    with pytest.raises(ValueError, match="solver 'newton' does not train a mlp model"):
        make_estimator("mlp", solver="newton")
    with pytest.raises(ValueError, match="apply to --model mlp only"):
        make_estimator("logistic", hidden_layer_sizes=[3])
    with pytest.raises(ValueError, match="`model` must be one of"):
        make_estimator("tree")


def test_prepare_training_splits_and_encodes():
    prepared = prepare_training(_table(), "y", test_size=0.25, calibrate=True, seed=1)
    assert list(prepared.X) == ["training", "calibration", "held-out"]
    assert sum(y.size for y in prepared.y.values()) == 200 and prepared.y["held-out"].size == 50
    assert prepared.X["training"].shape[1] == 3  # x and two indicators (one level is the reference)
    assert prepared.classes.tolist() == ["a", "b"] and prepared.prior.sum() == pytest.approx(1)


def test_calibrating_a_fitted_estimator_does_not_refit_it():
    prepared = prepare_training(_table(), "y", calibrate=True)
    estimator = make_estimator("logistic")
    model, notes = fit_prepared(prepared, estimator)
    assert isinstance(model, ll.TemperatureScaling) and model.estimator is estimator
    assert notes[0].startswith("Temperature scaling on 32 calibration rows: T = ")
    coef = estimator.coef_
    again, _ = calibrate_prepared(prepared, estimator)
    assert estimator.coef_ is coef  # the same fitted arrays: no second fit
    assert again.temperature_ == pytest.approx(model.temperature_)
    assert "fit" not in vars(estimator)  # nothing patched onto the instance
    plain = prepare_training(_table(), "y")
    assert calibrate_prepared(plain, estimator) == (estimator, [])


def test_model_metadata_is_plain_json():
    prepared = prepare_training(_table(), "y", test_size=0.0)
    meta = model_metadata(prepared, {}, source="t.csv", settings=FitSettings().as_dict())
    assert json.loads(json.dumps(meta)) == meta
    assert meta["target"] == {"name": "y", "classes": ["a", "b"], "kind": "text"}
    assert meta["training"]["settings"]["model"] == "logistic"


def test_fit_settings_record_the_options_as_given():
    settings = FitSettings(model="mlp", hidden="8, 4", drop=["id"])
    assert settings.hidden_layer_sizes == [8, 4]
    assert settings.as_dict() == {
        "model": "mlp",
        "features": None,
        "drop": ["id"],
        "test_size": 0.2,
        "C": None,
        "solver": None,
        "max_iter": None,
        "hidden": "8, 4",  # as written, so that --resume compares what the user typed
        "calibrate": False,
        "seed": 0,
        "class_weight": None,
        "penalty": None,
        "l1_ratio": None,
        "tol": None,
        "early_stopping": False,
    }
    with pytest.raises(OptionError, match="comma-separated layer widths") as caught:
        FitSettings(hidden="8,x").hidden_layer_sizes  # noqa: B018
    assert caught.value.option == "--hidden"


def test_run_fit_prints_saves_and_checkpoints(tmp_path):
    _table().to_csv(tmp_path / "t.csv", index=False)
    out, err, said, noted = _consoles()
    job = FitJob(
        data=str(tmp_path / "t.csv"),
        target="y",
        output=tmp_path / "m.npz",
        settings=FitSettings(solver="gd", max_iter=6),
        checkpoint=tmp_path / "ck.npz",
        checkpoint_every=4,
    )
    outcome = run_fit(job, out=out, err=err)
    assert outcome.path == tmp_path / "m.npz" and not outcome.interrupted
    lines = said.getvalue().splitlines()
    assert lines[0].startswith("Read '") and "200 rows × 3 columns" in lines[0]
    assert "Rows: 160 training, 40 held-out (stratified split, seed 0)." in lines
    assert lines[-1].startswith("Done in ")
    notes = noted.getvalue()
    assert "Checkpoint: 4 of 6 iterations" in notes and "Checkpoint: 6 iterations (done)" in notes
    model, meta = ll.load(tmp_path / "m.npz", with_metadata=True)
    assert model.n_iter_ == 6 and meta["training"]["settings"]["max_iter"] == 6
    _, ck = ll.load(tmp_path / "ck.npz", with_metadata=True)
    assert ck["checkpoint"] == {"iterations": 6, "max_iter": 6, "finished": True}
    assert outcome.scores == meta["training"]["scores"]


def test_run_fit_checks_the_outputs_before_reading(tmp_path):
    out, err, said, _ = _consoles()
    job = FitJob(data=str(tmp_path / "absent.csv"), target="y", output=tmp_path / "no" / "m.npz")
    with pytest.raises(FileNotFoundError, match="cannot write model file"):
        run_fit(job, out=out, err=err)
    assert said.getvalue() == ""
