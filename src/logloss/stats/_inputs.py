"""The checks of :func:`logloss.stats.infer`'s arguments, and the conversion of a fitted
model's symmetric softmax parameters to statsmodels' first-class-reference ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")


@dataclass
class Problem:
    """What one inference needs, checked."""

    X: NDArray  # (n, p) float64, rows of weight 0 dropped
    y: NDArray  # (n,) class indices into classes
    sample_weight: NDArray | None
    groups: NDArray | None  # integer codes
    n_groups: int
    params: NDArray  # (d, J): the reference-class parameters
    classes: NDArray
    feature_names: list[str]  # d names, "intercept" first when fitted
    fit_intercept: bool
    binary: bool  # a sigmoid model: params reported 1-D, as statsmodels' Logit
    firth: bool = False  # penalty="firth": Firth's penalised likelihood (logistf)


def model_params(model: Any) -> tuple[NDArray, NDArray, bool, bool]:
    """``(B, classes, fit_intercept, binary)`` of a fitted, unpenalised linear model.

    A sigmoid model's one row is already the log-odds of the second class against the
    first; a softmax's rows are made relative to the first class: ``b_j - b_0``.
    """
    from ..models import LogisticRegression

    if not isinstance(model, LogisticRegression):
        raise TypeError(
            "`model` must be a fitted logloss LogisticRegression or SoftmaxRegression; "
            f"got {type(model).__name__}"
        )
    if not hasattr(model, "coef_"):
        raise ValueError(
            f"`model` is not fitted: call {type(model).__name__}.fit(X, y) before infer()"
        )
    if model.penalty not in (None, "firth") and not np.isinf(model.C):
        raise ValueError(
            f"`model` has penalty={model.penalty!r} with C={model.C!r}: standard errors from "
            "the likelihood's information assume the unpenalised maximum-likelihood estimate, "
            "and a penalty biases the estimate towards zero, so they do not apply; refit "
            "with penalty=None (or penalty='firth', whose inference infer() gives)"
        )
    if getattr(model, "class_weight", None) is not None:
        raise ValueError(
            "`model` was fitted with class_weight; the likelihood of weighted classes is not "
            "the data's, so its standard errors do not apply; refit with class_weight=None "
            "(pass frequency weights as sample_weight)"
        )
    W = np.asarray(model.coef_, dtype=np.float64)
    b = np.asarray(model.intercept_, dtype=np.float64)
    fit_intercept = bool(model.fit_intercept)
    full = np.vstack([b[None, :], W.T]) if fit_intercept else W.T  # (d, rows of coef_)
    if full.shape[1] == 1:
        return full, model.classes_, fit_intercept, True
    return full[:, 1:] - full[:, :1], model.classes_, fit_intercept, False


def check_problem(
    model: Any, X: Any, y: Any, sample_weight: Any, cov_type: Any, groups: Any
) -> Problem:
    """Check every argument against the fitted `model`; see :func:`infer`."""
    B, classes, fit_intercept, binary = model_params(model)
    if cov_type not in COV_TYPES:
        raise ValueError(f"`cov_type` must be one of {COV_TYPES}; got {cov_type!r}")
    firth = model.penalty == "firth"
    if firth and cov_type != "nonrobust":
        raise ValueError(
            f"cov_type={cov_type!r} is not available for a Firth model (penalty='firth'): "
            "its inference is the penalised likelihood's (Wald errors from the inverse "
            'information, profile tests and intervals), as logistf; use cov_type="nonrobust"'
        )
    names = _feature_names(model, X)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"`X` must be 2-D (n_samples, n_features); got shape {X.shape}")
    if X.shape[1] != model.n_features_in_:
        raise ValueError(
            f"`X` has {X.shape[1]} columns but the model was fitted on {model.n_features_in_}"
        )
    if not np.all(np.isfinite(X)):
        raise ValueError("`X` contains NaN or infinity")
    n = X.shape[0]
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"`y` must have shape ({n},) to match `X`; got {y.shape}")
    codes = np.searchsorted(classes, y)
    codes = np.clip(codes, 0, len(classes) - 1)
    bad = classes[codes] != y
    if np.any(bad):
        label = y[np.argmax(bad)]
        raise ValueError(
            f"`y` holds label {getattr(label, 'item', lambda: label)()!r}, not one of the "
            "model's classes "
            f"{classes.tolist()}"
        )
    sw = None
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        if sw.shape != (n,):
            raise ValueError(f"`sample_weight` must have shape ({n},); got {sw.shape}")
        if not np.all(np.isfinite(sw)) or np.any(sw < 0):
            raise ValueError("`sample_weight` must be finite and non-negative")
    group_codes, n_groups = None, 0
    if cov_type == "cluster":
        if groups is None:
            raise ValueError('`groups` is required with cov_type="cluster"')
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ValueError(
                f"`groups` must have one label per row of `X`, shape ({n},); got {groups.shape}"
            )
    elif groups is not None:
        raise ValueError(f'`groups` is used only with cov_type="cluster"; got {cov_type!r}')
    if sw is not None and np.any(sw == 0):
        keep = sw > 0  # a row of weight 0 is a row that is not there
        X, codes, sw = X[keep], codes[keep], sw[keep]
        groups = None if groups is None else groups[keep]
    if groups is not None:
        _, group_codes = np.unique(groups, return_inverse=True)
        n_groups = int(group_codes.max()) + 1 if group_codes.size else 0
        if n_groups < 2:
            raise ValueError(
                f"`groups` has {n_groups} cluster; the cluster-robust covariance needs at least 2"
            )
    if X.shape[0] == 0:
        raise ValueError("`X` has no rows (of positive weight)")
    return Problem(
        X, codes, sw, group_codes, n_groups, B, classes, names, fit_intercept, binary, firth
    )


def _feature_names(model: Any, X: Any) -> list[str]:
    """The row names: "intercept", then the DataFrame's columns, the model's
    ``feature_names_in_``, or ``x1 .. xp``."""
    columns = getattr(X, "columns", None)
    fitted = getattr(model, "feature_names_in_", None)
    if columns is not None:
        names = [str(c) for c in columns]
        if fitted is not None and list(fitted) != names:
            raise ValueError(
                f"`X`'s columns {names} are not the ones the model was fitted on {list(fitted)}"
            )
    elif fitted is not None:
        names = [str(c) for c in fitted]
    else:
        names = [f"x{i + 1}" for i in range(model.n_features_in_)]
    return (["intercept"] if model.fit_intercept else []) + names


# -- linear dependencies among design columns --------------------------------------------

# A column is linearly dependent on the columns before it (in the pivoted order) when the
# part of it they leave unexplained has a squared norm below RANK_TOL of its own: a
# correlation of its fit on them above sqrt(1 - 1e-10). Exact dependencies in float64
# Grams leave ~1e-13 (rounding of n-term sums); identified designs leave far more.
RANK_TOL = 1e-10


def linear_dependencies(gram: NDArray, *, tol: float = RANK_TOL) -> list[tuple[NDArray, NDArray]]:
    """The linear dependencies among the columns ``z_1 .. z_d`` whose Gram matrix is `gram`.

    The Gram is scaled to a unit diagonal (the columns to unit norm), a pivoted QR of its
    square root picks the independent columns one by one (the one least explained by
    those picked comes next), and each column left over, whose unexplained squared norm
    is below `tol`, is solved on the picked ones. A column of norm 0 is a dependency of
    its own.

    Returns
    -------
    list of (members, coefs)
        One entry per dependent column: the indices of the columns involved (ascending)
        and ``c`` with ``sum_k c_k z_{members_k} = 0`` (to rounding), ``c`` normalised to
        a largest entry of 1 in absolute value on the unit-norm scale. Empty when `gram`
        has full rank.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.array([[1.0, 2, 3, 0], [1, 0, 1, 0], [1, 1, 2, 0], [1, 5, 6, 0]])
    >>> [(m.tolist(), np.round(c / c[0], 6).tolist()) for m, c in linear_dependencies(Z.T @ Z)]
    [([3], [1.0]), ([0, 1, 2], [1.0, 1.0, -1.0])]
    """
    from scipy.linalg import cho_factor, cho_solve, qr

    G = np.asarray(gram, dtype=np.float64)
    diag = np.diag(G).copy()
    zero = diag <= np.finfo(np.float64).tiny * max(1.0, float(diag.max(initial=0.0)))
    out: list[tuple[NDArray, NDArray]] = [
        (np.array([j]), np.array([1.0])) for j in np.flatnonzero(zero)
    ]
    live = np.flatnonzero(~zero)
    if live.size == 0:
        return out
    scale = np.sqrt(diag[live])
    R = G[np.ix_(live, live)] / np.outer(scale, scale)
    lam, V = np.linalg.eigh(R)
    S = np.sqrt(np.clip(lam, 0.0, None))[:, None] * V.T  # S^T S = R
    T, piv = qr(S, mode="r", pivoting=True)
    # |T_kk|^2: what is left of the k-th picked (unit-norm) column after the ones before it
    left = np.abs(np.diag(T)) ** 2
    rank = int(np.sum(left > tol))
    basis = np.sort(piv[:rank])
    if rank < live.size:
        factor = cho_factor(R[np.ix_(basis, basis)])
    for j in piv[rank:]:
        w = cho_solve(factor, R[basis, j]) if rank else np.zeros(0)
        v = np.concatenate([w, [-1.0]])
        idx = np.concatenate([basis, [j]])
        keep = np.abs(v) > 1e-6 * np.abs(v).max()
        order = np.argsort(idx[keep])
        members, coefs = idx[keep][order], v[keep][order] / scale[idx[keep][order]]
        coefs = coefs / np.abs(coefs * scale[members]).max()
        out.append((live[members], coefs))
    return out
