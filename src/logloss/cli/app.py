"""The ``logloss`` typer app: the global options and the list of commands.

Each command lives in its own module; this one only registers them, so no
command module imports the package that imports it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .._version import __version__
from ._errors import LoglossGroup, options
from .coef import coef
from .demo import demo
from .explain import explain
from .fit import fit
from .plot import app as plot_app
from .predict import predict
from .score import score
from .warmup import warmup

__all__ = ["app", "main"]

app = typer.Typer(
    name="logloss",
    cls=LoglossGroup,
    help="Cross-entropy (log) loss: compute it, train on it, and see what it does.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # a bug shows Python's plain traceback
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"logloss {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Show the full traceback of an error (for bug reports)."
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """Cross-entropy (log) loss: compute it, train on it, and see what it does."""
    options.verbose = verbose


app.command("fit")(fit)
app.command("predict")(predict)
app.command("score")(score)
app.command("coef")(coef)
app.add_typer(plot_app, name="plot")
app.command("explain")(explain)
app.command("demo")(demo)
app.command("warmup")(warmup)


def main() -> None:
    """Entry point of the ``logloss`` console script."""
    app(prog_name="logloss")
