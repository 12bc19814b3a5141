"""Array loops over the kernels' elementary functions, for measuring their accuracy.

Test helpers only (they do not ship in the library): each applies one function of
``logloss._kernels._numba_math`` elementwise, as the kernels call it.
"""

from __future__ import annotations

from numba import njit

from logloss._kernels._numba_math import fexp, fexp_nonpos, flog1p_unit, fsoftcap

_FM = {"contract"}


@njit(fastmath=_FM, error_model="numpy")
def exp_array(x, out):
    """out[i] = e**x[i] over 1-D arrays, with the kernels' exp."""
    for i in range(x.shape[0]):
        out[i] = fexp(x[i])


@njit(fastmath=_FM, error_model="numpy")
def exp_nonpos_array(x, out):
    """out[i] = e**x[i] for x <= 0, with the kernels' exp for non-positive arguments."""
    for i in range(x.shape[0]):
        out[i] = fexp_nonpos(x[i])


@njit(fastmath=_FM, error_model="numpy")
def log1p_unit_array(u, out):
    """out[i] = log(1 + u[i]) for u in [0, 1], with the kernels' log1p."""
    for i in range(u.shape[0]):
        out[i] = flog1p_unit(u[i])


@njit(fastmath=_FM, error_model="numpy")
def softcap_array(z, cap, out):
    """out[i] = cap * tanh(z[i] / cap) (-inf kept), with the kernels' softcap."""
    for i in range(z.shape[0]):
        out[i] = fsoftcap(z[i], cap)
