"""Run `agent compete` on practice competitions and grade each run as MLE-bench does: score, percentile
and medal against the leaderboard, nodes, the time split by step kind, first submission, memory.

Usage:
    python benchmarks/run_practice.py [FOLDER ...] [--budget 600] [--seed 0 --seed 1] [--only ID ...]
                                      [--runs-dir DIR] [--markdown FILE]

A FOLDER holds competitions in either layout: `<id>/public` + `<id>/private` (../shared/competitions)
or `<id>/prepared/public` + `<id>/prepared/private` with `<id>/leaderboard.csv` (MLE-bench's, as in
../shared/mlebench-practice). Default: both of those. Runs go one at a time, each in a child process
exactly as a user runs it (`agent compete <dir> --time-budget B --seed S --no-submit`), so the
numbers include start-up; each is graded by `agent.grading` (the rules of MLE-bench's graders).

Columns: score and its percentile (share of the leaderboard beaten) and medal; cv (the agent's own
estimate); nodes; seconds by step kind (draft, improve, debug, tune, ensemble: the wall seconds of
the nodes of that kind); first (seconds from launch to the first valid submission); total (wall
seconds of the command); peak MB (largest resident memory of the command and its children).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from agent.grading import grade_submission
from agent.sandbox import tree_rss_mb

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DEFAULT_FOLDERS = [SHARED / "competitions", SHARED / "mlebench-practice"]
STEPS = ("draft", "improve", "debug", "tune", "ensemble")


@dataclass
class Outcome:
    competition: str
    budget: float
    seed: int
    score: float | None
    percentile: float | None
    medal: str | None
    cv: float | None
    nodes: int
    seconds_by_step: dict[str, float] = field(default_factory=dict)
    first_seconds: float | None = None
    total_seconds: float = 0.0
    peak_mb: float = 0.0
    best: str = "-"
    command: str = ""


def competitions_in(folder: Path) -> list[tuple[str, Path]]:
    """(id, the folder `agent compete` and the grader read) of every competition in `folder`."""
    found = []
    for child in sorted(p for p in folder.iterdir() if p.is_dir()):
        if (child / "public").is_dir():
            found.append((child.name, child))
        elif (child / "prepared" / "public").is_dir():
            found.append((child.name, child / "prepared"))
    return found


def nodes_of(run: Path) -> list[dict]:
    """The journal's last snapshot of each node."""
    nodes: dict[str, dict] = {}
    journal = run / "journal.jsonl"
    for line in journal.read_text().splitlines() if journal.exists() else []:
        try:
            node = json.loads(line)
        except json.JSONDecodeError:
            continue
        nodes[node["id"]] = node
    return list(nodes.values())


def run_one(competition: str, folder: Path, budget: float, seed: int, run_dir: Path,
            extra: tuple[str, ...] = ()) -> Outcome:
    """One graded run; `extra` adds arguments to `agent compete` (an LLM to use)."""
    public = folder / "public" if (folder / "public").is_dir() else folder
    command = [sys.executable, "-m", "agent.cli", "compete", str(public), "--time-budget", str(budget),
               "--seed", str(seed), "--no-submit", "--run-dir", str(run_dir), *extra]
    launched, start, peak = time.time(), time.monotonic(), 0.0
    with open(run_dir.with_suffix(".out"), "w") as out:
        # PYTHONPATH: the agent and every candidate process it starts import this checkout's code.
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            peak = max(peak, tree_rss_mb(watched))
            time.sleep(0.2)
    total = time.monotonic() - start
    report = grade_submission(folder.parent if folder.name == "prepared" else folder, run_dir / "submission.csv")
    summary = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").exists() else {}
    best = summary.get("best") or {}
    nodes = nodes_of(run_dir)
    by_step: dict[str, float] = defaultdict(float)
    for node in nodes:
        by_step[node["step"]] += node.get("seconds") or 0.0
    ends = [n["started_at"] + n["seconds"] for n in nodes if n.get("status") == "ok" and n.get("seconds") is not None]
    return Outcome(competition, budget, seed, report.score, report.percentile, report.medal, best.get("score"),
                   len(nodes), {k: round(by_step[k], 1) for k in STEPS if k in by_step},
                   round(min(ends) - launched, 1) if ends else None, round(total, 1), round(peak, 1),
                   f"{best.get('id', '-')} {best.get('title', '')}".strip(), " ".join(["agent", *command[3:]]))


def markdown(outcomes: list[Outcome]) -> str:
    lines = ["| competition | budget s | seed | score | percentile | medal | cv | nodes | s by step | first s | "
             "total s | peak MB | best node |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | --- |"]
    fmt = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731
    for o in outcomes:
        steps = ", ".join(f"{k} {v:.0f}" for k, v in o.seconds_by_step.items())
        lines.append(f"| {o.competition} | {o.budget:.0f} | {o.seed} | {fmt(o.score, '.5f')} | {fmt(o.percentile, '.1f')} | "
                     f"{o.medal or '-'} | {fmt(o.cv, '.5f')} | {o.nodes} | {steps} | {fmt(o.first_seconds, '.1f')} | "
                     f"{o.total_seconds:.0f} | {o.peak_mb:.0f} | {o.best} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="folders of practice competitions (default: ../shared's two)")
    parser.add_argument("--budget", type=float, action="append", help="time budget(s) in seconds (default 600)")
    parser.add_argument("--seed", type=int, action="append", help="seed(s) of the runs (default 0)")
    parser.add_argument("--only", action="append", help="competition id(s) to run (default: all)")
    parser.add_argument("--runs-dir", type=Path, default=Path("/tmp/agent-practice-runs"))
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    folders = args.folders or [f for f in DEFAULT_FOLDERS if f.is_dir()]
    competitions = [c for f in folders for c in competitions_in(f) if not args.only or c[0] in args.only]
    if not competitions:
        parser.error("no competitions found; pass a folder of them")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    outcomes = []
    for budget in args.budget or [600.0]:
        for seed in args.seed or [0]:
            for competition, folder in competitions:
                run_dir = args.runs_dir / stamp / f"{competition}-{budget:.0f}-s{seed}"
                run_dir.parent.mkdir(parents=True, exist_ok=True)
                outcome = run_one(competition, folder, budget, seed, run_dir)
                outcomes.append(outcome)
                print(json.dumps(asdict(outcome)), flush=True)
    table = markdown(outcomes)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
