"""What LLM tokens cost, so a run can stop at `--max-cost` and report what it spent.

List prices in USD per million tokens, as published by the providers when this table was
written (2026). Prices change: `llm_prices` in agent.toml (or AGENT_LLM_PRICES as JSON) adds
models and overrides these. A model is looked up by its name with any date suffix removed
(`gpt-5-mini-2025-08-07` is `gpt-5-mini`); an unknown model is unpriced, never guessed from a
similar name, because a newer model at an older price is a wrong number that looks right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.errors import InputError


@dataclass(frozen=True)
class Price:
    """USD per million tokens; cached input is what providers bill for prompt-cache hits."""

    input: float
    output: float
    cached_input: float | None = None

    def cost(self, tokens_in: int, tokens_out: int, cached_in: int = 0) -> float:
        cached_in = min(cached_in, tokens_in) if self.cached_input is not None else 0
        fresh = tokens_in - cached_in
        return (fresh * self.input + cached_in * (self.cached_input or 0.0) + tokens_out * self.output) / 1e6


FREE = Price(0.0, 0.0, 0.0)

# Providers that run on the user's own machine: no bill.
LOCAL_PROVIDERS = {"ollama"}

PRICES: dict[str, Price] = {
    # OpenAI
    "gpt-5.5": Price(5.00, 30.00, 0.50),
    "gpt-5.4": Price(2.50, 15.00, 0.25),
    "gpt-5.4-mini": Price(0.75, 4.50, 0.075),
    "gpt-5.1": Price(1.25, 10.00, 0.125),
    "gpt-5": Price(1.25, 10.00, 0.125),
    "gpt-5-mini": Price(0.25, 2.00, 0.025),
    "gpt-5-nano": Price(0.05, 0.40, 0.005),
    "gpt-4.1": Price(2.00, 8.00, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.025),
    "gpt-4o": Price(2.50, 10.00, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
    "o3": Price(2.00, 8.00, 0.50),
    "o4-mini": Price(1.10, 4.40, 0.275),
    # Anthropic (cache reads bill at a tenth of the input price)
    "claude-opus-4-6": Price(5.00, 25.00, 0.50),
    "claude-opus-4-5": Price(5.00, 25.00, 0.50),
    "claude-opus-4-1": Price(15.00, 75.00, 1.50),
    "claude-opus-4-0": Price(15.00, 75.00, 1.50),
    "claude-sonnet-4-6": Price(3.00, 15.00, 0.30),
    "claude-sonnet-4-5": Price(3.00, 15.00, 0.30),
    "claude-sonnet-4-0": Price(3.00, 15.00, 0.30),
    "claude-3-7-sonnet": Price(3.00, 15.00, 0.30),
    "claude-haiku-4-5": Price(1.00, 5.00, 0.10),
    "claude-3-5-haiku": Price(0.80, 4.00, 0.08),
    # Google
    "gemini-2.5-pro": Price(1.25, 10.00, 0.125),
    "gemini-2.5-flash": Price(0.30, 2.50, 0.03),
}

ALIASES = {"claude-opus-4": "claude-opus-4-0", "claude-sonnet-4": "claude-sonnet-4-0"}

DATE_SUFFIX = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|-latest)$")


def normalise(model: str) -> str:
    """`claude-sonnet-4-5-20250929` -> `claude-sonnet-4-5`; `openai/gpt-5` (routers) -> `gpt-5`."""
    name = model.strip().lower().rsplit("/", 1)[-1]
    name = DATE_SUFFIX.sub("", name)
    return ALIASES.get(name, name)


def parse_overrides(overrides: dict[str, list[float]]) -> dict[str, Price]:
    table = {}
    for model, numbers in overrides.items():
        if len(numbers) not in (2, 3) or any(n < 0 for n in numbers):
            raise InputError(f"price of {model!r} must be [input, output] or [input, output, cached input] "
                             f"in USD per million tokens, not {numbers}", "llm_prices")
        table[normalise(model)] = Price(*numbers)
    return table


def find_price(provider: str, model: str, overrides: dict[str, list[float]] | None = None) -> Price | None:
    """The price of `model`, or None when nobody told us (the run then counts tokens only)."""
    table = {**PRICES, **parse_overrides(overrides or {})}
    name = normalise(model)
    if name in table:
        return table[name]
    if provider in LOCAL_PROVIDERS:
        return FREE
    return None
