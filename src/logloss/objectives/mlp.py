"""The penalised weighted mean cross-entropy of a multi-layer perceptron.

Each activation's backward sits beside its forward, and the dense layer's backward
beside its forward, so that every derivative is read next to the function it differentiates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .. import _kernels, _stable
from .._array import is_sparse
from ._rows import Link, TrainingRows

# ---------------------------------------------------------------------------
# activations: forward (may overwrite z) and backward (scales g in place, given a)
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
        return _stable.sigmoid(z)

    @staticmethod
    def backward(a: NDArray, g: NDArray) -> None:
        # d sigmoid(z)/dz = sigmoid(z) (1 - sigmoid(z)) = a (1 - a)
        g *= a * (1.0 - a)


ACTIVATIONS = {"identity": _Identity, "relu": _ReLU, "tanh": _Tanh, "logistic": _Logistic}


# -- the dense layer: forward and backward side by side ---------------------------------


def _dense_forward(h: NDArray, W: NDArray, b: NDArray) -> NDArray:
    """z = h W + b (for the input layer, h may be a CSR matrix: a sparse-times-dense product)."""
    z = h @ W
    z += b
    return z


def _dense_backward(h, W, G, gW, gb, reg, act):
    """Given G = d loss / d z for z = h W + b (h = act(previous z), or the input):

    dW = h.T G + reg W (into `gW`), db = sum_rows G (into `gb`), and the gradient with
    respect to the previous pre-activation, (G W.T) * act'(h), which is returned
    (None when `act` is None: the input needs no gradient).
    """
    if is_sparse(h):
        # the input layer on a CSR X: X^T is the CSC matrix of the same arrays
        np.copyto(gW, h.T @ G)
    elif gW.dtype == G.dtype:
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


def mlp_logits(layers: Sequence[tuple[NDArray, NDArray]], X: NDArray, activation: str) -> NDArray:
    """The logits of a network with weights and biases `layers`: its forward pass on `X`.

    Examples
    --------
    >>> import numpy as np
    >>> layers = [(np.eye(2), np.array([0.0, -1.0])), (np.ones((2, 1)), np.zeros(1))]
    >>> mlp_logits(layers, np.array([[0.5, 2.0]]), "relu")     # relu([0.5, 1]) @ [1, 1]
    array([[1.5]])
    """
    return _forward(layers, X, ACTIVATIONS[activation])[-1]


def _forward(layers, X: NDArray, act) -> list[NDArray]:
    """Activations [X, h_1, ..., h_{L-1}, logits]."""
    hs = [X]
    for i, (W, b) in enumerate(layers):
        z = _dense_forward(hs[-1], W.astype(X.dtype, copy=False), b)
        hs.append(z if i == len(layers) - 1 else act.forward(z))
    return hs


class MLPObjective(TrainingRows):
    """Penalised weighted mean cross-entropy of a multi-layer perceptron.

    .. math::

        f(\\theta) = \\sum_i \\tilde s_i \\, \\ell(h_L(x_i), y_i)
                     + \\frac{\\alpha}{2 S} \\sum_l \\lVert W_l \\rVert^2, \\qquad
        h_l = \\phi(h_{l-1} W_l + b_l), \\quad h_L = h_{L-1} W_L + b_L

    with :math:`\\ell` the softmax cross-entropy (or the sigmoid one for ``link="sigmoid"``),
    optionally label-smoothed, and the same weights and scaling as
    :class:`~logloss.objectives.LinearObjective` (for scikit-learn's ``MLPClassifier`` this
    is its ``alpha`` scaling). The gradient is back-propagated layer by layer: with G the
    gradient at a layer's output, ``dW = h_{l-1}.T G``, ``db = sum_rows G`` and
    ``G <- (G W.T) * phi'(h_{l-1})``.

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
    >>> from logloss.objectives import MLPObjective
    >>> f = MLPObjective(np.eye(3), np.array([0, 1, 2]), n_classes=3, hidden_layer_sizes=(4,))
    >>> f.n_params                       # (3*4 + 4) + (4*3 + 3)
    31
    >>> loss, grad = f(np.zeros(f.n_params))
    >>> round(loss, 6)                   # log(3): all logits are 0
    1.098612
    """

    l1 = 0.0
    l1_scale = 0.0

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
        super().__init__(X, y, n_classes=n_classes, link=link, sample_weight=sample_weight)
        self.act = ACTIVATIONS[activation]
        self.activation = activation
        self.sizes = (self.n_features, *[int(h) for h in hidden_layer_sizes], self.k)
        self.alpha = float(alpha)
        self.eps = float(label_smoothing)
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

    @property
    def layer_shapes(self) -> list[tuple[int, int]]:
        """(fan_in, fan_out) of each layer's weight matrix."""
        return list(zip(self.sizes[:-1], self.sizes[1:], strict=True))

    def unpack(self, theta: NDArray) -> list[tuple[NDArray, NDArray]]:
        """[(W_l, b_l)] with W_l (fan_in, fan_out), in the compute dtype (views when possible)."""
        out = []
        for (a, b, c), shape in zip(self.slices, self.layer_shapes, strict=True):
            W = theta[a:b].reshape(shape).astype(self.dtype, copy=False)
            out.append((W, theta[b:c].astype(self.dtype, copy=False)))
        return out

    def pack(self, layers: Sequence[tuple[NDArray, NDArray]]) -> NDArray:
        """The flat float64 vector of [(W_l, b_l)] (the inverse of :meth:`unpack`)."""
        return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in layers]).astype(
            np.float64
        )

    def initial_params(self, rng: np.random.Generator) -> NDArray:
        """Glorot-uniform weights and biases: U(-r, r), r = sqrt(k / (fan_in + fan_out)),
        k = 2 for the logistic activation and 6 otherwise (Glorot and Bengio, 2010)."""
        k = 2.0 if self.activation == "logistic" else 6.0
        theta = np.empty(self.n_params)
        for (a, b, c), (fan_in, fan_out) in zip(self.slices, self.layer_shapes, strict=True):
            r = np.sqrt(k / (fan_in + fan_out))
            theta[a:b] = rng.uniform(-r, r, b - a)
            theta[b:c] = rng.uniform(-r, r, c - b)
        return theta

    def forward(self, theta: NDArray, X: NDArray) -> list[NDArray]:
        """Activations [X, h_1, ..., h_{L-1}, logits]."""
        return _forward(self.unpack(theta), X, self.act)

    def __call__(self, theta: NDArray) -> tuple[float, NDArray]:
        """Objective and gradient on all rows."""
        return self._evaluate(theta, *self.select(None))

    def minibatch(self, theta: NDArray, rows: NDArray) -> tuple[float, NDArray]:
        """Objective and gradient on `rows` (weights renormalised over the batch)."""
        return self._evaluate(theta, *self.select(rows))

    def loss(self, theta: NDArray) -> float:
        """Objective value on all rows (forward pass only)."""
        return self._evaluate(theta, *self.select(None), need_grad=False)[0]

    def _evaluate(self, theta, X, y, sw, sw_sum, need_grad=True):
        layers = self.unpack(theta)
        hs = self.forward(theta, X)
        Z = hs[-1]
        n = X.shape[0]
        scale = 1.0 if sw is not None else 1.0 / n
        # the kernel writes d loss / d logits over Z (label smoothing included)
        g_out = Z if need_grad else None
        if self.link == "softmax":
            main, _ = _kernels.ce_labels(Z, y, smoothing=self.eps, scale=scale, grad_out=g_out)
        else:
            z = Z.reshape(-1)
            main = _kernels.bce_logits(
                z, y, smoothing=self.eps, scale=scale, grad_out=z if need_grad else None
            )
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
