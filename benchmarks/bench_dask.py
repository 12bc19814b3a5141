"""Dask fits against the in-memory fit and dask-ml, in the same run, on the same data.

Cases (the full run): 4,000,000 x 50 binary and 1,000,000 x 50 with 10 classes, float64.
The data is generated on the workers of a ``LocalCluster`` (2 worker processes on
loopback) and persisted there; the in-memory fit gets the same rows gathered to the
client. Each row of the table reports the wall time of one ``fit`` (data already in place,
kernels compiled by a warm-up fit in every process),
iterations, and the largest relative difference of the coefficients from the in-memory
fit; the Dask overhead is Dask time / in-memory time.

dask-ml's ``LogisticRegression`` (dask-glm's L-BFGS) runs when dask-ml is installed; it
is binary only (its ``multi_class`` is "ovr"), and its ``C`` follows scikit-learn, with an
objective that sums (not averages) the loss, so coefficients agree only roughly.

Usage::

    python benchmarks/bench_dask.py            # the full cases (about 3.5 GB of memory)
    python benchmarks/bench_dask.py --quick    # 10x fewer rows, a smoke test
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

import numpy as np
from _machine import cpu_model  # this folder is on sys.path


def make_data(n: int, d: int, k: int, chunk: int, seed: int):
    """Lazy (X, y) on the cluster: Gaussian features, labels from a softmax of X W."""
    import dask.array as da

    rs = da.random.RandomState(seed)
    X = rs.standard_normal((n, d), chunks=(chunk, d))
    W = np.random.default_rng(seed).standard_normal((d, k)) / np.sqrt(d) * 2.0
    G = rs.gumbel(size=(n, k), chunks=(chunk, k))
    y = da.argmax(X @ W + G, axis=1).astype(np.int64)
    return X, y


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def rel(a, b) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def run_case(name, n, d, k, chunk, args, client):
    import dask

    import logloss as ll
    from logloss import dask as lld

    # warm-up on a slice: numba compiles (or loads) its kernels in every process first
    # (blocks of 2,000 rows: large enough for the matrix-vector kernels)
    Xw, yw = make_data(8 * 2000, d, k, 2000, seed=k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ll.LogisticRegression(max_iter=5).fit(*dask.compute(Xw, yw))
        lld.fit(ll.LogisticRegression(max_iter=5), Xw, yw)
    X, y = make_data(n, d, k, chunk, seed=k)
    X, y = dask.persist(X, y)
    X_np, y_np = dask.compute(X, y)
    kw = dict(C=1.0, tol=args.tol, max_iter=args.max_iter)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mem, t_mem = timed(lambda: ll.LogisticRegression(**kw).fit(X_np, y_np))
        rows.append(("logloss in-memory", t_mem, mem.n_iter_, mem.n_iter_, 0.0))
        # the default above solves in float32 first (mixed precision); the Dask path stays
        # in float64 throughout, like this one
        m64, t64 = timed(lambda: ll.LogisticRegression(dtype="float64", **kw).fit(X_np, y_np))
        rows.append(
            ("logloss in-memory float64", t64, m64.n_iter_, m64.n_iter_, rel(m64.coef_, mem.coef_))
        )
        dist, t_dask = timed(lambda: lld.fit(ll.LogisticRegression(**kw), X, y, persist=True))
        rows.append(
            ("logloss Dask", t_dask, dist.n_iter_, dist.n_evaluations_, rel(dist.coef_, mem.coef_))
        )
        if k == 2 and not args.no_dask_ml:
            try:
                from dask_ml.linear_model import LogisticRegression as DMLogReg
            except ImportError:
                rows.append(("dask-ml (not installed)", float("nan"), 0, 0, float("nan")))
            else:
                # dask-ml's objective is sum(loss) + (1/(2C)) ||w||^2, scikit-learn's too
                dm, t_dm = timed(
                    lambda: DMLogReg(
                        C=1.0, solver="lbfgs", max_iter=args.max_iter, tol=args.tol
                    ).fit(X, y)
                )
                coef = np.asarray(dm.coef_).reshape(1, -1)
                n_iter = int(getattr(dm, "n_iter_", 0) or 0)
                rows.append(("dask-ml LogisticRegression", t_dm, n_iter, 0, rel(coef, mem.coef_)))
    print(
        f"\n{name}: {n:,} rows x {d} features x {k} classes, float64 "
        f"({X.nbytes / 1e9:.2f} GB), {X.numblocks[0]} blocks of {chunk:,} rows"
    )
    print(
        f"{'implementation':<28}{'fit s':>9}{'iters':>7}{'evals':>7}{'vs in-mem':>11}"
        f"{'max rel coef diff':>19}"
    )
    for label, t, it, ev, diff in rows:
        ratio = t / t_mem
        print(f"{label:<28}{t:>9.2f}{it:>7}{ev or '':>7}{ratio:>10.2f}x{diff:>19.2e}")
    return t_dask / t_mem, t_dask / t64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10x fewer rows")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--no-dask-ml", action="store_true")
    args = parser.parse_args()

    import dask
    import distributed

    scale = 10 if args.quick else 1
    with (
        distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=args.threads,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        print(
            f"logloss Dask benchmark: LocalCluster({args.workers} workers x {args.threads} "
            f"thread), {cpu_model()}, "
            f"dask {dask.__version__}, distributed {distributed.__version__}"
        )
        ratios = [
            run_case("binary", 4_000_000 // scale, 50, 2, 250_000 // scale, args, client),
            run_case("10-class", 1_000_000 // scale, 50, 10, 125_000 // scale, args, client),
        ]
    print(
        "\nDask overhead over in-memory (default, float64): "
        + ", ".join(f"{a:.2f}x / {b:.2f}x" for a, b in ratios)
        + " (target <= 2x)"
    )


if __name__ == "__main__":
    main()
