"""The journal of a run: every candidate (node) with its parent, step, plan, status and scores.

Stored as JSON lines, one snapshot of a node per line, appended and fsynced as things happen;
the last snapshot of a node wins. A run killed at any moment loses at most a half-written last
line: loading skips it with a warning, and the next record starts on a line of its own.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from agent.run_folder import write_point

log = logging.getLogger(__name__)

Step = Literal["draft", "improve", "debug", "tune", "ensemble"]
Status = Literal["running", "ok", "failed"]
_warned: set[tuple[Path, int]] = set()  # torn lines already reported, once per process


class Node(BaseModel):
    """One candidate solution and what became of it."""

    id: str
    parents: list[str] = Field(default_factory=list, description="one parent, several for an ensemble, none for a draft")
    step: Step
    engineer: str = "builtin"
    title: str = ""
    plan: str = ""
    status: Status = "running"
    score: float | None = None
    fold_scores: list[float] = Field(default_factory=list)
    error: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    started_at: float = Field(default_factory=time.time)
    seconds: float | None = None
    peak_memory_mb: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    recipe: str = Field("", description="what the code is a version of: a built-in recipe's name, else the title")
    sized_to_time: bool = Field(False, description="its code plans its work (epochs) from the time it is given, "
                                                   "so a shorter limit buys a smaller version, not a timeout")
    gain: float | None = Field(None, description="score over the parent's (an ensemble's: its best member's); "
                                                 "positive is better")
    facts: dict[str, Any] = Field(default_factory=dict, description="what the run told: trials, weights, trees, "
                                                                     "threshold, the LLM's calls")
    public_score: float | None = None
    attempts: int = Field(1, description="times the node was started; one running at every kill is given up")

    @model_validator(mode="before")
    @classmethod
    def _recipe_from_title(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("recipe"):
            return {**data, "recipe": data.get("title", "")}
        return data

    @property
    def parent(self) -> str | None:
        return self.parents[0] if self.parents else None

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.score is not None


def oriented(score: float, greater_is_better: bool) -> float:
    """The score with its sign turned so that higher is better, whatever the metric's direction."""
    return score if greater_is_better else -score


def _write_durably(f, text: str) -> None:
    f.write(text.encode())
    f.flush()
    os.fsync(f.fileno())


class Journal:
    """All nodes of a run, in creation order, backed by `journal.jsonl`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.nodes: dict[str, Node] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        # "\n" only: a plan may hold other line breaks (U+2028, \x85) that JSON leaves unescaped.
        for number, line in enumerate(self.path.read_text(errors="replace").split("\n"), 1):
            if not line.strip():
                continue
            try:
                node = Node.model_validate_json(line)
            except ValueError:
                if (self.path, number) not in _warned:
                    _warned.add((self.path, number))
                    log.warning("journal %s: skipping unreadable line %d (a write cut short by a kill)", self.path, number)
                continue
            self.nodes[node.id] = node

    def record(self, node: Node) -> None:
        """Append a snapshot of `node` and make it durable before returning."""
        self.nodes[node.id] = node
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = node.model_dump_json() + "\n"
        with open(self.path, "a+b") as f:
            if f.tell() > 0:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":  # a kill cut the last record short: never glue this one to it
                    line = "\n" + line
            write_point("journal", torn=lambda: _write_durably(f, line[: len(line) // 2]))
            _write_durably(f, line)

    def snapshot(self) -> Journal:
        """A copy of the nodes as they are now, for a reader in another thread (an LLM's prompt)."""
        copy = Journal.__new__(Journal)
        copy.path, copy.nodes = self.path, dict(self.nodes)
        return copy

    def new_id(self) -> str:
        return f"{len(self.nodes) + 1:04d}"

    def __iter__(self):
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def get(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def good(self) -> list[Node]:
        return [n for n in self if n.ok]

    def ranked(self, greater_is_better: bool, nodes: Iterable[Node] | None = None) -> list[Node]:
        """Good nodes (of `nodes`, default all), best first; on a tie, the earlier."""
        good = [n for n in (self if nodes is None else nodes) if n.ok]
        return sorted(good, key=lambda n: (-oriented(n.score, greater_is_better), int(n.id)))

    def best(self, greater_is_better: bool) -> Node | None:
        ranked = self.ranked(greater_is_better)
        return ranked[0] if ranked else None

    def children(self, node_id: str) -> list[Node]:
        return [n for n in self if node_id in n.parents]

    def depth(self, node: Node, step: Step) -> int:
        """How many ancestors in a row were made by `step` (e.g. debug attempts on one bug)."""
        depth = 0
        while node.step == step and node.parent is not None:
            depth += 1
            node = self.nodes[node.parent]
        return depth
