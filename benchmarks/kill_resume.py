"""Kill `agent compete` at random moments with SIGKILL and resume it until it finishes.

Each trial is one run with a budget of --budget seconds on the demo competition (or --competition):
killed once at a random moment (some in its first second), and in every third trial killed again
during the resume, then resumed until a session ends by itself. For each trial it prints whether
the run ended with a valid submission (and whether that is a candidate's or the prior), and the
wall time all its processes took together against the budget plus 10 s.

    python benchmarks/kill_resume.py                 # 30 trials of a 60 s run
    python benchmarks/kill_resume.py --trials 3 --budget 30
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.rundata import RunData  # noqa: E402
from pipelines.submission import submission_problems  # noqa: E402

MARGIN_SECONDS = 10.0
MAX_SESSIONS = 6  # a trial resumed this often without ending is a failure


def session(competition: Path, run: Path, budget: float, resume: bool, kill_after: float | None) -> tuple[float, int | None]:
    """One `agent compete` process: its wall time, and its exit code (None when killed)."""
    argv = [sys.executable, "-m", "agent.cli", "compete", str(competition), "--no-submit", "--run-dir", str(run),
            "--time-budget", str(budget), *(["--resume"] if resume else [])]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        code = proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)  # the agent alone: its candidates must die with it
        proc.wait()
        code = None
    took = time.monotonic() - start
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # whatever outlived it would slow the next trial
    except ProcessLookupError:
        pass
    return took, code


def trial(number: int, competition: Path, root: Path, budget: float, rng: random.Random) -> dict:
    run = root / f"trial-{number:02d}"
    kills = [rng.uniform(0, 1) if number % 5 == 0 else rng.uniform(0, budget)]
    if number % 3 == 2:
        kills.append(rng.uniform(0, budget / 2))  # during the resume
    wall, codes = 0.0, []
    for index in range(MAX_SESSIONS):
        kill_after = kills[index] if index < len(kills) else None
        took, code = session(competition, run, budget, resume=index > 0, kill_after=kill_after)
        wall += took
        codes.append(code)
        if code is not None:
            break
    valid, source = False, "none"
    try:
        data = RunData.load(run)
        valid = submission_problems(pd.read_csv(run / "submission.csv"), data.sample, data.spec) == []
        source = "candidate" if (run / "best" / "node.json").exists() else "prior"
    except Exception as exc:  # what the benchmark measures: a run that left nothing gradeable
        source = f"none ({type(exc).__name__})"
    state = json.loads((run / "state.json").read_text()) if (run / "state.json").exists() else {}
    accounted = sum(end - start for start, end in state.get("sessions", []))
    return {"trial": number, "kills_at": [round(k, 2) for k in kills], "exit_codes": codes, "valid": valid,
            "submission": source, "wall_seconds": round(wall, 1), "accounted_seconds": round(accounted, 1),
            "within": wall <= budget + MARGIN_SECONDS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--competition", type=Path, default=ROOT / "data" / "demo" / "titanic")
    parser.add_argument("--out", type=Path, default=None, help="also write the trials as JSON lines here")
    args = parser.parse_args()
    console = Console()
    rng = random.Random(args.seed)
    table = Table(title=f"kill -9 and resume: {args.trials} runs of {args.budget:g}s on {args.competition.name}")
    for column in ("trial", "killed at (s)", "exit codes", "valid", "submission", "wall s", "accounted s", "<= budget+10"):
        table.add_column(column)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(args.trials):
            result = trial(number, args.competition, Path(tmp), args.budget, rng)
            results.append(result)
            console.print(json.dumps(result), markup=False, highlight=False, soft_wrap=True)
            table.add_row(str(number), ", ".join(map(str, result["kills_at"])), " ".join(map(str, result["exit_codes"])),
                          "yes" if result["valid"] else "NO", result["submission"], f"{result['wall_seconds']:.1f}",
                          f"{result['accounted_seconds']:.1f}", "yes" if result["within"] else "NO")
    console.print(table)
    walls = [r["wall_seconds"] for r in results]
    console.print(f"valid submissions {sum(r['valid'] for r in results)}/{len(results)}, from a candidate "
                  f"{sum(r['submission'] == 'candidate' for r in results)}; within budget + {MARGIN_SECONDS:g}s "
                  f"{sum(r['within'] for r in results)}/{len(results)}; wall time max {max(walls):.1f}s, "
                  f"mean {sum(walls) / len(walls):.1f}s", highlight=False)
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in results))


if __name__ == "__main__":
    main()
