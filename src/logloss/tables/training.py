"""Training on a table: estimator from options, split and encode, fit, score, describe.

What ``logloss fit`` does between reading a file and writing a model file, as
functions another data engine can reuse: :func:`make_estimator` builds the
estimator from command-line style options, :func:`prepare_training` splits the
table and encodes each split, :func:`fit_prepared` trains (and calibrates, with a
calibration split), :func:`score_splits` scores every split and
:func:`model_metadata` says what the model file carries besides the estimator.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .columns import as_frames, choose_features, column_of, encode_target, train_test_rows
from .options import OptionError
from .preprocess import MAX_CATEGORIES, Preprocessor

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = [
    "MODELS",
    "Prepared",
    "SplitLabels",
    "base_estimator",
    "calibrate_prepared",
    "fit_prepared",
    "make_estimator",
    "model_metadata",
    "prepare_training",
    "score_splits",
]

MODELS = ("logistic", "softmax", "mlp")
ESTIMATOR_OF_MODEL = {
    "logistic": "LogisticRegression",
    "softmax": "SoftmaxRegression",
    "mlp": "MLPClassifier",
}
CALIBRATION_FRACTION = 0.2


CLASS_WEIGHTS = ("balanced",)
PENALTIES = ("l2", "l1", "elasticnet", "none", "firth")
# the solvers with a proximal step, which an L1 part needs; those early stopping needs
_PROXIMAL = ("gd", "sgd")
_STOCHASTIC = ("sgd", "adam")


def make_estimator(
    model: str = "logistic",
    *,
    C: float | None = None,
    solver: str | None = None,
    max_iter: int | None = None,
    hidden_layer_sizes: Sequence[int] | None = None,
    seed: int | None = 0,
    verbose: int = 0,
    class_weight: str | None = None,
    penalty: str | None = None,
    l1_ratio: float | None = None,
    tol: float | None = None,
    early_stopping: bool = False,
) -> Any:
    """An unfitted estimator of :mod:`logloss.models` from command-line style options.

    `C` is the inverse L2 strength of every model: scikit-learn's ``C`` for the
    linear models and ``alpha = 1 / C`` for the MLP, whose penalty has the same
    form (``||W||^2 / (2 C)`` added to the summed loss, all divided by n).
    `penalty` ("l2", "l1", "elasticnet", "none" or "firth", with `l1_ratio` for the
    elastic net) applies to the linear models; `class_weight` "balanced" weighs each class
    by ``n / (K n_c)``; `early_stopping` needs solver sgd or adam. Options left at
    None keep the estimator's defaults. A combination that cannot train is an
    :class:`~logloss.tables.options.OptionError` naming the option.

    Examples
    --------
    >>> make_estimator("mlp", C=100.0, hidden_layer_sizes=[8]).get_params()["alpha"]
    0.01
    >>> make_estimator("logistic", penalty="l1")
    Traceback (most recent call last):
    ...
    logloss.tables.options.OptionError: invalid value for --penalty: l1 needs --solver gd or sgd (proximal steps); got the default solver lbfgs
    """  # noqa: E501
    from .. import models

    if model not in MODELS:
        raise ValueError(f"`model` must be one of {', '.join(MODELS)}; got {model!r}")
    if C is not None and not (isinstance(C, (int, float)) and C > 0):
        raise ValueError(f"`C` must be a positive number; got {C!r}")
    if max_iter is not None and (not isinstance(max_iter, int) or max_iter < 1):
        raise ValueError(f"`max_iter` must be an integer >= 1; got {max_iter!r}")
    params: dict[str, Any] = {"random_state": seed, "verbose": verbose}
    if max_iter is not None:
        params["max_iter"] = max_iter
    if model == "mlp":
        from ..models.mlp import MLP_SOLVERS as solvers

        if C is not None:
            params["alpha"] = 1.0 / C
        if hidden_layer_sizes is not None:
            if not hidden_layer_sizes or any(
                isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hidden_layer_sizes
            ):
                raise ValueError(
                    f"`hidden_layer_sizes` must be positive integers; got {hidden_layer_sizes!r}"
                )
            params["hidden_layer_sizes"] = tuple(hidden_layer_sizes)
    else:
        from ..models.linear import LINEAR_SOLVERS as solvers

        if hidden_layer_sizes is not None:
            raise ValueError("hidden layer sizes apply to --model mlp only")
        if C is not None:
            params["C"] = float(C)
    if solver is not None:
        if solver not in solvers:
            raise ValueError(
                f"solver {solver!r} does not train a {model} model; choose one of "
                f"{', '.join(solvers)}"
            )
        params["solver"] = solver
    estimator = getattr(models, ESTIMATOR_OF_MODEL[model])(**params)
    chosen = estimator.get_params()["solver"]
    given = f"--solver {chosen}" if solver is not None else f"the default solver {chosen}"
    params = _training_options(model, given, chosen, class_weight, penalty, l1_ratio, tol)
    if early_stopping:
        if chosen not in _STOCHASTIC:
            raise OptionError("--early-stopping", f"needs --solver sgd or adam; got {given}")
        params["early_stopping"] = True
    return estimator.set_params(**params)


def _training_options(
    model: str,
    given: str,
    solver: str,
    class_weight: str | None,
    penalty: str | None,
    l1_ratio: float | None,
    tol: float | None,
) -> dict[str, Any]:
    """The estimator parameters of --class-weight, --penalty, --l1-ratio and --tol, checked."""
    params: dict[str, Any] = {}
    if class_weight is not None:
        if class_weight not in CLASS_WEIGHTS:
            raise OptionError("--class-weight", f"must be balanced or none; got {class_weight!r}")
        params["class_weight"] = class_weight
    if penalty is not None:
        if model == "mlp":
            raise OptionError(
                "--penalty", "applies to --model logistic and softmax; the mlp's L2 penalty is --C"
            )
        if penalty not in PENALTIES:
            raise OptionError(
                "--penalty", f"must be one of {', '.join(PENALTIES)}; got {penalty!r}"
            )
        if penalty == "firth" and not _has_firth():
            raise OptionError(
                "--penalty",
                "firth needs LogisticRegression(penalty='firth'), which this "
                "version of logloss does not have",
            )
        if penalty in ("l1", "elasticnet") and solver not in _PROXIMAL:
            raise OptionError(
                "--penalty", f"{penalty} needs --solver gd or sgd (proximal steps); got {given}"
            )
        params["penalty"] = None if penalty == "none" else penalty
    if l1_ratio is not None:
        if penalty != "elasticnet":
            raise OptionError("--l1-ratio", "applies only with --penalty elasticnet")
        if not 0.0 <= l1_ratio <= 1.0:
            raise OptionError("--l1-ratio", f"must be in [0, 1]; got {l1_ratio:g}")
        params["l1_ratio"] = float(l1_ratio)
    if tol is not None:
        if not (tol >= 0.0 and np.isfinite(tol)):
            raise OptionError("--tol", f"must be a finite number >= 0; got {tol:g}")
        params["tol"] = float(tol)
    return params


def _has_firth() -> bool:
    from ..models.linear import PENALTIES as supported

    return "firth" in supported


class SplitLabels(Mapping[str, NDArray]):
    """The labels of each split, held as class codes: ``labels[name]`` is
    ``classes[codes[name]]``, made afresh at each access.

    At 5M rows the labels as text (numpy ``U7``) take 140 MB that would stay in
    memory through the fit and the scoring; the codes take 5 MB (int8).

    Examples
    --------
    >>> labels = SplitLabels({"training": np.array([1, 0, 1], np.int8)}, np.array(["a", "b"]))
    >>> labels["training"].tolist(), list(labels), labels.size("training")
    (['b', 'a', 'b'], ['training'], 3)
    """

    def __init__(self, codes: Mapping[str, NDArray[np.signedinteger]], classes: NDArray):
        self.codes = dict(codes)
        self.classes = classes

    def __getitem__(self, name: str) -> NDArray:
        return self.classes[self.codes[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    def size(self, name: str) -> int:
        """The number of rows of split `name` (without making its labels)."""
        return int(self.codes[name].size)

    def counts(self, name: str) -> NDArray[np.intp]:
        """How many rows of split `name` each class has."""
        return np.bincount(self.codes[name], minlength=self.classes.size)


@dataclass
class Prepared:
    """A table turned into matrices: one design matrix and label vector per split."""

    X: dict[str, Any]  # "training", "calibration" (optional), "held-out": dense or CSR
    y: Mapping[str, NDArray]  # a SplitLabels from prepare_training
    preprocessor: Preprocessor
    target: str
    classes: NDArray
    prior: NDArray[np.float64]  # class frequencies of the training rows
    notes: list[str]
    n_rows: int  # rows of the table


def prepare_training(
    df: pd.DataFrame | list[pd.DataFrame],
    target: str,
    *,
    features: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    test_size: float = 0.2,
    seed: int = 0,
    calibrate: bool = False,
    max_categories: int = MAX_CATEGORIES,
    source: str = "the data",
    consume: bool = False,
    text: Sequence[str] = (),
    hash_features: int | None = None,
) -> Prepared:
    """Split `df` (stratified), fit the :class:`Preprocessor` on the training rows, encode all.

    With `calibrate`, a fifth of the training rows is kept apart for fitting
    the temperature. No copy of the table is made: each matrix is written
    directly from the table's columns. `df` may be the list of blocks from
    :func:`read_table_blocks`; with `consume`, each block is dropped from that
    list once encoded (see :meth:`Preprocessor.transform_parts`). `text` names
    free-text columns (TF-IDF) and `hash_features` hashes the text columns above
    `max_categories`; the matrices are CSR when :attr:`Preprocessor.sparse` says so.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": range(10), "y": ["a", "b"] * 5})
    >>> prepared = prepare_training(df, "y", test_size=0.2)
    >>> {name: X.shape for name, X in prepared.X.items()}
    {'training': (8, 1), 'held-out': (2, 1)}
    """
    frames = as_frames(df)
    columns = choose_features(
        list(frames[0].columns), target, features=features, drop=drop, source=source, text=text
    )
    # no whole-table labels: each split's labels are taken from the class codes below
    tgt = encode_target(column_of(frames, target), target, labels=False)
    # the class codes split as the labels would (same order), without sorting strings
    train_pos, test_pos = train_test_rows(tgt.codes, test_size, seed)
    parts = {"training": train_pos}
    if calibrate:
        fit_sub, cal_sub = train_test_rows(tgt.codes[train_pos], CALIBRATION_FRACTION, seed + 1)
        if cal_sub.size == 0:
            raise ValueError("too few training rows to keep some apart for --calibrate")
        parts = {"training": train_pos[fit_sub], "calibration": train_pos[cal_sub]}
    if test_pos.size:
        parts["held-out"] = test_pos

    notes = []
    if tgt.n_missing:
        notes.append(
            f"Left out {tgt.n_missing:,} row{'s' if tgt.n_missing != 1 else ''} whose target "
            f"{target!r} is missing."
        )
    # Only the labels and table rows of each split are kept: the whole-table target
    # arrays go before the design matrices are built (at 5M rows some 200 MB).
    y = SplitLabels({name: tgt.codes[pos] for name, pos in parts.items()}, tgt.classes)
    # with no target missing, the positions are the table's rows: no copy
    rows = {name: tgt.rows[pos] if tgt.n_missing else pos for name, pos in parts.items()}
    train_counts = y.counts("training")
    classes = tgt.classes
    del tgt, parts, train_pos, test_pos
    pre = Preprocessor(max_categories, hash_features=hash_features, text_columns=text)
    pre.fit(frames, columns, rows=rows["training"])
    n_rows = int(sum(len(f) for f in frames))
    del frames
    X, reports = pre.transform_parts(
        df if isinstance(df, list) else [df], rows, source=source, consume=consume
    )
    del rows
    for name, report in reports.items():
        if name == "training":
            notes.extend(report.messages(pre))
        elif report.unseen:
            notes.extend(
                m.replace("Warning: ", f"In the {name} rows, ")
                for m in report.messages(pre)
                if m.startswith("Warning")
            )
    return Prepared(
        X=X,
        y=y,
        preprocessor=pre,
        target=target,
        classes=classes,
        prior=train_counts / train_counts.sum(),
        notes=notes,
        n_rows=n_rows,
    )


def fit_prepared(prepared: Prepared, estimator: Any) -> tuple[Any, list[str]]:
    """Fit `estimator` on the training matrix, then :func:`calibrate_prepared` it.

    Returns the model (the estimator, or the calibrated wrapper around it) and notes.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5, 6, 7], "y": [0, 0, 1, 0, 1, 0, 1, 1]})
    >>> model, notes = fit_prepared(prepare_training(df, "y"), make_estimator("logistic"))
    >>> type(model).__name__, model.classes_.tolist(), notes
    ('LogisticRegression', [0, 1], [])
    """
    estimator.fit(prepared.X["training"], prepared.y["training"])
    return calibrate_prepared(prepared, estimator)


def calibrate_prepared(prepared: Prepared, fitted: Any) -> tuple[Any, list[str]]:
    """With a calibration split, wrap the already fitted estimator `fitted` in
    :class:`~logloss.models.TemperatureScaling` fitted there (it is not refitted).

    Without a calibration split the model is `fitted` itself. Returns the model
    and the notes for the user.
    """
    from ..models import TemperatureScaling

    notes: list[str] = []
    if "calibration" not in prepared.X:
        return fitted, notes
    scaler = TemperatureScaling(fitted, verbose=0)
    scaler.fit(prepared.X["calibration"], prepared.y["calibration"])
    notes.append(
        f"Temperature scaling on {prepared.y['calibration'].size:,} calibration rows: "
        f"T = {scaler.temperature_:.4g}, log loss {scaler.loss_before_:.4f} → "
        f"{scaler.loss_after_:.4f}, top-label ECE {scaler.ece_before_:.4f} → "
        f"{scaler.ece_after_:.4f}."
    )
    if getattr(scaler, "separable_", False):
        notes.append(
            "Every calibration row was classified correctly, so the likelihood alone would "
            "drive T towards 0; T was fitted to Laplace-smoothed targets instead and kept "
            "at most 1 (the model is not made more confident than that evidence allows)."
        )
    return scaler, notes


def score_splits(
    prepared: Prepared, model: Any, *, release: bool = False
) -> dict[str, dict[str, Any]]:
    """:func:`logloss.metrics.evaluation.evaluate` on each split; the training
    frequencies are the baseline.

    With `release`, each split's design matrix leaves ``prepared.X`` as soon as
    its probabilities are computed, so the scoring's temporaries do not come on
    top of it (for a caller that needs the matrices no more).
    """
    from ..metrics.evaluation import evaluate

    labels = prepared.y
    # With the model's classes those of the table (as after every fit on it), each split is
    # scored on its class codes: the same numbers without a split's labels as text (at 5M
    # rows, 112 MB more at the scoring's peak); the labels are then put in the result.
    by_code = isinstance(labels, SplitLabels) and _same_classes(model.classes_, labels.classes)
    scores = {}
    for name in list(prepared.X):
        proba = model.predict_proba(prepared.X.pop(name) if release else prepared.X[name])
        if not by_code:
            scores[name] = evaluate(labels[name], proba, model.classes_, prior=prepared.prior)
            continue
        k = labels.classes.size
        score = evaluate(labels.codes[name], proba, np.arange(k), prior=prepared.prior)
        score["classes"] = [_plain(c) for c in labels.classes]
        score["majority_class"] = _plain(labels.classes[score["majority_class"]])
        scores[name] = score
    return scores


def _same_classes(a: Any, b: NDArray) -> bool:
    a = np.asarray(a)
    return a.shape == b.shape and a.dtype.kind == b.dtype.kind and bool((a == b).all())


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def base_estimator(model: Any) -> Any:
    """The trained classifier inside a calibrated model (the model itself otherwise)."""
    inner = getattr(model, "estimator", None)
    return inner if inner is not None and hasattr(inner, "classes_") else model


def model_metadata(
    prepared: Prepared, scores: Mapping[str, Any], *, source: str, settings: Mapping[str, Any]
) -> dict[str, Any]:
    """What a model file written by ``logloss fit`` carries besides the estimator."""
    classes = [c.item() if isinstance(c, np.generic) else c for c in prepared.classes]
    kind = {"U": "text", "b": "boolean"}.get(prepared.classes.dtype.kind, "integer")
    return {
        "preprocessing": prepared.preprocessor.to_dict(),
        "feature_names": prepared.preprocessor.feature_names_out,
        "target": {"name": prepared.target, "classes": classes, "kind": kind},
        "training": {
            "data": source,
            "rows": prepared.n_rows,
            "settings": dict(settings),
            "scores": {k: dict(v) for k, v in scores.items()},
        },
    }
