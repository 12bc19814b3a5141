"""Temperature scaling's objective: the cross-entropy of logits divided by a temperature."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .. import _kernels
from ._rows import normalised_weights


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
    >>> from logloss.objectives import TemperatureObjective
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
        main, _ = _kernels.ce_labels(scaled, self.y, scale=scale, grad_out=G)
        if self.sw is not None:
            loss = float(main @ self.sw)
            G *= self.sw[:, None]
        else:
            loss = float(main.sum()) / n
        # df/dtau = sum_ic G_ic dz'_ic/dtau = -sum_ic G_ic z'_ic
        return loss, np.array([-float(np.vdot(G, scaled))])
