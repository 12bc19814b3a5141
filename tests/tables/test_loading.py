"""``ll.load`` of a model written by ``logloss fit``: the whole pipeline (issue #12, 7 and 8)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
pytest.importorskip("sklearn")
pytest.importorskip("rich")

from typer.testing import CliRunner  # noqa: E402

import logloss as ll  # noqa: E402
from logloss.cli import app  # noqa: E402

OLD = Path(__file__).resolve().parents[1] / "data" / "model-files-0.1.0"
runner = CliRunner()


def make_table(n=150, seed=3):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n).round(4),
            "x2": rng.normal(2.0, 3.0, size=n).round(4),
            "colour": rng.choice(["White", "Black", "Red"], size=n, p=[0.5, 0.3, 0.2]),
        }
    )
    z = 1.5 * df["x1"] - 0.5 * df["x2"] + np.where(df["colour"] == "Red", 1.5, 0.0) + 0.5
    df["label"] = np.where(z + rng.logistic(size=n) > 0, "yes", "no")
    df.loc[[3, 10], "x1"] = np.nan
    df.loc[[5], "colour"] = None
    return df


def _predict_cli(model, data, out):
    result = runner.invoke(app, ["predict", str(model), str(data), "--proba", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return result, pd.read_csv(out)


@pytest.mark.parametrize("extra", [[], ["--calibrate"]])
def test_load_of_a_cli_model_is_a_pipeline_that_predicts_as_logloss_predict(tmp_path, extra):
    from sklearn.pipeline import Pipeline

    df = make_table()
    df.to_csv(tmp_path / "train.csv", index=False)
    new = df.drop(columns="label").iloc[:25].copy()
    new.loc[2, "colour"] = "purple"
    new.to_csv(tmp_path / "new.csv", index=False)
    model_path = tmp_path / "m.npz"
    result = runner.invoke(
        app, ["fit", str(tmp_path / "train.csv"), "-t", "label", "-o", str(model_path), *extra]
    )
    assert result.exit_code == 0, result.output
    _, expected = _predict_cli(model_path, tmp_path / "new.csv", tmp_path / "p.csv")

    pipe = ll.load(model_path)
    assert isinstance(pipe, Pipeline)
    assert pipe.feature_names_in_.tolist() == ["x1", "x2", "colour"]
    assert pipe.classes_.tolist() == ["no", "yes"]
    raw = pd.read_csv(tmp_path / "new.csv")  # as a user reads it, not logloss's reader
    with pytest.warns(UserWarning, match="purple"):
        proba = pipe.predict_proba(raw)
    assert list(expected.columns) == ["p_no", "p_yes"]
    np.testing.assert_allclose(proba, expected.to_numpy(), rtol=1e-15, atol=1e-16)
    with pytest.warns(UserWarning, match="purple"):
        assert pipe.predict(raw).tolist() == pipe.classes_[proba.argmax(axis=1)].tolist()
    # the training table, target included, is fine too: the extra column is not used
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pipe.predict_proba(df).shape == (len(df), 2)
    # the estimator's fitted attributes read through, as when the file loaded as the estimator
    assert pipe.n_iter_ == pipe[-1].n_iter_ >= 1
    assert pipe.loss_curve_ == pipe[-1].loss_curve_
    with pytest.raises(AttributeError, match="no attribute 'nothing_'"):
        getattr(pipe, "nothing_")  # noqa: B009
    if not extra:  # (a TemperatureScaling step calibrates a fitted estimator: no refit)
        from sklearn.base import clone

        refit = clone(pipe).fit(df.drop(columns="label"), df["label"])
        names = ["x1", "x2", "colour=Black", "colour=Red"]
        assert refit[0].get_feature_names_out().tolist() == names
    pipe2, meta = ll.load(model_path, with_metadata=True)
    assert meta["target"]["name"] == "label"
    np.testing.assert_array_equal(pipe2.predict_proba(df), pipe.predict_proba(df))


def test_model_files_of_0_1_0_load_as_pipelines_that_predict_the_same():
    pipe = ll.load(OLD / "cli-fit.npz")
    # written before reference levels: every colour kept, 2 numbers + 3 indicators
    assert pipe[-1].n_features_in_ == 5
    assert pipe[0].get_feature_names_out().tolist() == [
        "x1",
        "x2",
        "colour=blue",
        "colour=green",
        "colour=red",
    ]
    assert pipe.coef_.shape == (1, 5)
    with pytest.warns(UserWarning, match="purple"):
        proba = pipe.predict_proba(pd.read_csv(OLD / "cli-new.csv"))
    expected = pd.read_csv(OLD / "cli-new-proba.csv").to_numpy()
    np.testing.assert_allclose(proba, expected, rtol=1e-12, atol=1e-15)
    # saved from Python: the estimator itself, as before
    assert type(ll.load(OLD / "logistic.npz")).__name__ == "LogisticRegression"


def test_a_model_fitted_on_a_dataframe_loads_and_predicts_without_warnings(tmp_path):
    df = make_table().dropna()
    X = df[["x1", "x2"]]
    model = ll.LogisticRegression().fit(X, df["label"])
    path = ll.save(model, tmp_path / "m.npz")
    df.to_csv(tmp_path / "d.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = ll.load(path)
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    result, got = _predict_cli(path, tmp_path / "d.csv", tmp_path / "p.csv")
    assert "feature names" not in result.output and "Warning" not in result.output
    np.testing.assert_allclose(got.to_numpy(), model.predict_proba(X), rtol=1e-15, atol=1e-16)


def test_a_pipeline_saves_and_loads_again(tmp_path):
    df = make_table()
    pipe = ll.load(_fit(tmp_path, df))
    path = ll.save(pipe, tmp_path / "again.npz", metadata={"note": "mine"})
    again, meta = ll.load(path, with_metadata=True)
    assert meta["note"] == "mine"
    np.testing.assert_array_equal(again.predict_proba(df), pipe.predict_proba(df))
    from sklearn.pipeline import make_pipeline

    own = make_pipeline(ll.TablePreprocessor(), ll.LogisticRegression()).fit(
        df.drop(columns="label"), df["label"]
    )
    ll.save(own, tmp_path / "own.npz")
    from sklearn.preprocessing import StandardScaler

    other = make_pipeline(StandardScaler(), ll.LogisticRegression()).fit(df[["x2"]], df["label"])
    with pytest.raises(TypeError, match="fitted TablePreprocessor followed by"):
        ll.save(other, tmp_path / "other.npz")
    _, got = _predict_cli(tmp_path / "own.npz", tmp_path / "train.csv", tmp_path / "p.csv")
    np.testing.assert_allclose(got.to_numpy(), own.predict_proba(df), rtol=1e-15, atol=1e-16)


def _fit(tmp_path, df):
    df.to_csv(tmp_path / "train.csv", index=False)
    out = tmp_path / "m.npz"
    result = runner.invoke(app, ["fit", str(tmp_path / "train.csv"), "-t", "label", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_a_model_file_whose_preprocessing_does_not_fit_its_model_is_refused(tmp_path):
    from logloss.model_file import ModelFileError
    from logloss.tables import Preprocessor

    df = make_table().dropna()
    model = ll.LogisticRegression().fit(df[["x1", "x2"]].to_numpy(), df["label"])
    wrong = Preprocessor().fit(df, ["x1", "x2", "colour"]).to_dict()  # 4 features, not 2
    path = ll.save(model, tmp_path / "m.npz", metadata={"preprocessing": wrong})
    with pytest.raises(ModelFileError, match="makes 4 features but its model takes 2"):
        ll.load(path)
    # a caller's own metadata under the same key is not logloss fit's: the estimator, as before
    path = ll.save(model, tmp_path / "n.npz", metadata={"preprocessing": "my scaler v2"})
    assert isinstance(ll.load(path), ll.LogisticRegression)


def test_the_cli_category_limit_error_names_the_option_and_the_value(tmp_path):
    df = pd.DataFrame({"dest": [f"A{i:03d}" for i in range(104)] * 2, "x": range(208)})
    df["y"] = np.where(df["x"] % 3 == 0, "a", "b")
    df.to_csv(tmp_path / "d.csv", index=False)
    args = ["fit", str(tmp_path / "d.csv"), "-t", "y", "-o", str(tmp_path / "m.npz")]
    args += ["--test-size", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--drop dest" in result.stderr and "--max-categories 104" in result.stderr
