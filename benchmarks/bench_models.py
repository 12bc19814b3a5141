"""Benchmark: logloss's classifiers against scikit-learn's, in the same process.

Three tables:

1. parity: ``LogisticRegression(C=1.0)`` coefficients of logloss and scikit-learn with a
   tight tolerance on both, as the largest coefficient difference relative to the
   largest coefficient (target <= 1e-4);
2. speed: default ``LogisticRegression()`` fit time of each (median of repeats), the time
   ratio (target <= 0.5) and the relative objective difference at the fitted
   coefficients, evaluated in float64 (target <= 1e-6): logloss's default (mixed
   precision on large X), pure float64 (``dtype="float64"``) and float32 on float32 X;
3. MLP: 5-fold cross-validated accuracy and mean fit time of ``MLPClassifier`` at the
   same architecture and number of epochs (targets: accuracy within 1 point, time
   ratio <= 0.7);
4. small fits: default ``LogisticRegression().fit`` on breast_cancer, wine and iris
   (standardised) and a 100-fit ``GridSearchCV`` on breast_cancer (20 values of C x 5
   folds), each library's estimator; wall time, best of ``--small-repeats`` rounds with
   the two libraries alternating (other processes share the cores), the ratio (target
   <= 0.5) and the largest coefficient difference (the same objective).

Usage::

    python benchmarks/bench_models.py [--quick] [--repeats N] [--threads N]
    python benchmarks/bench_models.py --only-small [--small-repeats N] [--threads 1]

``--quick`` shrinks the synthetic data sets (for a smoke run); ``--threads`` caps the BLAS
and numba threads of both libraries alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings

from _machine import cpu_model  # this folder is on sys.path


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small data sets (smoke run)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats per fit (median)")
    p.add_argument("--threads", type=int, default=None, help="cap BLAS / numba threads")
    p.add_argument("--skip-parity", action="store_true", help="skip the parity table")
    p.add_argument("--skip-mlp", action="store_true", help="skip the MLP table")
    p.add_argument("--skip-small", action="store_true", help="skip the small-fits table")
    p.add_argument("--only-small", action="store_true", help="only the small-fits table")
    p.add_argument("--small-repeats", type=int, default=30, help="rounds of the small fits")
    return p.parse_args()


ARGS = _parse()
if ARGS.threads is not None:
    os.environ["NUMBA_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression as SkLogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import logloss  # noqa: E402
from logloss.models import LogisticRegression, MLPClassifier  # noqa: E402
from logloss.objectives import LinearObjective  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def _standardised(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _synthetic(n, f, k, seed=0):
    X, y = datasets.make_classification(
        n_samples=n,
        n_features=f,
        n_informative=min(f, 30 if k > 2 else 20),
        n_classes=k,
        random_state=seed,
    )
    return X, y


def _data_sets(quick: bool):
    big_bin = (100_000, 50) if quick else (1_000_000, 50)
    big_multi = (20_000, 100) if quick else (200_000, 100)
    return {
        "breast_cancer": lambda: _standardised(datasets.load_breast_cancer),
        "wine": lambda: _standardised(datasets.load_wine),
        "digits": lambda: _standardised(datasets.load_digits),
        f"make_classification {big_bin[0]}x{big_bin[1]} binary": lambda: _synthetic(*big_bin, 2),
        f"make_classification {big_multi[0]}x{big_multi[1]} 10-class": lambda: _synthetic(
            *big_multi, 10
        ),
    }


def _objective(X, y, coef, intercept):
    """scikit-learn's penalised objective (C = 1) at the given coefficients, in float64."""
    k = len(np.unique(y))
    link = "sigmoid" if coef.shape[0] == 1 else "softmax"
    f = LinearObjective(
        np.asarray(X, np.float64),
        np.unique(y, return_inverse=True)[1],
        n_classes=k,
        link=link,
        alpha=1.0,
    )
    return f.loss(f.pack(np.asarray(coef, np.float64).T, np.asarray(intercept, np.float64)))


def _timed(make, X, y, repeats):
    times, model = [], None
    for _ in range(repeats):
        model = make()
        t0 = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), model


def _table(title, header, rows):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}\n{line}")
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    print(line, flush=True)


def parity(sets):
    rows = []
    for name in ("breast_cancer", "wine", "digits", *[n for n in sets if "10-class" in n]):
        X, y = sets[name]()
        ref = SkLogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(X, y)
        ours = LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(X, y)
        scale = float(np.abs(ref.coef_).max())
        rel = float(np.abs(ours.coef_ - ref.coef_).max()) / scale
        rel_b = float(np.abs(ours.intercept_ - ref.intercept_).max()) / scale
        rows.append(
            [
                name,
                X.shape,
                f"{rel:.1e}",
                f"{rel_b:.1e}",
                "yes" if max(rel, rel_b) <= 1e-4 else "NO",
            ]
        )
    _table(
        "1. LogisticRegression(C=1.0) coefficients, tol=1e-10 on both (relative to max |coef|)",
        ["data", "shape", "coef diff", "intercept diff", "<= 1e-4"],
        rows,
    )


def speed(sets, repeats):
    rows = []
    for name in ("digits", *[n for n in sets if n.startswith("make_classification")]):
        X, y = sets[name]()
        X32 = X.astype(np.float32)
        # warm-up: numba compilation (cached on disk) and first-touch of memory
        LogisticRegression(max_iter=2).fit(X[:2000], y[:2000])
        LogisticRegression(max_iter=2).fit(X32[:2000], y[:2000])
        t_sk, sk = _timed(SkLogisticRegression, X, y, repeats)
        f_sk = _objective(X, y, sk.coef_, sk.intercept_)
        runs = [
            ("logloss default", lambda: LogisticRegression(), X),
            ("logloss dtype=float64", lambda: LogisticRegression(dtype="float64"), X),
            ("logloss dtype=float32", lambda: LogisticRegression(dtype="float32"), X32),
        ]
        rows.append(
            [name, "scikit-learn lbfgs", int(np.ravel(sk.n_iter_)[0]), f"{t_sk:.3f}", "1.00",
             f"{f_sk:.10g}", "+0.0e+00", ""]
        )  # fmt: skip
        # for reference (not the target's peer): scikit-learn with BLAS on one thread, which
        # on a 2-core machine spares it the OpenBLAS threads that spin between its products
        with threadpool_limits(1, user_api="blas"):
            t_sk1, sk1 = _timed(SkLogisticRegression, X, y, repeats)
        rows.append(
            [name, "scikit-learn, 1 BLAS thread", int(np.ravel(sk1.n_iter_)[0]), f"{t_sk1:.3f}",
             f"{t_sk1 / t_sk:.2f}", f"{_objective(X, y, sk1.coef_, sk1.intercept_):.10g}", "", ""]
        )  # fmt: skip
        for label, make, data in runs:
            t, model = _timed(make, data, y, repeats)
            f = _objective(X, y, model.coef_, model.intercept_)
            ratio, rel = t / t_sk, (f - f_sk) / abs(f_sk)
            ok = "yes" if ratio <= 0.5 and rel <= 1e-6 else "NO"
            rows.append(
                [name, label, model.n_iter_, f"{t:.3f}", f"{ratio:.2f}", f"{f:.10g}",
                 f"{rel:+.1e}", ok]
            )  # fmt: skip
    _table(
        f"2. default LogisticRegression() fit, median of {repeats}",
        ["data", "implementation", "iters", "time s", "ratio", "objective", "rel. obj", "target"],
        rows,
    )


def mlp(repeats):
    X, y = _standardised(datasets.load_digits)
    epochs = 200
    common = dict(
        hidden_layer_sizes=(100,),
        alpha=1e-4,
        batch_size=200,
        learning_rate_init=1e-3,
        max_iter=epochs,
        n_iter_no_change=epochs + 1,
        tol=0.0,
        random_state=0,
    )
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=2).fit(X[:300], y[:300])  # warm-up
    results = {}
    for label, make in (
        ("scikit-learn adam", lambda: SkMLPClassifier(**common)),
        ("logloss adam float64", lambda: MLPClassifier(**common)),
        ("logloss adam float32", lambda: MLPClassifier(dtype="float32", **common)),
    ):
        accs, times = [], []
        for tr, te in folds:
            t, m = _timed(make, X[tr], y[tr], repeats)
            times.append(t)
            accs.append(m.score(X[te], y[te]))
        results[label] = (float(np.mean(accs)), float(np.sum(times)))
    acc_sk, t_sk = results["scikit-learn adam"]
    rows = []
    for label, (acc, t) in results.items():
        ok = (
            ""
            if label.startswith("scikit")
            else ("yes" if abs(acc - acc_sk) <= 0.01 and t / t_sk <= 0.7 else "NO")
        )
        rows.append(
            [
                label,
                f"{100 * acc:.2f}",
                f"{100 * (acc - acc_sk):+.2f}",
                f"{t:.2f}",
                f"{t / t_sk:.2f}",
                ok,
            ]
        )
    _table(
        f"3. MLPClassifier(hidden_layer_sizes=(100,)), digits, 5-fold CV, {epochs} epochs, "
        f"batch 200 (fit time: sum over folds of the median of {repeats})",
        ["implementation", "accuracy %", "diff", "fit time s", "ratio", "target"],
        rows,
    )


def _best_alternating(fits, rounds):
    """Best wall time of each callable in `fits`, the callables alternating per round."""
    best = [float("inf")] * len(fits)
    for _ in range(rounds):
        for i, fit in enumerate(fits):
            t0 = time.perf_counter()
            fit()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def small_fits(rounds):
    from sklearn.model_selection import GridSearchCV

    rows = []
    for name, loader in [
        ("breast_cancer", datasets.load_breast_cancer),
        ("wine", datasets.load_wine),
        ("iris", datasets.load_iris),
    ]:
        X, y = _standardised(loader)
        sk, ll = SkLogisticRegression().fit(X, y), LogisticRegression().fit(X, y)  # warm up
        diff = float(np.max(np.abs(sk.coef_ - ll.coef_)))
        t_sk, t_ll = _best_alternating(
            [
                lambda X=X, y=y: SkLogisticRegression().fit(X, y),
                lambda X=X, y=y: LogisticRegression().fit(X, y),
            ],
            rounds,
        )
        rows.append((f"{name} {X.shape[0]}x{X.shape[1]}", t_sk, t_ll, f"{diff:.1e}"))
    X, y = _standardised(datasets.load_breast_cancer)
    grid = {"C": np.logspace(-3, 3, 20)}

    def search(est):
        return GridSearchCV(est, grid, cv=5).fit(X, y)

    gs_sk, gs_ll = search(SkLogisticRegression()), search(LogisticRegression())
    diff = float(np.max(np.abs(gs_sk.best_estimator_.coef_ - gs_ll.best_estimator_.coef_)))
    t_sk, t_ll = _best_alternating(
        [lambda: search(SkLogisticRegression()), lambda: search(LogisticRegression())],
        max(1, rounds // 10),
    )
    rows.append(("GridSearchCV breast_cancer 20 C x 5 folds", t_sk, t_ll, f"{diff:.1e}"))
    _table(
        f"small fits: default LogisticRegression().fit, wall ms, best of {rounds} rounds "
        f"(GridSearchCV: {max(1, rounds // 10)}), libraries alternating",
        ["data", "scikit-learn ms", "logloss ms", "ratio", "target <= 0.5", "max |coef diff|"],
        [
            (d, f"{a * 1e3:.2f}", f"{b * 1e3:.2f}", f"{b / a:.2f}", "met" if b <= 0.5 * a else
             "NOT met", c)
            for d, a, b, c in rows
        ],
    )  # fmt: skip


def main() -> None:
    import sklearn

    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    print(
        f"logloss {logloss.__version__}, scikit-learn {sklearn.__version__}, numpy "
        f"{np.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print("CPU:", cpu_model())
    sets = _data_sets(ARGS.quick)
    limits = threadpool_limits(ARGS.threads) if ARGS.threads else None
    try:
        if not ARGS.skip_small:
            small_fits(ARGS.small_repeats)
        if ARGS.only_small:
            return
        if not ARGS.skip_parity:
            parity(sets)
        speed(sets, ARGS.repeats)
        if not ARGS.skip_mlp:
            mlp(max(1, ARGS.repeats // 3))
    finally:
        if limits is not None:
            limits.unregister()
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
