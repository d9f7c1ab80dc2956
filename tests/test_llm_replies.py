"""Reading real-looking LLM replies: fences, several blocks, bare code, cut-off replies, broken code."""

from __future__ import annotations

from agent.engineers.replies import code_problem, extract_code, parse_reply

SOLUTION = '''import pandas as pd
from pipelines.models import lgbm

PARAMS = {"n_estimators": 300}


def features(train, test, ctx):
    cols = ctx.spec.numeric_columns
    return train[cols], test[cols]


def model(params, ctx):
    return lgbm(ctx, **params)
'''


def test_title_plan_and_code_from_the_asked_format():
    text = f"Title: LightGBM on numbers\nPlan: Use the numeric columns\nwith LightGBM.\n\n```python\n{SOLUTION}```\n"
    parsed = parse_reply(text)
    assert parsed.title == "LightGBM on numbers"
    assert parsed.plan == "Use the numeric columns\nwith LightGBM."
    assert parsed.code == SOLUTION


def test_markdown_decorated_labels_and_an_untagged_fence():
    text = f"**Title:** Numbers only\n\n## Plan\nKeep it simple.\n\n```\n{SOLUTION}```"
    parsed = parse_reply(text)
    assert parsed.title == "Numbers only"
    assert parsed.plan.endswith("Keep it simple.")
    assert parsed.code == SOLUTION


def test_the_last_complete_block_wins_over_snippets_and_earlier_versions():
    snippet = "X['ratio'] = X['a'] / X['b']\n"
    old = SOLUTION.replace("300", "100")
    text = (f"Title: t\nPlan: p\n\n```python\n{snippet}```\nFirst version:\n```python\n{old}```\n"
            f"Corrected:\n```python\n{SOLUTION}```\nRun it with:\n```bash\npython solution.py\n```\n")
    assert extract_code(text) == SOLUTION


def test_blocks_that_split_the_module_are_joined_in_order():
    head, tail = SOLUTION.split("\n\ndef features", 1)
    text = f"Imports:\n```python\n{head}\n```\nFunctions:\n```py\ndef features{tail}```"
    code = extract_code(text)
    assert code_problem(code) is None
    assert code.index("PARAMS") < code.index("def features") < code.index("def model")


def test_bare_code_without_any_fence():
    parsed = parse_reply(SOLUTION)
    assert parsed.code == SOLUTION
    assert parsed.title == "" and parsed.plan == ""


def test_a_reply_cut_off_inside_its_code_block_keeps_what_came():
    text = f"Title: cut\nPlan: p\n```python\n{SOLUTION}\n# and then the reply ran out of tok"
    assert extract_code(text).startswith(SOLUTION)


def test_prose_without_code_gives_no_code_and_a_title_from_the_plan():
    parsed = parse_reply("I would use gradient boosting on the numeric columns.\nThen tune it.")
    assert parsed.code == ""
    assert parsed.title == "I would use gradient boosting on the numeric columns"


def test_long_titles_are_shortened():
    parsed = parse_reply("Title: " + "word " * 40 + f"\n```python\n{SOLUTION}```")
    assert len(parsed.title) <= 60 and parsed.title.endswith("…")


def test_syntax_errors_are_named_with_their_line():
    problem = code_problem(SOLUTION.replace("def model(params, ctx):", "def model(params, ctx)"))
    assert problem.error == "SyntaxError: expected ':' (line 12)"
    assert "^" in problem.details  # the caret under the error, for the debugging prompt


def test_missing_contract_functions_are_named():
    only_features = SOLUTION.split("\n\ndef model")[0] + "\n"
    assert code_problem(only_features).error == "the solution does not define model(params, ctx) at module level"
    assert "features(train, test, ctx) and model" in code_problem("x = 1\n").error
    fit_predict = "def fit_predict(train, test, folds, ctx):\n    return None, None\n"
    assert code_problem(fit_predict) is None
    nested = "class S:\n    def features(self, a, b, c): ...\n    def model(self, p, c): ...\n"
    assert code_problem(nested) is not None


def test_what_the_model_found_unclear_is_kept_apart_from_the_plan():
    text = "Title: ridge\nPlan: Ridge on counts.\nUnclear: whether PARAMS are merged\n\n```python\n" \
           "def features(train, test, ctx):\n    return train, test\n\n\ndef model(params, ctx):\n    return None\n```"
    parsed = parse_reply(text)
    assert (parsed.plan, parsed.unclear) == ("Ridge on counts.", "whether PARAMS are merged")
    assert parse_reply(text.replace("Unclear: whether PARAMS are merged\n", "")).unclear == ""
