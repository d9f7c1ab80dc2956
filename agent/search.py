"""The search: a policy picks the next step, an engineer writes code, the sandbox judges it.

In the spirit of AIDE: a journal of nodes, drafts first, then debugging failed leaves or
improving the best, with Optuna tuning of the best candidates once the budget is mostly spent,
and ensembles of the best candidates from their out-of-fold predictions along the way and at the end.
Every node is on disk before it runs and after it ends, so a killed search resumes cleanly.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from agent.config import Settings
from agent.display import Display
from agent.engineers.background import BackgroundProposal
from agent.engineers.base import Ask, Brief, Engineer, Proposal
from agent.journal import Journal, Node
from agent.run_folder import RunFolder, write_atomic
from agent.sandbox import python_argv, run_sandboxed
from pipelines.device import detect_device
from pipelines.ensemble import ensemble_code
from pipelines.rundata import RunData
from pipelines.submission import submission_problems
from pipelines.tables import read_table

log = logging.getLogger(__name__)

MIN_NODE_SECONDS = 5.0


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
            return Action("ensemble") if new_pool else Action("stop")
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
        return Action("ensemble") if new_pool else Action("stop")

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


STANDALONE_FOOTER = '''

if __name__ == "__main__":
    # Reproduce node {node_id}: the same data, folds, seed and parameters the agent used.
    # Writes submission.csv into the current folder and prints the cross-validation score.
    from pipelines.standalone import reproduce

    reproduce(__file__, run_dir={run_dir!r}, params={params!r}, seed={seed!r}, refit={refit!r})
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
        self.best = self.journal.best(self.spec.greater_is_better)
        # Time-ordered folds train their early models on a short past; a forecast is made by one
        # model on every row instead.
        self.refit = settings.refit or self.spec.time_column is not None

    # --- the loop ------------------------------------------------------------------------------

    def run_loop(self) -> Node | None:
        if not self.run.submission_path.exists():
            self._write_prior_submission()
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
        if self.thinking.busy:
            log.info("stopping with the LLM's %s step unanswered: the budget is spent", self.thinking.ask.kind)
        self.run.heartbeat()
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

    def _write_prior_submission(self) -> None:
        """A valid submission from the start: the training target's prior (a constant), which the
        first candidate to finish replaces. A run whose candidates all fail or run out of time
        (data too large for the budget, an unforeseen layout) still leaves a file to grade."""
        from pipelines.harness import prior_prediction
        from pipelines.metrics import get_metric
        from pipelines.shapes import masks
        from pipelines.submission import write_submission
        from pipelines.targets import encode_target, submission_frame

        ids = self.data.test[self.spec.id_column]
        if self.spec.answer_shape == "mask":
            frame = masks.empty_submission(ids, self.spec)
        else:
            y = encode_target(self.data.train, self.spec)
            raw = prior_prediction(y, self.spec, get_metric(self.spec.metric), len(self.data.test))
            frame = submission_frame(ids, raw, self.spec)
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
            return
        proposal = Proposal(title=f"tune {parent.title}"[:40], plan=f"Optuna over the search space of node {parent.id}, "
                            f"starting from its parameters, for {tune_seconds:.0f}s", code=code,
                            info={"recipe": parent.info.get("recipe", parent.title)})
        self.execute(proposal, "tune", [parent.id], tune_seconds=tune_seconds,
                     timeout=tune_seconds + 1.5 * parent_seconds + 5)

    def _ensemble(self) -> None:
        """An ensemble node over the current pool of best single candidates (see pipelines.ensemble)."""
        members = ensemble_pool(self.journal, self.spec.greater_is_better)
        if len(members) < 2:
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
            job.update(tune_seconds=tune_seconds, storage=self.run.optuna_storage, study_name=f"node-{node.id}")
        (node_dir / "job.json").write_text(json.dumps(job, indent=2))
        self.journal.record(node)
        self.display.update(node, self.best)
        self.run.heartbeat()
        return self._run_node(node, limit)

    def _rerun_interrupted(self) -> None:
        """Run again the nodes a killed session left running, under the same ids and with the same code.

        A tuning node continues its Optuna study (the trials stored before the kill count) for the
        time that still fits; a node with no time left to finish is closed as interrupted.
        """
        for node in [n for n in self.journal if n.status == "running"]:
            node_dir = self.run.node_dir(node.id)
            job = json.loads((node_dir / "job.json").read_text())
            parent = self.journal.get(node.parent) if node.parent else None
            parent_seconds = (parent.seconds if parent else None) or 30.0
            limit = self._node_limit()
            if job.get("mode") == "tune":
                job["tune_seconds"] = min(job["tune_seconds"], limit - 1.5 * parent_seconds - 5)
                if job["tune_seconds"] < 2 * parent_seconds:
                    limit = 0.0
            job["time_limit"] = round(limit, 1)
            (node_dir / "job.json").write_text(json.dumps(job, indent=2))
            if limit <= MIN_NODE_SECONDS:
                self.journal.record(node.model_copy(update={"status": "failed", "error": "interrupted (the run was stopped)"}))
                continue
            log.info("node %s was interrupted by the previous session: running it again", node.id)
            (node_dir / "result.json").unlink(missing_ok=True)
            self._run_node(node, limit)

    def _run_node(self, node: Node, limit: float) -> Node:
        """Run a recorded node's job in the sandbox, then record and maybe promote what it gave."""
        node_dir = self.run.node_dir(node.id)
        parents, step = node.parents, node.step
        outcome = run_sandboxed(
            python_argv("pipelines.run", str(node_dir)), cwd=node_dir, log_path=node_dir / "log.txt",
            timeout=limit, memory_mb=self.settings.memory_mb, n_jobs=self.settings.n_jobs,
            limit_address_space=self.device == "cpu",
        )
        result = self._read_result(node_dir)
        update = {"seconds": round(outcome.wall_seconds, 2), "peak_memory_mb": round(max(outcome.peak_rss_mb, result.get("peak_rss_mb", 0)), 1)}
        if outcome.timed_out:
            update.update(status="failed", error=f"timed out after {limit:.0f}s")
        elif outcome.out_of_memory:
            update.update(status="failed", error=f"out of memory (limit {self.settings.memory_mb} MB)")
        elif result.get("status") == "ok" and outcome.returncode == 0 and np.isfinite(result.get("score", np.nan)):
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
        self.run.heartbeat()
        log.info("node %s %s %s: %s %s", node.id, node.step, node.title, node.status,
                 node.score if node.ok else node.error)
        return node

    def _record_unrunnable(self, node: Node, error: str) -> Node:
        node = node.model_copy(update={"status": "failed", "error": error, "seconds": 0.0})
        self.journal.record(node)
        self.display.update(node, self.best)
        self.run.heartbeat()
        log.info("node %s %s %s: not run: %s", node.id, node.step, node.title, error)
        return node

    @staticmethod
    def _read_result(node_dir) -> dict:
        try:
            return json.loads((node_dir / "result.json").read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    @staticmethod
    def _log_tail(node_dir, lines: int = 1) -> str:
        try:
            text = (node_dir / "log.txt").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return " | ".join(text[-lines:]) if text else "no output"

    def _write_standalone(self, node: Node) -> None:
        node_dir = self.run.node_dir(node.id)
        footer = STANDALONE_FOOTER.format(node_id=node.id, run_dir=str(self.run.path), params=node.params,
                                          seed=self.settings.seed, refit=self.refit)
        (node_dir / "standalone.py").write_text((node_dir / "solution.py").read_text() + footer)

    def _is_better(self, node: Node) -> bool:
        if self.best is None:
            return True
        return node.score > self.best.score if self.spec.greater_is_better else node.score < self.best.score

    def _promote_if_best(self, node: Node) -> None:
        """Make `node` the run's submission if it beats the best so far and its file is valid."""
        if not self._is_better(node):
            return
        node_dir = self.run.node_dir(node.id)
        source = node_dir / "submission.csv"
        try:
            problems = submission_problems(read_table(source), self.data.sample, self.spec)
        except Exception as exc:  # a candidate's file is untrusted input
            problems = [str(exc)]
        if problems:
            log.warning("node %s has a better score but an invalid submission: %s", node.id, "; ".join(problems))
            return
        tmp = self.run.submission_path.with_name("submission.csv.tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(self.run.submission_path)
        best_dir = self.run.best_dir
        best_dir.mkdir(exist_ok=True)
        for name in ("solution.py", "standalone.py", "submission.csv"):
            if (node_dir / name).exists():
                shutil.copyfile(node_dir / name, best_dir / name)
        write_atomic(best_dir / "node.json", node.model_dump_json(indent=2))
        self.best = node
