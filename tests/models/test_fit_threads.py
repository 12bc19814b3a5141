"""Issue #12, finding 21: a fit takes no more numba threads than its process may use.

Under ``threadpoolctl.threadpool_limits`` (or in a joblib worker, whose BLAS thread count
is limited) and when fits run at once in threads of one process, the numba kernels used
to keep every core each, oversubscribing the machine. The number of threads a fit's
kernels run on is read in the fit's callback, which runs in the fit's thread.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from logloss import LogisticRegression

numba = pytest.importorskip("numba")
threadpoolctl = pytest.importorskip("threadpoolctl")

pytestmark = [
    pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two numba threads"),
    # max_iter=5 stops before convergence: not what is tested
    pytest.mark.filterwarnings("ignore:.*did not converge"),
]


def _large():
    """Enough rows that a fit's kernel calls are not run serially anyway (>= 2^16)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(70_000, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=70_000) > 0).astype(int)
    return X, y


def _threads_seen(model, X, y, wait=None):
    seen = []

    def record(info):
        seen.append(numba.get_num_threads())
        if wait is not None and len(seen) == 1:
            wait()

    model.set_params(callback=record, max_iter=5).fit(X, y)
    return seen


def test_a_fit_under_threadpool_limits_runs_its_kernels_on_one_thread():
    X, y = _large()
    before = numba.get_num_threads()
    with threadpoolctl.threadpool_limits(limits=1):
        seen = _threads_seen(LogisticRegression(), X, y)
    assert seen and set(seen) == {1}  # main: every numba thread
    assert numba.get_num_threads() == before
    assert set(_threads_seen(LogisticRegression(), X, y)) == {before}


def test_fits_running_at_once_in_threads_share_the_numba_threads():
    X, y = _large()
    total = numba.get_num_threads()
    barrier = threading.Barrier(2, timeout=60)
    seen: dict[int, list[int]] = {}

    def fit(k):
        seen[k] = _threads_seen(LogisticRegression(), X, y, wait=barrier.wait)

    workers = [threading.Thread(target=fit, args=(k,)) for k in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    # the second fit to start saw the first running: it took half the threads or fewer
    assert min(max(s) for s in seen.values()) <= max(1, total // 2)
