"""Temperature scaling's objective: the cross-entropy of logits divided by a temperature."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .. import _kernels
from ._rows import normalised_weights


def laplace_targets(y: NDArray, n_classes: int, sample_weight: NDArray | None = None) -> NDArray:
    """Soft targets by Laplace's rule of succession, one row per label.

    A row of class ``y`` gets

    .. math::

        t_{y} = \\frac{N_y + 1}{N_y + K}, \\qquad t_{c \\ne y} = \\frac{1}{N_y + K},

    where :math:`N_y` counts the rows of class y (those of positive weight) and K the
    classes: the posterior mean of the class probabilities under a uniform Dirichlet
    prior after :math:`N_y` rows all of class y. For two classes these are Platt's (1999)
    targets :math:`(N_+ + 1)/(N_+ + 2)` and :math:`1/(N_- + 2)`.

    Examples
    --------
    >>> import numpy as np
    >>> laplace_targets(np.array([0, 0, 0, 1]), 2)     # 4/5 and 1/5; 2/3 and 1/3
    array([[0.8       , 0.2       ],
           [0.8       , 0.2       ],
           [0.8       , 0.2       ],
           [0.33333333, 0.66666667]])
    """
    y = np.asarray(y, dtype=np.int64)
    counted = y if sample_weight is None else y[np.asarray(sample_weight) > 0]
    counts = np.bincount(counted, minlength=n_classes).astype(np.float64)
    denominator = counts[y] + n_classes
    targets = np.repeat((1.0 / denominator)[:, None], n_classes, axis=1)
    targets[np.arange(y.size), y] = (counts[y] + 1.0) / denominator
    return targets


class TemperatureObjective:
    """Mean weighted cross-entropy of logits divided by a temperature, over tau = log T.

    .. math::

        f(\\tau) = \\sum_i \\tilde s_i \\, \\ell(z_i e^{-\\tau}, t_i), \\qquad
        \\frac{df}{d\\tau} = -\\sum_i \\tilde s_i \\sum_c (p_{ic} - t_{ic}) \\, z_{ic} e^{-\\tau}

    (with z' = z e^{-tau}, dz'/dtau = -z'), where :math:`t_i` is the one-hot label of row i
    or, when `targets` are given, row i of them. Optimising log T keeps T positive.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_classes)
        Logits of a fitted classifier on held-out data (float64).
    y : ndarray of shape (n_samples,)
        Encoded labels in ``[0, n_classes)``.
    sample_weight : ndarray of shape (n_samples,) or None
    targets : ndarray of shape (n_samples, n_classes) or None
        Probability targets that replace the one-hot labels (e.g.
        :func:`laplace_targets`); None: the labels.

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

    def __init__(
        self,
        logits: NDArray,
        y: NDArray,
        sample_weight: NDArray | None = None,
        targets: NDArray | None = None,
    ):
        self.Z = np.ascontiguousarray(logits, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.int64)
        self.n_samples = self.Z.shape[0]
        self.sw, self.sw_sum = normalised_weights(sample_weight, self.n_samples, np.float64)
        self.targets = None if targets is None else np.ascontiguousarray(targets, np.float64)

    def __call__(self, theta: NDArray) -> tuple[float, NDArray]:
        scaled = self.Z * np.exp(-float(theta[0]))
        G = np.empty_like(scaled)
        n = self.n_samples
        scale = 1.0 if self.sw is not None else 1.0 / n
        if self.targets is None:
            main, _ = _kernels.ce_labels(scaled, self.y, scale=scale, grad_out=G)
        else:
            main, _ = _kernels.ce_probs(scaled, self.targets, scale=scale, grad_out=G)
        if self.sw is not None:
            loss = float(main @ self.sw)
            G *= self.sw[:, None]
        else:
            loss = float(main.sum()) / n
        # df/dtau = sum_ic G_ic dz'_ic/dtau = -sum_ic G_ic z'_ic
        return loss, np.array([-float(np.vdot(G, scaled))])
