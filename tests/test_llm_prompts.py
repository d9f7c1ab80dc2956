"""The prompts: every step carries the competition, the contract, the metric and a memory of the run."""

from __future__ import annotations

import pandas as pd
import pytest

from agent.engineers.base import Ask
from agent.journal import Journal
from agent.engineers import prompts
from agent.engineers.prompts import Limits, as_markdown, build_messages, helper_signatures, memory_section, render
from tests.llm_helpers import small_run

LIMITS = Limits(node_seconds=600, n_jobs=4, memory_mb=8000, device="cpu")


@pytest.fixture
def run(tmp_path):
    return small_run(tmp_path)


def test_memory_lists_best_first_then_what_did_not_help_then_failures(run):
    _, journal, _ = run
    text = memory_section(journal, greater_is_better=False)
    assert "4 solutions so far: 3 scored, 1 failed." in text
    best = text.index("node 0004 (tune of 0001, by builtin), 300s: 0.13000")
    assert best < text.index("node 0001 (draft, by builtin), 20s: 0.14000 ± 0.00000 over 2 folds") \
        < text.index("node 0002 (improve of 0001")
    did_not_help = text.split("Changes that did not help")[1]
    assert "(-0.01000 vs parent 0001) \"log area\"\n  Plan: Add log of the lot area." in did_not_help
    assert "node 0003 (draft, by llm) \"ridge\": failed: ValueError: could not convert string to float: 'RL'" in text


def test_memory_keeps_whole_plans_and_drops_the_oldest_plans_past_its_length(run, monkeypatch):
    _, journal, _ = run
    monkeypatch.setattr(prompts, "MEMORY_CHARS", 4000)
    long_plan = "Blend three models. " * 60  # 1,200 characters: longer than the old cut of 240
    journal.record(journal.get("0001").model_copy(update={"plan": long_plan}))
    assert " ".join(long_plan.split()) in memory_section(journal, greater_is_better=False)
    for i in range(5, 13):
        journal.record(journal.get("0001").model_copy(update={"id": f"{i:04d}", "plan": long_plan, "score": 0.1 - i / 1000}))
    text = memory_section(journal, greater_is_better=False)
    assert len(text) < prompts.MEMORY_CHARS + 2000
    assert "Plans of the" in text and "oldest entries are left out for length" in text
    newest = text.split("node 0012")[1].split("\n- ")[0]
    assert "Plan: Blend three models." in newest
    assert "Nothing yet" in memory_section(Journal(run[0].path / "empty.jsonl"), True)


def test_memory_names_every_earlier_node_with_its_runtime_and_plan(run, monkeypatch):
    _, journal, _ = run
    for i in range(5, 13):
        journal.record(journal.get("0001").model_copy(update={"id": f"{i:04d}", "plan": f"Plan number {i}.",
                                                              "score": 0.2 + i / 100, "seconds": 10 + i}))
    text = memory_section(journal, greater_is_better=False)
    for i in range(5, 13):  # those not among the best six are listed under the others
        assert f"node {i:04d} (draft, by builtin), {10 + i}s: " in text and f"Plan: Plan number {i}." in text
    assert "Other solutions (in the order they ran):" in text and "not listed" not in text
    monkeypatch.setattr(prompts, "MEMORY_OTHERS", 1)
    assert "12 solutions so far: 11 scored, 1 failed. 4 older ones are not listed." in memory_section(journal, False)


def test_every_step_carries_competition_contract_metric_and_memory(run):
    folder, journal, brief = run
    asks = [Ask("draft"), Ask("improve", journal.get("0004")), Ask("debug", journal.get("0003"))]
    for ask in asks:
        system, user = build_messages(ask, brief, journal, folder, LIMITS)
        assert system.type == "system" and "Kaggle grandmaster" in system.content
        text = user.content
        assert "Predict the sale price of homes." in text and "| LotArea | numeric |" in text
        assert "Metric: rmse_log, lower is better" in text
        assert "def features(train, test, ctx)" in text and "within 600 seconds" in text
        assert "pipelines.features.tabular(" in text and "pipelines.models.lgbm(" in text
        assert "What was tried so far" in text and "Title:" in text
        assert "within one standard error is noise" in text and "Blending candidates is the search's job" in text
        assert "$" not in text and "<!--" not in text  # no unfilled field, no maintainers' note
        if pd.__version__.startswith("3."):  # its copy-on-write arrays broke a capable model's in-place edit
            assert "pandas 3." in text and "may be read-only" in text


def test_improve_shows_the_code_and_the_tuned_params(run):
    folder, journal, brief = run
    text = build_messages(Ask("improve", journal.get("0004")), brief, journal, folder, LIMITS)[1].content
    assert "\n# Step: improve a good solution\n" in text
    assert "# code of node 0004" in text and "Score: 0.13000 (rmse_log, lower is better)" in text
    assert "found by tuning" in text and "{'num_leaves': 15}" in text
    # the time of one run of the tuned solution (its parent's), not of the whole study
    assert "it ran in 20s." in text and "20s of 600 seconds" in text
    assert "ONE focused change" in text


def test_debug_shows_the_error_and_the_log_tail(run):
    folder, journal, brief = run
    text = build_messages(Ask("debug", journal.get("0003")), brief, journal, folder, LIMITS)[1].content
    assert "\n# Step: debug a failed solution\n" in text
    assert "It failed with: ValueError: could not convert string to float: 'RL'" in text
    assert "line 99" in text and "line 10\n" not in text  # the tail only
    assert "# code of node 0003" in text


def test_templates_are_files_and_missing_values_fail_loudly():
    assert "Your reply could not be used: it broke." in render("fix_reply", problem="it broke")
    with pytest.raises(KeyError):
        render("fix_reply")


def test_helpers_are_read_from_the_code():
    text = helper_signatures()
    assert "pipelines.features.tfidf(train_text: pd.Series" in text and "ngram_range" in text
    assert "_multi_output" not in text
    # a search space's keys and ranges, read by calling it, so the model knows what tuning covers
    assert "Suggests: learning_rate 0.01..0.2 log, num_leaves 4..128 log" in text
    assert "Threads and device come from `ctx`." in text  # gbdt's whole docstring fits


def test_steps_share_their_opening_so_prompt_caches_reuse_it(run):
    folder, journal, brief = run
    texts = [build_messages(ask, brief, journal, folder, LIMITS)[1].content
             for ask in (Ask("draft"), Ask("improve", journal.get("0004")), Ask("debug", journal.get("0003")))]
    shared = texts[0][: texts[0].index("## What was tried so far")]
    assert len(shared) > 3000 and all(text.startswith(shared) for text in texts)


def test_the_saved_prompt_shows_both_messages(run):
    folder, journal, brief = run
    saved = as_markdown(build_messages(Ask("draft"), brief, journal, folder, LIMITS))
    assert saved.startswith("<!-- system -->") and "<!-- human -->" in saved


def test_a_mask_answer_gets_the_mask_contract(run):
    folder, journal, brief = run
    spec = brief.spec.model_copy(update={"answer_shape": "mask", "task": "binary", "classes": [0, 1],
                                         "metric": "mean_precision_iou", "submission_columns": ["rle_mask"],
                                         "image_columns": ["Id"], "file_columns": ["Id"]})
    mask_brief = type(brief)(spec=spec, profile=brief.profile, profile_text=brief.profile_text)
    text = build_messages(Ask("draft"), mask_brief, journal, folder, LIMITS)[1].content
    assert "answers are masks" in text and "`rle_mask`" in text and "predict(X) -> (n, H, W)" in text
    assert "predict_proba" not in text and "search_space" not in text
