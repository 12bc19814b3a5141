"""The CUDA (Triton) implementations of logloss.torch, run by Triton's interpreter on CPU
tensors (``TRITON_INTERPRET=1``): the same values and gradients as torch.nn.functional and
as logloss's CPU kernels. Skipped where Triton is not installed."""

from __future__ import annotations

import os

os.environ["TRITON_INTERPRET"] = "1"  # read when a kernel is defined: before the import below

import pytest  # noqa: E402
from support import import_torch  # noqa: E402

torch = import_torch()
pytest.importorskip("triton")
F = torch.nn.functional
tri = pytest.importorskip("logloss.torch._triton_ops")

pytestmark = pytest.mark.xdist_group("triton")  # one worker: the interpreter is slow to warm


def _grad_ref(fn, x, *args, **kwargs):
    leaf = x.detach().clone().requires_grad_(True)
    value = fn(leaf, *args, **kwargs)
    value.sum().backward()
    return value.detach(), leaf.grad


def _tol(dtype):
    return dict(rtol=1e-12, atol=1e-12) if dtype == torch.float64 else dict(rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(7, 37), (3, 5, 4), (9,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "options", [{}, {"label_smoothing": 0.2}, {"weight": True, "ignore_index": 1}]
)
def test_cross_entropy_labels_match_torch(dtype, shape, reduction, options):
    g = torch.Generator().manual_seed(len(shape) * 13 + len(options))
    x = torch.randn(shape, generator=g, dtype=dtype) * 3
    cd = 1 if len(shape) > 1 else 0
    c = shape[cd]
    y = torch.randint(0, c, shape[:cd] + shape[cd + 1 :], generator=g)
    kw = dict(options)
    ii = kw.pop("ignore_index", -100)
    if bool((y == ii).all()):
        y = torch.full_like(y, (ii + 1) % c)
    w = torch.rand(c, generator=g, dtype=dtype) + 0.5 if kw.pop("weight", False) else None
    eps = kw.get("label_smoothing", 0.0)
    loss, lse, grad = tri.ce_triton(x, y, w, ii, reduction, eps, 0.0, None, None, True)
    ref, ref_grad = _grad_ref(F.cross_entropy, x, y, w, ignore_index=ii, reduction=reduction, **kw)
    assert loss.dtype == dtype and loss.shape == ref.shape and grad.shape == x.shape
    torch.testing.assert_close(loss, ref, **_tol(dtype))
    torch.testing.assert_close(grad, ref_grad, **_tol(dtype))
    torch.testing.assert_close(lse, torch.logsumexp(x, dim=cd).to(lse.dtype), **_tol(dtype))


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_probabilities_z_loss_softcap_match_the_cpu_kernels(reduction):
    from logloss.torch._ops import cross_entropy_op

    g = torch.Generator().manual_seed(3)
    x = torch.randn(6, 11, 2, generator=g, dtype=torch.float64) * 20
    t = torch.softmax(torch.randn(6, 11, 2, generator=g, dtype=torch.float64), dim=1)
    y = torch.randint(0, 11, (6, 2), generator=g)
    w = torch.rand(11, generator=g, dtype=torch.float64) + 0.5
    for target in (t, y):
        args = (w, -100, reduction, 0.1, 1e-3, 15.0, None, True)
        ours = tri.ce_triton(x, target, *args)
        cpu = cross_entropy_op(x, target, *args)  # the numba kernels
        for a, b in zip(ours, cpu, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_huge_logits_do_not_cancel():
    x = torch.tensor([[1e30, 1e30, -1e30], [-745.0, -746.0, -744.0]], dtype=torch.float64)
    y = torch.tensor([0, 1])
    loss, _, _ = tri.ce_triton(x, y, None, -100, "none", 0.0, 0.0, None, None, False)
    ref = torch.logsumexp(x - x.max(1, keepdim=True).values, 1) - (
        x.gather(1, y[:, None])[:, 0] - x.max(1).values
    )
    torch.testing.assert_close(loss, ref, rtol=4 * 2.2e-16, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_matches_torch(dtype, reduction):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(8, 3, generator=g, dtype=dtype) * 4
    t = torch.rand(8, 3, generator=g, dtype=dtype)
    w = torch.rand(8, 1, generator=g, dtype=dtype)
    pw = torch.rand(3, generator=g, dtype=dtype) * 3
    loss, grad = tri.bce_triton(x, t, w, pw, reduction, 0.0, True)
    ref, ref_grad = _grad_ref(
        F.binary_cross_entropy_with_logits, x, t, w, reduction=reduction, pos_weight=pw
    )
    torch.testing.assert_close(loss, ref, **_tol(dtype))
    torch.testing.assert_close(grad, ref_grad, **_tol(dtype))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_linear_cross_entropy_matches_torch(reduction):
    g = torch.Generator().manual_seed(7)
    d = dict(dtype=torch.float64, generator=g)
    h = torch.randn(10, 6, **d)
    W = torch.randn(9, 6, **d)
    b = torch.randn(9, **d)
    y = torch.randint(0, 9, (10,), generator=g)
    y[4] = -100
    w = torch.rand(9, **d) + 0.5
    out = tri.linear_ce_triton(h, W, y, b, w, reduction, -100, 0.1, 1e-3, None, 3, None, True)
    hh, WW, bb = (a.clone().requires_grad_(True) for a in (h, W, b))
    z = hh @ WW.T + bb
    ref = F.cross_entropy(z, y, w, reduction=reduction, label_smoothing=0.1)
    lse = torch.logsumexp(z, 1) * (y != -100)
    zl = 1e-3 * lse**2
    if reduction == "mean":
        ref = ref + zl.sum() / (y != -100).sum()
    elif reduction == "sum":
        ref = ref + zl.sum()
    else:
        ref = ref + zl
    ref.sum().backward()
    torch.testing.assert_close(out[0], ref.detach(), rtol=1e-12, atol=1e-12)
    if reduction != "none":  # the fused gradients are of the reduced loss
        for got, want in zip(out[1:], (hh.grad, WW.grad, bb.grad), strict=True):
            torch.testing.assert_close(got, want, rtol=1e-11, atol=1e-12)


def test_bad_input_gets_the_cpu_paths_errors():
    x = torch.randn(3, 4)
    with pytest.raises(ValueError, match="target"):
        tri.ce_triton(x, torch.tensor([0, 1, 4]), None, -100, "mean", 0.0, 0.0, None, None, True)
    with pytest.raises(ValueError, match="reduction"):
        tri.ce_triton(x, torch.tensor([0, 1, 2]), None, -100, "avg", 0.0, 0.0, None, None, True)
    with pytest.raises(ValueError, match="label_smoothing"):
        tri.ce_triton(x, torch.tensor([0, 1, 2]), None, -100, "mean", 1.5, 0.0, None, None, True)
    with pytest.raises(ValueError, match="target"):
        tri.bce_triton(x, torch.full((3, 4), 2.0), None, None, "mean", 0.0, True)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_logits_accumulate_in_float32(dtype):
    g = torch.Generator().manual_seed(11)
    x = (torch.randn(8, 40, generator=g) * 3).to(dtype)
    y = torch.randint(0, 40, (8,), generator=g)
    loss, _, grad = tri.ce_triton(x, y, None, -100, "none", 0.1, 0.0, None, None, True)
    ref, ref_grad = _grad_ref(F.cross_entropy, x.double(), y, reduction="none", label_smoothing=0.1)
    # half a unit of the format when rounded to nearest; the interpreter's bfloat16
    # conversion (NumPy has no bfloat16) truncates, so a whole unit there
    eps = torch.finfo(dtype).eps * (2 if dtype == torch.bfloat16 else 1)
    assert loss.dtype == dtype and grad.dtype == dtype
    assert torch.all((loss.double() - ref).abs() <= ref.abs() * (eps / 2 + 1e-6) + 1e-6)
    assert torch.all((grad.double() - ref_grad).abs() <= ref_grad.abs() * (eps / 2 + 1e-6) + 1e-6)


def test_inplace_writes_the_gradient_over_the_logits():
    g = torch.Generator().manual_seed(13)
    x = torch.randn(5, 9, generator=g, dtype=torch.float64)
    y = torch.randint(0, 9, (5,), generator=g)
    _, ref_grad = _grad_ref(F.cross_entropy, x, y)
    z = x.clone()
    _, _, grad = tri.ce_triton(z, y, None, -100, "mean", 0.0, 0.0, None, None, True, inplace=True)
    assert grad.data_ptr() == z.data_ptr()
    torch.testing.assert_close(z, ref_grad, rtol=1e-12, atol=1e-12)
