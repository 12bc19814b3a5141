"""Dask: linear classifiers fitted on a real cluster equal the in-memory fit.

The tests start their own ``distributed.LocalCluster`` (worker processes on loopback):
nothing outside them is needed. The whole file takes well under two minutes.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import dask.array as da  # noqa: E402

import logloss as ll  # noqa: E402
from logloss import dask as lld  # noqa: E402

pytestmark = pytest.mark.xdist_group("dask")

RTOL = 1e-6


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _problem(n_classes, n=6000, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, n_classes))
    y = np.argmax(X @ W + rng.gumbel(size=(n, n_classes)), axis=1)
    sw = rng.uniform(0.1, 3.0, n)
    return X, y, sw


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _assert_same_fit(a, b):
    assert type(b.coef_) is np.ndarray and b.coef_.shape == a.coef_.shape
    np.testing.assert_array_equal(a.classes_, b.classes_)
    assert _rel(b.coef_, a.coef_) <= RTOL, _rel(b.coef_, a.coef_)
    assert _rel(b.intercept_, a.intercept_) <= RTOL, _rel(b.intercept_, a.intercept_)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample-weights"])
@pytest.mark.parametrize("n_classes", [2, 4], ids=["binary", "multinomial"])
def test_dask_fit_equals_in_memory_fit(client, n_classes, weighted):
    X, y, sw = _problem(n_classes)
    sw = sw if weighted else None
    kw = dict(C=0.5, tol=1e-10, max_iter=500)
    mem = ll.LogisticRegression(**kw).fit(X, y, sample_weight=sw)
    dX = da.from_array(X, chunks=(1500, X.shape[1]))
    dy = da.from_array(y, chunks=1500)
    dsw = None if sw is None else da.from_array(sw, chunks=1500)
    dist = ll.LogisticRegression(**kw).fit(dX, dy, sample_weight=dsw)
    _assert_same_fit(mem, dist)
    assert dist.n_features_in_ == X.shape[1]
    # every evaluation is one pass over the blocks, summed by the tree reduction
    assert dist.n_evaluations_ >= dist.n_iter_


def test_newton_softmax_and_class_weights(client):
    """Newton's Hessian-vector products are blockwise too; class weights fold in."""
    X, y, sw = _problem(3, seed=1)
    kw = dict(solver="newton", tol=1e-9, max_iter=100, class_weight="balanced")
    mem = ll.SoftmaxRegression(**kw).fit(X, y, sample_weight=sw)
    dX = da.from_array(X, chunks=(2000, X.shape[1]))
    dist = ll.SoftmaxRegression(**kw).fit(dX, da.from_array(y, chunks=2000), sample_weight=sw)
    _assert_same_fit(mem, dist)


def test_binary_softmax_regression_and_dict_class_weight(client):
    X, y, _ = _problem(2, seed=2)
    labels = np.array(["no", "yes"])[y]
    kw = dict(tol=1e-10, max_iter=500, class_weight={"yes": 3.0})
    mem = ll.SoftmaxRegression(**kw).fit(X, labels)
    dist = ll.SoftmaxRegression(**kw).fit(da.from_array(X, chunks=(2500, 6)), labels)
    _assert_same_fit(mem, dist)
    assert dist.coef_.shape == (2, 6)


def test_predictions_on_dask_arrays_are_lazy(client):
    X, y, _ = _problem(3, n=3000, seed=3)
    model = ll.LogisticRegression(tol=1e-8).fit(X, y)
    dX = da.from_array(X, chunks=(1000, 6))
    proba = model.predict_proba(dX)
    assert isinstance(proba, da.Array) and proba.shape == (3000, 3)
    np.testing.assert_allclose(proba.compute(), model.predict_proba(X), rtol=1e-12)
    labels = model.predict(dX)
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), model.predict(X))
    np.testing.assert_allclose(model.predict_log_proba(dX).compute(), model.predict_log_proba(X))
    np.testing.assert_allclose(model.decision_function(dX).compute(), model.decision_function(X))


def test_dask_dataframe_input_keeps_feature_names(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y, _ = _problem(2, n=2000, d=3, seed=4)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    ddf = dd.from_pandas(df, npartitions=3)
    mem = ll.LogisticRegression(tol=1e-10, max_iter=300).fit(df, y)
    dist = ll.LogisticRegression(tol=1e-10, max_iter=300).fit(ddf, y)
    _assert_same_fit(mem, dist)
    np.testing.assert_array_equal(dist.feature_names_in_, ["a", "b", "c"])


def test_worker_killed_during_fit_gives_the_same_result(client):
    X, y, sw = _problem(4, n=8000, seed=5)
    kw = dict(tol=1e-10, max_iter=500)
    mem = ll.LogisticRegression(**kw).fit(X, y, sample_weight=sw)
    dX = da.from_array(X, chunks=(1000, X.shape[1]))
    killed = []

    def kill_one_worker(info):
        if info.iteration == 3 and not killed:
            pids = client.run(os.getpid)
            address, pid = sorted(pids.items())[0]
            os.kill(pid, signal.SIGKILL)  # the data it holds is lost: Dask recomputes it
            killed.append(address)
        return False

    est = ll.LogisticRegression(**kw, callback=kill_one_worker)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distributed logs the lost worker
        lld.fit(est, dX, y, sample_weight=sw, persist=True)
    assert killed, "the callback never ran"
    _assert_same_fit(mem, est)
    client.wait_for_workers(2, timeout=60)


def test_data_larger_than_one_workers_memory_limit():
    """560 MB of rows on workers limited to 500 MiB each: streamed block by block.

    A worker holding numba's kernels already takes about 190 MiB, so neither worker could
    hold the data, nor could both together; "auto" streams it from its source each pass.
    """
    n, d, chunk = 350_000, 200, 10_000  # 560 MB of float64, 16 MB per block
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
            memory_limit="500MiB",
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        X = da.random.RandomState(0).standard_normal((n, d), chunks=(chunk, d))
        beta = np.linspace(-1.0, 1.0, d)
        y = (X @ beta + da.random.RandomState(1).standard_normal(n, chunks=chunk) > 0).astype(int)
        assert X.nbytes > 500 * 2**20
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning with few iterations
            est = ll.LogisticRegression(max_iter=3).fit(X, y)
        assert np.all(np.isfinite(est.coef_))
        # the signal is recovered: the coefficients correlate with beta
        assert np.corrcoef(est.coef_[0], beta)[0, 1] > 0.99
        assert est.loss_curve_[-1] < est.loss_curve_[0]
        assert c.run(lambda: 1)  # no worker was lost on the way


def test_unsupported_solver_and_bad_input(client):
    X, y, _ = _problem(2, n=500)
    dX = da.from_array(X, chunks=(250, 6))
    with pytest.raises(ValueError, match=r"`solver`='sgd' is not available for Dask inputs"):
        ll.LogisticRegression(solver="sgd").fit(dX, y)
    bad = X.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"`X` contains NaN or inf in column 2"):
        ll.LogisticRegression().fit(da.from_array(bad, chunks=(250, 6)), y)
    with pytest.raises(ValueError, match=r"`y` has shape \(499,\) but `X` has 500 rows"):
        ll.LogisticRegression().fit(dX, y[:-1])
    with pytest.raises(ValueError, match=r"at least 2 classes"):
        ll.LogisticRegression().fit(dX, np.zeros(500, int))


def test_in_memory_use_never_imports_dask():
    code = (
        "import sys, numpy as np, logloss as ll\n"
        "X = np.random.default_rng(0).standard_normal((50, 2)); y = (X[:, 0] > 0).astype(int)\n"
        "ll.LogisticRegression().fit(X, y).predict_proba(X)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_block_function_is_the_in_memory_objective(n_classes):
    """A block's task sums what LinearObjective averages (no cluster needed)."""
    from logloss.dask._objective import _block_hessp, _block_loss_grad
    from logloss.objectives import LinearObjective

    X, y, sw = _problem(n_classes, n=300, seed=7)
    link = "sigmoid" if n_classes == 2 else "softmax"
    f = LinearObjective(X, y, n_classes=n_classes, link=link, sample_weight=sw)
    theta = np.random.default_rng(0).normal(size=f.n_params)
    spec = (X.shape[1], f.k, link, True)
    out = _block_loss_grad(X, y, sw, theta, None, spec, True) / sw.sum()
    loss, grad = f(theta)
    assert out[0] == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(out[1:], grad, rtol=1e-10, atol=1e-14)
    v = np.random.default_rng(1).normal(size=f.n_params)
    hv = _block_hessp(X, y, sw, theta, v, None, spec) / sw.sum()
    np.testing.assert_allclose(hv, f.hessp(theta, v), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_preconditioner_equals_the_in_memory_one(n_classes):
    """The blockwise diagonal estimate (sample and class weights, uneven blocks, an empty
    block) is the in-memory objective's, so L-BFGS takes the same path on both."""
    import dask

    from logloss.dask._objective import DaskLinearObjective
    from logloss.objectives import LinearObjective

    X, y, sw = _problem(n_classes, n=300, seed=8)
    cw = np.linspace(0.5, 2.0, n_classes)
    link = "sigmoid" if n_classes == 2 else "softmax"
    chunks = ((0, 120, 100, 80),)
    dX = da.from_array(X, chunks=(chunks[0], X.shape[1]))
    dy, dw = da.from_array(y, chunks=chunks), da.from_array(sw, chunks=chunks)
    total = float(np.sum(sw * cw[y]))
    f = LinearObjective(X, y, n_classes=n_classes, link=link, sample_weight=sw * cw[y], alpha=3.0)
    g = DaskLinearObjective(dX, dy, n_classes=n_classes, link=link, sample_weight=dw,
                            class_weight=cw, total_weight=total, alpha=3.0)  # fmt: skip
    with dask.config.set(scheduler="synchronous"):
        np.testing.assert_allclose(g.preconditioner, f.preconditioner, rtol=1e-12)


def test_sparse_blocks_are_sized_by_their_stored_values_for_persist_auto(client, monkeypatch):
    """A 200,000 x 100,000 one-hot design: 160 GB dense, about 4 MB as CSR. "auto" must
    judge the CSR arrays (and persist them), not the dense shape (and stream them)."""
    sp = pytest.importorskip("scipy.sparse")
    from logloss.dask import _inputs
    from logloss.dask._inputs import prepare, stored_bytes

    n, d, chunk = 200_000, 100_000, 50_000
    rng = np.random.default_rng(3)
    cols = rng.integers(0, d, n)
    X = sp.csr_matrix((np.ones(n), cols, np.arange(n + 1)), shape=(n, d))
    dX = da.from_array(X, chunks=(chunk, d), asarray=False)
    y = da.from_array(cols % 2, chunks=chunk)
    expected = sum(
        b.data.nbytes + b.indices.nbytes + b.indptr.nbytes
        for b in (X[i : i + chunk] for i in range(0, n, chunk))
    )
    assert stored_bytes(dX) == expected
    assert dX.nbytes > 100e9 > 1000 * expected
    seen = []
    decide = _inputs._should_persist
    monkeypatch.setattr(
        _inputs, "_should_persist", lambda *a: seen.append((a[1], decide(*a))) or seen[-1][1]
    )
    prepare(dX, y)
    ((nbytes, persisted),) = seen
    assert nbytes == expected + y.nbytes and persisted
