"""Command line: `agent compete`, `agent review`, and friends."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer

app = typer.Typer(
    help="An autonomous Kaggle competitor: profile a competition, search solutions under "
    "cross-validation, tune, ensemble and submit.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def download(
    slug: str = typer.Argument(..., help="the competition's slug, as in kaggle.com/competitions/<slug>"),
    force: bool = typer.Option(False, "--force", help="download again even if a copy is cached"),
) -> None:
    """Download and unzip a competition's data into data/competitions/<slug>/."""
    from rich.console import Console

    from agent.kaggle import download_competition

    with _user_errors():
        folder = download_competition(slug, force=force)
    Console().print(f"{slug}: data in [bold]{folder}[/bold]")


@app.command()
def submissions(slug: str = typer.Argument(..., help="the competition's slug")) -> None:
    """Show my submissions to a competition with their public and private scores."""
    from rich.console import Console
    from rich.table import Table

    from agent.kaggle import list_submissions

    with _user_errors():
        rows = list_submissions(slug)
    table = Table(title=f"My submissions to {slug}")
    for column in ("date", "description", "status", "public", "private"):
        table.add_column(column, justify="right" if column in ("public", "private") else "left")
    for row in rows:
        table.add_row(
            f"{row.date:%Y-%m-%d %H:%M}" if row.date else "",
            row.description,
            row.status if row.error is None else f"{row.status}: {row.error}",
            "" if row.public_score is None else f"{row.public_score:.6g}",
            "" if row.private_score is None else f"{row.private_score:.6g}",
        )
    Console().print(table if rows else f"no submissions to {slug} yet")


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Show a problem the user can fix as one line, `error: <where>: <problem>`, and exit with 2."""
    from pipelines.errors import InputError

    try:
        yield
    except InputError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
