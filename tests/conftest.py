"""Shared fixtures: the demo competition that ships in data/demo, and small generated competitions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo" / "titanic"


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A private copy of the demo competition, safe to damage."""
    target = tmp_path / "titanic"
    shutil.copytree(DEMO, target)
    return target


def make_competition(folder: Path, task: str = "binary", n_train: int = 300, n_test: int = 100, seed: int = 0,
                     proba_columns: bool = False) -> Path:
    """A small competition with a learnable signal, in the plain layout train/test/sample_submission.csv."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    frame = pd.DataFrame({"row_id": np.arange(1000, 1000 + n), "x1": x1, "x2": x2, "colour": colour})
    signal = 2 * x1 - x2 + (colour == "red")
    if task == "binary":
        frame["label"] = np.where(signal + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    elif task == "multiclass":
        frame["label"] = pd.cut(signal, [-np.inf, -1, 1, np.inf], labels=["low", "mid", "high"]).astype(str)
    elif task == "regression":
        frame["label"] = np.exp(1 + 0.3 * signal + rng.normal(scale=0.1, size=n))
    train, test = frame.iloc[:n_train], frame.iloc[n_train:]
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.drop(columns=["label"]).to_csv(folder / "test.csv", index=False)
    if proba_columns:
        classes = sorted(frame["label"].unique())
        sample = pd.DataFrame({"row_id": test["row_id"], **{c: 1 / len(classes) for c in classes}})
    else:
        default = {"binary": "no", "multiclass": "low", "regression": 1.0}[task]
        sample = pd.DataFrame({"row_id": test["row_id"], "label": default})
    sample.to_csv(folder / "sample_submission.csv", index=False)
    return folder


@pytest.fixture
def make_comp(tmp_path: Path):
    def factory(name: str = "toy", **kwargs) -> Path:
        return make_competition(tmp_path / name, **kwargs)

    return factory


def agent_command(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                  timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real `agent` CLI in a child process, as a user would."""
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, cwd=cwd, timeout=timeout)
