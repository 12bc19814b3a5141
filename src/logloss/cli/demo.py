"""``logloss demo``: the guided tour of :func:`logloss.demo.run_demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder for the figures and summary; created if missing.",
            file_okay=False,
        ),
    ] = Path("logloss-demo"),
    seed: Annotated[int, typer.Option(help="Seed of the train/held-out split.", min=0)] = 0,
    iterations: Annotated[
        int, typer.Option(help="Number of gradient-descent steps.", min=1)
    ] = 2000,
) -> None:
    """Walk through cross-entropy on the bundled breast-cancer data.

    Draws the loss of one example, trains a logistic regression by gradient
    descent, checks that the mean cross-entropy is the negative log-likelihood
    divided by n, and writes figures and a summary to --out.
    """
    from rich.console import Console

    from ..tutorial.demo import run_demo

    run_demo(out, console=Console(), seed=seed, n_iter=iterations)
