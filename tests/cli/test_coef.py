"""`logloss coef` (issue 12, finding 13): a saved model's coefficients by feature name."""

from __future__ import annotations

import json

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from typer.testing import CliRunner  # noqa: E402

from logloss.cli import app  # noqa: E402
from logloss.model_file import load  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("coef")
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame(
        {
            "age": rng.normal(40.0, 10.0, n),
            "colour": rng.choice(["Black", "White", "Red"], n),
            "income": rng.normal(size=n),
        }
    )
    z = 0.08 * (df["age"] - 40.0) + np.where(df["colour"] == "White", 1.0, 0.0)
    df["buys"] = np.where(rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-z)), "yes", "no")
    df["tier"] = np.digitize(z + rng.normal(size=n), [-0.5, 0.5]).astype(str)
    data = folder / "t.csv"
    df.to_csv(data, index=False)
    models = {}
    for name, args in {
        "binary": ["-t", "buys", "--drop", "tier"],
        "softmax": ["-t", "tier", "--drop", "buys", "-m", "softmax"],
        "mlp": ["-t", "buys", "--drop", "tier", "-m", "mlp", "--max-iter", "5"],
    }.items():
        out = folder / f"{name}.npz"
        result = runner.invoke(app, ["fit", str(data), *args, "-o", str(out), "--test-size", "0"])
        assert result.exit_code == 0, result.output
        models[name] = out
    return models


def _json(path, *extra):
    result = runner.invoke(app, ["coef", str(path), "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_binary_coefficients_by_name_largest_first(fitted):
    model, meta = load(fitted["binary"], with_metadata=True)
    payload = _json(fitted["binary"])
    names = meta["feature_names"]
    assert payload["columns"] == ["yes"]
    listed = payload["coefficients"]
    assert set(listed) == set(names)
    for j, name in enumerate(names):
        assert listed[name] == [model.coef_[0][j]]
    sizes = [abs(v[0]) for v in listed.values()]
    assert sizes == sorted(sizes, reverse=True)
    assert payload["intercept"] == [model.intercept_[0]]


def test_the_table_lists_the_top_k(fitted):
    model, meta = load(fitted["binary"], with_metadata=True)
    result = runner.invoke(app, ["coef", str(fitted["binary"]), "--top", "2"])
    assert result.exit_code == 0, result.output
    order = np.argsort(-np.abs(model.coef_[0]))
    names = meta["feature_names"]
    shown = [names[j] for j in order[:2]]
    hidden = [names[j] for j in order[2:]]
    assert all(name in result.stdout for name in shown)
    assert not any(f" {name} " in result.stdout for name in hidden)
    assert f"{model.coef_[0][order[0]]:+.4f}" in result.stdout
    assert "2 largest of" in result.stdout and "(intercept)" in result.stdout


def test_softmax_coefficients_per_class(fitted):
    model, meta = load(fitted["softmax"], with_metadata=True)
    payload = _json(fitted["softmax"])
    assert payload["columns"] == ["0", "1", "2"]
    for j, name in enumerate(meta["feature_names"]):
        np.testing.assert_array_equal(payload["coefficients"][name], model.coef_[:, j])


def test_a_model_without_coefficients_is_one_sentence(fitted):
    result = runner.invoke(app, ["coef", str(fitted["mlp"])])
    assert result.exit_code == 2
    assert "MLPClassifier has no coefficients" in result.output
    assert "Traceback" not in result.output
