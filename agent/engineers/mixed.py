"""The LLM and the built-in engineer in one search.

The built-in engineer answers the search policy exactly as in an offline run (its strongest drafts
for the data, its improvements; the search adds tuning and ensembles), so an LLM run never ends
below an offline one for want of built-in work. The LLM works beside it: the search keeps one LLM
call in flight and runs each reply as soon as it arrives (see `Search`), so the cores never wait
for the model. When the LLM stops (its budget spent, the provider failing) the run goes on offline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.config import Settings
from agent.engineers.base import Ask, Brief, Engineer, Proposal
from agent.engineers.builtin import BuiltinEngineer
from agent.journal import Journal
from agent.run_folder import RunFolder

if TYPE_CHECKING:
    from agent.engineers.llm import LLMEngineer


class MixedEngineer:
    """The built-in engineer, with the LLM as its slower partner `llm` that the search asks in the background."""

    def __init__(self, llm: LLMEngineer, builtin: Engineer, builtin_drafts: int) -> None:
        self.llm = llm
        self.builtin = builtin
        self.builtin_drafts = builtin_drafts  # built-in drafts that finish before the LLM is first asked
        self.name = builtin.name

    def propose(self, ask: Ask, brief: Brief, journal: Journal, run: RunFolder) -> Proposal | None:
        proposal = self.builtin.propose(ask, brief, journal, run)
        if proposal is not None and proposal.engineer is None:
            proposal.engineer = self.builtin.name
        return proposal


def make_engineer(settings: Settings) -> Engineer:
    """The built-in engineer alone, or mixed with the LLM that `settings.llm` names."""
    builtin = BuiltinEngineer()
    if not settings.llm:
        return builtin
    from agent.engineers.llm import LLMEngineer  # langchain takes a second to import: only runs with an LLM pay it

    return MixedEngineer(LLMEngineer.from_settings(settings), builtin, settings.llm_builtin_drafts)
