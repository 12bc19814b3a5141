"""The penalised weighted mean cross-entropy of a linear model (scikit-learn's objective)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ._rows import Link, TrainingRows
from .hessian import GRAM_BYTES, add_class_grams, add_weighted_gram, scratch_rows
from .linear_block import block_loss_grad, block_rows, row_block, rows_hessp, rows_loss_grad


class LinearObjective(TrainingRows):
    """Penalised weighted mean cross-entropy of a linear model, with gradient and Hessian products.

    .. math::

        f(W, b) = \\sum_i \\tilde s_i \\, \\ell(x_i W + b, y_i)
                  + \\frac{\\alpha}{2 S} \\lVert W \\rVert^2,
        \\qquad \\tilde s_i = s_i / S

    ``link="softmax"``: :math:`\\ell(z, y) = \\operatorname{logsumexp}(z) - z_y` with ``K``
    logits per row; ``link="sigmoid"``: :math:`\\ell(z, y) = \\operatorname{softplus}(z) - y z`
    with one logit per row (binary logistic regression).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        C-contiguous float32 or float64 design matrix; computation runs in its dtype.
    y : ndarray of shape (n_samples,)
        Encoded labels in ``[0, n_classes)``.
    n_classes : int
        Number of classes K (at least 2).
    link : {"softmax", "sigmoid"}
        Softmax over K logits, or one sigmoid logit (only for K = 2).
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights with a positive sum (class weights folded in).
    fit_intercept : bool
        Whether the model has an (unpenalised) intercept.
    alpha : float
        L2 strength; the penalty is :math:`\\alpha/(2S) \\lVert W \\rVert^2`.
    l1 : float
        L1 strength; the penalty :math:`(l_1/S) \\lVert W \\rVert_1` is left to the solver's
        proximal step (see :meth:`penalty_l1`, :attr:`l1_scale`).

    Notes
    -----
    The parameter vector packs ``W`` (n_features, K') row-major followed by ``b`` (K'),
    with K' = K for softmax and 1 for sigmoid. The gradient of the loss with respect to the
    logits comes from the fused kernel, written over the logits buffer:
    ``d/dz_c = p_c - [c = y]`` (softmax), ``d/dz = sigmoid(z) - y`` (sigmoid).

    Examples
    --------
    >>> import numpy as np
    >>> from logloss.objectives import LinearObjective
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> f = LinearObjective(X, np.array([0, 1, 1]), n_classes=2, link="sigmoid", alpha=1.0)
    >>> loss, grad = f(np.zeros(f.n_params))
    >>> round(loss, 6), grad.round(4)        # log(2) at zero; d/dW = X.T (sigmoid(0) - y) / 3
    (0.693147, array([-0.3333, -0.    , -0.1667]))
    >>> loss, grad, hessp = f.loss_grad_hessp(np.zeros(f.n_params))
    >>> hessp(np.array([1.0, 0.0, 0.0])).round(4)    # X.T diag(p (1 - p)) X e_0 / 3 + alpha/S
    array([0.5   , 0.0833, 0.1667])
    """

    def __init__(
        self,
        X: NDArray,
        y: NDArray,
        *,
        n_classes: int,
        link: Link = "softmax",
        sample_weight: NDArray | None = None,
        fit_intercept: bool = True,
        alpha: float = 0.0,
        l1: float = 0.0,
    ):
        if link not in ("softmax", "sigmoid"):
            raise ValueError(f"`link` must be 'softmax' or 'sigmoid'; got {link!r}")
        if link == "sigmoid" and n_classes != 2:
            raise ValueError(f"`link='sigmoid'` needs exactly 2 classes; got n_classes={n_classes}")
        super().__init__(X, y, n_classes=n_classes, link=link, sample_weight=sample_weight)
        self.fit_intercept = bool(fit_intercept)
        self.alpha = float(alpha)
        self.l1 = float(l1)
        self.n_coef = self.n_features * self.k
        self.n_params = self.n_coef + (self.k if self.fit_intercept else 0)
        self.block = block_rows(self.k, self.dtype.itemsize)

    # -- parameters -------------------------------------------------------------------

    @property
    def penalty_mask(self) -> NDArray:
        """True for the penalised parameters (the coefficients, not the intercept)."""
        mask = np.zeros(self.n_params, dtype=bool)
        mask[: self.n_coef] = True
        return mask

    @property
    def l1_scale(self) -> float:
        """Weight of :math:`\\lVert W \\rVert_1` in the objective: l1 / S."""
        return self.l1 / self.sw_sum

    def unpack(self, theta: NDArray) -> tuple[NDArray, NDArray]:
        """``(W, b)`` with W (n_features, K') and b (K'), in the compute dtype."""
        return unpack_linear(theta, self.n_features, self.k, self.fit_intercept, self.dtype)

    def pack(self, W: NDArray, b: NDArray | None) -> NDArray:
        """The flat float64 parameter vector of ``W`` (n_features, K') and ``b`` (K')."""
        return pack_linear(W, b, self.k, self.fit_intercept)

    def penalty_l1(self, theta: NDArray) -> float:
        """The L1 part of the objective at `theta`: (l1 / S) ||W||_1."""
        if self.l1 == 0.0:
            return 0.0
        return self.l1_scale * float(np.sum(np.abs(theta[: self.n_coef])))

    # -- evaluation -------------------------------------------------------------------

    def __call__(self, theta: NDArray) -> tuple[float, NDArray]:
        """Smooth part of the objective and its gradient (float64) at `theta`."""
        return self._evaluate(theta, None)

    def minibatch(self, theta: NDArray, rows: NDArray) -> tuple[float, NDArray]:
        """The same objective on the rows `rows` (weights renormalised over the batch)."""
        return self._evaluate(theta, rows)

    def loss(self, theta: NDArray) -> float:
        """Full objective value at `theta`, L1 part included."""
        return self._evaluate(theta, None, need_grad=False)[0] + self.penalty_l1(theta)

    def loss_grad_hessp(
        self, theta: NDArray
    ) -> tuple[float, NDArray, Callable[[NDArray], NDArray]]:
        """Smooth objective, gradient and ``hessp(v)``: the Hessian at `theta` times `v`.

        One pass over the data keeps the per-row curvature (n_samples x K' numbers) that
        every later ``hessp(v)`` reads; ``hessp`` costs one more pass per call.
        """
        curvature = np.empty((self.n_samples, self.k), dtype=self.dtype)
        loss, grad = self._evaluate(theta, None, curvature=curvature)
        row_weight = 1.0 / self.n_samples
        sw = self.sw if self.link == "softmax" else None  # the sigmoid's is in `curvature`

        def hessp(v: NDArray) -> NDArray:
            V, vb = self.unpack(v)
            out, ob = rows_hessp(
                self.X, V, vb, curvature, sw, link=self.link, row_weight=row_weight,
                fit_intercept=self.fit_intercept, block=self.block,
            )  # fmt: skip
            # the L2 penalty's Hessian is alpha/S on the coefficients
            out += (self.alpha / self.sw_sum) * V
            res = out.reshape(-1)
            return np.concatenate([res, ob]) if self.fit_intercept else res

        return loss, grad, hessp

    def loss_grad_hess(self, theta: NDArray) -> tuple[float, NDArray, NDArray]:
        """Smooth objective, gradient and the full Hessian (n_params x n_params, float64).

        One blocked pass over the rows (the kernel of :mod:`logloss.objectives.hessian`):
        ``H = sum_i s~_i (diag(p_i) - p_i p_i^T) (x) z_i z_i^T + alpha/S`` on the
        coefficients' diagonal, with ``z_i = [x_i, 1]`` and the entries in the layout of
        :meth:`pack` (sigmoid: ``sum_i s~_i p_i (1 - p_i) z_i z_i^T``). Meant for few
        parameters (up to a few thousand): H takes ``n_params**2`` float64 entries.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        >>> f = LinearObjective(X, np.array([0, 1, 1]), n_classes=2, link="sigmoid")
        >>> loss, grad, H = f.loss_grad_hess(np.zeros(f.n_params))
        >>> H @ np.array([1.0, 0.0, 0.0])          # the same as hessp's column
        array([0.16666667, 0.08333333, 0.16666667])
        """
        loss, gW, gb, H = self._hessian_pass(*self.unpack(theta))
        reg = self.alpha / self.sw_sum
        W64 = np.asarray(theta[: self.n_coef], dtype=np.float64)
        loss += 0.5 * reg * float(W64 @ W64)
        grad = gW.reshape(-1) + reg * W64
        if self.fit_intercept:
            grad = np.concatenate([grad, gb])
        H[np.arange(self.n_coef), np.arange(self.n_coef)] += reg
        return loss, grad, H

    def _hessian_pass(self, W: NDArray, b: NDArray) -> tuple[float, NDArray, NDArray, NDArray]:
        """``(L, dL/dW, dL/db, H)`` of the data term in one blocked pass (float64).

        Per block of rows: the logits, loss and gradient from
        :func:`~logloss.objectives.linear_block.block_loss_grad` (which keeps the
        probabilities, or ``s p (1 - p)`` for a sigmoid), then the weighted Gram matrices
        of :mod:`logloss.objectives.hessian` with the ones column of the intercept last,
        so that ``H[j K' + c, l K' + e]`` couples feature j of class c with feature l of
        class e (the intercept is feature ``n_features``): the layout of :meth:`pack`.
        """
        X, n, d, k = self.X, self.n_samples, self.n_features, self.k
        dp = d + 1 if self.fit_intercept else d
        intercept = "last" if self.fit_intercept else None
        step = scratch_rows(dp, GRAM_BYTES)
        scratch = np.empty((min(scratch_rows(dp), n), dp))
        Z = np.empty((min(step, n), k), dtype=X.dtype)
        curv = np.empty((min(step, n), k), dtype=X.dtype)
        gW, gb = np.zeros((d, k)), np.zeros(k)
        blocks = np.zeros((k, k, dp, dp))
        loss = 0.0
        for start in range(0, n, step):
            stop = min(start + step, n)
            Xb = row_block(X, start, stop)
            swb = None if self.sw is None else self.sw[start:stop]
            cb = curv[: stop - start]
            loss += block_loss_grad(
                Xb, self.y[start:stop], swb, W, b, Z[: stop - start], link=self.link,
                row_weight=1.0 / n, need_grad=True, fit_intercept=self.fit_intercept,
                gW=gW, gb=gb, curvature=cb,
            )  # fmt: skip
            if self.link == "sigmoid":  # the curvature is already s_i p_i (1 - p_i)
                add_weighted_gram(blocks[0, 0], Xb, cb[:, 0], intercept=intercept, scratch=scratch)
            else:
                s = 1.0 / n if swb is None else swb
                add_class_grams(blocks, Xb, cb, s, intercept=intercept, scratch=scratch,
                                complete=True)  # fmt: skip
        # blocks[c, e, j, l] -> H[j K' + c, l K' + e]
        H = np.ascontiguousarray(blocks.transpose(2, 0, 3, 1)).reshape(dp * k, dp * k)
        return loss, gW, gb, H

    @property
    def flat_directions(self) -> NDArray:
        """Orthonormal directions (n_params, r) along which the objective is constant.

        A softmax's probabilities do not change when the same number is added to every
        class's intercept, nor (with no L2 penalty) to every class's coefficient of one
        feature: the Hessian is singular along these shifts and the gradient has no part
        in them. Empty (r = 0) for a sigmoid.

        Examples
        --------
        >>> import numpy as np
        >>> f = LinearObjective(np.ones((2, 1)), np.array([0, 1]), n_classes=2, alpha=1.0)
        >>> f.flat_directions.T                  # the intercept shift only
        array([[0.        , 0.        , 0.70710678, 0.70710678]])
        """
        if self.link != "softmax":
            return np.zeros((self.n_params, 0))
        rows = list(range(self.n_features)) if self.alpha == 0.0 else []
        if self.fit_intercept:
            rows.append(self.n_features)
        N = np.zeros((self.n_params, len(rows)))
        for col, j in enumerate(rows):
            N[j * self.k : (j + 1) * self.k, col] = 1.0 / np.sqrt(self.k)
        return N

    @property
    def preconditioner(self) -> NDArray:
        """The Hessian's diagonal where every class is equally likely (float64, n_params).

        .. math::

            d_{jc} = \\kappa \\sum_i \\tilde s_i x_{ij}^2 + \\alpha / S, \\qquad
            d_{b_c} = \\kappa, \\qquad \\kappa = \\tfrac{1}{K}\\big(1 - \\tfrac{1}{K}\\big)

        (:math:`\\kappa` = 1/4 for a sigmoid). L-BFGS runs in the variables
        :math:`\\sqrt{d} \\odot \\theta` (:func:`logloss.solvers.minimize`), which gives every
        column the same curvature: a one-hot indicator seen in 10 rows and one seen in
        100,000 then converge at the same pace instead of the rare one holding the solver
        for hundreds of iterations. One pass over X; computed once.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0.0, 1.0], [2.0, 0.0]])
        >>> f = LinearObjective(X, np.array([0, 1]), n_classes=2, link="sigmoid", alpha=1.0)
        >>> f.preconditioner          # 0.25 * mean(x_j^2) + 1/2, then the intercept's 0.25
        array([1.   , 0.625, 0.25 ])
        """
        cached = getattr(self, "_preconditioner", None)
        if cached is None:
            cached = self._preconditioner = diagonal_estimate(
                self.column_squares(), self.alpha / self.sw_sum, self.link, self.k,
                self.fit_intercept,
            )  # fmt: skip
        return cached

    def hessp(self, theta: NDArray, v: NDArray) -> NDArray:
        """Hessian of the smooth objective at `theta` times the vector `v` (float64).

        Softmax, per row with p = softmax(z) and u = x V + v_b:
        ``H u = p * u - p (p . u)`` (the Jacobian of the softmax is diag(p) - p p^T).
        Sigmoid: ``H u = p (1 - p) u``. Then back through X: ``X.T (s * Hu) + alpha/S V``.
        Each call evaluates the objective at `theta`; a solver that multiplies by the
        Hessian many times at one point uses :meth:`loss_grad_hessp` instead.
        """
        return self.loss_grad_hessp(np.asarray(theta, dtype=np.float64))[2](v)

    def _evaluate(
        self,
        theta: NDArray,
        rows: NDArray | None,
        need_grad: bool = True,
        curvature: NDArray | None = None,
    ) -> tuple[float, NDArray | None]:
        W, b = self.unpack(theta)
        X, y, sw, _ = self.select(rows)
        loss, gW, gb = rows_loss_grad(
            X, y, sw, W, b, link=self.link, row_weight=1.0 / X.shape[0], need_grad=need_grad,
            fit_intercept=self.fit_intercept, block=self.block, curvature=curvature,
        )  # fmt: skip
        # the penalty keeps the full data's scale 1/S on a mini-batch too, so that the
        # batch objective is an unbiased estimate of the full one
        reg = self.alpha / self.sw_sum
        if reg != 0.0:
            # from the float64 parameters: one BLAS pass, no squared temporary
            w = np.asarray(theta[: self.n_coef], dtype=np.float64)
            loss += 0.5 * reg * float(w @ w)
        if not need_grad:
            return loss, None
        gW += reg * W
        grad = gW.reshape(-1)
        if self.fit_intercept:
            grad = np.concatenate([grad, gb])
        return loss, grad

    # -- prediction ------------------------------------------------------------------

    def decision(self, theta: NDArray, X: NDArray) -> NDArray:
        """Logits ``X W + b`` (n_samples, K') for parameters `theta`."""
        W, b = self.unpack(theta)
        return X @ W + b


def diagonal_estimate(
    column_squares: NDArray, reg: float, link: str, k: int, fit_intercept: bool
) -> NDArray:
    """The linear objective's Hessian diagonal at equal class probabilities, in the layout
    of :func:`pack_linear`, from ``sum_i s~_i x_ij^2`` and the L2 strength ``alpha / S``.

    Examples
    --------
    >>> diagonal_estimate(np.array([2.0]), 0.5, "softmax", 2, True)
    array([1.  , 1.  , 0.25, 0.25])
    >>> diagonal_estimate(np.array([2.0]), 0.5, "logit", 2, True)
    Traceback (most recent call last):
    ...
    ValueError: `link` must be 'softmax' or 'sigmoid'; got 'logit'
    """
    if link not in ("softmax", "sigmoid"):
        raise ValueError(f"`link` must be 'softmax' or 'sigmoid'; got {link!r}")
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"`k` must be a positive integer; got {k!r}")
    kappa = 0.25 if link == "sigmoid" else (1.0 - 1.0 / k) / k
    parts = [np.repeat(kappa * np.asarray(column_squares, np.float64) + reg, k)]
    if fit_intercept:
        parts.append(np.full(k, kappa))
    return np.concatenate(parts)


def unpack_linear(
    theta: NDArray, n_features: int, k: int, fit_intercept: bool, dtype: np.dtype
) -> tuple[NDArray, NDArray]:
    """``(W, b)`` with W (n_features, K') and b (K') in `dtype` from the flat vector.

    The layout: ``W`` row-major, then ``b`` when there is an intercept (else b is zero).

    Examples
    --------
    >>> import numpy as np
    >>> unpack_linear(np.arange(4.0), 1, 2, True, np.dtype(np.float64))
    (array([[0., 1.]]), array([2., 3.]))
    """
    theta = np.asarray(theta)
    n_coef = n_features * k
    W = theta[:n_coef].reshape(n_features, k).astype(dtype)
    if fit_intercept:
        b = theta[n_coef:].astype(dtype)
    else:
        b = np.zeros(k, dtype=dtype)
    return W, b


def pack_linear(W: NDArray, b: NDArray | None, k: int, fit_intercept: bool) -> NDArray:
    """The flat float64 vector of ``W`` (n_features, K') and ``b`` (K'; None is zero).

    Examples
    --------
    >>> import numpy as np
    >>> pack_linear(np.array([[0.0, 1.0]]), None, 2, True)
    array([0., 1., 0., 0.])
    """
    parts = [np.asarray(W, dtype=np.float64).reshape(-1)]
    if fit_intercept:
        parts.append(np.zeros(k) if b is None else np.asarray(b, np.float64).reshape(-1))
    return np.concatenate(parts)
