"""What a step gained over what it was compared with, and how sure that gain is.

Every node of a run is scored on the same folds, so a gain's noise is the spread of its per-fold
differences: the paired standard error, std(d, ddof=1) / sqrt(k). A gain of one passenger beside
an SE of a point is no gain; review and the report show both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from agent.journal import Journal, Node, oriented


@dataclass(frozen=True)
class Gain:
    value: float  # positive is better, whatever the metric's direction
    se: float | None  # paired over folds; None when the fold scores do not pair up
    against: str  # the node compared with
    versus: str  # "parent" or "best member"

    def text(self, digits: int = 5) -> str:
        se = f" ± {self.se:.{digits}f}" if self.se is not None else ""
        return f"{self.value:+.{digits}f}{se} vs {self.versus} {self.against}"


def compared_node(node: Node, journal: Journal, greater_is_better: bool) -> tuple[Node, str] | None:
    """An ensemble is compared with its best member, any other step with its parent."""
    if node.step == "ensemble":
        members = [journal.nodes[i] for i in node.parents if i in journal.nodes and journal.nodes[i].ok]
        if not members:
            return None
        return journal.ranked(greater_is_better, members)[0], "best member"
    parent = journal.nodes.get(node.parent) if node.parent else None
    return (parent, "parent") if parent is not None and parent.ok else None


def gain_of(node: Node, journal: Journal, greater_is_better: bool) -> Gain | None:
    if not node.ok:
        return None
    compared = compared_node(node, journal, greater_is_better)
    if compared is None:
        return None
    other, versus = compared
    return gain_over(node, other, greater_is_better, versus)


def gain_over(node: Node, other: Node, greater_is_better: bool, versus: str = "node") -> Gain:
    """How much better `node` scores than `other`, with the standard error of the folds' differences."""
    sign = oriented(1.0, greater_is_better)
    se = None
    if len(node.fold_scores) == len(other.fold_scores) >= 2:
        differences = sign * (np.asarray(node.fold_scores) - np.asarray(other.fold_scores))
        se = float(np.std(differences, ddof=1) / math.sqrt(len(differences)))
    return Gain(round(sign * (node.score - other.score), 6), se, other.id, versus)


def within_noise(node: Node, best: Node, greater_is_better: bool) -> bool:
    """Whether `node` scores below `best` by no more than one paired standard error (never when
    the fold scores do not pair up)."""
    gain = gain_over(node, best, greater_is_better)
    return gain.se is not None and gain.value + gain.se >= 0


def rechecked_tune_score(score: float, parent_score: float, fresh_gain: float, greater_is_better: bool) -> float:
    """A tuned node's score, no better than its parent's plus the gain its parameters earned on fresh
    folds: the best of many trials on the tuning folds is optimistic by the luck of that best trial."""
    sign = oriented(1.0, greater_is_better)
    return sign * min(sign * score, sign * parent_score + fresh_gain)


def tuning_held(node: Node) -> bool:
    """Whether a node's tuned parameters (if it is a re-checked tuning) gained on fresh folds too."""
    return node.facts.get("fresh_folds_gain", 1.0) > 0
