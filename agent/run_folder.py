"""Where a run keeps everything, so that a person can read it and a killed run can resume.

```
<run>/config.json        effective settings and the source; written first, `prepared` once the data is in place
<run>/spec.json, data/   the competition as every candidate sees it (pipelines.rundata)
<run>/journal.jsonl      every node (agent.journal)
<run>/state.json         each session's start and end, for budgets across resumes
<run>/nodes/<id>/        solution.py, standalone.py, job.json, log.txt, result.json, oof.npy, test.npy, submission.csv
<run>/best/              the chosen node's solution, standalone script and facts
<run>/submission.csv     the best valid submission so far
<run>/optuna.db          tuning studies
<run>/report.html        the report
```

Every state a kill can leave is resumable or restartable: until config.json says `prepared`, the
folder holds no run yet and preparing starts over; after that, each file is either written
atomically (a temporary file renamed over it) or, like the journal, appended so that a torn end is
detected and skipped.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipelines.errors import InputError

CLOCK_SECONDS = 0.5  # how stale a killed session's end can be
KILL_AT_VARIABLE = "AGENT_KILL_AT"
WRITE_POINTS_VARIABLE = "AGENT_WRITE_POINTS"
KILLED_EXIT_CODE = 86

# What a run folder holds before its data is prepared: a new start may clear these and nothing else.
RUN_FILES = ("config.json", "state.json", "spec.json", "profile.json", "profile.md", "journal.jsonl", "agent.log",
             "summary.json", "submission.csv", "submission.csv.tmp", "report.html", "optuna.db")
RUN_FOLDERS = ("data", "nodes", "best")

_points_reached: Counter[str] = Counter()


def write_point(name: str, torn: Callable[[], None] | None = None) -> None:
    """A place where the run writes something a kill could cut short, for the crash-resume tests.

    AGENT_KILL_AT=<name>[:<n>] ends the process (os._exit, as abrupt as SIGKILL) the n-th time it
    reaches `name`, after `torn` has written half of what was due; AGENT_WRITE_POINTS=<file> lists
    every point reached, so a test can kill at each of them.
    """
    _points_reached[name] += 1
    if listing := os.environ.get(WRITE_POINTS_VARIABLE):
        with open(listing, "a") as f:
            f.write(f"{name}:{_points_reached[name]}\n")
    wanted = os.environ.get(KILL_AT_VARIABLE)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point == name and _points_reached[name] == int(nth or 1):
        if torn is not None:
            torn()
        os._exit(KILLED_EXIT_CODE)


def session_started_at() -> float:
    """When this `agent` command began: its process's start when the process is the command (starting
    Python counts against the budget), else now (the CLI called from tests or a notebook)."""
    import __main__

    entry = Path(getattr(__main__, "__file__", "") or "")
    if entry.name == "agent" or entry.parts[-2:] == ("agent", "cli.py"):
        return process_started_at()
    return time.time()


def process_started_at() -> float:
    """When this process started, on the wall clock, to the kernel's tick (psutil's create_time adds
    boot time rounded down to the second, so it can be a second early)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return time.time() - age
    except (OSError, IndexError, ValueError, AttributeError):  # not Linux
        import psutil

        return psutil.Process().create_time()


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def list_runs(runs_root: Path, slug: str | None = None) -> list[RunFolder]:
    """Runs under `runs_root` (<slug>/<run-id>/), of one competition or all, oldest first."""
    pattern = f"{slug}/*/config.json" if slug else "*/*/config.json"
    runs = [RunFolder(p.parent) for p in Path(runs_root).glob(pattern)]
    return sorted(runs, key=lambda run: (run.started_at, run.path.name))


def resolve_run(given: str | Path, runs_root: Path) -> Path:
    """A run folder from what a user types: a run folder, `latest` (the newest run of all),
    `<slug>/latest` or `<folder of runs>/latest` (the newest there)."""
    path = Path(given)
    if (path / "config.json").exists() or (path / "journal.jsonl").exists():
        return path
    if path.name != "latest":
        if path.is_dir() and list_runs(path.parent, path.name):
            raise InputError(f"a folder of runs, not a run: name one (`agent runs {path.name}`) or say {path / 'latest'}",
                             given)
        raise InputError("not a run folder (no journal.jsonl / spec.json)", given)
    parent = path.parent
    if str(parent) == ".":
        runs = list_runs(runs_root)
    elif parent.is_dir():
        runs = list_runs(parent.parent, parent.name)
    else:
        runs = list_runs(runs_root, str(parent))
    if not runs:
        raise InputError("no runs there (see `agent runs`)", given)
    return runs[-1].path


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    write_point(path.name)
    os.replace(tmp, path)


class RunFolder:
    def __init__(self, path: Path) -> None:
        self.path = Path(path).resolve()

    @classmethod
    def latest(cls, runs_root: Path, slug: str) -> RunFolder | None:
        runs = list_runs(runs_root, slug)
        return runs[-1] if runs else None

    @property
    def started_at(self) -> float:
        sessions = self._state()[0].get("sessions") or [[(self.path / "config.json").stat().st_mtime]]
        return sessions[0][0]

    def create(self) -> None:
        (self.path / "nodes").mkdir(parents=True, exist_ok=True)
        self.journal_path.touch()  # a run with no node yet is still a run to review

    @property
    def journal_path(self) -> Path:
        return self.path / "journal.jsonl"

    @property
    def submission_path(self) -> Path:
        return self.path / "submission.csv"

    @property
    def best_dir(self) -> Path:
        return self.path / "best"

    @property
    def optuna_storage(self) -> str:
        return f"sqlite:///{self.path / 'optuna.db'}"

    def node_dir(self, node_id: str) -> Path:
        return self.path / "nodes" / node_id

    def code(self, node_id: str) -> str:
        path = self.node_dir(node_id) / "solution.py"
        return path.read_text() if path.exists() else ""

    # --- config: a run exists once its data is prepared ------------------------------------------

    def save_config(self, config: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path / "config.json", json.dumps(config, indent=2, default=str))

    def load_config(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / "config.json").read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    @property
    def prepared(self) -> bool:
        """Whether the run's data, spec and profile are all in place (config.json of runs made before
        the flag existed was written last, so its presence says the same)."""
        return bool(self.load_config().get("prepared", (self.path / "config.json").exists()))

    def mark_prepared(self) -> None:
        self.save_config({**self.load_config(), "prepared": True})

    def clear_unprepared(self, keep_time: bool = False) -> None:
        """Remove what a run killed before its data was prepared left behind, so it starts afresh;
        with `keep_time`, its sessions stay counted (a resume goes on with the same budget).

        Only the run's own files go; a folder holding anything else is not a run folder to clear.
        """
        if not self.path.exists():
            return
        if self.prepared:
            raise ValueError(f"{self.path} holds a prepared run")
        foreign = [p.name for p in self.path.iterdir()
                   if p.name not in RUN_FILES and p.name not in RUN_FOLDERS and not p.name.endswith(".tmp")]
        if foreign:
            raise InputError(f"not a run folder (it holds {', '.join(sorted(foreign)[:5])}); choose another --run-dir",
                             self.path)
        for item in self.path.iterdir():
            if keep_time and item == self._state_path:
                continue
            shutil.rmtree(item) if item.is_dir() else item.unlink()

    # --- time accounting ---------------------------------------------------------------------------

    @property
    def _state_path(self) -> Path:
        return self.path / "state.json"

    def seconds_used(self) -> float:
        """Wall time spent by this run's sessions. A session still open (running now, or killed) ends
        at its last durable record: the clock that touches state.json while the session lives."""
        state, touched = self._state()
        sessions = state.get("sessions", [])
        total = sum(max(0.0, end - start) for start, end in sessions)
        if sessions and state.get("open"):
            start, end = sessions[-1]
            total += max(0.0, touched - end)
        return total

    @contextmanager
    def session(self, started_at: float | None = None) -> Iterator[None]:
        """Account the wall time from `started_at` (the process's start) to the end of this block,
        or, if the process is killed, to the last tick of a clock that touches state.json."""
        self.path.mkdir(parents=True, exist_ok=True)
        state, touched = self._state()
        sessions = state.setdefault("sessions", [])
        if sessions and state.get("open"):  # the previous session was killed: it ended at its clock's last tick
            sessions[-1][1] = max(sessions[-1][1], touched)
        now = time.time()
        sessions.append([min(started_at or now, now), now])
        state["open"] = True
        write_atomic(self._state_path, json.dumps(state))
        stop = threading.Event()
        clock = threading.Thread(target=self._tick, args=(stop,), daemon=True, name="session-clock")
        clock.start()
        try:
            yield
        finally:
            stop.set()
            clock.join()
            state, _ = self._state()
            if state.get("sessions"):
                state["sessions"][-1][1] = time.time()
            state["open"] = False
            write_atomic(self._state_path, json.dumps(state))

    def _tick(self, stop: threading.Event) -> None:
        while not stop.wait(CLOCK_SECONDS):
            try:
                os.utime(self._state_path)
            except OSError:
                pass  # being replaced this instant

    def _state(self) -> tuple[dict[str, Any], float]:
        """state.json and when it was last touched."""
        try:
            touched = self._state_path.stat().st_mtime
            return json.loads(self._state_path.read_text()), touched
        except (OSError, json.JSONDecodeError):
            return {}, 0.0
