"""Model files: round trips, validation, and fuzzed files that must fail cleanly."""

from __future__ import annotations

import io as _io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

import logloss as ll  # noqa: E402
import logloss.model_file as model_file  # noqa: E402
from logloss import ModelFileError  # noqa: E402


def _data(k=2, n=120, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    labels = np.array(["ant", "bee", "cat", "dog"][:k])
    y = labels[np.argmax(X[:, :k] + 0.5 * rng.normal(size=(n, k)), axis=1)]
    return X, y


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few iterations may not converge
        return model.fit(X, y)


@pytest.fixture(scope="module")
def models():
    X2, y2 = _data(2)
    X3, y3 = _data(3)
    out = {
        "logistic": (_fit(ll.LogisticRegression(C=0.5), X2, y2), X2),
        "softmax": (_fit(ll.SoftmaxRegression(), X3, y3), X3),
        "mlp": (
            _fit(
                ll.MLPClassifier(
                    hidden_layer_sizes=(6, 3), max_iter=15, random_state=0, dtype="float32"
                ),
                X3,
                y3,
            ),
            X3,
        ),
        "int-labels": (_fit(ll.LogisticRegression(), X2, (y2 == "bee").astype(int)), X2),
    }
    base = out["logistic"][0]
    out["temperature"] = (_fit(ll.TemperatureScaling(base), X2, y2), X2)
    return out


@pytest.fixture(scope="module")
def saved(models, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.npz"
    model, _ = models["logistic"]
    model_file.save(
        model,
        path,
        metadata={"preprocessing": {"columns": ["a"], "n": 1}, "weird": {1: (2.0, float("inf"))}},
    )
    return path


@pytest.mark.parametrize("name", ["logistic", "softmax", "mlp", "int-labels", "temperature"])
def test_round_trip_gives_identical_predictions(models, tmp_path, name):
    model, X = models[name]
    path = model_file.save(model, tmp_path / "model.npz")
    assert path == tmp_path / "model.npz"
    loaded = ll.load(path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.classes_.tolist() == model.classes_.tolist()
    assert loaded.classes_.dtype == model.classes_.dtype
    assert loaded.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    assert loaded.loss_curve_ == pytest.approx(model.loss_curve_)


def test_metadata_round_trips_and_is_plain_json(saved):
    model, meta = ll.load(saved, with_metadata=True)
    assert meta["preprocessing"] == {"columns": ["a"], "n": 1}
    assert meta["weird"] == {1: (2.0, float("inf"))}
    raw = model_file.read_metadata(saved)
    assert raw["format"] == "logloss-model" and raw["format_version"] == model_file.FORMAT_VERSION
    assert raw["logloss_version"] == ll.__version__
    assert raw["classes"] == ["ant", "bee"] and raw["n_features"] == 4
    assert raw["model"]["estimator"] == "LogisticRegression"
    assert raw["model"]["params"]["C"] == 0.5
    assert raw["metadata"]["preprocessing"] == {"columns": ["a"], "n": 1}  # untagged


def test_file_holds_no_pickle(saved):
    with zipfile.ZipFile(saved) as zf:
        for name in zf.namelist():
            header = zf.read(name)[:128]
            assert b"'descr': '|O'" not in header and b"'descr': 'O'" not in header


def test_callback_is_not_saved(tmp_path):
    X, y = _data()
    model = _fit(ll.LogisticRegression(callback=lambda info: False), X, y)
    loaded = ll.load(model_file.save(model, tmp_path / "m.npz"))
    assert loaded.callback is None


def test_save_errors(models, tmp_path):
    with pytest.raises(TypeError, match="logloss estimator"):
        model_file.save(object(), tmp_path / "m.npz")
    with pytest.raises(ValueError, match="not fitted"):
        model_file.save(ll.LogisticRegression(), tmp_path / "m.npz")
    model, _ = models["logistic"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model_file.save(model, tmp_path / "no" / "m.npz")
    with pytest.raises(TypeError, match="cannot save metadata"):
        model_file.save(model, tmp_path / "m.npz", metadata={"f": object()})
    with pytest.raises(TypeError, match="`metadata` must be a dict"):
        model_file.save(model, tmp_path / "m.npz", metadata=[1])
    unsaveable = ll.LogisticRegression(random_state=np.random.RandomState(0))
    _fit(unsaveable, *_data())
    with pytest.raises(TypeError, match="random_state"):
        model_file.save(unsaveable, tmp_path / "m.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no temporary files left


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ll.load(tmp_path / "none.npz")
    with pytest.raises(IsADirectoryError):
        ll.load(tmp_path)
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ModelFileError, match="it is empty"):
        ll.load(tmp_path / "empty.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ModelFileError, match="not a zip"):
        ll.load(tmp_path / "text.npz")
    np.savez(tmp_path / "foreign.npz", a=np.arange(3))
    with pytest.raises(ModelFileError, match="no logloss metadata"):
        ll.load(tmp_path / "foreign.npz")
    np.save(tmp_path / "array.npy", np.arange(3))
    with pytest.raises(ModelFileError, match="not a zip"):
        ll.load(tmp_path / "array.npy")


def _rewrite(src, dst, edit_meta=None, edit_arrays=None):
    """Copy a model file, editing its JSON metadata and/or arrays."""
    with np.load(src, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(arrays.pop("__metadata__").tobytes())
    if edit_meta:
        edited = edit_meta(meta)
        meta = (
            edited
            if isinstance(edited, dict) and edited is not meta and "format" in edited
            else meta
        )
    if edit_arrays:
        edit_arrays(arrays)
    blob = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(dst, __metadata__=blob, **arrays)
    return dst


def test_newer_format_version_says_so(saved, tmp_path):
    path = _rewrite(
        saved, tmp_path / "new.npz", lambda m: m.update(format_version=99, logloss_version="9.0")
    )
    with pytest.raises(ModelFileError, match="format version 99, written by logloss 9.0.*upgrade"):
        ll.load(path)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m: m.update(format="other"), "does not name the logloss model format"),
        (lambda m: m.update(format_version="1"), "format version"),
        (lambda m: m["model"].update(estimator="os.system"), "unknown estimator"),
        (lambda m: m["model"]["params"].update(evil=1), "unknown parameters"),
        (lambda m: m["model"]["params"].update(callback="print"), "cannot hold"),
        (lambda m: m["model"]["attributes"].update({"__class__": {"value": 1}}), "invalid attr"),
        (lambda m: m["model"]["attributes"].update({"fit": {"value": 1}}), "invalid attr"),
        (lambda m: m["model"]["attributes"].update({"coef_": {"array": "nope"}}), "missing"),
        (lambda m: m["model"]["attributes"].pop("classes_"), "classes"),
        (lambda m: m["model"]["attributes"].update(n_features_in_={"value": -3}), "features"),
        (lambda m: m["model"]["attributes"].update(n_features_in_={"value": 7}), "fit together"),
        (lambda m: m["model"]["params"].update(C={"__tuple__": 3}), "wrong type"),
        (lambda m: m["model"]["params"].update(dtype={"__dtype__": "object"}), "dtype"),
        (lambda m: m["model"]["params"].update(C={"__ndarray__": [1], "dtype": "O"}), "dtype"),
        (lambda m: m["model"]["params"].update(C={"__weird__": 1}), "unrecognised"),
        (lambda m: m.update(classes=["x", "y"]), "classes differ"),
        (lambda m: m.update(metadata=[1]), "not a mapping"),
        (lambda m: m.update(model=[]), "wrong type"),
    ],
)
def test_edited_metadata_is_rejected(saved, tmp_path, edit, match):
    path = _rewrite(saved, tmp_path / "edited.npz", edit)
    with pytest.raises(ModelFileError, match=match):
        ll.load(path)


@pytest.mark.parametrize(
    "edit",
    [
        lambda a: a.update(coef_=np.full_like(a["coef_"], np.nan)),
        lambda a: a.update(coef_=a["coef_"][:, :2]),
        lambda a: a.update(coef_=np.array(["a", "b"])),
        lambda a: a.update(classes_=np.array(["a", "a"])),
        lambda a: a.update(intercept_=np.zeros((3, 3))),
    ],
)
def test_edited_arrays_are_rejected(saved, tmp_path, edit):
    path = _rewrite(saved, tmp_path / "edited.npz", edit_arrays=edit)
    with pytest.raises(ModelFileError, match="not a valid logloss model file"):
        ll.load(path)


def test_object_array_inside_is_refused(saved, tmp_path):
    def add_object(arrays):
        arrays["coef_"] = np.array([{"a": 1}], dtype=object)

    with pytest.raises(ValueError):  # np.savez pickles it; loading must refuse
        ll.load(_rewrite(saved, tmp_path / "obj.npz", edit_arrays=add_object))


def test_truncations_fail_cleanly(saved, tmp_path):
    data = saved.read_bytes()
    for cut in sorted(
        {1, 4, 10, 30, 100, len(data) // 3, len(data) // 2, len(data) - 50, len(data) - 1}
    ):
        path = tmp_path / "cut.npz"
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="not a valid logloss model file"):
            ll.load(path)


def test_random_bytes_and_bit_flips_fail_cleanly(saved, tmp_path):
    rng = np.random.default_rng(0)
    data = bytearray(saved.read_bytes())
    path = tmp_path / "fuzz.npz"
    for trial in range(150):
        if trial < 30:
            blob = bytes(rng.integers(0, 256, size=int(rng.integers(1, 3000)), dtype=np.uint8))
            if trial % 2:
                blob = b"PK\x03\x04" + blob  # looks like a zip at first glance
        else:
            mutated = bytearray(data)
            for _ in range(int(rng.integers(1, 8))):
                mutated[int(rng.integers(0, len(mutated)))] = int(rng.integers(0, 256))
            blob = bytes(mutated)
        path.write_bytes(blob)
        try:
            model = ll.load(path)
        except ModelFileError:
            continue
        # A flip that missed everything that matters (e.g. a timestamp) still loads a model
        # that predicts valid probabilities.
        proba = model.predict_proba(np.zeros((3, model.n_features_in_)))
        assert np.isfinite(proba).all()


def test_random_json_edits_fail_cleanly(saved, tmp_path):
    rng = np.random.default_rng(1)
    raw = model_file.read_metadata(saved)
    text = json.dumps(raw)
    path = tmp_path / "json.npz"
    replacements = ['"x"', "null", "-1", "1e309", "[]", "{}", '{"__tuple__": 1}', "true", "0.5"]
    for _ in range(120):
        # Replace one JSON value (after a colon) by another kind of value.
        colons = [i for i, ch in enumerate(text) if ch == ":"]
        at = colons[int(rng.integers(0, len(colons)))]
        end = at + 1
        depth = 0
        while end < len(text):
            ch = text[end]
            if ch in "[{":
                depth += 1
            elif ch in "]}":
                if depth == 0:
                    break
                depth -= 1
            elif ch == "," and depth == 0:
                break
            end += 1
        edited = (
            text[: at + 1]
            + " "
            + replacements[int(rng.integers(0, len(replacements)))]
            + text[end:]
        )
        try:
            meta = json.loads(edited)
        except json.JSONDecodeError:
            continue
        _rewrite(saved, path, lambda m, meta=meta: meta)
        try:
            model = ll.load(path)
        except ModelFileError:
            continue
        assert np.isfinite(model.predict_proba(np.zeros((2, model.n_features_in_)))).all()


def test_metadata_that_is_not_json(saved, tmp_path):
    with np.load(saved) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["__metadata__"] = np.frombuffer(b"\xff\xfe{not json", dtype=np.uint8)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ModelFileError, match="not valid JSON"):
        ll.load(tmp_path / "bad.npz")
    arrays["__metadata__"] = np.zeros((2, 2))
    np.savez(tmp_path / "bad2.npz", **arrays)
    with pytest.raises(ModelFileError, match="malformed"):
        ll.load(tmp_path / "bad2.npz")


def test_loading_never_unpickles(saved, tmp_path, monkeypatch):
    import pickle

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used while loading a model file")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    ll.load(saved)
    buf = _io.BytesIO()
    np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(tmp_path / "evil.npz", "w") as zf:
        zf.writestr("__metadata__.npy", buf.getvalue())
    with pytest.raises(ModelFileError):
        ll.load(tmp_path / "evil.npz")


# -- files written by an earlier logloss ---------------------------------------------

OLD = Path(__file__).resolve().parent / "data" / "model-files-0.1.0"


@pytest.mark.parametrize("name", ["logistic", "mlp"])
def test_files_written_by_0_1_0_load_and_predict_the_same(name):
    """Files saved by logloss 0.1.0 (tests/data/model-files-0.1.0/make_files.py) still load."""
    model = ll.load(OLD / f"{name}.npz")
    with np.load(OLD / "predictions.npz") as saved:
        X, proba, labels = saved["X"], saved[name], saved[f"{name}_labels"]
    np.testing.assert_allclose(model.predict_proba(X), proba, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(model.predict(X), labels)


def test_a_file_written_by_0_1_0_logloss_fit_predicts_the_same(tmp_path):
    """`logloss predict` on a model that `logloss fit` wrote with 0.1.0: the same probabilities."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    from typer.testing import CliRunner

    from logloss.cli import app

    out = tmp_path / "proba.csv"
    result = CliRunner().invoke(
        app,
        ["predict", str(OLD / "cli-fit.npz"), str(OLD / "cli-new.csv"), "--proba", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "not seen in training" in result.stderr  # the 'purple' row
    expected = pd.read_csv(OLD / "cli-new-proba.csv")
    got = pd.read_csv(out)
    assert list(got.columns) == list(expected.columns) == ["p_ham", "p_spam"]
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-15)
    _, meta = ll.load(OLD / "cli-fit.npz", with_metadata=True)
    assert meta["preprocessing"]["columns"] == ["x1", "x2", "colour"]
    assert meta["training"]["settings"]["seed"] == 1
