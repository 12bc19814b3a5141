"""The fused CSR kernels (``csr_loss_grad``, ``csr_hessp``; issue 14, item 2) against the
dense kernels on ``X.toarray()`` and a plain float64 formula: odd CSR structure, both index
dtypes, weights, bit-identical results with 1 and 2 numba threads, the fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")
numba = pytest.importorskip("numba")

from logloss import _kernels as K  # noqa: E402
from logloss._kernels.sparse import n_parts  # noqa: E402
from logloss.objectives import LinearObjective  # noqa: E402
from logloss.objectives.linear_block import rows_hessp, rows_loss_grad  # noqa: E402

pytestmark = pytest.mark.xdist_group("numba")

TOL = {np.float64: 1e-12, np.float32: 2e-6}


def odd_csr(n=60, d=15, seed=0, dtype=np.float64, index=np.int32, density=0.3):
    """A CSR matrix with empty rows and columns, explicit zeros and unsorted indices."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, d)) * (rng.random((n, d)) < density)
    A[::7] = 0.0  # empty rows
    A[:, 3] = 0.0  # an empty column
    X = sp.csr_matrix(A)
    X.data[::5] = 0.0  # explicit zeros (kept in the structure)
    for i in range(n):  # reverse each row's indices: unsorted
        lo, hi = X.indptr[i], X.indptr[i + 1]
        X.indices[lo:hi] = X.indices[lo:hi][::-1].copy()
        X.data[lo:hi] = X.data[lo:hi][::-1].copy()
    X.has_sorted_indices = False
    X.data = X.data.astype(dtype)
    X.indices = X.indices.astype(index)
    X.indptr = X.indptr.astype(index)
    return X


def problem(link, dtype, seed=0, n=60, d=15, k=4):
    rng = np.random.default_rng(seed + 100)
    kk = k if link == "softmax" else 1
    W = (rng.normal(size=(d, kk)) * 2).astype(dtype)
    b = rng.normal(size=kk).astype(dtype)
    if link == "softmax":
        y = rng.integers(0, k, n).astype(np.int64)
    else:
        y = (rng.random(n) < 0.5).astype(dtype)
    sw = rng.random(n).astype(dtype)
    return W, b, y, sw


def reference(A, y, sw, W, b, link, row_weight):
    """Plain float64: loss, dL/dW, dL/db, and the curvature (p, or s p (1 - p))."""
    A, W, b = (np.asarray(a, np.float64) for a in (A, W, b))
    s = np.full(A.shape[0], row_weight) if sw is None else sw.astype(np.float64)
    Z = A @ W + b
    if link == "softmax":
        m = Z.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(Z - m).sum(axis=1, keepdims=True)))[:, 0]
        n = len(y)
        loss_i = lse - Z[np.arange(n), y]
        P = np.exp(Z - lse[:, None])
        G = P.copy()
        G[np.arange(n), y] -= 1.0
        curv = P
    else:
        z, t = Z[:, 0], y.astype(np.float64)
        loss_i = np.logaddexp(0.0, z) - t * z
        p = np.exp(-np.logaddexp(0.0, -z))  # sigmoid(z) = exp(-softplus(-z))
        G = (p - t)[:, None]
        curv = (s * p * (1 - p))[:, None]
    G = G * s[:, None]
    return float(s @ loss_i), A.T @ G, G.sum(axis=0), curv


def fused(X, W, b, y, sw, link, row_weight, curvature=None, need_grad=True):
    gW, gb = np.zeros(W.shape), np.zeros(W.shape[1])
    loss = K.csr_loss_grad(
        X.data, X.indices, X.indptr, W, b, y, sw, link=link, row_weight=row_weight,
        out_gradW=gW, out_gradb=gb, need_grad=need_grad, curvature=curvature,
    )  # fmt: skip
    return loss, gW, gb


@pytest.mark.parametrize("link", ["softmax", "sigmoid"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_grad_equals_dense_kernels_and_float64_formula(link, dtype, index, weighted):
    X = odd_csr(dtype=dtype, index=index)
    W, b, y, sw = problem(link, dtype)
    sw = sw if weighted else None
    rw = 1.0 / X.shape[0]
    curv = np.empty((X.shape[0], W.shape[1]), dtype)
    loss, gW, gb = fused(X, W, b, y, sw, link, rw, curvature=curv)
    assert loss is not None
    curv_d = np.empty_like(curv)
    loss_d, gW_d, gb_d = rows_loss_grad(
        X.toarray(), y, sw, W, b, link=link, row_weight=rw, curvature=curv_d
    )
    tol = TOL[dtype]
    np.testing.assert_allclose(loss, loss_d, rtol=tol)
    np.testing.assert_allclose(gW, gW_d, rtol=tol, atol=tol * np.abs(gW_d).max())
    np.testing.assert_allclose(gb, gb_d, rtol=tol, atol=tol * np.abs(gb_d).max())
    np.testing.assert_allclose(curv, curv_d, rtol=tol, atol=tol)
    ref = reference(X.toarray(), y, sw, W, b, link, rw)
    ftol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(loss, ref[0], rtol=ftol)
    np.testing.assert_allclose(gW, ref[1], rtol=ftol, atol=ftol * np.abs(ref[1]).max())
    np.testing.assert_allclose(gb, ref[2], rtol=ftol, atol=ftol * np.abs(ref[2]).max())
    np.testing.assert_allclose(curv, ref[3], rtol=ftol, atol=ftol)
    # the loss alone: the same value, nothing added to the gradient
    loss_only, gW0, gb0 = fused(X, W, b, y, sw, link, rw, need_grad=False)
    assert loss_only == pytest.approx(loss, rel=1e-15 if dtype == np.float64 else 1e-7)
    assert not gW0.any() and not gb0.any()


@pytest.mark.parametrize("link", ["softmax", "sigmoid"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("intercept", [True, False])
def test_hessp_equals_dense_and_float64_formula(link, dtype, index, intercept):
    X = odd_csr(dtype=dtype, index=index, seed=3)
    W, b, y, sw = problem(link, dtype, seed=3)
    rng = np.random.default_rng(7)
    V = rng.normal(size=W.shape).astype(dtype)
    vb = rng.normal(size=W.shape[1]).astype(dtype)
    rw = 1.0 / X.shape[0]
    swh = sw if link == "softmax" else None  # the sigmoid's weights are in the curvature
    curv = np.empty((X.shape[0], W.shape[1]), dtype)
    fused(X, W, b, y, sw, link, rw, curvature=curv)
    got = rows_hessp(X, V, vb, curv, swh, link=link, row_weight=rw, fit_intercept=intercept)
    want = rows_hessp(
        X.toarray(), V, vb, curv, swh, link=link, row_weight=rw, fit_intercept=intercept
    )
    tol = TOL[dtype]
    for g, w in zip(got, want, strict=True):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol * max(1.0, np.abs(w).max()))
    # plain float64: T = s (P u - P (P . u)) or d u, back through X
    A, P = X.toarray().astype(np.float64), curv.astype(np.float64)
    U = A @ V.astype(np.float64) + (vb.astype(np.float64) if intercept else 0.0)
    if link == "softmax":
        T = (P * U - P * (P * U).sum(axis=1, keepdims=True)) * sw.astype(np.float64)[:, None]
    else:
        T = P * U
    ftol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(got[0], A.T @ T, rtol=ftol, atol=ftol * np.abs(A.T @ T).max())
    np.testing.assert_allclose(got[1], T.sum(axis=0) if intercept else 0.0, atol=ftol * 10)


@pytest.mark.parametrize("link", ["softmax", "sigmoid"])
def test_bit_identical_with_one_and_two_threads(link):
    X = odd_csr(n=3000, d=20, density=0.5, seed=5)
    assert n_parts(X.shape[0], X.nnz, X.shape[1], 4) > 1  # really split into parts
    W, b, y, sw = problem(link, np.float64, seed=5, n=3000, d=20)
    curv = np.empty((X.shape[0], W.shape[1]))
    V = np.random.default_rng(1).normal(size=W.shape)
    before = numba.get_num_threads()
    results = []
    try:
        for threads in (1, 2) if numba.config.NUMBA_NUM_THREADS >= 2 else (1, 1):
            numba.set_num_threads(threads)
            out = fused(X, W, b, y, sw, link, 1 / 3000, curvature=curv)
            h = K.csr_hessp(
                X.data, X.indices, X.indptr, V, b, curv, sw if link == "softmax" else None,
                link=link, row_weight=1 / 3000,
            )  # fmt: skip
            results.append((out[0], out[1].tobytes(), out[2].tobytes(), h[0].tobytes()))
    finally:
        numba.set_num_threads(before)
    assert results[0] == results[1]


def test_n_parts_depends_on_the_shape_only():
    assert n_parts(10, 1_000_000, 5, 3) == 10  # never more parts than rows
    assert n_parts(10**6, 10**7, 10**6, 1) == 2  # the partials' sum costs <= nnz / 4
    assert n_parts(10**6, 10**9, 2**17, 20) == 3  # 64 MiB of partials at most ...
    assert n_parts(10**6, 10**9, 2**22, 20) == 2  # ... but two parts for a wide model
    assert n_parts(10**4, 10**5, 2**22, 20) == 1  # unless summing them costs too much
    assert n_parts(0, 0, 5, 2) == 1


def test_empty_matrix_and_rows_only_empty():
    W, b = np.ones((4, 3)), np.array([0.0, 1.0, 2.0])
    X = sp.csr_matrix((5, 4))
    y = np.array([0, 1, 2, 0, 1])
    loss, gW, gb = fused(X, W, b, y, None, "softmax", 1.0)
    ref = reference(X.toarray(), y, None, W, b, "softmax", 1.0)
    assert loss == pytest.approx(ref[0], rel=1e-14)
    assert not gW.any()
    np.testing.assert_allclose(gb, ref[2], rtol=1e-14)
    X0 = sp.csr_matrix((0, 4))
    loss0, gW0, gb0 = fused(X0, W, b, np.zeros(0, np.int64), None, "softmax", 1.0)
    assert loss0 == 0.0 and not gW0.any() and not gb0.any()


def test_extreme_logits_stay_finite():
    X = sp.csr_matrix(np.array([[1e4, 0.0], [0.0, -1e4], [1.0, 1.0]]))
    W = np.array([[1.0, -1.0], [2.0, 0.5]])
    y = np.array([1, 0, 1])
    loss, gW, gb = fused(X, W, np.zeros(2), y, None, "softmax", 1.0)
    ref = reference(X.toarray(), y, None, W, np.zeros(2), "softmax", 1.0)
    np.testing.assert_allclose(loss, ref[0], rtol=1e-14)
    np.testing.assert_allclose(gW, ref[1], rtol=1e-14, atol=1e-12)
    yb = np.array([0.0, 1.0, 1.0])
    lossb, gWb, _ = fused(X, W[:, :1].copy(), np.zeros(1), yb, None, "sigmoid", 1.0)
    refb = reference(X.toarray(), yb, None, W[:, :1], np.zeros(1), "sigmoid", 1.0)
    np.testing.assert_allclose(lossb, refb[0], rtol=1e-14)
    np.testing.assert_allclose(gWb, refb[1], rtol=1e-14, atol=1e-12)


def test_nonfinite_values_fall_back_and_the_objective_raises():
    X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0]]))
    X.data[1] = np.inf
    W, b, y = np.ones((2, 2)), np.zeros(2), np.array([0, 1])
    assert fused(X, W, b, y, None, "softmax", 0.5)[0] is None
    f = LinearObjective(X, y, n_classes=2, link="softmax")
    with pytest.raises(ValueError, match="NaN or \\+inf"):
        f(np.ones(f.n_params))


def test_what_the_kernels_do_not_take_returns_none(monkeypatch):
    X = odd_csr()
    W, b, y, sw = problem("softmax", np.float64)
    gW, gb = np.zeros(W.shape), np.zeros(W.shape[1])

    def call(**kw):
        args = dict(data=X.data, indices=X.indices, indptr=X.indptr, W=W, b=b, y=y)
        args.update(kw)
        return K.csr_loss_grad(
            args["data"], args["indices"], args["indptr"], args["W"], args["b"], args["y"],
            None, link="softmax", row_weight=1.0, out_gradW=gW, out_gradb=gb,
        )  # fmt: skip

    assert call(indices=X.indices.astype(np.int16)) is None
    assert call(data=X.data.astype(np.float32)) is None  # not in W's dtype
    assert call(y=y.astype(np.int32)) is None
    assert call(indptr=X.indptr.astype(np.int64)) is not None  # indptr's dtype is adapted
    monkeypatch.setenv("LOGLOSS_DISABLE_NUMBA", "1")
    assert call() is None


@pytest.mark.parametrize("link", ["softmax", "sigmoid"])
def test_objective_on_csr_takes_the_fused_kernels_and_equals_dense(link, monkeypatch):
    X = odd_csr(n=80, d=12, seed=9)
    y = np.random.default_rng(2).integers(0, 3 if link == "softmax" else 2, 80)
    kw = dict(n_classes=3 if link == "softmax" else 2, link=link, alpha=0.5)
    sw = np.random.default_rng(3).random(80)
    fs = LinearObjective(X, y, sample_weight=sw, **kw)
    fd = LinearObjective(X.toarray(), y, sample_weight=sw, **kw)
    theta = np.random.default_rng(4).normal(size=fs.n_params)
    v = np.random.default_rng(5).normal(size=fs.n_params)
    calls = []
    for name in ("csr_loss_grad", "csr_hessp"):
        real = getattr(K, name)
        monkeypatch.setattr(
            K, name, lambda *a, _real=real, _n=name, **k: calls.append(_n) or _real(*a, **k)
        )
    ls, gs, hs = fs.loss_grad_hessp(theta)
    ld, gd, hd = fd.loss_grad_hessp(theta)
    np.testing.assert_allclose(ls, ld, rtol=1e-12)
    np.testing.assert_allclose(gs, gd, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(hs(v), hd(v), rtol=1e-12, atol=1e-13)
    # linear_block sends one-logit models to scipy's products (faster there)
    assert set(calls) == ({"csr_loss_grad", "csr_hessp"} if link == "softmax" else set())


@pytest.mark.filterwarnings("ignore:.*did not converge")
def test_warm_up_compiles_what_sparse_fits_use():
    from logloss._kernels.warmup import compiled_signatures, warm_up
    from logloss.models import LogisticRegression

    warm_up(["float32", "float64"])
    before = compiled_signatures()
    for name in ("csr_softmax_kernel", "csr_hessp_kernel"):
        assert before[name] >= 2  # float32, float64
    X = odd_csr(n=200, d=10, seed=11)
    for n_classes in (2, 3):
        y = np.arange(200) % n_classes
        for dtype in ("float32", "float64"):
            for solver in ("lbfgs", "newton"):
                est = LogisticRegression(solver=solver, dtype=dtype, max_iter=5)
                est.fit(X, y, sample_weight=np.linspace(0.5, 1.5, 200))
                est.fit(X, y)
    assert compiled_signatures() == before
