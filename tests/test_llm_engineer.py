"""Scripted LLM runs on a toy competition: the real search, sandbox, harness and metrics; a scripted model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from agent.compete import compete
from agent.config import Settings
from agent.engineers.builtin import BuiltinEngineer
from agent.engineers.llm import LLMEngineer
from agent.engineers.mixed import MixedEngineer
from agent.journal import Journal
from agent.llm.client import LLMClient
from agent.llm.models import ModelName
from agent.llm.prices import Price
from tests.llm_helpers import (
    ENDLESS,
    SYNTAX_ERROR,
    ScriptedChatModel,
    logistic_on,
    make_competition,
    reply,
    solution_reply,
)

pytestmark = pytest.mark.slow

PRICE = Price(input=1.0, output=2.0)  # USD per million tokens: easy to check by hand


def settings_for(tmp_path, **overrides) -> Settings:
    values = dict(runs_root=tmp_path / "runs", competitions_root=tmp_path / "comps", time_budget=180,
                  node_timeout=8, n_jobs=1, folds=3, num_drafts=2, debug_prob=1.0, max_debug_depth=2,
                  tune_share=0.0, submit=False)
    return Settings(**{**values, **overrides})


def llm_engineer(model: ScriptedChatModel, settings: Settings) -> LLMEngineer:
    client = LLMClient(model, ModelName("scripted", "toy"), PRICE, max_cost=settings.llm_max_cost,
                       max_calls=settings.llm_max_calls, retry_wait=0.0)
    return LLMEngineer(client, settings)


def test_scripted_run_drafts_debugs_improves_and_counts_tokens(tmp_path):
    competition = make_competition(tmp_path)
    script = {
        "draft": [
            solution_reply("logistic on x1", "Logistic regression on x1 alone, a quick baseline.",
                           logistic_on("x1"), tokens_in=1100, tokens_out=210),
            solution_reply("logistic on x2", "Logistic regression on x2.", SYNTAX_ERROR,
                           tokens_in=1200, tokens_out=220),
        ],
        "debug": [
            solution_reply("logistic on x2 fixed", "The def line lacked its colon; added it.",
                           logistic_on("x2"), tokens_in=1300, tokens_out=230),
        ],
        "improve": [
            reply("I would add x2 to the model, since the target depends on both.", tokens_in=1400, tokens_out=40),
            solution_reply("logistic on x1 and x2", "Add x2: the target depends on x1 + x2.",
                           logistic_on("x1", "x2"), tokens_in=1500, tokens_out=250),
            solution_reply("logistic on noise", "Try the noise column instead.", logistic_on("noise"),
                           tokens_in=1600, tokens_out=260),
            solution_reply("features forever", "Loop until convergence.", ENDLESS, tokens_in=1700, tokens_out=270),
        ],
    }
    model = ScriptedChatModel(script=script)
    settings = settings_for(tmp_path, llm_max_calls=7)
    outcome = compete(competition, settings, flags={"metric": "auc"}, run_dir=tmp_path / "run",
                      engineer=llm_engineer(model, settings), console=Console(quiet=True))

    run = outcome.run
    journal = Journal(run.journal_path)
    nodes = [n for n in journal if n.step != "ensemble"]  # the search's own blends of the LLM's candidates
    assert [n.step for n in nodes] == ["draft", "draft", "debug", "improve", "improve", "improve"]
    weak, broken, fixed, better, worse, endless = nodes
    assert all(n.engineer == "llm" for n in nodes)

    # a syntax error is a failed node that never reaches the sandbox, then a debug step fixes it
    assert broken.status == "failed" and broken.error.startswith("SyntaxError: expected ':'")
    assert not (run.node_dir(broken.id) / "result.json").exists()
    assert "SyntaxError" in (run.node_dir(broken.id) / "log.txt").read_text()
    assert fixed.parents == [broken.id] and fixed.ok
    debug_prompt = (run.node_dir(fixed.id) / "prompt.md").read_text()
    assert "# Step: debug a failed solution" in debug_prompt and broken.error in debug_prompt
    assert "def features(train, test, ctx)\n" in debug_prompt  # the broken code is shown

    # a reply without code is asked again within the step; both replies are kept and paid for
    assert better.parents == [max([weak, fixed], key=lambda n: n.score).id]
    assert better.facts["llm_calls"] == 2 and better.title == "logistic on x1 and x2"
    assert better.plan == "Add x2: the target depends on x1 + x2."
    folder = run.node_dir(better.id)
    assert {"prompt.md", "reply.md", "prompt-2.md", "reply-2.md"} <= {p.name for p in folder.iterdir()}
    assert "no Python code block" in (folder / "prompt-2.md").read_text()
    assert (better.tokens_in, better.tokens_out) == (1400 + 1500, 40 + 250)
    assert better.gain > 0.05

    # an improvement that hurts is kept in the journal, and the memory tells the next prompt so
    assert worse.parents == [better.id] and worse.gain < 0
    endless_prompt = (run.node_dir(endless.id) / "prompt.md").read_text()
    assert "Changes that did not help" in endless_prompt and '"logistic on noise"' in endless_prompt
    assert "Add x2: the target depends on x1 + x2." in endless_prompt  # the best node's plan
    assert broken.error in endless_prompt  # the failure's one-line cause

    # the sandbox kills the endless loop at the node time limit
    assert endless.status == "failed" and endless.error.startswith("timed out")
    assert endless.seconds < settings.node_timeout + 5

    # the best single candidate is the one that helped; the run's submission is its best node's
    assert max((n for n in nodes if n.ok), key=lambda n: n.score).id == better.id
    assert outcome.best.id == journal.best(greater_is_better=True).id
    submission = pd.read_csv(run.submission_path)
    sample = pd.read_csv(competition / "public" / "sample_submission.csv")
    assert list(submission.columns) == ["id", "y"] and submission["id"].tolist() == sample["id"].tolist()
    assert submission["y"].between(0, 1).all()
    assert submission.equals(pd.read_csv(run.node_dir(outcome.best.id) / "submission.csv"))

    # tokens and cost: per node, per run, and exactly the scripted usage
    tokens_in = 1100 + 1200 + 1300 + 1400 + 1500 + 1600 + 1700
    tokens_out = 210 + 220 + 230 + 40 + 250 + 260 + 270
    summary = json.loads((run.path / "summary.json").read_text())
    assert (summary["tokens_in"], summary["tokens_out"]) == (tokens_in, tokens_out)
    expected_cost = (tokens_in * 1.0 + tokens_out * 2.0) / 1e6
    assert summary["cost_usd"] == pytest.approx(expected_cost, abs=1e-4)
    assert sum(n.cost_usd for n in nodes) == pytest.approx(expected_cost)
    usage = summary["llm"]
    assert usage["calls"] == 7 and (usage["tokens_in"], usage["tokens_out"]) == (tokens_in, tokens_out)
    assert usage["cost_usd"] == pytest.approx(expected_cost)
    assert "call limit reached (7 of 7 calls)" in usage["stopped"]
    assert len(model.prompts) == 7  # the limit stopped the search before an eighth call


def test_mixed_run_keeps_the_builtin_search_and_runs_llm_replies_beside_it(tmp_path):
    competition = make_competition(tmp_path)
    script = {
        "draft": [solution_reply("logistic on x1", "A quick baseline.", logistic_on("x1")),
                  solution_reply("logistic on x1 and x2", "Use both signals.", logistic_on("x1", "x2"))],
    }
    model = ScriptedChatModel(script=script)
    settings = settings_for(tmp_path, llm_max_calls=2, time_budget=180, max_nodes=8)
    engineer = MixedEngineer(llm_engineer(model, settings), BuiltinEngineer(), builtin_drafts=1)
    outcome = compete(competition, settings, flags={"metric": "auc"}, run_dir=tmp_path / "run",
                      engineer=engineer, console=Console(quiet=True))

    nodes = list(Journal(outcome.run.journal_path))
    assert nodes[0].engineer == "builtin" and nodes[0].step == "draft" and nodes[0].ok
    by_llm = [n for n in nodes if n.engineer == "llm"]
    assert [n.step for n in by_llm] == ["draft", "draft"] and all(n.ok for n in by_llm)
    assert len(model.prompts) == 2  # nothing asked of the LLM once its budget was spent
    builtin_drafts = [n for n in nodes if n.engineer == "builtin" and n.step == "draft"]
    assert len(builtin_drafts) >= settings.num_drafts  # the offline search's drafts, all of them (more when time is left)
    builtin_best = max(n.score for n in nodes if n.engineer != "llm" and n.ok)
    assert outcome.best.score >= builtin_best
    usage = json.loads((outcome.run.path / "llm_usage.json").read_text())
    assert usage["calls"] == 2 and usage["stopped"].startswith("LLM call limit reached")
    assert np.isclose(usage["cost_usd"], (2 * 1000 * 1.0 + 2 * 200 * 2.0) / 1e6)


def test_a_resumed_run_keeps_its_llm_budget(tmp_path):
    competition = make_competition(tmp_path)
    settings = settings_for(tmp_path, llm_max_calls=1, num_drafts=1)
    first = ScriptedChatModel(script={"draft": [solution_reply("x1", "Baseline.", logistic_on("x1"))],
                                      "improve": [], "debug": []})
    compete(competition, settings, flags={"metric": "auc"}, run_dir=tmp_path / "run",
            engineer=llm_engineer(first, settings), console=Console(quiet=True))
    again = ScriptedChatModel(script={"draft": [], "improve": [], "debug": []})
    outcome = compete(competition, settings, run_dir=tmp_path / "run", resume=True,
                      engineer=llm_engineer(again, settings), console=Console(quiet=True))
    assert again.prompts == []  # the one call allowed was made by the first session
    assert len(Journal(outcome.run.journal_path)) == 1


PLANTER = logistic_on("x1").replace(
    "def features(train, test, ctx):\n",
    "def features(train, test, ctx):\n"
    "    import pathlib\n"
    "    own = pathlib.Path(ctx.cache_dir)\n"
    "    own.mkdir(parents=True, exist_ok=True)\n"
    "    (own / 'mine.txt').write_text('kept')\n"
    "    for target in (own.parent / 'builtin', own.parent, own.parent.parent / 'data'):\n"
    "        try:\n"
    "            target.mkdir(exist_ok=True)\n"
    "            (target / 'planted.npy').write_text('labels')\n"
    "            print('PLANTED', target)\n"
    "        except OSError as error:\n"
    "            print('REFUSED', target, type(error).__name__)\n")


def test_an_llm_node_writes_only_its_own_engineers_cache(tmp_path):
    """A hostile reply plants arrays where built-in recipes look for cached work: the kernel refuses."""
    competition = make_competition(tmp_path)
    model = ScriptedChatModel(script={"draft": [solution_reply("planter", "Plant labels in the cache.", PLANTER)]})
    settings = settings_for(tmp_path, llm_max_calls=1, max_nodes=3)
    engineer = MixedEngineer(llm_engineer(model, settings), BuiltinEngineer(), builtin_drafts=1)
    outcome = compete(competition, settings, flags={"metric": "auc"}, run_dir=tmp_path / "run",
                      engineer=engineer, console=Console(quiet=True))

    run = outcome.run
    planter = next(n for n in Journal(run.journal_path) if n.engineer == "llm")
    assert planter.ok, planter.error
    log = (run.node_dir(planter.id) / "log.txt").read_text()
    tries = [line.split()[:2] for line in log.splitlines() if line.startswith(("PLANTED", "REFUSED"))]
    assert {verdict for verdict, _ in tries} == {"REFUSED"} and len({target for _, target in tries}) == 3, log
    assert (run.path / "cache" / "llm" / "mine.txt").read_text() == "kept"
    assert not list(run.path.rglob("planted.npy"))
