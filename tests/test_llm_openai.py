"""The real langchain-openai client against a fake OpenAI-compatible server on 127.0.0.1: the wire path,
usage accounting, retries, a rejected key, and `agent compete --llm` end to end."""

from __future__ import annotations

import json
import logging
import re

import pandas as pd
import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from typer.testing import CliRunner

from agent.cli import app
from agent.config import Settings
from agent.journal import Journal
from agent.llm.client import LLMClient
from agent.llm.prices import PRICES
from pipelines.errors import InputError
from tests.fake_openai import FakeOpenAI, completion, error
from tests.llm_helpers import logistic_on, make_competition

pytest.importorskip("langchain_openai")

MINI = PRICES["gpt-5-mini"]


@pytest.fixture(autouse=True)
def keep_logging_handlers():
    """Each CLI call adds a stderr handler; CliRunner closes that stream afterwards, so drop the handler."""
    before = list(logging.root.handlers)
    yield
    logging.root.handlers[:] = before


def client_for(server: FakeOpenAI, **settings) -> LLMClient:
    return LLMClient.from_settings(Settings(llm="openai:gpt-5-mini", llm_base_url=server.url, llm_retry_wait=0.01,
                                            llm_timeout=10, **settings))


def solution_text(title: str, *columns: str) -> str:
    plan = f"Logistic regression on {', '.join(columns)}."
    return f"Title: {title}\nPlan: {plan}\n\n```python\n{logistic_on(*columns)}```"


def test_wire_path_usage_and_a_429_then_success(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    script = [error(429, "Rate limit reached for gpt-5-mini", code="rate_limit_exceeded", retry_after=0),
              completion("Title: hello", prompt_tokens=1234, completion_tokens=321, cached=1000)]
    with FakeOpenAI(script) as server:
        client = client_for(server)
        answer = client.ask([SystemMessage("You write code."), HumanMessage("Draft a solution.")])
    assert answer.text == "Title: hello" and not answer.estimated
    assert len(server.requests) == 2  # the 429, then the retry
    body = server.requests[-1]
    assert body["model"] == "gpt-5-mini"
    assert [m["role"] for m in body["messages"]] in (["system", "user"], ["developer", "user"])
    assert body["messages"][-1]["content"] == "Draft a solution."
    assert server.headers[-1]["authorization"] == "Bearer sk-test"
    assert (answer.usage.tokens_in, answer.usage.tokens_out, answer.usage.cached_in) == (1234, 321, 1000)
    assert answer.usage.cost_usd == pytest.approx(MINI.cost(1234, 321, 1000))
    assert client.total.calls == 1


def test_server_errors_are_retried_and_a_rejected_key_is_not(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI([error(500), error(503), completion("ok")]) as server:
        assert client_for(server).ask([HumanMessage("hi")]).text == "ok"
        assert len(server.requests) == 3
    with FakeOpenAI([error(401, "Incorrect API key provided: sk-wrong", code="invalid_api_key"),
                     completion("never")]) as server:
        with pytest.raises(InputError, match="rejected the credentials \\(.*Incorrect API key"):
            client_for(server).ask([HumanMessage("hi")])
        assert len(server.requests) == 1


def test_a_local_server_needs_no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAI([completion("ok")]) as server:
        assert client_for(server).ask([HumanMessage("hi")]).text == "ok"


@pytest.mark.slow
def test_agent_compete_with_an_llm_end_to_end(tmp_path, monkeypatch):
    competition = make_competition(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    for name, value in {"NUM_DRAFTS": "2", "TUNE_SHARE": "0", "LLM_BUILTIN_DRAFTS": "1", "LLM_RETRY_WAIT": "0.01",
                        "FOLDS": "3", "N_JOBS": "1"}.items():
        monkeypatch.setenv(f"AGENT_{name}", value)
    script = [error(429, retry_after=0),
              completion(solution_text("logistic on x1", "x1"), 2000, 400),
              completion(solution_text("logistic on x1 and x2", "x1", "x2"), 3000, 500)]
    run_dir = tmp_path / "run"
    with FakeOpenAI(script) as server:
        result = CliRunner().invoke(app, [
            "compete", str(competition), "--llm", "openai:gpt-5-mini", "--llm-base-url", server.url,
            "--max-llm-calls", "2", "--max-cost", "1", "--metric", "auc", "--time-budget", "120", "--max-nodes", "7",
            "--node-timeout", "30", "--no-submit", "--run-dir", str(run_dir),
        ])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == str(run_dir / "submission.csv")
    assert "LLM openai:gpt-5-mini: 2 calls, 5,000 tokens in, 900 out" in result.output
    assert len(server.requests) == 3

    summary = json.loads((run_dir / "summary.json").read_text())
    singles = [c for c in summary["candidates"] if c["step"] != "ensemble"]  # the search's own blends aside
    steps = [(c["engineer"], c["step"], c["status"]) for c in singles]
    assert steps[0] == ("builtin", "draft", "ok")
    assert [s for s in steps if s[0] == "llm"] == [("llm", "draft", "ok"), ("llm", "draft", "ok")]
    assert summary["llm"]["calls"] == 2 and summary["llm"]["stopped"].startswith("LLM call limit reached")
    expected = MINI.cost(2000, 400) + MINI.cost(3000, 500)
    assert summary["cost_usd"] == pytest.approx(expected, abs=1e-4)
    assert summary["llm"]["cost_usd"] == pytest.approx(expected)
    second = [c for c in singles if c["engineer"] == "llm"][1]
    node_dir = run_dir / "nodes" / second["id"]
    prompt = (node_dir / "prompt.md").read_text()
    assert "# Step: draft a new solution" in prompt and '"logistic on x1"' in prompt  # the memory has the first
    assert "Validation: 3 folds, shuffled and stratified by class" in prompt
    assert "logistic on x1 and x2" in (node_dir / "reply.md").read_text()
    assert pd.read_csv(run_dir / "submission.csv").shape == (100, 2)

    review = CliRunner().invoke(app, ["review", str(run_dir)])
    assert review.exit_code == 0
    assert "by llm" in review.output and "LLM openai:gpt-5-mini: 2 calls" in review.output


@pytest.mark.slow
def test_a_slow_llm_leaves_no_core_idle_and_the_run_ends_within_its_budget(tmp_path, monkeypatch):
    competition = make_competition(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    for name, value in {"NUM_DRAFTS": "3", "TUNE_SHARE": "0", "LLM_BUILTIN_DRAFTS": "0", "LLM_REPLY_ATTEMPTS": "1",
                        "FOLDS": "3", "N_JOBS": "1"}.items():
        monkeypatch.setenv(f"AGENT_{name}", value)
    nonsense = completion("Interesting problem. I would think about it carefully.", 500, 50)
    run_dir, budget, delay = tmp_path / "run", 25, 8
    with FakeOpenAI([], delay=delay, otherwise=nonsense) as server:
        result = CliRunner().invoke(app, [
            "compete", str(competition), "--llm", "openai:gpt-5-mini", "--llm-base-url", server.url,
            "--metric", "auc", "--time-budget", str(budget), "--no-submit", "--run-dir", str(run_dir),
        ])
    assert result.exit_code == 0, result.output
    nodes = list(Journal(run_dir / "journal.jsonl"))
    first_ask = server.asked_at[0]
    # built-in work went on while the model was thinking, not after it
    assert any(first_ask < n.started_at < first_ask + delay for n in nodes if n.engineer != "llm")
    assert sum(n.engineer != "llm" and n.ok for n in nodes) >= 2
    assert [n.error for n in nodes if n.engineer == "llm"][:1] == ["unusable LLM reply: no Python code in 1 reply"]
    # the reply pending at the deadline was not waited for
    assert json.loads((run_dir / "summary.json").read_text())["seconds_used"] <= budget + 2
    # the prompt states the limit its candidate runs under (within the budget), not the 900 s default cap
    prompt = server.requests[0]["messages"][-1]["content"]
    assert 0 < int(re.search(r"must finish within (\d+) seconds", prompt).group(1)) <= budget


@pytest.mark.slow
def test_agent_compete_stops_at_once_on_a_wrong_key(tmp_path, monkeypatch):
    competition = make_competition(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    monkeypatch.setenv("AGENT_LLM_BUILTIN_DRAFTS", "0")
    run_dir = tmp_path / "run"
    with FakeOpenAI([error(401, "Incorrect API key provided: sk-wrong", code="invalid_api_key")] * 3) as server:
        result = CliRunner().invoke(app, [
            "compete", str(competition), "--llm", "openai:gpt-5-mini", "--llm-base-url", server.url,
            "--metric", "auc", "--time-budget", "120", "--no-submit", "--run-dir", str(run_dir),
        ])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    print(errors[0])
    assert errors[0].startswith("error: openai:gpt-5-mini: the provider rejected the credentials")
    assert "Incorrect API key provided" in errors[0] and errors[0].endswith("check OPENAI_API_KEY")
    assert len(server.requests) == 1
    assert json.loads((run_dir / "summary.json").read_text())["nodes"] <= 1  # at most the built-in node then running


@pytest.mark.parametrize("flags, message", [
    (["--llm", "gpt-5-mini"], "error: --llm: name the model as provider:model"),
    (["--llm", "groq:llama-3.3-70b"], "error: --llm: the groq provider needs the langchain-groq package"),
    (["--llm", "openai:gpt-5-mini", "--max-cost", "-1"], "error: --max-cost: Input should be greater than 0"),
    (["--llm", "openai:my-own-model", "--max-cost", "5"],
     "error: --max-cost: no price known for my-own-model, so --max-cost cannot be kept; add it to llm_prices in "
     "agent.toml (USD per million tokens, [input, output]) or use --max-llm-calls"),
])
def test_bad_llm_flags_are_one_line_errors_before_any_work(tmp_path, monkeypatch, flags, message):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    competition = make_competition(tmp_path)
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(app, ["compete", str(competition), "--no-submit", "--run-dir", str(run_dir), *flags])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(message) and len(result.stderr.strip().splitlines()) == 1
    # No run began; at most the competition's sample submission is left in its place, to grade.
    assert not run_dir.exists() or [p.name for p in run_dir.iterdir()] == ["submission.csv"]
