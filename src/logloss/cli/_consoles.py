"""The two consoles of a command: results on standard output, the rest on standard error."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.console import Console

__all__ = ["err_console", "out_console"]


def out_console() -> Console:
    """The console for results (standard output)."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=_soft_wrap())


def err_console() -> Console:
    """The console for notes, warnings and progress (standard error)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=_soft_wrap())


def _soft_wrap() -> bool:
    # Piped output keeps each sentence on one line, so it greps and diffs well.
    return not sys.stdout.isatty()
