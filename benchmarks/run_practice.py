"""Run `agent compete` on each practice competition and grade it: score, time to first submission, total time, memory.

Usage:
    python benchmarks/run_practice.py [COMPETITIONS_DIR] [--budget 300 --budget 60] [--only titanic ...]
                                      [--runs-dir DIR] [--markdown FILE]

COMPETITIONS_DIR holds competitions in MLE-bench layout (<slug>/public, <slug>/private/answers.csv)
and the grader `grade.py` (one JSON line with `score`); default ../shared/competitions, else
/work/shared/competitions. Competitions run one at a time, each in a child process exactly as a
user runs it (`agent compete <dir> --time-budget B --no-submit`), so the numbers include start-up.

Columns: score (graded by grade.py on the held-out answers), cv (the agent's own estimate),
first (seconds from launch until the first valid submission was written), total (wall seconds of
the whole command), peak MB (largest resident memory of the command and all its children, sampled
every 0.2 s), nodes (candidates tried), best (the node that made the submission).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from agent.sandbox import tree_rss_mb

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIRS = [ROOT.parent / "shared" / "competitions", Path("/work/shared/competitions")]


@dataclass
class Outcome:
    competition: str
    budget: float
    score: float | None
    cv: float | None
    first_seconds: float | None
    total_seconds: float
    peak_mb: float
    nodes: int
    best: str
    command: str


def first_submission_seconds(run: Path, launched: float) -> float | None:
    """Seconds from launch to the end of the first node that produced a valid submission (an ok node)."""
    ends = []
    journal = run / "journal.jsonl"
    if not journal.exists():
        return None
    for line in journal.read_text().splitlines():
        try:
            node = json.loads(line)
        except json.JSONDecodeError:
            continue
        if node.get("status") == "ok" and node.get("seconds") is not None:
            ends.append(node["started_at"] + node["seconds"])
    return round(min(ends) - launched, 1) if ends else None


def run_one(competition: Path, budget: float, run_dir: Path) -> Outcome:
    command = [sys.executable, "-m", "agent.cli", "compete", str(competition), "--time-budget", str(budget),
               "--no-submit", "--run-dir", str(run_dir)]
    launched = time.time()
    start = time.monotonic()
    peak = 0.0
    with open(run_dir.with_suffix(".out"), "w") as out:
        # PYTHONPATH: the agent and every candidate process it starts import this checkout's code.
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            peak = max(peak, tree_rss_mb(watched))
            time.sleep(0.2)
    total = time.monotonic() - start
    score = None
    submission = run_dir / "submission.csv"
    if submission.exists():
        graded = subprocess.run([sys.executable, str(competition.parent / "grade.py"), str(competition), str(submission)],
                                capture_output=True, text=True)
        score = json.loads(graded.stdout.strip().splitlines()[-1]).get("score")
    summary = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").exists() else {}
    best = summary.get("best") or {}
    return Outcome(competition.name, budget, score, best.get("score"), first_submission_seconds(run_dir, launched),
                   round(total, 1), round(peak, 1), summary.get("nodes", 0), f"{best.get('id', '-')} {best.get('title', '')}",
                   " ".join(["agent", *command[3:]]))


def markdown(outcomes: list[Outcome]) -> str:
    lines = ["| competition | budget s | score | cv | first submission s | total s | peak MB | nodes | best node |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    fmt = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731
    for o in outcomes:
        lines.append(f"| {o.competition} | {o.budget:.0f} | {fmt(o.score, '.4f')} | {fmt(o.cv, '.4f')} | "
                     f"{fmt(o.first_seconds, '.1f')} | {o.total_seconds:.1f} | {o.peak_mb:.0f} | {o.nodes} | {o.best} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("competitions", nargs="?", type=Path, help="folder of practice competitions and grade.py")
    parser.add_argument("--budget", type=float, action="append", help="time budget(s) in seconds (default 300)")
    parser.add_argument("--only", action="append", help="competition(s) to run (default: every folder with public/)")
    parser.add_argument("--runs-dir", type=Path, default=Path("/tmp/agent-practice-runs"))
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    folder = args.competitions or next((d for d in DEFAULT_DIRS if (d / "grade.py").exists()), None)
    if folder is None or not (folder / "grade.py").exists():
        parser.error("no competitions folder with grade.py found; pass one")
    competitions = sorted(p for p in folder.iterdir() if (p / "public").is_dir() and (not args.only or p.name in args.only))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    outcomes = []
    for budget in args.budget or [300.0]:
        for competition in competitions:
            run_dir = args.runs_dir / stamp / f"{competition.name}-{budget:.0f}"
            run_dir.parent.mkdir(parents=True, exist_ok=True)
            outcome = run_one(competition, budget, run_dir)
            outcomes.append(outcome)
            print(json.dumps(asdict(outcome)), flush=True)
    table = markdown(outcomes)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
