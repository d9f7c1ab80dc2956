"""Side tables joined to the rows by a shared key: one row per key, or many summarised."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from agent.competition_files import find_files, load_tables
from tests.test_shapes import compete, with_answers


def credit_layout(folder: Path, n: int = 400, seed: int = 0) -> pd.DataFrame:
    """home-credit's layout in small: applications, earlier credits (many rows per applicant, what decides the
    target), a branch table (one row per branch), a train-only table of outcomes; returns the answers."""
    rng = np.random.default_rng(seed)
    public = folder / "public"
    public.mkdir(parents=True)
    ids = rng.permutation(np.arange(100_000, 100_000 + n))
    debt = rng.gamma(2.0, 1.0, n)
    branches = pd.DataFrame({"branch": [f"b{k}" for k in range(8)], "region_rating": rng.integers(1, 4, 8)})
    apps = pd.DataFrame({"SK_ID_CURR": ids, "income": rng.normal(50, 10, n),
                         "branch": rng.choice(branches["branch"], n),
                         "TARGET": (debt + rng.normal(0, 0.3, n) > 2.2).astype(int)})
    rows = rng.integers(1, 6, n)
    bureau = pd.DataFrame({"SK_ID_CURR": np.repeat(ids, rows), "SK_ID_BUREAU": np.arange(rows.sum()),
                           "AMT_DEBT": np.repeat(debt, rows) * rng.uniform(0.8, 1.2, rows.sum()),
                           "CREDIT_ACTIVE": rng.choice(["Active", "Closed"], rows.sum())})
    test = apps.iloc[: n // 4]
    train = apps.iloc[n // 4:]
    train.to_csv(public / "application_train.csv", index=False)
    test.drop(columns="TARGET").to_csv(public / "application_test.csv", index=False)
    bureau.to_csv(public / "bureau.csv", index=False)
    branches.to_csv(public / "branches.csv", index=False)
    train[["SK_ID_CURR"]].assign(TARGET=train["TARGET"]).to_csv(public / "previous_outcomes.csv", index=False)
    test[["SK_ID_CURR"]].assign(TARGET=0.5).to_csv(public / "sample_submission.csv", index=False)
    return test[["SK_ID_CURR", "TARGET"]]


def test_side_tables_join_by_their_shared_key(tmp_path: Path) -> None:
    credit_layout(tmp_path / "credit")
    files = find_files(tmp_path / "credit" / "public")
    assert sorted(p.name for p in files.side_tables) == ["branches.csv", "bureau.csv", "previous_outcomes.csv"]
    train, test, _ = load_tables(files)
    bureau = pd.read_csv(tmp_path / "credit" / "public" / "bureau.csv")
    first = test["SK_ID_CURR"].iloc[0]
    own = bureau[bureau["SK_ID_CURR"] == first]
    row = test.iloc[0]
    assert row["bureau_AMT_DEBT_mean"] == own["AMT_DEBT"].mean() and row["bureau_rows"] == len(own)
    assert row["bureau_CREDIT_ACTIVE_distinct"] == own["CREDIT_ACTIVE"].nunique()
    assert "bureau_SK_ID_BUREAU_max" in train.columns and "branches_region_rating" in train.columns
    assert not any(c.startswith("previous_outcomes") for c in train.columns)  # train keys only: the target again
    assert list(train.columns[:4]) == ["SK_ID_CURR", "income", "branch", "TARGET"] and len(test) == 100


def test_a_run_learns_from_a_summarised_side_table(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "credit", credit_layout(tmp_path / "credit"), "auc")
    data, report = compete(folder, tmp_path / "run", budget=20, max_nodes=2)
    assert "bureau_AMT_DEBT_mean" in data.spec.numeric_columns and report.score > 0.85  # income alone: 0.5
