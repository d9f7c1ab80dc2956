"""The LLM engineer under a slow model and under a capable one: what the search did while it waited.

Usage:
    python benchmarks/llm_runs.py slow [--budget 90] [--delay 25] [--competition data/demo/titanic]
    python benchmarks/llm_runs.py relay --base-url http://127.0.0.1:PORT/v1 --competition DIR [--budget 900]
                                        [--seed 0] [--offline] [--runs-dir DIR]

`slow` serves every request from a fake OpenAI-compatible server (tests/fake_openai.py) that waits
`--delay` seconds and answers prose without code, and reports how many built-in nodes the run
finished, how long it took against its budget, and whether the prompts sent state the folds, each
earlier node's runtime and its whole plan.

`relay` runs against a server that someone answers by hand (../shared/tools/relay_openai.py), and
prints one row per LLM request: step kind, seconds to answer, whether the code ran, its score, and
what the model said was unclear (the reply's optional "Unclear:" line). DIR is a competition in
either layout `run_practice.py` reads; its run is graded as `run_practice.py` grades, and with
`--offline` the offline engineer's run at the same budget and seed goes first, for comparison.

Each run is `agent compete ... --no-submit` in a child process, exactly as a user runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.journal import Journal  # noqa: E402


def run_agent(competition: Path, run_dir: Path, budget: float, base_url: str, extra: list[str]) -> float:
    env = {**os.environ, "OPENAI_API_KEY": os.environ.get("OPENAI_API_KEY", "relay")}
    command = [sys.executable, "-m", "agent.cli", "compete", str(competition), "--llm", "openai:relay",
               "--llm-base-url", base_url, "--time-budget", str(budget), "--no-submit", "--run-dir", str(run_dir),
               *extra]
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, env=env, check=False)
    return time.monotonic() - started


def slow(args: argparse.Namespace) -> None:
    from tests.fake_openai import FakeOpenAI, completion

    nonsense = completion("An interesting problem; I would think about it carefully before writing code.", 800, 60)
    run_dir = Path(tempfile.mkdtemp(prefix="slow-llm-")) / "run"
    with FakeOpenAI([], delay=args.delay, otherwise=nonsense) as server:
        wall = run_agent(args.competition, run_dir, args.budget, server.url, [])
    nodes = list(Journal(run_dir / "journal.jsonl"))
    builtin = [n for n in nodes if n.engineer != "llm"]
    prompts = ["\n".join(str(m.get("content", "")) for m in request["messages"]) for request in server.requests]
    last = prompts[-1] if prompts else ""
    (run_dir.parent / "prompts.md").write_text("\n\n---- next request ----\n\n".join(prompts))
    earlier = [n for n in nodes if n.seconds is not None and n.plan and n.step != "tune"]
    print(f"budget {args.budget:.0f} s, reply delay {args.delay:.0f} s, competition {args.competition}")
    print(f"wall {wall:.1f} s (budget + {wall - args.budget:+.1f} s); summary seconds_used "
          f"{json.loads((run_dir / 'summary.json').read_text())['seconds_used']}")
    print(f"built-in nodes finished: {sum(n.status != 'running' for n in builtin)} "
          f"({sum(n.ok for n in builtin)} ok); LLM requests sent: {len(server.requests)}")
    print(f"last prompt states the folds: {'Validation: ' in last and ' folds, ' in last}; "
          f"runtimes: {all(f'{n.seconds:.0f}s' in last for n in earlier[:5])}; "
          f"whole plans: {all(' '.join(n.plan.split())[:200] in last for n in earlier[:5])}")
    print(f"run folder: {run_dir}; the prompts sent: {run_dir.parent / 'prompts.md'}")


def relay(args: argparse.Namespace) -> None:
    from benchmarks.run_practice import markdown, run_one

    os.environ.setdefault("OPENAI_API_KEY", "relay")
    folder = args.competition.resolve()
    name = (folder.parent if folder.name == "prepared" else folder).name
    runs = Path(args.runs_dir or tempfile.mkdtemp(prefix="relay-"))
    runs.mkdir(parents=True, exist_ok=True)
    outcomes = []
    if args.offline:
        outcomes.append(run_one(name, folder, args.budget, args.seed, runs / "offline"))
        print(markdown(outcomes[-1:]), flush=True)
    llm = ("--llm", "openai:relay", "--llm-base-url", args.base_url)
    outcomes.append(run_one(name, folder, args.budget, args.seed, runs / "llm", llm))
    print(markdown(outcomes))
    print("\n| node | step | answer s | ran | score | unclear |\n| --- | --- | ---: | --- | ---: | --- |")
    for node in Journal(runs / "llm" / "journal.jsonl"):
        if node.engineer != "llm":
            continue
        score = f"{node.score:.5f}" if node.ok else node.error or node.status
        print(f"| {node.id} | {node.step} | {node.facts.get('llm_seconds', '?')} | {node.ok} | {score} | "
              f"{node.facts.get('unclear', '')} |")
    print(f"run folders: {runs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("slow")
    s.add_argument("--budget", type=float, default=90)
    s.add_argument("--delay", type=float, default=25)
    s.add_argument("--competition", type=Path, default=ROOT / "data" / "demo" / "titanic")
    r = sub.add_parser("relay")
    r.add_argument("--base-url", required=True)
    r.add_argument("--competition", type=Path, required=True)
    r.add_argument("--budget", type=float, default=900)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--offline", action="store_true", help="first run the offline engineer at the same budget")
    r.add_argument("--runs-dir")
    args = parser.parse_args()
    slow(args) if args.mode == "slow" else relay(args)


if __name__ == "__main__":
    main()
