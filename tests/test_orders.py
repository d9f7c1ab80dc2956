"""Answers that order each row's own ids (AI4Code's cells of a notebook): until a candidate can order them, the
run submits the sample's orders, which name the right ids, never a constant that names another row's (the metric
cannot read it)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from agent.grading import grade_submission
from tests.conftest import agent_command
from tests.test_shapes import with_answers


def notebooks_layout(folder: Path, n: int = 80, seed: int = 0) -> pd.DataFrame:
    """train/ and test/<id>.json notebooks whose cells come code first, then markdown shuffled; train_orders.csv
    gives train's true orders, the sample test's file orders. Returns the answers."""
    rng = np.random.default_rng(seed)
    public = folder / "public"
    orders = {}
    for k in range(n):
        notebook, split = f"{k:014x}", "test" if k < n // 4 else "train"
        cells = [f"{c:08x}" for c in rng.choice(2**31, int(rng.integers(4, 9)), replace=False)]
        kinds = {c: "code" if rng.random() < 0.6 else "markdown" for c in cells}
        shown = [c for c in cells if kinds[c] == "code"] + list(rng.permutation([c for c in cells if kinds[c] != "code"]))
        (public / split).mkdir(parents=True, exist_ok=True)
        (public / split / f"{notebook}.json").write_text(json.dumps(
            {"cell_type": {c: kinds[c] for c in shown}, "source": {c: f"{kinds[c]} cell {c}" for c in shown}}))
        orders[notebook] = (split, " ".join(cells), " ".join(shown))
    frame = pd.DataFrame([(k, *v) for k, v in orders.items()], columns=["id", "split", "cell_order", "shown"])
    train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]
    train[["id", "cell_order"]].to_csv(public / "train_orders.csv", index=False)
    test[["id", "shown"]].rename(columns={"shown": "cell_order"}).to_csv(public / "sample_submission.csv", index=False)
    return test[["id", "cell_order"]]


def test_a_run_that_cannot_order_the_ids_submits_the_samples_orders(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "notebooks", notebooks_layout(tmp_path / "notebooks"), "kendall_tau")
    agent_command("compete", str(folder / "public"), "--time-budget", "15", "--no-submit", "--run-dir",
                  str(tmp_path / "run"), "--folds", "3", "--max-nodes", "2", "--metric", "kendall_tau")
    submitted = pd.read_csv(tmp_path / "run" / "submission.csv")
    sample = pd.read_csv(folder / "public" / "sample_submission.csv")
    report = grade_submission(folder, tmp_path / "run" / "submission.csv")
    assert report.valid, report.errors
    assert submitted.equals(sample) or report.score > grade_submission(folder, folder / "public" /
                                                                       "sample_submission.csv").score
