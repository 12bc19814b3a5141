"""LogisticRegression, SoftmaxRegression and MLPClassifier on scipy.sparse X (issue 14): the
same model as scikit-learn's sparse fit and as logloss's own dense fit, every solver and
penalty, and no densification (a fit on a matrix whose dense form would take 32 GB)."""

from __future__ import annotations

import time
import tracemalloc
import warnings

import numpy as np
import pytest
from support import one_blas_thread  # noqa: F401 (autouse fixture)

sklearn = pytest.importorskip("sklearn")
sp = pytest.importorskip("scipy.sparse")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression as SkLogisticRegression  # noqa: E402

from logloss.models import (  # noqa: E402
    LogisticRegression,
    MLPClassifier,
    SoftmaxRegression,
    TemperatureScaling,
)

pytestmark = pytest.mark.xdist_group("models")


def sparse_problem(n_classes: int, n: int = 600, seed: int = 0):
    """A CSR matrix of ~1 % random density beside two one-hot blocks (20 and 7 levels),
    with labels drawn from a softmax model on it."""
    rng = np.random.default_rng(seed)
    noise = sp.random(n, 200, density=0.01, format="csr", random_state=seed)
    noise.data = rng.normal(size=noise.nnz) * 2.0
    blocks = []
    for levels in (20, 7):
        codes = rng.integers(0, levels, n)
        blocks.append(sp.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, levels)))
    X = sp.hstack([noise, *blocks], format="csr")
    W = rng.normal(size=(X.shape[1], n_classes))
    Z = X @ W
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(n_classes, p=p) for p in P])
    return X, y


# -- against scikit-learn's own sparse fit ------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_same_model_as_sklearn_sparse_fit(n_classes, solver):
    X, y = sparse_problem(n_classes)
    ref = SkLogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(X, y)
    est = LogisticRegression(C=0.5, solver=solver, tol=1e-12, max_iter=1000, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol below what float64 reaches
        est.fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-6)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert est.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(est.predict(X), ref.predict(X))


# -- sparse and dense input give the same model -------------------------------------------


def _fit_both(make, X, y, **fit_kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sparse_fit = make().fit(X, y, **fit_kw)
        dense_fit = make().fit(X.toarray(), y, **fit_kw)
    return sparse_fit, dense_fit


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("solver", ["lbfgs", "newton", "gd", "sgd", "adam"])
def test_sparse_and_dense_input_give_the_same_model(solver, n_classes, dtype):
    X, y = sparse_problem(n_classes, n=400, seed=1)
    X = X.astype(dtype)
    sw = np.random.default_rng(2).uniform(0.2, 3.0, size=X.shape[0])
    class_weight = {c: 1.0 + 0.5 * c for c in range(n_classes)}

    def make():
        return LogisticRegression(
            solver=solver, class_weight=class_weight, max_iter=30, random_state=0, tol=1e-8
        )

    sparse_fit, dense_fit = _fit_both(make, X, y, sample_weight=sw)
    assert sparse_fit.coef_.dtype == dtype
    # float32: rounding differs between the sparse and the dense products, and 30
    # iterations of a solver carry it forward; the models still agree to 1e-3
    tol = 1e-8 if dtype == np.float64 else 1e-3
    np.testing.assert_allclose(sparse_fit.coef_, dense_fit.coef_, atol=tol)
    np.testing.assert_allclose(sparse_fit.intercept_, dense_fit.intercept_, atol=tol)
    np.testing.assert_allclose(
        sparse_fit.predict_proba(X), dense_fit.predict_proba(X.toarray()), atol=tol
    )
    assert sparse_fit.n_iter_ == dense_fit.n_iter_ or dtype == np.float32


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("solver", ["gd", "sgd"])
def test_l1_penalties_on_sparse_input(solver, penalty):
    X, y = sparse_problem(4, n=400, seed=3)

    def make():
        return LogisticRegression(
            penalty=penalty, C=0.3, solver=solver, max_iter=60, random_state=0, l1_ratio=0.7
        )

    sparse_fit, dense_fit = _fit_both(make, X, y)
    np.testing.assert_allclose(sparse_fit.coef_, dense_fit.coef_, atol=1e-8)
    # the proximal step sets coefficients exactly to zero, on sparse input too
    zeros = sparse_fit.coef_ == 0.0
    assert zeros.any() and not zeros.all()
    np.testing.assert_array_equal(zeros, dense_fit.coef_ == 0.0)


def test_softmax_regression_and_no_intercept_on_sparse_input():
    X, y = sparse_problem(2, n=300, seed=4)
    for make in (
        lambda: SoftmaxRegression(max_iter=200, tol=1e-10),
        lambda: LogisticRegression(fit_intercept=False, max_iter=200, tol=1e-10),
    ):
        sparse_fit, dense_fit = _fit_both(make, X, y)
        # both stop on float64's resolution of f with the gradient near 1e-9; the Hessian's
        # smallest eigenvalue is about alpha / n = 1/300, so the coefficients are pinned
        # down to a few 1e-7, whatever the order of the sums
        np.testing.assert_allclose(sparse_fit.coef_, dense_fit.coef_, atol=1e-7)
        np.testing.assert_allclose(sparse_fit.intercept_, dense_fit.intercept_, atol=1e-7)
        np.testing.assert_allclose(
            sparse_fit.decision_function(X), dense_fit.decision_function(X.toarray()), atol=1e-7
        )


def test_warm_start_on_sparse_input():
    X, y = sparse_problem(4, n=300, seed=5)
    cold = LogisticRegression(max_iter=500, tol=1e-10).fit(X, y)
    warm = LogisticRegression(max_iter=500, tol=1e-10, warm_start=True).fit(X, y)
    warm.fit(X, y)  # from the optimum: (almost) nothing left to do
    assert warm.n_iter_ <= 2
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-7)


def test_early_stopping_on_sparse_input():
    X, y = sparse_problem(2, n=400, seed=6)
    est = LogisticRegression(solver="sgd", early_stopping=True, max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert len(est.validation_loss_curve_) >= 1


# -- formats, indices, odd structure -------------------------------------------------------


def _odd_matrices():
    X, _ = sparse_problem(2, n=120, seed=7)
    X = X.tolil()
    X[5, :] = 0  # an empty row
    X[:, 3] = 0  # an empty column
    X = X.tocsr()
    X.eliminate_zeros()
    with_explicit_zeros = X.copy()
    with_explicit_zeros.data[::7] = 0.0  # stored zeros
    unsorted = X.copy()
    for i in range(unsorted.shape[0]):  # reverse each row's column order
        a, b = unsorted.indptr[i], unsorted.indptr[i + 1]
        unsorted.indices[a:b] = unsorted.indices[a:b][::-1].copy()
        unsorted.data[a:b] = unsorted.data[a:b][::-1].copy()
    unsorted.has_sorted_indices = False
    wide_index = X.copy()
    wide_index.indices = wide_index.indices.astype(np.int64)
    wide_index.indptr = wide_index.indptr.astype(np.int64)
    return {
        "empty_rows_cols": X,
        "explicit_zeros": with_explicit_zeros,
        "unsorted_indices": unsorted,
        "int64_indices": wide_index,
        "csc": X.tocsc(),
        "coo": X.tocoo(),
        "csr_array": sp.csr_array(X),
    }


@pytest.mark.parametrize("kind", list(_odd_matrices()))
def test_odd_sparse_inputs_fit_as_their_dense_form(kind):
    X = _odd_matrices()[kind]
    y = np.random.default_rng(8).integers(0, 3, X.shape[0])
    sparse_fit = LogisticRegression(max_iter=200, tol=1e-10).fit(X, y)
    dense_fit = LogisticRegression(max_iter=200, tol=1e-10).fit(X.toarray(), y)
    np.testing.assert_allclose(sparse_fit.coef_, dense_fit.coef_, atol=1e-8)
    np.testing.assert_allclose(
        sparse_fit.predict_proba(X), dense_fit.predict_proba(X.toarray()), atol=1e-8
    )


def test_more_columns_than_rows():
    rng = np.random.default_rng(9)
    X = sp.random(50, 2000, density=0.02, format="csr", random_state=9)
    y = rng.integers(0, 2, 50)
    sparse_fit = LogisticRegression(max_iter=300, tol=1e-10).fit(X, y)
    dense_fit = LogisticRegression(max_iter=300, tol=1e-10).fit(X.toarray(), y)
    np.testing.assert_allclose(sparse_fit.coef_, dense_fit.coef_, atol=1e-8)


@pytest.mark.parametrize("fmt", ["csc", "coo", "lil", "dok"])
def test_predict_on_other_sparse_formats(fmt):
    X, y = sparse_problem(4, n=300, seed=10)
    est = LogisticRegression(max_iter=200).fit(X, y)
    other = X.asformat(fmt)
    np.testing.assert_array_equal(est.predict(other), est.predict(X))
    np.testing.assert_allclose(est.predict_proba(other), est.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(est.predict_proba(X.toarray()), est.predict_proba(X), atol=1e-12)


def test_sparse_fit_in_a_pipeline_from_a_vectoriser():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    docs = ["red apple pie", "green apple", "blue sky", "blue sea sky", "red sea"] * 20
    y = [0, 0, 1, 1, 1] * 20
    clf = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0)).fit(docs, y)
    assert clf.score(docs, y) == 1.0


# -- never densify --------------------------------------------------------------------------


def test_fit_on_a_matrix_whose_dense_form_would_take_32_GB():
    n, d = 200_000, 20_000  # dense float64: 32 GB
    rng = np.random.default_rng(11)
    nnz_per_row = 10  # 0.05 % density
    indices = rng.integers(0, d, size=(n, nnz_per_row))
    X = sp.csr_matrix(
        (np.ones(n * nnz_per_row), indices.reshape(-1), np.arange(0, n * nnz_per_row + 1, 10)),
        shape=(n, d),
    )
    X.sum_duplicates()
    w = rng.normal(size=d)
    y = (X @ w + rng.logistic(size=n) > 0).astype(int)
    sparse_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = LogisticRegression(max_iter=30).fit(X, y)
            proba = est.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - start
    assert est.coef_.shape == (1, d)
    assert proba.shape == (n, 2)
    # X itself, a float32 copy for mixed precision, and O(rows + features) vectors: far
    # below the 32 GB (or any row block of it) that densifying would allocate
    assert peak < 12 * sparse_bytes, (peak, sparse_bytes)
    assert elapsed < 120.0
    assert est.score(X, y) > 0.6


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("value, kind", [(np.nan, "NaN"), (np.inf, "inf")])
def test_non_finite_sparse_values_name_the_column(value, kind):
    X, y = sparse_problem(2, n=100, seed=12)
    X = X.copy()
    row = 17
    a = X.indptr[row]
    col = int(X.indices[a])
    X.data[a] = value
    with pytest.raises(ValueError, match=rf"`X` contains {kind} in column {col}, first at row"):
        LogisticRegression().fit(X, y)
    est = LogisticRegression().fit(sparse_problem(2, n=100, seed=12)[0], y)
    with pytest.raises(ValueError, match=rf"`X` contains {kind} in column {col}"):
        est.predict(X)


def test_sparse_y_and_mismatched_shapes_are_clear_errors():
    X, y = sparse_problem(2, n=100, seed=13)
    with pytest.raises(ValueError, match="`y` must be a 1-D array of class labels"):
        LogisticRegression().fit(X, sp.csr_matrix(y.reshape(-1, 1)))
    with pytest.raises(ValueError, match="same number of rows"):
        LogisticRegression().fit(X, y[:-1])
    est = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :-1])


def test_temperature_scaling_refuses_sparse_logits_clearly():
    y = np.random.default_rng(14).integers(0, 2, 100)
    logits = np.random.default_rng(0).normal(size=(100, 2))
    ts = TemperatureScaling().fit(logits, y)  # unaffected on dense logits
    with pytest.raises(TypeError, match="TemperatureScaling does not accept"):
        ts.predict_proba(sp.csr_matrix(logits))
    with pytest.raises(TypeError, match="LogisticRegression and SoftmaxRegression"):
        TemperatureScaling().fit(sp.csr_matrix(logits), y)


# -- the MLP's first layer on CSR ------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd"])
def test_mlp_sparse_and_dense_input_give_the_same_model(solver, n_classes, dtype):
    X, y = sparse_problem(n_classes, n=300, seed=15)
    X = X.astype(dtype)
    sw = np.random.default_rng(16).uniform(0.5, 2.0, size=X.shape[0])

    def make():
        return MLPClassifier(
            hidden_layer_sizes=(8,), solver=solver, max_iter=20, random_state=0, alpha=1e-3,
            class_weight="balanced",
        )  # fmt: skip

    sparse_fit, dense_fit = _fit_both(make, X, y, sample_weight=sw)
    tol = 1e-8 if dtype == np.float64 else 1e-3
    for a, b in zip(sparse_fit.coefs_, dense_fit.coefs_, strict=True):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, atol=tol)
    np.testing.assert_allclose(
        sparse_fit.predict_proba(X.tocsc()), dense_fit.predict_proba(X.toarray()), atol=tol
    )


# -- Dask arrays of scipy.sparse blocks --------------------------------------------------------


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_dask_array_of_sparse_blocks_fits_as_the_in_memory_matrix(n_classes, solver):
    da = pytest.importorskip("dask.array")
    X, y = sparse_problem(n_classes, n=600, seed=17)
    sw = np.random.default_rng(18).uniform(0.5, 2.0, size=X.shape[0])
    dX = da.from_array(X, chunks=(150, X.shape[1]), asarray=False)
    dy, dsw = da.from_array(y, chunks=150), da.from_array(sw, chunks=150)

    def make():
        return LogisticRegression(solver=solver, class_weight="balanced", tol=1e-10, max_iter=300)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        blockwise = make().fit(dX, dy, sample_weight=dsw)
        in_memory = make().fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(blockwise.coef_, in_memory.coef_, atol=1e-6)
    np.testing.assert_allclose(
        blockwise.predict_proba(dX).compute(), in_memory.predict_proba(X), atol=1e-6
    )
    bad = X.copy()
    bad.data[3] = np.nan
    col = int(bad.indices[3])
    with pytest.raises(ValueError, match=rf"NaN or inf in column {col}"):
        make().fit(da.from_array(bad, chunks=(150, X.shape[1]), asarray=False), dy)
