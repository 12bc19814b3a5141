"""Fused loss + gradient kernels behind one dispatching interface.

Callers (``logloss.losses``, the model objectives) pass canonical, validated arrays in
the compute dtype: 2-D logits ``(N, C)`` with the class axis last. The entry points take
the arrays positionally and every option by keyword, with PyTorch's names::

    ce_labels(z, y, *, weight=None, ignore_index=-100, smoothing=0.0, softcap=None,
              z_loss=0.0, scale=1.0, scale_z=0.0, grad_out=None, name="logits")
    ce_probs(z, t, *, weight=None, smoothing=0.0, softcap=None, z_loss=0.0, scale=1.0,
             scale_z=0.0, grad_out=None, name="logits")
    bce_logits(x, y, *, weight=None, pos_weight=None, smoothing=0.0, scale=1.0,
               grad_out=None, name="logits", reduce=False, check_target=False)

and, for linear models on CSR rows (``sparse``: the logits, the loss and ``X^T G`` in one
pass over the nonzeros; None where they do not apply)::

    csr_loss_grad(data, indices, indptr, W, b, y, sample_weight, *, link, row_weight,
                  out_gradW, out_gradb, need_grad=True, fit_intercept=True, curvature=None)
    csr_hessp(data, indices, indptr, V, vb, curvature, sample_weight, *, link, row_weight)

(the portable ``_portable.*_xp`` variants take ``xp`` first and ``need_grad`` instead
of ``grad_out``). Each chooses its implementation (``dispatch``): the numba kernels
(``_numba_ce``, ``_numba_bce``, ...) or the portable NumPy path (``_portable``), which
defines the semantics every other path must reproduce; see ``_portable`` for the exact
formulas. The first call that takes the numba path imports numba and applies the thread
policy of ``threads``.

Both paths return per-row (per-element) float64 values; reductions across rows happen in
the caller, so results do not depend on the number of threads. Errors (NaN or +inf in
the logits, masked targets...) are the portable path's, found from the kernels' own row
statistics. When a call raises, ``grad_out`` may have been partly written (with
``grad_out`` the logits, they may have been partly overwritten).
"""

from __future__ import annotations

from .binary import bce_logits, logistic_loss_grad
from .dispatch import last_path, which_path
from .half import ce_labels_half, ce_probs_half
from .matvec import matvec, rmatvec
from .softmax import ce_labels, ce_probs
from .sparse import csr_hessp, csr_loss_grad

__all__ = [
    "ce_labels",
    "ce_probs",
    "ce_labels_half",
    "ce_probs_half",
    "bce_logits",
    "matvec",
    "rmatvec",
    "logistic_loss_grad",
    "csr_loss_grad",
    "csr_hessp",
    "last_path",
    "which_path",
]
