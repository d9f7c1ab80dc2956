"""Command line: `agent compete`, `agent review`, and friends."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="An autonomous Kaggle competitor: profile a competition, search solutions under "
    "cross-validation, tune, ensemble and submit.",
    no_args_is_help=True,
    add_completion=False,
)
