"""Test doubles for the LLM engineer: a scripted chat model, solutions of known quality, a toy competition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers from a script, the way langchain_core's fake models do, but with
    usage metadata on every reply, exceptions where the script says so, and a record of the prompts.

    `script` is either one list (answers in order) or a dict of lists keyed by the step named in the
    prompt's `# Step: <kind> ...` header, so that a reply goes to the step it was written for.
    """

    script: Any
    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        self.prompts.append(list(messages))
        queue = self.script if isinstance(self.script, list) else self.script[step_of(messages)]
        if not queue:
            raise RuntimeError(f"the script has no more replies for {step_of(messages)}")
        item = queue.pop(0)
        if isinstance(item, BaseException):
            raise item
        return ChatResult(generations=[ChatGeneration(message=item)])


def step_of(messages: list[BaseMessage]) -> str:
    first = next(m for m in messages if isinstance(m, HumanMessage))
    return str(first.content).split("\n", 1)[0].removeprefix("# Step: ").split()[0]


def reply(text: str, tokens_in: int = 1000, tokens_out: int = 200) -> AIMessage:
    return AIMessage(content=text, usage_metadata={"input_tokens": tokens_in, "output_tokens": tokens_out,
                                                   "total_tokens": tokens_in + tokens_out})


def solution_reply(title: str, plan: str, code: str, **usage: int) -> AIMessage:
    return reply(f"Title: {title}\nPlan: {plan}\n\n```python\n{code}```\n", **usage)


def logistic_on(*columns: str) -> str:
    """A solution whose quality the toy competition fixes: y depends on x1 + x2, not on `noise`."""
    return (
        "from sklearn.linear_model import LogisticRegression\n\n"
        'PARAMS = {"C": 1.0}\n\n\n'
        "def features(train, test, ctx):\n"
        f"    columns = {list(columns)!r}\n"
        "    return train[columns], test[columns]\n\n\n"
        "def model(params, ctx):\n"
        "    return LogisticRegression(**params)\n"
    )


SYNTAX_ERROR = logistic_on("x2").replace("def features(train, test, ctx):", "def features(train, test, ctx)")

ENDLESS = (
    "from sklearn.linear_model import LogisticRegression\n\n\n"
    "def features(train, test, ctx):\n"
    "    while True:\n"
    "        pass\n\n\n"
    "def model(params, ctx):\n"
    "    return LogisticRegression()\n"
)


def make_competition(root: Path, n_train: int = 400, n_test: int = 100, seed: int = 0) -> Path:
    """A binary competition in MLE-bench layout where the target is about x1 + x2 > 0."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    frame = pd.DataFrame({
        "id": np.arange(1, n + 1), "x1": x1.round(4), "x2": x2.round(4), "noise": rng.normal(size=n).round(4),
        "colour": rng.choice(["red", "green", "blue"], size=n),
        "y": (x1 + x2 + 0.3 * rng.normal(size=n) > 0).astype(int),
    })
    public = root / "toy-llm" / "public"
    public.mkdir(parents=True)
    frame.iloc[:n_train].to_csv(public / "train.csv", index=False)
    frame.iloc[n_train:].drop(columns="y").to_csv(public / "test.csv", index=False)
    pd.DataFrame({"id": frame["id"].iloc[n_train:], "y": 0.5}).to_csv(public / "sample_submission.csv", index=False)
    (public / "description.md").write_text(
        "# Toy LLM competition\n\nPredict the probability that `y` is 1. Evaluation: area under the ROC curve.\n")
    return public.parent
