"""``warm_up``: it compiles the specialisations real calls look up, and only those."""

from __future__ import annotations

import numpy as np
import pytest

import logloss as ll
from logloss import _kernels as K
from logloss._kernels.warmup import compiled_signatures, warm_up

pytestmark = pytest.mark.xdist_group("numba")

KERNELS = [
    "ce_labels",
    "ce_probs",
    "bce_logits",
    "logistic_loss_grad",
    "matvec, rmatvec",
    "csr_loss_grad, csr_hessp",
]
HALF = ["ce_labels_half", "ce_probs_half"]  # with float32, their compute dtype


def test_warm_up_covers_every_family_and_is_idempotent():
    steps = warm_up(["float64", "float32"])
    assert [(s.kernel, s.dtype) for s in steps] == [
        (k, d) for d in ("float64", "float32") for k in KERNELS + (HALF if d == "float32" else [])
    ]
    assert all(s.layout == "aligned" and s.seconds >= 0 for s in steps)
    again = warm_up(["float64", "float32"])
    assert sum(s.compiled for s in again) == 0


@pytest.mark.filterwarnings("ignore:.*did not converge")
def test_real_calls_need_no_specialisation_the_warm_up_lacks():
    sklearn = pytest.importorskip("sklearn.datasets")
    warm_up(["float32", "float64"])
    before = compiled_signatures()
    assert before["ce_labels_kernel"] >= 2 and before["bce_kernel"] >= 2  # float32, float64
    assert before["ce_labels_half_kernel"] >= 1 and before["ce_probs_half_kernel"] >= 1
    rng = np.random.default_rng(0)
    z = rng.normal(size=(64, 10)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    ll.value_and_grad(ll.cross_entropy)(z, y)
    ll.value_and_grad(ll.cross_entropy)(z, y, out=z)
    ll.cross_entropy(z.astype(np.float64), y, label_smoothing=0.1)
    h = z.astype(np.float16).view(np.uint16)
    K.ce_labels_half(h, y, kind="bfloat16", grad_out=h, smoothing=0.1, softcap=30.0)
    K.ce_probs_half(h, np.full(z.shape, 0.1, np.float32), kind="float16", weight=np.ones(10))
    x = rng.normal(size=1000)
    ll.value_and_grad(ll.binary_cross_entropy_with_logits)(x, (x > 0).astype(float))
    X, yb = sklearn.load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    ll.LogisticRegression().fit(X, yb)
    Xd, yd = sklearn.load_digits(return_X_y=True)
    ll.LogisticRegression(max_iter=20).fit(Xd / 16.0, yd)
    big = rng.normal(size=(2048, 64))
    ll.LogisticRegression(max_iter=5).fit(big, (big[:, 0] > 0).astype(int))
    assert compiled_signatures() == before


def test_unaligned_variants_are_compiled_on_request():
    steps = warm_up(["float64"], unaligned=True)
    assert {s.layout for s in steps} == {"aligned", "unaligned"}
    assert compiled_signatures()["ce_labels_kernel"] >= 2


def test_bad_dtype_and_disabled_numba(monkeypatch):
    with pytest.raises(ValueError, match="float32 or float64"):
        warm_up(["float16"])
    monkeypatch.setenv("LOGLOSS_DISABLE_NUMBA", "1")
    assert warm_up() == []
