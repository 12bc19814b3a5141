"""Predicting with a model file written by `logloss fit`: logloss.tables.prediction."""

from __future__ import annotations

import io

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
pytest.importorskip("rich")

import logloss as ll  # noqa: E402
from logloss.tables import (  # noqa: E402
    FeatureSlice,
    OptionError,
    Preprocessor,
    boundary_data,
    predict_file,
    predict_table,
    preprocessor_of,
)


def test_feature_slice_holds_other_columns_fixed():
    from logloss import LogisticRegression

    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"a": rng.normal(size=60), "b": rng.normal(size=60), "c": rng.choice(["u", "v"], size=60)}
    )
    y = np.where(df["a"] > 0, "hi", "lo")
    pre = Preprocessor().fit(df, ["a", "b", "c"])
    model = LogisticRegression().fit(pre.transform(df)[0], y)
    view = FeatureSlice(model, pre, ["a", "b"])
    P = view.predict_proba(np.array([[2.0, 0.0], [-2.0, 0.0]]))
    assert P.shape == (2, 2) and P[0, 0] > 0.5 > P[1, 0]  # classes_ = ['hi', 'lo']
    with pytest.raises(ValueError, match="is text"):
        FeatureSlice(model, pre, ["a", "c"])
    with pytest.raises(ValueError, match="not trained on a column 'z'"):
        FeatureSlice(model, pre, ["a", "z"])


@pytest.fixture
def saved(tmp_path):
    """A model fitted on three columns (one text), saved with its preprocessing."""
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {"a": rng.normal(size=80), "b": rng.normal(size=80), "c": rng.choice(["u", "v"], 80)}
    )
    df["y"] = np.where(df["a"] - df["b"] > 0, "hi", "lo")
    pre = Preprocessor().fit(df, ["a", "b", "c"])
    model = ll.LogisticRegression().fit(pre.transform(df)[0], df["y"])
    path = ll.save(model, tmp_path / "m.npz", metadata={"preprocessing": pre.to_dict()})
    df.to_csv(tmp_path / "d.csv", index=False)
    return path, tmp_path / "d.csv", model, pre, df


def _console():
    from rich.console import Console

    buffer = io.StringIO()
    return Console(file=buffer, highlight=False, soft_wrap=True), buffer


def test_predict_table_keeps_rows_and_checks_keep(saved):
    _, _, model, pre, df = saved
    table, report = predict_table(model, pre, df, proba=True, keep=["y"])
    assert list(table.columns) == ["y", "p_hi", "p_lo"] and len(table) == 80
    np.testing.assert_allclose(table[["p_hi", "p_lo"]], model.predict_proba(pre.transform(df)[0]))
    assert report.n_rows == 80 and not report.imputed
    with pytest.raises(ValueError, match="--keep names 'z'"):
        predict_table(model, pre, df, keep=["z"])
    with pytest.raises(ValueError, match="clashes with the prediction column"):
        predict_table(model, pre, df.assign(prediction=1), keep=["prediction"])


def test_preprocessor_of_a_model_saved_without_preprocessing(saved):
    _, _, model, _, _ = saved
    with pytest.raises(ValueError, match="holds no preprocessing"):
        preprocessor_of(model, {}, "'m.npz'")
    wrong = Preprocessor().fit(pd.DataFrame({"a": [1.0, 2.0]}), ["a"]).to_dict()
    with pytest.raises(ValueError, match="makes 1 features but its model takes 3"):
        preprocessor_of(model, {"preprocessing": wrong}, "'m.npz'")


def test_predict_file_writes_the_table_and_says_so(saved, tmp_path):
    path, data, model, pre, df = saved
    err, said = _console()
    out = tmp_path / "p.csv"
    table = predict_file(path, data, out, keep=["y"], err=err)
    written = pd.read_csv(out)
    assert list(written.columns) == ["y", "prediction"]
    assert written["prediction"].tolist() == model.predict(pre.transform(df)[0]).tolist()
    assert table["prediction"].tolist() == written["prediction"].tolist()
    assert said.getvalue().strip() == f"Wrote 80 predictions to {out}."
    with pytest.raises(ValueError, match="cannot tell the format"):
        predict_file(path, data, tmp_path / "p.xlsx", err=err)


def test_boundary_data_needs_two_numeric_columns(saved):
    path, data, model, _, df = saved
    shown = boundary_data(path, data, "y", ["a", "b"])
    assert shown.features == ("a", "b") and shown.X.shape == (80, 2)
    assert shown.y.tolist() == df["y"].tolist()
    assert shown.view.predict_proba(shown.X[:3]).shape == (3, 2)
    with pytest.raises(OptionError, match="takes 3 input columns") as caught:
        boundary_data(path, data, "y")
    assert caught.value.option == "--features"
    with pytest.raises(ValueError, match="no column 'yy'"):
        boundary_data(path, data, "yy", ["a", "b"])
