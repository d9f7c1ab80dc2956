"""How long each step of the search may take: every time rule of a run, in one place.

A step is started only when it is expected to finish before the reserve kept for the final
ensemble; it is expected to take what its parent took (a draft: what the typical draft took), or
half that where its code sizes itself to its limit, and it may run until the node limit. Estimates
seed these rules; the budget's clock measures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from agent.config import Settings
from agent.journal import Journal, Node

MIN_NODE_SECONDS = 5.0  # less than this and no candidate can start, run and write its results
ENSEMBLE_MIN_RESERVE = 8.0  # seconds kept for the final ensemble, once there is something to ensemble
ENSEMBLE_MAX_RESERVE_SHARE = 0.15  # never more than this share of the budget, so a short run still drafts
MARGIN_FACTOR, MARGIN_SECONDS = 1.25, 2.0  # a step is started when 1.25 x its expected time + 2 s fits
LONG_NODE_SHARE, LONG_NODE_FLOOR = 0.5, 60.0  # one node never takes most of a long budget
UNTIMED_SECONDS = 30.0  # what a node of unknown duration is assumed to take
SIZED_START_SHARE = 0.5  # a network sized to its limit is started with half its parent's time: fewer epochs, not a kill
# A tuning node runs its trials (the re-check on fresh folds takes its time out of theirs), then its
# best parameters once more (1.5 x the parent's time, as a refit of all rows costs more than a fold)
# and starts up (5 s). Of the practice runs' tunings with trials worth under four runs of the parent, 6 of 10
# gained nothing (16 of 19 above it gained; benchmarks/RESULTS.md): that time drafts or improves instead.
TUNE_RERUN_FACTOR, TUNE_START_SECONDS, TUNE_MIN_RUNS = 1.5, 5.0, 4.0


class Budget:
    """Wall-clock budget of the whole run, including time spent before a resume.

    `clock` is injectable so that tests can move time instead of waiting for it.
    """

    def __init__(self, total: float, used_before: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.clock = clock
        self.deadline = clock() + max(0.0, total - used_before)

    @property
    def remaining(self) -> float:
        return max(0.0, self.deadline - self.clock())

    @property
    def used_share(self) -> float:
        return 1.0 - self.remaining / self.total


@dataclass(frozen=True)
class TuneWindow:
    trial_seconds: float  # what Optuna's trials may take
    limit: float  # the tuning node's whole limit: trials, the rerun of the best and start-up


class StepTimes:
    """The time rules of one run over its journal: the reserve, what a step needs, its limit."""

    def __init__(self, settings: Settings, budget: Budget, ensembles: bool = True) -> None:
        self.settings = settings
        self.budget = budget
        self.ensembles = ensembles  # False where answers are not numbers per row: nothing to blend, nothing kept

    def reserve(self, journal: Journal) -> float:
        """Seconds kept for the final ensemble: none before two candidates exist; then twice the
        slowest ensemble so far, or before the first, 1.5 times the fastest candidate (reading and
        blending many targets' predictions costs about what the cheapest model does); at least
        ENSEMBLE_MIN_RESERVE, at most a share of the budget."""
        singles = [n.seconds or 0.0 for n in journal if n.ok and n.step != "ensemble"]
        if len(singles) < 2 or not self.ensembles:
            return 0.0
        took = [2 * (n.seconds or 0.0) for n in journal if n.step == "ensemble"] or [1.5 * min(singles)]
        return min(max([ENSEMBLE_MIN_RESERVE, *took]), ENSEMBLE_MAX_RESERVE_SHARE * self.budget.total)

    def spare(self, journal: Journal) -> float:
        """Seconds that steps may still take before the reserve."""
        return self.budget.remaining - self.reserve(journal)

    @staticmethod
    def expected(journal: Journal, parent: Node | None) -> float:
        """A guess of how long a step on `parent` takes: its parent's time, or the typical draft's."""
        if parent is not None and parent.step == "tune" and parent.parent:
            parent = journal.get(parent.parent)  # a tune ran many trials; one run of its code takes its parent's time
        if parent is not None and parent.seconds:
            return parent.seconds
        drafts = sorted(n.seconds for n in journal if n.step == "draft" and n.seconds)
        return drafts[len(drafts) // 2] if drafts else 0.0

    @staticmethod
    def needed(expected: float) -> float:
        """What must be spare to start a step expected to take `expected` seconds."""
        return MARGIN_FACTOR * expected + MARGIN_SECONDS

    def least(self, journal: Journal, parent: Node | None, sized: bool = False) -> float:
        """The fewest seconds worth starting a step on `parent` with: what it is expected to take, or a
        share of that where its code sizes its work to the time it is given (`sized`: a draft that does)."""
        expected = self.expected(journal, parent)
        return SIZED_START_SHARE * expected if sized or (parent is not None and parent.sized_to_time) else expected

    def fits(self, journal: Journal, parent: Node | None = None, sized: bool = False) -> bool:
        """Whether a step on `parent` (a draft: None) is likely to finish: a node killed at its limit is time lost."""
        return self.needed(self.least(journal, parent, sized)) < self.spare(journal)

    def can_start(self, journal: Journal) -> bool:
        return self.spare(journal) > MIN_NODE_SECONDS

    def node_limit(self, journal: Journal) -> float:
        """Seconds one candidate may run: never into the reserve, never most of a long budget."""
        long_budget_cap = max(LONG_NODE_FLOOR, LONG_NODE_SHARE * self.budget.total)
        return max(MIN_NODE_SECONDS, min(self.settings.node_timeout, self.spare(journal), long_budget_cap))

    def ensemble_limit(self) -> float:
        """An ensemble may use what is left, its reserve included: it is what the reserve is for."""
        return max(MIN_NODE_SECONDS, self.budget.remaining)

    def tune_window(self, parent: Node, available: float, cap: float) -> TuneWindow | None:
        """The trials' time and the node's limit for tuning `parent` within `available` seconds, the
        trials at most `cap`; None when fewer than TUNE_MIN_RUNS runs of the parent would fit."""
        run = parent.seconds or UNTIMED_SECONDS
        overhead = TUNE_RERUN_FACTOR * run + TUNE_START_SECONDS
        trials = min(available - overhead, cap)
        return TuneWindow(trials, trials + overhead) if trials >= TUNE_MIN_RUNS * run else None

    def new_tune(self, journal: Journal, parent: Node) -> TuneWindow | None:
        return self.tune_window(parent, self.spare(journal), self.settings.tune_share * self.budget.total)

    def llm_wait(self, journal: Journal) -> float:
        """How long a stopped search may wait for a pending LLM reply: while a node could still run after it."""
        return self.spare(journal) - MIN_NODE_SECONDS
