"""Test doubles for the LLM engineer: a scripted chat model, solutions of known quality, a toy competition."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from agent.engineers.base import Brief
from agent.journal import Journal, Node
from agent.run_folder import RunFolder
from pipelines.spec import CompetitionSpec


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
    return re.search(r"^# Step: (\w+)", str(first.content), re.M).group(1)


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


def small_run(tmp_path: Path) -> tuple[RunFolder, Journal, Brief]:
    """A run folder with four nodes (two scored, one worse than its parent, one failed, one tuned), no sandbox."""
    spec = CompetitionSpec(
        slug="house-prices", data_dir=tmp_path, train_file=tmp_path / "train.csv", test_file=tmp_path / "test.csv",
        sample_submission_file=tmp_path / "sample_submission.csv", description="Predict the sale price of homes.",
        id_column="Id", target_columns=["SalePrice"], task="regression", submission_columns=["SalePrice"],
        submission_kind="value", metric="rmse_log", direction="minimize", numeric_columns=["LotArea"],
    )
    folder = RunFolder(tmp_path / "run")
    folder.create()
    journal = Journal(folder.journal_path)
    nodes = [
        Node(id="0001", step="draft", title="lightgbm", plan="LightGBM on all columns.", status="ok", score=0.140,
             seconds=20.0, fold_scores=[0.14, 0.14]),
        Node(id="0002", step="improve", parents=["0001"], engineer="llm", title="log area",
             plan="Add log of the lot area.", status="ok", score=0.150, gain=-0.010),
        Node(id="0003", step="draft", engineer="llm", title="ridge", plan="Ridge on one-hot columns.",
             status="failed", error="ValueError: could not convert string to float: 'RL'"),
        Node(id="0004", step="tune", parents=["0001"], title="tune lightgbm", plan="Optuna.", status="ok",
             score=0.130, seconds=300.0, params={"num_leaves": 15}, gain=0.010),
    ]
    for node in nodes:
        journal.record(node)
        folder.node_dir(node.id).mkdir(parents=True)
        (folder.node_dir(node.id) / "solution.py").write_text(f"# code of node {node.id}\n")
    (folder.node_dir("0003") / "log.txt").write_text("\n".join(f"line {i}" for i in range(100))
                                                     + "\nValueError: could not convert string to float: 'RL'\n")
    brief = Brief(spec=spec, profile={}, profile_text="| LotArea | numeric |")
    return folder, journal, brief
