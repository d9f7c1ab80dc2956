"""What a bench is made of: the competitions found in a data folder, and one task per
(competition, seed), each with its own run folder and result file under the bench folder.

```
<out>/bench.json                  the bench's settings, the tasks planned, its sessions
<out>/runs/<id>/seed<k>/          the task's `agent compete` run folder (submission.csv inside)
<out>/logs/<id>-seed<k>.log       the run's terminal output, every session appended
<out>/tasks/<id>-seed<k>.json     the graded result; its presence means the task is finished
<out>/results.csv, summary.md, submissions.jsonl, plots/
```
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agent.run_folder import write_atomic
from competitions.registry import suite as suite_ids
from pipelines.errors import InputError
from pipelines.rundata import RunData

TaskState = Literal["new", "interrupted", "finished"]


@dataclass(frozen=True)
class Task:
    """One `agent compete` run of a competition with a seed; everything a worker needs to run it,
    on this machine or on a Ray node that sees the same folders."""

    competition_id: str
    seed: int
    competition_dir: Path
    out: Path
    time_budget: float
    leaderboard: Path | None = None
    compete_args: tuple[str, ...] = ()
    cwd: Path | None = None

    @property
    def name(self) -> str:
        return f"{self.competition_id}-seed{self.seed}"

    @property
    def run_dir(self) -> Path:
        return self.out / "runs" / self.competition_id / f"seed{self.seed}"

    @property
    def submission_path(self) -> Path:
        return self.run_dir / "submission.csv"

    @property
    def record_path(self) -> Path:
        return self.out / "tasks" / f"{self.name}.json"

    @property
    def log_path(self) -> Path:
        return self.out / "logs" / f"{self.name}.log"


def task_state(task: Task) -> TaskState:
    """Finished once its result is recorded; interrupted when a resumable run folder exists."""
    if task.record_path.is_file():
        return "finished"
    if RunData.exists(task.run_dir) and (task.run_dir / "config.json").is_file():
        return "interrupted"
    return "new"


def clear_unresumable(task: Task) -> None:
    """A run folder killed before its data and config were saved cannot resume: start it afresh."""
    if task_state(task) == "new" and task.run_dir.exists():
        shutil.rmtree(task.run_dir)


def competition_ids(suite: str | None, competitions: str | None) -> list[str]:
    """The ids asked for: a suite, a comma-separated list, or both (in that order, no repeats)."""
    ids = suite_ids(suite) if suite else []
    ids += [c.strip() for c in (competitions or "").split(",") if c.strip()]
    if not ids:
        raise InputError("name the competitions: --suite NAME or --competitions ID,ID,...", "bench")
    return list(dict.fromkeys(ids))


def is_competition_dir(folder: Path) -> bool:
    """MLE-bench's prepared layout or the practice layout, with the answers beside the public data."""
    return any((base / "public").is_dir() and (base / "private").is_dir()
               for base in (folder / "prepared", folder))


def locate_competitions(data_dir: Path, ids: list[str]) -> dict[str, Path]:
    """Competition id -> its folder under ``data_dir``; every id must be there, prepared."""
    data_dir = Path(data_dir).expanduser()
    if not data_dir.is_dir():
        raise InputError("no such data folder", data_dir)
    missing = [i for i in ids if not is_competition_dir(data_dir / i)]
    if missing:
        raise InputError(
            f"{len(missing)} competition(s) not prepared here: {', '.join(missing)}; each needs "
            "<id>/prepared/{public,private} (`mlebench prepare -c <id>`) or <id>/{public,private}",
            data_dir)
    return {i: (data_dir / i).resolve() for i in ids}


def leaderboard_file(leaderboards: Path | None, competition_id: str) -> Path | None:
    """``<leaderboards>/<id>/leaderboard.csv`` (an MLE-bench checkout's `mlebench/competitions`
    folder has this shape), when given and present; grading falls back to the registry."""
    if leaderboards is None:
        return None
    path = Path(leaderboards).expanduser() / competition_id / "leaderboard.csv"
    return path.resolve() if path.is_file() else None


@dataclass
class BenchFile:
    """``bench.json``: the time budget every task shares, the tasks planned so far (a re-run may
    add competitions or seeds), and the wall-clock span of each bench session."""

    path: Path
    time_budget: float
    data_dir: str
    planned: list[str] = field(default_factory=list)
    sessions: list[list[float]] = field(default_factory=list)
    grading_checks: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def open(cls, out: Path, time_budget: float, data_dir: Path) -> BenchFile:
        path = Path(out) / "bench.json"
        if not path.is_file():
            return cls(path, time_budget, str(data_dir))
        saved = json.loads(path.read_text())
        if saved["time_budget"] != time_budget:
            raise InputError(f"this bench folder was run with --time-budget {saved['time_budget']:g}; "
                             "re-run with that budget or choose another --out", out)
        return cls(path, time_budget, str(data_dir), saved.get("planned", []), saved.get("sessions", []),
                   saved.get("grading_checks", {}))

    def plan(self, tasks: list[Task]) -> None:
        self.planned = list(dict.fromkeys([*self.planned, *(t.name for t in tasks)]))

    def start_session(self) -> None:
        now = time.time()
        self.sessions.append([now, now])
        self.save()

    def end_session(self) -> None:
        if self.sessions:
            self.sessions[-1][1] = time.time()
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps({
            "time_budget": self.time_budget, "data_dir": self.data_dir, "planned": self.planned,
            "sessions": self.sessions, "grading_checks": self.grading_checks}, indent=2))


def make_tasks(competitions: dict[str, Path], seeds: int, out: Path, time_budget: float,
               leaderboards: Path | None = None, compete_args: tuple[str, ...] = (),
               cwd: Path | None = None) -> list[Task]:
    """Seeds 0..seeds-1 of every competition, competition by competition."""
    if seeds < 1:
        raise InputError("--seeds must be at least 1", "bench")
    out = Path(out).resolve()
    return [Task(cid, seed, folder, out, time_budget, leaderboard_file(leaderboards, cid), compete_args, cwd)
            for cid, folder in competitions.items() for seed in range(seeds)]
