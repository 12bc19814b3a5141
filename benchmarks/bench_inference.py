"""Benchmark: fit + standard errors, logloss against statsmodels (issue #15, item 5).

Two problems: 1,000,000 x 50 binary (``Logit``) and 200,000 x 20 with 5 classes
(``MNLogit``), standard normal features and coefficients drawn once (seed 0).

- statsmodels: ``Logit(y, add_constant(X)).fit(disp=0)`` (``MNLogit`` likewise), then
  ``.bse`` (and the p-values), its defaults (Newton, ``tol=1e-8``);
- logloss: ``LogisticRegression(penalty=None, solver="newton-cholesky", tol=...)``
  (``SoftmaxRegression`` for 5 classes), then ``logloss.stats.infer(model, X, y)``.

Printed: the CPU model; for each library the fit and the inference times (best of
``--repeats`` runs, wall and process CPU time, which counts every thread); the ratio of
logloss's total to statsmodels' (target <= 0.1); and the largest relative differences of
params, bse and p-values (target <= 1e-6; the p-values below 1e-300 are left out of the
comparison, both libraries print them as 0), and the largest parameter difference in
standard errors. The default ``--tol 1e-10`` is where logloss's numbers are statsmodels'
to about 1e-12: statsmodels' Newton stops when the step is below 1e-8, one step after
which its parameters are exact; at ``--tol 1e-8`` (one Newton iteration fewer) the
parameters differ by about 4e-8 relative (3e-7 standard errors) and the p-values below
1e-200 by 2e-6 relative.

On data of at most ``logloss.stats.separation.LP_ALWAYS_ENTRIES`` entries (the
multinomial problem of ``--quick``) ``infer`` also solves the separation linear program,
which then dominates its time; the line under the table says so.

Usage::

    python benchmarks/bench_inference.py [--quick] [--repeats N] [--tol T] [--threads N]

``--quick`` takes a tenth of the rows (for the shared machine); ``--threads`` caps BLAS and
numba threads of both libraries alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings

from _machine import cpu_model  # this folder is on sys.path


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a tenth of the rows (smoke run)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per library (best of)")
    p.add_argument("--tol", type=float, default=1e-10, help="logloss's gradient tolerance")
    p.add_argument("--threads", type=int, default=None, help="cap BLAS / numba threads")
    p.add_argument("--only", choices=("binary", "multinomial"), help="one problem only")
    return p.parse_args()


ARGS = _parse()
if ARGS.threads is not None:
    os.environ["NUMBA_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402


def _problem(n: int, d: int, k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(scale=1.0 / np.sqrt(d), size=(d, k))
    b = rng.normal(scale=0.5, size=k)
    y = np.argmax(X @ W + b + rng.gumbel(size=(n, k)), axis=1)
    return X, y


def _timed(fn):
    """``(value, wall seconds, process CPU seconds)`` of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - w0, time.process_time() - c0


def _statsmodels(X, y, k):
    import statsmodels.api as sm

    Z = sm.add_constant(X)
    model = sm.Logit(y, Z) if k == 2 else sm.MNLogit(y, Z)
    res, fw, fc = _timed(lambda: model.fit(disp=0))
    (bse, pvalues), iw, ic = _timed(lambda: (np.asarray(res.bse), np.asarray(res.pvalues)))
    return np.asarray(res.params), bse, pvalues, (fw, fc, iw, ic)


def _logloss(X, y, k):
    import logloss as ll
    from logloss.stats import infer

    Est = ll.LogisticRegression if k == 2 else ll.SoftmaxRegression
    est = Est(penalty=None, solver="newton-cholesky", tol=ARGS.tol, max_iter=50)
    model, fw, fc = _timed(lambda: est.fit(X, y))
    res, iw, ic = _timed(lambda: infer(model, X, y))
    return np.asarray(res.params), np.asarray(res.bse), np.asarray(res.pvalues), (
        fw, fc, iw, ic,
    ), model.n_iter_  # fmt: skip


def _rel(a, b, floor=0.0):
    a, b = np.ravel(a), np.ravel(b)
    keep = np.abs(b) > floor
    return float(np.max(np.abs(a[keep] - b[keep]) / np.abs(b[keep]))) if keep.any() else 0.0


def _best(runs):
    """The best of each of the four timings over the runs."""
    return tuple(min(r[i] for r in runs) for i in range(4))


def main() -> int:
    from threadpoolctl import threadpool_limits

    from logloss.stats.separation import LP_ALWAYS_ENTRIES

    scale = 10 if ARGS.quick else 1
    problems = [("binary", 1_000_000 // scale, 50, 2), ("multinomial", 200_000 // scale, 20, 5)]
    if ARGS.only:
        problems = [p for p in problems if p[0] == ARGS.only]
    print(f"# bench_inference: {' '.join(sys.argv)}")
    print(f"# CPU: {cpu_model()} ({os.cpu_count()} logical cores), Python "
          f"{platform.python_version()}, threads: {ARGS.threads or 'default'}")  # fmt: skip
    print(f"# times: best of {ARGS.repeats}, wall and process CPU (all threads) in seconds")
    limit = threadpool_limits(ARGS.threads) if ARGS.threads else None
    # warm-up: numba's kernels compile (or load from the cache) outside the timings
    X0, y0 = _problem(2000, 5, 2)
    _logloss(X0, y0, 2)
    _logloss(*_problem(2000, 5, 3), 3)
    header = (f"{'problem':<27}{'library':<11}{'fit wall':>9}{'fit cpu':>9}{'inf wall':>9}"
              f"{'inf cpu':>9}{'tot wall':>9}{'tot cpu':>9}")  # fmt: skip
    print(header)
    worst = 0.0
    for name, n, d, k in problems:
        X, y = _problem(n, d, k)
        label = f"{name} {n}x{d}" + (f" K={k} " if k > 2 else "")
        sm_runs, ll_runs = [], []
        for _ in range(ARGS.repeats):  # alternate: both see the same neighbours
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sp, sb, spv, st = _statsmodels(X, y, k)
            lp, lb, lpv, lt, n_iter = _logloss(X, y, k)
            sm_runs.append(st)
            ll_runs.append(lt)
        ratios = []
        for lib, runs in (("statsmodels", sm_runs), ("logloss", ll_runs)):
            fw, fc, iw, ic = _best(runs)
            ratios.append((fw + iw, fc + ic))
            print(f"{label:<27}{lib:<11}{fw:9.3f}{fc:9.3f}{iw:9.3f}{ic:9.3f}"
                  f"{fw + iw:9.3f}{fc + ic:9.3f}")  # fmt: skip
        wall = ratios[1][0] / ratios[0][0]
        cpu = ratios[1][1] / ratios[0][1]
        diffs = (_rel(lp, sp), _rel(lb, sb), _rel(lpv, spv, floor=1e-300))
        worst = max(worst, *diffs)
        in_se = float(np.max(np.abs(np.ravel(lp) - np.ravel(sp)) / np.ravel(sb)))
        print(f"{'':<27}ratio logloss/statsmodels: wall {wall:.3f}, cpu {cpu:.3f} "
              f"(target <= 0.1); newton-cholesky iterations {n_iter}")  # fmt: skip
        print(f"{'':<27}largest relative difference: params {diffs[0]:.2e}, bse "
              f"{diffs[1]:.2e}, p-values {diffs[2]:.2e} (target <= 1e-6); params "
              f"{in_se:.2e} standard errors")  # fmt: skip
        if X.size <= LP_ALWAYS_ENTRIES:
            print(f"{'':<27}(infer ran the separation LP: {X.size} entries <= "
                  f"LP_ALWAYS_ENTRIES = {LP_ALWAYS_ENTRIES})")  # fmt: skip
    if limit is not None:
        limit.restore_original_limits()
    print(f"# worst relative difference: {worst:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
