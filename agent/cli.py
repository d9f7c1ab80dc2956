"""Command line: `agent compete`, `agent review`, and friends."""

from __future__ import annotations

import functools
import inspect
import logging
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

from agent import __version__
from pipelines.errors import InputError

app = typer.Typer(
    help="An autonomous Kaggle competitor: profile a competition, search solutions under "
    "cross-validation, tune, ensemble and submit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Output sent to a file or a pipe (a bench's log) is laid out 160 columns wide, not squeezed into 80.
console = Console() if sys.stdout.isatty() else Console(width=160)
err_console = Console(stderr=True)


VERBOSE = typer.Option(False, "--verbose", "-v", help="Log every decision to the terminal.")


def _log_to_terminal(verbose: bool) -> None:
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "agent_terminal", False)]:
        root.removeHandler(old)  # one terminal handler, however many commands run in this process
    handler = logging.StreamHandler(sys.stderr)
    handler.agent_terminal = True
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)


def one_line_errors(command):
    """Bad input ends as `error: <where>: <problem>` and exit code 2, never a traceback.

    Every command also takes -v/--verbose, so it may follow the subcommand as well as precede it.
    """

    @functools.wraps(command)
    def wrapper(*args, verbose: bool = False, **kwargs):
        if verbose:
            _log_to_terminal(True)
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            err_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err_console.print("interrupted: everything finished so far is saved; continue with --resume")
            raise typer.Exit(130) from None

    signature = inspect.signature(command)
    verbose = inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, default=VERBOSE, annotation=bool)
    wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), verbose])
    return wrapper


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"kagglewright {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: bool = VERBOSE,
    version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    _log_to_terminal(verbose)


def _default(setting: str) -> str:
    from agent.config import Settings

    return str(Settings.model_fields[setting].default)


@app.command()
@one_line_errors
def compete(
    source: str = typer.Argument(..., help="A competition folder (MLE-bench prepared layout, <dir>/public, or a plain "
                                 "Kaggle download), or a Kaggle slug to download."),
    time_budget: Optional[float] = typer.Option(None, help="Seconds for the whole run.",
                                                show_default=_default("time_budget")),
    submit: Optional[bool] = typer.Option(None, "--submit/--no-submit", help="Upload the best submission to Kaggle at "
                                          "the end (default: yes for a Kaggle slug, no for a local folder)."),
    force: bool = typer.Option(False, "--force", help="Download the competition again even if cached."),
    run_dir: Optional[Path] = typer.Option(None, help="Run folder (default data/runs/<slug>/<run-id>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the latest run of this competition (or --run-dir)."),
    metric: Optional[str] = typer.Option(None, help="Override the metric (e.g. auc, rmse, logloss_multiclass)."),
    direction: Optional[str] = typer.Option(None, help="maximize or minimize (default: the metric's)."),
    target: Optional[str] = typer.Option(None, help="Target column(s), comma-separated."),
    id_column: Optional[str] = typer.Option(None, help="Id column (default: sample submission's first)."),
    task: Optional[str] = typer.Option(None, help="binary, multiclass, multilabel or regression."),
    group_column: Optional[str] = typer.Option(None, help="Keep rows of a group in one fold."),
    time_column: Optional[str] = typer.Option(None, help="Validate on later rows only (time-ordered folds)."),
    folds: Optional[int] = typer.Option(None, help="Cross-validation folds.", show_default="5; 3 above 50,000 rows"),
    max_train_rows: Optional[int] = typer.Option(None, help="Train on a uniform sample of at most this many rows "
                                                 "(0: all).", show_default="what the budget allows"),
    seed: Optional[int] = typer.Option(None, help="Random seed.", show_default=_default("seed")),
    refit: Optional[bool] = typer.Option(None, "--refit/--fold-average", help="Test predictions from one model "
                                         "refitted on all training rows, or the fold models' average.",
                                         show_default="fold-average"),
    node_timeout: Optional[float] = typer.Option(None, help="Seconds one candidate may run.",
                                                 show_default=_default("node_timeout")),
    memory_mb: Optional[int] = typer.Option(None, help="Memory one candidate may use (MB).",
                                            show_default="70% of this machine's memory"),
    max_nodes: Optional[int] = typer.Option(None, help="Stop after this many candidates.",
                                            show_default="as many as the budget allows"),
    llm: Optional[str] = typer.Option(None, help="Let an LLM write solutions: provider:model for langchain, e.g. "
                                      "openai:gpt-5-mini, anthropic:claude-sonnet-4-6, ollama:qwen2.5-coder:32b."),
    llm_base_url: Optional[str] = typer.Option(None, help="Base URL of an OpenAI-compatible server or Ollama."),
    max_cost: Optional[float] = typer.Option(None, help="USD the LLM may spend; then built-in steps only."),
    max_llm_calls: Optional[int] = typer.Option(None, help="LLM calls allowed; then built-in steps only."),
    description: Optional[Path] = typer.Option(None, help="The competition's description and goal for the engineer "
                                               "(Markdown or text).", show_default="the folder's description.md"),
    config: Optional[Path] = typer.Option(None, help="Settings file (TOML).", show_default="./agent.toml if present"),
) -> None:
    """Search for the best solution of a competition within a time budget and write its submission.

    The last line printed is the path of the best submission.
    """
    from agent.checks import check_flags
    from agent.compete import leave_sample, settings_from_flags
    from agent.compete import compete as run_compete
    from agent.run_folder import session_started_at

    started = session_started_at()
    chosen = {"time_budget": time_budget, "folds": folds, "max_train_rows": max_train_rows, "seed": seed,
              "refit": refit, "node_timeout": node_timeout, "memory_mb": memory_mb, "max_nodes": max_nodes, "llm": llm,
              "llm_base_url": llm_base_url, "llm_max_cost": max_cost, "llm_max_calls": max_llm_calls}
    if description is not None and not description.is_file():
        raise InputError("no such description file", description)
    flags: dict[str, Any] = {"metric": metric, "direction": direction, "target_columns": target,
                             "id_column": id_column, "task": task, "group_column": group_column,
                             "time_column": time_column}
    try:
        settings = settings_from_flags({k: v for k, v in chosen.items() if v is not None}, config)
        check_flags(flags)
    except InputError:
        leave_sample(source, run_dir, console)  # a refused run still leaves a file to grade
        raise
    outcome = run_compete(source, settings, flags={k: v for k, v in flags.items() if v is not None},
                          run_dir=run_dir, resume=resume, submit=submit, force=force, console=console,
                          started_at=started, description=description)
    if outcome.best is None:
        err_console.print("[red]error:[/] no candidate produced a valid submission; see `agent review "
                          f"{outcome.run.path}`")
        if outcome.run.submission_path.exists():  # the prior the run wrote first: still worth grading
            err_console.print("the submission holds the run's prior: a constant prediction, or the sample's "
                              "answers where the metric cannot read a constant")
            console.print(str(outcome.run.submission_path), highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"best: node {outcome.best.id} {outcome.best.title} {outcome.best.score:.5f}")
    console.print(str(outcome.run.submission_path), highlight=False, soft_wrap=True)


@app.command("submit")
@one_line_errors
def submit_run(run: Path = typer.Argument(..., help="A run folder whose best submission to upload.")) -> None:
    """Upload a finished run's best submission to Kaggle and record its public score."""
    from agent.compete import submit_best
    from agent.config import Settings
    from agent.run_folder import RunFolder

    submit_best(RunFolder(run), console, Settings.load().kaggle_poll_seconds)


RUN = typer.Argument(..., help="A run folder (data/runs/<slug>/<run-id>), `latest`, or <slug>/latest.")


@app.command()
@one_line_errors
def review(
    run: str = RUN,
    node: Optional[str] = typer.Option(None, "--node", "-n", help="Show this node's plan, facts and code."),
    diff: bool = typer.Option(False, "--diff", help="With --node: show the diff against its parent (an "
                              "ensemble's: against the previous ensemble) instead of the code."),
    as_json: bool = typer.Option(False, "--json", help="Print the run and its nodes as JSON, for scripts."),
) -> None:
    """Show a run's nodes as a tree with scores and gains (± paired standard error over folds),
    or one node's code and its diff."""
    import json

    from agent.config import Settings
    from agent.review import open_run, run_as_dict, show_node, show_tree
    from agent.run_folder import resolve_run

    folder, journal, spec = open_run(resolve_run(run, Settings.load().runs_root))
    if as_json:
        typer.echo(json.dumps(run_as_dict(folder, journal, spec), default=str))
    elif node:
        show_node(console, folder, journal, spec, node.zfill(4), diff)
    else:
        show_tree(console, folder, journal, spec)


@app.command()
@one_line_errors
def runs(slug: Optional[str] = typer.Argument(None, help="Only this competition's runs.")) -> None:
    """List the runs under the runs folder: id, date, budget, best score and status, newest last."""
    from rich.table import Table

    from agent.config import Settings
    from agent.review import run_facts
    from agent.run_folder import list_runs

    root = Settings.load().runs_root
    found = list_runs(root, slug)
    if not found:
        console.print(f"no runs under {root / slug if slug else root}", highlight=False)
        return
    table = Table()
    for column in ("competition", "run", "started", "budget", "best score", "nodes", "status"):
        table.add_column(column, justify="right" if column in ("budget", "best score", "nodes") else "left")
    for folder in found:
        facts = run_facts(folder)
        table.add_row(folder.path.parent.name, folder.path.name, facts["started"], facts["budget"],
                      facts["best_score"], facts["nodes"], facts["status"])
    console.print(table)


@app.command()
@one_line_errors
def report(run: str = RUN) -> None:
    """Write <run>/report.html: plots of the search, the node tree, and each node's plan, code and diff."""
    from agent.config import Settings
    from agent.report import write_report
    from agent.run_folder import resolve_run

    console.print(str(write_report(resolve_run(run, Settings.load().runs_root))), highlight=False, soft_wrap=True)


@app.command()
@one_line_errors
def download(
    slug: str = typer.Argument(..., help="The competition's slug, as in kaggle.com/competitions/<slug>."),
    force: bool = typer.Option(False, "--force", help="Download again even if a copy is cached."),
) -> None:
    """Download and unzip a competition's data into data/competitions/<slug>/."""
    from agent.kaggle import download_competition

    folder = download_competition(slug, force=force)
    console.print(f"{slug}: data in [bold]{folder}[/bold]")


@app.command()
@one_line_errors
def submissions(slug: str = typer.Argument(..., help="The competition's slug.")) -> None:
    """Show my submissions to a competition with their public and private scores."""
    from rich.table import Table

    from agent.kaggle import list_submissions

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
    console.print(table if rows else f"no submissions to {slug} yet")



@app.command()
@one_line_errors
def grade(
    competition_dir: Path = typer.Argument(..., help="Competition folder with private answers (<dir>/private or "
                                           "<dir>/prepared/private)."),
    submission: Path = typer.Argument(..., help="The submission CSV to grade."),
    leaderboard: Optional[Path] = typer.Option(None, help="leaderboard.csv to take medal cut-offs from."),
) -> None:
    """Grade a submission against a competition's private answers, as MLE-bench does; prints one JSON line
    with MLE-bench's report keys. An invalid submission exits with code 1, its reasons on stderr."""
    import json

    from agent.grading import grade_submission

    report = grade_submission(competition_dir, submission, leaderboard=leaderboard)
    typer.echo(json.dumps(report.to_dict()))
    if not report.valid:
        err_console.print(f"[red]invalid submission:[/] {escape('; '.join(report.errors))}", highlight=False,
                          soft_wrap=True)
        raise typer.Exit(1)


@app.command()
@one_line_errors
def bench(
    data_dir: Path = typer.Option(..., help="Folder of prepared competitions: <id>/prepared/{public,private} "
                                  "(as `mlebench prepare` builds them) or <id>/{public,private}."),
    suite: Optional[str] = typer.Option(None, help="lite, medium, high, dev, all, systemcard or practice."),
    competitions: Optional[str] = typer.Option(None, help="Competition ids, comma-separated (with or instead of "
                                               "--suite)."),
    time_budget: float = typer.Option(3600.0, help="Seconds for each run."),
    seeds: int = typer.Option(1, help="Runs per competition, with seeds 0..N-1."),
    workers: int = typer.Option(1, help="Runs at once."),
    out: Optional[Path] = typer.Option(None, help="Bench folder (default runs/bench-<suite>)."),
    cpus_per_task: Optional[int] = typer.Option(None, help="Cores for each run (default: cores / workers)."),
    gpus_per_task: float = typer.Option(0.0, help="GPUs for each run (fractions on Ray only)."),
    ray_address: Optional[str] = typer.Option(None, help="Run the tasks on this Ray cluster ('auto': the running "
                                              "one); needs the `ray` extra."),
    leaderboards: Optional[Path] = typer.Option(None, help="Folder with <id>/leaderboard.csv (an MLE-bench "
                                                "checkout's mlebench/competitions) for medal cut-offs."),
    compete_args: Optional[str] = typer.Option(None, help="Extra flags for every `agent compete` run, e.g. "
                                               "'--folds 3'."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Run failed tasks again (resuming them)."),
) -> None:
    """Benchmark on MLE-bench competitions: every (competition, seed) is an `agent compete` run,
    graded with medals as MLE-bench does. Run the same command again to resume."""
    import shlex

    from agent.bench import BenchOptions, competition_ids, locate_competitions, run_bench
    from agent.bench.report import print_table

    found = locate_competitions(data_dir, competition_ids(suite, competitions))
    options = BenchOptions(out=out or Path("runs") / f"bench-{suite or 'custom'}", data_dir=data_dir,
                           time_budget=time_budget, seeds=seeds, workers=workers, cpus_per_task=cpus_per_task,
                           gpus_per_task=gpus_per_task, ray_address=ray_address, leaderboards=leaderboards,
                           compete_args=tuple(shlex.split(compete_args or "")), retry_failed=retry_failed)
    try:
        records = run_bench(found, options, console)
    except KeyboardInterrupt:
        err_console.print("interrupted: finished tasks are recorded; run the same command again to finish the rest")
        raise typer.Exit(130) from None
    if records:
        print_table(console, records)
    console.print(f"summary: {options.out / 'summary.md'}", highlight=False, soft_wrap=True)


@app.command("bench-report")
@one_line_errors
def bench_report(
    out: Path = typer.Argument(..., help="A bench folder, as written by `agent bench --out`."),
) -> None:
    """Rebuild a bench's results.csv, summary.md, submissions.jsonl and plots, and show its table."""
    from agent.bench import write_report
    from agent.bench.report import print_table

    records = write_report(out)
    if records:
        print_table(console, records)
    console.print(f"summary: {out / 'summary.md'}; plots in {out / 'plots'}", highlight=False, soft_wrap=True)


if __name__ == "__main__":
    app()
