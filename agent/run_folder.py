"""Where a run keeps everything, so that a person can read it and a killed run can resume.

```
<run>/config.json        effective settings and the source
<run>/spec.json, data/   the competition as every candidate sees it (pipelines.rundata)
<run>/journal.jsonl      every node (agent.journal)
<run>/state.json         time spent in each session, for budgets across resumes
<run>/nodes/<id>/        solution.py, standalone.py, job.json, log.txt, result.json, oof.npy, test.npy, submission.csv
<run>/best/              the chosen node's solution, standalone script and facts
<run>/submission.csv     the best valid submission so far
<run>/optuna.db          tuning studies
<run>/report.html        the report
```
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from pipelines.errors import InputError


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
        sessions = self._state().get("sessions") or [[(self.path / "config.json").stat().st_mtime]]
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

    # --- config and time accounting --------------------------------------------------------------

    def save_config(self, config: dict[str, Any]) -> None:
        write_atomic(self.path / "config.json", json.dumps(config, indent=2, default=str))

    def load_config(self) -> dict[str, Any]:
        return json.loads((self.path / "config.json").read_text())

    def seconds_used(self) -> float:
        """Wall time spent by this run's sessions (each session's last heartbeat minus its start)."""
        state = self._state()
        return sum(max(0.0, end - start) for start, end in state.get("sessions", []))

    def start_session(self, started_at: float | None = None) -> None:
        state = self._state()
        now = time.time()
        state.setdefault("sessions", []).append([started_at or now, now])
        write_atomic(self.path / "state.json", json.dumps(state))

    def heartbeat(self) -> None:
        state = self._state()
        if state.get("sessions"):
            state["sessions"][-1][1] = time.time()
            write_atomic(self.path / "state.json", json.dumps(state))

    def _state(self) -> dict[str, Any]:
        path = self.path / "state.json"
        try:
            return json.loads(path.read_text()) if path.exists() else {}
        except json.JSONDecodeError:
            return {}
