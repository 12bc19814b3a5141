"""Fuzz model-file loading: every input loads, or fails with ModelFileError.

What ``logloss predict MODEL ...`` does with a model file: :func:`logloss.load` (with the
metadata), then the preprocessing stored in it (:func:`logloss.tables.preprocessor_of`)
and a prediction on a small table. A loaded model must predict finite probabilities
that sum to 1.

Inputs are read in three ways, chosen by the first byte, so that mutations reach past the
zip container into the JSON and the arrays:

0. the whole model file, as bytes;
1. the JSON metadata, stored with the arrays of one of the seed models;
2. the JSON metadata and the ``.npy`` bytes of one array of a seed model.

Run: ``.venv/bin/python fuzz/fuzz_model_file.py -max_total_time=120 fuzz/corpus-model``
(atheris), or with ``--plain`` for the plain mutation loop.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import warnings
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness  # noqa: E402

if _harness.use_atheris():  # coverage feedback from logloss's own code only
    import atheris

    with atheris.instrument_imports(include=["logloss"]):
        import logloss as ll
        from logloss import tables
        from logloss.model_file import ModelFileError
else:
    import logloss as ll
    from logloss import tables
    from logloss.model_file import ModelFileError

WORK = tempfile.mkdtemp(prefix="fuzz-model-")
PATH = os.path.join(WORK, "model.npz")
META = "__metadata__.npy"


def _bases() -> list[dict[str, bytes]]:
    """The entries (name -> bytes) of a few valid model files: one per estimator kind,
    and one written as ``logloss fit`` writes it (with preprocessing metadata)."""
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y2 = (X[:, 0] > 0).astype(int)
    y3 = np.digitize(X[:, 1], [-0.5, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = [
            (ll.LogisticRegression().fit(X, y2), None),
            (ll.SoftmaxRegression().fit(X, y3), None),
            (ll.MLPClassifier(hidden_layer_sizes=(3,), max_iter=20).fit(X, y3), None),
            (ll.TemperatureScaling(ll.LogisticRegression().fit(X, y2)).fit(X, y2), None),
        ]
        df = pd.DataFrame(X, columns=["a", "b", "c"])
        df["colour"] = np.where(y2 == 1, "red", "blue")
        df.loc[3, "a"] = np.nan
        df["y"] = np.where(y3 == 0, "low", np.where(y3 == 1, "mid", "high"))
        prepared = tables.prepare_training(df, "y", test_size=0.0)
        est, _ = tables.fit_prepared(prepared, tables.make_estimator("logistic"))
        models.append((est, tables.model_metadata(prepared, {}, source="x.csv", settings={})))
    bases = []
    for model, meta in models:
        ll.save(model, PATH, metadata=meta)
        with zipfile.ZipFile(PATH) as zf:
            bases.append({name: zf.read(name) for name in zf.namelist()})
    return bases


BASES = _bases()
FRAME = None  # the table predicted on, made on first use


def _archive(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _npy_with_json(text: bytes) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(text, dtype=np.uint8), allow_pickle=False)
    return buf.getvalue()


def file_bytes(data: bytes) -> bytes:
    """The model file an input stands for (see the module docstring)."""
    if not data:
        return b""
    mode, rest = data[0] % 3, data[1:]
    if mode == 0:
        return rest
    base = dict(BASES[(rest[0] if rest else 0) % len(BASES)])
    rest = rest[1:]
    if mode == 1:
        base[META] = _npy_with_json(rest)
        return _archive(base)
    size = int.from_bytes(rest[:2].ljust(2, b"\0"), "little")
    text, payload = rest[2 : 2 + size], rest[2 + size :]
    base[META] = _npy_with_json(text)
    arrays = sorted(n for n in base if n != META)
    if arrays and payload:
        base[arrays[payload[0] % len(arrays)]] = payload[1:]
    return _archive(base)


def seeds() -> list[bytes]:
    out = []
    for i, base in enumerate(BASES):
        whole = _archive(base)
        text = np.load(io.BytesIO(base[META]), allow_pickle=False).tobytes()
        out.append(b"\x00" + whole)
        out.append(b"\x01" + bytes([i]) + text)
        array = sorted(n for n in base if n != META)[0]
        out.append(
            b"\x02" + bytes([i]) + len(text).to_bytes(2, "little") + text + b"\x00" + base[array]
        )
    return out


def _is_clean(exc: BaseException) -> bool:
    """The project's own error: a ModelFileError, or a plain ValueError from its checks."""
    return isinstance(exc, ModelFileError) or type(exc) is ValueError


def test_one_input(data: bytes) -> None:
    with open(PATH, "wb") as fh:
        fh.write(file_bytes(data))
    try:
        model, meta = ll.load(PATH, with_metadata=True)
    except ModelFileError:
        return
    n = int(getattr(model, "n_features_in_", 0)) or 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proba = model.predict_proba(np.zeros((3, n)))
    if not (np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0, atol=1e-3)):
        raise AssertionError(f"a loaded model predicts invalid probabilities: {proba!r}")
    try:
        pre = tables.preprocessor_of(model, meta, "the model file")
        frame = _frame(pre)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tables.predict_table(model, pre, frame, proba=True)
    except Exception as exc:
        if not _is_clean(exc):
            raise


def _frame(pre):
    """A small table with the columns `pre` needs: numbers, text and missing values."""
    import pandas as pd

    cols = {}
    for col in getattr(pre, "columns", []) or []:
        cols[col] = [0.5, None, "red"] if col not in pre.numeric else [0.5, np.nan, -1.0]
    return pd.DataFrame(cols) if cols else pd.DataFrame(index=range(3))


if __name__ == "__main__":
    _harness.run(test_one_input, seeds())
