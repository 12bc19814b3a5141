"""Array API inputs: PyTorch CPU tensors and array-api-strict give NumPy's values and gradients.

Every loss, activation and ``value_and_grad`` runs on the input's own namespace (the
portable path) and returns arrays of that namespace, on the input's device, in its dtype.
array-api-strict has several virtual devices ("device1", and "no_float64" without float64),
so device propagation is checked there. CuPy and JAX take the same path; they are
exercised here when installed.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from support import import_torch

import logloss as ll

array_api_compat = pytest.importorskip("array_api_compat")

# ---------------------------------------------------------------------------
# backends: convert a NumPy array in, and a result back out
# ---------------------------------------------------------------------------


class Backend:
    def __init__(self, name, xp, to_xp, device=None, float16=True, float64=True):
        self.name, self.xp, self._to_xp = name, xp, to_xp
        self.device, self.float16, self.float64 = device, float16, float64

    def __call__(self, a):
        return self._to_xp(np.asarray(a))

    def to_numpy(self, a):
        return np.from_dlpack(a) if self.name != "torch" else a.detach().numpy()

    def dtype(self, np_dtype):
        return getattr(self.xp, np.dtype(np_dtype).name)

    def __repr__(self):
        return self.name


def _torch():
    torch = import_torch()
    return Backend("torch", torch, lambda a: torch.asarray(a.copy()))


def _strict(device_name):
    xps = pytest.importorskip("array_api_strict")
    dev = xps.Device(device_name)
    return Backend(
        f"strict-{device_name}",
        xps,
        lambda a: xps.asarray(a, device=dev),
        device=dev,
        float16=False,
        float64=device_name != "no_float64",
    )


def _cupy():
    cp = pytest.importorskip("cupy")
    try:
        cp.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - any CUDA failure means no usable GPU
        pytest.skip("CuPy is installed but no CUDA device is available")
    return Backend("cupy", cp, cp.asarray)


def _jax():
    jnp = pytest.importorskip("jax.numpy")
    return Backend("jax", jnp, jnp.asarray, float64=False)


BACKENDS = {
    "torch": _torch,
    "strict": lambda: _strict("CPU_DEVICE"),
    "strict-device1": lambda: _strict("device1"),
    "strict-no-float64": lambda: _strict("no_float64"),
    "cupy": _cupy,
    "jax": _jax,
}


@pytest.fixture(params=list(BACKENDS), scope="module")
def be(request):
    return BACKENDS[request.param]()


def _dtypes(be):
    out = [np.float32]
    if be.float64:
        out.append(np.float64)
    if be.float16:
        out.append(np.float16)
    return out


def _check_result(be, got, ref, dtype, *, scale=1.0):
    """`got` (backend array) has NumPy's result `ref`: namespace, device, dtype, shape, values."""
    expected_xp = array_api_compat.array_namespace(be(np.zeros(1, np.float32)))
    assert array_api_compat.array_namespace(got) is expected_xp
    assert not isinstance(got, np.ndarray)
    if be.device is not None:
        assert got.device == be.device
    assert got.dtype == be.dtype(dtype)
    ref = np.asarray(ref)
    assert tuple(got.shape) == ref.shape
    g = be.to_numpy(got).astype(np.float64)
    # different summation order between libraries: a few eps of the compute dtype
    tol = 64 * np.finfo(np.float32 if dtype == np.float16 else dtype).eps
    if dtype == np.float16:
        tol = 4e-3
    np.testing.assert_allclose(g, ref.astype(np.float64), rtol=tol, atol=tol * scale)


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------

RNG = np.random.default_rng(7)
Z = RNG.standard_normal((6, 4)) * 3
Z_MASKED = Z.copy()
Z_MASKED[1, 2] = -np.inf
Z_MASKED[4, 0] = -np.inf
Y = np.array([0, 3, 1, -100, 2, 1])
T_PROBS = RNG.dirichlet(np.ones(4), size=6)
W_CLASS = np.array([1.0, 0.5, 2.0, 1.5])
X = RNG.standard_normal((5, 3)) * 4
T = RNG.random((5, 3))
P = np.clip(RNG.random((5, 3)), 0.05, 0.95)
Z3 = RNG.standard_normal((3, 4, 2)) * 2  # (N, C, d) with axis=1
Y3 = np.array([[0, 3], [1, 2], [-100, 0]])

# (id, loss, first argument, other positional, keyword arguments)
LOSS_CASES = [
    ("ce", ll.cross_entropy, Z, (Y,), {}),
    (
        "ce-all-options",
        ll.cross_entropy,
        Z_MASKED,
        (Y,),
        dict(weight=W_CLASS, label_smoothing=0.1, z_loss=1e-3, softcap=5.0),
    ),
    ("ce-probs", ll.cross_entropy, Z, (T_PROBS,), dict(weight=W_CLASS, label_smoothing=0.2)),
    ("ce-axis1", ll.cross_entropy, Z3, (Y3,), dict(axis=1, label_smoothing=0.05)),
    ("nll", ll.nll_loss, np.log(T_PROBS), (Y,), dict(weight=W_CLASS)),
    ("bce", ll.binary_cross_entropy, P, (T,), dict(weight=T)),
    (
        "bce-logits",
        ll.binary_cross_entropy_with_logits,
        X,
        (T,),
        dict(weight=T, pos_weight=np.array([1.0, 2.0, 0.5]), label_smoothing=0.1),
    ),
    ("sigmoid-focal", ll.sigmoid_focal_loss, X, (T,), dict(alpha=0.25, gamma=2.0)),
    ("softmax-focal", ll.softmax_focal_loss, Z, (Y,), dict(gamma=1.5, weight=W_CLASS)),
]


def _cast_np(a, dtype):
    return a.astype(dtype) if np.asarray(a).dtype.kind == "f" else a


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
def test_losses_and_gradients_equal_numpy(be, case, reduction):
    _, fn, first, others, kwargs = case
    for dtype in _dtypes(be):
        a = first.astype(dtype)
        # targets and weights stay float64 NumPy on the reference side; on the backend side
        # they are arrays of the backend (in the compute dtype where the device lacks float64)
        other_dt = np.float64 if be.float64 else np.float32
        ref_v, ref_g = ll.value_and_grad(fn)(a, *others, reduction=reduction, **kwargs)
        conv_others = tuple(be(_cast_np(o, other_dt)) for o in others)
        conv_kwargs = {
            k: be(_cast_np(v, other_dt)) if isinstance(v, np.ndarray) else v
            for k, v in kwargs.items()
        }
        got = fn(be(a), *conv_others, reduction=reduction, **conv_kwargs)
        vg = ll.value_and_grad(fn)
        got_v, got_g = vg(be(a), *conv_others, reduction=reduction, **conv_kwargs)
        scale = float(np.max(np.abs(np.asarray(ref_v, np.float64)))) or 1.0
        _check_result(be, got, ref_v, dtype, scale=scale)
        _check_result(be, got_v, ref_v, dtype, scale=scale)
        _check_result(be, got_g, ref_g, dtype, scale=1.0)


ACTIVATIONS = [
    ("sigmoid", ll.sigmoid, {}),
    ("softplus", ll.softplus, {}),
    ("log_sigmoid", ll.log_sigmoid, {}),
    ("softmax", ll.softmax, {"axis": 0}),
    ("log_softmax", ll.log_softmax, {}),
    ("logsumexp", ll.logsumexp, {"axis": 0}),
    ("logsumexp-keepdims", ll.logsumexp, {"keepdims": True}),
]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_equal_numpy(be, act):
    _, fn, kwargs = act
    for dtype in _dtypes(be):
        for a in (Z.astype(dtype), Z_MASKED.astype(dtype), (X * 300).astype(dtype)):
            if fn in (ll.sigmoid, ll.softplus, ll.log_sigmoid) and np.isneginf(a).any():
                continue
            ref = fn(a, **kwargs)
            got = fn(be(a), **kwargs)
            _check_result(be, got, ref, dtype, scale=float(np.max(np.abs(ref[np.isfinite(ref)]))))


def test_extreme_logits_stay_finite(be):
    dtype = np.float64 if be.float64 else np.float32
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype)
    v, g = ll.value_and_grad(ll.cross_entropy)(be(z), be(np.array([1, 0])))
    assert float(v) == 2e4
    assert np.isfinite(be.to_numpy(g)).all()


def test_mixed_inputs_take_the_first_arguments_namespace(be):
    """A NumPy target or a Python list next to a backend array is converted to the backend."""
    dtype = np.float64 if be.float64 else np.float32
    ref = ll.cross_entropy(Z.astype(dtype), Y, weight=W_CLASS)
    got = ll.cross_entropy(be(Z.astype(dtype)), Y, weight=W_CLASS.tolist())
    _check_result(be, got, ref, dtype)
    got = ll.binary_cross_entropy_with_logits(be(X.astype(dtype)), T)
    _check_result(be, got, ll.binary_cross_entropy_with_logits(X.astype(dtype), T), dtype)


# ---------------------------------------------------------------------------
# bad input names the argument in every namespace
# ---------------------------------------------------------------------------


def _mask_row(z, row):
    z = z.copy()
    z[row] = -np.inf
    return z


BAD = [
    (
        "nan-logits",
        lambda b, z: ll.cross_entropy(b(np.where(z == z[1, 1], np.nan, z)), b(Y)),
        ValueError,
        r"`logits` must not contain NaN or \+inf; found in row 1",
    ),
    (
        "label-range",
        lambda b, z: ll.cross_entropy(b(z), b(np.array([0, 4, 1, 1, 1, 1]))),
        ValueError,
        r"`target` labels must be in \[0, 4\).*got 4 at index 1",
    ),
    (
        "label-shape",
        lambda b, z: ll.cross_entropy(b(z), b(np.array([0, 1]))),
        ValueError,
        r"`target` must have shape \(6,\)",
    ),
    (
        "int-logits",
        lambda b, z: ll.cross_entropy(b(np.ones((2, 3), np.int32)), b(np.array([0, 1]))),
        TypeError,
        r"`logits` must be a real floating-point array.*integer dtype int32",
    ),
    (
        "weight-shape",
        lambda b, z: ll.cross_entropy(b(z), b(Y), weight=b(z[0, :2])),
        ValueError,
        r"`weight` must have shape \(4,\)",
    ),
    (
        "weight-negative",
        lambda b, z: ll.cross_entropy(b(z), b(Y), weight=b(-np.abs(z[0]))),
        ValueError,
        r"`weight` must be non-negative",
    ),
    (
        "bce-target-range",
        lambda b, z: ll.binary_cross_entropy_with_logits(b(z), b(z)),
        ValueError,
        r"`target` must be in \[0, 1\]",
    ),
    (
        "bce-inf",
        lambda b, z: ll.binary_cross_entropy_with_logits(
            b(np.where(z == z[2, 0], np.inf, z)), b(np.zeros_like(z))
        ),
        ValueError,
        r"`logits` must be finite; got inf at index \(2, 0\)",
    ),
    (
        "probs-range",
        lambda b, z: ll.binary_cross_entropy(b(z), b(np.zeros_like(z))),
        ValueError,
        r"`probs` must be in \[0, 1\]",
    ),
    (
        "activation-nan",
        lambda b, z: ll.softmax(b(np.where(z == z[0, 2], np.nan, z))),
        ValueError,
        r"`x` must not contain NaN; got nan at index \(0, 2\)",
    ),
    (
        "all-masked-row",
        lambda b, z: ll.log_softmax(b(_mask_row(z, 3))),
        ValueError,
        r"`x` must not contain a row with no finite entry.*row 3",
    ),
    (
        "ce-all-masked-row",
        lambda b, z: ll.cross_entropy(b(_mask_row(z, 2)), b(Y)),
        ValueError,
        r"`logits` must not contain a row with no finite entry.*row 2",
    ),
    (
        "out",
        lambda b, z: ll.value_and_grad(ll.cross_entropy)(b(z), b(Y), out=b(z)),
        TypeError,
        r"`out` is supported for NumPy arrays only",
    ),
    (
        "out-bce",
        lambda b, z: ll.value_and_grad(ll.binary_cross_entropy_with_logits)(
            b(z), b(np.zeros_like(z)), out=b(z)
        ),
        TypeError,
        r"`out` is supported for NumPy arrays only",
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input_names_the_argument(be, case):
    name, call, exc, pattern = case
    if be.name == "torch" and name.startswith("out"):
        pytest.skip("CPU tensors run the NumPy path, where `out` is supported (tested below)")
    z = Z.astype(np.float64 if be.float64 else np.float32)
    with pytest.raises(exc, match=pattern):
        call(be, z)


# ---------------------------------------------------------------------------
# PyTorch specifics: autograd agreement and CPU float16
# ---------------------------------------------------------------------------


def test_cpu_tensors_run_the_kernels_zero_copy_and_come_back_as_tensors():
    """A CPU tensor NumPy can view takes the fused kernels (no copy of the logits): the
    value and gradient are tensors, `out` receives the gradient in place."""
    from logloss import _kernels

    torch = import_torch()
    z = torch.asarray(Z.copy())
    y = torch.asarray(np.where(Y < 0, -100, Y))
    loss, grad = ll.value_and_grad(ll.cross_entropy)(z, y)
    assert _kernels.last_path() == "numba"
    assert isinstance(loss, torch.Tensor) and loss.dtype == z.dtype and loss.ndim == 0
    ref_loss, ref_grad = ll.value_and_grad(ll.cross_entropy)(Z, np.where(Y < 0, -100, Y))
    assert float(loss) == pytest.approx(float(ref_loss), rel=1e-15)
    np.testing.assert_array_equal(grad.numpy(), ref_grad)
    # the gradient written into the logits' own memory
    ptr = z.data_ptr()
    _, grad = ll.value_and_grad(ll.cross_entropy)(z, y, out=z)
    assert grad is z and z.data_ptr() == ptr
    np.testing.assert_array_equal(z.numpy(), ref_grad)
    # BCE, reduction="none": a tensor of per-element losses
    x = torch.asarray(Z.copy())
    losses = ll.binary_cross_entropy_with_logits(x, torch.zeros_like(x), reduction="none")
    assert isinstance(losses, torch.Tensor) and losses.shape == x.shape


def test_gradient_matches_torch_autograd():
    torch = import_torch()
    z = torch.asarray(Z.copy(), requires_grad=True)
    y = torch.asarray(np.where(Y < 0, -100, Y))
    w = torch.asarray(W_CLASS)
    ref = torch.nn.functional.cross_entropy(z, y, label_smoothing=0.1, weight=w)
    ref.backward()
    v, g = ll.value_and_grad(ll.cross_entropy)(
        z.detach(), y, label_smoothing=0.1, weight=torch.asarray(W_CLASS)
    )
    assert isinstance(v, torch.Tensor) and isinstance(g, torch.Tensor)
    torch.testing.assert_close(v, ref.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g, z.grad, rtol=1e-12, atol=1e-12)


def test_torch_float16_is_computed_in_float32():
    torch = import_torch()
    z = torch.asarray((Z * 1000).astype(np.float16))
    v = ll.cross_entropy(z, torch.asarray(Y))
    assert v.dtype == torch.float16 and torch.isfinite(v)
    ref = ll.cross_entropy((Z * 1000).astype(np.float16), Y)
    assert float(v) == pytest.approx(float(ref), rel=2e-3)


def test_unsupported_torch_dtype_is_a_type_error():
    torch = import_torch()
    with pytest.raises(TypeError, match=r"`logits` .*dtype bfloat16"):
        ll.cross_entropy(torch.zeros((2, 3), dtype=torch.bfloat16), torch.asarray([0, 1]))


# ---------------------------------------------------------------------------
# import cost: NumPy users never load array_api_compat or a backend
# ---------------------------------------------------------------------------


def test_numpy_path_imports_no_array_api_machinery():
    code = (
        "import sys, numpy as np, logloss as ll\n"
        "ll.cross_entropy(np.zeros((2, 3)), [0, 1]); ll.softmax(np.zeros(3))\n"
        "ll.value_and_grad(ll.binary_cross_entropy_with_logits)(np.zeros(3), np.ones(3))\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('array_api_compat', 'array_api_strict', 'torch', 'jax', 'cupy', 'dask')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
