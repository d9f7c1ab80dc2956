"""The search loop's own decisions on a prepared run: the final choice, and reruns of interrupted tunes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from agent.compete import prepare_run
from agent.config import Settings
from agent.display import Display
from agent.engineers.base import Brief
from agent.engineers.builtin import BuiltinEngineer
from agent.journal import Node
from agent.node_files import submitted_node
from agent.run_folder import RunFolder
from agent.search import Search
from agent.timing import Budget
from tests.conftest import make_competition


@pytest.fixture
def search(tmp_path: Path) -> Search:
    folder = make_competition(tmp_path / "toy", n_train=120, n_test=30)
    settings = Settings(time_budget=600, runs_root=tmp_path / "runs", competitions_root=tmp_path / "comps")
    run = RunFolder(tmp_path / "run")
    data = prepare_run(folder, "toy", run, settings, {})
    brief = Brief(spec=data.spec, profile={}, profile_text="")
    display = Display(Console(quiet=True), "toy", settings.time_budget)
    return Search(run, data, brief, BuiltinEngineer(), settings, Budget(settings.time_budget), display)


def finished(search: Search, node: Node) -> Node:
    """A node as if it had run: its folder holds a valid submission (the sample's)."""
    folder = search.run.node_dir(node.id)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(search.data.spec.sample_submission_file, folder / "submission.csv")
    (folder / "solution.py").write_text("# a candidate\n")
    search.journal.record(node)
    return node


def test_the_final_choice_is_an_ensemble_within_noise_of_the_best_single(search: Search) -> None:
    single = finished(search, Node(id="0001", step="draft", status="ok", score=0.820,
                                   fold_scores=[0.80, 0.84, 0.82, 0.79, 0.85]))
    finished(search, Node(id="0002", step="draft", status="ok", score=0.800, fold_scores=[0.78, 0.82, 0.80, 0.79, 0.81]))
    blend = finished(search, Node(id="0003", step="ensemble", parents=["0001", "0002"], status="ok", score=0.818,
                                  fold_scores=[0.81, 0.83, 0.81, 0.80, 0.84]))
    search._restore_submission()
    assert search.best.id == single.id  # by score
    search._settle()
    assert search.best.id == blend.id
    assert json.loads((search.run.best_dir / "node.json").read_text())["id"] == blend.id
    assert submitted_node(search.run, search.journal, True).id == blend.id


def test_an_ensemble_clearly_worse_than_the_best_single_is_not_chosen(search: Search) -> None:
    single = finished(search, Node(id="0001", step="draft", status="ok", score=0.850,
                                   fold_scores=[0.85, 0.84, 0.86, 0.85, 0.85]))
    finished(search, Node(id="0002", step="ensemble", parents=["0001"], status="ok", score=0.800,
                          fold_scores=[0.80, 0.79, 0.81, 0.80, 0.80]))
    search._restore_submission()
    search._settle()
    assert search.best.id == single.id


def test_an_interrupted_tune_runs_again_with_the_trials_time_that_still_fits(search: Search) -> None:
    parent = finished(search, Node(id="0001", step="draft", status="ok", score=0.8, seconds=10.0))
    tune = Node(id="0002", step="tune", parents=[parent.id])
    search.run.node_dir(tune.id).mkdir(parents=True)
    job = {"mode": "tune", "tune_seconds": 1000.0}
    limit = search._rerun_limit(tune, job)
    assert limit == pytest.approx(search.times.node_limit(search.journal))
    assert job["tune_seconds"] == pytest.approx(limit - 1.5 * 10 - 5)
    search.budget.deadline = search.budget.clock() + 30  # 30 s left: fewer than two runs of trials
    assert search._rerun_limit(tune, {"mode": "tune", "tune_seconds": 1000.0}) == 0.0


def test_a_tuned_score_is_trusted_as_far_as_fresh_folds_confirm_it_and_no_further_unchecked(search: Search) -> None:
    parent = finished(search, Node(id="0001", step="draft", status="ok", score=0.80, seconds=10.0))
    tune = Node(id="0002", step="tune", parents=[parent.id])
    facts = {"fresh_folds_gain": 0.002}
    assert search._trusted_score(tune, 0.84, facts) == pytest.approx(0.802)
    assert facts["score_on_tuning_folds"] == 0.84
    unchecked = {"fresh_folds": "not re-checked: too little time left"}
    assert search._trusted_score(tune, 0.84, unchecked) == pytest.approx(0.80)  # no credit without fresh folds
    assert unchecked["score_on_tuning_folds"] == 0.84
    assert search._trusted_score(tune, 0.79, {"fresh_folds": "not re-checked: too little time left"}) == 0.79
    held = {"fresh_folds_gain": 0.81235 - 0.80}  # the gain held exactly: the score stands, no second score
    assert search._trusted_score(tune, 0.81235, held) == pytest.approx(0.81235) and "score_on_tuning_folds" not in held
    improve = Node(id="0003", step="improve", parents=[parent.id])
    assert search._trusted_score(improve, 0.84, {"fresh_folds_gain": 0.0}) == 0.84  # only tuning picks a best of many


class SlowPartner:
    """A stand-in for the LLM beside the built-in engineer: records what it is asked."""

    name = "llm"

    def __init__(self) -> None:
        self.asked = []

    def propose(self, ask, brief, journal, run):
        self.asked.append(ask)
        return None


def test_the_llm_is_asked_only_for_a_step_the_time_left_can_finish(search: Search) -> None:
    partner = SlowPartner()
    search.llm, search.policy.llm_name = partner, partner.name
    finished(search, Node(id="0001", step="draft", status="ok", score=0.8, seconds=5.0))
    finished(search, Node(id="0002", step="draft", engineer="llm", status="failed", seconds=100.0, error="timed out"))
    search.budget.deadline = search.budget.clock() + 60  # its fix is expected to take 100 s: not asked
    search._keep_llm_thinking()
    assert search.thinking.idle and partner.asked == []
    search.budget.deadline = search.budget.clock() + 500
    search._keep_llm_thinking()
    search.thinking.wait(10)
    ask, _ = search.thinking.take()
    assert (ask.kind, ask.parent.id) == ("debug", "0002") and ask.seconds == search.times.node_limit(search.journal)


def test_a_better_node_with_an_oversized_submission_is_passed_over_not_a_crash(search: Search) -> None:
    """A candidate may leave anything in its own folder: a submission larger than any valid one (here padded
    past the bound) is reported as invalid, and the run keeps its best."""
    from agent.node_files import max_submission_bytes

    first = finished(search, Node(id="0001", step="draft", status="ok", score=0.80, fold_scores=[0.8] * 5))
    search._promote_if_best(first)
    huge = finished(search, Node(id="0002", step="draft", status="ok", score=0.90, fold_scores=[0.9] * 5))
    path = search.run.node_dir(huge.id) / "submission.csv"
    with path.open("a") as f:
        f.write("\n" * (max_submission_bytes(search.data.sample) + 1))
    search._promote_if_best(huge)
    assert search.best.id == first.id
    assert search._submission_problems(path)[0].endswith("a valid submission needs")
    assert max_submission_bytes(search.data.sample, "boxes") == 16 * max_submission_bytes(search.data.sample)
