"""`agent compete` end to end, as a user runs it: the CLI in a child process on the demo competition."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from agent.journal import Journal
from pipelines.rundata import RunData
from pipelines.submission import submission_problems
from tests.conftest import DEMO, ROOT, agent_command

pytestmark = pytest.mark.slow


def assert_valid_submission(run: Path) -> None:
    data = RunData.load(run)
    submission = pd.read_csv(run / "submission.csv")
    assert submission_problems(submission, data.sample, data.spec) == []


def test_compete_on_the_demo_writes_a_valid_submission_and_prints_its_path(tmp_path: Path) -> None:
    run = tmp_path / "run"
    start = time.monotonic()
    result = agent_command("compete", str(DEMO), "--time-budget", "15", "--no-submit", "--run-dir", str(run))
    took = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(run / "submission.csv")
    assert took < 15 * 1.1 + 10, "the budget is honoured (plus interpreter start-up)"
    assert_valid_submission(run)

    journal = Journal(run / "journal.jsonl")
    best = journal.best(greater_is_better=True)
    assert best is not None and 0.7 < best.score < 0.95
    node_dir = run / "nodes" / best.id
    for name in ("solution.py", "standalone.py", "log.txt", "result.json", "oof.npy", "test.npy", "submission.csv"):
        assert (node_dir / name).exists(), name
    first = min((n for n in journal if n.ok), key=lambda n: n.started_at)
    assert first.started_at + first.seconds - json.loads((run / "state.json").read_text())["sessions"][0][0] < 60
    summary = json.loads((run / "summary.json").read_text())
    assert summary["best"]["id"] == best.id and summary["nodes"] == len(journal)

    review = agent_command("review", str(run))
    assert review.returncode == 0 and best.id in review.stdout and "best" in review.stdout
    node = agent_command("review", str(run), "--node", best.id, "--diff")
    assert node.returncode == 0

    # The saved standalone script reproduces the node's submission when run by hand.
    out = tmp_path / "by-hand"
    out.mkdir()
    rerun = subprocess.run([sys.executable, str(node_dir / "standalone.py")], cwd=out, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{best.score:.5f}" in rerun.stdout
    assert (out / "submission.csv").read_text() == (node_dir / "submission.csv").read_text()


def test_refit_runs_write_refitted_test_predictions_that_standalone_reproduces(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = agent_command("compete", str(DEMO), "--time-budget", "120", "--max-nodes", "1", "--no-submit", "--refit",
                           "--folds", "3",
                           "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    refitted = [d for d in sorted((run / "nodes").iterdir()) if (d / "result.json").exists()
                and json.loads((d / "result.json").read_text()).get("facts", {}).get("test_prediction") == "refit"]
    assert refitted, "no candidate was refitted"
    node_dir = refitted[0]
    assert json.loads((node_dir / "job.json").read_text())["refit"] is True
    out = tmp_path / "by-hand"
    out.mkdir()
    rerun = subprocess.run([sys.executable, str(node_dir / "standalone.py")], cwd=out, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert (out / "submission.csv").read_text() == (node_dir / "submission.csv").read_text()


def test_a_forecast_is_validated_on_later_rows_and_refitted_on_all(tmp_path: Path) -> None:
    """Daily sales of three shops; the test days follow the train days, so the folds follow time."""
    import numpy as np

    rng = np.random.default_rng(0)
    days = pd.date_range("2021-01-01", periods=240)
    frame = pd.DataFrame([(d, shop) for d in days for shop in (1, 2, 3)], columns=["date", "shop"])
    frame["sales"] = 10 * frame["shop"] + 5 * (frame["date"].dt.day_of_week >= 5) + rng.normal(0, 1, len(frame))
    comp = tmp_path / "forecast"
    comp.mkdir()
    train, test = frame[frame["date"] < "2021-08-01"], frame[frame["date"] >= "2021-08-01"].drop(columns="sales")
    train.to_csv(comp / "train.csv", index=False)
    test.insert(0, "id", range(len(test)))
    test.to_csv(comp / "test.csv", index=False)
    pd.DataFrame({"id": test["id"], "sales": 0.0}).to_csv(comp / "sample_submission.csv", index=False)
    run = tmp_path / "run"
    result = agent_command("compete", str(comp), "--time-budget", "120", "--max-nodes", "2", "--no-submit", "--run-dir",
                           str(run))
    assert result.returncode == 0, result.stderr
    data = RunData.load(run)
    assert data.spec.time_column == "date"
    dates = pd.to_datetime(data.train["date"])
    assert (data.folds == -1).sum() > 0 and dates[data.folds == -1].max() < dates[data.folds == 0].min()
    jobs = [json.loads(p.read_text()) for p in sorted((run / "nodes").glob("*/job.json"))]
    assert jobs and all(job["refit"] for job in jobs)
    assert_valid_submission(run)


def test_a_run_without_any_finished_candidate_still_leaves_the_prior_submission(tmp_path: Path) -> None:
    """A budget shorter than the shortest node starts no candidate at all; the run fails (exit 1)
    but its submission is valid and graded."""
    run = tmp_path / "run"
    result = agent_command("compete", str(DEMO), "--time-budget", "5", "--no-submit", "--run-dir", str(run))
    assert result.returncode == 1 and "no candidate produced a valid submission" in result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(run / "submission.csv")
    assert_valid_submission(run)
    survived = pd.read_csv(run / "submission.csv")["Survived"]
    assert survived.nunique() == 1 and survived.iloc[0] == 0  # most passengers died: the prior's label
    assert len(Journal(run / "journal.jsonl")) == 0
    assert agent_command("review", str(run)).returncode == 0


def test_resume_after_kill_9_keeps_finished_nodes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    # Budgets no busy machine runs short of: the second node always starts, and the resume reruns it.
    argv = [sys.executable, "-m", "agent.cli", "compete", str(DEMO), "--time-budget", "300", "--max-nodes", "2",
            "--folds", "3", "--no-submit", "--run-dir", str(run)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    journal_path = run / "journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill while the second node is running
        nodes = Journal(journal_path).nodes if journal_path.exists() else {}
        if any(n.ok for n in nodes.values()) and any(n.status == "running" for n in nodes.values()):
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = Journal(journal_path).nodes
    finished = {i: n for i, n in before.items() if n.ok}
    assert finished, "a node finished before the kill"

    result = agent_command("compete", str(DEMO), "--resume", "--run-dir", str(run), "--no-submit")
    assert result.returncode == 0, result.stderr
    after = Journal(journal_path).nodes
    for node_id, node in finished.items():
        assert after[node_id].score == node.score and after[node_id].status == "ok"
    interrupted = [n for i, n in after.items() if i in before and before[i].status == "running"]
    assert interrupted and all(n.ok for n in interrupted), "a node cut off by the kill runs again, under its id"
    assert len(after) >= len(before)
    assert_valid_submission(run)
    assert len(json.loads((run / "state.json").read_text())["sessions"]) == 2
