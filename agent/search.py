"""The search: a policy picks the next step, an engineer writes code, the sandbox judges it.

In the spirit of AIDE: a journal of nodes, drafts first, then debugging failed leaves or
improving the best, with Optuna tuning of the best candidates once the budget is mostly spent,
and ensembles of the best candidates from their out-of-fold predictions along the way and at the end.
What to do next is agent.policy's; how long it may take, agent.timing's. Every node is on disk
before it runs and after it ends, so a killed search resumes cleanly.
"""

from __future__ import annotations

import json
import logging
import random
import time
from pathlib import Path

from agent.config import Settings
from agent.display import Display
from agent.engineers.background import BackgroundProposal
from agent.engineers.base import Ask, Brief, Engineer, Proposal
from agent.gains import rechecked_tune_score, within_noise
from agent.journal import Journal, Node, oriented
from agent.node_files import (NODE_FILES, log_tail, max_submission_bytes, node_storage, prepared_inputs, read_json,
                              read_result, write_standalone)
from agent.policy import EARLY_DRAFTS, SIZED_DRAFTS, Exhausted, Policy, StepKind, ensemble_pool
from agent.run_folder import RunFolder, write_atomic, write_point
from agent.sandbox import Confinement, SandboxResult, empty_folder, python_argv, read_node_file, reclaim, run_sandboxed
from agent.timing import MIN_NODE_SECONDS, TUNE_MIN_RUNS, Budget, StepTimes
from pipelines.device import detect_device
from pipelines.ensemble import ensemble_code
from pipelines.rescore import unearned_score
from pipelines.rundata import RunData
from pipelines.shapes import ROW_MODEL_SHAPES, STRING_SHAPES
from pipelines.submission import submission_problems
from pipelines.tables import read_table

log = logging.getLogger(__name__)

MAX_NODE_ATTEMPTS = 2  # a node running at two kills in a row is given up, not run at every resume


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
        self.times = StepTimes(settings, budget, ensembles=self.spec.answer_shape in ROW_MODEL_SHAPES)
        self.policy = Policy(settings, self.spec.greater_is_better, random.Random(settings.seed + len(self.journal)),
                             self.times)
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

    @property
    def exhausted(self) -> Exhausted:
        return self.policy.exhausted

    # --- the loop ------------------------------------------------------------------------------

    def run_loop(self) -> Node | None:
        self._restore_submission()
        self._rerun_interrupted()
        while self.budget.remaining > MIN_NODE_SECONDS:
            if (reply := self.thinking.take()) is not None:
                self._run_reply(*reply)
                continue
            self._keep_llm_thinking()
            action = self.policy.next(self.journal)
            log.info("next step: %s%s", action.kind, f" of node {action.parent.id}" if action.parent else "")
            if action.kind == "stop":
                if self._wait_for_llm():
                    continue
                log.info(action.reason)
                self.display.note(action.reason)
                break
            if action.kind == "tune":
                self._tune(action.parent)
            elif action.kind == "ensemble":
                self._ensemble()
            else:
                self._ask_engineer(action.kind, action.parent, action.early, action.sized_only)
        else:  # the loop ran out of time rather than choosing to stop
            log.info("stopping: the budget is spent (%.0f s left)", self.budget.remaining)
            self.display.note(f"stopping: the budget is spent ({self.budget.remaining:.0f} s left)")
        if self.thinking.busy:
            log.info("stopping with the LLM's %s step unanswered: the budget is spent", self.thinking.ask.kind)
        self._settle()
        return self.best

    def _ask_engineer(self, kind: StepKind, parent: Node | None, early: bool = False, sized_only: bool = False) -> None:
        ask = Ask(kind, parent, early=early, sized_only=sized_only)
        proposal = self.engineer.propose(ask, self.brief, self.journal, self.run)
        if proposal is None:
            self.exhausted.add(SIZED_DRAFTS if sized_only else EARLY_DRAFTS if early else kind, parent)
            return
        self.execute(proposal, kind, [parent.id] if parent else [], timeout=self.times.node_limit(self.journal))

    # --- the LLM beside the built-in steps --------------------------------------------------------

    def _keep_llm_thinking(self) -> None:
        """One LLM call in flight whenever the LLM can take one, made from a snapshot of the journal."""
        if self.llm is None or not self.thinking.idle or not getattr(self.llm, "available", True) \
                or self.policy.full(self.journal):
            return
        builtin_drafts = sum(1 for n in self.journal if n.step == "draft" and n.engineer != self.llm.name
                             and n.status != "running")
        if builtin_drafts < self.llm_after_drafts and not self.exhausted.has("draft"):
            return
        ask = self.policy.llm_ask(self.journal)
        if not self.times.fits(self.journal, ask.parent):  # a step the time left cannot finish is not asked for
            return
        ask.seconds = self.times.node_limit(self.journal)  # the prompt states the limit the reply will run under
        snapshot = self.journal.snapshot()
        log.info("asking the LLM for a %s step%s in the background", ask.kind,
                 f" on node {ask.parent.id} ({ask.why})" if ask.parent else "")
        self.thinking.start(ask, lambda: self.llm.propose(ask, self.brief, snapshot, self.run))

    def _run_reply(self, ask: Ask, proposal: Proposal | None) -> None:
        if proposal is None or self.policy.full(self.journal):  # no reply (the call failed), or no room for it
            return
        parents = [ask.parent.id] if ask.parent else []
        self.execute(proposal, ask.kind, parents, timeout=self.times.node_limit(self.journal))

    def _wait_for_llm(self) -> bool:
        """With no built-in step left, wait for the pending LLM reply while a node could still run after it."""
        if not self.thinking.busy:
            return False
        log.info("waiting for the LLM's %s step: no built-in step is left", self.thinking.ask.kind)
        return self.thinking.wait(self.times.llm_wait(self.journal))

    # --- the run's submission --------------------------------------------------------------------

    def _restore_submission(self) -> None:
        """The run's submission as a kill may have left it: the installed best node's (best/node.json),
        replaced by any better node recorded before the kill could install it; the prior when no
        node has a valid one, or when the file is missing or not valid."""
        installed = read_json(self.run.best_dir / "node.json").get("id")
        self.best = self.journal.nodes.get(installed) if installed else None
        for node in self.journal.good():
            self._promote_if_best(node)
        if self._submission_problems(self.run.submission_path):
            if self.best is not None:
                self._install(self.best)
            else:
                self._write_prior_submission()

    def _write_prior_submission(self) -> None:
        """A valid submission from the start: the training target's prior (a constant; the sample's answers
        where the metric cannot read that one), which the first candidate to finish replaces. A run whose
        candidates all fail or run out of time (data too large for the budget, an unforeseen layout) still
        leaves a file to grade."""
        from pipelines.harness import prior_prediction
        from pipelines.metrics import get_metric
        from pipelines.shapes import masks
        from pipelines.shapes.strings import fallback_answers, metric_reads
        from pipelines.submission import with_sample_answers_everywhere, write_submission
        from pipelines.targets import encode_target, submission_frame
        from pipelines.thresholds import fit_threshold

        ids = self.data.test[self.spec.id_column]
        if self.spec.answer_shape == "mask":
            frame = masks.empty_submission(ids, self.spec)
        elif self.spec.answer_shape in STRING_SHAPES:
            answers = fallback_answers(self.data.train, self.data.test, self.spec)
            frame = submission_frame(ids, answers, self.spec)
            if not metric_reads(answers, self.data.train, self.spec):
                frame = with_sample_answers_everywhere(frame, self.data.sample, self.spec)
        else:
            y, metric = encode_target(self.data.train, self.spec), get_metric(self.spec.metric)
            raw = prior_prediction(y, self.spec, metric, len(self.data.test))
            # a metric of values and their spread: the spread of the prior's own residuals
            spread = fit_threshold(y, prior_prediction(y, self.spec, metric, len(y)), self.spec, metric) \
                if metric.spread else None
            frame = submission_frame(ids, raw, self.spec, spread)
        write_point("prior")
        write_submission(frame, self.data.sample, self.spec, self.run.submission_path)
        log.info("wrote the prior submission %s; the first candidate to finish replaces it", self.run.submission_path)

    def _settle(self) -> None:
        """The run's final choice: the best ensemble instead of a better single candidate when it
        scores within one paired standard error of it. Near the top, the order of candidates is
        mostly noise, and a blend of several of them varies less on unseen rows than any one."""
        if self.best is None or self.best.step == "ensemble":
            return
        ensembles = self.journal.ranked(self.spec.greater_is_better, (n for n in self.journal if n.step == "ensemble"))
        for node in ensembles:
            if not within_noise(node, self.best, self.spec.greater_is_better):
                return
            if not self._submission_problems(self.run.node_dir(node.id) / "submission.csv"):
                log.info("submitting ensemble node %s (%.5f): within noise of node %s (%.5f)", node.id, node.score,
                         self.best.id, self.best.score)
                self.display.note(f"final choice: ensemble node {node.id}, within one standard error of node "
                                  f"{self.best.id}")
                self._install(node)
                return

    def _promote_if_best(self, node: Node) -> None:
        """Make `node` the run's submission if it beats the best so far and its file is valid."""
        if self.best is not None and oriented(node.score, self.spec.greater_is_better) <= oriented(
                self.best.score, self.spec.greater_is_better):
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
        tmp.write_bytes(read_node_file(node_dir / "submission.csv", self._max_submission_bytes))
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

    @property
    def _max_submission_bytes(self) -> int:
        return max_submission_bytes(self.data.sample, self.spec.answer_shape)

    def _submission_problems(self, path: Path) -> list[str]:
        try:  # as text, as graders read it: class "03" must not come back as 3
            if (size := path.stat().st_size) > self._max_submission_bytes:
                return [f"{size} bytes, more than the {self._max_submission_bytes} a valid submission needs"]
            return submission_problems(read_table(path, dtype=str), self.data.sample, self.spec)
        except Exception as exc:  # a candidate's file is untrusted input
            return [str(exc)]

    # --- steps the search makes itself -----------------------------------------------------------

    def _tune(self, parent: Node) -> None:
        self.exhausted.add("tune", parent)
        code = self.run.code(parent.id)
        if "def search_space" not in code or self.spec.answer_shape not in ROW_MODEL_SHAPES:  # Optuna tunes row models
            return
        window = self.times.new_tune(self.journal, parent)
        if window is None:
            log.info("not tuning node %s: too little time for %.0f runs of it (%.0f s each)", parent.id,
                     TUNE_MIN_RUNS, parent.seconds or 0)
            return
        proposal = Proposal(title=f"tune {parent.title}"[:40], code=code, recipe=parent.recipe,
                            sized_to_time=parent.sized_to_time,
                            engineer=parent.engineer,  # its cache is the one the code's author shares
                            plan=f"Optuna over the search space of node {parent.id}, starting from its parameters, "
                                 f"for {window.trial_seconds:.0f}s")
        self.execute(proposal, "tune", [parent.id], tune_seconds=window.trial_seconds, timeout=window.limit)

    def _ensemble(self) -> None:
        """An ensemble node over the current pool of best single candidates (see pipelines.ensemble)."""
        members = ensemble_pool(self.journal, self.spec.greater_is_better)
        if len(members) < 2 or self.spec.answer_shape not in ROW_MODEL_SHAPES:  # blends average numbers, not strings
            self.exhausted.add("ensemble")
            return
        proposal = Proposal(
            title=f"ensemble of {len(members)}", code=ensemble_code(members), engineer="search",
            plan=f"Greedy selection or a stack over the out-of-fold predictions of nodes {', '.join(members)}, "
                 "cross-fitted; kept as the best only if its cross-validated score beats every member.")
        node = self.execute(proposal, "ensemble", members, timeout=self.times.ensemble_limit())
        if node.status != "ok":
            self.exhausted.add("ensemble")  # a broken ensemble will not mend itself by retrying

    # --- one node --------------------------------------------------------------------------------

    def execute(self, proposal: Proposal, step: StepKind, parents: list[str], *, tune_seconds: float | None = None,
                timeout: float | None = None) -> Node:
        node = Node(id=self.journal.new_id(), parents=parents, step=step, engineer=proposal.engineer or self.engineer.name,
                    title=proposal.title, recipe=proposal.recipe, plan=proposal.plan,
                    tokens_in=proposal.tokens_in, tokens_out=proposal.tokens_out, cost_usd=proposal.cost_usd,
                    sized_to_time=proposal.sized_to_time,
                    facts=dict(proposal.facts))
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
               "refit": self.refit, "cache_dir": str(self._cache_of(node))}
        if tune_seconds:  # the study's name says what was tuned: node-0007-lightgbm_tabular
            job.update(tune_seconds=tune_seconds, storage=node_storage(node_dir), study_name=f"node-{node.id}-{node.recipe}")
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
            job = read_json(node_dir / "job.json")
            if node.attempts >= MAX_NODE_ATTEMPTS or not job:
                error = f"interrupted: the run was stopped while it ran, {node.attempts} time(s); not run again"
                self.journal.record(node.model_copy(update={"status": "failed", "error": error}))
                continue
            limit = self._rerun_limit(node, job)
            if limit <= MIN_NODE_SECONDS:
                self.journal.record(node.model_copy(update={"status": "failed", "error": "interrupted (the run was stopped)"}))
                continue
            job.update(time_limit=round(limit, 1), cache_dir=str(self._cache_of(node)))
            write_atomic(node_dir / "job.json", json.dumps(job, indent=2))
            log.info("node %s was interrupted by the previous session: running it again", node.id)
            (node_dir / "result.json").unlink(missing_ok=True)
            node = node.model_copy(update={"attempts": node.attempts + 1, "started_at": time.time()})
            self.journal.record(node)
            self._run_node(node, limit)

    def _rerun_limit(self, node: Node, job: dict) -> float:
        """The limit an interrupted node runs again under; a tune's job gets the trials' time that still fits."""
        limit = self.times.node_limit(self.journal)
        if job.get("mode") != "tune":
            return limit
        parent = self.journal.get(node.parent) if node.parent else node
        window = self.times.tune_window(parent, limit, job["tune_seconds"])
        if window is None:
            return 0.0
        job.update(tune_seconds=window.trial_seconds, storage=node_storage(self.run.node_dir(node.id)))
        return window.limit

    def _run_node(self, node: Node, limit: float) -> Node:
        """Run a recorded node's job in the sandbox, then record and maybe promote what it gave."""
        node_dir = self.run.node_dir(node.id)
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
        node = self._judged(node, outcome, limit)
        write_standalone(node_dir, node.id, node.params, self.settings.seed, self.refit)
        self.journal.record(node)
        if node.ok:
            self._promote_if_best(node)
        self.display.update(node, self.best)
        log.info("node %s %s %s: %s %s", node.id, node.step, node.title, node.status,
                 node.score if node.ok else node.error)
        return node

    def _judged(self, node: Node, outcome: SandboxResult, limit: float) -> Node:
        """The node as its run ended: ok with a score its predictions earn, or failed with one cause."""
        node_dir = self.run.node_dir(node.id)
        result = read_result(node_dir)
        update = {"seconds": round(outcome.wall_seconds, 2),
                  "peak_memory_mb": round(max(outcome.peak_rss_mb, result.get("peak_rss_mb", 0.0)), 1)}
        ran = result.get("status") == "ok" and outcome.returncode == 0
        if failure := self._limit_failure(outcome, limit, node_dir):
            update.update(status="failed", error=failure)
        elif ran and (lie := unearned_score(self.data, node_dir / "oof.npy", result, self.settings.seed)):
            update.update(status="failed", error=lie)
        elif ran:
            facts = {**node.facts, **{k: v for k, v in result["facts"].items() if v is not None}}
            update.update(status="ok", score=self._trusted_score(node, result["score"], facts),
                          fold_scores=result["fold_scores"], params=result["params"], facts=facts)
        else:
            error = result.get("error") or f"exited with code {outcome.returncode}: {log_tail(node_dir)}"
            update.update(status="failed", error=error)
        node = node.model_copy(update=update)
        return node.model_copy(update={"gain": self._gain(node)}) if node.ok else node

    def _trusted_score(self, node: Node, score: float, facts: dict) -> float:
        """A tuned node's score as re-checked on fresh folds, or its parent's when it was not re-checked:
        a best of many trials is trusted no further than fresh folds confirm it (`facts` keeps the
        tuning folds' score)."""
        parent = self.journal.nodes.get(node.parents[0]) if node.step == "tune" and node.parents else None
        if parent is None or not parent.ok:
            return score
        gain = facts.get("fresh_folds_gain", 0.0)
        trusted = rechecked_tune_score(score, parent.score, gain, self.spec.greater_is_better)
        if abs(trusted - score) > 1e-12:  # parent + gain can differ from the same score in the last bit
            facts["score_on_tuning_folds"] = score
            how = "as re-checked on fresh folds" if "fresh_folds_gain" in facts else "its parent's (not re-checked)"
            log.info("node %s: tuned score %.5f on the tuning folds, %.5f %s", node.id, score, trusted, how)
        return trusted

    def _gain(self, node: Node) -> float | None:
        """Score over the parent's (an ensemble's: over its best member's); positive is better."""
        compared = node.parents if node.step == "ensemble" else node.parents[:1]
        scores = [oriented(p.score, self.spec.greater_is_better) for p in map(self.journal.get, compared) if p.ok]
        if not scores:
            return None
        return round(oriented(node.score, self.spec.greater_is_better) - max(scores), 6)

    def _record_unrunnable(self, node: Node, error: str) -> Node:
        node = node.model_copy(update={"status": "failed", "error": error, "seconds": 0.0})
        self.journal.record(node)
        self.display.update(node, self.best)
        log.info("node %s %s %s: not run: %s", node.id, node.step, node.title, error)
        return node

    def _cache_of(self, node: Node) -> Path:
        """The cache a node shares with the nodes whose code the same engineer wrote. Nodes load what
        it holds (embeddings, predictions of auxiliary labels) as their own work, so an LLM's node that
        planted label-bearing arrays could inflate only the scores of the LLM's nodes, which its own
        code could do anyway, never a built-in recipe's."""
        return self.run.path / "cache" / node.engineer

    def _confinement(self, node: Node, node_dir: Path) -> Confinement:
        """The node writes its folder and its engineer's cache; an ensemble also reads its members' folders."""
        members = [self.run.node_dir(p) for p in node.parents] if node.step == "ensemble" else []
        cache = self._cache_of(node)
        cache.mkdir(parents=True, exist_ok=True)  # granted only if it exists when the node starts
        return Confinement(read=[*self.inputs, *members], write=[node_dir, cache], disk_mb=self.settings.node_disk_mb)

    def _limit_failure(self, outcome: SandboxResult, limit: float, node_dir: Path) -> str | None:
        if outcome.timed_out:
            return f"timed out after {limit:.0f}s"
        if outcome.out_of_memory:
            return f"out of memory (limit {self.settings.memory_mb} MB)"
        if outcome.disk_full:
            return f"its folder grew over the limit of {self.settings.node_disk_mb} MB"
        if outcome.file_too_large:
            return f"wrote a file over the limit of {self.settings.node_disk_mb} MB"
        if outcome.sandbox_failed:
            return f"the sandbox could not confine it: {log_tail(node_dir)}"
        return None
