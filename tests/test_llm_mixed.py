"""The LLM engineer's step logic and the mixed engineer's hand-offs, without running candidates."""

from __future__ import annotations

import json
import random

import pytest
from langchain_core.exceptions import ModelConnectionError

from agent import policy as policy_module
from agent.config import Settings
from agent.engineers.base import Ask, Proposal
from agent.engineers.builtin import BuiltinEngineer
from agent.engineers.llm import LLMEngineer
from agent.engineers.mixed import MixedEngineer, make_engineer
from agent.journal import Node
from agent.llm.client import LLMClient
from agent.llm.models import ModelName
from agent.llm.prices import Price
from agent.policy import Policy
from agent.timing import Budget, StepTimes
from tests.llm_helpers import SYNTAX_ERROR, ScriptedChatModel, logistic_on, reply, small_run, solution_reply


def engineer(script, **settings) -> tuple[LLMEngineer, ScriptedChatModel]:
    model = ScriptedChatModel(script=script)
    options = Settings(**{"llm_reply_attempts": 2, **settings})
    client = LLMClient(model, ModelName("scripted", "toy"), Price(1.0, 1.0), max_calls=options.llm_max_calls,
                       max_retries=1, retry_wait=0.0)
    return LLMEngineer(client, options), model


class Recipes:
    """A stand-in built-in engineer: one draft, nothing else."""

    name = "builtin"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def propose(self, ask, brief, journal, run):
        self.asked.append(ask.kind)
        if ask.kind != "draft":
            return None
        return Proposal(title="recipe", plan="a recipe", code=logistic_on("x1"))


def test_a_reply_without_code_twice_is_an_unusable_proposal_with_its_cost(tmp_path):
    run, journal, brief = small_run(tmp_path)
    llm, model = engineer([reply("Let me think about it.", 100, 10), reply("Still thinking.", 200, 20)])
    proposal = llm.propose(Ask("draft"), brief, journal, run)
    assert proposal.error == "unusable LLM reply: no Python code in 2 replies"
    assert (proposal.tokens_in, proposal.tokens_out) == (300, 30) and proposal.facts["llm_calls"] == 2
    assert proposal.cost_usd == pytest.approx(330 / 1e6)
    assert set(proposal.files) == {"prompt.md", "reply.md", "prompt-2.md", "reply-2.md", "log.txt"}
    assert model.prompts[1][-2].content == "Let me think about it."  # the second ask shows the first reply
    usage = json.loads((run.path / "llm_usage.json").read_text())
    assert usage["calls"] == 2 and usage["tokens_in"] == 300


def test_broken_code_is_an_unusable_proposal_with_the_details_in_its_log(tmp_path):
    run, journal, brief = small_run(tmp_path)
    llm, _ = engineer([solution_reply("x2", "plan", SYNTAX_ERROR)])
    proposal = llm.propose(Ask("improve", journal.get("0004")), brief, journal, run)
    assert proposal.error.startswith("SyntaxError") and "^" in proposal.files["log.txt"]
    assert proposal.code == SYNTAX_ERROR and proposal.engineer == "llm"


def test_a_failed_call_gives_no_proposal_and_the_budget_counts_earlier_sessions(tmp_path):
    run, journal, brief = small_run(tmp_path)
    llm, _ = engineer([ModelConnectionError("refused")] * 2)
    assert llm.propose(Ask("draft"), brief, journal, run) is None
    node = journal.get("0003").model_copy(update={"tokens_in": 500, "cost_usd": 0.25, "facts": {"llm_calls": 3}})
    journal.record(node)
    llm, model = engineer([reply("never")], llm_max_calls=3)
    assert llm.propose(Ask("draft"), brief, journal, run) is None
    assert model.prompts == [] and llm.client.total.calls == 3 and llm.client.total.cost_usd == 0.25


def test_mixed_answers_the_search_as_the_builtin_engineer_and_never_waits_for_the_llm(tmp_path):
    run, journal, brief = small_run(tmp_path)
    llm, model = engineer([solution_reply("llm draft", "plan", logistic_on("x2"))], llm_max_calls=1)
    recipes = Recipes()
    mixed = MixedEngineer(llm, recipes, builtin_drafts=1)
    first = mixed.propose(Ask("draft"), brief, journal, run)
    assert first.engineer == "builtin" and first.title == "recipe"
    assert mixed.propose(Ask("improve", journal.get("0001")), brief, journal, run) is None
    assert recipes.asked == ["draft", "improve"] and model.prompts == []  # the search asks the LLM itself


def test_the_llm_fixes_its_failure_then_drafts_then_improves_the_best_and_says_why(tmp_path):
    _, journal, _ = small_run(tmp_path)
    settings = Settings()
    policy = Policy(settings, greater_is_better=False, rng=random.Random(0), times=StepTimes(settings, Budget(600)),
                    llm_name="llm")
    ask = policy.llm_ask(journal)
    assert (ask.kind, ask.parent.id) == ("debug", "0003")  # its own failed draft, a leaf
    journal.record(Node(id="0005", step="debug", parents=["0003"], engineer="llm", status="ok", score=0.2))
    assert policy.llm_ask(journal).kind == "draft"  # one of its own drafts so far
    for i in (6, 7):
        journal.record(Node(id=f"{i:04d}", step="draft", engineer="llm", status="ok", score=0.3))
    ask = policy.llm_ask(journal)
    assert (ask.kind, ask.parent.id, ask.why) == ("improve", "0004", "the best solution so far")
    for i in range(8, 8 + policy_module.LLM_TRIES_ON_ONE_NODE):
        journal.record(Node(id=f"{i:04d}", step="improve", parents=["0004"], engineer="llm", status="ok",
                            score=0.14, gain=-0.01))
    ask = policy.llm_ask(journal)  # three changes to the best did not help: the runner-up recipe's best
    assert ask.kind == "improve" and ask.parent.id != "0004" and "runner-up" in ask.why


def test_the_engineer_follows_the_settings(monkeypatch):
    assert isinstance(make_engineer(Settings()), BuiltinEngineer)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    mixed = make_engineer(Settings(llm="openai:gpt-5-mini", llm_builtin_drafts=3, llm_max_cost=2.0))
    assert isinstance(mixed, MixedEngineer) and mixed.builtin_drafts == 3
    assert str(mixed.llm.client.name) == "openai:gpt-5-mini" and mixed.llm.client.max_cost == 2.0


def journal_node(proposal: Proposal, node_id: str, engineer: str = "builtin") -> Node:
    return Node(id=node_id, step="draft", engineer=engineer, title=proposal.title, status="ok", score=0.5)
