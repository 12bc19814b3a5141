"""``python -m logloss.cli``: the same as the ``logloss`` command."""

from . import main

main()
