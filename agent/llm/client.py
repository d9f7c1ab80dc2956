"""One robust way to call a chat model: retries with back-off, a hard per-call deadline, token and
cost accounting from the replies' usage metadata, and the run's LLM budget.

What can go wrong, and what happens:
- rate limit (429), timeout, connection error, server error (5xx): retried with exponential
  back-off (honouring Retry-After), up to `max_retries` times; then the call fails.
- wrong key (401/403), unknown model (404), exhausted quota: an `InputError` at once, never retried;
  the user must fix it, and every further call would fail the same way.
- any other rejection (e.g. a prompt over the context limit): the call fails; the next may work.
- a first call that fails (the server is not running, the URL is wrong), `FAILURES_IN_A_ROW` failed
  calls in a row, `max_calls` calls or `max_cost` spent: the LLM part of the search stops
  (`LLMStopped`); the built-in engineer carries on.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from langchain_core.exceptions import (
    ModelAuthenticationError,
    ModelError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage

from agent.config import Settings
from agent.llm.models import ModelName, make_chat_model
from agent.llm.prices import Price, find_price
from agent.llm.usage import Usage
from pipelines.errors import InputError

log = logging.getLogger(__name__)

FAILURES_IN_A_ROW = 3
MAX_RETRY_WAIT = 60.0
DEADLINE_GRACE = 30.0  # the provider's own timeout should fire first; this catches clients that ignore it
CHARS_PER_TOKEN = 4  # for estimates only: budgets before a call, usage when a provider reports none
EXPECTED_REPLY_TOKENS = 4000


@dataclass
class Reply:
    text: str
    usage: Usage
    estimated: bool = False  # the provider reported no usage; tokens are estimated from characters


class LLMStopped(Exception):
    """The LLM part of the search is over for this session (budget reached, provider unusable)."""


class CallFailed(Exception):
    """This call failed for good; a later call may succeed."""


class LLMClient:
    def __init__(self, chat_model: BaseChatModel, name: ModelName, price: Price | None, *,
                 max_cost: float | None = None, max_calls: int | None = None, timeout: float = 300.0,
                 max_retries: int = 6, retry_wait: float = 2.0, sleep: Callable[[float], None] = time.sleep) -> None:
        if max_cost is not None and price is None:
            raise InputError(f"no price known for {name.model}, so --max-cost cannot be kept; add it to llm_prices "
                             f"in agent.toml (USD per million tokens, [input, output]) or use --max-llm-calls",
                             "--max-cost")
        self.chat_model = chat_model
        self.name = name
        self.price = price
        self.max_cost = max_cost
        self.max_calls = max_calls
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_wait = retry_wait
        self.sleep = sleep
        self.total = Usage()
        self.stopped: str | None = None
        self.failures_in_a_row = 0
        self.answered = False  # has the provider answered at all in this session?

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMClient:
        model, name = make_chat_model(settings)
        price = find_price(name.provider, name.model, settings.llm_prices)
        if price is None and settings.llm_max_cost is None:
            log.warning("no price known for %s: tokens are counted, cost is not (add it to llm_prices)", name)
        return cls(model, name, price, max_cost=settings.llm_max_cost, max_calls=settings.llm_max_calls,
                   timeout=settings.llm_timeout, max_retries=settings.llm_max_retries,
                   retry_wait=settings.llm_retry_wait)

    # --- the budget --------------------------------------------------------------------------

    def _check_budget(self, messages: Sequence[BaseMessage]) -> None:
        """Stop before a call that would break a limit; a cost estimate keeps the spend under --max-cost."""
        if self.stopped:
            raise LLMStopped(self.stopped)
        reason = None
        if self.max_calls is not None and self.total.calls >= self.max_calls:
            reason = f"LLM call limit reached ({self.total.calls} of {self.max_calls} calls)"
        elif self.max_cost is not None and self.price is not None:
            prompt_tokens = sum(len(_text(m)) for m in messages) // CHARS_PER_TOKEN
            reply_tokens = (self.total.tokens_out // self.total.calls) if self.total.calls else EXPECTED_REPLY_TOKENS
            next_cost = self.price.cost(prompt_tokens, reply_tokens)
            if self.total.cost_usd + next_cost > self.max_cost:
                reason = (f"LLM cost limit reached (${self.total.cost_usd:.4f} spent of ${self.max_cost:.2f}; "
                          f"the next call would cost about ${next_cost:.4f})")
        if reason:
            self.stop(reason)
            raise LLMStopped(reason)

    def stop(self, reason: str) -> None:
        if not self.stopped:
            self.stopped = reason
            log.warning("%s; the built-in engineer carries on", reason)

    # --- one call ----------------------------------------------------------------------------

    def ask(self, messages: Sequence[BaseMessage]) -> Reply:
        """The model's reply to `messages`, with its usage counted; see the module doc for failures."""
        self._check_budget(messages)
        attempt = 0
        start = time.monotonic()
        while True:
            try:
                message = _call_with_deadline(lambda: self.chat_model.invoke(list(messages)),
                                              self.timeout + DEADLINE_GRACE)
                break
            except Exception as exc:
                kind = self._classify(exc)
                if kind != "retry" or attempt >= self.max_retries:
                    raise self._failure(exc, kind, retried=attempt) from exc
                wait = self._backoff(attempt, exc)
                attempt += 1
                log.warning("%s: %s; retry %d of %d in %.1fs", self.name, _first_line(exc), attempt,
                            self.max_retries, wait)
                self.sleep(wait)
        self.failures_in_a_row = 0
        self.answered = True
        reply = self._account(message, time.monotonic() - start, sum(len(_text(m)) for m in messages))
        log.info("%s: %d tokens in, %d out, $%.4f, %.1fs", self.name, reply.usage.tokens_in,
                 reply.usage.tokens_out, reply.usage.cost_usd, reply.usage.seconds)
        return reply

    def _classify(self, exc: Exception) -> str:
        """'auth', 'missing', 'quota', 'retry' or 'fail', provider-neutral where langchain allows."""
        status = _status_code(exc)
        if isinstance(exc, (ModelAuthenticationError, ModelPermissionDeniedError)) or status in (401, 403):
            return "auth"
        if isinstance(exc, ModelNotFoundError) or status == 404:
            return "missing"
        if "insufficient_quota" in str(exc):
            return "quota"
        if isinstance(exc, ModelError):
            return "retry" if exc.is_retryable else "fail"
        if status is not None:
            return "retry" if status in (408, 409, 429) or status >= 500 else "fail"
        transient = {"TimeoutError", "ConnectionError", "TimeoutException", "TransportError", "CallTimeout"}
        if any(cls.__name__ in transient for cls in type(exc).__mro__):
            return "retry"
        return "fail"

    def _backoff(self, attempt: int, exc: Exception) -> float:
        wait = min(MAX_RETRY_WAIT, self.retry_wait * 2**attempt) * random.uniform(0.8, 1.2)
        return min(MAX_RETRY_WAIT, max(wait, _retry_after(exc) or 0.0))

    def _failure(self, exc: Exception, kind: str, retried: int) -> Exception:
        """The exception that ends a call: InputError for what the user must fix, else CallFailed/LLMStopped."""
        where = str(self.name)
        if kind == "auth":
            key = f"{self.name.provider.upper()}_API_KEY"
            return InputError(f"the provider rejected the credentials ({_first_line(exc)}); check {key}", where)
        if kind == "missing":
            hint = f" (run `ollama pull {self.name.model}`)" if self.name.provider == "ollama" else ""
            return InputError(f"the provider does not know this model ({_first_line(exc)}){hint}", where)
        if kind == "quota":
            return InputError(f"the account has no quota left ({_first_line(exc)})", where)
        self.failures_in_a_row += 1
        after = f" after {retried} retries" if retried else ""
        reason = f"{type(exc).__name__}{after}: {_first_line(exc)}"
        if kind == "retry" and not self.answered:  # a wrong URL or a server not running: stop waiting for it
            self.stop(f"{where} did not answer the first call ({reason})")
            return LLMStopped(self.stopped)
        if self.failures_in_a_row >= FAILURES_IN_A_ROW:
            self.stop(f"{where} failed {self.failures_in_a_row} calls in a row (last: {reason})")
            return LLMStopped(self.stopped)
        return CallFailed(reason)

    def _account(self, message: AIMessage, seconds: float, prompt_chars: int) -> Reply:
        """Usage from the reply's metadata; estimated from characters when the provider reports none."""
        text = _text(message)
        meta = getattr(message, "usage_metadata", None)
        if meta:
            tokens_in, tokens_out = int(meta.get("input_tokens", 0)), int(meta.get("output_tokens", 0))
            cached = int((meta.get("input_token_details") or {}).get("cache_read", 0) or 0)
        else:
            tokens_in, tokens_out, cached = prompt_chars // CHARS_PER_TOKEN, len(text) // CHARS_PER_TOKEN, 0
        cost = self.price.cost(tokens_in, tokens_out, cached) if self.price else 0.0
        usage = Usage(calls=1, tokens_in=tokens_in, tokens_out=tokens_out, cached_in=cached, cost_usd=cost,
                      seconds=seconds)
        self.total.add(usage)
        return Reply(text, usage, estimated=not meta)

    def summary(self) -> dict[str, Any]:
        """What `llm_usage.json` and the run summary say about the LLM part."""
        return {"model": str(self.name), "priced": self.price is not None,
                "price_per_million": asdict(self.price) if self.price else None, "max_cost": self.max_cost,
                "max_calls": self.max_calls, **asdict(self.total), "cost_usd": round(self.total.cost_usd, 6),
                "seconds": round(self.total.seconds, 1), "stopped": self.stopped}


class CallTimeout(Exception):
    """The call outlived its deadline although the provider client should have timed it out."""


def _call_with_deadline(call: Callable[[], Any], seconds: float) -> Any:
    """Run `call` in a daemon thread and give up on it after `seconds` (a stuck socket cannot hang the run)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="llm-call", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise CallTimeout(f"no reply within {seconds:.0f}s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _status_code(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) and status > 0 else None


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    try:
        return float(headers.get("retry-after")) if headers is not None and headers.get("retry-after") else None
    except (TypeError, ValueError):
        return None


def _text(message: BaseMessage) -> str:
    return str(message.text)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]
