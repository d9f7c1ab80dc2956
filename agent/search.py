"""The search: a policy picks the next step, an engineer writes code, the sandbox judges it.

In the spirit of AIDE: a journal of nodes, drafts first, then debugging failed leaves or
improving the best, with Optuna tuning of the best candidates once the budget is mostly spent,
and ensembles of the best candidates from their out-of-fold predictions along the way and at the end.
Every node is on disk before it runs and after it ends, so a killed search resumes cleanly.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from agent.config import Settings
from agent.display import Display
from agent.engineers.background import BackgroundProposal
from agent.engineers.base import Ask, Brief, Engineer, Proposal
from agent.journal import Journal, Node
from agent.run_folder import RunFolder, write_atomic, write_point
from agent.sandbox import (Confinement, SandboxResult, empty_folder, python_argv, read_node_file, reclaim,
                           run_sandboxed)
from pipelines.context import Context
from pipelines.device import detect_device
from pipelines.ensemble import ensemble_code
from pipelines.shapes import STRING_SHAPES
from pipelines.rundata import RunData
from pipelines.submission import submission_problems
from pipelines.tables import read_table

log = logging.getLogger(__name__)

MIN_NODE_SECONDS = 5.0
MAX_RESULT_BYTES = 1 << 20
NODE_FILES = ("log.txt", "result.json", "submission.csv", "oof.npy", "test.npy", "standalone.py")  # what the agent reads
MAX_LOG_TAIL_BYTES = 64 << 10
MAX_NODE_ATTEMPTS = 2  # a node running at two kills in a row is given up, not run at every resume


class Budget:
    """Wall-clock budget of the whole run, including time spent before a resume."""

    def __init__(self, total: float, used_before: float = 0.0) -> None:
        self.total = total
        self.deadline = time.monotonic() + max(0.0, total - used_before)

    @property
    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    @property
    def used_share(self) -> float:
        return 1.0 - self.remaining / self.total


@dataclass
class Action:
    kind: Literal["draft", "improve", "debug", "tune", "ensemble", "stop"]
    parent: Node | None = None
    reason: str = ""  # why a stop: said to the user, who otherwise sees a run end early without a word


ENSEMBLE_MAX_MEMBERS = 8
ENSEMBLE_MIN_RESERVE = 8.0  # seconds kept at the end of the budget for the final ensemble
TOP_RECIPES = 3  # improved and tuned; work on a weak recipe rarely beats the best
LLM_DRAFTS = 3  # the LLM's own first solutions before it improves the best
LLM_TRIES_ON_ONE_NODE = 3  # changes to one node that did not help before the LLM works on the runner-up


def single_candidates(journal: Journal, greater_is_better: bool) -> list[Node]:
    """Good nodes that are not ensembles, best first."""
    sign = 1 if greater_is_better else -1
    return sorted((n for n in journal.good() if n.step != "ensemble"), key=lambda n: (-sign * n.score, int(n.id)))


def ensemble_pool(journal: Journal, greater_is_better: bool) -> list[str]:
    """The best node of every recipe (diversity is what ensembles feed on), then the next best nodes;
    one node per score (a tune that kept its parent's parameters adds nothing)."""
    ranked = single_candidates(journal, greater_is_better)
    leaders = {n.info.get("recipe", n.title): n for n in reversed(ranked)}.values()
    pool: list[Node] = []
    for node in [*sorted(leaders, key=ranked.index), *ranked]:
        if len(pool) < ENSEMBLE_MAX_MEMBERS and all(abs(node.score - other.score) > 1e-12 for other in pool):
            pool.append(node)
    return sorted(n.id for n in pool)


@dataclass
class Policy:
    """What to do next with the time left.

    1. Drafts: the engineer's diverse first solutions (fast and strong ones first, so a valid
       submission comes early).
    2. An ensemble of the drafts, as soon as there are two.
    3. Improvements of the best single candidate (each one an edit tested by cross-validation),
       with a chance of debugging a failed leaf instead; when its edits run out, tuning, then
       improvements of the runner-up recipes.
    4. Optuna tuning of the best untuned candidates once the budget is mostly spent (or when
       nothing is left to improve), and an ensemble after each tuning.
    5. A final ensemble in the reserve kept for it at the end, when the candidates changed.
    Nothing is started that is not expected to finish before that reserve.
    """

    settings: Settings
    greater_is_better: bool
    rng: random.Random
    exhausted: set[str] = field(default_factory=set)
    llm_name: str | None = None  # a background engineer's nodes do not count as the main engineer's drafts

    def _debuggable(self, journal: Journal) -> list[Node]:
        return [
            n for n in journal
            if n.status == "failed" and n.step in ("draft", "improve", "debug") and not journal.children(n.id)
            and journal.depth(n, "debug") < self.settings.max_debug_depth and f"debug:{n.id}" not in self.exhausted
        ]

    def reserve(self, journal: Journal) -> float:
        """Seconds kept for the final ensemble: twice the slowest ensemble so far, at least ENSEMBLE_MIN_RESERVE."""
        took = [n.seconds or 0.0 for n in journal if n.step == "ensemble"]
        return max([ENSEMBLE_MIN_RESERVE] + [2 * t for t in took])

    @staticmethod
    def expected_seconds(journal: Journal, kind: str, parent: Node | None) -> float:
        """A guess of how long the next step takes: its parent's time, or the typical draft's."""
        if parent is not None and parent.step == "tune" and parent.parent:
            parent = journal.get(parent.parent)  # a tune ran many trials; one run of its code takes its parent's time
        if parent is not None and parent.seconds:
            return parent.seconds
        drafts = sorted(n.seconds for n in journal if n.step == "draft" and n.seconds)
        return drafts[len(drafts) // 2] if drafts else 0.0

    @staticmethod
    def _best_of_recipes(singles: list[Node]) -> dict[str, Node]:
        """The best node of each of the few best recipes, best recipe first."""
        best: dict[str, Node] = {}
        for node in singles:
            best.setdefault(node.info.get("recipe", node.title), node)
        return dict(list(best.items())[:TOP_RECIPES])

    def _improve_target(self, journal: Journal, singles: list[Node], fits) -> Node | None:
        """The best node of the best recipe that still has untried improvements (and time for them).

        The best recipe comes first; when its edits run out, the runners-up are improved too, which
        also makes the ensemble's members stronger.
        """
        for node in self._best_of_recipes(singles).values():
            if f"improve:{node.id}" not in self.exhausted and fits("improve", node):
                return node
        return None

    def _tune_target(self, journal: Journal, singles: list[Node]) -> Node | None:
        """The best node of the best recipe not tuned yet, among the few best recipes (tuning one
        variant of a recipe tells most of what tuning another would)."""
        tuned = {n.info.get("recipe", n.title) for n in journal if n.step == "tune"}
        for recipe, node in self._best_of_recipes(singles).items():
            done = node.step == "tune" or any(c.step == "tune" for c in journal.children(node.id))
            if not done and recipe not in tuned and f"tune:{node.id}" not in self.exhausted:
                return node
        return None

    def next(self, journal: Journal, budget: Budget) -> Action:
        singles = single_candidates(journal, self.greater_is_better)
        best = singles[0] if singles else None
        pool = ensemble_pool(journal, self.greater_is_better)
        ensembles = [n for n in journal if n.step == "ensemble"]
        new_pool = len(pool) >= 2 and frozenset(pool) not in {frozenset(n.parents) for n in ensembles} \
            and "ensemble" not in self.exhausted
        spare = budget.remaining - self.reserve(journal)
        # Started only when likely to finish: a node killed at its limit is time lost.
        fits = lambda kind, parent=None: 1.25 * self.expected_seconds(journal, kind, parent) + 2 < spare  # noqa: E731

        if spare <= MIN_NODE_SECONDS:
            return Action("ensemble") if new_pool else Action(
                "stop", reason=f"stopping: {budget.remaining:.0f} s left, kept for the final ensemble "
                               f"({self.reserve(journal):.0f} s)")
        drafts = sum(1 for n in journal if n.step == "draft" and n.engineer != self.llm_name)
        if drafts < self.settings.num_drafts and "draft" not in self.exhausted and fits("draft"):
            return Action("draft")
        last = next(reversed(journal.nodes.values()), None)
        if new_pool and (not ensembles or (last is not None and last.step == "tune")):
            return Action("ensemble")
        target = self._tune_target(journal, singles)
        late = budget.used_share >= 1.0 - self.settings.tune_share
        if target is not None and late:
            return Action("tune", target)
        buggy = [n for n in self._debuggable(journal) if fits("debug", n)]
        if buggy and self.rng.random() < self.settings.debug_prob:
            return Action("debug", self.rng.choice(buggy))
        improve = self._improve_target(journal, singles, fits)
        if improve is not None and (improve is best or target is None):
            return Action("improve", improve)
        if target is not None:
            return Action("tune", target)
        if improve is not None:
            return Action("improve", improve)
        if buggy:
            return Action("debug", buggy[0])
        if "draft" not in self.exhausted and fits("draft"):
            return Action("draft")
        return Action("ensemble") if new_pool else Action("stop", reason=self._why_stop(journal, budget, singles))

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
        leaders = list(self._best_of_recipes(singles).values())
        for rank, node in enumerate(leaders):
            tried = [c for c in journal.children(node.id) if c.engineer == self.llm_name and c.step == "improve"]
            if sum(not c.ok or (c.info.get("gain") or 0) <= 0 for c in tried) < LLM_TRIES_ON_ONE_NODE:
                why = ("the best solution so far" if rank == 0 else
                       f"the best of the runner-up recipe '{node.info.get('recipe', node.title)}' (rank {rank + 1}): "
                       f"{LLM_TRIES_ON_ONE_NODE} changes to each better one did not help, and a stronger "
                       "runner-up also strengthens the ensemble")
                return Ask("improve", node, why)
        return Ask("draft")

    def _why_stop(self, journal: Journal, budget: Budget, singles: list[Node]) -> str:
        """The time left against the cheapest step still open, in words."""
        left = f"{budget.remaining:.0f} s left ({self.reserve(journal):.0f} s of it kept for the final ensemble)"
        open_steps = [(self.expected_seconds(journal, "improve", n), f"improving node {n.id}")
                      for n in self._best_of_recipes(singles).values() if f"improve:{n.id}" not in self.exhausted]
        if "draft" not in self.exhausted:
            open_steps.append((self.expected_seconds(journal, "draft", None), "another draft"))
        if not open_steps:
            return f"stopping: {left}; nothing is left to try (drafts and improvements are used up)"
        seconds, step = min(open_steps)
        spare = max(0.0, budget.remaining - self.reserve(journal))
        return (f"stopping: {left}; the cheapest next step, {step}, needs about {1.25 * seconds + 2:.0f} s "
                f"and {spare:.0f} s can be spent")


STANDALONE_HEADER = '''# Node {node_id} of a kagglewright run: `python standalone.py`, from any folder, reruns it on the run's data.
try:
    import pipelines  # noqa: F401  (the harness the solution runs under)
except ImportError:
    raise SystemExit("standalone.py needs the kagglewright package: pip install kagglewright "
                     "(or run it with the Python that made the run)") from None
'''

STANDALONE_FOOTER = '''

if __name__ == "__main__":
    # The same data, folds, seed and parameters the agent used, from the run folder this file is in
    # (wherever it has moved). Writes submission.csv into the current folder and prints the CV score.
    from pipelines.standalone import reproduce

    reproduce(__file__, params={params!r}, seed={seed!r}, refit={refit!r})
'''


class Search:
    def __init__(self, run: RunFolder, data: RunData, brief: Brief, engineer: Engineer, settings: Settings,
                 budget: Budget, display: Display) -> None:
        self.run = run
        self.data = data
        self.spec = data.spec
        self.brief = brief
        self.engineer = engineer
        self.settings = settings
        self.budget = budget
        self.display = display
        self.journal = Journal(run.journal_path)
        self.device = detect_device()
        self.policy = Policy(settings, self.spec.greater_is_better, random.Random(settings.seed + len(self.journal)))
        # An engineer may bring a slower partner (the LLM) that is asked in the background.
        self.llm: Engineer | None = getattr(engineer, "llm", None)
        self.llm_after_drafts: int = getattr(engineer, "builtin_drafts", 0)
        self.thinking = BackgroundProposal()
        if self.llm is not None:
            self.policy.llm_name = self.llm.name
        self.best: Node | None = None  # the node whose submission is the run's (see _restore_submission)
        # Time-ordered folds train their early models on a short past; a forecast is made by one
        # model on every row instead.
        self.refit = settings.refit or self.spec.time_column is not None
        self.inputs = prepared_inputs(run, data)

    # --- the loop ------------------------------------------------------------------------------

    def run_loop(self) -> Node | None:
        self._restore_submission()
        self._rerun_interrupted()
        while self.budget.remaining > MIN_NODE_SECONDS:
            if (reply := self.thinking.take()) is not None:
                self._run_reply(*reply)
                continue
            self._keep_llm_thinking()
            action = self.policy.next(self.journal, self.budget)
            log.info("next step: %s%s", action.kind, f" of node {action.parent.id}" if action.parent else "")
            if action.kind == "stop":
                if self._wait_for_llm():
                    continue
                log.info(action.reason)
                self.display.note(action.reason)
                break
            if action.kind == "tune":
                self._tune(action.parent)
                continue
            if action.kind == "ensemble":
                self._ensemble()
                continue
            proposal = self.engineer.propose(Ask(action.kind, action.parent), self.brief, self.journal, self.run)
            if proposal is None:
                self.policy.exhausted.add(action.kind if action.parent is None else f"{action.kind}:{action.parent.id}")
                continue
            parents = [action.parent.id] if action.parent else []
            self.execute(proposal, action.kind, parents, timeout=self._node_limit())
        else:  # the loop ran out of time rather than choosing to stop
            log.info("stopping: the budget is spent (%.0f s left)", self.budget.remaining)
            self.display.note(f"stopping: the budget is spent ({self.budget.remaining:.0f} s left)")
        if self.thinking.busy:
            log.info("stopping with the LLM's %s step unanswered: the budget is spent", self.thinking.ask.kind)
        return self.best

    # --- the LLM beside the built-in steps --------------------------------------------------------

    def _keep_llm_thinking(self) -> None:
        """One LLM call in flight whenever the LLM can take one, made from a snapshot of the journal."""
        if self.llm is None or not self.thinking.idle or not getattr(self.llm, "available", True):
            return
        builtin_drafts = sum(1 for n in self.journal if n.step == "draft" and n.engineer != self.llm.name
                             and n.status != "running")
        if builtin_drafts < self.llm_after_drafts and "draft" not in self.policy.exhausted:
            return
        ask = self.policy.llm_ask(self.journal)
        snapshot = self.journal.snapshot()
        log.info("asking the LLM for a %s step%s in the background", ask.kind,
                 f" on node {ask.parent.id} ({ask.why})" if ask.parent else "")
        self.thinking.start(ask, lambda: self.llm.propose(ask, self.brief, snapshot, self.run))

    def _run_reply(self, ask: Ask, proposal: Proposal | None) -> None:
        if proposal is None:  # no reply (the call failed, the LLM stopped): nothing to run
            return
        parents = [ask.parent.id] if ask.parent else []
        self.execute(proposal, ask.kind, parents, timeout=self._node_limit())

    def _wait_for_llm(self) -> bool:
        """With no built-in step left, wait for the pending LLM reply while a node could still run after it."""
        if not self.thinking.busy:
            return False
        log.info("waiting for the LLM's %s step: no built-in step is left", self.thinking.ask.kind)
        return self.thinking.wait(self.budget.remaining - self.policy.reserve(self.journal) - MIN_NODE_SECONDS)

    def _restore_submission(self) -> None:
        """The run's submission as a kill may have left it: the installed best node's (best/node.json),
        replaced by any better node recorded before the kill could install it; the prior when no
        node has a valid one, or when the file is missing or not valid."""
        installed = self._read_json(self.run.best_dir / "node.json").get("id")
        self.best = self.journal.nodes.get(installed) if installed else None
        for node in self.journal.good():
            self._promote_if_best(node)
        if self._submission_problems(self.run.submission_path):
            if self.best is not None:
                self._install(self.best)
            else:
                self._write_prior_submission()

    def _write_prior_submission(self) -> None:
        """A valid submission from the start: the training target's prior (a constant), which the
        first candidate to finish replaces. A run whose candidates all fail or run out of time
        (data too large for the budget, an unforeseen layout) still leaves a file to grade."""
        from pipelines.harness import prior_prediction
        from pipelines.metrics import get_metric
        from pipelines.shapes import masks
        from pipelines.shapes.strings import fallback_answers
        from pipelines.submission import write_submission
        from pipelines.targets import encode_target, submission_frame

        ids = self.data.test[self.spec.id_column]
        if self.spec.answer_shape == "mask":
            frame = masks.empty_submission(ids, self.spec)
        elif self.spec.answer_shape in STRING_SHAPES:
            frame = submission_frame(ids, fallback_answers(self.data.train, self.data.test, self.spec), self.spec)
        else:
            y = encode_target(self.data.train, self.spec)
            raw = prior_prediction(y, self.spec, get_metric(self.spec.metric), len(self.data.test))
            frame = submission_frame(ids, raw, self.spec)
        write_point("prior")
        write_submission(frame, self.data.sample, self.spec, self.run.submission_path)
        log.info("wrote the prior submission %s; the first candidate to finish replaces it", self.run.submission_path)

    def _node_limit(self) -> float:
        """Seconds one candidate may run: never into the final ensemble's reserve, never most of a long budget."""
        spare = self.budget.remaining - self.policy.reserve(self.journal)
        return max(MIN_NODE_SECONDS, min(self.settings.node_timeout, spare, max(60.0, 0.5 * self.budget.total)))

    def _tune(self, parent: Node) -> None:
        self.policy.exhausted.add(f"tune:{parent.id}")
        code = self.run.code(parent.id)
        if "def search_space" not in code or self.spec.answer_shape != "rows":  # Optuna tunes row models only
            return
        parent_seconds = parent.seconds or 30.0
        spare = self.budget.remaining - self.policy.reserve(self.journal)
        tune_seconds = min(spare - 1.5 * parent_seconds - 5, self.settings.tune_share * self.budget.total)
        if tune_seconds < 2 * parent_seconds:
            log.info("not tuning node %s: %.0f s would fit, two runs of it take %.0f s", parent.id,
                     max(tune_seconds, 0), 2 * parent_seconds)
            return
        proposal = Proposal(title=f"tune {parent.title}"[:40], plan=f"Optuna over the search space of node {parent.id}, "
                            f"starting from its parameters, for {tune_seconds:.0f}s", code=code,
                            info={"recipe": parent.info.get("recipe", parent.title)})
        self.execute(proposal, "tune", [parent.id], tune_seconds=tune_seconds,
                     timeout=tune_seconds + 1.5 * parent_seconds + 5)

    def _ensemble(self) -> None:
        """An ensemble node over the current pool of best single candidates (see pipelines.ensemble)."""
        members = ensemble_pool(self.journal, self.spec.greater_is_better)
        if len(members) < 2 or self.spec.answer_shape != "rows":  # blends average numbers, not strings
            self.policy.exhausted.add("ensemble")
            return
        proposal = Proposal(
            title=f"ensemble of {len(members)}", code=ensemble_code(members), engineer="search",
            plan=f"Greedy selection or a stack over the out-of-fold predictions of nodes {', '.join(members)}, "
                 "cross-fitted; kept as the best only if its cross-validated score beats every member.")
        node = self.execute(proposal, "ensemble", members, timeout=max(MIN_NODE_SECONDS, self.budget.remaining))
        if node.status != "ok":
            self.policy.exhausted.add("ensemble")  # a broken ensemble will not mend itself by retrying

    # --- one node --------------------------------------------------------------------------------

    def execute(self, proposal: Proposal, step: str, parents: list[str], *, tune_seconds: float | None = None,
                timeout: float | None = None) -> Node:
        node = Node(id=self.journal.new_id(), parents=parents, step=step, engineer=proposal.engineer or self.engineer.name,
                    title=proposal.title, plan=proposal.plan, tokens_in=proposal.tokens_in,
                    tokens_out=proposal.tokens_out, cost_usd=proposal.cost_usd, info=dict(proposal.info))
        node_dir = self.run.node_dir(node.id)
        node_dir.mkdir(parents=True, exist_ok=True)
        write_point("node")
        (node_dir / "solution.py").write_text(proposal.code)
        for name, text in proposal.files.items():
            (node_dir / name).write_text(text)
        if proposal.error is not None:
            return self._record_unrunnable(node, proposal.error)
        limit = min(timeout or self.settings.node_timeout, self.budget.remaining)
        job = {"run_dir": str(self.run.path), "mode": "tune" if tune_seconds else "cv", "seed": self.settings.seed,
               "device": self.device, "n_jobs": self.settings.n_jobs, "time_limit": round(limit, 1),
               "refit": self.refit}
        if tune_seconds:
            recipe = node.info.get("recipe", node.title)  # the name says what was tuned: node-0007-lightgbm_tabular
            job.update(tune_seconds=tune_seconds, storage=node_storage(node_dir), study_name=f"node-{node.id}-{recipe}")
        write_atomic(node_dir / "job.json", json.dumps(job, indent=2))
        self.journal.record(node)
        self.display.update(node, self.best)
        return self._run_node(node, limit)

    def _rerun_interrupted(self) -> None:
        """Run again the nodes a killed session left running, under the same ids and with the same code.

        A tuning node continues its Optuna study (the trials stored before the kill count) for the
        time that still fits; a node with no time left to finish, or one that was running at
        MAX_NODE_ATTEMPTS kills (it may be what kills the run), is closed as interrupted.
        """
        for node in [n for n in self.journal if n.status == "running"]:
            node_dir = self.run.node_dir(node.id)
            job = self._read_json(node_dir / "job.json")
            if node.attempts >= MAX_NODE_ATTEMPTS or not job:
                error = f"interrupted: the run was stopped while it ran, {node.attempts} time(s); not run again"
                self.journal.record(node.model_copy(update={"status": "failed", "error": error}))
                continue
            parent = self.journal.get(node.parent) if node.parent else None
            parent_seconds = (parent.seconds if parent else None) or 30.0
            limit = self._node_limit()
            if job.get("mode") == "tune":
                job["tune_seconds"] = min(job["tune_seconds"], limit - 1.5 * parent_seconds - 5)
                if job["tune_seconds"] < 2 * parent_seconds:
                    limit = 0.0
            if limit <= MIN_NODE_SECONDS:
                self.journal.record(node.model_copy(update={"status": "failed", "error": "interrupted (the run was stopped)"}))
                continue
            job["time_limit"] = round(limit, 1)
            if job.get("mode") == "tune":
                job["storage"] = node_storage(node_dir)
            write_atomic(node_dir / "job.json", json.dumps(job, indent=2))
            log.info("node %s was interrupted by the previous session: running it again", node.id)
            (node_dir / "result.json").unlink(missing_ok=True)
            node = node.model_copy(update={"attempts": node.attempts + 1, "started_at": time.time()})
            self.journal.record(node)
            self._run_node(node, limit)

    def _run_node(self, node: Node, limit: float) -> Node:
        """Run a recorded node's job in the sandbox, then record and maybe promote what it gave."""
        node_dir = self.run.node_dir(node.id)
        parents, step = node.parents, node.step
        # What the agent wrote into the folder, put back after the run whatever the candidate did to it.
        owned = {p.name: p.read_bytes() for p in node_dir.iterdir()
                 if p.suffix in (".py", ".json", ".md") and p.name != "result.json" and p.is_file() and not p.is_symlink()}
        (node_dir / "result.json").unlink(missing_ok=True)
        outcome = run_sandboxed(
            python_argv("pipelines.run", str(node_dir)), cwd=node_dir, log_path=node_dir / "log.txt",
            timeout=limit, memory_mb=self.settings.memory_mb, n_jobs=self.settings.n_jobs,
            limit_address_space=self.device == "cpu", confinement=self._confinement(node, node_dir),
        )
        removed = reclaim(node_dir, owned, NODE_FILES)
        if outcome.disk_full:
            empty_folder(node_dir, {*owned, "log.txt"})
        if removed:
            log.warning("node %s left links or special files in its folder, removed: %s", node.id, ", ".join(removed[:5]))
        result = read_result(node_dir)
        update = {"seconds": round(outcome.wall_seconds, 2),
                  "peak_memory_mb": round(max(outcome.peak_rss_mb, result.get("peak_rss_mb", 0.0)), 1)}
        if failure := self._limit_failure(outcome, limit, node_dir):
            update.update(status="failed", error=failure)
        elif result.get("status") == "ok" and outcome.returncode == 0 and (lie := self._unearned_score(node_dir, result)):
            update.update(status="failed", error=lie)
        elif result.get("status") == "ok" and outcome.returncode == 0:
            update.update(status="ok", score=result["score"], fold_scores=result["fold_scores"], params=result["params"])
            node.info.update({k: v for k, v in result.get("extra", {}).items() if v is not None})
        else:
            error = result.get("error") or f"exited with code {outcome.returncode}: {self._log_tail(node_dir)}"
            update.update(status="failed", error=error)
        node = node.model_copy(update=update)
        if node.ok and parents:
            # Gain over the parent (an ensemble's: over its best member); positive is better.
            sign = 1 if self.spec.greater_is_better else -1
            compared = [self.journal.get(i) for i in (parents if step == "ensemble" else parents[:1])]
            scores = [p.score for p in compared if p.ok]
            if scores:
                node.info["gain"] = round(sign * node.score - max(sign * s for s in scores), 6)
        self._write_standalone(node)
        self.journal.record(node)
        if node.ok:
            self._promote_if_best(node)
        self.display.update(node, self.best)
        log.info("node %s %s %s: %s %s", node.id, node.step, node.title, node.status,
                 node.score if node.ok else node.error)
        return node

    def _record_unrunnable(self, node: Node, error: str) -> Node:
        node = node.model_copy(update={"status": "failed", "error": error, "seconds": 0.0})
        self.journal.record(node)
        self.display.update(node, self.best)
        log.info("node %s %s %s: not run: %s", node.id, node.step, node.title, error)
        return node

    def _unearned_score(self, node_dir, result: dict) -> str | None:
        """Why the score in result.json is not the one its out-of-fold predictions earn under the run's
        folds and metric, or None when it is: result.json is written in the candidate's own process."""
        from pipelines.harness import oof_score
        from pipelines.metrics import get_metric
        from pipelines.targets import encode_target
        from pipelines.thresholds import decide_threshold

        try:
            oof = np.load(node_dir / "oof.npy", mmap_mode="r", allow_pickle=False)
            if oof.shape[:1] != (len(self.data.train),) or oof.dtype.kind not in "fiub":
                return f"its out-of-fold predictions have shape {oof.shape}, expected {len(self.data.train)} rows"
            oof = np.array(oof, dtype=np.float64)
            metric, y, folds = get_metric(self.spec.metric), encode_target(self.data.train, self.spec), self.data.folds
            plain = oof_score(y, oof, folds, Context(spec=self.spec), metric)
            claims = result["extra"]
            claimed = claims.get("score_without_threshold", result["score"]) if "threshold" in claims else result["score"]
            earned = [(claimed, plain)]
            if "threshold" in claims:
                earned.append((result["score"], decide_threshold(y, oof, folds, self.spec, metric, plain)[1]))
        except Exception as exc:  # noqa: BLE001 - whatever the files hold, the node fails, not the agent
            return f"its out-of-fold predictions could not be scored: {exc}"[:500]
        for said, computed in earned:
            if not math.isclose(said, computed, rel_tol=1e-6, abs_tol=1e-9):
                return f"its reported score {said:.6g} is not what its out-of-fold predictions earn ({computed:.6g})"
        return None

    def _confinement(self, node: Node, node_dir) -> Confinement:
        """The node writes its folder (and the run's shared cache); an ensemble also reads its members' folders."""
        members = [self.run.node_dir(p) for p in node.parents] if node.step == "ensemble" else []
        (self.run.path / "cache").mkdir(exist_ok=True)  # granted only if it exists when the node starts
        return Confinement(read=[*self.inputs, *members], write=[node_dir, self.run.path / "cache"],
                           disk_mb=self.settings.node_disk_mb)

    def _limit_failure(self, outcome: SandboxResult, limit: float, node_dir) -> str | None:
        if outcome.timed_out:
            return f"timed out after {limit:.0f}s"
        if outcome.out_of_memory:
            return f"out of memory (limit {self.settings.memory_mb} MB)"
        if outcome.disk_full:
            return f"its folder grew over the limit of {self.settings.node_disk_mb} MB"
        if outcome.file_too_large:
            return f"wrote a file over the limit of {self.settings.node_disk_mb} MB"
        if outcome.sandbox_failed:
            return f"the sandbox could not confine it: {self._log_tail(node_dir)}"
        return None

    @staticmethod
    def _read_json(path) -> dict:
        try:
            value = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return {}
        return value if isinstance(value, dict) else {}

    @staticmethod
    def _log_tail(node_dir, lines: int = 1) -> str:
        try:
            with open(node_dir / "log.txt", "rb") as f:
                f.seek(max(0, f.seek(0, 2) - MAX_LOG_TAIL_BYTES))
                text = f.read().decode(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return " | ".join(text[-lines:])[:500] if text else "no output"

    def _write_standalone(self, node: Node) -> None:
        node_dir = self.run.node_dir(node.id)
        lines = (node_dir / "solution.py").read_text().splitlines(keepends=True)
        # The package check goes first, after any `from __future__` line (which must lead the file).
        future = max((i + 1 for i, line in enumerate(lines) if line.startswith("from __future__")), default=0)
        header = STANDALONE_HEADER.format(node_id=node.id)
        footer = STANDALONE_FOOTER.format(params=node.params, seed=self.settings.seed, refit=self.refit)
        (node_dir / "standalone.py").write_text("".join(lines[:future]) + header + "".join(lines[future:]) + footer)

    def _is_better(self, node: Node) -> bool:
        if self.best is None:
            return True
        return node.score > self.best.score if self.spec.greater_is_better else node.score < self.best.score

    def _promote_if_best(self, node: Node) -> None:
        """Make `node` the run's submission if it beats the best so far and its file is valid."""
        if not self._is_better(node):
            return
        problems = self._submission_problems(self.run.node_dir(node.id) / "submission.csv")
        if problems:
            log.warning("node %s has a better score but an invalid submission: %s", node.id, "; ".join(problems))
            return
        self._install(node)

    def _install(self, node: Node) -> None:
        """Copy a node's submission over the run's (atomically, as a bounded regular file), then its code
        and facts into best/; best/node.json, written last, says which node the submission is."""
        node_dir = self.run.node_dir(node.id)
        tmp = self.run.submission_path.with_name("submission.csv.tmp")
        tmp.write_bytes(read_node_file(node_dir / "submission.csv", max_submission_bytes(self.data.sample)))
        tmp.replace(self.run.submission_path)
        write_point("promote")
        best_dir = self.run.best_dir
        best_dir.mkdir(exist_ok=True)
        for name in ("solution.py", "standalone.py"):  # both the agent's own (see reclaim)
            if (node_dir / name).exists():
                write_atomic(best_dir / name, (node_dir / name).read_text())
        write_atomic(best_dir / "submission.csv", self.run.submission_path.read_text())
        write_atomic(best_dir / "node.json", node.model_dump_json(indent=2))
        self.best = node

    def _submission_problems(self, path) -> list[str]:
        try:
            return submission_problems(read_table(path), self.data.sample, self.spec)
        except Exception as exc:  # a candidate's file is untrusted input
            return [str(exc)]


def prepared_inputs(run: RunFolder, data: RunData) -> list:
    """What every candidate of the run may read: the prepared tables and spec, and the folders of the
    files the tables name (images, audio), or those files one by one where their folder also holds
    something named private; never the competition folder around them."""
    files = {Path(p) for column in data.train.columns if column.endswith("__path")
             for frame in (data.train, data.test) if column in frame for p in frame[column].dropna().unique() if p}
    folders = {f.parent for f in files}
    beside_private = {d for d in folders if d.is_dir() and any(c.name.lower() == "private" for c in d.iterdir())}
    return [run.path / "data", run.path / "spec.json", *sorted(folders - beside_private),
            *sorted(f for f in files if f.parent in beside_private)]


def node_storage(node_dir) -> str:
    """A tuning node's Optuna study lives in its own folder, the only place it may write."""
    return f"sqlite:///{node_dir / 'optuna.db'}"


def max_submission_bytes(sample) -> int:
    """A generous bound on a valid submission's size: the sample's rows, each at most 4 KB per column."""
    return 4096 * (len(sample) + 1) * max(1, len(sample.columns))


def read_result(node_dir) -> dict:
    """result.json as the candidate's process wrote it, checked field by field: anything malformed
    makes it a failed result, never an exception in the agent or a foreign object in the journal."""
    try:
        raw = json.loads(read_node_file(node_dir / "result.json", MAX_RESULT_BYTES))
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {"status": "failed", "error": "result.json is not an object"}
    peak = raw.get("peak_rss_mb")
    base = {"peak_rss_mb": float(peak) if _finite(peak) else 0.0}
    if raw.get("status") != "ok":
        return {**base, "status": "failed", "error": str(raw.get("error") or "failed")[:2000]}
    scores = raw.get("fold_scores")
    if not (_finite(raw.get("score")) and isinstance(scores, list) and all(_finite(v) for v in scores)
            and isinstance(raw.get("params", {}), dict) and isinstance(raw.get("extra", {}), dict)):
        return {**base, "status": "failed", "error": "result.json has no finite score, fold scores and parameters"}
    return {**base, "status": "ok", "score": float(raw["score"]), "fold_scores": [float(v) for v in scores],
            "params": raw.get("params", {}), "extra": raw.get("extra", {})}


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
