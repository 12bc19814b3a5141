"""Model files: JSON metadata and NumPy arrays in one ``.npz`` file, never pickle.

A model file is a zip archive written by :func:`numpy.savez_compressed` holding one
array per fitted array attribute and a ``__metadata__`` entry: UTF-8 JSON with the
format name and version, the logloss version, the estimator's class (from a fixed
allow-list), its hyperparameters, its fitted scalar attributes, its classes and
feature count, and any metadata the caller adds (the command line stores its
preprocessing there). Loading uses ``np.load(allow_pickle=False)``, validates every
field, and finally checks that the model predicts finite probabilities of the right
shape, so opening a file never runs code from it, and a damaged or foreign file is a
:class:`ModelFileError` (a ``ValueError``) that says what is wrong.

Layout of the JSON (format version 1)::

    {"format": "logloss-model", "format_version": 1, "logloss_version": "0.1.0",
     "classes": [...], "n_features": 12,
     "model": {"estimator": "LogisticRegression",
               "params": {"C": 1.0, ...},            # constructor arguments
               "nested": {},                          # estimators given as parameters
               "attributes": {"coef_": {"array": "coef_"},
                              "n_iter_": {"value": 7}, ...}},
     "metadata": {...}}                               # the caller's, plain JSON

Values JSON cannot hold are tagged: ``{"__tuple__": [...]}``, ``{"__float__": "inf"}``,
``{"__dtype__": "float32"}``, ``{"__ndarray__": [...], "dtype": "<i8"}`` and
``{"__dict__": [[key, value], ...]}`` for a mapping whose keys are not plain strings.
"""

from __future__ import annotations

import importlib
import json
import math
import numbers
import os
import struct
import tempfile
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "ModelFileError", "load", "read_metadata", "save"]

FORMAT_NAME = "logloss-model"
FORMAT_VERSION = 1
_META_KEY = "__metadata__"
_META_MAX_BYTES = 64 << 20  # a metadata entry larger than this is not ours
_MAX_FEATURES = 10_000_000
# Parameters that hold code: never written (a loaded model has None there).
_CODE_PARAMS = ("callback",)
# Array dtypes a model file may hold: booleans, integers, floats, fixed-width text.
_ARRAY_KINDS = "biufU"

# Estimators a model file may name: class name -> module. Nothing else is ever imported.
ESTIMATORS = {
    "LogisticRegression": "logloss.models",
    "SoftmaxRegression": "logloss.models",
    "MLPClassifier": "logloss.models",
    "TemperatureScaling": "logloss.models",
}


class ModelFileError(ValueError):
    """A file that is not a valid logloss model file (a ``ValueError``)."""


# ---------------------------------------------------------------------------
# encoding of hyperparameters and scalar attributes as JSON
# ---------------------------------------------------------------------------


def _encode(value: Any, where: str) -> Any:
    """JSON for a parameter value; tuples, non-finite floats, dtypes and arrays are tagged."""
    if value is None or isinstance(value, (bool, str)):
        return value if not isinstance(value, str) else str(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        return v if math.isfinite(v) else {"__float__": repr(v)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, where) for v in value]}
    if isinstance(value, list):
        return [_encode(v, where) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {str(k): _encode(v, where) for k, v in value.items()}
        return {"__dict__": [[_encode(k, where), _encode(v, where)] for k, v in value.items()]}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"__dtype__": np.dtype(value).name}
    if isinstance(value, np.ndarray) and value.dtype.kind in _ARRAY_KINDS:
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    raise TypeError(f"cannot save {where} of type {type(value).__name__} in a model file")


def _decode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, list):
        return [_decode(v, where) for v in value]
    if not isinstance(value, dict):
        raise ModelFileError(f"{where} holds an unrecognised value")
    if not any(isinstance(k, str) and k.startswith("__") for k in value):
        return {k: _decode(v, where) for k, v in value.items()}
    if len(value) == 1 and "__tuple__" in value:
        return tuple(_decode(v, where) for v in _expect(value["__tuple__"], list, where))
    if len(value) == 1 and "__dict__" in value:
        out = {}
        for pair in _expect(value["__dict__"], list, where):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ModelFileError(f"{where} holds a malformed mapping")
            key = _decode(pair[0], where)
            if not isinstance(key, (str, int, float, bool, tuple, type(None))):
                raise ModelFileError(f"{where} holds a mapping with an unusable key")
            out[key] = _decode(pair[1], where)
        return out
    if len(value) == 1 and "__dtype__" in value:
        name = _expect(value["__dtype__"], str, where)
        if name not in ("float16", "float32", "float64"):
            raise ModelFileError(f"{where} names an unsupported dtype {name!r}")
        return np.dtype(name)
    if len(value) == 1 and "__float__" in value:
        text = _expect(value["__float__"], str, where)
        if text not in ("inf", "-inf", "nan"):
            raise ModelFileError(f"{where} holds a malformed number {text!r}")
        return float(text)
    if len(value) == 2 and "__ndarray__" in value and "dtype" in value:
        dtype = _safe_dtype(_expect(value["dtype"], str, where), where)
        try:
            return np.asarray(_expect(value["__ndarray__"], list, where), dtype=dtype)
        except (ValueError, TypeError, OverflowError):
            raise ModelFileError(f"{where} holds a malformed array") from None
    raise ModelFileError(f"{where} holds an unrecognised value")


def _safe_dtype(text: str, where: str) -> np.dtype:
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError):
        raise ModelFileError(f"{where} names an unknown dtype {text!r}") from None
    if dtype.kind not in _ARRAY_KINDS or dtype.itemsize > 4096 or dtype.fields is not None:
        raise ModelFileError(f"{where} has an unsupported dtype {dtype}")
    return dtype


def _expect(value: Any, kind: type | tuple, where: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ModelFileError(f"{where} is missing or has the wrong type")
    return value


# ---------------------------------------------------------------------------
# estimator state
# ---------------------------------------------------------------------------


def _is_estimator(obj: Any) -> bool:
    return type(obj).__name__ in ESTIMATORS and type(obj).__module__.startswith("logloss.")


def _is_fitted_name(key: str) -> bool:
    """``coef_`` or ``_dtype_``: a fitted attribute; never a dunder like ``__dict__``."""
    return key.endswith("_") and key.isidentifier() and not key.startswith("__")


def _state(model: Any, arrays: dict[str, np.ndarray], prefix: str) -> dict[str, Any]:
    """Metadata of one estimator; its arrays go into `arrays` under `prefix`."""
    name = type(model).__name__
    if not _is_estimator(model):
        raise TypeError(
            f"`model` must be a logloss estimator ({', '.join(ESTIMATORS)}); got {name}"
        )
    fitted = {k: v for k, v in vars(model).items() if _is_fitted_name(k)}
    if "classes_" not in fitted:
        raise ValueError(f"this {name} is not fitted yet; call fit before saving it")
    params: dict[str, Any] = {}
    nested: dict[str, Any] = {}
    for key, value in model.get_params(deep=False).items():
        if key in _CODE_PARAMS:
            params[key] = None  # code is never stored
        elif _is_estimator(value):
            nested[key] = _state(value, arrays, f"{prefix}{key}.")
        else:
            params[key] = _encode(value, f"parameter {key!r} of {name}")
    attrs: dict[str, Any] = {}
    for key, value in fitted.items():
        if _is_estimator(value):
            attrs[key] = {"estimator": _state(value, arrays, f"{prefix}{key}.")}
        elif isinstance(value, np.ndarray):
            arr = value.astype(str) if value.dtype.kind == "O" else value
            if arr.dtype.kind not in _ARRAY_KINDS:
                raise TypeError(f"cannot save attribute {key!r} of {name} with dtype {value.dtype}")
            arrays[prefix + key] = arr
            attrs[key] = {"array": prefix + key, "object": value.dtype.kind == "O"}
        elif isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
            keys = []
            for i, v in enumerate(value):
                if v.dtype.kind not in _ARRAY_KINDS:
                    raise TypeError(f"cannot save attribute {key!r} of {name} with dtype {v.dtype}")
                arrays[f"{prefix}{key}.{i}"] = v
                keys.append(f"{prefix}{key}.{i}")
            attrs[key] = {"arrays": keys}
        else:
            attrs[key] = {"value": _encode(value, f"attribute {key!r} of {name}")}
    return {"estimator": name, "params": params, "nested": nested, "attributes": attrs}


def _restore(state: Any, arrays: Any, where: str, depth: int = 0) -> Any:
    if depth > 4:
        raise ModelFileError(f"{where} nests estimators too deeply")
    state = _expect(state, dict, where)
    name = _expect(state.get("estimator"), str, f"{where}'s estimator name")
    if name not in ESTIMATORS:
        raise ModelFileError(f"{where} names an unknown estimator {name!r}")
    cls = getattr(importlib.import_module(ESTIMATORS[name]), name)
    raw_params = _expect(state.get("params", {}), dict, f"{where}'s parameters")
    params = {k: _decode(v, f"parameter {k!r}") for k, v in raw_params.items()}
    for k, v in _expect(state.get("nested", {}), dict, f"{where}'s nested estimators").items():
        params[k] = _restore(v, arrays, f"{where}.{k}", depth + 1)
    valid = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ModelFileError(f"{where} has unknown parameters for {name}: {', '.join(unknown)}")
    for key in _CODE_PARAMS:
        if params.get(key) is not None:
            raise ModelFileError(f"{where} sets parameter {key!r}, which a model file cannot hold")
    model = cls(**params)
    for key, spec in _expect(state.get("attributes", {}), dict, f"{where}'s attributes").items():
        if not _is_fitted_name(key) or hasattr(cls, key) or key in valid:
            raise ModelFileError(f"{where} has an invalid attribute name {key!r}")
        spec = _expect(spec, dict, f"attribute {key!r}")
        if "array" in spec:
            value = _array(arrays, _expect(spec["array"], str, f"attribute {key!r}"))
            if spec.get("object"):
                value = value.astype(object)
        elif "arrays" in spec:
            keys = _expect(spec["arrays"], list, f"attribute {key!r}")
            value = [_array(arrays, _expect(k, str, f"attribute {key!r}")) for k in keys]
        elif "estimator" in spec:
            value = _restore(spec["estimator"], arrays, f"{where}.{key}", depth + 1)
        elif "value" in spec:
            value = _decode(spec["value"], f"attribute {key!r}")
        else:
            raise ModelFileError(f"attribute {key!r} has no value")
        setattr(model, key, value)
    _check_model(model, where)
    return model


def _array(arrays: Any, key: str) -> np.ndarray:
    if key not in arrays.files:
        raise ModelFileError(f"array {key!r} is missing")
    arr = arrays[key]
    if arr.dtype.kind not in _ARRAY_KINDS:
        raise ModelFileError(f"array {key!r} has an unsupported dtype {arr.dtype}")
    return arr


def _check_model(model: Any, where: str) -> None:
    """The fitted attributes every classifier needs, with sane types and values."""
    classes = getattr(model, "classes_", None)
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or classes.size < 2:
        raise ModelFileError(f"{where} has no valid classes (at least two are needed)")
    if np.unique(classes).size != classes.size:
        raise ModelFileError(f"{where} lists a class twice")
    n_features = getattr(model, "n_features_in_", None)
    if (
        not isinstance(n_features, int)
        or isinstance(n_features, bool)
        or not 1 <= n_features <= _MAX_FEATURES
    ):
        raise ModelFileError(f"{where} has an invalid number of features {n_features!r}")
    for key, value in vars(model).items():
        if not _is_fitted_name(key):
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if (
                isinstance(item, np.ndarray)
                and item.dtype.kind == "f"
                and not np.isfinite(item).all()
            ):
                raise ModelFileError(f"{where}'s {key} holds NaN or infinite values")


def _probe(model: Any) -> None:
    """Predict on two rows of zeros: the arrays must fit together and give probabilities.

    A model fitted on a table is probed with a table of its columns, as it is used;
    an array would make scikit-learn warn that X has no feature names.
    """
    X: Any = np.zeros((2, model.n_features_in_))
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - fitted on another library's table
            pass
        else:
            X = pd.DataFrame(X, columns=[str(n) for n in names])
    try:
        proba = np.asarray(model.predict_proba(X))
    except MemoryError:
        raise
    except Exception as exc:  # any failure here means the stored arrays do not fit together
        raise ModelFileError(
            f"its arrays do not fit together ({type(exc).__name__} when predicting)"
        ) from None
    k = model.classes_.size
    if (
        proba.shape != (2, k)
        or not np.isfinite(proba).all()
        or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-3)
    ):
        raise ModelFileError("its arrays do not give valid probabilities")


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def save(model: Any, path: str | os.PathLike, *, metadata: dict | None = None) -> Path:
    """Save a fitted logloss estimator to one file (JSON metadata + arrays, no pickle).

    The file is a compressed ``.npz`` archive: each fitted array under its attribute
    name and a ``__metadata__`` entry with the format version, the logloss version,
    the estimator's class and hyperparameters, its scalar attributes, its classes and
    `metadata`. It is written to a temporary file beside `path` and renamed, so an
    interrupted save never leaves half a model behind. A ``callback`` parameter is
    code and is not stored (the loaded model has ``callback=None``).

    Parameters
    ----------
    model : LogisticRegression, SoftmaxRegression, MLPClassifier or TemperatureScaling
        A fitted estimator.
    path : str or path-like
        Destination, used as given (``.npz`` is the conventional suffix). An existing
        file is replaced; the directory must exist.
    metadata : dict, optional
        Extra JSON-serialisable information stored alongside (e.g. preprocessing).

    Returns
    -------
    pathlib.Path
        `path`, once the file is complete there.

    Raises
    ------
    TypeError
        If `model` is not a logloss estimator, or a parameter or `metadata` holds a
        value JSON cannot represent (e.g. a ``RandomState`` object).
    ValueError
        If `model` is not fitted.
    FileNotFoundError
        If the directory of `path` does not exist.

    Examples
    --------
    >>> import numpy as np, logloss as ll, tempfile, os
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> model = ll.LogisticRegression().fit(X, y)
    >>> path = ll.save(model, os.path.join(tempfile.mkdtemp(), "model.npz"))
    >>> np.array_equal(ll.load(path).predict_proba(X), model.predict_proba(X))
    True
    """
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"`metadata` must be a dict or None; got {type(metadata).__name__}")
    arrays: dict[str, np.ndarray] = {}
    state = _state(model, arrays, "")
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "logloss_version": __version__,
        "classes": model.classes_.tolist(),
        "n_features": int(getattr(model, "n_features_in_", 0)),
        "model": state,
        "metadata": _encode(metadata or {}, "metadata"),
    }
    blob = np.frombuffer(json.dumps(meta, allow_nan=False).encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"cannot write model file {str(path)!r}: its directory {str(folder)!r} does not exist"
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **{_META_KEY: blob}, **arrays)
        # mkstemp makes the file 0600; give it what open() would: 0666 less the umask
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _open_checked(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"model file '{path}' does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"model file '{path}' is a directory")
    with open(path, "rb") as fh:  # readable, or PermissionError naming it
        head = fh.read(4)
    if not head:
        raise ModelFileError(f"'{path}' is not a valid logloss model file: it is empty")
    if head != b"PK\x03\x04":
        raise ModelFileError(
            f"'{path}' is not a valid logloss model file: it is not a zip (.npz) archive"
        )
    return path


def _read_meta(arrays: Any, zf: zipfile.ZipFile) -> dict:
    name = _META_KEY + ".npy"
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ModelFileError("it has no logloss metadata (a foreign .npz file?)") from None
    if info.file_size > _META_MAX_BYTES:
        raise ModelFileError("its metadata entry is implausibly large")
    raw = arrays[_META_KEY]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError("its metadata entry is malformed")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError("its metadata is not valid JSON") from None
    meta = _expect(meta, dict, "its metadata")
    if meta.get("format") != FORMAT_NAME:
        raise ModelFileError("its metadata does not name the logloss model format")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError("its format version is missing or invalid")
    if version > FORMAT_VERSION:
        written_by = meta.get("logloss_version")
        by = f"logloss {written_by}" if isinstance(written_by, str) else "a newer logloss"
        raise ModelFileError(
            f"it has format version {version}, written by {by}; this logloss "
            f"{__version__} reads format version {FORMAT_VERSION} at most: upgrade logloss "
            "to load it"
        )
    return meta


def read_metadata(path: str | os.PathLike) -> dict:
    """The JSON metadata of a model file, checked for format and version only.

    For inspection (``logloss`` prints the training summary from it); use
    :func:`load` to get a model.

    Examples
    --------
    >>> import numpy as np, logloss as ll, tempfile, os
    >>> model = ll.LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    >>> path = ll.save(model, os.path.join(tempfile.mkdtemp(), "m.npz"))
    >>> from logloss.model_file import read_metadata
    >>> meta = read_metadata(path)
    >>> meta["format"], meta["format_version"]
    ('logloss-model', 1)
    """
    path = _open_checked(Path(path))
    return _guarded(path, lambda arrays, zf: _read_meta(arrays, zf))


def _guarded(path: Path, body: Any) -> Any:
    """Run `body(arrays, zipfile)` on the open archive; every failure is a ModelFileError."""
    try:
        with zipfile.ZipFile(path) as zf, np.load(path, allow_pickle=False) as arrays:
            return body(arrays, zf)
    except ModelFileError as exc:
        raise ModelFileError(f"'{path}' is not a valid logloss model file: {exc}") from None
    except MemoryError:
        raise ModelFileError(
            f"'{path}' is not a valid logloss model file: it declares arrays too large to load"
        ) from None
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        KeyError,
        IndexError,
        TypeError,
        ValueError,
        AttributeError,
        OverflowError,
        RecursionError,
        NotImplementedError,
        # numpy parses each .npy header as a Python literal: a damaged one can fail here
        SyntaxError,
        tokenize.TokenError,
        struct.error,
    ) as exc:
        raise ModelFileError(
            f"'{path}' is not a valid logloss model file: it is corrupt or truncated "
            f"({type(exc).__name__})"
        ) from None


def load(path: str | os.PathLike, *, with_metadata: bool = False) -> Any:
    """Load a model saved by :func:`save`, validating everything; no code is run.

    Only the estimator classes of :mod:`logloss.models` can be named by a file, only
    plain JSON and numeric or text arrays are read (``allow_pickle=False``), and the
    loaded model must predict finite probabilities for its number of features.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    with_metadata : bool, default False
        Also return the extra metadata given to :func:`save`.

    Returns
    -------
    estimator, or (estimator, dict) when `with_metadata`

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ModelFileError
        A ``ValueError``: the file is not a valid logloss model file (corrupt,
        truncated, foreign, edited into inconsistency, or written with a newer
        format version, which the message says).

    Examples
    --------
    >>> import logloss as ll
    >>> ll.load("no-such-file.npz")
    Traceback (most recent call last):
    ...
    FileNotFoundError: model file 'no-such-file.npz' does not exist
    """
    path = _open_checked(Path(path))

    def body(arrays: Any, zf: zipfile.ZipFile) -> tuple[Any, Any]:
        meta = _read_meta(arrays, zf)
        model = _restore(meta.get("model"), arrays, "model")
        _probe(model)
        classes = meta.get("classes")
        if classes is not None and classes != model.classes_.tolist():
            raise ModelFileError("its listed classes differ from the model's")
        extra = _decode(meta.get("metadata", {}), "metadata")
        if not isinstance(extra, dict):
            raise ModelFileError("its user metadata is not a mapping")
        return model, extra

    model, extra = _guarded(path, body)
    return (model, extra) if with_metadata else model
