"""What the search does next: draft, improve, debug, tune, ensemble or stop, and what the LLM is asked.

The policy reads the journal and the clock and decides; the search carries the step out. They talk
through typed values: an `Action` one way, `Exhausted.add` (nothing more to do of a kind, or on
a node) the other.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from agent.config import Settings
from agent.engineers.base import Ask
from agent.gains import tuning_held
from agent.journal import Journal, Node
from agent.timing import StepTimes

StepKind = Literal["draft", "improve", "debug", "tune", "ensemble"]

ENSEMBLE_MAX_MEMBERS = 8
TOP_RECIPES = 3  # improved and tuned; work on a weak recipe rarely beats the best
LLM_DRAFTS = 3  # the LLM's own first solutions before it improves the best
LLM_TRIES_ON_ONE_NODE = 3  # changes to one node that did not help before the LLM works on the runner-up


@dataclass
class Action:
    kind: Literal["draft", "improve", "debug", "tune", "ensemble", "stop"]
    parent: Node | None = None
    early: bool = False  # a draft of the first round (`Ask.early`)
    sized_only: bool = False  # a draft in less time than drafts took (`Ask.sized_only`)
    reason: str = ""  # why a stop: said to the user, who otherwise sees a run end early without a word


EARLY_DRAFTS = "early drafts"  # exhausted when the engineer holds its other drafts back for later
SIZED_DRAFTS = "sized drafts"  # exhausted when the engineer has no draft left that sizes its work to its limit


@dataclass
class Exhausted:
    """Steps with nothing more to offer: a kind as a whole (drafts, ensembles) or one kind on one node."""

    kinds: set[str] = field(default_factory=set)
    on_nodes: set[tuple[str, str]] = field(default_factory=set)

    def add(self, kind: str, node: Node | None = None) -> None:
        if node is None:
            self.kinds.add(kind)
        else:
            self.on_nodes.add((kind, node.id))

    def has(self, kind: str, node: Node | None = None) -> bool:
        return kind in self.kinds if node is None else (kind, node.id) in self.on_nodes


def single_candidates(journal: Journal, greater_is_better: bool) -> list[Node]:
    """Good nodes that are not ensembles, best first."""
    return journal.ranked(greater_is_better, (n for n in journal if n.step != "ensemble"))


def ensemble_pool(journal: Journal, greater_is_better: bool) -> list[str]:
    """The best node of every recipe (diversity is what ensembles feed on), then the next best nodes;
    one node per recipe and score (a tune that kept its parent's parameters adds nothing). A tune
    whose parameters gained nothing on fresh folds is left out: its out-of-fold predictions are the
    luckiest of many trials, and a blend would be fitted to that luck. A node that predicts the same for
    every row (the class shares) gives a blend nothing to weigh."""
    ranked = [n for n in single_candidates(journal, greater_is_better)
              if tuning_held(n) and not n.facts.get("constant_predictions")]
    leaders = {n.recipe: n for n in reversed(ranked)}.values()
    pool: list[Node] = []
    for node in [*sorted(leaders, key=ranked.index), *ranked]:
        if len(pool) < ENSEMBLE_MAX_MEMBERS and not any(
                node.recipe == other.recipe and abs(node.score - other.score) <= 1e-12 for other in pool):
            pool.append(node)
    return sorted(n.id for n in pool)


def tuning_pays(journal: Journal) -> bool:
    """False once a tuning's parameters gained nothing on fresh folds: on this data the next tuning
    is more likely to buy luck on the tuning folds than a better model, so other steps go first."""
    return all(tuning_held(n) for n in journal if n.step == "tune")


def best_of_recipes(singles: list[Node], top: int | None = TOP_RECIPES) -> dict[str, Node]:
    """The best node of each of the `top` best recipes (None: of every recipe), best recipe first."""
    best: dict[str, Node] = {}
    for node in singles:
        best.setdefault(node.recipe, node)
    return dict(list(best.items())[:top])


@dataclass
class Policy:
    """What to do next with the time left.

    1. Drafts: the engineer's diverse first solutions (fast and strong ones first, so a valid
       submission comes early); it may hold some back from this round (`Ask.early`) for step 3.
    2. An ensemble of the drafts once they are made (`num_drafts`, or fewer when no more fit).
    3. Improvements of the best single candidate (each one an edit tested by cross-validation),
       with a chance of debugging a failed leaf instead; when its edits run out, the recipes not
       drafted yet (a new model family gains more than tuning one, and the ensemble feeds on it),
       then tuning, then improvements of the runner-up recipes. When a draft of the usual length no
       longer fits, a network that sizes its training to its limit is still drafted in what is left.
    4. Optuna tuning of the best untuned candidates once the budget is mostly spent (or when
       nothing is left to improve), and an ensemble after each tuning. Once a tuning's gain has
       not held on fresh folds, tuning waits until no improvement, fix or draft is left.
    5. When nothing is left to do on the few best recipes, improvements and tunings of the others:
       they are the ensemble's members, and time left idle buys nothing.
    6. A final ensemble in the reserve kept for it at the end, when the candidates changed.
    Nothing is started that is not expected to finish before that reserve (agent.timing).
    """

    settings: Settings
    greater_is_better: bool
    rng: random.Random
    times: StepTimes
    exhausted: Exhausted = field(default_factory=Exhausted)
    llm_name: str | None = None  # a background engineer's nodes do not count as the main engineer's drafts

    def next(self, journal: Journal) -> Action:
        if self.full(journal):
            return Action("stop", reason=f"stopping: {len(journal)} candidates made, the max_nodes setting")
        singles = single_candidates(journal, self.greater_is_better)
        new_pool = self._new_pool(journal)
        if not self.times.can_start(journal):
            return Action("ensemble") if new_pool else Action("stop", reason=self._why_no_time(journal))
        drafts = sum(1 for n in journal if n.step == "draft" and n.engineer != self.llm_name)
        if drafts < self.settings.num_drafts and not self.exhausted.has("draft") \
                and not self.exhausted.has(EARLY_DRAFTS) and self.times.fits(journal):
            return Action("draft", early=True)
        last = next(reversed(journal.nodes.values()), None)
        ensembles = [n for n in journal if n.step == "ensemble"]
        if new_pool and (not ensembles or (last is not None and last.step == "tune")):
            return Action("ensemble")
        tune = self._tune_target(journal, singles)
        pays = tuning_pays(journal)
        if tune is not None and pays and self.times.budget.used_share >= 1.0 - self.settings.tune_share:
            return Action("tune", tune)
        buggy = [n for n in self._debuggable(journal) if self.times.fits(journal, n)]
        if buggy and self.rng.random() < self.settings.debug_prob:
            return Action("debug", self.rng.choice(buggy))
        improve = self._improve_target(journal, singles)
        if improve is not None and (improve is singles[0] or tune is None or not pays):
            return Action("improve", improve)
        if not self.exhausted.has("draft") and self.times.fits(journal):
            return Action("draft")  # a model not tried yet gains more than tuning one that was, the ensemble too
        if not self.exhausted.has("draft") and not self.exhausted.has(SIZED_DRAFTS) \
                and self.times.fits(journal, sized=True):
            return Action("draft", sized_only=True)  # a network that fits its training to the time left
        if tune is not None and pays:
            return Action("tune", tune)
        if improve is not None:
            return Action("improve", improve)
        if buggy:
            return Action("debug", buggy[0])
        if tune is not None:
            return Action("tune", tune)
        if (member := self._improve_target(journal, singles, top=None)) is not None:
            return Action("improve", member)
        if (member := self._tune_target(journal, singles, top=None)) is not None:
            return Action("tune", member)
        return Action("ensemble") if new_pool else Action("stop", reason=self._why_stop(journal, singles))

    def full(self, journal: Journal) -> bool:
        """Whether the run has made as many candidates as it may (max_nodes)."""
        return self.settings.max_nodes is not None and len(journal) >= self.settings.max_nodes

    def _new_pool(self, journal: Journal) -> bool:
        """Whether the best candidates form a pool no ensemble has been made of yet."""
        pool = ensemble_pool(journal, self.greater_is_better)
        made = {frozenset(n.parents) for n in journal if n.step == "ensemble"}
        return len(pool) >= 2 and frozenset(pool) not in made and not self.exhausted.has("ensemble")

    def _debuggable(self, journal: Journal) -> list[Node]:
        return [
            n for n in journal
            if n.status == "failed" and n.step in ("draft", "improve", "debug") and not journal.children(n.id)
            and journal.depth(n, "debug") < self.settings.max_debug_depth and not self.exhausted.has("debug", n)
        ]

    def _improve_target(self, journal: Journal, singles: list[Node], top: int | None = TOP_RECIPES) -> Node | None:
        """The best node of the best recipe that still has untried improvements (and time for them).

        The best recipe comes first; when its edits run out, the runners-up are improved too, which
        also makes the ensemble's members stronger.
        """
        for node in best_of_recipes(singles, top).values():
            if not self.exhausted.has("improve", node) and self.times.fits(journal, node):
                return node
        return None

    def _tune_target(self, journal: Journal, singles: list[Node], top: int | None = TOP_RECIPES) -> Node | None:
        """The best node of the best recipe not tuned yet, among the `top` best recipes (tuning one
        variant of a recipe tells most of what tuning another would)."""
        tuned = {n.recipe for n in journal if n.step == "tune"}
        for recipe, node in best_of_recipes(singles, top).items():
            done = node.step == "tune" or any(c.step == "tune" for c in journal.children(node.id))
            if not done and recipe not in tuned and not self.exhausted.has("tune", node):
                return node
        return None

    def llm_ask(self, journal: Journal) -> Ask:
        """The LLM's next step: fix its latest failure, else its own drafts, else improve the best
        single candidate, or the runner-up recipe once changes to the best keep failing to help."""
        mine = [n for n in journal if n.engineer == self.llm_name]
        broken = [n for n in mine if n.status == "failed" and n.step in ("draft", "improve", "debug")
                  and not journal.children(n.id) and journal.depth(n, "debug") < self.settings.max_debug_depth]
        if broken:
            return Ask("debug", broken[-1], "your latest solution failed")
        singles = single_candidates(journal, self.greater_is_better)
        if sum(n.step == "draft" for n in mine) < LLM_DRAFTS or not singles:
            return Ask("draft")
        for rank, node in enumerate(best_of_recipes(singles).values()):
            tried = [c for c in journal.children(node.id) if c.engineer == self.llm_name and c.step == "improve"]
            if sum(not c.ok or (c.gain or 0) <= 0 for c in tried) < LLM_TRIES_ON_ONE_NODE:
                why = ("the best solution so far" if rank == 0 else
                       f"the best of the runner-up recipe '{node.recipe}' (rank {rank + 1}): "
                       f"{LLM_TRIES_ON_ONE_NODE} changes to each better one did not help, and a stronger "
                       "runner-up also strengthens the ensemble")
                return Ask("improve", node, why)
        return Ask("draft")

    def _left(self, journal: Journal) -> str:
        return (f"{self.times.budget.remaining:.0f} s left ({self.times.reserve(journal):.0f} s of it kept for "
                "the final ensemble)")

    def _why_no_time(self, journal: Journal) -> str:
        return f"stopping: {self._left(journal)}; no candidate can start in what remains"

    def _why_stop(self, journal: Journal, singles: list[Node]) -> str:
        """The time left against the cheapest step still open, in words."""
        open_steps = [(self.times.least(journal, n), f"improving node {n.id}")
                      for n in best_of_recipes(singles, top=None).values() if not self.exhausted.has("improve", n)]
        if not self.exhausted.has("draft"):
            open_steps.append((self.times.expected(journal, None), "another draft"))
        if not open_steps:
            return f"stopping: {self._left(journal)}; nothing is left to try (drafts and improvements are used up)"
        seconds, step = min(open_steps)
        return (f"stopping: {self._left(journal)}; the cheapest next step, {step}, needs about "
                f"{self.times.needed(seconds):.0f} s and {max(0.0, self.times.spare(journal)):.0f} s can be spent")
