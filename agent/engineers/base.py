"""The contract between the search and whoever writes solutions (built-in recipes or an LLM)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from agent.journal import Journal, Node
from agent.run_folder import RunFolder
from pipelines.spec import CompetitionSpec


@dataclass
class Brief:
    """What an engineer knows about the competition: the spec, the data profile, the description."""

    spec: CompetitionSpec
    profile: dict[str, Any]
    profile_text: str
    folds: str = ""  # the validation folds in a sentence (pipelines.folds.describe_folds)


@dataclass
class Ask:
    """What the search policy wants next: a new draft, a better version of `parent`, or a fix of it."""

    kind: Literal["draft", "improve", "debug"]
    parent: Node | None = None
    why: str = ""  # why this parent: the prompt tells the engineer, e.g. "the best solution so far"
    seconds: float | None = None  # the limit its candidate will run under, when the search knows it
    early: bool = False  # a draft of the first round, which the first ensemble and the first edits build on
    sized_only: bool = False  # a draft in less time than drafts took: only code that sizes its work to its limit


@dataclass
class Proposal:
    """A solution to try: code under the solution contract, a short title and the plan behind it."""

    title: str
    plan: str
    code: str
    engineer: str | None = None  # who wrote it, when an engineer delegates to others
    files: dict[str, str] = field(default_factory=dict)  # saved in the node folder, e.g. the prompt and the reply
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    recipe: str = ""  # what the code is a version of (a built-in recipe's name); the title when empty
    sized_to_time: bool = False  # the code plans its epochs from its limit (agent.journal.Node.sized_to_time)
    facts: dict[str, Any] = field(default_factory=dict)
    # Why this proposal cannot run (an LLM reply without code, a syntax error): the search records it
    # as a failed node with this one-line cause, without spending a sandbox run on it.
    error: str | None = None


class Engineer(Protocol):
    name: str

    def propose(self, ask: Ask, brief: Brief, journal: Journal, run: RunFolder) -> Proposal | None:
        """A proposal for `ask`, or None when this engineer has nothing (more) to offer for it."""
        ...
