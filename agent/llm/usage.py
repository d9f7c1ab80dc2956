"""Counting what the LLM part of a run used: per reply, per node, per run (kept light: `agent review` reads it)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

USAGE_FILE = "llm_usage.json"  # in the run folder: the run's LLM totals, limits and why it stopped


@dataclass
class Usage:
    """Tokens and dollars of some calls: one reply, one node, or the whole run."""

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cached_in: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0

    def add(self, other: Usage) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def usage_line(usage: dict[str, Any]) -> str:
    """One line for people: what the LLM part of a run did and cost (from `LLMClient.summary`)."""
    cost = f"${usage['cost_usd']:.4f}" if usage.get("priced") else "cost unknown (no price for the model)"
    stopped = f" · stopped: {usage['stopped']}" if usage.get("stopped") else ""
    return (f"LLM {usage['model']}: {usage['calls']} calls, {usage['tokens_in']:,} tokens in, "
            f"{usage['tokens_out']:,} out, {cost}{stopped}")
