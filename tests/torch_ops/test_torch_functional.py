"""logloss.torch against torch.nn.functional: values, gradients through autograd, the
torch.library registration (opcheck, torch.compile), half precision and bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from support import import_torch

torch = import_torch()
F = torch.nn.functional
lt = pytest.importorskip("logloss.torch")


def _pair(fn_ll, fn_ref, x, *args, **kwargs):
    """(value, grad) of each, from the same leaf values; backward of sum() for 'none'."""
    out = []
    for fn in (fn_ll, fn_ref):
        leaf = x.detach().clone().requires_grad_(True)
        value = fn(leaf, *args, **kwargs)
        value.sum().backward()
        out.append((value.detach(), leaf.grad))
    return out


def _close(a, b, dtype):
    tol = {torch.float64: 1e-12, torch.float32: 2e-6}[dtype]
    torch.testing.assert_close(a, b, rtol=tol, atol=tol)


SHAPES = [(7, 5), (3, 4, 6), (2, 3, 2, 2), (5,)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"label_smoothing": 0.2},
        {"weight": True},
        {"ignore_index": 1},
        {"weight": True, "ignore_index": 2, "label_smoothing": 0.1},
    ],
)
def test_cross_entropy_labels_match_torch(dtype, shape, reduction, options):
    g = torch.Generator().manual_seed(hash((shape, reduction)) % 2**31)
    x = torch.randn(shape, generator=g, dtype=dtype) * 3
    c = shape[1] if len(shape) > 1 else shape[0]
    batch = shape[:1] + shape[2:] if len(shape) > 1 else ()
    y = torch.randint(0, c, batch, generator=g)
    kwargs = dict(options)
    ignored = kwargs.get("ignore_index", -100)
    if bool((y == ignored).all()):  # all ignored: PyTorch's NaN, a documented difference
        y = torch.full_like(y, (ignored + 1) % c)
    if kwargs.pop("weight", False):
        kwargs["weight"] = torch.rand(c, generator=g, dtype=dtype) + 0.5
    (v1, g1), (v2, g2) = _pair(
        lt.cross_entropy, F.cross_entropy, x, y, reduction=reduction, **kwargs
    )
    assert v1.dtype == v2.dtype and v1.shape == v2.shape
    _close(v1, v2, dtype)
    _close(g1, g2, dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probabilities_match_torch(dtype, reduction, smoothing):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(6, 4, 3, generator=g, dtype=dtype)
    t = torch.softmax(torch.randn(6, 4, 3, generator=g, dtype=dtype), dim=1)
    w = torch.rand(4, generator=g, dtype=dtype) + 0.5
    (v1, g1), (v2, g2) = _pair(
        lt.cross_entropy, F.cross_entropy, x, t, w, reduction=reduction,
        label_smoothing=smoothing,
    )  # fmt: skip
    _close(v1, v2, dtype)
    _close(g1, g2, dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weights", ["none", "weight", "pos_weight", "both"])
def test_bce_with_logits_matches_torch(dtype, reduction, weights):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(8, 3, generator=g, dtype=dtype) * 4
    t = torch.rand(8, 3, generator=g, dtype=dtype)
    w = torch.rand(8, 1, generator=g, dtype=dtype) if weights in ("weight", "both") else None
    pw = torch.rand(3, generator=g, dtype=dtype) * 3 if weights in ("pos_weight", "both") else None
    (v1, g1), (v2, g2) = _pair(
        lt.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, x, t, w,
        reduction=reduction, pos_weight=pw,
    )  # fmt: skip
    _close(v1, v2, dtype)
    _close(g1, g2, dtype)


def test_options_beyond_torch_match_a_float64_formula():
    """z-loss, soft-capping and BCE label smoothing: a plain autograd float64 formula."""
    g = torch.Generator().manual_seed(7)
    x = torch.randn(9, 6, generator=g, dtype=torch.float64) * 5
    y = torch.randint(0, 6, (9,), generator=g)

    def reference(z, y):
        z = 4.0 * torch.tanh(z / 4.0)
        lse = torch.logsumexp(z, dim=1)
        return (lse - z.gather(1, y[:, None])[:, 0]).mean() + 1e-2 * (lse**2).mean()

    ours = lambda z, y: lt.cross_entropy(z, y, z_loss=1e-2, softcap=4.0)  # noqa: E731
    (v1, g1), (v2, g2) = _pair(ours, reference, x, y)
    _close(v1, v2, torch.float64)
    _close(g1, g2, torch.float64)

    t = torch.rand(9, 6, generator=g, dtype=torch.float64)

    def bce_reference(z, t):
        s = t * 0.8 + 0.1
        return (s * F.softplus(-z) + (1 - s) * F.softplus(z)).mean()

    ours = lambda z, t: lt.binary_cross_entropy_with_logits(z, t, label_smoothing=0.2)  # noqa: E731
    (v1, g1), (v2, g2) = _pair(ours, bce_reference, x, t)
    _close(v1, v2, torch.float64)
    _close(g1, g2, torch.float64)


def test_gradcheck_float64():
    g = torch.Generator().manual_seed(11)
    x = torch.randn(5, 4, 2, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[0, 1], [2, -100], [3, 3], [1, 0], [-100, 2]])
    w = torch.tensor([1.0, 2.0, 0.5, 1.5], dtype=torch.float64)
    t = torch.rand(5, 4, 2, generator=g, dtype=torch.float64)
    for reduction in ("mean", "none"):
        assert torch.autograd.gradcheck(
            lambda z, r=reduction: lt.cross_entropy(
                z, y, w, reduction=r, label_smoothing=0.1, z_loss=0.01, softcap=3.0
            ),
            (x,),
        )
        assert torch.autograd.gradcheck(
            lambda z, r=reduction: lt.binary_cross_entropy_with_logits(z, t, reduction=r), (x,)
        )


def test_backward_scales_by_grad_output_and_survives_a_second_backward():
    x = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 5, (6,))
    loss = lt.cross_entropy(x, y)
    (loss * 3.0).backward(retain_graph=True)
    first = x.grad.clone()
    x.grad = None
    loss.backward()  # the stored gradient was not scaled in place
    torch.testing.assert_close(first, 3.0 * x.grad)
    ref = x.detach().clone().requires_grad_(True)
    F.cross_entropy(ref, y).backward()
    torch.testing.assert_close(x.grad, ref.grad)


def test_registered_ops_pass_opcheck():
    from logloss.torch._ops import bce_with_logits_op, cross_entropy_op

    x = torch.randn(6, 4, requires_grad=True)
    y = torch.randint(0, 4, (6,))
    for reduction, need_grad in itertools.product(("mean", "none"), (True, False)):
        args = (x, y, None, -100, reduction, 0.1, 0.01, None, None, need_grad)
        torch.library.opcheck(cross_entropy_op, args)
        args = (x, torch.rand(6, 4), None, None, reduction, 0.0, need_grad)
        torch.library.opcheck(bce_with_logits_op, args)


def test_torch_compile_fullgraph_traces_one_op():
    x = torch.randn(16, 7, requires_grad=True)
    y = torch.randint(0, 7, (16,))
    step = torch.compile(lambda z, t: 2.0 * lt.cross_entropy(z, t, z_loss=1e-3), fullgraph=True)
    loss = step(x, y)
    loss.backward()
    ref = x.detach().clone().requires_grad_(True)
    expect = 2.0 * (F.cross_entropy(ref, y) + 1e-3 * (torch.logsumexp(ref, 1) ** 2).mean())
    expect.backward()
    torch.testing.assert_close(loss, expect)
    torch.testing.assert_close(x.grad, ref.grad)


def test_count_normalises_accumulated_micro_batches_to_the_global_mean():
    g = torch.Generator().manual_seed(13)
    x = torch.randn(12, 5, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 5, (12,), generator=g)
    y[[1, 7, 8]] = -100
    n_counted = int((y != -100).sum())
    total = sum(
        lt.cross_entropy(x[i : i + 4], y[i : i + 4], count=n_counted, z_loss=0.1)
        for i in range(0, 12, 4)
    )
    total.backward()
    ref = x.detach().clone().requires_grad_(True)
    whole = lt.cross_entropy(ref, y, z_loss=0.1)
    whole.backward()
    torch.testing.assert_close(total, whole)
    torch.testing.assert_close(x.grad, ref.grad)
    with pytest.raises(ValueError, match="count"):
        lt.cross_entropy(x, y, reduction="sum", count=3)
    with pytest.raises(ValueError, match="count"):
        lt.cross_entropy(x, y, count=0)


def test_return_lse_is_the_detached_row_logsumexp():
    x = torch.randn(3, 6, 2, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 6, (3, 2))
    loss, lse = lt.cross_entropy(x, y, return_lse=True)
    torch.testing.assert_close(lse, torch.logsumexp(x.detach(), dim=1))
    assert not lse.requires_grad and lse.dtype == torch.float64
    loss.backward()


def test_all_ignored_batch_gives_zero_not_nan():
    x = torch.randn(4, 3, requires_grad=True)
    y = torch.full((4,), -100)
    loss = lt.cross_entropy(x, y)
    loss.backward()
    assert loss.item() == 0.0 and torch.count_nonzero(x.grad) == 0
    assert torch.isnan(F.cross_entropy(x.detach(), y))  # PyTorch's, documented as a difference


def test_modules_match_their_torch_counterparts():
    x = torch.randn(8, 5, requires_grad=True)
    y = torch.randint(0, 5, (8,))
    w = torch.rand(5) + 0.5
    ours = lt.CrossEntropyLoss(weight=w, label_smoothing=0.1)(x, y)
    torch.testing.assert_close(ours, torch.nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)(x, y))
    t = torch.rand(8, 5)
    ours = lt.BCEWithLogitsLoss(pos_weight=w)(x, t)
    torch.testing.assert_close(ours, torch.nn.BCEWithLogitsLoss(pos_weight=w)(x, t))
    assert "weight" in dict(lt.CrossEntropyLoss(weight=w).named_buffers())


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_is_computed_in_float32(dtype):
    """Loss and gradient in the input's dtype, within half an ulp of that dtype of the
    float64 values of the same (rounded) logits: the only error is the final rounding."""
    g = torch.Generator().manual_seed(17)
    x = (torch.randn(64, 50, generator=g) * 4).to(dtype).requires_grad_(True)
    y = torch.randint(0, 50, (64,), generator=g)
    loss = lt.cross_entropy(x, y, reduction="none")
    loss.sum().backward()
    x64 = x.detach().double().requires_grad_(True)
    ref = F.cross_entropy(x64, y, reduction="none")
    ref.sum().backward()
    assert loss.dtype == dtype and x.grad.dtype == dtype
    eps = torch.finfo(dtype).eps
    # float32 compute adds ~1e-7 relative; rounding to `dtype` adds eps/2 relative
    assert torch.all((loss.double() - ref).abs() <= ref.abs() * (eps / 2 + 1e-6) + 1e-6)
    gref = x64.grad
    assert torch.all((x.grad.double() - gref).abs() <= gref.abs() * (eps / 2 + 1e-6) + 1e-7)


def test_bad_input_is_a_clear_error():
    x = torch.randn(3, 4)
    with pytest.raises(TypeError):  # PyTorch's positional order differs: no silent misreading
        lt.cross_entropy(x, torch.tensor([0, 1, 2]), None, None, -100)
    with pytest.raises(ValueError, match="finite|NaN|nan"):
        lt.cross_entropy(torch.tensor([[0.0, float("nan")]]), torch.tensor([0]))
    with pytest.raises(ValueError, match="target"):
        lt.cross_entropy(x, torch.tensor([0, 1, 4]))
    with pytest.raises(TypeError, match="input"):
        lt.cross_entropy(x.to(torch.int64), torch.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="input"):
        lt.cross_entropy(np.zeros((3, 4)), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        lt.cross_entropy(x, torch.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match="target"):
        lt.binary_cross_entropy_with_logits(x, torch.full((3, 4), 2.0))
    with pytest.raises(ValueError, match="ignore_index"):
        lt.cross_entropy(x, torch.rand(3, 4), ignore_index=0)


def test_gradient_is_recomputed_when_the_forward_skipped_it():
    from logloss.torch._ops import cross_entropy_op

    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 1, 2, 0, 1])
    loss = cross_entropy_op(x, y, None, -100, "sum", 0.0, 0.0, None, None, False)[0]
    loss.backward()
    ref = x.detach().clone().requires_grad_(True)
    F.cross_entropy(ref, y, reduction="sum").backward()
    torch.testing.assert_close(x.grad, ref.grad)


def test_no_gradient_is_computed_without_autograd():
    from logloss.torch._ops import cross_entropy_op

    x = torch.randn(5, 3)  # no requires_grad
    loss, lse, grad = cross_entropy_op(x, torch.tensor([0, 1, 2, 0, 1]), None, -100, "mean",
                                       0.0, 0.0, None, None, False)  # fmt: skip
    assert grad.numel() == 0
    with torch.no_grad():
        y = torch.randn(5, 3, requires_grad=True)
        assert lt.cross_entropy(y, torch.tensor([0, 1, 2, 0, 1])).grad_fn is None


def test_inplace_backward_writes_the_gradient_into_the_logits():
    g = torch.Generator().manual_seed(19)
    h = torch.randn(16, 8, generator=g, dtype=torch.float64, requires_grad=True)
    W = torch.randn(10, 8, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 10, (16,), generator=g)
    z = h @ W.T
    ptr = z.data_ptr()
    loss = lt.cross_entropy(z, y, label_smoothing=0.1, inplace_backward=True)
    (2.0 * loss).backward()
    h2 = h.detach().clone().requires_grad_(True)
    W2 = W.detach().clone().requires_grad_(True)
    ref = F.cross_entropy(h2 @ W2.T, y, label_smoothing=0.1)
    (2.0 * ref).backward()
    torch.testing.assert_close(loss, ref)
    torch.testing.assert_close(h.grad, h2.grad)
    torch.testing.assert_close(W.grad, W2.grad)
    # the logits' memory now holds the gradient of the (unscaled) loss
    assert z.data_ptr() == ptr
    p = torch.softmax(h2.detach() @ W2.detach().T, dim=1)
    torch.testing.assert_close(z.detach(), (p - 0.9 * F.one_hot(y, 10) - 0.01) / 16)


def test_inplace_backward_is_an_error_where_autograd_still_needs_the_logits():
    h = torch.randn(6, 4, requires_grad=True)
    W = torch.randn(5, 4, requires_grad=True)
    y = torch.randint(0, 5, (6,))
    z = torch.tanh(h @ W.T)  # tanh saves its output for its own backward
    loss = lt.cross_entropy(z, y, inplace_backward=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    with pytest.raises(ValueError, match="leaf"):
        lt.cross_entropy(torch.randn(6, 5, requires_grad=True), y, inplace_backward=True)
    with pytest.raises(ValueError, match="contiguous float32 or float64"):
        lt.cross_entropy((h @ W.T).T.T.bfloat16(), y, inplace_backward=True)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_logits_take_the_16_bit_kernels_with_every_option(dtype):
    """(N, C) half logits are read in 16 bits by the half kernels (the same results as
    float32 compute rounded once), other layouts through a float32 copy: both agree with
    the float64 loss of the same values, and the registered op passes opcheck."""
    from logloss import _kernels
    from logloss.torch._ops import cross_entropy_op

    g = torch.Generator().manual_seed(23)
    x = (torch.randn(40, 30, generator=g) * 3).to(dtype).requires_grad_(True)
    y = torch.randint(0, 30, (40,), generator=g)
    y[5] = -100
    w = torch.rand(30, generator=g) + 0.5
    kw = dict(label_smoothing=0.1, z_loss=1e-3, softcap=20.0)
    loss = lt.cross_entropy(x, y, w, **kw)
    assert _kernels.last_path() == "numba"
    loss.backward()
    x64 = x.detach().double().requires_grad_(True)
    z = 20.0 * torch.tanh(x64 / 20.0)
    ref = F.cross_entropy(z, y, w.double(), label_smoothing=0.1)
    lse = torch.logsumexp(z, 1)[y != -100]
    ref = ref + 1e-3 * (lse**2).mean()
    ref.backward()
    eps = torch.finfo(dtype).eps
    assert abs(loss.double() - ref) <= abs(ref) * (eps / 2 + 1e-5)
    tol = x64.grad.abs() * (eps / 2 + 1e-5) + 1e-6
    assert torch.all((x.grad.double() - x64.grad).abs() <= tol)
    for need in (True, False):
        args = (x.detach(), y, w, -100, "mean", 0.1, 1e-3, 20.0, None, need)
        torch.library.opcheck(cross_entropy_op, args)
    # (N, C, d) layout: through float32, same answer
    x3 = x.detach().reshape(40, 30, 1).requires_grad_(True)
    loss3 = lt.cross_entropy(x3, y.reshape(40, 1), w, **kw)
    torch.testing.assert_close(loss3, loss)
