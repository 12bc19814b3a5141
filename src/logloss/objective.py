"""Objectives: the penalised weighted mean cross-entropy of a model, ``(loss, grad) = f(params)``.

Every solver in :mod:`logloss.solvers` minimises one of these callables. An objective
owns the training data and turns a flat float64 parameter vector into logits, sends the
logits through the fused kernel of :mod:`logloss._kernels` (which writes the gradient
with respect to the logits over the logits buffer, in the same pass as the loss), and
back-propagates that gradient to the parameters with BLAS.

The penalised objective of a linear model follows scikit-learn's ``LogisticRegression``
(so the same ``C`` gives the same coefficients):

.. math::

    f(W, b) = \\frac{1}{S} \\Big[ \\sum_i s_i \\, \\ell(x_i W + b, y_i)
              + \\frac{\\alpha}{2} \\lVert W \\rVert_2^2 \\Big],
    \\qquad S = \\sum_i s_i,

with sample weights :math:`s_i` (class weights already folded in), :math:`\\ell` the
softmax cross-entropy (or the sigmoid cross-entropy of one logit for binary problems),
:math:`\\alpha = 1/C` and an unpenalised intercept :math:`b`. An L1 part
:math:`\\frac{\\beta}{S} \\lVert W \\rVert_1` is not differentiable; it is reported by
:meth:`LinearObjective.penalty_l1` and handled by the proximal step of the solvers.

This module imports only NumPy; it sits below the solvers and the estimators.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from . import _kernels

Link = Literal["softmax", "sigmoid"]

# Rows per block of the evaluation, chosen so that the logits of a block take at most
# 32 MiB: memory stays bounded for any number of rows. Blocks are large on purpose: the
# kernels and BLAS are multi-threaded, and each call has a fixed cost (thread start-up)
# that small, cache-sized blocks would pay thousands of times per evaluation.
_BLOCK_BYTES = 32 << 20


def _block_rows(n_outputs: int, itemsize: int) -> int:
    return max(1024, _BLOCK_BYTES // max(1, n_outputs * itemsize))


def linear_forward(X: NDArray, W: NDArray, out: NDArray) -> NDArray:
    """``out = X @ W`` (n, K'); with one column, the numba matrix-vector kernel.

    .. math:: z_{ic} = \\sum_j x_{ij} W_{jc}

    Examples
    --------
    >>> import numpy as np
    >>> X, W = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5], [-1.0]])
    >>> linear_forward(X, W, np.empty((2, 1)))
    array([[-1.5],
           [-2.5]])
    """
    if W.shape[1] == 1:
        _kernels.matvec(X, np.ascontiguousarray(W[:, 0]), out[:, 0])
    else:
        np.matmul(X, W, out=out)
    return out


def _column_sums(G: NDArray) -> NDArray:
    """sum_i G_i (K'), by BLAS in G's dtype like X.T @ G beside it: numpy's float64
    accumulation of a float32 array converts element by element (200,000 x 10: 2.6 ms
    against 0.4 ms)."""
    return np.ones(G.shape[0], G.dtype) @ G


def linear_backward(X: NDArray, G: NDArray, acc: NDArray) -> None:
    """``acc += X.T @ G`` into a float64 (d, K') array; with one column, the numba kernel
    (float64 totals over fixed row slices).

    .. math:: \\frac{\\partial L}{\\partial W_{jc}} = \\sum_i x_{ij} G_{ic}

    Examples
    --------
    >>> import numpy as np
    >>> acc = np.zeros((2, 1))
    >>> linear_backward(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0], [-1.0]]), acc)
    >>> acc
    array([[-2.],
           [-2.]])
    """
    if G.shape[1] == 1:
        acc[:, 0] += _kernels.rmatvec(X, np.ascontiguousarray(G[:, 0]))
    else:
        acc += X.T @ G


def normalised_weights(
    sample_weight: NDArray | None, n_samples: int, dtype: np.dtype
) -> tuple[NDArray | None, float]:
    """Sample weights divided by their sum S, and S (``None`` and n when unweighted)."""
    if sample_weight is None:
        return None, float(n_samples)
    total = float(np.sum(sample_weight, dtype=np.float64))
    return (np.asarray(sample_weight, dtype=np.float64) / total).astype(dtype), total


class LinearObjective:
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
    >>> from logloss.objective import LinearObjective
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> f = LinearObjective(X, np.array([0, 1, 1]), n_classes=2, link="sigmoid", alpha=1.0)
    >>> loss, grad = f(np.zeros(f.n_params))
    >>> round(loss, 6), grad.round(4)        # log(2) at zero; d/dW = X.T (sigmoid(0) - y) / 3
    (0.693147, array([-0.3333, -0.    , -0.1667]))
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
        self.X = np.ascontiguousarray(X)
        self.dtype = self.X.dtype
        self.n_samples, self.n_features = self.X.shape
        self.n_classes = int(n_classes)
        self.link = link
        self.k = self.n_classes if link == "softmax" else 1
        self.fit_intercept = bool(fit_intercept)
        y = np.asarray(y)
        if link == "softmax":
            self.y = y.astype(np.int64, copy=False)
        else:
            self.y = (y == 1).astype(self.dtype)
        self.sw, self.sw_sum = normalised_weights(sample_weight, self.n_samples, self.dtype)
        self.alpha = float(alpha)
        self.l1 = float(l1)
        self.n_coef = self.n_features * self.k
        self.n_params = self.n_coef + (self.k if self.fit_intercept else 0)
        self.block = _block_rows(self.k, self.dtype.itemsize)
        self.store_hessian = False
        self._hess_theta: NDArray | None = None
        self._hess_data: NDArray | None = None

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
        theta = np.asarray(theta)
        W = theta[: self.n_coef].reshape(self.n_features, self.k).astype(self.dtype)
        if self.fit_intercept:
            b = theta[self.n_coef :].astype(self.dtype)
        else:
            b = np.zeros(self.k, dtype=self.dtype)
        return W, b

    def pack(self, W: NDArray, b: NDArray | None) -> NDArray:
        """The flat float64 parameter vector of ``W`` (n_features, K') and ``b`` (K')."""
        parts = [np.asarray(W, dtype=np.float64).reshape(-1)]
        if self.fit_intercept:
            parts.append(np.zeros(self.k) if b is None else np.asarray(b, np.float64).reshape(-1))
        return np.concatenate(parts)

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

    def _evaluate(self, theta: NDArray, rows: NDArray | None, need_grad: bool = True):
        W, b = self.unpack(theta)
        if rows is None:
            X, y, sw, sw_sum = self.X, self.y, self.sw, self.sw_sum
        else:
            X, y = self.X[rows], self.y[rows]
            if self.sw is None:
                sw, sw_sum = None, float(len(rows))
            else:
                raw = self.sw[rows].astype(np.float64) * self.sw_sum
                sw_sum = float(raw.sum())
                sw = (raw / sw_sum).astype(self.dtype) if sw_sum > 0 else raw.astype(self.dtype)
        n = X.shape[0]
        keep = self.store_hessian and rows is None and need_grad
        if keep:
            hess = np.empty((n, self.k), dtype=self.dtype)
        inv_n = 1.0 / n
        gW = np.zeros((self.n_features, self.k), dtype=np.float64)
        gb = np.zeros(self.k, dtype=np.float64)
        loss = 0.0
        fused = None
        if self.link == "sigmoid" and not keep:
            # binary logistic regression: loss and gradient in one pass over X
            fused = _kernels.logistic_loss_grad(
                X, y, sw, np.ascontiguousarray(W[:, 0]), float(b[0]), inv_n, need_grad
            )
        if fused is not None:
            loss, gw1, gb1 = fused
            if need_grad:
                gW[:, 0] = gw1
                gb[0] = gb1
        else:
            step = self.block
            Z = np.empty((min(step, n), self.k), dtype=self.dtype)
            for start in range(0, n, step):
                stop = min(start + step, n)
                Xb, yb = X[start:stop], y[start:stop]
                swb = None if sw is None else sw[start:stop]
                Zb = Z[: stop - start]
                linear_forward(Xb, W, Zb)
                Zb += b
                # the kernel writes dloss/dz over Zb; with scale 1 it leaves p - onehot there
                # (which the Hessian needs) and the weights are applied afterwards
                g_out = Zb if need_grad else None
                scale = 1.0 if (swb is not None or keep) else inv_n
                reduced = False  # True when the kernel returns partial sums of scale * loss
                if self.link == "softmax":
                    main, _ = _kernels.ce_labels(
                        Zb, yb, None, -100, 0.0, None, 0.0, scale, 0.0, g_out
                    )
                    if keep:
                        # p = (p - onehot) + onehot
                        Hb = hess[start:stop]
                        np.copyto(Hb, Zb)
                        Hb[np.arange(stop - start), yb] += 1.0
                else:
                    zb = Zb.reshape(-1)
                    reduced = swb is None and not keep
                    main = _kernels.bce_logits(
                        zb, yb, None, None, 0.0, scale, zb if need_grad else None, reduce=reduced
                    )
                    if keep:
                        # sigmoid'(z) = p (1 - p) with p = g + y and 1 - p = (1 - y) - g, both exact
                        g = Zb[:, 0]
                        d = (g + yb) * ((1.0 - yb) - g)
                        hess[start:stop, 0] = d * swb if swb is not None else d * inv_n
                if swb is not None:
                    loss += float(main @ swb)
                else:
                    loss += float(main.sum()) * (1.0 if reduced else inv_n)
                if not need_grad:
                    continue
                if swb is not None:
                    Zb *= swb[:, None]
                elif keep:
                    Zb *= inv_n
                linear_backward(Xb, Zb, gW)
                if self.fit_intercept:
                    gb += _column_sums(Zb)
        if keep:
            self._hess_theta = np.array(theta, dtype=np.float64, copy=True)
            self._hess_data = hess
            self._hess_sw = sw if self.link == "softmax" else None
        # the penalty keeps the full data's scale 1/S on a mini-batch too, so that the
        # batch objective is an unbiased estimate of the full one
        reg = self.alpha / self.sw_sum
        loss += 0.5 * reg * float(np.sum(np.square(W, dtype=np.float64)))
        if not need_grad:
            return loss, None
        gW += reg * W
        grad = gW.reshape(-1)
        if self.fit_intercept:
            grad = np.concatenate([grad, gb])
        return loss, grad

    # -- second order -----------------------------------------------------------------

    def hessp(self, theta: NDArray, v: NDArray) -> NDArray:
        """Hessian of the smooth objective at `theta` times the vector `v` (float64).

        Softmax, per row with p = softmax(z) and u = x V + v_b:
        ``H u = p * u - p (p . u)`` (the Jacobian of the softmax is diag(p) - p p^T).
        Sigmoid: ``H u = p (1 - p) u``. Then back through X: ``X.T (s * Hu) + alpha/S V``.
        """
        theta = np.asarray(theta, dtype=np.float64)
        if self._hess_theta is None or not np.array_equal(theta, self._hess_theta):
            previous = self.store_hessian
            self.store_hessian = True
            try:
                self._evaluate(theta, None)
            finally:
                self.store_hessian = previous
        V, vb = self.unpack(v)
        P = self._hess_data
        sw = self._hess_sw
        n = self.n_samples
        out = np.zeros((self.n_features, self.k), dtype=np.float64)
        ob = np.zeros(self.k, dtype=np.float64)
        step = self.block
        for start in range(0, n, step):
            stop = min(start + step, n)
            Xb = self.X[start:stop]
            U = linear_forward(Xb, V, np.empty((stop - start, self.k), self.dtype))
            if self.fit_intercept:
                U += vb
            Pb = P[start:stop]
            if self.link == "softmax":
                T = Pb * U
                T -= Pb * T.sum(axis=1, keepdims=True)
                if sw is not None:
                    T *= sw[start:stop, None]
                else:
                    T *= 1.0 / n
            else:
                T = Pb * U
            linear_backward(Xb, T, out)
            if self.fit_intercept:
                ob += T.sum(axis=0, dtype=np.float64)
        out += (self.alpha / self.sw_sum) * V
        res = out.reshape(-1)
        return np.concatenate([res, ob]) if self.fit_intercept else res

    # -- prediction ------------------------------------------------------------------

    def decision(self, theta: NDArray, X: NDArray) -> NDArray:
        """Logits ``X W + b`` (n_samples, K') for parameters `theta`."""
        W, b = self.unpack(theta)
        return X @ W + b


def numerical_gradient(f, theta: NDArray, h: float = 1e-6) -> NDArray:
    """Central finite differences of the scalar function ``f(theta)`` (for tests and checks).

    .. math:: g_j = \\frac{f(\\theta + h e_j) - f(\\theta - h e_j)}{2h}

    Examples
    --------
    >>> import numpy as np
    >>> numerical_gradient(lambda t: float(t @ t), np.array([1.0, -2.0])).round(6)
    array([ 2., -4.])
    """
    theta = np.asarray(theta, dtype=np.float64)
    g = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h
        g[j] = (f(theta + e) - f(theta - e)) / (2.0 * h)
    return g


class TemperatureObjective:
    """Mean weighted cross-entropy of logits divided by a temperature, over tau = log T.

    .. math::

        f(\\tau) = \\sum_i \\tilde s_i \\, \\ell(z_i e^{-\\tau}, y_i), \\qquad
        \\frac{df}{d\\tau} = -\\sum_i \\tilde s_i \\sum_c (p_{ic} - [c = y_i]) \\, z_{ic} e^{-\\tau}

    (with z' = z e^{-tau}, dz'/dtau = -z'). Optimising log T keeps T positive.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_classes)
        Logits of a fitted classifier on held-out data (float64).
    y : ndarray of shape (n_samples,)
        Encoded labels in ``[0, n_classes)``.
    sample_weight : ndarray of shape (n_samples,) or None

    Examples
    --------
    >>> import numpy as np
    >>> from logloss.objective import TemperatureObjective
    >>> f = TemperatureObjective(np.array([[4.0, 0.0], [0.0, 4.0]]), np.array([0, 0]))
    >>> loss, grad = f(np.zeros(1))
    >>> round(loss, 4), grad.round(4)     # df/dtau < 0: a confident mistake wants a higher T
    (2.0181, array([-1.9281]))
    """

    n_params = 1

    def __init__(self, logits: NDArray, y: NDArray, sample_weight: NDArray | None = None):
        self.Z = np.ascontiguousarray(logits, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.int64)
        self.n_samples = self.Z.shape[0]
        self.sw, self.sw_sum = normalised_weights(sample_weight, self.n_samples, np.float64)

    def __call__(self, theta: NDArray) -> tuple[float, NDArray]:
        scaled = self.Z * np.exp(-float(theta[0]))
        G = np.empty_like(scaled)
        n = self.n_samples
        scale = 1.0 if self.sw is not None else 1.0 / n
        main, _ = _kernels.ce_labels(scaled, self.y, None, -100, 0.0, None, 0.0, scale, 0.0, G)
        if self.sw is not None:
            loss = float(main @ self.sw)
            G *= self.sw[:, None]
        else:
            loss = float(main.sum()) / n
        # df/dtau = sum_ic G_ic dz'_ic/dtau = -sum_ic G_ic z'_ic
        return loss, np.array([-float(np.vdot(G, scaled))])


# ---------------------------------------------------------------------------
# multi-layer perceptron: each activation's backward beside its forward
# ---------------------------------------------------------------------------


class _Identity:
    @staticmethod
    def forward(z: NDArray) -> NDArray:
        return z

    @staticmethod
    def backward(a: NDArray, g: NDArray) -> None:
        """d a / d z = 1: the gradient passes unchanged."""


class _ReLU:
    @staticmethod
    def forward(z: NDArray) -> NDArray:
        return np.maximum(z, 0.0, out=z)

    @staticmethod
    def backward(a: NDArray, g: NDArray) -> None:
        # d relu(z)/dz = [z > 0] = [a > 0]
        np.multiply(g, a > 0.0, out=g)


class _Tanh:
    @staticmethod
    def forward(z: NDArray) -> NDArray:
        return np.tanh(z, out=z)

    @staticmethod
    def backward(a: NDArray, g: NDArray) -> None:
        # d tanh(z)/dz = 1 - tanh(z)^2 = 1 - a^2
        g *= 1.0 - a * a


class _Logistic:
    @staticmethod
    def forward(z: NDArray) -> NDArray:
        # sigmoid(z) = (1 + tanh(z / 2)) / 2: no exponential to overflow
        np.multiply(z, 0.5, out=z)
        np.tanh(z, out=z)
        z += 1.0
        z *= 0.5
        return z

    @staticmethod
    def backward(a: NDArray, g: NDArray) -> None:
        # d sigmoid(z)/dz = sigmoid(z) (1 - sigmoid(z)) = a (1 - a)
        g *= a * (1.0 - a)


ACTIVATIONS = {"identity": _Identity, "relu": _ReLU, "tanh": _Tanh, "logistic": _Logistic}


class MLPObjective:
    """Penalised weighted mean cross-entropy of a multi-layer perceptron.

    .. math::

        f(\\theta) = \\sum_i \\tilde s_i \\, \\ell(h_L(x_i), y_i)
                     + \\frac{\\alpha}{2 S} \\sum_l \\lVert W_l \\rVert^2, \\qquad
        h_l = \\phi(h_{l-1} W_l + b_l), \\quad h_L = h_{L-1} W_L + b_L

    with :math:`\\ell` the softmax cross-entropy (or the sigmoid one for ``link="sigmoid"``),
    optionally label-smoothed, and the same weights and scaling as :class:`LinearObjective`
    (for scikit-learn's ``MLPClassifier`` this is its ``alpha`` scaling). The gradient is
    back-propagated layer by layer: with G the gradient at a layer's output,
    ``dW = h_{l-1}.T G``, ``db = sum_rows G`` and ``G <- (G W.T) * phi'(h_{l-1})``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Encoded labels.
    n_classes : int
    hidden_layer_sizes : sequence of int
        Widths of the hidden layers (may be empty: a linear model).
    activation : {"relu", "tanh", "logistic", "identity"}
    link : {"softmax", "sigmoid"}
    sample_weight : ndarray or None
    alpha : float
        L2 strength on the weights (not the biases).
    label_smoothing : float
        In [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from logloss.objective import MLPObjective
    >>> f = MLPObjective(np.eye(3), np.array([0, 1, 2]), n_classes=3, hidden_layer_sizes=(4,))
    >>> f.n_params                       # (3*4 + 4) + (4*3 + 3)
    31
    >>> loss, grad = f(np.zeros(f.n_params))
    >>> round(loss, 6)                   # log(3): all logits are 0
    1.098612
    """

    def __init__(
        self,
        X: NDArray,
        y: NDArray,
        *,
        n_classes: int,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        link: Link = "softmax",
        sample_weight: NDArray | None = None,
        alpha: float = 0.0,
        label_smoothing: float = 0.0,
    ):
        self.X = np.ascontiguousarray(X)
        self.dtype = self.X.dtype
        self.n_samples, self.n_features = self.X.shape
        self.n_classes = int(n_classes)
        self.link = link
        self.k = self.n_classes if link == "softmax" else 1
        self.act = ACTIVATIONS[activation]
        self.activation = activation
        self.sizes = (self.n_features, *[int(h) for h in hidden_layer_sizes], self.k)
        y = np.asarray(y)
        self.y = y.astype(np.int64) if link == "softmax" else (y == 1).astype(self.dtype)
        self.sw, self.sw_sum = normalised_weights(sample_weight, self.n_samples, self.dtype)
        self.alpha = float(alpha)
        self.eps = float(label_smoothing)
        self.l1 = 0.0
        # (start of W, end of W = start of b, end of b) of each layer in the flat vector
        self.slices = []
        pos = 0
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            self.slices.append((pos, pos + fan_in * fan_out, pos + fan_in * fan_out + fan_out))
            pos += fan_in * fan_out + fan_out
        self.n_params = pos
        mask = np.zeros(pos, dtype=bool)
        for a, b, _ in self.slices:
            mask[a:b] = True
        self.penalty_mask = mask
        self.l1_scale = 0.0

    def unpack(self, theta: NDArray) -> list[tuple[NDArray, NDArray]]:
        """[(W_l, b_l)] with W_l (fan_in, fan_out), in the compute dtype (views when possible)."""
        out = []
        for (a, b, c), fan_in, fan_out in zip(
            self.slices, self.sizes[:-1], self.sizes[1:], strict=True
        ):
            W = theta[a:b].reshape(fan_in, fan_out).astype(self.dtype, copy=False)
            out.append((W, theta[b:c].astype(self.dtype, copy=False)))
        return out

    def initial_params(self, rng: np.random.Generator) -> NDArray:
        """Glorot-uniform weights and biases: U(-r, r), r = sqrt(k / (fan_in + fan_out)),
        k = 2 for the logistic activation and 6 otherwise (Glorot and Bengio, 2010)."""
        k = 2.0 if self.activation == "logistic" else 6.0
        theta = np.empty(self.n_params)
        for (a, b, c), fan_in, fan_out in zip(
            self.slices, self.sizes[:-1], self.sizes[1:], strict=True
        ):
            r = np.sqrt(k / (fan_in + fan_out))
            theta[a:b] = rng.uniform(-r, r, b - a)
            theta[b:c] = rng.uniform(-r, r, c - b)
        return theta

    def forward(self, theta: NDArray, X: NDArray) -> list[NDArray]:
        """Activations [X, h_1, ..., h_{L-1}, logits]."""
        layers = self.unpack(theta)
        hs = [X]
        for i, (W, b) in enumerate(layers):
            z = _dense_forward(hs[-1], W, b)
            hs.append(z if i == len(layers) - 1 else self.act.forward(z))
        return hs

    def __call__(self, theta: NDArray) -> tuple[float, NDArray]:
        """Objective and gradient on all rows."""
        return self._evaluate(theta, self.X, self.y, self.sw, self.sw_sum)

    def minibatch(self, theta: NDArray, rows: NDArray) -> tuple[float, NDArray]:
        """Objective and gradient on `rows` (weights renormalised over the batch)."""
        if self.sw is None:
            sw, sw_sum = None, float(len(rows))
        else:
            raw = self.sw[rows].astype(np.float64) * self.sw_sum
            sw_sum = float(raw.sum())
            sw = (raw / sw_sum).astype(self.dtype) if sw_sum > 0 else raw.astype(self.dtype)
        return self._evaluate(theta, self.X[rows], self.y[rows], sw, sw_sum)

    def loss(self, theta: NDArray) -> float:
        """Objective value on all rows (forward pass only)."""
        return self._evaluate(theta, self.X, self.y, self.sw, self.sw_sum, need_grad=False)[0]

    def _evaluate(self, theta, X, y, sw, sw_sum, need_grad=True):
        layers = self.unpack(theta)
        hs = self.forward(theta, X)
        Z = hs[-1]
        n = X.shape[0]
        scale = 1.0 if sw is not None else 1.0 / n
        # the kernel writes d loss / d logits over Z (label smoothing included)
        g_out = Z if need_grad else None
        if self.link == "softmax":
            main, _ = _kernels.ce_labels(Z, y, None, -100, self.eps, None, 0.0, scale, 0.0, g_out)
        else:
            z = Z.reshape(-1)
            main = _kernels.bce_logits(z, y, None, None, self.eps, scale, z if need_grad else None)
        loss = float(main @ sw) if sw is not None else float(main.sum()) / n
        reg = self.alpha / sw_sum
        penalty = sum(float(np.vdot(W, W)) for W, _ in layers) if reg else 0.0
        if not need_grad:
            return loss + 0.5 * reg * penalty, None
        if sw is not None:
            Z *= sw[:, None]
        grad = np.empty(self.n_params)
        G = Z
        for i in range(len(layers) - 1, -1, -1):
            W, _ = layers[i]
            a, b, c = self.slices[i]
            gW = grad[a:b].reshape(W.shape)
            G = _dense_backward(hs[i], W, G, gW, grad[b:c], reg, self.act if i > 0 else None)
        return loss + 0.5 * reg * penalty, grad


# -- the dense layer: forward and backward side by side ---------------------------------


def _dense_forward(h: NDArray, W: NDArray, b: NDArray) -> NDArray:
    """z = h W + b."""
    z = h @ W
    z += b
    return z


def _dense_backward(h, W, G, gW, gb, reg, act):
    """Given G = d loss / d z for z = h W + b (h = act(previous z), or the input):

    dW = h.T G + reg W (into `gW`), db = sum_rows G (into `gb`), and the gradient with
    respect to the previous pre-activation, (G W.T) * act'(h), which is returned
    (None when `act` is None: the input needs no gradient).
    """
    if gW.dtype == G.dtype:
        np.matmul(h.T, G, out=gW)
    else:
        np.copyto(gW, h.T @ G)
    if reg:
        gW += reg * W
    gb[...] = G.sum(axis=0)
    if act is None:
        return None
    G_prev = G @ W.T
    act.backward(h, G_prev)
    return G_prev
