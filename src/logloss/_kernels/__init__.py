"""Fused loss + gradient kernels behind one dispatching interface.

Callers (``logloss.losses``, ``logloss.linear``, the model objectives) pass
canonical, validated arrays in the compute dtype: 2-D logits ``(N, C)`` with the
class axis last. The functions here choose the implementation; the portable NumPy
path (``_portable``) defines the semantics every other path must reproduce.
See ``_portable`` for the exact formulas of each function.
"""

from __future__ import annotations

from ._portable import bce_logits as _bce_logits_portable
from ._portable import ce_labels as _ce_labels_portable
from ._portable import ce_probs as _ce_probs_portable

ce_labels = _ce_labels_portable
ce_probs = _ce_probs_portable
bce_logits = _bce_logits_portable

__all__ = ["ce_labels", "ce_probs", "bce_logits"]
