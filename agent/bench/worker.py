"""Run one bench task: `agent compete` in a child process with a hard wall-time limit, then grade
what it left behind.

The run is a separate process (its own session, so a terminal's Ctrl-C reaches only the bench):
whatever it does — crash, hang, run out of memory — comes back as a result with a status, and
the bench goes on. The same function runs in a local worker thread and inside a Ray task.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from agent.bench.plan import Task, clear_unresumable, task_state
from agent.bench.results import new_record
from agent.grading import grade_submission
from pipelines.errors import InputError

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
TERM_GRACE_SECONDS = 5.0


def hard_limit(time_budget: float) -> float:
    """Seconds a run may take before it is killed: its budget, plus room to start, write its
    last candidate and summary, and finish a node that the budget cut short."""
    return time_budget * 1.1 + 120.0


def compete_argv(task: Task, resume: bool) -> list[str]:
    argv = [sys.executable, "-m", "agent.cli", "compete", str(task.competition_dir),
            "--time-budget", f"{task.time_budget:g}", "--no-submit", "--run-dir", str(task.run_dir),
            "--seed", str(task.seed), *task.compete_args]
    return argv + ["--resume"] if resume else argv


def child_env(cpus: int, gpu_ids: list[str] | None) -> dict[str, str]:
    """The bench's environment, with the run's share of cores (compete reads AGENT_N_JOBS) and,
    when the bench hands out GPUs itself, the ones this run may see. Wide lines keep the run's
    log greppable (rich wraps at 80 columns when it is not on a terminal)."""
    env = {**os.environ, "AGENT_N_JOBS": str(cpus), "COLUMNS": "200"}
    if gpu_ids is not None:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(gpu_ids)
    return env


@dataclass
class ChildOutcome:
    exit_code: int | None
    timed_out: bool
    wall_seconds: float
    cpu_seconds: float


class TaskInterrupted(Exception):
    """The bench was stopped while the task ran; its run folder is left to resume."""

    def __init__(self, outcome: ChildOutcome) -> None:
        super().__init__("interrupted")
        self.outcome = outcome


class _Stopped(Exception):
    """The bench asked its workers to stop."""


def _kill_tree(root: psutil.Process, seen: set[psutil.Process]) -> None:
    """Terminate the run and every process it started, including candidates that run in
    process groups of their own; kill what is still there after a grace period."""
    try:
        seen |= set(root.children(recursive=True))
    except psutil.Error:
        pass
    for proc in [root, *seen]:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(list(seen), timeout=TERM_GRACE_SECONDS)
    for proc in [root, *alive]:
        try:
            proc.kill()
        except psutil.Error:
            pass


def run_child(argv: list[str], env: dict[str, str], log_path: Path, cwd: Path | None, limit: float,
              stop: threading.Event | None = None) -> ChildOutcome:
    """Run ``argv`` with output appended to ``log_path``; kill its whole tree at ``limit`` seconds,
    and when ``stop`` is set or anything interrupts the wait (Ctrl-C),
    then raise TaskInterrupted with what the run had used."""
    start = time.monotonic()
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    root = psutil.Process(proc.pid)
    seen: set[psutil.Process] = set()  # descendants, remembered in case the run dies before them
    timed_out = False
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if stop is not None and stop.is_set():
                raise _Stopped()
            if time.monotonic() - start > limit:
                timed_out = True
                _kill_tree(root, seen)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            try:
                seen |= set(root.children(recursive=True))
            except psutil.Error:
                pass
            time.sleep(POLL_SECONDS)
    except BaseException as exc:  # leave nothing running
        _kill_tree(root, seen)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode, cpu = os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime
        except ChildProcessError:  # reaped already
            cpu = 0.0
        raise TaskInterrupted(ChildOutcome(None, False, time.monotonic() - start, cpu)) from exc
    proc.returncode = os.waitstatus_to_exitcode(status)
    _kill_orphans(seen)
    return ChildOutcome(None if timed_out else proc.returncode, timed_out, time.monotonic() - start,
                        usage.ru_utime + usage.ru_stime)


def _kill_orphans(seen: set[psutil.Process]) -> None:
    """Candidates orphaned by a run that died mid-node would otherwise keep their cores."""
    for proc in seen:
        try:
            if proc.is_running():  # same pid *and* start time: never a recycled pid
                proc.kill()
        except psutil.Error:
            pass


def gpu_count() -> int:
    """NVIDIA GPUs on this machine, as `nvidia-smi -L` lists them (0 without a driver)."""
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(line.startswith("GPU ") for line in listed.stdout.splitlines()) if listed.returncode == 0 else 0


def visible_gpus(env: dict[str, str]) -> list[str]:
    """The GPUs a run with this environment can use."""
    if "CUDA_VISIBLE_DEVICES" in env:
        return [g.strip() for g in env["CUDA_VISIBLE_DEVICES"].split(",") if g.strip()]
    return [str(i) for i in range(gpu_count())]


def _session_error(log_path: Path, offset: int) -> str | None:
    """The run's own last words in this session: its `error:` line, else its last line."""
    try:
        with open(log_path, "rb") as f:
            f.seek(offset)
            lines = [line.strip() for line in f.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return None
    errors = [line for line in lines if line.startswith("error:") or "Error" in line.split(":")[0]]
    return (errors or lines or [None])[-1]


def run_facts(run_dir: Path) -> dict[str, Any]:
    """Nodes, time, tokens and cost from the run's summary.json (absent when it died early)."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return {}
    best = summary.get("best") or {}
    return {"cv_score": best.get("score"), "nodes": summary.get("nodes"),
            "agent_seconds": summary.get("seconds_used"), "tokens_in": summary.get("tokens_in"),
            "tokens_out": summary.get("tokens_out"), "cost_usd": summary.get("cost_usd")}


def graded(task: Task) -> dict[str, Any]:
    """Grade the task's submission the way MLE-bench does; a missing one is simply invalid."""
    try:
        report = grade_submission(task.competition_dir, task.submission_path, leaderboard=task.leaderboard)
    except InputError as exc:
        return {"valid_submission": False, "submission_exists": task.submission_path.is_file(),
                "grade_errors": [f"cannot grade: {exc}"]}
    facts = report.to_dict()  # MLE-bench's report keys, so its tools read tasks/*.json too
    errors = facts.pop("errors")
    return {**facts, "direction": report.direction, "grade_errors": errors}


def failed_record(task: Task, error: str) -> dict[str, Any]:
    """The result of a task whose worker died: whatever submission it left is still graded."""
    return new_record(task, status="failed", error=error, **graded(task))


def _note_session(task: Task, outcome: ChildOutcome, how: str) -> tuple[float, float]:
    """Append this session's wall and CPU seconds to the task's session log; returns the totals
    over every session, so a resumed task is charged for all the time it took."""
    path = task.log_path.with_suffix(".sessions.jsonl")
    with open(path, "a") as f:
        f.write(json.dumps({"ended": how, "wall_seconds": round(outcome.wall_seconds, 2),
                            "cpu_seconds": round(outcome.cpu_seconds, 2)}) + "\n")
    sessions = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return sum(s["wall_seconds"] for s in sessions), sum(s["cpu_seconds"] for s in sessions)


def run_task(task: Task, cpus: int, gpu_ids: list[str] | None = None,
             stop: threading.Event | None = None) -> dict[str, Any]:
    """Run (or resume) the task's competition and return its graded result record."""
    clear_unresumable(task)
    resume = task_state(task) == "interrupted"
    task.log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = compete_argv(task, resume)
    env = child_env(cpus, gpu_ids)
    offset = task.log_path.stat().st_size if task.log_path.exists() else 0
    with open(task.log_path, "a") as f:
        f.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {'resume' if resume else 'start'}: {' '.join(argv)}\n")
    log.info("task %s: %s", task.name, " ".join(argv))
    cwd = task.cwd if task.cwd is not None and task.cwd.is_dir() else None
    try:
        outcome = run_child(argv, env, task.log_path, cwd, hard_limit(task.time_budget), stop)
    except TaskInterrupted as exc:
        _note_session(task, exc.outcome, "interrupted")
        raise
    wall, cpu = _note_session(task, outcome, "ended")
    if outcome.timed_out:
        status, error = "timeout", f"killed after {hard_limit(task.time_budget):.0f}s (budget {task.time_budget:g}s)"
    elif outcome.exit_code == 0:
        status, error = "ok", None
    else:
        status, error = "failed", _session_error(task.log_path, offset) or f"exit code {outcome.exit_code}"
    gpus = visible_gpus(env)
    return new_record(
        task, status=status, exit_code=outcome.exit_code, error=error, resumed=resume,
        wall_seconds=round(wall, 1), cpu_seconds=round(cpu, 1), cpus=cpus,
        gpus=len(gpus), gpu_ids=",".join(gpus) or None, device="cuda" if gpus else "cpu", host=socket.gethostname(),
        **run_facts(task.run_dir), **graded(task),
    )
