"""The ``logloss`` command line: a thin typer layer over library functions.

Each command lives in its own module and imports what it needs (NumPy
routines, Matplotlib, scikit-learn, rich) inside its body, so ``logloss --help``
starts fast. Errors are reported by :mod:`logloss.cli._errors`: one sentence on
stderr and exit status 2 for bad input, the traceback too with ``--verbose``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .._version import __version__
from . import demo as _demo
from . import explain as _explain
from . import fit as _fit
from . import plot as _plot
from . import predict as _predict
from . import score as _score
from ._errors import LoglossGroup, options

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


app.command("fit")(_fit.fit)
app.command("predict")(_predict.predict)
app.command("score")(_score.score)
app.add_typer(_plot.app, name="plot")
app.command("explain")(_explain.explain)
app.command("demo")(_demo.demo)


def main() -> None:
    """Entry point of the ``logloss`` console script."""
    app(prog_name="logloss")
