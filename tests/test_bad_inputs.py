"""Each bad input or flag ends as one line on stderr and exit code 2, with the competition's sample
submission left as the run's submission (a valid file to grade), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import agent_command, make_competition


def one_row_train(folder: Path) -> tuple[list[str], str]:
    pd.read_csv(folder / "train.csv").iloc[:1].to_csv(folder / "train.csv", index=False)
    return [], "train.csv"


def infinite_target(folder: Path) -> tuple[list[str], str]:
    train = pd.read_csv(folder / "train.csv")
    train.loc[3, "label"] = np.inf
    train.to_csv(folder / "train.csv", index=False)
    return [], "infinite"


def json_list_of_lists(folder: Path) -> tuple[list[str], str]:
    train = pd.read_csv(folder / "train.csv")
    (folder / "train.csv").unlink()
    (folder / "train.json").write_text(json.dumps(train.to_numpy().tolist()))
    return [], "train.json"


def million_columns(folder: Path) -> tuple[list[str], str]:
    """A million columns; the budget is 20 s: refused from the header, before pandas spends minutes on it."""
    n = 1_000_000
    header = "row_id," + ",".join(f"c{i}" for i in range(n))
    rows = [f"{1000 + r}," + "1," * (n - 1) + "1" for r in range(3)]
    (folder / "train.csv").write_text("\n".join([header + ",label", *(r + ",1.0" for r in rows)]) + "\n")
    (folder / "test.csv").write_text("\n".join([header, *rows]) + "\n")
    pd.DataFrame({"row_id": [1000, 1001, 1002], "label": 1.0}).to_csv(folder / "sample_submission.csv", index=False)
    return [], "1,000,002 columns"


def flag(*args: str, named: str):
    return lambda folder: (list(args), named)


CASES = {
    "one-row train": ("binary", one_row_train),
    "inf in the target": ("regression", infinite_target),
    "JSON list of lists": ("binary", json_list_of_lists),
    "million columns": ("regression", million_columns),
    "--time-budget inf": ("binary", flag("--time-budget", "inf", named="--time-budget")),
    "--metric nonsense": ("binary", flag("--metric", "nonsense", named="--metric")),
    "--metric rmse on labels": ("binary", flag("--metric", "rmse", named="holds labels")),
    "--metric auc on labels": ("binary", flag("--metric", "auc", named="holds labels")),
    "--folds 100000": ("binary", flag("--folds", "100000", named="--folds")),
    "--memory-mb 1": ("binary", flag("--memory-mb", "1", named="--memory-mb")),
    "--seed -1": ("binary", flag("--seed", "-1", named="--seed")),
    "--node-timeout nan": ("binary", flag("--node-timeout", "nan", named="--node-timeout")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_input_or_flag_gets_one_line_exit_2_and_leaves_the_sample(tmp_path: Path, case: str) -> None:
    task, breaks = CASES[case]
    folder = make_competition(tmp_path / "comp", task=task, n_train=60, n_test=20)
    extra, named = breaks(folder)
    run = tmp_path / "run"
    args = ["compete", str(folder), "--no-submit", "--run-dir", str(run), "--time-budget", "20", *extra]
    result = agent_command(*args)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert (run / "submission.csv").read_bytes() == (folder / "sample_submission.csv").read_bytes()


def test_overrides_that_fit_the_sample_run(tmp_path: Path) -> None:
    """--metric mae on numbers, --task binary on labels, --folds 3: valid, so the run goes ahead."""
    for task, extra in (("regression", ["--metric", "mae"]), ("binary", ["--task", "binary"])):
        folder = make_competition(tmp_path / task, task=task, n_train=60, n_test=20)
        run = tmp_path / f"run-{task}"
        result = agent_command("compete", str(folder), "--no-submit", "--run-dir", str(run),
                               "--time-budget", "60", "--max-nodes", "1", "--folds", "3", *extra)
        assert result.returncode == 0, result.stderr
        assert json.loads((run / "config.json").read_text())["prepared"] is True
