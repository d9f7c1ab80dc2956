"""`agent compete <slug>` against a fake Kaggle: download, search, submit, record the public score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.journal import Journal
from tests.conftest import DEMO, agent_command
from tests.fake_kaggle import FakeCompetition, FakeKaggle

pytestmark = pytest.mark.slow


@pytest.fixture
def kaggle(tmp_path: Path):
    server = FakeKaggle()
    server.add(FakeCompetition(
        slug="titanic", title="Titanic", evaluation_metric="Categorization Accuracy",
        files={name: (DEMO / name).read_bytes() for name in ("train.csv", "test.csv", "sample_submission.csv")},
    ))
    url = server.start()
    env = {"AGENT_KAGGLE_ENDPOINT": url, "KAGGLE_USERNAME": server.username, "KAGGLE_KEY": server.key,
           "KAGGLE_CONFIG_DIR": str(tmp_path / "kaggle-config"), "HOME": str(tmp_path),
           "AGENT_KAGGLE_POLL_SECONDS": "0.05", "AGENT_COMPETITIONS_ROOT": str(tmp_path / "competitions"),
           "AGENT_RUNS_ROOT": str(tmp_path / "runs")}
    yield server, env
    server.stop()


def test_compete_by_slug_downloads_searches_submits_and_records_the_public_score(kaggle, tmp_path: Path) -> None:
    server, env = kaggle
    result = agent_command("compete", "titanic", "--time-budget", "120", "--max-nodes", "2", "--folds", "3",
                           env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    submission = Path(result.stdout.strip().splitlines()[-1])
    assert submission.exists()
    assert (tmp_path / "competitions" / "titanic" / "train.csv").exists()
    assert "public score 0.78468" in result.stdout

    run = submission.parent
    best = Journal(run / "journal.jsonl").best(greater_is_better=True)
    assert best.public_score == pytest.approx(0.78468)
    uploaded = next(iter(server.submissions.values()))
    assert uploaded["content"] == submission.read_bytes()
    assert f"node {best.id}" in uploaded["description"] and "CV accuracy" in uploaded["description"]
    assert json.loads((run / "summary.json").read_text())["public_score"] == pytest.approx(0.78468)
    assert server.key not in "".join(p.read_text(errors="replace") for p in run.rglob("*") if p.suffix in
                                     (".json", ".jsonl", ".txt", ".log", ".py", ".md"))


def test_a_failed_upload_keeps_the_submission_and_agent_submit_sends_it_later(kaggle, tmp_path: Path) -> None:
    server, env = kaggle
    server.upload_status = 500
    result = agent_command("compete", "titanic", "--time-budget", "120", "--max-nodes", "1", "--folds", "3",
                           env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "upload failed" in result.stderr
    submission = Path(result.stdout.strip().splitlines()[-1])
    assert submission.exists() and not server.submissions

    server.upload_status = 200
    again = agent_command("submit", str(submission.parent), env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(server.submissions) == 1
    assert Journal(submission.parent / "journal.jsonl").best(True).public_score == pytest.approx(0.78468)


def test_unknown_slug_and_missing_credentials_are_one_line_errors(kaggle, tmp_path: Path) -> None:
    _, env = kaggle
    result = agent_command("compete", "no-such-competition", "--time-budget", "10", env=env, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("error:") and len(result.stderr.splitlines()) == 1
    bare = {**env, "KAGGLE_USERNAME": "", "KAGGLE_KEY": ""}
    result = agent_command("compete", "titanic", env=bare, cwd=tmp_path)
    assert result.returncode == 2 and "kaggle.json" in result.stderr
