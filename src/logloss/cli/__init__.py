"""The ``logloss`` command line: a thin typer layer over library functions.

Each command lives in its own module: typed options, then one call into the
library (:mod:`logloss.tables` for the table workflows, :mod:`logloss.plot` for
figures), with what it needs imported inside its body, so ``logloss --help``
starts fast. The app that lists them is :mod:`logloss.cli.app`. Errors are
reported by :mod:`logloss.cli._errors`: one sentence on stderr and exit status 2
for bad input, the traceback too with ``--verbose``.
"""

from __future__ import annotations

from .app import app, main

__all__ = ["app", "main"]
