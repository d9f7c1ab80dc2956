"""A run killed at every place it writes something resumes to a valid submission.

The kills are deterministic: AGENT_KILL_AT names a write point (agent.run_folder.write_point) at
which the agent's process ends as abruptly as under SIGKILL, after writing half of what was due.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from agent.journal import Journal, Node
from agent.run_folder import CLOCK_SECONDS, KILL_AT_VARIABLE, KILLED_EXIT_CODE, RunFolder
from pipelines.rundata import RunData
from pipelines.submission import submission_problems
from tests.conftest import ROOT, make_competition

pytestmark = pytest.mark.slow

# Every kind of write of a run, in the order a run reaches them: its first session's record, the
# config, the prepared data and profile, the prior submission, a node's files and job, the
# journal's records (a kill there leaves a torn line), the installation of the best node, the
# summary and the session's end.
PREPARING = ["state.json:1", "config.json:1", "data:1", "profile.json:1", "profile.md:1", "config.json:2"]
SEARCHING = ["prior:1", "node:1", "job.json:1", "journal:1", "journal:2", "promote:1", "node.json:1"]
ENDING = ["summary.json:1", "state.json:2"]


def agent(folder: Path, run: Path, *extra: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != KILL_AT_VARIABLE}
    env["PYTHONPATH"] = str(ROOT)
    env["AGENT_FOLDS"] = "3"  # what is tested is where a kill lands, not the folds: faster candidates
    if kill_at:
        env[KILL_AT_VARIABLE] = kill_at
    argv = [sys.executable, "-m", "agent.cli", "compete", str(folder), "--no-submit", "--run-dir", str(run), *extra]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)


def assert_valid_submission(run: Path) -> None:
    data = RunData.load(run)
    assert submission_problems(pd.read_csv(run / "submission.csv"), data.sample, data.spec) == []


def assert_finished(result: subprocess.CompletedProcess, run: Path) -> None:
    """Ended as a run ends (a candidate's submission, or the prior when none finished in the time
    left), with nothing left running and the run's submission the installed best node's."""
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(run / "submission.csv")
    assert_valid_submission(run)
    journal = Journal(run / "journal.jsonl")
    assert all(n.status != "running" for n in journal)
    best = run / "best" / "node.json"
    if best.exists():
        installed = Node.model_validate_json(best.read_text())
        assert (run / "submission.csv").read_bytes() == (run / "nodes" / installed.id / "submission.csv").read_bytes()
    good = journal.good()
    assert bool(good) == best.exists(), "every run with a good node has its submission installed"
    state = json.loads((run / "state.json").read_text())
    assert state["open"] is False
    for before, after in zip(state["sessions"], state["sessions"][1:]):
        assert after[0] >= before[1] - 0.05, "sessions do not overlap: no second is counted twice"


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    return make_competition(tmp_path / "toy", n_train=200, n_test=50)


def test_a_run_killed_at_each_write_point_in_turn_resumes_to_a_valid_submission(toy: Path, tmp_path: Path) -> None:
    """One run, killed at every write point in turn (each kill during a resume of the last), then
    resumed to the end. Kills in the preparation restart it; kills in the search leave work that
    the next session finds, reruns or installs."""
    run = tmp_path / "run"
    torn = 0
    for number, point in enumerate(PREPARING + SEARCHING):
        # Each killed session's time counts: a budget none of them can use up.
        result = agent(toy, run, *(["--resume"] if number else []), "--time-budget", "900", kill_at=point)
        assert result.returncode == KILLED_EXIT_CODE, f"{point} was not reached: {result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr, result.stderr
        if point.startswith("journal"):
            torn += 1
            assert not (run / "journal.jsonl").read_bytes().endswith(b"\n")
    resumed = agent(toy, run, "--resume", "--time-budget", "1")  # no time left: only what a resume restores
    assert_finished(resumed, run)
    assert "skipping unreadable line" in resumed.stderr
    lines = (run / "journal.jsonl").read_text().split("\n")
    unreadable = [line for line in lines if line.strip() and not _parses(line)]
    assert len(unreadable) == torn, "each torn record stays a line of its own; no record was merged into it"
    # Every session that got as far as its first write is counted, the one killed at that write is not.
    assert len(json.loads((run / "state.json").read_text())["sessions"]) == len(PREPARING + SEARCHING)


@pytest.mark.parametrize("point", ["data:1", "config.json:2", *ENDING])
def test_a_kill_at_one_point_then_a_resume(toy: Path, tmp_path: Path, point: str) -> None:
    """States a chain of kills does not leave: killed while the data is written, between the data
    and the config's `prepared`, while summing up, while closing the session."""
    run = tmp_path / "run"
    budget = "12" if point in ENDING else "120"  # the end of a run: a budget that ends soon
    killed = agent(toy, run, "--time-budget", budget, kill_at=point)
    assert killed.returncode == KILLED_EXIT_CODE, f"{point} was not reached: {killed.stderr[-2000:]}"
    assert_finished(agent(toy, run, "--resume", "--time-budget", "1"), run)
    if point == "data:1":  # a new start in a folder whose run never got its data is fine too
        fresh = tmp_path / "fresh"
        assert agent(toy, fresh, "--time-budget", "60", kill_at=point).returncode == KILLED_EXIT_CODE
        assert_finished(agent(toy, fresh, "--time-budget", "1"), fresh)


def test_a_node_running_at_two_kills_is_given_up(toy: Path, tmp_path: Path) -> None:
    """The first node is cut off as its result is recorded, then again when the resume reruns it:
    the next resume records it as interrupted instead of running it a third time."""
    run = tmp_path / "run"
    assert agent(toy, run, "--time-budget", "120", kill_at="journal:2").returncode == KILLED_EXIT_CODE
    first = Journal(run / "journal.jsonl").get("0001")
    assert first.status == "running" and first.attempts == 1
    again = agent(toy, run, "--resume", kill_at="journal:2")  # journal:1 is the rerun's start
    assert again.returncode == KILLED_EXIT_CODE, again.stderr[-2000:]
    assert Journal(run / "journal.jsonl").get("0001").attempts == 2
    resumed = agent(toy, run, "--resume", "--time-budget", "1")
    assert_finished(resumed, run)
    node = Journal(run / "journal.jsonl").get("0001")
    assert node.status == "failed" and "2 time(s)" in node.error


def test_a_killed_session_ends_at_its_clock_s_last_tick(tmp_path: Path) -> None:
    """What a kill leaves (an open session; state.json last touched by the clock) is counted to
    that touch, and the next session starts its own count: no time lost, none counted twice."""
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    start = time.time() - 1000
    (run.path / "state.json").write_text(json.dumps({"sessions": [[start - 100, start - 90], [start, start + 1]],
                                                     "open": True}))
    os.utime(run.path / "state.json", (start + 42, start + 42))
    assert run.seconds_used() == pytest.approx(10 + 42)
    with run.session(started_at=time.time()):
        state = json.loads((run.path / "state.json").read_text())
        assert state["sessions"][1] == [start, pytest.approx(start + 42)] and state["open"]
        time.sleep(3 * CLOCK_SECONDS)
        assert (run.path / "state.json").stat().st_mtime > state["sessions"][2][1], "the clock ticks"
    state = json.loads((run.path / "state.json").read_text())
    assert not state["open"] and len(state["sessions"]) == 3
    assert run.seconds_used() == pytest.approx(52 + state["sessions"][2][1] - state["sessions"][2][0])


def test_a_torn_journal_line_is_skipped_and_the_next_record_starts_a_line_of_its_own(tmp_path: Path, caplog) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.record(Node(id="0001", step="draft", status="ok", score=0.5))
    with open(path, "a") as f:
        f.write(Node(id="0002", step="draft").model_dump_json()[:40])  # cut short by a kill
    journal = Journal(path)
    journal.record(Node(id="0002", step="draft", status="ok", score=0.7, plan="a line\u2028break"))
    reloaded = Journal(path)
    assert [n.id for n in reloaded] == ["0001", "0002"] and reloaded.get("0002").score == 0.7
    assert "skipping unreadable line 2" in caplog.text


def _parses(line: str) -> bool:
    try:
        Node.model_validate_json(line)
    except ValueError:
        return False
    return True
