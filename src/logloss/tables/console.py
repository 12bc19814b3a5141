"""How the table workflows talk to the user: warnings as lines, names of files, sizes.

The workflows (:func:`~logloss.tables.fit_run.run_fit`,
:func:`~logloss.tables.prediction.predict_file`) print results to one console and
notes, warnings and progress to another; a console is a ``rich.console.Console``
(the command line passes one for standard output and one for standard error).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.console import Console

__all__ = ["display_name", "human_bytes", "warnings_as_lines"]


@contextlib.contextmanager
def warnings_as_lines(console: Console) -> Iterator[None]:
    """Show each warning raised inside as one ``Warning: ...`` line on `console`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen = set()
            for w in caught:
                text = " ".join(str(w.message).split())
                if text in seen:
                    continue
                seen.add(text)
                console.print(f"[yellow]Warning:[/yellow] {text}", highlight=False)


def display_name(path: str | os.PathLike) -> str:
    """How a data path is named in messages: 'standard input' for ``-``.

    Examples
    --------
    >>> display_name("-"), display_name("data.csv")
    ('standard input', "'data.csv'")
    """
    return "standard input" if os.fspath(path) == "-" else repr(os.fspath(path))


def human_bytes(n: float) -> str:
    """A size for people: ``human_bytes(2_500_000)`` is ``'2.5 MB'``.

    Examples
    --------
    >>> human_bytes(512), human_bytes(2_500_000)
    ('512 B', '2.5 MB')
    """
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover
