"""The gradient buffer pool: large buffers recycled only once nothing refers to them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import logloss as ll
from logloss import _buffers

# 36 MiB of float32: above the pool's 32 MiB threshold
ROWS, CLASSES = 1152, 8192


@pytest.fixture(autouse=True)
def _empty_pool():
    ll.release_buffers()
    yield
    ll.release_buffers()


def _logits(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((ROWS, CLASSES), dtype=np.float32), rng.integers(0, CLASSES, ROWS)


def test_a_kept_gradient_never_changes_when_later_calls_run():
    vg = ll.value_and_grad(ll.cross_entropy)
    kept = []
    for seed in range(4):
        x, y = _logits(seed)
        _, g = vg(x, y)
        kept.append((g, g.copy()))
    for g, snapshot in kept:
        np.testing.assert_array_equal(g, snapshot)
    # four live gradients: four distinct buffers
    assert len({g.__array_interface__["data"][0] for g, _ in kept}) == 4


def test_a_dropped_gradient_is_reused_and_the_result_is_the_fresh_one():
    vg = ll.value_and_grad(ll.cross_entropy)
    x, y = _logits(0)
    _, g = vg(x, y)
    address = g.__array_interface__["data"][0]
    del g
    x2, y2 = _logits(1)
    _, g2 = vg(x2, y2)
    assert g2.__array_interface__["data"][0] == address
    # the reused buffer holds the new gradient: softmax(x2) - onehot(y2), / rows
    x64 = x2.astype(np.float64)
    p = np.exp(x64 - x64.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(ROWS), y2] -= 1.0
    np.testing.assert_allclose(g2, p / ROWS, rtol=1e-5, atol=1e-9)


def test_a_loop_holding_the_previous_gradient_alternates_between_two_buffers():
    vg = ll.value_and_grad(ll.binary_cross_entropy_with_logits)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((ROWS, CLASSES), dtype=np.float32)
    t = (rng.random((ROWS, CLASSES)) < 0.5).astype(np.float32)
    g = None
    addresses = []
    for _ in range(6):
        previous = g
        _, g = vg(x, t)
        assert previous is None or not np.shares_memory(g, previous)
        addresses.append(g.__array_interface__["data"][0])
    assert len(set(addresses)) == 2


def test_a_view_keeps_its_buffer_busy():
    a = _buffers.empty((ROWS, CLASSES), np.float32)
    view = a[10:20]
    del a
    b = _buffers.empty((ROWS, CLASSES), np.float32)
    assert not np.shares_memory(b, view)


def test_small_arrays_are_not_pooled_and_release_reports_bytes():
    small = _buffers.empty((10, 10), np.float64)
    assert small.shape == (10, 10)
    assert ll.release_buffers() == 0
    big = _buffers.empty((ROWS, CLASSES), np.float32)
    assert ll.release_buffers() == big.nbytes


def test_torch_gradients_kept_across_steps_stay_intact():
    torch = pytest.importorskip("torch")
    lt = pytest.importorskip("logloss.torch")
    kept = []
    for seed in range(3):
        x, y = _logits(seed)
        xt = torch.from_numpy(x).requires_grad_(True)
        lt.cross_entropy(xt, torch.from_numpy(y)).backward()
        kept.append((xt.grad, xt.grad.clone()))
        del xt
    for g, snapshot in kept:
        assert torch.equal(g, snapshot)


def test_the_environment_variable_turns_the_pool_off():
    code = (
        "import numpy as np\n"
        "from logloss import _buffers\n"
        "a = _buffers.empty((2000, 5000), np.float64)\n"
        "print(_buffers.release_buffers())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**__import__("os").environ, "LOGLOSS_BUFFER_POOL": "0"},
    )  # fmt: skip
    assert run.stdout.strip() == "0"
