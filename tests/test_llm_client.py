"""The LLM client: retries and back-off, clear stops, budgets, usage and cost; the model factory; prices."""

from __future__ import annotations

import time

import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelRateLimitError,
)
from langchain_core.messages import AIMessage, HumanMessage

from agent.config import Settings
from agent.llm import client as client_module
from agent.llm.client import CallFailed, CallTimeout, LLMClient, LLMStopped, _call_with_deadline
from agent.llm.models import make_chat_model, parse_model_name
from agent.llm.prices import PRICES, Price, find_price, normalise
from pipelines.errors import InputError
from tests.llm_helpers import ScriptedChatModel, reply

ASK = [HumanMessage("write a solution")]


def make_client(script: list, **kwargs) -> tuple[LLMClient, ScriptedChatModel, list[float]]:
    model = ScriptedChatModel(script=script)
    waits: list[float] = []
    options = {"retry_wait": 1.0, "max_retries": 3, **kwargs}
    client = LLMClient(model, parse_model_name("openai:gpt-5-mini"), PRICES["gpt-5-mini"], sleep=waits.append,
                       **options)
    return client, model, waits


class Status(Exception):
    """An HTTP error as providers without langchain error classes raise it (e.g. Ollama's ResponseError)."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


def test_rate_limits_and_server_errors_are_retried_with_growing_waits():
    client, model, waits = make_client([ModelRateLimitError("slow down"), ModelAPIError("502 bad gateway"),
                                        Status(503), reply("done", 100, 10)])
    answer = client.ask(ASK)
    assert answer.text == "done" and len(model.prompts) == 4
    assert len(waits) == 3 and waits[0] < waits[1] < waits[2]
    assert 0.8 <= waits[0] <= 1.2 and 3.2 <= waits[2] <= 4.8
    assert client.total.calls == 1 and client.failures_in_a_row == 0


def test_retries_end_in_a_failed_call_and_three_failed_calls_stop_the_llm():
    client, model, waits = make_client([reply("first"), *[ModelConnectionError("refused")] * 9], max_retries=2)
    client.ask(ASK)
    for _ in range(2):
        with pytest.raises(CallFailed, match="after 2 retries: refused"):
            client.ask(ASK)
    with pytest.raises(LLMStopped, match="failed 3 calls in a row"):
        client.ask(ASK)
    assert len(model.prompts) == 10 and client.stopped
    with pytest.raises(LLMStopped):
        client.ask(ASK)
    assert len(model.prompts) == 10  # a stopped client calls no more


def test_a_provider_that_never_answers_stops_after_the_first_call():
    client, model, waits = make_client([ModelConnectionError("Connection refused")] * 5, max_retries=2)
    with pytest.raises(LLMStopped, match="did not answer the first call .*after 2 retries: Connection refused"):
        client.ask(ASK)
    assert len(model.prompts) == 3 and len(waits) == 2


def test_a_rejected_key_stops_at_once_without_retrying():
    client, model, waits = make_client([ModelAuthenticationError("Incorrect API key provided"), reply("x")])
    with pytest.raises(InputError, match="rejected the credentials.*check OPENAI_API_KEY"):
        client.ask(ASK)
    assert len(model.prompts) == 1 and waits == [] and client.total.calls == 0
    client, model, _ = make_client([Status(401)])
    with pytest.raises(InputError, match="rejected the credentials"):
        client.ask(ASK)


def test_unknown_model_and_exhausted_quota_are_user_errors():
    client, _, _ = make_client([Status(404)])
    with pytest.raises(InputError, match="does not know this model"):
        client.ask(ASK)
    client, _, waits = make_client([ModelRateLimitError("You exceeded your current quota (insufficient_quota)")])
    with pytest.raises(InputError, match="no quota left"):
        client.ask(ASK)
    assert waits == []


def test_a_request_the_provider_rejects_fails_the_call_only():
    client, model, waits = make_client([ContextOverflowError("prompt is too long"), reply("fine")])
    with pytest.raises(CallFailed, match="prompt is too long"):
        client.ask(ASK)
    assert waits == [] and client.ask(ASK).text == "fine"


def test_retry_after_is_honoured():
    class Limited(ModelRateLimitError):
        response = type("Response", (), {"headers": {"retry-after": "7"}})()

    client, _, waits = make_client([Limited("429"), reply("ok")])
    client.ask(ASK)
    assert waits == [7.0]


def test_usage_and_cost_come_from_the_usage_metadata():
    message = AIMessage("hi", usage_metadata={"input_tokens": 2_000_000, "output_tokens": 500_000,
                                              "total_tokens": 2_500_000,
                                              "input_token_details": {"cache_read": 1_000_000}})
    client, _, _ = make_client([message, AIMessage("no usage reported here")])
    first = client.ask(ASK)
    # gpt-5-mini: 1M fresh input at $0.25, 1M cached at $0.025, 0.5M output at $2.00
    assert first.usage.cost_usd == pytest.approx(0.25 + 0.025 + 1.0)
    second = client.ask(ASK)
    assert second.estimated and second.usage.tokens_out == len("no usage reported here") // 4
    assert second.usage.tokens_in == len("write a solution") // 4
    assert client.total.calls == 2 and client.total.tokens_in == 2_000_000 + len("write a solution") // 4
    summary = client.summary()
    assert summary["model"] == "openai:gpt-5-mini" and summary["calls"] == 2 and summary["priced"]


def test_the_call_limit_stops_before_the_next_call():
    client, model, _ = make_client([reply("a"), reply("b"), reply("c")], max_calls=2)
    client.ask(ASK)
    client.ask(ASK)
    with pytest.raises(LLMStopped, match="call limit reached \\(2 of 2 calls\\)"):
        client.ask(ASK)
    assert len(model.prompts) == 2 and "call limit" in client.summary()["stopped"]


def test_the_cost_limit_stops_before_a_call_that_would_break_it():
    # $1 per million tokens either way; each reply: 300k in + 100k out = $0.40
    replies = [reply("a", 300_000, 100_000), reply("b", 300_000, 100_000), reply("c", 300_000, 100_000)]
    client = LLMClient(ScriptedChatModel(script=replies), parse_model_name("openai:x"), Price(1.0, 1.0),
                       max_cost=1.0, sleep=lambda s: None)
    client.ask(ASK)
    client.ask(ASK)  # $0.80 spent; the next would bring it to about $0.90
    assert client.total.cost_usd == pytest.approx(0.8)
    long_prompt = [HumanMessage("x" * 4 * 200_000)]  # about 200k tokens: $0.20 + $0.10 for the reply
    with pytest.raises(LLMStopped, match="cost limit reached"):
        client.ask(long_prompt)
    assert client.total.cost_usd <= 1.0


def test_max_cost_needs_a_price():
    with pytest.raises(InputError, match="no price known for my-model"):
        LLMClient(ScriptedChatModel(script=[]), parse_model_name("openai:my-model"), None, max_cost=5.0)


def test_a_call_that_hangs_is_abandoned_at_its_deadline():
    start = time.monotonic()
    with pytest.raises(CallTimeout):
        _call_with_deadline(lambda: time.sleep(5), 0.2)
    assert time.monotonic() - start < 4.0  # before the 5 s call could return, with room for a busy machine
    assert _call_with_deadline(lambda: 42, 1.0) == 42
    with pytest.raises(ValueError):
        _call_with_deadline(lambda: int("x"), 1.0)


def test_a_hung_call_counts_as_a_timeout_and_is_retried(monkeypatch):
    monkeypatch.setattr(client_module, "DEADLINE_GRACE", 0.0)

    class Slow(ScriptedChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            if not self.prompts:
                self.prompts.append(messages)
                time.sleep(2)
            return super()._generate(messages, stop, run_manager, **kwargs)

    model = Slow(script=[reply("late but fine")])
    waits: list[float] = []
    client = LLMClient(model, parse_model_name("openai:gpt-5-mini"), None, timeout=0.2, sleep=waits.append)
    assert client.ask(ASK).text == "late but fine" and len(waits) == 1


# --- the model factory ---------------------------------------------------------------------------

def test_model_names_split_at_the_first_colon():
    name = parse_model_name("ollama:qwen2.5-coder:32b")
    assert (name.provider, name.model) == ("ollama", "qwen2.5-coder:32b")
    with pytest.raises(InputError, match="provider:model"):
        parse_model_name("gpt-5-mini")


def test_a_missing_provider_package_is_one_line_naming_it():
    with pytest.raises(InputError) as caught:
        make_chat_model(Settings(llm="groq:llama-3.3-70b"))
    assert "needs the langchain-groq package: pip install langchain-groq" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_extra_names_the_project_extra(monkeypatch):
    import langchain.chat_models

    def no_package(*args, **kwargs):
        raise ImportError("Initializing ChatAnthropic requires the langchain-anthropic package.")

    monkeypatch.setattr(langchain.chat_models, "init_chat_model", no_package)
    with pytest.raises(InputError, match=r"pip install langchain-anthropic \(or pip install 'kagglewright\[anthropic\]'\)"):
        make_chat_model(Settings(llm="anthropic:claude-sonnet-4-6"))


def test_unknown_providers_and_missing_keys_are_user_errors(monkeypatch):
    with pytest.raises(InputError, match="unknown provider 'nosuch'"):
        make_chat_model(Settings(llm="nosuch:model"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(InputError, match="OPENAI_API_KEY"):
        make_chat_model(Settings(llm="openai:gpt-5-mini"))


def test_provider_settings_reach_the_model(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model, name = make_chat_model(Settings(llm="openai:gpt-5-mini", llm_base_url="http://127.0.0.1:9/v1",
                                           llm_timeout=12, llm_max_tokens=4000))
    assert str(name) == "openai:gpt-5-mini"
    assert model.openai_api_base == "http://127.0.0.1:9/v1" and model.request_timeout == 12
    assert model.max_retries == 0 and model.max_tokens == 4000
    model, _ = make_chat_model(Settings(llm="ollama:qwen2.5-coder:32b", llm_base_url="http://gpu-box:11434"))
    assert model.model == "qwen2.5-coder:32b" and model.base_url == "http://gpu-box:11434"
    assert model.num_ctx >= 16384 and model.client_kwargs["timeout"] == 300.0


# --- prices --------------------------------------------------------------------------------------

def test_prices_by_exact_name_dates_removed_local_models_free():
    assert normalise("claude-sonnet-4-5-20250929") == "claude-sonnet-4-5"
    assert normalise("gpt-4o-2024-08-06") == "gpt-4o"
    assert find_price("openai", "gpt-5-mini-2025-08-07") == PRICES["gpt-5-mini"]
    assert find_price("anthropic", "claude-sonnet-4") == PRICES["claude-sonnet-4-0"]
    assert find_price("openai", "gpt-5-mini-turbo-ultra") is None  # never guessed from a similar name
    assert find_price("ollama", "qwen2.5-coder:32b").cost(10**6, 10**6) == 0.0


def test_configured_prices_add_models_and_override_the_table():
    overrides = {"my-finetune": [1.0, 3.0], "gpt-5-mini": [0.5, 4.0, 0.05]}
    assert find_price("openai", "my-finetune", overrides) == Price(1.0, 3.0)
    assert find_price("openai", "gpt-5-mini", overrides).cost(10**6, 10**6, 10**6) == pytest.approx(0.05 + 4.0)
    with pytest.raises(InputError, match="must be \\[input, output\\]"):
        find_price("openai", "x", {"x": [1.0]})


def test_llm_settings_come_from_agent_toml_and_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "agent.toml").write_text('llm = "anthropic:claude-sonnet-4-6"\nllm_max_cost = 3.5\n'
                                         '[llm_prices]\n"my-model" = [1.0, 2.0]\n')
    settings = Settings()
    assert (settings.llm, settings.llm_max_cost, settings.llm_prices) == ("anthropic:claude-sonnet-4-6", 3.5,
                                                                           {"my-model": [1.0, 2.0]})
    monkeypatch.setenv("AGENT_LLM", "ollama:qwen2.5-coder:32b")
    monkeypatch.setenv("AGENT_LLM_MAX_CALLS", "40")
    settings = Settings()
    assert (settings.llm, settings.llm_max_calls, settings.llm_max_cost) == ("ollama:qwen2.5-coder:32b", 40, 3.5)
    assert Settings(llm="openai:gpt-5-mini").llm == "openai:gpt-5-mini"  # flags win
