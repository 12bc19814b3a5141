"""``python -m logloss.cli``: the same as the ``logloss`` command."""

from .app import main

main()
