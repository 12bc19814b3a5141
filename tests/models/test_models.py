"""Estimators: parity with scikit-learn, estimator checks, composition, bad input, Ctrl-C."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from support import one_blas_thread  # noqa: F401 (autouse fixture)

sklearn = pytest.importorskip("sklearn")

from sklearn import datasets  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import logloss as ll  # noqa: E402
from logloss.models import (  # noqa: E402
    DivergenceError,
    FitInterruptedWarning,
    LogisticRegression,
    MLPClassifier,
    SoftmaxRegression,
    TemperatureScaling,
    expected_calibration_error,
)

pytestmark = pytest.mark.xdist_group("models")


def _standardised(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _blobs(n=120, k=3, seed=0):
    X, y = datasets.make_blobs(n_samples=n, centers=k, n_features=4, random_state=seed)
    return X, y


# ---------------------------------------------------------------------------
# parity with scikit-learn
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loader", [datasets.load_breast_cancer, datasets.load_wine, datasets.load_digits]
)
@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_coefficients_equal_scikit_learn(loader, solver):
    from sklearn.linear_model import LogisticRegression as SkLR

    X, y = _standardised(loader)
    if loader is datasets.load_digits:
        X, y = X[:600], y[:600]
    ref = SkLR(C=1.0, tol=1e-10, max_iter=10_000).fit(X, y)
    ours = LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000, solver=solver).fit(X, y)
    scale = np.abs(ref.coef_).max()
    assert ours.coef_.shape == ref.coef_.shape and ours.intercept_.shape == ref.intercept_.shape
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-4 * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-4 * scale)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("k", [2, 3])
def test_weights_and_no_intercept_equal_scikit_learn(k):
    from sklearn.linear_model import LogisticRegression as SkLR

    X, y = _blobs(n=150, k=k, seed=3)
    X = X + np.random.default_rng(0).normal(scale=3.0, size=X.shape)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, len(y))
    for kwargs in (
        dict(C=0.3, class_weight="balanced"),
        dict(C=2.0, fit_intercept=False),
        dict(C=0.5, class_weight={0: 2.0, 1: 0.5}),
    ):
        ref = SkLR(tol=1e-10, max_iter=5000, **kwargs).fit(X, y, sample_weight=sw)
        ours = LogisticRegression(tol=1e-10, max_iter=5000, **kwargs).fit(X, y, sample_weight=sw)
        scale = np.abs(ref.coef_).max()
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * scale)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4 * scale)


def test_binary_uses_a_sigmoid_and_softmax_regression_two_rows():
    X, y = _standardised(datasets.load_breast_cancer)
    lr = LogisticRegression(C=2.0, tol=1e-10).fit(X, y)
    sm = SoftmaxRegression(C=1.0, tol=1e-10).fit(X, y)
    assert lr.coef_.shape == (1, X.shape[1]) and sm.coef_.shape == (2, X.shape[1])
    np.testing.assert_allclose(sm.coef_[0], -sm.coef_[1], atol=1e-12)
    # softmax with both rows penalised == sigmoid with C doubled (z1 - z0 = 2 w1 x)
    np.testing.assert_allclose(sm.decision_function(X), lr.decision_function(X), atol=1e-4)
    np.testing.assert_allclose(sm.predict_proba(X), lr.predict_proba(X), atol=1e-6)


def test_multinomial_intercepts_are_centred():
    X, y = _blobs(k=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = LogisticRegression(solver="gd", max_iter=50).fit(X, y)
    assert abs(m.intercept_.sum()) < 1e-10
    np.testing.assert_allclose(m.coef_.sum(axis=0), 0.0, atol=1e-10)


@pytest.mark.parametrize("solver", ["gd", "newton", "sgd", "adam"])
def test_other_solvers_reach_the_lbfgs_solution(solver):
    X, y = _standardised(datasets.load_wine)
    ref = LogisticRegression(tol=1e-10).fit(X, y)
    kwargs = (
        dict(tol=1e-8, max_iter=3000)
        if solver in ("gd", "newton")
        else dict(
            max_iter=300,
            learning_rate=0.03 if solver == "sgd" else 0.01,
            lr_schedule="cosine",
            tol=0.0,
            n_iter_no_change=1000,
            random_state=0,
            batch_size=16,
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # plain gd converges slowly
        ours = LogisticRegression(solver=solver, **kwargs).fit(X, y)
    atol = {"newton": 1e-6, "gd": 2e-3}.get(solver, 5e-2)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=atol * np.abs(ref.coef_).max())


def test_float32_mode():
    X, y = _standardised(datasets.load_wine)
    m64 = LogisticRegression(tol=1e-8).fit(X, y)
    m32 = LogisticRegression(dtype="float32", tol=1e-5).fit(X, y)
    assert m32.coef_.dtype == np.float32 and m32.predict_proba(X).dtype == np.float32
    np.testing.assert_allclose(m32.coef_, m64.coef_, atol=1e-3 * np.abs(m64.coef_).max())
    # float32 input stays float32 by default
    assert LogisticRegression().fit(X.astype(np.float32), y).coef_.dtype == np.float32


def test_l1_and_elasticnet_are_sparse():
    X, y = _standardised(datasets.load_breast_cancer)
    warnings.simplefilter("ignore", ConvergenceWarning)  # plain gd is slow to a tight tol
    l1 = LogisticRegression(penalty="l1", C=0.05, solver="gd", max_iter=2000).fit(X, y)
    en = LogisticRegression(
        penalty="elasticnet", C=0.05, l1_ratio=0.5, solver="gd", max_iter=2000
    ).fit(X, y)
    l2 = LogisticRegression(C=0.05).fit(X, y)
    assert (l1.coef_ == 0).sum() > (en.coef_ == 0).sum() > (l2.coef_ == 0).sum() == 0
    assert l1.score(X, y) > 0.9


def test_early_stopping_and_warm_start():
    X, y = _standardised(datasets.load_digits)
    m = LogisticRegression(
        solver="adam",
        learning_rate=0.01,
        early_stopping=True,
        max_iter=200,
        random_state=0,
        n_iter_no_change=3,
    ).fit(X, y)
    assert len(m.validation_loss_curve_) == m.n_iter_ == len(m.loss_curve_) < 200
    assert m.score(X, y) > 0.9
    w = LogisticRegression(tol=1e-6, max_iter=500).fit(X[:800], y[:800])
    cold = w.n_iter_
    w.set_params(warm_start=True).fit(X[:800], y[:800])
    assert w.n_iter_ < cold


# ---------------------------------------------------------------------------
# scikit-learn estimator checks and composition
# ---------------------------------------------------------------------------

_TS_REASON = (
    "without an estimator, TemperatureScaling treats X as logits with classes 0..K-1 "
    "(K = n columns); the check's feature matrix and labels are not logits and classes"
)
_TS_EXPECTED = {
    name: _TS_REASON
    for name in (
        "check_classifier_data_not_an_array",
        "check_classifiers_classes",
        "check_classifiers_train",
        "check_estimators_fit_returns_self",
        "check_estimators_overwrite_params",
        "check_fit2d_1feature",
        "check_readonly_memmap_input",
        "check_sample_weights_not_an_array",
        "check_sample_weights_not_overwritten",
        "check_sample_weights_pandas_series",
        "check_sample_weights_shape",
        "check_supervised_y_no_nan",
    )
}


def _expected_failed_checks(estimator):
    return _TS_EXPECTED if isinstance(estimator, TemperatureScaling) else {}


@parametrize_with_checks(
    [
        LogisticRegression(),
        LogisticRegression(solver="newton"),
        LogisticRegression(solver="gd", penalty="l1"),
        LogisticRegression(solver="sgd", max_iter=30),
        SoftmaxRegression(),
        MLPClassifier(hidden_layer_sizes=(20,), max_iter=100),
        TemperatureScaling(),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_pipeline_gridsearch_and_clone():
    X, y = datasets.load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    grid = GridSearchCV(pipe, {"logisticregression__C": [0.01, 1.0]}, cv=3).fit(X, y)
    assert grid.best_params_["logisticregression__C"] == 1.0
    assert grid.score(X, y) > 0.9
    m = LogisticRegression(C=0.5, solver="newton")
    c = clone(m)
    assert c.get_params() == m.get_params() and not hasattr(c, "coef_")
    mlp = make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(10,), max_iter=300, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert mlp.fit(X, y).score(X, y) > 0.9


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


def test_nan_and_inf_name_the_column():
    X, y = _blobs()
    X[5, 2] = np.nan
    with pytest.raises(ValueError, match=r"contains NaN in column 2, first at row 5"):
        LogisticRegression().fit(X, y)
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"]).fillna(0.0)
    df.iloc[7, 3] = np.inf
    with pytest.raises(ValueError, match=r"contains inf in column 3 \('d'\), first at row 7"):
        MLPClassifier().fit(df, y)
    m = LogisticRegression().fit(np.nan_to_num(X), y)
    with pytest.raises(ValueError, match="contains NaN in column 2"):
        m.predict(X)


@pytest.mark.parametrize("Est", [LogisticRegression, SoftmaxRegression, MLPClassifier])
def test_one_class_is_an_error(Est):
    X, _ = _blobs()
    with pytest.raises(ValueError, match=r"at least 2 classes.*got only one class: 'a'"):
        Est().fit(X, np.array(["a"] * len(X)))


def test_unseen_labels_and_wrong_feature_count():
    X, y = _blobs()
    m = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"label\(s\) the model never saw in fit: \[7\]"):
        m.score(X, np.where(y == 0, 7, y))
    with pytest.raises(ValueError, match="X has 3 features, but LogisticRegression is expecting 4"):
        m.predict(X[:, :3])


@pytest.mark.parametrize(
    "est,match",
    [
        (LogisticRegression(C=-1.0), r"`C` must be a number in \(0, inf\); got -1.0"),
        (LogisticRegression(C=0), r"`C` must be a number in \(0, inf\); got 0"),
        (LogisticRegression(solver="liblinear"), r"`solver` must be one of .*got 'liblinear'"),
        (LogisticRegression(penalty="l3"), r"`penalty` must be one of .*got 'l3'"),
        (LogisticRegression(l1_ratio=1.5), r"`l1_ratio` must be a number in \[0, 1\]; got 1.5"),
        (LogisticRegression(penalty="l1"), r"`penalty`='l1' needs solver 'gd' or 'sgd'.*'lbfgs'"),
        (LogisticRegression(max_iter=0), r"`max_iter` must be an integer >= 1; got 0"),
        (LogisticRegression(tol=-1), r"`tol` must be a number in \[0, inf\); got -1"),
        (LogisticRegression(learning_rate=0.0), r"`learning_rate` must be a number in \(0"),
        (LogisticRegression(early_stopping=True), r"`early_stopping`=True needs solver"),
        (LogisticRegression(dtype="float16"), r"`dtype` must be 'float32', 'float64' or None"),
        (LogisticRegression(class_weight="auto"), r"`class_weight` must be None, 'balanced'"),
        (MLPClassifier(hidden_layer_sizes=(10, 0)), r"`hidden_layer_sizes` must be .*\(10, 0\)"),
        (MLPClassifier(activation="gelu"), r"`activation` must be one of .*got 'gelu'"),
        (MLPClassifier(solver="newton"), r"`solver` must be one of 'adam', 'sgd', 'lbfgs'"),
        (MLPClassifier(alpha=-1e-4), r"`alpha` must be a number in \[0, inf\)"),
        (MLPClassifier(label_smoothing=1.0), r"`label_smoothing` must be a number in \[0, 1\)"),
        (TemperatureScaling(max_iter=-3), r"`max_iter` must be an integer >= 1; got -3"),
    ],
)
def test_invalid_hyperparameters_are_clear_value_errors(est, match):
    X, y = _blobs()
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)


@pytest.mark.parametrize(
    "est",
    [
        LogisticRegression(solver="sgd", learning_rate=1e5, momentum=0.99),
        LogisticRegression(solver="gd", learning_rate=1e4),
        MLPClassifier(solver="sgd", learning_rate_init=1e4, momentum=0.99, random_state=0),
    ],
)
def test_divergence_is_reported(est):
    X, y = _blobs()
    name = "learning_rate_init" if isinstance(est, MLPClassifier) else "learning_rate"
    with pytest.raises(DivergenceError, match=rf"diverged.*`{name}`=.* is too high"):
        est.fit(100.0 * X, y)
    assert isinstance(DivergenceError("x"), ValueError)


def test_backtracking_gd_fits_badly_scaled_data():
    X, y = _blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = LogisticRegression(solver="gd", max_iter=200).fit(1e3 * X, y)
    assert np.all(np.isfinite(m.coef_)) and m.score(1e3 * X, y) > 0.9


# ---------------------------------------------------------------------------
# Ctrl-C, convergence warnings, progress bar
# ---------------------------------------------------------------------------


def _interrupt_at(n):
    def callback(info):
        if info.iteration >= n:
            raise KeyboardInterrupt

    return callback


@pytest.mark.parametrize(
    "est",
    [
        LogisticRegression(),
        LogisticRegression(solver="newton"),
        LogisticRegression(solver="sgd"),
        MLPClassifier(hidden_layer_sizes=(5,)),
        MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs"),
        TemperatureScaling(),
    ],
)
def test_keyboard_interrupt_keeps_the_best_parameters_and_warns(est):
    X, y = _standardised(datasets.load_wine)
    est.set_params(callback=_interrupt_at(3))
    if isinstance(est, TemperatureScaling):
        X = 5.0 * X[:, :3]
        y = y % 3
        est.set_params(callback=_interrupt_at(1))
    with pytest.warns(FitInterruptedWarning, match="interrupted.*best parameters"):
        est.fit(X, y)
    assert est.interrupted_ if hasattr(est, "interrupted_") else True
    assert est.predict(X).shape == y.shape
    assert np.all(np.isfinite(est.predict_proba(X)))
    assert est.n_iter_ <= 3


def test_convergence_warning_and_callback_stop():
    X, y = _standardised(datasets.load_digits)
    with pytest.warns(ConvergenceWarning, match=r"did not converge in max_iter=2"):
        LogisticRegression(max_iter=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = LogisticRegression(callback=lambda info: info.iteration == 4).fit(X, y)
    assert m.n_iter_ == 4 and len(m.loss_curve_) == 4


def test_verbose_shows_a_progress_bar(capsys, monkeypatch):
    X, y = _blobs()
    LogisticRegression(verbose=1).fit(X, y)
    err = capsys.readouterr().err
    assert "LogisticRegression" in err and "loss" in err
    # without rich: one plain line per iteration
    monkeypatch.setitem(__import__("sys").modules, "rich.progress", None)
    m = LogisticRegression(verbose=1).fit(X, y)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == m.n_iter_ and lines[0].startswith("LogisticRegression 1/100 loss ")


# ---------------------------------------------------------------------------
# TemperatureScaling
# ---------------------------------------------------------------------------


def test_temperature_scaling_on_logits():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 3000)
    logits = 4.0 * (np.eye(4)[y] + rng.normal(size=(3000, 4)))  # over-confident
    ts = TemperatureScaling().fit(logits, y)
    assert ts.temperature_ > 1.5
    assert ts.ece_after_ < ts.ece_before_ and ts.loss_after_ < ts.loss_before_
    np.testing.assert_array_equal(ts.predict(logits), np.argmax(logits, axis=1))
    np.testing.assert_allclose(
        ts.predict_proba(logits), ll.softmax(logits / ts.temperature_, axis=1), rtol=1e-12
    )
    # the fitted temperature is the minimiser: the derivative in T vanishes
    f = lambda t: float(ll.cross_entropy(logits / t, y))  # noqa: E731
    t = ts.temperature_
    assert abs(f(t * 1.001) - f(t * 0.999)) < 1e-6


def test_temperature_scaling_one_binary_logit_and_a_fitted_estimator():
    from sklearn.frozen import FrozenEstimator

    X, y = _standardised(datasets.load_breast_cancer)
    clf = LogisticRegression(C=100.0).fit(X[:300], y[:300])
    ts = TemperatureScaling(FrozenEstimator(clf)).fit(X[300:], y[300:])
    z = clf.decision_function(X[300:])
    ts2 = TemperatureScaling().fit(z[:, None], y[300:])
    assert ts.temperature_ == pytest.approx(ts2.temperature_, rel=1e-6)
    np.testing.assert_array_equal(ts.classes_, clf.classes_)
    np.testing.assert_allclose(
        ts.predict_proba(X[300:])[:, 1], ll.sigmoid(z / ts.temperature_), rtol=1e-10
    )
    assert clone(ts).set_params().estimator is not None
    with pytest.raises(ValueError, match=r"label\(s\) not in classes_"):
        TemperatureScaling(FrozenEstimator(clf)).fit(X[300:], y[300:] + 5)


def test_expected_calibration_error():
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    # bins: 0.9 (2 rows, acc 0.5), 0.8 (acc 1), 0.6 (acc 1)
    expected = (2 * abs(0.5 - 0.9) + abs(1 - 0.8) + abs(1 - 0.6)) / 4
    assert expected_calibration_error(np.array([0, 1, 1, 1]), p) == pytest.approx(expected)
    assert expected_calibration_error(np.array([0, 0]), np.array([[1.0, 0.0], [1.0, 0.0]])) == 0


# ---------------------------------------------------------------------------
# MLPClassifier
# ---------------------------------------------------------------------------


def test_mlp_learns_and_has_scikit_learn_attributes():
    X, y = _standardised(datasets.load_digits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = MLPClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=0).fit(X, y)
    assert [w.shape for w in m.coefs_] == [(64, 32), (32, 10)]
    assert [b.shape for b in m.intercepts_] == [(32,), (10,)]
    assert m.out_activation_ == "softmax" and m.n_layers_ == 3
    assert m.score(X, y) > 0.95
    assert len(m.loss_curve_) == m.n_iter_ and m.loss_curve_[-1] < m.loss_curve_[0]
    np.testing.assert_allclose(m.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(m.predict_log_proba(X)), m.predict_proba(X), rtol=1e-9)


def test_mlp_binary_uses_one_sigmoid_unit_and_options():
    X, y = _standardised(datasets.load_breast_cancer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for kwargs in (
            dict(activation="tanh", solver="sgd", learning_rate_init=0.01),
            dict(activation="logistic", label_smoothing=0.1, class_weight="balanced"),
            dict(early_stopping=True, n_iter_no_change=2),
            dict(solver="lbfgs", alpha=1.0),
        ):
            m = MLPClassifier(hidden_layer_sizes=(6,), max_iter=40, random_state=0, **kwargs)
            m.fit(X, y)
            assert m.coefs_[-1].shape == (6, 1) and m.out_activation_ == "logistic"
            assert m.score(X, y) > 0.9, kwargs
            assert m.decision_function(X).shape == (len(y),)
    assert len(m.validation_loss_curve_) == 0
    es = MLPClassifier(hidden_layer_sizes=(6,), early_stopping=True, max_iter=40, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        es.fit(X, y)
    assert len(es.validation_loss_curve_) == es.n_iter_


def test_mlp_warm_start_continues():
    X, y = _standardised(datasets.load_iris)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, warm_start=True, random_state=0)
        first = m.fit(X, y).loss_curve_[-1]
        second = m.fit(X, y).loss_curve_[0]
    assert second < first + 0.05


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_mixed_precision_default_reaches_the_float64_solution(monkeypatch, solver):
    from logloss.models import linear

    monkeypatch.setattr(linear, "_MIXED_MIN_ELEMENTS", 0)
    X, y = _standardised(datasets.load_digits)
    X, y = X[:600], y[:600]
    seen = []
    mixed = LogisticRegression(
        solver=solver, tol=1e-8, max_iter=1000, callback=lambda info: seen.append(info.iteration)
    ).fit(X, y)
    pure = LogisticRegression(solver=solver, tol=1e-8, max_iter=1000, dtype="float64").fit(X, y)
    assert mixed.coef_.dtype == np.float64
    scale = np.abs(pure.coef_).max()
    np.testing.assert_allclose(mixed.coef_, pure.coef_, atol=1e-5 * scale)
    assert mixed.loss_curve_[-1] == pytest.approx(pure.loss_curve_[-1], rel=1e-10)
    assert seen == list(range(1, mixed.n_iter_ + 1)) == list(range(1, len(mixed.loss_curve_) + 1))


def test_small_fits_run_kernels_and_blas_on_one_thread():
    import numba
    from threadpoolctl import threadpool_info, threadpool_limits

    from logloss.models._threads import kernel_threads

    def blas_threads():
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    with threadpool_limits(2, user_api="blas"):
        numba_before, blas_before = numba.get_num_threads(), blas_threads()
        with kernel_threads(1797 * 10):  # a digits-sized softmax objective
            assert numba.get_num_threads() == 1 and blas_threads() == {1}
        assert numba.get_num_threads() == numba_before and blas_threads() == blas_before
        with kernel_threads(1 << 20):  # large calls keep every thread
            assert numba.get_num_threads() == numba_before and blas_threads() == blas_before
        with kernel_threads(1 << 20, blas_columns=10):  # skinny products: BLAS on one thread
            assert numba.get_num_threads() == numba_before and blas_threads() == {1}
        with kernel_threads(1 << 20, blas_columns=1000):
            assert blas_threads() == blas_before
        assert numba.get_num_threads() == numba_before and blas_threads() == blas_before


# ---------------------------------------------------------------------------
# hyperparameters: typed, checked values; one exception type per mistake
# ---------------------------------------------------------------------------


def test_checked_hyperparameters_are_typed_values():
    p = LogisticRegression(C=2.0, penalty="elasticnet", l1_ratio=0.25, solver="gd")._check_params()
    assert (p.C, p.solver, p.max_iter) == (2.0, "gd", 100)
    assert p.alpha == pytest.approx(0.75 / 2.0) and p.l1 == pytest.approx(0.25 / 2.0)
    with pytest.raises(AttributeError):
        p.C = 3.0  # frozen
    m = MLPClassifier(hidden_layer_sizes=5, learning_rate="cosine")._check_params()
    assert m.hidden_layer_sizes == (5,) and m.learning_rate == "cosine"


def test_a_wrong_type_is_one_exception_everywhere():
    """A non-number where a number is expected: InvalidParameterError, both a TypeError and
    a ValueError, from an estimator and from a loss alike; a bad value is a ValueError."""
    from logloss._validation import InvalidParameterError

    X, y = _blobs()
    for call in (
        lambda: LogisticRegression(C="big").fit(X, y),
        lambda: MLPClassifier(max_iter=2.5).fit(X, y),
        lambda: LogisticRegression(fit_intercept="no").fit(X, y),
        lambda: ll.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing="0.1"),
    ):
        with pytest.raises(InvalidParameterError) as info:
            call()
        assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    for call in (
        lambda: LogisticRegression(C=-1.0).fit(X, y),
        lambda: ll.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing=1.5),
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert not isinstance(info.value, TypeError)


def test_collections_are_recognised_without_importing_their_library():
    from logloss.models._registry import collection_handler, collection_library

    class FakeDaskArray:
        pass

    FakeDaskArray.__module__ = "dask.array.core"
    assert collection_library(FakeDaskArray()) == "dask"
    assert collection_library(np.zeros(3)) is None and collection_handler(np.zeros(3)) is None
    pd = pytest.importorskip("pandas")
    assert collection_library(pd.DataFrame({"a": [1.0]})) is None


@pytest.mark.parametrize(
    "Est", [LogisticRegression, SoftmaxRegression, MLPClassifier, TemperatureScaling]
)
def test_every_hyperparameter_is_declared_with_its_check(Est):
    from dataclasses import fields

    declared = {f.name for f in fields(Est._params_type)}
    assert declared == set(Est().get_params(deep=False))
