"""How the command line reports mistakes: one sentence on stderr and exit status 2.

Library functions signal bad input with ``ValueError`` or ``TypeError`` whose
message names the argument and what arrived, and the file system signals with
``OSError`` (``FileNotFoundError``, ``PermissionError``, ...). :class:`LoglossGroup`,
the class of the ``logloss`` typer app, catches these around every command, so a
command only calls library functions and lets them raise:

    $ logloss plot loss-curve -o missing/dir/loss.png
    Error: the directory 'missing/dir' of `path` does not exist.

Command-line usage errors (an unknown option, a value of the wrong type, a
number out of range) are shortened to the same one-line form, and so is an
:class:`~logloss.tables.OptionError`, a bad option value the library found. With
the global ``--verbose`` option the traceback is printed first, for bug reports. Any other
exception is a bug in logloss and keeps Python's full traceback (exit status 1).
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from ..tables.options import OptionError

try:  # typer >= 0.20 ships its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer depends on click
    from click.exceptions import UsageError

__all__ = ["EXIT_USER_ERROR", "USER_ERRORS", "LoglossGroup", "describe", "fail", "options"]

EXIT_USER_ERROR = 2
# What library code raises for bad input; anything else is a bug and keeps its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, OSError)


class _Options:
    """Global options, set by the app's callback before any command runs."""

    verbose: bool = False


options = _Options()


def describe(exc: BaseException) -> str:
    """`exc` as one line ending in a full stop, e.g. "Permission denied: 'out.png'."."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        text = f"{exc.strerror}: {os.fsdecode(exc.filename)!r}"
    else:
        text = str(exc) or type(exc).__name__
    text = " ".join(text.split())  # multi-line messages become one line
    return text if text.endswith((".", "!", "?")) else text + "."


def fail(message: str, exc: BaseException | None = None) -> NoReturn:
    """Print ``Error: message`` on stderr (after `exc`'s traceback when verbose) and exit 2."""
    if exc is not None and options.verbose:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(EXIT_USER_ERROR)


def _usage_error(exc: UsageError) -> NoReturn:
    _usage_message(exc.format_message(), exc.ctx.command_path if exc.ctx is not None else None)


def _usage_message(text: str, command_path: str | None) -> NoReturn:
    hint = f" See '{command_path} --help'." if command_path is not None else ""
    message = " ".join(text.split())
    fail((message if message.endswith((".", "!", "?")) else message + ".") + hint)


def _option_error(exc: OptionError, ctx: Any) -> NoReturn:
    """Said as the parser says a refused value, with the help of the command that ran."""
    command = ctx.invoked_subcommand
    path = f"{ctx.command_path} {command}" if command else ctx.command_path
    _usage_message(f"Invalid value for '{exc.option}': {exc.message}", path)


def _is_help_request(exc: UsageError) -> bool:
    # `no_args_is_help` is signalled by a UsageError subclass that prints the help text.
    return type(exc).__name__ == "NoArgsIsHelpError"


class LoglossGroup(TyperGroup):
    """A typer group that turns bad input into one line on stderr and exit status 2."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except UsageError as exc:
            if _is_help_request(exc):
                raise
            _usage_error(exc)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            if _is_help_request(exc):
                raise
            _usage_error(exc)
        except OptionError as exc:
            _option_error(exc, ctx)
        except USER_ERRORS as exc:
            fail(describe(exc), exc)
