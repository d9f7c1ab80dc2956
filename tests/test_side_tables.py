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


def contact_layout(folder: Path, plays: int = 12, players: int = 6, steps: int = 12, seed: int = 0) -> pd.DataFrame:
    """nfl-player-contact's layout in small: a row per pair of players (or a player and the ground, `G`) at each
    step of a play, its id the play, step and both players joined with "_"; tracking (a row per player and
    step, split into train_ and test_ halves) is all that tells a contact, two players within a yard; no test
    table names the rows. Returns the answers."""
    rng = np.random.default_rng(seed)
    public = folder / "public"
    public.mkdir(parents=True)
    labels, tracking = [], []
    for play in range(plays):
        game_play = f"{58000 + play}_{rng.integers(1, 4000):06d}"
        ids = sorted(rng.choice(np.arange(30000, 50000), players, replace=False))
        walk = np.cumsum(rng.normal(0, 0.6, (players, steps, 2)), axis=1) + rng.uniform(0, 4, (players, 1, 2))
        for step in range(steps):
            for i, player in enumerate(ids):
                tracking.append({"game_play": game_play, "step": step, "nfl_player_id": player,
                                 "x_position": walk[i, step, 0], "y_position": walk[i, step, 1],
                                 "speed": abs(rng.normal(2, 1))})
                for j in [*range(i + 1, players), -1]:
                    near = j >= 0 and np.linalg.norm(walk[i, step] - walk[j, step]) < 1.0
                    other = "G" if j < 0 else ids[j]
                    labels.append({"contact_id": f"{game_play}_{step}_{player}_{other}", "game_play": game_play,
                                   "step": step, "nfl_player_id_1": player, "nfl_player_id_2": other,
                                   "contact": int(near or (j < 0 and rng.random() < 0.02))})
    labels, tracking = pd.DataFrame(labels), pd.DataFrame(tracking).round(2)
    test_plays = labels["game_play"].unique()[: plays // 4]
    held = labels["game_play"].isin(test_plays)
    labels[~held].to_csv(public / "train_labels.csv", index=False)
    in_test = tracking["game_play"].isin(test_plays)
    for name, rows in (("train", ~in_test), ("test", in_test)):
        tracking[rows].to_csv(public / f"{name}_player_tracking.csv", index=False)
        tracking[rows].groupby("game_play").size().rename("frames").to_csv(public / f"{name}_video_metadata.csv")
    labels.loc[held, ["contact_id"]].assign(contact=0).to_csv(public / "sample_submission.csv", index=False)
    return labels.loc[held, ["contact_id", "contact"]]


def test_rows_named_by_pairs_get_both_players_columns_and_how_far_apart_they_are(tmp_path: Path) -> None:
    answers = contact_layout(tmp_path / "contacts")
    files = find_files(tmp_path / "contacts" / "public")
    assert files.test == files.sample_submission  # test_video_metadata.csv names no contact
    train, test, _ = load_tables(files)
    assert list(test["contact_id"]) == list(answers["contact_id"])
    row = test.iloc[1]
    assert row["contact_id"] == f"{row['game_play']}_{row['step']}_{row['nfl_player_id_1']}_{row['nfl_player_id_2']}"
    tracking = pd.read_csv(tmp_path / "contacts" / "public" / "test_player_tracking.csv")
    at = tracking.set_index(["game_play", "step", "nfl_player_id"])
    first = at.loc[(row["game_play"], row["step"], row["nfl_player_id_1"])]
    second = at.loc[(row["game_play"], row["step"], int(row["nfl_player_id_2"]))]
    assert row["player_tracking_x_position_1"] == first["x_position"]
    assert row["player_tracking_y_position_distance"] == abs(first["y_position"] - second["y_position"])
    assert row["player_tracking_xy_position_distance"] == np.hypot(first["x_position"] - second["x_position"],
                                                                   first["y_position"] - second["y_position"])
    ground = test[test["nfl_player_id_2"] == "G"].iloc[0]
    assert pd.isna(ground["player_tracking_x_position_2"]) and pd.notna(ground["player_tracking_x_position_1"])
    assert "player_tracking_speed_difference" in train.columns and train["player_tracking_speed_1"].notna().all()


def test_a_run_tells_contacts_from_the_pairs_distances(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "contacts", contact_layout(tmp_path / "contacts"), "mcc")
    data, report = compete(folder, tmp_path / "run", budget=20, max_nodes=2)
    assert "player_tracking_xy_position_distance" in data.spec.numeric_columns and report.score > 0.6


def test_a_table_keyed_by_two_shared_columns_joins_on_both(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    public = tmp_path / "sales" / "public"
    public.mkdir(parents=True)
    grid = pd.MultiIndex.from_product([range(1, 6), pd.date_range("2017-01-01", periods=40).astype(str)],
                                      names=["store_nbr", "date"]).to_frame(index=False)
    grid["transactions"] = rng.integers(100, 5000, len(grid))
    grid["id"] = np.arange(len(grid))
    grid["sales"] = grid["transactions"] * 0.1
    train, test = grid.iloc[:150], grid.iloc[150:]
    train.drop(columns="transactions").to_csv(public / "train.csv", index=False)
    test.drop(columns=["transactions", "sales"]).to_csv(public / "test.csv", index=False)
    grid[["date", "store_nbr", "transactions"]].sample(frac=1, random_state=0).to_csv(public / "transactions.csv",
                                                                                     index=False)
    test[["id"]].assign(sales=0.0).to_csv(public / "sample_submission.csv", index=False)
    joined_train, joined_test, _ = load_tables(find_files(public))
    assert list(joined_test["transactions_transactions"]) == list(test["transactions"])
    assert list(joined_train["transactions_transactions"]) == list(train["transactions"])
