"""logloss.torch.linear_cross_entropy against torch.nn.functional.linear_cross_entropy."""

from __future__ import annotations

import pytest
from support import import_torch

torch = import_torch()
F = torch.nn.functional
lt = pytest.importorskip("logloss.torch")


def _grads(fn, leaves, go=None):
    loss = fn()
    go = torch.ones_like(loss) if go is None else go
    return loss.detach(), torch.autograd.grad(loss, leaves, go)


@pytest.mark.parametrize("out_features", [(), (3,), (2, 2)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("targets", ["labels", "probs"])
def test_matches_torch_in_float64(out_features, reduction, bias, targets):
    g = torch.Generator().manual_seed(len(out_features) * 7 + bias)
    d = dict(dtype=torch.float64, generator=g)
    h = torch.randn(11, 6, **d).requires_grad_(True)
    W = torch.randn(5, *out_features, 6, **d).requires_grad_(True)
    b = torch.randn(5, *out_features, **d).requires_grad_(True) if bias else None
    leaves = [h, W] + ([b] if bias else [])
    if targets == "labels":
        y = torch.randint(0, 5, (11, *out_features), generator=g)
        y[3] = -100
        kw = dict(weight=torch.rand(5, **d) + 0.5, label_smoothing=0.1)
    else:
        y = torch.softmax(torch.randn(11, 5, *out_features, **d), dim=1)
        kw = dict(label_smoothing=0.1)
    ours = lambda: lt.linear_cross_entropy(  # noqa: E731
        h, W, y, linear_bias=b, reduction=reduction, chunk_size=4, **kw
    )
    theirs = lambda: F.linear_cross_entropy(h, W, y, linear_bias=b, reduction=reduction, **kw)  # noqa: E731
    go = None
    if reduction == "none":  # a non-uniform grad_output: backward recomputes by chunks
        go = torch.rand(11, *out_features, **d)
    v1, g1 = _grads(ours, leaves, go)
    v2, g2 = _grads(theirs, leaves, go)
    torch.testing.assert_close(v1, v2, rtol=1e-12, atol=1e-12)
    for a, c in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, c, rtol=1e-11, atol=1e-12)


def test_float32_z_loss_softcap_and_count_match_a_materialised_reference():
    g = torch.Generator().manual_seed(1)
    h = torch.randn(64, 16, generator=g).requires_grad_(True)
    W = (torch.randn(40, 16, generator=g) / 4).requires_grad_(True)
    y = torch.randint(0, 40, (64,), generator=g)

    def reference():
        z = h @ W.T
        z = 5.0 * torch.tanh(z / 5.0)
        lse = torch.logsumexp(z, 1)
        return ((lse - z.gather(1, y[:, None])[:, 0]).sum() + 1e-3 * (lse**2).sum()) / 100.0

    ours = lambda: lt.linear_cross_entropy(h, W, y, z_loss=1e-3, softcap=5.0, count=100)  # noqa: E731
    v1, g1 = _grads(ours, [h, W])
    v2, g2 = _grads(reference, [h, W])
    torch.testing.assert_close(v1, v2, rtol=2e-6, atol=2e-6)
    for a, c in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, c, rtol=1e-5, atol=1e-6)


def test_gradcheck_and_opcheck():
    from logloss.torch._linear_op import linear_cross_entropy_op

    g = torch.Generator().manual_seed(2)
    d = dict(dtype=torch.float64, generator=g)
    h = torch.randn(5, 3, **d).requires_grad_(True)
    W = torch.randn(4, 3, **d).requires_grad_(True)
    b = torch.randn(4, **d).requires_grad_(True)
    y = torch.tensor([0, 3, -100, 2, 1])
    for reduction in ("mean", "none"):
        assert torch.autograd.gradcheck(
            lambda h, W, b, r=reduction: lt.linear_cross_entropy(
                h, W, y, linear_bias=b, reduction=r, z_loss=0.01, chunk_size=2
            ),
            (h, W, b),
        )
    for need in (True, False):
        args = (h, W, y, b, None, "mean", -100, 0.0, 0.0, None, 2, None, need)
        torch.library.opcheck(linear_cross_entropy_op, args)


def test_compiles_in_one_graph_and_the_module_matches_torch():
    head = lt.LinearCrossEntropyLoss(8, 6, bias=True, label_smoothing=0.05)
    ref = torch.nn.LinearCrossEntropyLoss(8, 6, bias=True, label_smoothing=0.05)
    ref.load_state_dict(head.state_dict())
    x = torch.randn(20, 8)
    y = torch.randint(0, 6, (20,))
    step = torch.compile(lambda x, y: head(x, y), fullgraph=True)
    loss = step(x, y)
    loss.backward()
    expect = ref(x, y)
    expect.backward()
    torch.testing.assert_close(loss, expect)
    torch.testing.assert_close(head.linear.weight.grad, ref.linear.weight.grad)
    torch.testing.assert_close(head.linear.bias.grad, ref.linear.bias.grad)


def test_bad_shapes_are_clear_errors():
    h, W = torch.randn(4, 3), torch.randn(5, 3)
    with pytest.raises(ValueError, match="in_features"):
        lt.linear_cross_entropy(h, torch.randn(5, 2), torch.zeros(4, dtype=torch.int64))
    with pytest.raises(ValueError, match="input"):
        lt.linear_cross_entropy(torch.randn(2, 4, 3), W, torch.zeros(2, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="target"):
        lt.linear_cross_entropy(h, W, torch.tensor([0, 1, 5, 2]))
    with pytest.raises(TypeError, match="linear_weight"):
        lt.linear_cross_entropy(h, W.numpy(), torch.zeros(4, dtype=torch.int64))
