"""A catalogue of bad inputs: each raises ValueError/TypeError naming the argument and what arrived."""

from __future__ import annotations

import numpy as np
import pytest

import logloss as ll

Z = np.array([[0.5, 1.0, -0.3], [0.1, 0.2, 0.3]])
Y = np.array([0, 2])
P = np.array([0.2, 0.9])
T = np.array([0.0, 1.0])

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
    ("ce-nan-logits", lambda: ll.cross_entropy(np.array([[0.0, 1.0], [np.nan, 0.0]]), np.array([0, 1])),
     ValueError, r"`logits` must not contain NaN or \+inf; found in row 1"),
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
    ("ce-axis-type", lambda: ll.cross_entropy(Z, Y, axis=1.0), TypeError, r"`axis` must be an integer"),
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
    ("bcel-inf", lambda: ll.binary_cross_entropy_with_logits(np.array([np.inf, 0.0]), T), ValueError,
     r"`logits` must be finite; got .*inf.* at index \(0,\)"),
    ("bcel-nan", lambda: ll.binary_cross_entropy_with_logits(np.array([0.0, np.nan]), T), ValueError,
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
    ("mfl-gamma", lambda: ll.softmax_focal_loss(Z, Y, gamma=-0.5), ValueError, r"`gamma` .*got -0.5"),
    ("mfl-label", lambda: ll.softmax_focal_loss(Z, np.array([0, 9])), ValueError,
     r"`target` labels must be in \[0, 3\)"),
    ("sigmoid-nan", lambda: ll.sigmoid(np.array([0.0, np.nan])), ValueError,
     r"`x` must not contain NaN; got nan at index \(1,\)"),
    ("sigmoid-int", lambda: ll.sigmoid(np.array([1, 2])), TypeError, r"`x` must be a real floating"),
    ("softmax-posinf", lambda: ll.softmax(np.array([np.inf, 0.0])), ValueError,
     r"`x` must not contain NaN or \+inf"),
    ("logsumexp-axis", lambda: ll.logsumexp(Z, axis=-3), ValueError, r"`axis` -3 is out of range"),
    ("vag-unknown", lambda: ll.value_and_grad(len), TypeError, r"`fn` len has no registered gradient"),
    ("vag-out-type", lambda: ll.value_and_grad(ll.cross_entropy)(Z, Y, out=[0.0]), TypeError,
     r"`out` must be a NumPy array; got list"),
    ("vag-out-readonly",
     lambda: ll.value_and_grad(ll.cross_entropy)(Z, Y, out=np.broadcast_to(np.zeros(3), (2, 3))),
     ValueError, r"`out` must be writeable"),
]


@pytest.mark.parametrize("fn,exc,match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_error(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_catalogue_is_large_and_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)) >= 40
