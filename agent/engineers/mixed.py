"""The LLM and the built-in engineer in one search.

The built-in engineer drafts first: its recipes run in seconds, so a valid submission exists
early, and its best candidate is in the journal, so an LLM run does not end worse than an offline
run. Then the LLM drafts, improves and debugs. Whenever the LLM has nothing to give (its budget
is spent, the provider keeps failing) the built-in engineer answers instead, so the run goes on.
"""

from __future__ import annotations

from agent.config import Settings
from agent.engineers.base import Ask, Brief, Engineer, Proposal
from agent.engineers.builtin import BuiltinEngineer
from agent.engineers.llm import LLMEngineer
from agent.journal import Journal
from agent.run_folder import RunFolder


class MixedEngineer:
    # Every proposal names its real author ("llm" or the built-in engineer's name); this name only
    # marks the steps the search makes itself (tuning), which are built-in machinery, not the LLM's.
    name = "builtin"

    def __init__(self, llm: LLMEngineer, builtin: Engineer, builtin_drafts: int) -> None:
        self.llm = llm
        self.builtin = builtin
        self.builtin_drafts = builtin_drafts

    def propose(self, ask: Ask, brief: Brief, journal: Journal, run: RunFolder) -> Proposal | None:
        if ask.kind == "draft" and self._builtin_draft_count(journal) < self.builtin_drafts:
            proposal = self._builtin(ask, brief, journal, run)
            if proposal is not None:
                return proposal
        proposal = self.llm.propose(ask, brief, journal, run)
        if proposal is not None:
            return proposal
        return self._builtin(ask, brief, journal, run)

    def _builtin(self, ask: Ask, brief: Brief, journal: Journal, run: RunFolder) -> Proposal | None:
        proposal = self.builtin.propose(ask, brief, journal, run)
        if proposal is not None and proposal.engineer is None:
            proposal.engineer = self.builtin.name
        return proposal

    def _builtin_draft_count(self, journal: Journal) -> int:
        return sum(1 for n in journal if n.step == "draft" and n.engineer != self.llm.name)


def make_engineer(settings: Settings) -> Engineer:
    """The built-in engineer alone, or mixed with the LLM that `settings.llm` names."""
    builtin = BuiltinEngineer()
    if not settings.llm:
        return builtin
    return MixedEngineer(LLMEngineer.from_settings(settings), builtin, settings.llm_builtin_drafts)
