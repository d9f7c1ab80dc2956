"""Run every built-in recipe the agent would draft on every practice competition, and say which fail.

Usage:
    python benchmarks/recipe_sweep.py [--only ID ...] [--recipes NAME ...] [--limit SECONDS]
                                      [--competitions DIR] [--mlebench DIR] [--runs-dir DIR] [--out FILE]

Why: a full run drafts the recipes in order and stops when its budget is spent, so a recipe late in
the order (or one a competition's data breaks) can fail unseen for a long time; here each gets its
turn. Each competition is prepared once as `agent compete` prepares it (`start_run`, at a 600 s
budget, so rows are sampled as such a run samples them); then each recipe `applicable_recipes`
gives it is drafted by the built-in engineer and run as one node by the search's own `execute`:
the real sandbox, `job.json`, harness and checks, under the limit a 600 s run gives its first draft
(`StepTimes.node_limit`, half the budget) unless `--limit` says otherwise.

Columns: status (ok; error with the node's error, the exception's last line; timeout), seconds
(wall seconds of the node), cv (its cross-validated score), peak MB (resident memory of the node's
process tree). Exit status 1 when some recipe ended with an error, 2 when no competition is found.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from agent.compete import read_brief, slug_of, start_run
from agent.config import Settings
from agent.display import Display
from agent.engineers.base import Ask
from agent.engineers.builtin import BuiltinEngineer
from agent.journal import Journal, Node
from agent.run_folder import RunFolder
from agent.search import Search
from agent.timing import Budget, StepTimes
from run_practice import ROOT, SHARED, competitions_in

BUDGET = 600.0  # the run whose drafts are swept: `agent compete --time-budget 600`
TIMED_OUT = "timed out"  # how the search words a node killed at its limit


@dataclass
class Row:
    competition: str
    recipe: str
    status: str
    seconds: float | None = None
    cv: float | None = None
    peak_mb: float | None = None


def row_of(competition: str, node: Node) -> Row:
    if node.ok:
        status = "ok"
    elif (node.error or "").startswith(TIMED_OUT):
        status = f"timeout ({node.error})"
    else:
        status = f"error: {(node.error or '?').strip().splitlines()[-1][:160]}"
    return Row(competition, node.recipe, status, node.seconds, node.score, node.peak_memory_mb)


def sweep(competition: str, public: Path, run_dir: Path, recipes: list[str] | None, limit: float | None) -> list[Row]:
    """Prepare one run of the competition, then run each recipe the built-in engineer drafts as a node of it."""
    settings = Settings(time_budget=BUDGET, runs_root=run_dir.parent, competitions_root=ROOT / "data" / "competitions")
    run, quiet = RunFolder(run_dir), Console(quiet=True)
    try:
        data = start_run(public, run, settings, {}, [], quiet)
    except Exception as exc:  # a competition the agent cannot prepare is a finding, not the end of the sweep
        return [Row(competition, "(prepare)", f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")]
    run.mark_prepared()
    brief = read_brief(run, data)
    # The search's clock never cuts a node short here: each runs under `limit`.
    search = Search(run, data, brief, BuiltinEngineer(), settings, Budget(math.inf),
                    Display(quiet, slug_of(public), BUDGET))
    limit = limit or StepTimes(settings, Budget(BUDGET)).node_limit(search.journal)
    # Every draft the engineer proposes, in its order, is noted here, so that the next ask gives the next recipe.
    drafted = Journal(run.path / "sweep-drafted.jsonl")
    rows = []
    while (proposal := search.engineer.propose(Ask("draft"), brief, drafted, run)) is not None:
        drafted.record(Node(id=drafted.new_id(), step="draft", recipe=proposal.recipe, status="failed"))
        if recipes and proposal.recipe not in recipes:
            continue
        node = search.execute(proposal, "draft", [], timeout=limit)
        rows.append(row_of(competition, node))
        print(f"{competition} {rows[-1].recipe}: {rows[-1].status} in {node.seconds or 0:.1f}s "
              f"(limit {limit:.0f}s), cv {node.score}", flush=True)
    return rows


def markdown(rows: list[Row]) -> str:
    fmt = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731
    lines = ["| competition | recipe | status | seconds | cv | peak MB |", "| --- | --- | --- | ---: | ---: | ---: |"]
    lines += [f"| {r.competition} | {r.recipe} | {r.status.replace('|', '/')} | {fmt(r.seconds, '.1f')} | "
              f"{fmt(r.cv, '.5f')} | {fmt(r.peak_mb, '.0f')} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="competition id(s) to sweep (default: all)")
    parser.add_argument("--recipes", action="append", help="recipe name(s) to run (default: all the agent drafts)")
    parser.add_argument("--limit", type=float, help="seconds a node may run (default: a 600 s run's first draft's)")
    parser.add_argument("--competitions", type=Path, default=SHARED / "competitions")
    parser.add_argument("--mlebench", type=Path, default=SHARED / "mlebench-practice")
    parser.add_argument("--runs-dir", type=Path, default=Path("/tmp/recipe-sweep"))
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    for folder in (args.competitions, args.mlebench):
        if not folder.is_dir():
            print(f"note: {folder} is not a folder; no competitions from it", file=sys.stderr)
    competitions = [c for f in (args.competitions, args.mlebench) if f.is_dir() for c in competitions_in(f)
                    if not args.only or c[0] in args.only]
    if not competitions:
        print("no practice competitions found (see --competitions, --mlebench, --only)", file=sys.stderr)
        return 2
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rows = [row for competition, folder in competitions
            for row in sweep(competition, folder / "public", args.runs_dir / stamp / competition, args.recipes,
                             args.limit)]
    table = markdown(rows)
    print(table)
    if args.out:
        args.out.write_text(table + "\n")
    return 1 if any(r.status.startswith("error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
