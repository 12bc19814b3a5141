"""Figures that explain cross-entropy, drawn from values logloss computes.

Every function draws on a Matplotlib ``Axes`` (a new ``Figure`` when none is
given) and returns the ``Figure``. New figures are built with
``matplotlib.figure.Figure`` directly, not through ``pyplot``: nothing here
opens a window, touches pyplot's global figure list, or needs a display, so
the module works the same in a script, a notebook, a test and a server.
:func:`save_figure` writes PNG or SVG.

Matplotlib is imported inside the functions, so ``import logloss`` stays light.

The modules: :mod:`~logloss.plot.curves` (:func:`loss_curve`,
:func:`cost_history`, :func:`history`), :mod:`~logloss.plot.reliability`
(:func:`calibration`), :mod:`~logloss.plot.decision` (:func:`decision_boundary`,
:func:`confusion_matrix`) and :mod:`~logloss.plot._style` (the palette, the
shared look, :func:`save_figure`).
"""

from __future__ import annotations

# The palette stays reachable as logloss.plot.BLUE etc. (explicit re-exports).
from ._style import BLUE as BLUE
from ._style import CLASS_COLOURS as CLASS_COLOURS
from ._style import CLASS_MARKERS as CLASS_MARKERS
from ._style import GREEN as GREEN
from ._style import GREY as GREY
from ._style import ORANGE as ORANGE
from ._style import PURPLE as PURPLE
from ._style import SKY_BLUE as SKY_BLUE
from ._style import VERMILLION as VERMILLION
from ._style import YELLOW as YELLOW
from ._style import save_figure
from .curves import cost_history, history, loss_curve
from .decision import confusion_matrix, decision_boundary
from .reliability import calibration

__all__ = [
    "loss_curve",
    "cost_history",
    "history",
    "calibration",
    "decision_boundary",
    "confusion_matrix",
    "save_figure",
]
