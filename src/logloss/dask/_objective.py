"""The penalised linear objective over the blocks of Dask arrays (client and worker sides).

Each evaluation sends the parameters to one task per block of rows; the task computes
the block's weighted loss sum and gradient with
:func:`logloss.objectives.rows_loss_grad`, the function an in-memory fit uses, and the
per-block vectors are summed (on the client, or by a tree of tasks). The client adds the
L2 penalty, which needs only the parameters. The Hessian-vector products of Newton's
method are computed blockwise the same way (:func:`logloss.objectives.rows_hessp`).
"""

from __future__ import annotations

from collections.abc import Callable

import dask
import numpy as np
from numpy.typing import NDArray

from .. import _stable
from .._array import is_sparse
from ..objectives import (
    diagonal_estimate,
    linear_forward,
    pack_linear,
    rows_hessp,
    rows_loss_grad,
    unpack_linear,
    weighted_column_squares,
)

# tasks summed at once by one task of the tree reduction
SPLIT_EVERY = 8

# ---------------------------------------------------------------------------
# per-block work (runs on the workers)
# ---------------------------------------------------------------------------


def _row_weights(yb: NDArray, wb: NDArray | None, cw: NDArray | None) -> NDArray | None:
    """Raw weight of each row: sample weight times class weight (None when both are absent)."""
    if wb is None and cw is None:
        return None
    s = np.ones(yb.shape[0]) if wb is None else np.asarray(wb, dtype=np.float64)
    return s * cw[yb] if cw is not None else s


def _block_inputs(Xb, yb, wb, cw):
    """(C-contiguous X_b, or CSR for a scipy.sparse block; int64 labels; row weights in
    X_b's dtype or None)."""
    Xb = Xb.tocsr() if is_sparse(Xb) else np.ascontiguousarray(Xb)
    yb = np.asarray(yb, dtype=np.int64)
    s = _row_weights(yb, wb, cw)
    return Xb, yb, None if s is None else s.astype(Xb.dtype)


def _block_loss_grad(Xb, yb, wb, theta, cw, spec, need_grad):
    """[sum_i s_i l_i, vec(X_b^T G), sum_rows G] of one block (float64), G = s * dl/dz.

    `spec` is (n_features, k, link, fit_intercept). Unweighted rows have s_i = 1: the
    client divides by the total weight S (the number of rows when unweighted).
    """
    n_features, k, link, fit_intercept = spec
    n_coef = n_features * k
    out = np.zeros(1 + n_coef + (k if fit_intercept else 0))
    if Xb.shape[0] == 0:
        return out
    Xb, yb, s = _block_inputs(Xb, yb, wb, cw)
    W, b = unpack_linear(theta, n_features, k, fit_intercept, Xb.dtype)
    targets = yb if link == "softmax" else yb.astype(Xb.dtype)
    loss, gW, gb = rows_loss_grad(
        Xb, targets, s, W, b, link=link, row_weight=1.0, need_grad=need_grad,
        fit_intercept=fit_intercept,
    )  # fmt: skip
    out[0] = loss
    if need_grad:
        out[1 : 1 + n_coef] = gW.reshape(-1)
        if fit_intercept:
            out[1 + n_coef :] = gb
    return out


def _block_hessp(Xb, yb, wb, theta, v, cw, spec):
    """[vec(X_b^T T), sum_rows T]: one block's Hessian-vector product (float64).

    The curvature at theta is recomputed from the block's logits (nothing is kept on
    the workers between tasks): the probabilities p for a softmax, s p (1 - p) for a sigmoid.
    """
    n_features, k, link, fit_intercept = spec
    n_coef = n_features * k
    out = np.zeros(n_coef + (k if fit_intercept else 0))
    if Xb.shape[0] == 0:
        return out
    Xb, yb, s = _block_inputs(Xb, yb, wb, cw)
    W, b = unpack_linear(theta, n_features, k, fit_intercept, Xb.dtype)
    V, vb = unpack_linear(v, n_features, k, fit_intercept, Xb.dtype)
    Z = linear_forward(Xb, W, np.empty((Xb.shape[0], k), Xb.dtype)) + b
    if link == "softmax":
        curvature = _stable.softmax(Z, axis=1)
    else:
        # sigmoid'(z) = p (1 - p), times the row weight
        p = _stable.sigmoid(Z)
        curvature = p * (1.0 - p)
        if s is not None:
            curvature *= s[:, None]
    gV, gb = rows_hessp(
        Xb, V, vb, curvature, s if link == "softmax" else None, link=link, row_weight=1.0,
        fit_intercept=fit_intercept,
    )  # fmt: skip
    out[:n_coef] = gV.reshape(-1)
    if fit_intercept:
        out[n_coef:] = gb
    return out


def _block_column_squares(Xb, yb, wb, cw, n_features):
    """``sum_i s_i x_ij^2`` of one block for every feature j (float64)."""
    if Xb.shape[0] == 0:
        return np.zeros(n_features)
    Xb = Xb.tocsr() if is_sparse(Xb) else Xb
    return weighted_column_squares(Xb, _row_weights(np.asarray(yb, np.int64), wb, cw))


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
    :class:`logloss.objectives.LinearObjective` (``__call__``, ``loss_grad_hessp``,
    ``hessp``, ``loss``, ``pack``, ``unpack``), so the solvers of :mod:`logloss.solvers`
    drive it unchanged:

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
        return unpack_linear(theta, self.n_features, self.k, self.fit_intercept, self.dtype)

    def pack(self, W: NDArray, b: NDArray | None) -> NDArray:
        """The flat float64 parameter vector of ``W`` (n_features, K') and ``b`` (K')."""
        return pack_linear(W, b, self.k, self.fit_intercept)

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

    def loss_grad_hessp(
        self, theta: NDArray
    ) -> tuple[float, NDArray, Callable[[NDArray], NDArray]]:
        """Objective, gradient and ``hessp(v)`` at `theta`; each ``hessp`` is one pass."""
        theta = np.array(theta, dtype=np.float64, copy=True)
        loss, grad = self._evaluate(theta, True)
        return loss, grad, lambda v: self.hessp(theta, v)

    def hessp(self, theta: NDArray, v: NDArray) -> NDArray:
        """Hessian of the objective at `theta` times `v`: one pass over the blocks."""
        theta = np.asarray(theta, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        out = self._blockwise(_block_hessp, theta, v, self.cw, self.spec) / self.sw_sum
        out[: self.n_coef] += (self.alpha / self.sw_sum) * v[: self.n_coef]
        return out

    @property
    def preconditioner(self) -> NDArray:
        """The Hessian's diagonal where every class is equally likely (float64, n_params):
        :attr:`logloss.objectives.LinearObjective.preconditioner`, from one pass over the
        blocks (computed once)."""
        cached = getattr(self, "_preconditioner", None)
        if cached is None:
            squares = self._blockwise(_block_column_squares, self.cw, self.n_features)
            cached = self._preconditioner = diagonal_estimate(
                squares / self.sw_sum, self.alpha / self.sw_sum, self.link, self.k,
                self.fit_intercept,
            )  # fmt: skip
        return cached

    def decision(self, theta: NDArray, X):
        """Lazy logits ``X W + b`` of a Dask array `X`."""
        W, b = self.unpack(theta)
        return X @ W + b
