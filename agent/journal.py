"""The journal of a run: every candidate (node) with its parent, step, plan, status and scores.

Stored as JSON lines, one snapshot of a node per line, appended and fsynced as things happen;
the last snapshot of a node wins. A run killed at any moment loses at most a half-written last
line, which loading skips.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

Step = Literal["draft", "improve", "debug", "tune", "ensemble"]
Status = Literal["running", "ok", "failed"]


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
    info: dict[str, Any] = Field(default_factory=dict, description="step-specific facts: gain over parent, trials, weights")
    public_score: float | None = None

    @property
    def parent(self) -> str | None:
        return self.parents[0] if self.parents else None

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.score is not None


class Journal:
    """All nodes of a run, in creation order, backed by `journal.jsonl`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.nodes: dict[str, Node] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        for number, line in enumerate(self.path.read_text(errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                node = Node.model_validate_json(line)
            except ValueError:
                log.warning("journal %s: skipping unreadable line %d (interrupted write)", self.path, number)
                continue
            self.nodes[node.id] = node

    def record(self, node: Node) -> None:
        """Append a snapshot of `node` and make it durable before returning."""
        self.nodes[node.id] = node
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as f:
            f.write(node.model_dump_json() + "\n")
            f.flush()
            os.fsync(f.fileno())

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

    def best(self, greater_is_better: bool) -> Node | None:
        good = self.good()
        if not good:
            return None
        sign = 1 if greater_is_better else -1
        return max(good, key=lambda n: (sign * n.score, -int(n.id)))

    def children(self, node_id: str) -> list[Node]:
        return [n for n in self if node_id in n.parents]

    def depth(self, node: Node, step: Step) -> int:
        """How many ancestors in a row were made by `step` (e.g. debug attempts on one bug)."""
        depth = 0
        while node.step == step and node.parent is not None:
            depth += 1
            node = self.nodes[node.parent]
        return depth
