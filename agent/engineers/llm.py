"""The engineer that writes solutions with an LLM: drafts, one-change improvements, fixes.

Each step is one conversation: the step's prompt, the reply, and, when the reply holds no code,
a short follow-up asking again (up to `llm_reply_attempts` replies). Every prompt and reply goes
into the node's folder. A reply that cannot run (no code, a syntax error, a missing function of
the contract) becomes a failed node with the reason, which a later debug step can fix.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from langchain_core.messages import AIMessage, HumanMessage

from agent.config import Settings
from agent.engineers.base import Ask, Brief, Proposal
from agent.journal import Journal
from agent.llm.client import CallFailed, LLMClient, LLMStopped
from agent.engineers.prompts import Limits, as_markdown, build_messages, render
from agent.engineers.replies import ParsedReply, code_problem, parse_reply
from agent.llm.usage import USAGE_FILE, Usage
from agent.run_folder import RunFolder, write_atomic
from pipelines.device import detect_device

log = logging.getLogger(__name__)


class LLMEngineer:
    name = "llm"

    def __init__(self, client: LLMClient, settings: Settings) -> None:
        self.client = client
        self.reply_attempts = settings.llm_reply_attempts
        self.limits = Limits(node_seconds=settings.node_timeout, n_jobs=settings.n_jobs,
                             memory_mb=settings.memory_mb, device=detect_device())
        self._counted_earlier_sessions = False

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMEngineer:
        return cls(LLMClient.from_settings(settings), settings)

    @property
    def available(self) -> bool:
        return self.client.stopped is None

    def propose(self, ask: Ask, brief: Brief, journal: Journal, run: RunFolder) -> Proposal | None:
        """A solution for `ask`, or None when the LLM part is stopped or the call failed."""
        self._count_earlier_sessions(journal)
        if not self.available:
            return None
        limits = replace(self.limits, node_seconds=ask.seconds) if ask.seconds else self.limits
        messages = build_messages(ask, brief, journal, run, limits)
        files = {"prompt.md": as_markdown(messages)}
        used = Usage()
        parsed: ParsedReply | None = None
        for attempt in range(1, self.reply_attempts + 1):
            try:
                reply = self.client.ask(messages)
            except LLMStopped:  # the client has said why
                break
            except CallFailed as exc:
                log.warning("LLM %s step gave no reply: %s", ask.kind, exc)
                break
            used.add(reply.usage)
            files[_numbered("reply", attempt)] = reply.text
            parsed = parse_reply(reply.text)
            if parsed.code or attempt == self.reply_attempts:
                break
            follow_up = render("fix_reply", problem="it holds no Python code block")
            files[_numbered("prompt", attempt + 1)] = follow_up
            messages = [*messages, AIMessage(reply.text), HumanMessage(follow_up)]
        self._save_usage(run)
        if parsed is None:
            return None
        return self._proposal(ask, parsed, used, files)

    def _proposal(self, ask: Ask, parsed: ParsedReply, used: Usage, files: dict[str, str]) -> Proposal:
        error = None
        if not parsed.code:
            error = f"unusable LLM reply: no Python code in {used.calls} repl{'y' if used.calls == 1 else 'ies'}"
            files["log.txt"] = error + "\n"
        elif problem := code_problem(parsed.code):
            error = problem.error
            files["log.txt"] = problem.details
        facts = {"model": str(self.client.name), "llm_calls": used.calls, "llm_seconds": round(used.seconds, 1)}
        if parsed.unclear:
            facts["unclear"] = parsed.unclear
        if used.cached_in:
            facts["cached_tokens"] = used.cached_in
        return Proposal(
            title=parsed.title or f"{ask.kind} by {self.client.name.model}", plan=parsed.plan, code=parsed.code,
            engineer=self.name, files=files, tokens_in=used.tokens_in, tokens_out=used.tokens_out,
            cost_usd=used.cost_usd, facts=facts, error=error,
        )

    def _count_earlier_sessions(self, journal: Journal) -> None:
        """A resumed run keeps its LLM budget: what earlier sessions spent is in the journal."""
        if self._counted_earlier_sessions:
            return
        self._counted_earlier_sessions = True
        for node in journal:
            calls = node.facts.get("llm_calls", 0)
            if calls:
                self.client.total.add(Usage(calls=calls, tokens_in=node.tokens_in, tokens_out=node.tokens_out,
                                            cost_usd=node.cost_usd))

    def _save_usage(self, run: RunFolder) -> None:
        write_atomic(run.path / USAGE_FILE, json.dumps(self.client.summary(), indent=2))


def _numbered(stem: str, attempt: int) -> str:
    return f"{stem}.md" if attempt == 1 else f"{stem}-{attempt}.md"
