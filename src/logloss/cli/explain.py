"""``logloss explain``: five questions about cross-entropy, answered with computed numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def explain(
    question: Annotated[
        int | None,
        typer.Argument(
            min=1,
            max=5,
            metavar="[1-5]",
            help="Which question (default: all five): 1 what the loss is for, "
            "2 which problems it suits, 3 how it compares with mean squared "
            "error, 4 its relation to the log-likelihood, 5 how overfitting is "
            "kept in check.",
            show_default=False,
        ),
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option(
            "--save",
            help="Folder for the figures (created if missing).",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="Figure format: png or svg.")] = "png",
) -> None:
    """Answer the questions a learner of cross-entropy should be able to answer.

    Every number in the answers is computed now, by logloss, and each answer
    has a figure (written with --save).
    """
    from rich.console import Console
    from rich.padding import Padding
    from rich.table import Table

    from .. import plot
    from ..tutorial import explain as lib

    if fmt not in ("png", "svg"):
        raise typer.BadParameter(f"must be png or svg; got {fmt!r}", param_hint="'--format'")
    if save is not None:
        if save.exists() and not save.is_dir():
            raise NotADirectoryError(f"--save folder {str(save)!r} exists and is not a directory")
        save.mkdir(parents=True, exist_ok=True)
    console = Console(highlight=False)
    numbers = [question] if question is not None else sorted(lib.QUESTIONS)
    for i, number in enumerate(numbers):
        answer = lib.answer(number)
        if i:
            console.print()
        console.rule(f"[bold]{number}. {answer.question}[/bold]", align="left")
        console.print(Padding(answer.text, (1, 0, 1, 0)))
        table = Table(show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold")
        table.add_column(justify="right")
        for label, value in answer.table:
            table.add_row(label, value)
        console.print(table)
        if save is not None:
            path = plot.save_figure(answer.figure, save / f"{answer.slug}.{fmt}")
            console.print(f"Figure: {path}")
    if save is None:
        console.print()
        console.print("[dim]Each answer has a figure; write them with --save DIR.[/dim]")
