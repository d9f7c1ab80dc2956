"""`agent bench` on tiny generated competitions: planning, grading checks, results, resume, crashes,
interruption, and the report."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from rich.console import Console

from agent.bench import BenchOptions, competition_ids, locate_competitions, run_bench
from agent.bench.checks import check_grading
from agent.bench.plan import BenchFile, Task, clear_unresumable, make_tasks, task_state
from agent.bench.pool import gpu_slots
from agent.bench.report import competition_rows, overall_row, summary_markdown, write_plots
from agent.bench.results import RECORD_FIELDS, new_record, results_csv, submissions_jsonl
from agent.bench import worker
from agent.bench.worker import child_env, run_child, run_task, visible_gpus
from agent.grading import REGISTRY_SOURCE, grade_submission, perfect_submission
from tests.test_grading import MLEBENCH_KEYS
from pipelines.errors import InputError
from tests.conftest import ROOT, agent_command

BUDGET = 20.0


def make_bench_competition(data_dir: Path, cid: str, *, n_train: int = 240, n_test: int = 80, seed: int = 0,
                           prepared: bool = False, broken: bool = False, id_column: str = "row_id",
                           target: str = "label", labels: tuple[str, str] = ("no", "yes")) -> Path:
    """A binary accuracy competition with a wide gap between the classes, so any tree model
    scores 1.0 on the test rows; ``broken``: a train.csv without the target, so `agent compete`
    fails at once while grading still works."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    x1 = rng.uniform(0.5, 2.0, size=n) * rng.choice([-1, 1], size=n)
    frame = pd.DataFrame({id_column: np.arange(5000, 5000 + n), "x1": x1, "x2": rng.normal(size=n),
                          target: np.where(x1 > 0, labels[1], labels[0])})
    train, test = frame.iloc[:n_train], frame.iloc[n_train:]
    folder = data_dir / cid
    base = folder / "prepared" if prepared else folder
    (base / "public").mkdir(parents=True)
    (base / "private").mkdir()
    (train.drop(columns=[target]) if broken else train).to_csv(base / "public" / "train.csv", index=False)
    test.drop(columns=[target]).to_csv(base / "public" / "test.csv", index=False)
    test[[id_column]].assign(**{target: labels[0]}).to_csv(base / "public" / "sample_submission.csv", index=False)
    (base / "public" / "description.md").write_text(
        f"# {cid}\n\nPredict `{target}` for each row.\n\n## Evaluation\n\nSubmissions are scored by accuracy.\n")
    test[[id_column, target]].to_csv(base / "private" / "answers.csv", index=False)
    (folder / "competition.yaml").write_text(f"id: {cid}\nmetric: accuracy\ndirection: maximize\n")
    return folder


def make_spaceship(data_dir: Path) -> Path:
    """A generated competition under an MLE-bench id whose registry row has medal cut-offs (and
    whose competitions/spaceship-titanic.yaml names the columns)."""
    return make_bench_competition(data_dir, "spaceship-titanic", prepared=True, id_column="PassengerId",
                                  target="Transported", labels=("False", "True"))


def write_leaderboard(folder: Path, cid: str, scores: list[float]) -> Path:
    path = folder / cid / "leaderboard.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"rank": range(1, len(scores) + 1), "score": scores}).to_csv(path, index=False)
    return folder


def alive(pids: list[int]) -> list[int]:
    return [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]


# ---------------------------------------------------------------- planning


def test_competitions_are_found_in_both_layouts(tmp_path):
    make_bench_competition(tmp_path, "a")
    make_bench_competition(tmp_path, "b", prepared=True)
    found = locate_competitions(tmp_path, ["a", "b"])
    assert found == {"a": (tmp_path / "a").resolve(), "b": (tmp_path / "b").resolve()}
    with pytest.raises(InputError, match="1 competition.*not prepared here: c"):
        locate_competitions(tmp_path, ["a", "c"])
    with pytest.raises(InputError, match="no such data folder"):
        locate_competitions(tmp_path / "nowhere", ["a"])


def test_competition_ids_from_suite_and_list():
    practice = competition_ids("practice", None)
    assert practice[0] == "titanic" and len(practice) == 4
    assert competition_ids("practice", "titanic,extra") == [*practice, "extra"]
    assert competition_ids(None, " a, b ,a") == ["a", "b"]
    assert len(competition_ids("lite", None)) == 22
    with pytest.raises(InputError, match="--suite"):
        competition_ids(None, "")


def test_task_folders_and_states(tmp_path):
    (task,) = make_tasks({"comp": tmp_path / "comp"}, 1, tmp_path / "out", 60.0)
    assert task.name == "comp-seed0"
    assert task.run_dir == (tmp_path / "out" / "runs" / "comp" / "seed0").resolve()
    assert task_state(task) == "new"
    task.run_dir.mkdir(parents=True)
    (task.run_dir / "spec.json").write_text("{}")  # died while preparing: not resumable
    clear_unresumable(task)
    assert not task.run_dir.exists()
    (task.run_dir / "data").mkdir(parents=True)
    for name in ("spec.json", "config.json", "data/folds.npy"):
        (task.run_dir / name).write_text("")
    assert task_state(task) == "interrupted"
    clear_unresumable(task)
    assert task.run_dir.exists()
    task.record_path.parent.mkdir(parents=True)
    task.record_path.write_text("{}")
    assert task_state(task) == "finished"
    with pytest.raises(InputError, match="--seeds"):
        make_tasks({"comp": tmp_path}, 0, tmp_path, 60.0)


def test_a_bench_folder_keeps_its_time_budget(tmp_path):
    bench = BenchFile.open(tmp_path, 60.0, tmp_path)
    bench.plan(make_tasks({"a": tmp_path}, 2, tmp_path, 60.0))
    bench.save()
    again = BenchFile.open(tmp_path, 60.0, tmp_path)
    assert again.planned == ["a-seed0", "a-seed1"]
    with pytest.raises(InputError, match="--time-budget 60"):
        BenchFile.open(tmp_path, 30.0, tmp_path)


def test_gpu_slots():
    assert gpu_slots(2, 0) == [None, None]
    assert gpu_slots(2, 1, available=2) == [["0"], ["1"]]
    assert gpu_slots(3, 2, available=4) == [["0", "1"], ["2", "3"], ["0", "1"]]
    with pytest.raises(InputError, match="fractions"):
        gpu_slots(2, 0.5, available=1)
    with pytest.raises(InputError, match="2 GPU"):
        gpu_slots(1, 2, available=1)


# ---------------------------------------------------------------- grading checks


def test_perfect_submission_wins_gold_on_a_leaderboard(tmp_path):
    folder = make_bench_competition(tmp_path / "data", "toy")
    boards = write_leaderboard(tmp_path / "boards", "toy", [0.99, 0.97] + [0.9] * 8 + [0.5] * 10)
    check = check_grading(folder, boards / "toy" / "leaderboard.csv")
    assert check["ok"] and check["perfect_score"] == 1.0 and check["perfect_medal"] == "gold"
    assert check["thresholds"]["gold"] == 0.97 and check["sample_score"] == pytest.approx(0.5, abs=0.2)
    unmedalled = check_grading(folder)
    assert unmedalled["ok"] and unmedalled["thresholds"] is None and unmedalled["perfect_medal"] is None


def test_perfect_submission_uses_the_registry_thresholds(tmp_path):
    folder = make_spaceship(tmp_path)
    check = check_grading(folder)
    assert check["ok"] and check["perfect_medal"] == "gold"
    assert check["thresholds"]["source"] == REGISTRY_SOURCE


def test_perfect_submission_fills_class_columns_one_hot(tmp_path):
    folder = tmp_path / "three"
    (folder / "public").mkdir(parents=True)
    (folder / "private").mkdir()
    answers = pd.DataFrame({"id": range(9), "species": ["a", "b", "c"] * 3})
    answers.to_csv(folder / "private" / "answers.csv", index=False)
    pd.DataFrame({"id": range(9), "a": 1 / 3, "b": 1 / 3, "c": 1 / 3}).to_csv(
        folder / "public" / "sample_submission.csv", index=False)
    (folder / "competition.yaml").write_text("metric: logloss_multiclass\n")
    perfect = perfect_submission(folder)
    assert perfect[["a", "b", "c"]].to_numpy().tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]] * 3
    perfect.to_csv(tmp_path / "p.csv", index=False)
    assert grade_submission(folder, tmp_path / "p.csv").score == pytest.approx(0.0, abs=1e-5)


# ---------------------------------------------------------------- children


def test_a_run_past_its_limit_is_killed_with_everything_it_started(tmp_path):
    """The grandchild runs in a session of its own, as `agent compete` runs its candidates."""
    script = tmp_path / "spawn.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True)\n"
        f"open({str(tmp_path / 'pid')!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n")
    started = time.monotonic()
    outcome = run_child([sys.executable, str(script)], dict(os.environ), tmp_path / "log.txt", tmp_path, 3.0)
    assert outcome.timed_out and outcome.exit_code is None
    assert time.monotonic() - started < 15
    grandchild = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 5
    while alive([grandchild]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive([grandchild])


def test_a_run_over_its_hard_limit_is_a_timeout_and_still_graded(tmp_path, monkeypatch):
    # Killed within half a second, before the run could write even its prior submission.
    monkeypatch.setattr(worker, "hard_limit", lambda budget: 0.5)
    folder = make_bench_competition(tmp_path / "data", "toy")
    (task,) = make_tasks({"toy": folder}, 1, tmp_path / "bench", 60.0)
    record = run_task(task, cpus=1)
    assert record["status"] == "timeout" and record["exit_code"] is None
    assert record["error"] == "killed after 0s (budget 60s)"
    assert not record["valid_submission"] and record["metric"] == "accuracy"
    assert any("not found" in e for e in record["grade_errors"])
    assert 0.5 <= record["wall_seconds"] < 10


def test_runs_see_their_cores_and_gpus():
    env = child_env(3, ["1", "2"])
    assert env["AGENT_N_JOBS"] == "3" and env["CUDA_VISIBLE_DEVICES"] == "1,2"
    assert visible_gpus(env) == ["1", "2"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []  # what Ray sets for a task without GPUs
    assert child_env(1, None).get("CUDA_VISIBLE_DEVICES") == os.environ.get("CUDA_VISIBLE_DEVICES")  # inherited


# ---------------------------------------------------------------- the report


def fake_record(cid: str, seed: int, medal: str | None, *, valid: bool = True, cut_offs: bool = True,
                percentile: float | None = 40.0) -> dict:
    task = Task(cid, seed, Path("/data") / cid, Path("/out"), 300.0)
    return new_record(task, status="ok" if valid else "failed", valid_submission=valid, score=0.8 if valid else None,
                      metric="auc", medal=medal, any_medal=medal is not None, above_median=medal is not None,
                      percentile=percentile if cut_offs and valid else None,
                      gold_threshold=0.9 if cut_offs else None, wall_seconds=120.0, cpu_seconds=200.0, cpus=1,
                      gpus=0, tokens_in=1000, tokens_out=500, cost_usd=0.25)


RECORDS = [
    fake_record("aerial-cactus-identification", 0, "gold"),
    fake_record("aerial-cactus-identification", 1, None),
    fake_record("aerial-cactus-identification", 2, "bronze"),
    fake_record("spooky-author-identification", 0, None, valid=False),
    fake_record("spooky-author-identification", 1, None),
    fake_record("spooky-author-identification", 2, "silver"),
    fake_record("titanic", 0, None, cut_offs=False),
]


def test_rows_per_competition_and_overall():
    cactus, spooky, titanic = competition_rows(RECORDS)
    assert (cactus.runs, cactus.seeds, cactus.gold, cactus.silver, cactus.bronze) == (3, 3, 1, 0, 1)
    assert cactus.any_medal == pytest.approx(2 / 3)
    assert cactus.any_medal_se == pytest.approx(np.std([1, 0, 1], ddof=1) / np.sqrt(3))
    assert spooky.valid_rate == pytest.approx(2 / 3)
    assert titanic.any_medal is None and titanic.above_median is None  # no cut-offs: cannot medal
    overall = overall_row(RECORDS)
    per_seed = [0.5, 0.0, 1.0]  # medals among the two medal competitions, seed by seed
    assert overall.any_medal == pytest.approx(np.mean(per_seed))
    assert overall.any_medal_se == pytest.approx(np.std(per_seed, ddof=1) / np.sqrt(3))
    assert overall.runs == 7 and overall.valid_rate == pytest.approx(6 / 7)
    assert overall.tokens == 7 * 1500 and overall.cost_usd == pytest.approx(7 * 0.25)
    assert overall.cpu_seconds == pytest.approx(7 * 200)


def test_summary_results_csv_jsonl_and_plots(tmp_path):
    text = summary_markdown(RECORDS, {"planned": ["x"] * 8, "time_budget": 300, "sessions": [[0, 600]]}, "demo")
    assert "7 of 8 tasks finished" in text and "bench wall time 10.0 min" in text
    assert "| 23.3 min | 1 | 0 | 10,500 | $1.75 |" in text  # overall: CPU time, cpus and gpus per task, LLM use
    assert "**Any medal: 50.0% ± 28.9**" in text and "2 competition(s) with medal cut-offs" in text
    assert "| titanic | auc | 1 (1 seed) | 100.0% | n/a (no cut-offs) |" in text
    lines = results_csv(RECORDS).splitlines()
    assert lines[0].split(",") == list(RECORD_FIELDS) and len(lines) == 8
    jsonl = [json.loads(line) for line in submissions_jsonl(RECORDS).splitlines()]
    assert len(jsonl) == 6  # titanic is not an MLE-bench competition
    assert jsonl[0] == {"competition_id": "aerial-cactus-identification",
                        "submission_path": "/out/runs/aerial-cactus-identification/seed0/submission.csv"}
    written = write_plots(RECORDS, tmp_path / "plots")
    assert [p.name for p in written] == ["outcomes.png", "percentile.png", "time.png"]
    assert all(p.stat().st_size > 5000 for p in written)


# ---------------------------------------------------------------- end to end


def records_by_task(out: Path) -> dict[str, dict]:
    return {json.loads(p.read_text())["task"]: json.loads(p.read_text()) for p in (out / "tasks").glob("*.json")}


@pytest.mark.slow
def test_bench_runs_grades_skips_and_resumes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENT_MAX_NODES", "1")  # one candidate per run is all the bench's bookkeeping needs
    data = tmp_path / "data"
    make_spaceship(data)
    make_bench_competition(data, "broken", broken=True)
    boards = write_leaderboard(tmp_path / "boards", "broken", [1.0, 0.9, 0.8, 0.7, 0.6])
    out = tmp_path / "bench"
    options = BenchOptions(out=out, data_dir=data, time_budget=BUDGET, seeds=2, workers=2, leaderboards=boards)
    competitions = locate_competitions(data, ["spaceship-titanic", "broken"])
    console = Console(width=200, record=True)

    records = run_bench(competitions, options, console)

    assert [r["task"] for r in records] == ["broken-seed0", "broken-seed1", "spaceship-titanic-seed0",
                                            "spaceship-titanic-seed1"]
    for record in records[2:]:
        assert record["status"] == "ok" and record["valid_submission"] and record["score"] == 1.0
        assert record["medal"] == "gold" and record["thresholds_source"] == REGISTRY_SOURCE
        assert record["gold_medal"] and record["submission_exists"] and record["is_lower_better"] is False
        assert set(MLEBENCH_KEYS) <= set(record)  # what `agent grade` prints: MLE-bench's report keys
        assert record["nodes"] >= 1 and record["cpus"] == 1 and record["device"] == "cpu"
        assert record["wall_seconds"] < BUDGET * 1.1 + 120 and record["cpu_seconds"] > 0
        assert Path(record["submission_path"]).is_file()
    for record in records[:2]:  # its compete fails at once, leaving the sample submission; the bench goes on
        assert record["status"] == "failed" and record["exit_code"] == 2
        assert record["valid_submission"] and record["score"] < 1.0 and not record["any_medal"]
        assert "cannot find the target" in record["error"]
        assert record["gold_threshold"] == 1.0  # from its leaderboard file
    bench = json.loads((out / "bench.json").read_text())
    assert bench["grading_checks"]["broken"]["perfect_medal"] == "gold"
    assert bench["grading_checks"]["broken"]["thresholds"]["source"].endswith("broken/leaderboard.csv")
    assert bench["grading_checks"]["spaceship-titanic"]["ok"]

    jsonl = [json.loads(line) for line in (out / "submissions.jsonl").read_text().splitlines()]
    assert jsonl == [{"competition_id": "spaceship-titanic", "submission_path": r["submission_path"]}
                     for r in records[2:]]
    results = pd.read_csv(out / "results.csv")
    assert list(results.columns) == list(RECORD_FIELDS) and len(results) == 4
    summary = (out / "summary.md").read_text()
    assert "4 of 4 tasks finished" in summary and "**Any medal: 50.0% ± 0.0**" in summary  # one of two, both seeds
    assert "| spaceship-titanic | accuracy | 2 (2 seeds) | 100.0% | 100.0% ± 0.0 | 2 | 0 | 0 |" in summary
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["outcomes.png", "percentile.png", "time.png"]

    # The same command again: everything is finished, nothing runs.
    again = run_bench(competitions, options, console)
    assert again == records
    assert "4 tasks, 4 finished, 0 to resume, 0 to start" in console.export_text()

    # A task whose record is lost has a complete run folder: it resumes (no budget left) and is graded.
    (out / "tasks" / "spaceship-titanic-seed1.json").unlink()
    run_bench(competitions, options, console)
    resumed = records_by_task(out)["spaceship-titanic-seed1"]
    assert resumed["resumed"] and resumed["status"] == "ok" and resumed["medal"] == "gold"
    assert (out / "logs" / "spaceship-titanic-seed1.log").read_text().count("=== ") == 2

    # --retry-failed runs the failed ones again, and they fail again.
    retried = run_bench(competitions, dataclasses.replace(options, retry_failed=True), console)
    assert (out / "logs" / "broken-seed0.log").read_text().count("=== ") == 2
    assert [r["status"] for r in retried] == ["failed", "failed", "ok", "ok"]


@pytest.mark.slow
def test_interrupted_bench_finishes_only_what_was_left(tmp_path):
    data = tmp_path / "data"
    make_bench_competition(data, "broken", broken=True)
    make_bench_competition(data, "toy")
    out = tmp_path / "bench"
    command = [sys.executable, "-m", "agent.cli", "bench", "--data-dir", str(data), "--competitions", "broken,toy",
               "--time-budget", "30", "--workers", "1", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Ctrl-C's default action, even when this test runs as a background job (which inherits SIGINT ignored).
    bench = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    node = out / "runs" / "toy" / "seed0" / "nodes" / "0001" / "job.json"
    deadline = time.monotonic() + 90
    running: list[int] = []
    while len(running) < 2 and time.monotonic() < deadline and bench.poll() is None:  # the run and a candidate
        time.sleep(0.1)
        running = [p.pid for p in psutil.Process(bench.pid).children(recursive=True)] if node.exists() else []
    assert len(running) >= 2, bench.stdout.read() if bench.poll() is not None else "no candidate started"
    bench.send_signal(signal.SIGINT)
    output, _ = bench.communicate(timeout=60)
    assert bench.returncode == 130, output
    assert "run the same command again" in output
    time.sleep(0.5)
    assert not alive(running)
    assert sorted(records_by_task(out)) == ["broken-seed0"]

    finished = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=200)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "2 tasks, 1 finished, 1 to resume, 0 to start" in finished.stdout
    resumed = records_by_task(out)["toy-seed0"]
    assert resumed["resumed"] and resumed["status"] in ("ok", "failed")  # whether it scores is the search's affair
    assert "resuming run" in (out / "logs" / "toy-seed0.log").read_text()
    sessions = [json.loads(line) for line in (out / "logs" / "toy-seed0.sessions.jsonl").read_text().splitlines()]
    assert [s["ended"] for s in sessions] == ["interrupted", "ended"]
    assert resumed["wall_seconds"] == pytest.approx(sum(s["wall_seconds"] for s in sessions), abs=0.2)
    assert sessions[0]["wall_seconds"] > 1 and sessions[0]["cpu_seconds"] > 0.5  # charged for the cut-off session
    assert (out / "logs" / "broken-seed0.log").read_text().count("=== ") == 1  # not run again


def test_cli_bench_errors_are_one_line(tmp_path):
    result = agent_command("bench", "--data-dir", str(tmp_path), "--competitions", "nope", "--out",
                           str(tmp_path / "b"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and "not prepared here: nope" in result.stderr
    result = agent_command("bench-report", str(tmp_path))
    assert result.returncode == 2 and "not a bench folder" in result.stderr
