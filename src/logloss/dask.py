"""Dask integration: fit linear classifiers on data that lives on a cluster.

``LogisticRegression`` and ``SoftmaxRegression`` fitted on a ``dask.array`` (or a Dask
DataFrame) come here. The data stays on the workers; only parameters and gradients
travel:

- each solver iteration sends the parameters (``n_features * K + K`` floats) to every
  block of rows; a task per block computes the block's weighted loss sum and gradient
  with the fused kernel (``logits = X_b W + b``; ``dL/dW = X_b^T G``, ``dL/db = sum_rows G``
  with G the kernel's gradient over the logits, times the sample weights), and the
  per-block vectors are summed: on the client when there are at most ``split_every**2``
  of them (one round trip), else by a tree of tasks (``split_every`` at a time), so the
  client receives one vector of ``1 + n_params`` floats;
- the solver (scipy's L-BFGS, or trust-region Newton-CG whose Hessian-vector products
  are computed blockwise the same way) runs on the client, and the L2 penalty, which
  needs only the parameters, is added there.

The objective is the one of :class:`logloss.objective.LinearObjective` (scikit-learn's),
so a Dask fit and an in-memory fit reach the same coefficients.

Data that fits in the cluster's memory is persisted on the workers once (``persist="auto"``
does so when the inputs take at most half of the workers' memory limits); larger data is
streamed: every iteration reads (or recomputes) each block from its source, which is
what a Parquet dataset read with ``dask.dataframe`` does. When a worker dies, Dask
recomputes the blocks it held from their source and the fit goes on.

Everything in this module runs only when it is used: ``import logloss`` never imports
Dask. Install it with ``pip install "logloss[dask]"``.
"""

from __future__ import annotations

import sys
from typing import Any

import dask
import dask.array as da
import numpy as np
from numpy.typing import NDArray

from . import _kernels
from .objective import linear_backward, linear_forward

__all__ = [
    "is_dask_collection",
    "fit",
    "DaskLinearObjective",
    "predict_proba",
    "predict_log_proba",
    "predict",
    "decision_function",
    "read_parquet",
]

# tasks summed at once by one task of the tree reduction
SPLIT_EVERY = 8
DASK_SOLVERS = ("lbfgs", "newton")


def is_dask_collection(x: Any) -> bool:
    """Whether `x` is a Dask array or DataFrame (without importing Dask for other inputs).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> is_dask_collection(np.zeros(3)), is_dask_collection(da.zeros(3))
    (False, True)
    """
    mod = type(x).__module__
    if not mod.startswith("dask"):
        return False
    if isinstance(x, da.Array):
        return True
    ddf = sys.modules.get("dask.dataframe")
    return ddf is not None and isinstance(x, (ddf.DataFrame, ddf.Series))


# ---------------------------------------------------------------------------
# per-block work (runs on the workers)
# ---------------------------------------------------------------------------


def _unpack(theta: NDArray, n_features: int, k: int, fit_intercept: bool, dtype) -> tuple:
    """(W (n_features, k), b (k)) in `dtype`; the layout of ``LinearObjective.pack``."""
    n_coef = n_features * k
    W = np.asarray(theta[:n_coef]).reshape(n_features, k).astype(dtype)
    b = np.asarray(theta[n_coef:], dtype=dtype) if fit_intercept else np.zeros(k, dtype)
    return W, b


def _row_weights(yb: NDArray, wb: NDArray | None, cw: NDArray | None) -> NDArray | None:
    """Raw weight of each row: sample weight times class weight (None when both are absent)."""
    if wb is None and cw is None:
        return None
    s = np.ones(yb.shape[0]) if wb is None else np.asarray(wb, dtype=np.float64)
    return s * cw[yb] if cw is not None else s


def _block_loss_grad(Xb, yb, wb, theta, cw, spec, need_grad):
    """[sum_i s_i l_i, vec(X_b^T G), sum_rows G] of one block (float64), G = s * dl/dz.

    `spec` is (n_features, k, link, fit_intercept). Unweighted rows have s_i = 1: the
    client divides by the total weight S (the number of rows when unweighted).
    """
    n_features, k, link, fit_intercept = spec
    Xb = np.ascontiguousarray(Xb)
    yb = np.asarray(yb, dtype=np.int64)
    W, b = _unpack(theta, n_features, k, fit_intercept, Xb.dtype)
    n_coef = n_features * k
    out = np.zeros(1 + n_coef + (k if fit_intercept else 0))
    if Xb.shape[0] == 0:
        return out
    s = _row_weights(yb, wb, cw)
    if link == "sigmoid":
        # binary: loss and gradient in one pass over the block (None: not applicable)
        fused = _kernels.logistic_loss_grad(
            Xb, yb.astype(Xb.dtype), None if s is None else s.astype(Xb.dtype),
            np.ascontiguousarray(W[:, 0]), float(b[0]), 1.0, need_grad,
        )  # fmt: skip
        if fused is not None:
            out[0] = fused[0]
            if need_grad:
                out[1 : 1 + n_coef] = fused[1]
                if fit_intercept:
                    out[1 + n_coef] = fused[2]
            return out
    Z = linear_forward(Xb, W, np.empty((Xb.shape[0], k), Xb.dtype))
    if fit_intercept:
        Z += b
    # the kernel writes d l_i / d z_i over Z (scale 1: the weights come afterwards)
    grad_out = Z if need_grad else None
    if link == "softmax":
        main, _ = _kernels.ce_labels(Z, yb, None, -100, 0.0, None, 0.0, 1.0, 0.0, grad_out)
    else:
        z = Z.reshape(-1)
        # unweighted: the kernel returns partial sums of the loss, not one value per row
        main = _kernels.bce_logits(
            z, yb.astype(Xb.dtype), None, None, 0.0, 1.0, z if need_grad else None,
            reduce=s is None,
        )  # fmt: skip
    out[0] = float(main @ s) if s is not None else float(main.sum())
    if need_grad:
        if s is not None:
            Z *= s.astype(Xb.dtype)[:, None]
        # dL/dW = X^T G, dL/db = sum_i G_i
        gW = np.zeros((n_features, k))
        linear_backward(Xb, Z, gW)
        out[1 : 1 + n_coef] = gW.reshape(-1)
        if fit_intercept:
            out[1 + n_coef :] = Z.sum(axis=0, dtype=np.float64)
    return out


def _block_hessp(Xb, yb, wb, theta, v, cw, spec):
    """[vec(X_b^T T), sum_rows T]: one block's Hessian-vector product (float64).

    With u = X_b V + v_b per row: softmax ``T = s (p * u - p (p . u))`` (the softmax
    Jacobian is diag(p) - p p^T); sigmoid ``T = s p (1 - p) u``.
    """
    n_features, k, link, fit_intercept = spec
    Xb = np.ascontiguousarray(Xb)
    yb = np.asarray(yb, dtype=np.int64)
    n_coef = n_features * k
    out = np.zeros(n_coef + (k if fit_intercept else 0))
    if Xb.shape[0] == 0:
        return out
    W, b = _unpack(theta, n_features, k, fit_intercept, Xb.dtype)
    V, vb = _unpack(v, n_features, k, fit_intercept, Xb.dtype)
    Z = linear_forward(Xb, W, np.empty((Xb.shape[0], k), Xb.dtype)) + b
    U = linear_forward(Xb, V, np.empty((Xb.shape[0], k), Xb.dtype)) + vb
    if link == "softmax":
        # p = e^{z - max z} / sum e^{z - max z}: every exponent is <= 0
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        T = P * U
        T -= P * T.sum(axis=1, keepdims=True)
    else:
        # sigmoid'(z) = p (1 - p), with p from exp(-|z|) so nothing overflows
        e = np.exp(-np.abs(Z))
        p = np.where(Z >= 0, 1.0, e) / (1.0 + e)
        T = p * (1.0 - p) * U
    s = _row_weights(yb, wb, cw)
    if s is not None:
        T *= s.astype(Xb.dtype)[:, None]
    gV = np.zeros((n_features, k))
    linear_backward(Xb, T, gV)
    out[:n_coef] = gV.reshape(-1)
    if fit_intercept:
        out[n_coef:] = T.sum(axis=0, dtype=np.float64)
    return out


def _add(*parts: NDArray) -> NDArray:
    total = np.array(parts[0], dtype=np.float64, copy=True)
    for p in parts[1:]:
        total += p
    return total


def _tree_sum(parts: list, split_every: int = SPLIT_EVERY):
    """Sum delayed vectors with a tree of tasks, `split_every` inputs per task."""
    if not parts:
        raise ValueError("no blocks to sum")
    while len(parts) > 1:
        parts = [
            dask.delayed(_add, pure=True)(*parts[i : i + split_every])
            for i in range(0, len(parts), split_every)
        ]
    return parts[0]


# ---------------------------------------------------------------------------
# the objective (client side)
# ---------------------------------------------------------------------------


class DaskLinearObjective:
    """The penalised weighted mean cross-entropy of a linear model, over Dask blocks.

    Same objective, parameter layout and interface as
    :class:`logloss.objective.LinearObjective` (``__call__``, ``hessp``, ``loss``,
    ``pack``, ``unpack``), so the solvers of :mod:`logloss.solvers` drive it unchanged:

    .. math::

        f(W, b) = \\frac{1}{S} \\sum_{\\text{blocks } B} \\sum_{i \\in B}
                  s_i \\, \\ell(x_i W + b, y_i) + \\frac{\\alpha}{2 S} \\lVert W \\rVert^2

    Parameters
    ----------
    X : dask.array of shape (n_samples, n_features)
        float32 or float64, one chunk along the features.
    y : dask.array of shape (n_samples,)
        Encoded labels in ``[0, n_classes)``, chunked like X's rows.
    n_classes : int
    link : {"softmax", "sigmoid"}
    sample_weight : dask.array of shape (n_samples,) or None
        Raw non-negative sample weights, chunked like X's rows.
    class_weight : ndarray of shape (n_classes,) or None
        Per-class weights multiplied into the sample weights.
    total_weight : float
        S, the sum over rows of sample weight times class weight (n_samples when unweighted).
    fit_intercept : bool
    alpha : float
        L2 strength; the penalty is alpha / (2 S) ||W||^2.
    split_every : int
        Inputs per task of the tree reduction (used beyond ``split_every**2`` blocks).
    """

    l1 = 0.0
    l1_scale = 0.0

    def __init__(
        self,
        X,
        y,
        *,
        n_classes: int,
        link: str = "softmax",
        sample_weight=None,
        class_weight: NDArray | None = None,
        total_weight: float | None = None,
        fit_intercept: bool = True,
        alpha: float = 0.0,
        split_every: int = SPLIT_EVERY,
    ):
        self.n_samples, self.n_features = (int(n) for n in X.shape)
        self.dtype = np.dtype(X.dtype)
        self.n_classes = int(n_classes)
        self.link = link
        self.k = self.n_classes if link == "softmax" else 1
        self.fit_intercept = bool(fit_intercept)
        self.alpha = float(alpha)
        self.cw = None if class_weight is None else np.asarray(class_weight, np.float64)
        self.sw_sum = float(self.n_samples if total_weight is None else total_weight)
        self.n_coef = self.n_features * self.k
        self.n_params = self.n_coef + (self.k if self.fit_intercept else 0)
        self.split_every = int(split_every)
        self.spec = (self.n_features, self.k, self.link, self.fit_intercept)
        self._X = X.to_delayed().ravel().tolist()
        self._y = y.to_delayed().ravel().tolist()
        if sample_weight is None:
            self._w = [None] * len(self._X)
        else:
            self._w = sample_weight.to_delayed().ravel().tolist()
        if not len(self._X) == len(self._y) == len(self._w):
            raise ValueError("`X`, `y` and `sample_weight` must have the same row chunks")
        self.n_evaluations = 0

    @property
    def n_blocks(self) -> int:
        return len(self._X)

    @property
    def penalty_mask(self) -> NDArray:
        mask = np.zeros(self.n_params, dtype=bool)
        mask[: self.n_coef] = True
        return mask

    def unpack(self, theta: NDArray) -> tuple[NDArray, NDArray]:
        """``(W, b)`` with W (n_features, K') and b (K'), in the compute dtype."""
        return _unpack(np.asarray(theta), self.n_features, self.k, self.fit_intercept, self.dtype)

    def pack(self, W: NDArray, b: NDArray | None) -> NDArray:
        """The flat float64 parameter vector of ``W`` (n_features, K') and ``b`` (K')."""
        parts = [np.asarray(W, dtype=np.float64).reshape(-1)]
        if self.fit_intercept:
            parts.append(np.zeros(self.k) if b is None else np.asarray(b, np.float64).reshape(-1))
        return np.concatenate(parts)

    def penalty_l1(self, theta: NDArray) -> float:
        return 0.0

    def _blockwise(self, func, *args) -> NDArray:
        """Run ``func(X_b, y_b, w_b, *args)`` on every block and sum the results."""
        params = [dask.delayed(a) if isinstance(a, np.ndarray) else a for a in args]
        parts = [
            dask.delayed(func, pure=True)(xb, yb, wb, *params)
            for xb, yb, wb in zip(self._X, self._y, self._w, strict=True)
        ]
        if len(parts) <= self.split_every**2:
            # few blocks: their small vectors come straight to the client (one round trip)
            total = _add(*dask.compute(*parts))
        else:
            (total,) = dask.compute(_tree_sum(parts, self.split_every))
        self.n_evaluations += 1
        return total

    def _evaluate(self, theta: NDArray, need_grad: bool):
        theta = np.asarray(theta, dtype=np.float64)
        vec = self._blockwise(_block_loss_grad, theta, self.cw, self.spec, need_grad)
        W = theta[: self.n_coef]
        reg = self.alpha / self.sw_sum
        loss = vec[0] / self.sw_sum + 0.5 * reg * float(W @ W)
        if not need_grad:
            return float(loss), None
        grad = vec[1:] / self.sw_sum
        grad[: self.n_coef] += reg * W
        return float(loss), grad

    def __call__(self, theta: NDArray) -> tuple[float, NDArray]:
        """Objective and gradient (float64) at `theta`: one pass over the blocks."""
        return self._evaluate(theta, True)

    def loss(self, theta: NDArray) -> float:
        """Objective value at `theta` (no gradient is computed)."""
        return self._evaluate(theta, False)[0]

    def hessp(self, theta: NDArray, v: NDArray) -> NDArray:
        """Hessian of the objective at `theta` times `v`: one pass over the blocks."""
        theta = np.asarray(theta, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        out = self._blockwise(_block_hessp, theta, v, self.cw, self.spec) / self.sw_sum
        out[: self.n_coef] += (self.alpha / self.sw_sum) * v[: self.n_coef]
        return out

    def decision(self, theta: NDArray, X):
        """Lazy logits ``X W + b`` of a Dask array `X`."""
        W, b = self.unpack(theta)
        return X @ W + b


# ---------------------------------------------------------------------------
# input preparation
# ---------------------------------------------------------------------------


def _client():
    """The current distributed Client, or None (local threads then run the tasks)."""
    try:
        from distributed import default_client
    except ImportError:  # pragma: no cover - the extra installs distributed
        return None
    try:
        return default_client()
    except ValueError:
        return None


def _as_dask_matrix(X) -> tuple[Any, NDArray | None]:
    """(2-D Dask array with one chunk along the features, feature names or None)."""
    names = None
    if not isinstance(X, da.Array):
        if hasattr(X, "columns"):
            names = np.asarray([str(c) for c in X.columns], dtype=object)
            X = X.to_dask_array(lengths=True)
        else:  # a Dask Series
            X = X.to_dask_array(lengths=True)[:, None]
    if X.ndim != 2:
        raise ValueError(f"`X` must be 2-D (n_samples, n_features); got a {X.ndim}-D Dask array")
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    if X.shape[0] == 0:
        raise ValueError("`X` has no rows; a classifier needs at least one sample per class")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"`X` must be numeric; got dtype {X.dtype}")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X, names


def _as_dask_vector(v, name: str, rows: tuple[int, ...]):
    """`v` (NumPy, Dask array or Series) as a 1-D Dask array chunked like `rows`."""
    if hasattr(v, "to_dask_array"):
        v = v.to_dask_array(lengths=True)
    if not isinstance(v, da.Array):
        arr = np.asarray(v)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1 or arr.shape[0] != sum(rows):
            raise ValueError(
                f"`{name}` has shape {arr.shape} but `X` has {sum(rows)} rows; they must match"
            )
        v = da.from_array(arr, chunks=(rows,))
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D; got shape {v.shape}")
    if any(np.isnan(c) for c in v.chunks[0]):
        v = v.compute_chunk_sizes()
    if v.shape[0] != sum(rows):
        raise ValueError(f"`{name}` has {v.shape[0]} rows but `X` has {sum(rows)}; they must match")
    if v.chunks[0] != rows:
        v = v.rechunk((rows,))
    return v


def _encode(yb: NDArray, classes: NDArray) -> NDArray:
    return np.searchsorted(classes, yb).astype(np.int64)


def _weighted_counts(yb: NDArray, wb: NDArray | None, n_classes: int) -> NDArray:
    return np.bincount(yb, weights=wb, minlength=n_classes).astype(np.float64)[None, :]


def _class_weights(class_weight, classes: NDArray, counts: NDArray) -> NDArray | None:
    """scikit-learn's class weights from (weighted) class counts: "balanced" or a dict."""
    if class_weight is None:
        return None
    k = len(classes)
    if isinstance(class_weight, str) and class_weight == "balanced":
        if np.any(counts <= 0):
            raise ValueError("`class_weight='balanced'` needs a positive weight in every class")
        # n_samples / (n_classes * count_c): each class then carries the same total weight
        return counts.sum() / (k * counts)
    if isinstance(class_weight, dict):
        cw = np.ones(k)
        for label, weight in class_weight.items():
            hit = np.flatnonzero(classes == label)
            if hit.size == 0:
                raise ValueError(
                    f"`class_weight` has label {label!r}, not in classes {classes.tolist()}"
                )
            cw[hit[0]] = float(weight)
        return cw
    raise ValueError(
        "`class_weight` must be None, 'balanced' or a dict {label: weight}; "
        f"got {class_weight!r} ({type(class_weight).__name__})"
    )


def _should_persist(persist: Any, nbytes: int, client) -> bool:
    if persist in (True, False):
        return bool(persist)
    if persist != "auto":
        raise ValueError(f"`persist` must be True, False or 'auto'; got {persist!r}")
    if client is None:
        return False  # local threads: the data is read from its source on each pass
    workers = client.scheduler_info(n_workers=-1).get("workers", {}).values()
    limits = [w.get("memory_limit") or 0 for w in workers]
    if not limits or 0 in limits:
        return True  # no limit set: memory is the machines'
    return nbytes <= 0.5 * sum(limits)


def prepare(est: Any, X, y, sample_weight=None, *, persist: Any = "auto"):
    """Validated, encoded, (maybe) persisted Dask inputs for a linear estimator.

    Returns ``(X, y_enc, sample_weight, classes, class_weight_vector, S, dtype, names)``.
    One pass over the data checks it (finite X, non-negative weights) and finds the
    classes; a second pass over the labels only counts the classes.
    """
    from .models._base import check_dtype

    X, names = _as_dask_matrix(X)
    dtype = check_dtype(est.dtype, X.dtype if X.dtype == np.float32 else np.float64)
    X = X.astype(dtype)
    rows = X.chunks[0]
    y = _as_dask_vector(y, "y", rows)
    sw = None if sample_weight is None else _as_dask_vector(sample_weight, "sample_weight", rows)
    if sw is not None:
        sw = sw.astype(np.float64)
    client = _client()
    nbytes = X.nbytes + y.nbytes + (sw.nbytes if sw is not None else 0)
    persisted = _should_persist(persist, nbytes, client)
    if persisted:
        X, y, sw = dask.persist(X, y, sw) if sw is not None else (*dask.persist(X, y), None)

    checks = [da.unique(y), da.isfinite(X).all(axis=0)]
    if sw is not None:
        checks += [da.isfinite(sw).all() & (sw >= 0).all(), sw.sum()]
    results = dask.compute(*checks)
    classes, finite_cols = results[0], results[1]
    if not finite_cols.all():
        col = int(np.argmax(~finite_cols))
        label = f"column {col}" + (f" ({names[col]!r})" if names is not None else "")
        raise ValueError(
            f"Input `X` contains NaN or inf in {label}; every feature must be finite "
            "(impute or drop missing values first)"
        )
    if sw is not None and not results[2]:
        raise ValueError("`sample_weight` must be finite and non-negative")
    if classes.size < 2:
        raise ValueError(
            "`y` must contain at least 2 classes to train a classifier; got only one class: "
            f"{classes.tolist()[:1]!r}"
        )
    y_enc = y.map_blocks(_encode, classes, dtype=np.int64)
    if persisted:
        # encoded once, not at every evaluation (4M rows: 40 ms of each 170 ms evaluation)
        (y_enc,) = dask.persist(y_enc)
    k = len(classes)
    cw = None
    if est.class_weight is not None:
        if sw is None:
            counts_parts = y_enc.map_blocks(
                _weighted_counts,
                None,
                k,
                dtype=np.float64,
                chunks=((1,) * len(rows), (k,)),
                new_axis=1,
            )
        else:
            counts_parts = da.map_blocks(
                _weighted_counts,
                y_enc,
                sw,
                k,
                dtype=np.float64,
                chunks=((1,) * len(rows), (k,)),
                new_axis=1,
            )
        counts = counts_parts.sum(axis=0).compute()
        cw = _class_weights(est.class_weight, classes, counts)
    if sw is None and cw is None:
        total = float(X.shape[0])
    elif cw is None:
        total = float(results[3])
    else:
        if sw is None:
            total = float(da.map_blocks(lambda yb: cw[yb], y_enc, dtype=np.float64).sum().compute())
        else:
            total = float(
                da.map_blocks(lambda yb, wb: cw[yb] * wb, y_enc, sw, dtype=np.float64)
                .sum()
                .compute()
            )
    if not total > 0:
        raise ValueError("`sample_weight` (times `class_weight`) must have a positive sum; got 0")
    return X, y_enc, sw, classes, cw, total, dtype, names


# ---------------------------------------------------------------------------
# estimators
# ---------------------------------------------------------------------------


def fit(est: Any, X, y, sample_weight=None, *, persist: Any = "auto"):
    """Fit a ``LogisticRegression`` or ``SoftmaxRegression`` on Dask inputs; returns `est`.

    Parameters
    ----------
    est : LogisticRegression or SoftmaxRegression
        Its hyperparameters are used as in an in-memory fit; the solver must be
        ``"lbfgs"`` or ``"newton"`` and the penalty ``"l2"`` or None.
    X : dask.array of shape (n_samples, n_features), or a Dask DataFrame
    y : dask.array, Dask Series or NumPy array of shape (n_samples,)
    sample_weight : same kinds as `y`, or None
    persist : True, False or "auto", default "auto"
        Keep the inputs in the workers' memory between iterations. "auto": when a
        distributed Client is active and the inputs take at most half of its workers'
        memory limits; otherwise each iteration reads the blocks from their source.

    Returns
    -------
    est
        Fitted: ``coef_``, ``intercept_``, ``classes_``, ``n_iter_``, ``loss_curve_`` as
        NumPy arrays, exactly as after an in-memory fit.
    """
    from .models._base import progress, report
    from .solvers import minimize

    p = est._check_params()
    if p["solver"] not in DASK_SOLVERS:
        raise ValueError(
            f"`solver`={p['solver']!r} is not available for Dask inputs; use one of "
            f"{', '.join(map(repr, DASK_SOLVERS))} (full-batch solvers whose gradient is "
            "summed over the blocks)"
        )
    if p["early_stopping"]:
        raise ValueError("`early_stopping`=True is not available for Dask inputs")
    X, y_enc, sw, classes, cw, total, dtype, names = prepare(
        est, X, y, sample_weight, persist=persist
    )
    k = len(classes)
    link = "sigmoid" if (k == 2 and not est._always_softmax) else "softmax"
    objective = DaskLinearObjective(
        X,
        y_enc,
        n_classes=k,
        link=link,
        sample_weight=sw,
        class_weight=cw,
        total_weight=total,
        fit_intercept=p["fit_intercept"],
        alpha=p["alpha"],
    )
    # the estimator's fitted-attribute contract, as in its in-memory fit
    for attr in ("feature_names_in_",):
        if hasattr(est, attr):
            delattr(est, attr)
    est.n_features_in_ = objective.n_features
    if names is not None and all(isinstance(n, str) for n in names):
        est.feature_names_in_ = names
    x0 = est._initial_params(objective, classes, p["warm_start"])
    est.classes_ = classes
    est._dtype_ = dtype
    with progress(p["verbose"], p["max_iter"], type(est).__name__, p["callback"]) as cb:
        result = minimize(
            objective, x0, solver=p["solver"], max_iter=p["max_iter"], tol=p["tol"], callback=cb
        )
    W, b = objective.unpack(result.x)
    if link == "softmax":
        # probabilities are unchanged by a shift common to all classes; centre it away
        b = b - b.mean()
        W = W - W.mean(axis=1, keepdims=True)
    est.coef_ = np.ascontiguousarray(W.T, dtype=dtype)
    est.intercept_ = np.asarray(b, dtype=dtype)
    if not p["fit_intercept"]:
        est.intercept_ = np.zeros_like(est.intercept_)
    est.n_iter_ = int(result.n_iter)
    est.loss_curve_ = list(result.loss_curve)
    est.validation_loss_curve_ = []
    est.interrupted_ = bool(result.interrupted)
    est.n_evaluations_ = objective.n_evaluations
    report(result, type(est).__name__, p["solver"], p["max_iter"])
    return est


def _map_rows(est: Any, X, method: str, n_out: int | None, dtype):
    """Apply ``est.<method>`` to each block of rows of a Dask array, lazily."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    X, _ = _as_dask_matrix(X)
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input"
        )
    fn = getattr(est, method)
    if n_out is None:
        return X.map_blocks(lambda xb: fn(xb), dtype=dtype, drop_axis=1)
    return X.map_blocks(lambda xb: fn(xb), dtype=dtype, chunks=(X.chunks[0], (n_out,)))


def predict_proba(est: Any, X):
    """Lazy class probabilities (a Dask array of shape (n_samples, n_classes))."""
    return _map_rows(est, X, "predict_proba", len(est.classes_), est._dtype_)


def predict_log_proba(est: Any, X):
    """Lazy log-probabilities (a Dask array of shape (n_samples, n_classes))."""
    return _map_rows(est, X, "predict_log_proba", len(est.classes_), est._dtype_)


def decision_function(est: Any, X):
    """Lazy decision values: (n_samples,) for two classes, (n_samples, n_classes) otherwise."""
    k = len(est.classes_)
    return _map_rows(est, X, "decision_function", None if k == 2 else k, est._dtype_)


def predict(est: Any, X):
    """Lazy predicted labels (a Dask array of shape (n_samples,))."""
    return _map_rows(est, X, "predict", None, est.classes_.dtype)


def read_parquet(path: str, *, columns: list[str] | None = None):
    """A Parquet dataset (a file, a directory or a glob) as a lazy Dask DataFrame."""
    import dask.dataframe as dd

    return dd.read_parquet(path, columns=columns)
