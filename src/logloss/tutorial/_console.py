"""What the demo prints besides its tables: the numbered heading of each step."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.console import Console

__all__ = ["heading"]


def heading(con: Console, number: int, text: str) -> None:
    """A blank line, then ``number. text`` in bold: the start of one step of the demo."""
    con.print()
    con.print(f"[bold cyan]{number}.[/bold cyan] [bold]{text}[/bold]")
