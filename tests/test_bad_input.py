"""A catalogue of bad inputs: each is a clean error naming the argument and what arrived.

Losses and activations, linear_cross_entropy, metrics, estimators (hyperparameters and
data) and model files: the exception type and a pattern the message must match.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import logloss as ll
from logloss import metrics
from logloss.model_file import ModelFileError

Z = np.array([[0.5, 1.0, -0.3], [0.1, 0.2, 0.3]])
Y = np.array([0, 2])
P = np.array([0.2, 0.9])
T = np.array([0.0, 1.0])
# a small table for the estimators
X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
YB = np.array([0, 0, 1, 1])
# linear_cross_entropy: 2 rows of hidden size 4, a vocabulary of 3
H = np.ones((2, 4))
W = np.ones((3, 4))


def _fitted():
    return ll.LogisticRegression().fit(X, YB)


def _bytes_file(name: str, data: bytes) -> str:
    """A file in the current directory (the test runs in its tmp_path)."""
    Path(name).write_bytes(data)
    return name


def _model_file_with_meta(name: str, edit) -> str:
    """A valid model file whose JSON metadata is changed by `edit(meta)`."""
    ll.save(_fitted(), name)
    with np.load(name, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["__metadata__"].tobytes().decode())
    edit(meta)
    arrays["__metadata__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(name, **arrays)
    return name


def _foreign_npz(name: str) -> str:
    np.savez(name, a=np.arange(3))
    return name


def _truncated(name: str) -> str:
    ll.save(_fitted(), name)
    data = Path(name).read_bytes()
    return _bytes_file(name, data[: len(data) // 2])


def _pickled_npz(name: str) -> str:
    """An .npz whose metadata entry is an object array: loading must not unpickle it."""
    np.savez(name, __metadata__=np.array([{"format": "logloss-model"}], dtype=object))
    return name


def _zip_without_npy(name: str) -> str:
    with zipfile.ZipFile(name, "w") as zf:
        zf.writestr("__metadata__.npy", b"not an npy header")
    return name


def _set(key, value):
    def edit(meta):
        meta[key] = value

    return edit


def _set_model(key, value):
    def edit(meta):
        meta["model"][key] = value

    return edit


# The table keeps one case per line pair, so it reads as a table.
# fmt: off
CASES = [
    # (id, callable, exception, regex the message must match)
    ("ce-int-logits", lambda: ll.cross_entropy(np.array([[1, 2]]), np.array([0])), TypeError,
     r"`logits` must be a real floating-point array.*integer dtype int64"),
    ("ce-complex", lambda: ll.cross_entropy(Z.astype(complex), Y), TypeError,
     r"`logits` .*complex dtype complex128"),
    ("ce-string", lambda: ll.cross_entropy(np.array([["a", "b"]]), np.array([0])), TypeError,
     r"`logits` .*string dtype"),
    ("ce-bool", lambda: ll.cross_entropy(np.array([[True, False]]), np.array([0])), TypeError,
     r"`logits` .*boolean"),
    ("ce-scalar-logits", lambda: ll.cross_entropy(np.float64(1.0), 0), ValueError,
     r"`logits` must have at least one dimension"),
    ("ce-label-shape", lambda: ll.cross_entropy(Z, np.array([0, 1, 2])), ValueError,
     r"`target` must have shape \(2,\).*got \(3,\)"),
    ("ce-soft-target-shape", lambda: ll.cross_entropy(Z, np.ones((2, 4)) / 4), ValueError,
     r"`target` must have shape \(2,\)"),
    ("ce-label-too-big", lambda: ll.cross_entropy(Z, np.array([0, 3])), ValueError,
     r"`target` labels must be in \[0, 3\).*got 3 at index 1"),
    ("ce-label-negative", lambda: ll.cross_entropy(Z, np.array([-1, 0])), ValueError,
     r"`target` labels must be in \[0, 3\) or equal ignore_index=-100; got -1 at index 0"),
    ("ce-label-not-integral", lambda: ll.cross_entropy(Z, np.array([0.0, 1.5])), ValueError,
     r"`target` labels must be integers; got 1.5 at index 1"),
    ("ce-label-string", lambda: ll.cross_entropy(Z, np.array(["a", "b"])), TypeError,
     r"`target` must hold integer class labels; got dtype <U1"),
    ("ce-nan-logits",
     lambda: ll.cross_entropy(np.array([[0.0, 1.0], [np.nan, 0.0]]), np.array([0, 1])), ValueError,
     r"`logits` must not contain NaN or \+inf; found in row 1"),
    ("ce-posinf-logits", lambda: ll.cross_entropy(np.array([[np.inf, 1.0]]), np.array([0])),
     ValueError, r"`logits` must not contain NaN or \+inf; found in row 0"),
    ("ce-empty-mean", lambda: ll.cross_entropy(np.zeros((0, 3)), np.zeros(0, int)), ValueError,
     r"`logits` is empty"),
    ("ce-zero-classes", lambda: ll.cross_entropy(np.zeros((2, 0)), np.zeros(2, int)), ValueError,
     r"`logits` has zero classes"),
    ("ce-reduction", lambda: ll.cross_entropy(Z, Y, reduction="average"), ValueError,
     r"`reduction` must be one of 'none', 'mean', 'sum'; got 'average'"),
    ("ce-smoothing-high", lambda: ll.cross_entropy(Z, Y, label_smoothing=1.5), ValueError,
     r"`label_smoothing` must be a finite number in \[0, 1\); got 1.5"),
    ("ce-smoothing-one", lambda: ll.cross_entropy(Z, Y, label_smoothing=1.0), ValueError,
     r"`label_smoothing` .*got 1.0"),
    ("ce-smoothing-type", lambda: ll.cross_entropy(Z, Y, label_smoothing="0.1"), TypeError,
     r"`label_smoothing` must be a real number; got str"),
    ("ce-weight-length", lambda: ll.cross_entropy(Z, Y, weight=np.ones(2)), ValueError,
     r"`weight` must have shape \(3,\), one weight per class; got \(2,\)"),
    ("ce-weight-negative", lambda: ll.cross_entropy(Z, Y, weight=np.array([1.0, -1.0, 1.0])),
     ValueError, r"`weight` must be non-negative; got -1.0 at index 1"),
    ("ce-weight-nan", lambda: ll.cross_entropy(Z, Y, weight=np.array([1.0, np.nan, 1.0])),
     ValueError, r"`weight` must be finite"),
    ("ce-axis", lambda: ll.cross_entropy(Z, Y, axis=2), ValueError,
     r"`axis` 2 is out of range for `logits` with 2 dimension"),
    ("ce-axis-type", lambda: ll.cross_entropy(Z, Y, axis=1.0), TypeError,
     r"`axis` must be an integer"),
    ("ce-prob-target-range", lambda: ll.cross_entropy(Z, np.full((2, 3), 1.5)), ValueError,
     r"`target` must be in \[0, 1\]; got 1.5 at index \(0, 0\)"),
    ("ce-z-loss-negative", lambda: ll.cross_entropy(Z, Y, z_loss=-1.0), ValueError,
     r"`z_loss` must be a finite number in \[0, inf\); got -1.0"),
    ("ce-softcap-zero", lambda: ll.cross_entropy(Z, Y, softcap=0.0), ValueError,
     r"`softcap` must be a finite number in \(0, inf\); got 0.0"),
    ("ce-ignore-index-type", lambda: ll.cross_entropy(Z, Y, ignore_index=0.5), TypeError,
     r"`ignore_index` must be an integer"),
    ("nll-posinf", lambda: ll.nll_loss(np.array([[np.inf, 0.0]]), np.array([1])), ValueError,
     r"`log_probs` must not contain NaN or \+inf"),
    ("nll-target-minus-inf", lambda: ll.nll_loss(np.array([[-np.inf, 0.0]]), np.array([0])),
     ValueError, r"`log_probs` must not be -inf at the target class; found in row 0"),
    ("nll-label-range", lambda: ll.nll_loss(Z, np.array([5, 0])), ValueError,
     r"`target` labels must be in \[0, 3\)"),
    ("bce-probs-range", lambda: ll.binary_cross_entropy(np.array([0.2, 1.2]), T), ValueError,
     r"`probs` must be in \[0, 1\]; got 1.2 at index 1"),
    ("bce-probs-nan", lambda: ll.binary_cross_entropy(np.array([0.2, np.nan]), T), ValueError,
     r"`probs` must be in \[0, 1\]; got nan at index 1"),
    ("bce-target-range", lambda: ll.binary_cross_entropy(P, np.array([0.0, 2.0])), ValueError,
     r"`target` must be in \[0, 1\]; got 2.0 at index 1"),
    ("bce-shape", lambda: ll.binary_cross_entropy(P, np.array([0.0, 1.0, 1.0])), ValueError,
     r"`target` must have the same shape as `probs` \(2,\); got \(3,\)"),
    ("bce-int-probs", lambda: ll.binary_cross_entropy(np.array([0, 1]), T), TypeError,
     r"`probs` must be a real floating-point array"),
    ("bce-target-string", lambda: ll.binary_cross_entropy(P, np.array(["0", "1"])), TypeError,
     r"`target` must be a real numeric array; got dtype <U1"),
    ("bce-empty", lambda: ll.binary_cross_entropy(np.zeros(0), np.zeros(0)), ValueError,
     r"`probs` is empty"),
    ("bce-weight-broadcast", lambda: ll.binary_cross_entropy(P, T, weight=np.ones(3)), ValueError,
     r"`weight` of shape \(3,\) does not broadcast to `probs`'s shape \(2,\)"),
    ("bcel-inf", lambda: ll.binary_cross_entropy_with_logits(np.array([np.inf, 0.0]), T),
     ValueError,
     r"`logits` must be finite; got .*inf.* at index \(0,\)"),
    ("bcel-nan", lambda: ll.binary_cross_entropy_with_logits(np.array([0.0, np.nan]), T),
     ValueError,
     r"`logits` must be finite; got .*nan.* at index \(1,\)"),
    ("bcel-pos-weight-negative",
     lambda: ll.binary_cross_entropy_with_logits(P, T, pos_weight=np.array([-1.0])), ValueError,
     r"`pos_weight` must be non-negative; got -1.0"),
    ("bcel-smoothing", lambda: ll.binary_cross_entropy_with_logits(P, T, label_smoothing=-0.1),
     ValueError, r"`label_smoothing` .*got -0.1"),
    ("sfl-gamma", lambda: ll.sigmoid_focal_loss(P, T, gamma=-1.0), ValueError,
     r"`gamma` must be a finite number in \[0, inf\); got -1.0"),
    ("sfl-alpha", lambda: ll.sigmoid_focal_loss(P, T, alpha=1.5), ValueError,
     r"`alpha` must be a finite number in \[0, 1\]; got 1.5"),
    ("mfl-gamma", lambda: ll.softmax_focal_loss(Z, Y, gamma=-0.5), ValueError,
     r"`gamma` .*got -0.5"),
    ("mfl-label", lambda: ll.softmax_focal_loss(Z, np.array([0, 9])), ValueError,
     r"`target` labels must be in \[0, 3\)"),
    ("sigmoid-nan", lambda: ll.sigmoid(np.array([0.0, np.nan])), ValueError,
     r"`x` must not contain NaN; got nan at index \(1,\)"),
    ("sigmoid-int", lambda: ll.sigmoid(np.array([1, 2])), TypeError,
     r"`x` must be a real floating"),
    ("softmax-posinf", lambda: ll.softmax(np.array([np.inf, 0.0])), ValueError,
     r"`x` must not contain NaN or \+inf"),
    ("logsumexp-axis", lambda: ll.logsumexp(Z, axis=-3), ValueError, r"`axis` -3 is out of range"),
    ("vag-unknown", lambda: ll.value_and_grad(len), TypeError,
     r"`fn` len has no registered gradient"),
    ("vag-out-type", lambda: ll.value_and_grad(ll.cross_entropy)(Z, Y, out=[0.0]), TypeError,
     r"`out` must be a NumPy array; got list"),
    ("vag-out-readonly",
     lambda: ll.value_and_grad(ll.cross_entropy)(Z, Y, out=np.broadcast_to(np.zeros(3), (2, 3))),
     ValueError, r"`out` must be writeable"),
    # --- linear_cross_entropy ---
    ("lce-feature-size", lambda: ll.linear_cross_entropy(H, np.ones((3, 5)), Y), ValueError,
     r"`hidden` and `weight` disagree on the feature size D.*\(2, 4\).*\(3, 5\)"),
    ("lce-label-range", lambda: ll.linear_cross_entropy(H, W, np.array([0, 3])), ValueError,
     r"`target` labels must be in \[0, 3\).*got 3 at index 1"),
    ("lce-bias-shape", lambda: ll.linear_cross_entropy(H, W, Y, bias=np.ones(4)), ValueError,
     r"`bias` must have shape \(3,\), one entry per row of `weight`; got \(4,\)"),
    ("lce-chunk-zero", lambda: ll.linear_cross_entropy(H, W, Y, chunk_size=0), ValueError,
     r"`chunk_size` must be a positive integer or None; got 0"),
    ("lce-hidden-nan",
     lambda: ll.linear_cross_entropy(np.array([[np.nan] * 4, [0.0] * 4]), W, Y), ValueError,
     r"`hidden` must be finite; got nan at index \(0, 0\)"),
    ("lce-hidden-int", lambda: ll.linear_cross_entropy(np.ones((2, 4), int), W, Y), TypeError,
     r"`hidden` must be a real floating-point array.*integer dtype int64"),
    ("lce-reduction", lambda: ll.linear_cross_entropy(H, W, Y, reduction="avg"), ValueError,
     r"`reduction` must be one of 'none', 'mean', 'sum'; got 'avg'"),
    # --- metrics ---
    ("log-loss-rows", lambda: metrics.log_loss(np.array([0, 1]), np.full((3, 2), 0.5)),
     ValueError, r"`y_true` must have one entry per row of `y_prob` \(3\); got 2"),
    ("log-loss-nan", lambda: metrics.log_loss(np.array([0, 1]), np.array([0.5, np.nan])),
     ValueError, r"`y_prob` must be finite; got nan at index 1"),
    ("log-loss-range", lambda: metrics.log_loss(np.array([0, 1]), np.array([0.5, 1.5])),
     ValueError, r"`y_prob` must be in \[0, 1\]; got 1.5 at index 1"),
    ("log-loss-one-label", lambda: metrics.log_loss(np.array([1, 1]), np.array([0.5, 0.6])),
     ValueError, r"`y_true` contains only one label \(1\)"),
    ("log-loss-weight-shape",
     lambda: metrics.log_loss(np.array([0, 1]), P, sample_weight=np.ones(3)), ValueError,
     r"`sample_weight` must have shape \(2,\), one weight per sample; got \(3,\)"),
    ("log-loss-normalize", lambda: metrics.log_loss(np.array([0, 1]), P, normalize="yes"),
     TypeError, r"`normalize` must be a bool; got str 'yes'"),
    ("log-loss-empty", lambda: metrics.log_loss(np.array([]), np.array([])), ValueError,
     r"`y_prob` is empty \(shape \(0,\)\)"),
    ("log-loss-unknown-label",
     lambda: metrics.log_loss(np.array([0, 5]), np.full((2, 2), 0.5), labels=[0, 1]),
     ValueError, r"`y_true` contains labels \[5\] that are not in `labels` \[0, 1\]"),
    ("perplexity-label", lambda: metrics.perplexity(Z, np.array([0, 7])), ValueError,
     r"`target` labels must be in \[0, 3\).*got 7 at index 1"),
    ("perplexity-empty", lambda: metrics.perplexity(np.zeros((0, 3)), np.zeros(0, int)),
     ValueError, r"`logits` is empty \(shape \(0, 3\)\)"),
    ("entropy-negative", lambda: metrics.entropy(np.array([0.5, -0.5])), ValueError,
     r"`p` must be non-negative; got -0.5 at index 1"),
    ("entropy-nan", lambda: metrics.entropy(np.array([0.5, np.nan])), ValueError,
     r"`p` must be finite; got nan at index 1"),
    ("kl-shapes", lambda: metrics.kl_divergence(np.array([0.5, 0.5]), np.full(3, 1 / 3)),
     ValueError, r"`p` of shape \(2,\) and `q` of shape \(3,\) do not broadcast"),
    ("kl-negative-q", lambda: metrics.kl_divergence(np.array([0.5, 0.5]), np.array([-0.2, 1.2])),
     ValueError, r"`q` must be non-negative; got -0.2 at index 0"),
    ("brier-range", lambda: metrics.brier_score(np.array([0, 1]), np.array([0.5, 2.0])),
     ValueError, r"`y_prob` must be in \[0, 1\]; got 2.0 at index 1"),
    ("brier-rows", lambda: metrics.brier_score(np.array([0, 1, 1]), P), ValueError,
     r"`y_true` must have one entry per row of `y_prob` \(2\); got 3"),
    # --- estimators: hyperparameters (checked in fit) ---
    ("lr-C-negative", lambda: ll.LogisticRegression(C=-1).fit(X, YB), ValueError,
     r"`C` must be a number in \(0, inf\); got -1 \(int\)"),
    ("lr-C-string", lambda: ll.LogisticRegression(C="big").fit(X, YB), ValueError,
     r"`C` must be a number in \(0, inf\); got 'big' \(str\)"),
    ("lr-solver", lambda: ll.LogisticRegression(solver="sag").fit(X, YB), ValueError,
     r"`solver` must be one of 'lbfgs', 'newton', 'newton-cholesky', 'gd', 'sgd', 'adam'; "
     r"got 'sag'"),
    ("lr-max-iter", lambda: ll.LogisticRegression(max_iter=0).fit(X, YB), ValueError,
     r"`max_iter` must be an integer >= 1; got 0"),
    ("lr-tol", lambda: ll.LogisticRegression(tol=-1.0).fit(X, YB), ValueError,
     r"`tol` must be a number in \[0, inf\); got -1.0"),
    ("lr-learning-rate",
     lambda: ll.LogisticRegression(solver="gd", learning_rate=-1).fit(X, YB), ValueError,
     r"`learning_rate` must be a number in \(0, inf\); got -1"),
    ("lr-callback", lambda: ll.LogisticRegression(callback=3).fit(X, YB), ValueError,
     r"`callback` must be callable or None; got 3 \(int\)"),
    ("lr-dtype", lambda: ll.LogisticRegression(dtype="float16").fit(X, YB), ValueError,
     r"`dtype` must be 'float32', 'float64' or None; got 'float16'"),
    ("lr-fit-intercept", lambda: ll.LogisticRegression(fit_intercept="no").fit(X, YB),
     ValueError, r"`fit_intercept` must be True or False; got 'no'"),
    ("softmax-C-zero", lambda: ll.SoftmaxRegression(C=0).fit(X, YB), ValueError,
     r"`C` must be a number in \(0, inf\); got 0"),
    ("mlp-hidden-zero", lambda: ll.MLPClassifier(hidden_layer_sizes=(0,)).fit(X, YB),
     ValueError, r"`hidden_layer_sizes` must be a positive int.*got \(0,\)"),
    ("mlp-alpha", lambda: ll.MLPClassifier(alpha=-1.0).fit(X, YB), ValueError,
     r"`alpha` must be a number in \[0, inf\); got -1.0"),
    ("mlp-activation", lambda: ll.MLPClassifier(activation="gelu").fit(X, YB), ValueError,
     r"`activation` must be one of 'identity', 'relu', 'tanh', 'logistic'; got 'gelu'"),
    ("mlp-batch-size", lambda: ll.MLPClassifier(batch_size=0).fit(X, YB), ValueError,
     r"`batch_size` must be an integer >= 1 or None; got 0"),
    # --- estimators: data ---
    ("fit-one-class", lambda: ll.LogisticRegression().fit(X, np.zeros(4)), ValueError,
     r"`y` must contain at least 2 classes.*got only one class: 0.0"),
    ("fit-nan-X",
     lambda: ll.LogisticRegression().fit(np.array([[0.0], [np.nan], [1.0], [2.0]]), YB), ValueError,
     r"`X` contains NaN in column 0, first at row 1"),
    ("fit-rows-mismatch", lambda: ll.LogisticRegression().fit(X, YB[:3]), ValueError,
     r"`X` and `y` must have the same number of rows; got 4 rows in `X` and 3 labels in `y`"),
    ("fit-negative-weight",
     lambda: ll.LogisticRegression().fit(X, YB, sample_weight=np.array([1, -1, 1, 1.0])),
     ValueError, r"`sample_weight` must be non-negative; got -1.0 at index 1"),
    ("fit-class-weight", lambda: ll.LogisticRegression(class_weight="even").fit(X, YB),
     ValueError, r"`class_weight` must be None, 'balanced' or a dict.*got 'even'"),
    ("predict-features", lambda: _fitted().predict(np.ones((2, 3))), ValueError,
     r"X has 3 features, but LogisticRegression is expecting 2 features"),
    ("predict-inf", lambda: _fitted().predict_proba(np.array([[np.inf, 0.0]])), ValueError,
     r"`X` contains inf in column 0, first at row 0"),
    ("predict-unfitted", lambda: ll.LogisticRegression().predict(X), NotFittedError,
     r"This LogisticRegression instance is not fitted yet"),
    ("score-rows-mismatch", lambda: _fitted().score(X, YB[:2]), ValueError,
     r"`X` and `y` must have the same number of rows; got 4 rows in `X` and 2 labels in `y`"),
    ("score-unseen-label", lambda: _fitted().score(X, np.array([0, 1, 7, 1])), ValueError,
     r"`y` contains label\(s\) the model never saw in fit: \[7\]"),
    # --- save / load (the test runs in its own tmp_path) ---
    ("save-unfitted", lambda: ll.save(ll.LogisticRegression(), "m.npz"), ValueError,
     r"this LogisticRegression is not fitted yet"),
    ("save-not-a-model", lambda: ll.save(object(), "m.npz"), TypeError,
     r"`model` must be a logloss estimator .*got object"),
    ("save-metadata-list", lambda: ll.save(_fitted(), "m.npz", metadata=[1]), TypeError,
     r"`metadata` must be a dict or None; got list"),
    ("save-metadata-object", lambda: ll.save(_fitted(), "m.npz", metadata={"a": object()}),
     TypeError, r"cannot save metadata.* of type object"),
    ("save-missing-dir", lambda: ll.save(_fitted(), "no/such/dir/m.npz"), FileNotFoundError,
     r"cannot write model file 'no/such/dir/m.npz': its directory 'no/such/dir' does not exist"),
    ("load-missing", lambda: ll.load("none.npz"), FileNotFoundError,
     r"model file 'none.npz' does not exist"),
    ("load-directory", lambda: ll.load("."), IsADirectoryError, r"model file '.' is a directory"),
    ("load-empty", lambda: ll.load(_bytes_file("e.npz", b"")), ModelFileError,
     r"'e.npz' is not a valid logloss model file: it is empty"),
    ("load-not-zip", lambda: ll.load(_bytes_file("t.npz", b"a,b\n1,2\n")), ModelFileError,
     r"'t.npz' is not a valid logloss model file: it is not a zip"),
    ("load-truncated", lambda: ll.load(_truncated("half.npz")), ModelFileError,
     r"'half.npz' is not a valid logloss model file: it is corrupt or truncated"),
    ("load-foreign-npz", lambda: ll.load(_foreign_npz("f.npz")), ModelFileError,
     r"'f.npz' .*has no logloss metadata"),
    ("load-object-array", lambda: ll.load(_pickled_npz("p.npz")), ModelFileError,
     r"'p.npz' is not a valid logloss model file"),
    ("load-bad-npy", lambda: ll.load(_zip_without_npy("z.npz")), ModelFileError,
     r"'z.npz' is not a valid logloss model file"),
    ("load-newer-format",
     lambda: ll.load(_model_file_with_meta("v.npz", _set("format_version", 99))), ModelFileError,
     r"'v.npz' .*format version 99.*upgrade logloss"),
    ("load-wrong-format-name",
     lambda: ll.load(_model_file_with_meta("n.npz", _set("format", "other"))), ModelFileError,
     r"'n.npz' .*does not name the logloss model format"),
    ("load-unknown-estimator",
     lambda: ll.load(_model_file_with_meta("u.npz", _set_model("estimator", "os.system"))),
     ModelFileError, r"'u.npz' .*names an unknown estimator 'os.system'"),
]


@pytest.mark.parametrize("fn,exc,match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_error(fn, exc, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(exc, match=match):
        fn()


def test_catalogue_is_large_and_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)) >= 40
