"""Benchmark: a ``GridSearchCV`` of logloss fits, serial (``n_jobs=1``) against parallel.

Issue #12 (finding 21): ``GridSearchCV(n_jobs=2)`` took 13.7 s for 9 fits against 4.2 s
for 25 fits serially. Each configuration runs in a fresh Python process (so the parallel
run pays its workers' start-up, as a user's does) and is timed three ways:

- wall: the child process's whole run, imports included (seconds);
- CPU: user + system time of the child and of every process it started and reaped (its
  loky workers, shut down before it exits), from ``resource.getrusage(RUSAGE_CHILDREN)``;
- search: the wall time of ``GridSearchCV.fit`` alone, measured inside the child.

Other sessions share this machine's cores, so CPU time is the figure to compare; wall
time is the best of ``--repeats`` runs. The data: breast_cancer (569 x 30, standardised),
``LogisticRegression``, ``--grid`` values of C x ``--folds`` folds.

``--explain N [N ...]`` also times ``logloss explain N`` (the text answer, no --save) in
fresh processes, the same two ways (the same finding: 10 s for a text answer).

Usage::

    python benchmarks/bench_parallel_fits.py [--repeats 3] [--grid 3] [--folds 3]
        [--jobs 1 2] [--estimator logistic|softmax|mlp] [--explain 1 4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from _machine import cpu_model  # this folder is on sys.path


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="runs per configuration (best)")
    p.add_argument("--grid", type=int, default=3, help="values of C")
    p.add_argument("--folds", type=int, default=3, help="cross-validation folds")
    p.add_argument("--jobs", type=int, nargs="*", default=[1, 2], help="n_jobs to compare")
    p.add_argument("--estimator", default="logistic", choices=("logistic", "softmax", "mlp"))
    p.add_argument("--explain", type=int, nargs="*", default=[], help="time `logloss explain N`")
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _child(args: argparse.Namespace) -> None:
    """One grid search with n_jobs=args.child; prints a JSON line."""
    import numpy as np
    from joblib.externals.loky import get_reusable_executor
    from sklearn.datasets import load_breast_cancer, load_wine
    from sklearn.model_selection import GridSearchCV

    import logloss as ll

    if args.estimator == "softmax":
        X, y = load_wine(return_X_y=True)
        est, grid = ll.SoftmaxRegression(), {"C": np.logspace(-2, 2, args.grid)}
    elif args.estimator == "mlp":
        X, y = load_breast_cancer(return_X_y=True)
        est = ll.MLPClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
        grid = {"alpha": np.logspace(-4, 0, args.grid)}
    else:
        X, y = load_breast_cancer(return_X_y=True)
        est, grid = ll.LogisticRegression(), {"C": np.logspace(-2, 2, args.grid)}
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    search = GridSearchCV(est, grid, cv=args.folds, n_jobs=args.child)
    start = time.perf_counter()
    search.fit(X, y)
    elapsed = time.perf_counter() - start
    get_reusable_executor().shutdown(wait=True)  # reap the workers: their CPU time counts
    print(json.dumps({"search": elapsed, "best": float(search.best_score_)}))


def _timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system, its children included) of `cmd`; its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out


def _run(args: argparse.Namespace, n_jobs: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", str(n_jobs), "--grid", str(args.grid)]
    cmd += ["--folds", str(args.folds), "--estimator", args.estimator]
    wall, cpu, out = _timed(cmd)
    result = json.loads(out.strip().splitlines()[-1])
    return {"wall": wall, "cpu": cpu, "search": result["search"], "best": result["best"]}


def main() -> None:
    args = _parse()
    if args.child is not None:
        _child(args)
        return
    fits = args.grid * args.folds
    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical cores)")
    print("command: python " + " ".join(sys.argv))
    if args.jobs:
        print(
            f"{args.estimator}: GridSearchCV of {fits} fits (+1 refit); best of {args.repeats} "
            "fresh processes; CPU = user + system of the process and its workers"
        )
        print(f"{'n_jobs':>6} {'wall s':>8} {'CPU s':>8} {'search s':>9} {'best score':>11}")
    for n_jobs in args.jobs:
        runs = [_run(args, n_jobs) for _ in range(args.repeats)]
        best = {k: min(r[k] for r in runs) for k in ("wall", "cpu", "search")}
        print(
            f"{n_jobs:>6} {best['wall']:8.2f} {best['cpu']:8.2f} {best['search']:9.2f} "
            f"{runs[0]['best']:11.4f}"
        )
    if args.explain:
        print(f"\nlogloss explain N (text only); best of {args.repeats} fresh processes")
        print(f"{'N':>6} {'wall s':>8} {'CPU s':>8}")
    for number in args.explain:
        cmd = [sys.executable, "-c", "from logloss.cli import main; main()", "explain"]
        runs = [_timed([*cmd, str(number)])[:2] for _ in range(args.repeats)]
        print(f"{number:>6} {min(r[0] for r in runs):8.2f} {min(r[1] for r in runs):8.2f}")


if __name__ == "__main__":
    main()
