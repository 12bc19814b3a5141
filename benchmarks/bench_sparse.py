"""Benchmark: logistic regression on sparse, high-dimensional CSR data (issue 14).

Two generated problems, each binary and 20-class:

- ``onehot``: a table of a Zipf-distributed identifier column (many levels, a few very
  frequent), two more categorical columns and 5 numeric ones, one-hot encoded into a CSR
  matrix (rows x a few thousand indicators);
- ``text``: documents of ~40 hashed terms out of 2**18 features (2**16 with ``--quick``)
  with Zipfian term frequencies, log-scaled counts, rows scaled to unit norm (TF-IDF-like).

Labels come from a random linear model on the matrix. Every fit minimises the same
objective, scikit-learn's ``mean_i CE_i + ||W||^2 / (2 C n)`` with C = 1, which the table
reports for each fit (computed here, in float64, from the fitted coefficients), beside the
best wall time over ``--repeats`` fits:

- ``logloss``: ``LogisticRegression()`` defaults on the float64 CSR matrix, and on its
  float32 copy (which must agree with float64 to about 1e-4);
- scikit-learn's ``LogisticRegression``: lbfgs (its default), saga, and liblinear for
  binary problems (liblinear penalises the intercept too: its objective differs slightly);
- glum's ``GeneralizedLinearRegressor`` (binomial, binary only) when it is installed, with
  its default solver (IRLS, which holds a dense features x features Hessian: on 2**18 hashed
  features it cannot allocate it, and the row says so) and with ``solver="lbfgs"``.

Targets: logloss's default fit at most 0.5x scikit-learn's default lbfgs time at an
objective no worse. The ``peak MB`` column is NumPy's peak allocation during one more
logloss fit (``tracemalloc``) against the CSR matrix's own size.

``--kernel`` measures instead one evaluation of the loss and gradient (and one
Hessian-vector product) on each problem: the fused CSR kernels (``_kernels.csr_loss_grad``,
``csr_hessp``: one pass over the nonzeros) against the unfused path they replace (scipy's
sparse-times-dense products around the dense loss kernels), best of ``--repeats`` in wall
time and in process CPU time (all threads).

Usage: ``python benchmarks/bench_sparse.py`` (300,000 rows and 200,000 documents of 2**18
hashed features; long: every 20-class fit of the text problem has 5.2 million parameters)
or ``--quick`` (30,000 and 20,000 rows, 2**16 hashed features); ``--only text``;
``--classes 20`` (only the 20-class problems); ``--kernel`` (with ``--quick``: a few seconds);
``--solver-overhead`` (the time L-BFGS itself takes an iteration at 5.2 million parameters,
scipy's and logloss's: about a minute).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp
from _machine import cpu_model


def onehot_problem(n: int, n_classes: int, seed: int = 0):
    """One-hot CSR of a Zipfian identifier (up to 5,000 levels), two small categoricals and
    5 numeric columns; labels from a random softmax (or sigmoid) model."""
    rng = np.random.default_rng(seed)
    ident = np.minimum(rng.zipf(1.2, size=n) - 1, 4999)
    _, ident = np.unique(ident, return_inverse=True)
    blocks = []
    for codes in (ident, rng.integers(0, 50, n), rng.integers(0, 7, n)):
        blocks.append(sp.csr_matrix((np.ones(n), (np.arange(n), codes))))
    blocks.append(sp.csr_matrix(rng.normal(size=(n, 5))))
    X = sp.hstack(blocks, format="csr")
    return X, _labels(X, n_classes, rng)


def text_problem(n: int, n_classes: int, n_features: int = 2**18, seed: int = 1):
    """Hashed bag of words: ~40 Zipfian terms per document, log counts, unit rows."""
    rng = np.random.default_rng(seed)
    per_doc = 40
    ranks = np.minimum(rng.zipf(1.1, size=n * per_doc), 10**7)
    cols = (ranks * 2654435761) % n_features  # a fixed hash of the term's rank
    X = sp.csr_matrix(
        (np.ones(n * per_doc), cols, np.arange(0, n * per_doc + 1, per_doc)),
        shape=(n, n_features),
    )
    X.sum_duplicates()
    X.data = 1.0 + np.log(X.data)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.diags(1.0 / norms) @ X
    return X.tocsr(), _labels(X, n_classes, rng)


def _labels(X, n_classes: int, rng) -> np.ndarray:
    W = rng.normal(size=(X.shape[1], n_classes)) * 2.0
    Z = X @ W
    Z += rng.gumbel(size=Z.shape)  # argmax of logits + Gumbel noise: a softmax draw
    return Z.argmax(axis=1)


def objective(X, y, coef, intercept, C: float = 1.0) -> float:
    """scikit-learn's objective: mean cross-entropy + ||W||^2 / (2 C n), in float64."""
    coef = np.asarray(coef, np.float64)
    Z = X.astype(np.float64) @ coef.T + np.asarray(intercept, np.float64)
    n = X.shape[0]
    if Z.shape[1] == 1:  # sigmoid: softplus(z) - y z
        z = Z[:, 0]
        ce = np.logaddexp(0.0, z) - (y == 1) * z
    else:
        m = Z.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(Z - m).sum(axis=1))
        ce = lse - Z[np.arange(n), y]
    return float(ce.mean() + 0.5 * np.sum(coef**2) / (C * n))


def _fits(n_classes: int):
    from sklearn.linear_model import LogisticRegression as SkLR

    from logloss import LogisticRegression

    fits = [
        ("logloss (default)", lambda X, y: LogisticRegression().fit(X, y), None),
        ("logloss float32", lambda X, y: LogisticRegression().fit(X, y), np.float32),
        ("sklearn lbfgs (default)", lambda X, y: SkLR().fit(X, y), None),
        ("sklearn saga", lambda X, y: SkLR(solver="saga").fit(X, y), None),
    ]
    if n_classes == 2:
        fits.append(("sklearn liblinear", lambda X, y: SkLR(solver="liblinear").fit(X, y), None))
        try:
            import glum
        except ImportError:
            fits.append(("glum", None, None))
        else:

            def glum_fit(X, y, solver="auto"):
                m = glum.GeneralizedLinearRegressor(
                    family="binomial", alpha=1.0 / X.shape[0], l1_ratio=0.0, solver=solver
                ).fit(X, y)
                m.coef_ = np.asarray(m.coef_)[None, :]
                m.intercept_ = np.atleast_1d(m.intercept_)
                return m

            fits.append(("glum (default solver)", glum_fit, None))
            fits.append(("glum lbfgs", lambda X, y: glum_fit(X, y, "lbfgs"), None))
    return fits


def _peak_mb(X, y) -> float:
    from logloss import LogisticRegression

    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            LogisticRegression().fit(X, y)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def run(name: str, X, y, repeats: int) -> None:
    n_classes = int(y.max()) + 1
    mb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 1e6
    print(
        f"\n{name}, {n_classes} classes: {X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} nonzeros "
        f"(CSR {mb:.0f} MB; dense float64 would be {X.shape[0] * X.shape[1] * 8 / 1e9:.1f} GB)"
    )
    print(f"  {'fit':26s} {'best s':>8s} {'objective':>12s}")
    base = None
    for label, fit, dtype in _fits(n_classes):
        if fit is None:
            print(f"  {label:26s} {'not installed':>21s}")
            continue
        Xf = X if dtype is None else X.astype(dtype)
        best = np.inf
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                for _ in range(repeats):
                    start = time.perf_counter()
                    model = fit(Xf, y)
                    best = min(best, time.perf_counter() - start)
            except MemoryError as exc:  # glum's IRLS holds a dense features x features Hessian
                print(f"  {label:26s} failed: {str(exc)[:70]}")
                continue
        obj = objective(X, y, model.coef_, model.intercept_)
        if label.startswith("sklearn lbfgs"):
            base = best
        print(f"  {label:26s} {best:8.2f} {obj:12.6f}")
    print(
        f"  logloss peak allocation during a fit: {_peak_mb(X, y):.0f} MB (X itself: {mb:.0f} MB)"
    )
    if base is not None:
        print(f"  (scikit-learn lbfgs: {base:.2f} s)")


def _best(fn, repeats: int) -> tuple[float, float]:
    """(best wall s, best CPU s) of `repeats` calls of fn()."""
    wall = cpu = np.inf
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def run_kernel(X, y, repeats: int) -> None:
    """One loss + gradient evaluation (and one Hessian-vector product): fused against unfused,
    in float64 and float32."""
    n_classes = int(y.max()) + 1
    link = "softmax" if n_classes > 2 else "sigmoid"
    print(f"  ({X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} nonzeros, {link})")
    for dt in (np.float64, np.float32):
        for what, fused, unfused in _kernel_calls(X.astype(dt), y, link):
            fused()  # compile (or load) the kernels first
            fw, fc = _best(fused, repeats)
            uw, uc = _best(unfused, repeats)
            print(
                f"  {np.dtype(dt).name:8s} {what:10s} fused {fw * 1e3:8.2f} ms wall "
                f"{fc * 1e3:8.2f} ms CPU | scipy+dense {uw * 1e3:8.2f} ms wall "
                f"{uc * 1e3:8.2f} ms CPU | ratio {fw / uw:5.2f} wall {fc / uc:5.2f} CPU"
            )


def _kernel_calls(Xd, y, link: str) -> list:
    """[(name, fused call, unfused call)] on one CSR matrix in its dtype."""
    from logloss._kernels import csr_hessp, csr_loss_grad
    from logloss.objectives.linear_block import block_loss_grad, block_rows, row_block

    dt = Xd.dtype
    n, d = Xd.shape
    k = int(y.max()) + 1 if link == "softmax" else 1
    yy = y.astype(np.int64) if link == "softmax" else (y == 1).astype(dt)
    W = (np.random.default_rng(0).normal(size=(d, k)) * 0.1).astype(dt)
    b = np.zeros(k, dt)
    rw = 1.0 / n
    P = np.empty((n, k), dt)

    def fused():  # the kernel itself, whether or not linear_block routes this shape to it
        csr_loss_grad(
            Xd.data, Xd.indices, Xd.indptr, W, b, yy, None, link=link, row_weight=rw,
            out_gradW=np.zeros((d, k)), out_gradb=np.zeros(k), curvature=P,
        )  # fmt: skip

    def unfused():  # the blocks of scipy's products around the dense loss kernels
        gW, gb = np.zeros((d, k)), np.zeros(k)
        step = block_rows(k, dt.itemsize)
        Z = np.empty((min(step, n), k), dt)
        for s0 in range(0, n, step):
            s1 = min(s0 + step, n)
            block_loss_grad(
                row_block(Xd, s0, s1), yy[s0:s1], None, W, b, Z[: s1 - s0], link=link,
                row_weight=rw, need_grad=True, fit_intercept=True, gW=gW, gb=gb,
                curvature=P[s0:s1],
            )  # fmt: skip

    def hess_fused():
        csr_hessp(Xd.data, Xd.indices, Xd.indptr, W, b, P, None, link=link, row_weight=rw)

    def hess_unfused():  # scipy's products: U = X W + b, then X^T T
        U = Xd @ W + b
        T = P * U
        if link == "softmax":
            T -= P * T.sum(axis=1, keepdims=True)
            T *= rw
        return np.asarray(Xd.T @ T, np.float64), T.sum(axis=0, dtype=np.float64)

    return [("loss+grad", fused, unfused), ("hessp", hess_fused, hess_unfused)]


def run_solver_overhead(n_params: int = 20 * 2**18 + 20, iterations: int = 20) -> None:
    """Time per iteration spent inside L-BFGS itself (beyond evaluations) at the 20-class
    text model's size: scipy's L-BFGS-B against logloss's own, on a diagonal quadratic
    whose evaluation is timed and subtracted."""
    from scipy.optimize import minimize as sp_minimize

    from logloss.solvers.lbfgs import lbfgs

    d = np.random.default_rng(0).uniform(0.01, 1.0, n_params)
    spent = [0.0]

    def quad(x):
        t = time.perf_counter()
        g = d * x
        f = 0.5 * float(x @ g)
        spent[0] += time.perf_counter() - t
        return f, g

    x0 = np.ones(n_params)
    print(f"  ({n_params:,} parameters, {iterations} iterations, 10 correction pairs)")
    for name in (
        "scipy L-BFGS-B",
        "logloss lbfgs (float64 pairs)",
        "logloss lbfgs (float32 pairs)",
    ):
        spent[0] = 0.0
        start = time.perf_counter()
        if name.startswith("scipy"):
            opts = {"maxiter": iterations, "gtol": 0.0, "ftol": 0.0, "maxcor": 10}
            nit = sp_minimize(quad, x0, jac=True, method="L-BFGS-B", options=opts).nit
        else:
            dt = np.float32 if "float32" in name else np.float64
            nit = lbfgs(
                quad, x0, *quad(x0), max_iter=iterations, gtol=0.0, ftol=0.0, pair_dtype=dt
            ).nit
        wall = time.perf_counter() - start
        print(f"  {name:32s} {(wall - spent[0]) / nit * 1e3:7.0f} ms an iteration in the solver")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="30,000 / 20,000 rows")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["onehot", "text"])
    parser.add_argument("--classes", type=int, nargs="+", choices=[2, 20], default=[2, 20])
    parser.add_argument("--kernel", action="store_true", help="one evaluation, fused vs unfused")
    parser.add_argument(
        "--solver-overhead", action="store_true", help="L-BFGS's own time per iteration"
    )
    args = parser.parse_args()
    import sys

    print(
        f"CPU: {cpu_model()}; command: python benchmarks/bench_sparse.py {' '.join(sys.argv[1:])}"
    )
    rows_onehot, rows_text = (30_000, 20_000) if args.quick else (300_000, 200_000)
    if args.solver_overhead:
        run_solver_overhead()
        return
    if args.kernel:
        for n_classes in args.classes:
            if args.only in (None, "onehot"):
                print(f"\none-hot, {n_classes} classes")
                run_kernel(*onehot_problem(rows_onehot, n_classes), args.repeats)
            if args.only in (None, "text"):
                print(f"\nhashed text, {n_classes} classes")
                run_kernel(*text_problem(rows_text, n_classes), args.repeats)
        return
    for n_classes in args.classes:
        if args.only in (None, "onehot"):
            run(
                "one-hot (Zipfian identifier)",
                *onehot_problem(rows_onehot, n_classes),
                args.repeats,
            )
        if args.only in (None, "text"):
            run("hashed text", *text_problem(rows_text, n_classes), args.repeats)


if __name__ == "__main__":
    main()
