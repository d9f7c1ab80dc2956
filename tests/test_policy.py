"""The search policy and the time rules it follows, on a clock the test moves instead of waiting on."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from agent.config import Settings
from agent.journal import Journal, Node
from agent.policy import EARLY_DRAFTS, SIZED_DRAFTS, Policy, ensemble_pool
from agent.timing import ENSEMBLE_MIN_RESERVE, MIN_NODE_SECONDS, Budget, StepTimes


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def leave(self, budget: Budget, seconds: float) -> None:
        """Move the clock so that `seconds` of the budget are left."""
        self.now = budget.deadline - seconds


def policy_for(settings: Settings, total: float = 100.0, greater_is_better: bool = True) -> tuple[Policy, Budget, Clock]:
    clock = Clock()
    budget = Budget(total, clock=clock)
    return Policy(settings, greater_is_better, random.Random(0), StepTimes(settings, budget)), budget, clock


def adder(journal: Journal):
    def add(step: str, score: float | None, parents: list[str] = (), recipe: str = "r", seconds: float = 2.0) -> Node:
        node = Node(id=journal.new_id(), step=step, parents=list(parents), status="ok" if score else "failed",
                    score=score, seconds=seconds, recipe=recipe)
        journal.record(node)
        return node

    return add


def test_drafts_then_ensemble_then_improve_then_tune_late_and_a_final_ensemble(tmp_path: Path) -> None:
    policy, budget, clock = policy_for(Settings(num_drafts=2, tune_share=0.25, debug_prob=0.0))
    journal = Journal(tmp_path / "journal.jsonl")
    add = adder(journal)
    assert policy.next(journal).kind == "draft"
    add("draft", 0.80, recipe="a")
    assert policy.next(journal).kind == "draft"
    add("draft", 0.82, recipe="b")
    assert policy.next(journal).kind == "ensemble"
    add("ensemble", 0.83, ["0001", "0002"])
    action = policy.next(journal)
    assert action.kind == "improve" and action.parent.id == "0002"  # the best single node, not the ensemble
    add("improve", 0.84, ["0002"], recipe="b")
    clock.leave(budget, 20)  # late: the last quarter of the budget
    action = policy.next(journal)
    assert action.kind == "tune" and action.parent.id == "0004"
    add("tune", 0.845, ["0004"], recipe="b")
    assert policy.next(journal).kind == "ensemble"  # tuning changed the pool
    add("ensemble", 0.85, ensemble_pool(journal, True))
    action = policy.next(journal)
    assert action.kind == "tune" and action.parent.id == "0001"  # recipe b is tuned; a is the next best recipe
    clock.leave(budget, 9)  # inside the reserve kept for the final ensemble
    add("improve", 0.81, ["0001"], recipe="a")
    assert policy.next(journal).kind == "ensemble"
    add("ensemble", 0.85, ensemble_pool(journal, True))
    assert policy.next(journal).kind == "stop"


def test_a_slow_first_draft_leaves_its_time_to_a_network_sized_to_its_limit(tmp_path: Path) -> None:
    """Statistics of 237,000 image files took 280 s of a 600 s run: a draft of that length no longer fits,
    the image network, which trains for the time it is given, still does."""
    policy, budget, clock = policy_for(Settings(num_drafts=5, debug_prob=0.0), total=600)
    journal = Journal(tmp_path / "journal.jsonl")
    adder(journal)("draft", 0.95, recipe="file_stats_lightgbm", seconds=280)
    clock.leave(budget, 303)
    assert not policy.times.fits(journal) and policy.times.fits(journal, sized=True)
    action = policy.next(journal)
    assert (action.kind, action.sized_only) == ("draft", True)
    policy.exhausted.add(SIZED_DRAFTS)  # the engineer has no such draft left
    assert policy.next(journal).kind in ("tune", "stop")
    clock.leave(budget, 150)  # half the slow draft's time does not fit either
    assert not policy.times.fits(journal, sized=True)


def test_drafts_the_engineer_held_back_from_the_first_round_come_once_the_best_recipes_edits_are_spent(
        tmp_path: Path) -> None:
    policy, budget, clock = policy_for(Settings(num_drafts=3, tune_share=0.25, debug_prob=0.0), total=1000)
    journal = Journal(tmp_path / "journal.jsonl")
    add = adder(journal)
    assert policy.next(journal).early
    add("draft", 0.80, recipe="a")
    add("draft", 0.82, recipe="b")
    policy.exhausted.add(EARLY_DRAFTS)  # the engineer had no third draft for the first round
    assert policy.next(journal).kind == "ensemble"
    add("ensemble", 0.83, ["0001", "0002"])
    action = policy.next(journal)
    assert action.kind == "improve" and action.parent.id == "0002"
    policy.exhausted.add("improve", action.parent)
    action = policy.next(journal)
    assert action.kind == "draft" and not action.early  # now the draft held back


def best_recipe_improved(tmp_path: Path):
    """Two drafts and their ensemble, with no edit of the better draft (recipe b) left to try."""
    policy, budget, clock = policy_for(Settings(num_drafts=2, tune_share=0.25, debug_prob=0.0))
    journal = Journal(tmp_path / "journal.jsonl")
    add = adder(journal)
    add("draft", 0.80, recipe="a")
    add("draft", 0.82, recipe="b")
    add("ensemble", 0.83, ["0001", "0002"])
    policy.exhausted.add("improve", journal.get("0002"))
    return policy, budget, clock, journal, add


def test_once_a_tuning_gain_fails_on_fresh_folds_tuning_waits_for_everything_else(tmp_path: Path) -> None:
    policy, budget, clock, journal, add = best_recipe_improved(tmp_path)
    policy.exhausted.add("draft")
    clock.leave(budget, 20)  # late: the last quarter of the budget
    tuned = add("tune", 0.816, ["0002"], recipe="b")  # its score as re-checked: below its parent
    journal.record(tuned.model_copy(update={"facts": {"fresh_folds_gain": -0.004}}))
    add("ensemble", 0.83, ensemble_pool(journal, True))
    action = policy.next(journal)
    assert action.kind == "improve" and action.parent.id == "0001"  # before tuning recipe a
    policy.exhausted.add("improve", journal.get("0001"))
    action = policy.next(journal)
    assert action.kind == "tune" and action.parent.id == "0001"  # nothing else is left


def test_a_recipe_not_drafted_yet_comes_before_tuning_until_late(tmp_path: Path) -> None:
    policy, budget, clock, journal, add = best_recipe_improved(tmp_path)
    assert policy.next(journal).kind == "draft"  # a third recipe, not a tuning of b
    add("draft", 0.79, recipe="c")
    clock.leave(budget, 20)  # late: the last quarter belongs to tuning
    action = policy.next(journal)
    assert action.kind == "tune" and action.parent.id == "0002"
    policy.exhausted.add("tune", journal.get("0002"))
    policy.exhausted.add("tune", journal.get("0001"))
    policy.exhausted.add("tune", journal.get("0004"))
    policy.exhausted.add("improve", journal.get("0001"))
    policy.exhausted.add("improve", journal.get("0004"))
    assert policy.next(journal).kind == "draft"  # nothing else left: still a draft while one fits


def test_once_the_best_recipes_are_done_the_others_are_improved_and_tuned(tmp_path: Path) -> None:
    policy, budget, clock = policy_for(Settings(num_drafts=4, tune_share=0.25, debug_prob=0.0))
    journal = Journal(tmp_path / "journal.jsonl")
    add = adder(journal)
    for score, recipe in ((0.80, "a"), (0.82, "b"), (0.81, "c"), (0.70, "weak")):
        add("draft", score, recipe=recipe)
    add("ensemble", 0.83, ensemble_pool(journal, True))
    policy.exhausted.add("draft")
    for node in list(journal)[:3]:  # the three best recipes: nothing more to improve or tune
        policy.exhausted.add("improve", node)
        policy.exhausted.add("tune", node)
    action = policy.next(journal)
    assert action.kind == "improve" and action.parent.recipe == "weak"  # an ensemble member, not idle time
    policy.exhausted.add("improve", journal.get("0004"))
    action = policy.next(journal)
    assert action.kind == "tune" and action.parent.recipe == "weak"
    policy.exhausted.add("tune", journal.get("0004"))
    assert policy.next(journal).kind == "stop"


def test_a_stop_says_why_in_seconds(tmp_path: Path) -> None:
    policy, budget, clock = policy_for(Settings(num_drafts=1, tune_share=0.0, debug_prob=0.0))
    journal = Journal(tmp_path / "journal.jsonl")
    add = adder(journal)
    add("draft", 0.8, recipe="a", seconds=30.0)
    add("draft", 0.7, recipe="b", seconds=30.0)
    for node in journal:
        policy.exhausted.add("tune", node)  # too short to tune: the search gives up on it and says so
        policy.exhausted.add("improve", node) if node.id == "0002" else None
    policy.exhausted.add("draft")
    policy.exhausted.add("ensemble")
    clock.leave(budget, 30)  # 15 s after the ensemble's reserve (15% of 100 s); improving node 0001 takes ~30
    action = policy.next(journal)
    assert action.kind == "stop"
    assert "the cheapest next step, improving node 0001, needs about 40 s and 15 s can be spent" in action.reason, \
        action.reason
    assert action.reason.startswith("stopping: 30 s left (15 s of it kept for the final ensemble)"), action.reason
    policy.exhausted.add("improve", journal.get("0001"))
    assert "nothing is left to try" in policy.next(journal).reason
    clock.leave(budget, 6)
    assert "no candidate can start" in policy.next(journal).reason


def test_a_short_budget_drafts_at_once_and_keeps_no_reserve_before_two_candidates(tmp_path: Path) -> None:
    policy, budget, clock = policy_for(Settings(num_drafts=3, debug_prob=0.0), total=15.0)
    journal = Journal(tmp_path / "journal.jsonl")
    clock.leave(budget, 12)  # start-up and data took 3 s
    assert policy.times.reserve(journal) == 0 and policy.next(journal).kind == "draft"
    assert policy.times.node_limit(journal) == pytest.approx(12)
    adder(journal)("draft", 0.8, recipe="a")
    adder(journal)("draft", 0.7, recipe="b")
    assert policy.times.reserve(journal) == pytest.approx(0.15 * 15)  # never most of a short budget


def test_the_reserve_grows_with_the_slowest_ensemble(tmp_path: Path) -> None:
    policy, budget, _ = policy_for(Settings(), total=600.0)
    journal = Journal(tmp_path / "journal.jsonl")
    add = adder(journal)
    add("draft", 0.8, recipe="a")
    add("draft", 0.7, recipe="b")
    assert policy.times.reserve(journal) == ENSEMBLE_MIN_RESERVE
    add("draft", 0.75, recipe="c", seconds=16.0)  # before any ensemble: as the cheapest candidate's time says
    add("draft", 0.76, recipe="d", seconds=120.0)
    journal.record(journal.get("0001").model_copy(update={"seconds": 20.0}))
    journal.record(journal.get("0002").model_copy(update={"seconds": 30.0}))
    assert policy.times.reserve(journal) == pytest.approx(1.5 * 16)
    add("ensemble", 0.81, ["0001", "0002"], seconds=20.0)
    assert policy.times.reserve(journal) == 40.0
    assert StepTimes(Settings(), budget, ensembles=False).reserve(journal) == 0  # masks, spans: no blend to wait for


def test_a_step_starts_only_when_its_expected_time_fits(tmp_path: Path) -> None:
    policy, budget, clock = policy_for(Settings(), total=600.0)
    journal = Journal(tmp_path / "journal.jsonl")
    slow = adder(journal)("draft", 0.8, recipe="a", seconds=100.0)
    times = policy.times
    clock.leave(budget, 1.25 * 100 + 2 + 1)  # one reserve-free candidate: no reserve yet
    assert times.fits(journal, slow)
    clock.leave(budget, 1.25 * 100 + 2 - 1)
    assert not times.fits(journal, slow) and times.fits(journal, None) is False  # a draft takes the typical draft's
    clock.leave(budget, MIN_NODE_SECONDS)
    assert not times.can_start(journal)


def test_a_network_sized_to_its_limit_starts_with_half_its_parents_time(tmp_path: Path) -> None:
    policy, budget, clock = policy_for(Settings(num_drafts=1, tune_share=0.0, debug_prob=0.0), total=600.0)
    journal = Journal(tmp_path / "journal.jsonl")
    unet = adder(journal)("draft", 0.7, recipe="unet", seconds=200.0)
    policy.exhausted.add("draft")
    policy.exhausted.add("tune", unet)
    clock.leave(budget, 1.25 * 100 + 2 + 1)  # far from its 200 s, above half of it
    assert policy.next(journal).kind == "stop"  # a model of fixed size would be killed at its limit
    journal.record(unet.model_copy(update={"sized_to_time": True}))
    action = policy.next(journal)
    assert (action.kind, action.parent.id) == ("improve", unet.id)
    assert policy.times.node_limit(journal) == pytest.approx(128)  # all that is left: it plans its epochs from it
    clock.leave(budget, 1.25 * 100 + 2 - 1)
    assert policy.next(journal).kind == "stop"


def test_a_tune_window_leaves_room_for_the_rerun_and_gives_up_below_four_runs(tmp_path: Path) -> None:
    policy, budget, clock = policy_for(Settings(tune_share=0.5), total=600.0)
    parent = Node(id="0001", step="draft", status="ok", score=0.8, seconds=10.0)
    window = policy.times.tune_window(parent, available=100.0, cap=300.0)
    assert window.trial_seconds == pytest.approx(100 - 1.5 * 10 - 5) and window.limit == pytest.approx(100)
    assert policy.times.tune_window(parent, available=100.0, cap=45.0).trial_seconds == 45.0
    assert policy.times.tune_window(parent, available=60.0, cap=300.0).trial_seconds == pytest.approx(40)
    assert policy.times.tune_window(parent, available=59.0, cap=300.0) is None  # 39 s of trials < four runs


def test_the_ensemble_pool_keeps_one_node_per_recipe_and_score_but_every_recipe(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    add = adder(journal)
    add("draft", 0.9, recipe="a")
    add("draft", 0.9, recipe="b")  # the same accuracy by another model: still a member
    add("tune", 0.9, ["0001"], recipe="a")  # a tune that kept its parent's parameters adds nothing
    add("draft", 0.85, recipe="c")
    assert ensemble_pool(journal, True) == ["0001", "0002", "0004"]
    lucky = add("tune", 0.95, ["0002"], recipe="b")
    journal.record(lucky.model_copy(update={"facts": {"fresh_folds_gain": -0.01}}))
    assert ensemble_pool(journal, True) == ["0001", "0002", "0004"]  # its gain did not hold on fresh folds
    prior = add("draft", 0.5, recipe="class_prior")
    journal.record(prior.model_copy(update={"facts": {"constant_predictions": True}}))
    assert ensemble_pool(journal, True) == ["0001", "0002", "0004"]  # one row repeated: nothing to weigh


def test_a_lower_is_better_metric_ranks_the_smallest_first(tmp_path: Path) -> None:
    policy, budget, _ = policy_for(Settings(num_drafts=1, debug_prob=0.0), greater_is_better=False)
    journal = Journal(tmp_path / "journal.jsonl")
    add = adder(journal)
    add("draft", 0.30, recipe="a")
    add("draft", 0.20, recipe="b")
    add("ensemble", 0.21, ["0001", "0002"])
    action = policy.next(journal)
    assert action.kind == "improve" and action.parent.id == "0002"
