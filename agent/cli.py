"""Command line: `agent compete`, `agent review`, and friends."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pipelines.errors import InputError

app = typer.Typer(
    help="An autonomous Kaggle competitor: profile a competition, search solutions under "
    "cross-validation, tune, ensemble and submit.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """Makes commands always named (`agent grade ...`), however many are registered."""


@app.command()
def grade(
    competition_dir: Path,
    submission: Path,
    leaderboard: Path | None = typer.Option(None, help="leaderboard.csv to take medal cut-offs from"),
) -> None:
    """Grade a submission against a competition's private answers; prints one JSON line."""
    from agent.grading import grade_submission

    try:
        report = grade_submission(competition_dir, submission, leaderboard=leaderboard)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(report.to_dict()))
