"""Mistakes in a command-line option that the library finds: :class:`OptionError`.

Some options can only be checked where they are used (the layer widths of
``--hidden`` when the estimator is built, ``--features`` once the model file is
read). The library raises :class:`OptionError` naming the option; the command line
reports it exactly as it reports a value its parser refused:
``Error: Invalid value for '--hidden': ...``.
"""

from __future__ import annotations

__all__ = ["OptionError", "parse_widths"]


class OptionError(ValueError):
    """A bad value of the command-line option `option` (a ``ValueError``).

    Examples
    --------
    >>> str(OptionError("--hidden", "widths must be positive integers; got '0'"))
    "invalid value for --hidden: widths must be positive integers; got '0'"
    """

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"invalid value for {option}: {message}")
        self.option = option
        self.message = message


def parse_widths(text: str | None, option: str = "--hidden") -> list[int] | None:
    """Layer widths from ``"64,32"`` (None stays None); anything else is an OptionError.

    Examples
    --------
    >>> parse_widths("64, 32"), parse_widths(None)
    ([64, 32], None)
    """
    if text is None:
        return None
    try:
        widths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise OptionError(
            option, f"must be comma-separated layer widths such as 64,32; got {text!r}"
        ) from None
    if not widths or min(widths) < 1:
        raise OptionError(option, f"widths must be positive integers; got {text!r}")
    return widths
