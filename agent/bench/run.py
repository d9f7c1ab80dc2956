"""`agent bench`: plan the tasks, check grading, run what is not finished, record and report.

Re-running the same command is how a bench resumes: finished tasks (a record in tasks/) are
skipped, interrupted ones (a run folder without a record) continue with `compete --resume`.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from agent.bench.checks import check_grading
from agent.bench.plan import BenchFile, Task, make_tasks, task_state
from agent.bench.pool import run_local, run_on_ray
from agent.bench.report import write_report
from agent.bench.results import load_records, save_record
from pipelines.errors import InputError


@dataclass
class BenchOptions:
    out: Path
    data_dir: Path
    time_budget: float = 3600.0
    seeds: int = 1
    workers: int = 1
    cpus_per_task: int | None = None  # default: this machine's cores shared by the workers
    gpus_per_task: float = 0.0
    ray_address: str | None = None
    leaderboards: Path | None = None
    compete_args: tuple[str, ...] = ()
    retry_failed: bool = False


def default_cpus_per_task(workers: int) -> int:
    """Workers × cores per run ≈ the cores this process may use."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // max(1, workers))


@contextmanager
def _bench_lock(out: Path) -> Iterator[None]:
    """One bench at a time per folder: two would run the same tasks into the same run folders."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError("another `agent bench` is running on this folder", out) from None
        yield


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP stop the bench the way Ctrl-C does: runs killed, records kept."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt()

    if threading.current_thread() is not threading.main_thread():  # signals reach only the main thread
        yield
        return
    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _check_competitions(tasks: list[Task], bench: BenchFile, console: Console) -> None:
    for task in tasks:
        cid = task.competition_id
        if cid in bench.grading_checks:
            continue
        check = check_grading(task.competition_dir, task.leaderboard)
        bench.grading_checks[cid] = check
        bench.save()
        perfect = f"{check['perfect_score']}" + (f" ({check['perfect_medal']})" if check["perfect_medal"] else "")
        verdict = "ok" if check["ok"] else f"[red]FAILED[/]: {check['problem']}"
        console.print(f"grading check {cid}: {check['metric']}, sample submission {check['sample_score']}, "
                      f"perfect submission {perfect}: {verdict}", highlight=False, soft_wrap=True)


def _retry(tasks: list[Task]) -> int:
    """Forget the results of failed tasks; their run folders resume."""
    forgotten = 0
    for task in tasks:
        if task_state(task) == "finished" and json.loads(task.record_path.read_text())["status"] != "ok":
            task.record_path.unlink()
            forgotten += 1
    return forgotten


def _describe(record: dict[str, Any]) -> str:
    if record["valid_submission"]:
        verdict = f"score {record['score']:.5g}" + (f" [bold]{record['medal']}[/]" if record["medal"] else "")
        if record["percentile"] is not None:
            verdict += f", beats {record['percentile']:.1f}% of the leaderboard"
    else:
        verdict = "[red]invalid[/]"
    problem = f" ({record['error']})" if record["status"] != "ok" and record["error"] else ""
    return f"{record['status']}{problem}, {verdict}, {record['wall_seconds'] or 0:.0f} s"


def run_bench(competitions: dict[str, Path], options: BenchOptions, console: Console) -> list[dict[str, Any]]:
    """Run every (competition, seed) task not yet finished; returns every finished task's record."""
    if options.workers < 1:
        raise InputError("--workers must be at least 1", "bench")
    cpus = options.cpus_per_task or default_cpus_per_task(options.workers)
    out = Path(options.out).resolve()
    tasks = make_tasks(competitions, options.seeds, out, options.time_budget, options.leaderboards,
                       options.compete_args, Path.cwd())
    with _bench_lock(out), _terminate_as_interrupt():
        bench = BenchFile.open(out, options.time_budget, Path(options.data_dir).resolve())
        bench.plan(tasks)
        bench.save()
        _check_competitions(tasks, bench, console)
        retried = _retry(tasks) if options.retry_failed else 0
        todo = [t for t in tasks if task_state(t) != "finished"]
        resuming = sum(task_state(t) == "interrupted" for t in todo)
        console.print(f"bench {out}: {len(tasks)} tasks, {len(tasks) - len(todo)} finished, {resuming} to resume, "
                      f"{len(todo) - resuming} to start" + (f" ({retried} failed ones retried)" if retried else "")
                      + f"; {options.workers} worker(s) × {cpus} core(s)"
                      + (f" × {options.gpus_per_task:g} GPU(s)" if options.gpus_per_task else "")
                      + (f" on Ray ({options.ray_address})" if options.ray_address else ""),
                      highlight=False, soft_wrap=True)
        bench.start_session()
        done = 0

        def on_start(task: Task) -> None:
            console.print(f"  start  {task.name}" + (" (resume)" if task_state(task) == "interrupted" else ""),
                          highlight=False, soft_wrap=True)

        if options.ray_address:
            finished = run_on_ray(todo, options.workers, cpus, options.gpus_per_task, options.ray_address, on_start)
        else:
            finished = run_local(todo, options.workers, cpus, options.gpus_per_task, on_start)
        try:
            for task, record in finished:
                save_record(task, record)
                done += 1
                console.print(f"  [{done}/{len(todo)}] {task.name}: {_describe(record)}", highlight=False,
                              soft_wrap=True)
                write_report(out, plots=False)
        finally:
            finished.close()  # stops the workers and kills running children if we got here early
            bench.end_session()
            write_report(out, plots=done == len(todo))
    return load_records(out)

