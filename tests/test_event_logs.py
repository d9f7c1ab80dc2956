"""Event logs answered as ranked items per id (h-and-m's transactions and next week's articles)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from agent.competition_files import find_files, load_tables
from pipelines.shapes.event_logs import event_log
from tests.test_shapes import compete, with_answers


def shop(folder: Path, n_customers: int = 150, days: int = 140, seed: int = 0) -> pd.DataFrame:
    """Transactions (t_dat, customer_id, article_id, price) over `days`, the last week held out as the answers;
    customers.csv with an age that decides which articles a customer likes; a sample of every customer ranking
    the same 12 article ids with leading zeros. Returns the answers (buyers of the last week only)."""
    rng = np.random.default_rng(seed)
    public = folder / "public"
    public.mkdir(parents=True)
    articles = 100_000_001 + np.arange(40) * 1000
    customers = pd.DataFrame({"customer_id": [f"{rng.integers(16**15):015x}" for _ in range(n_customers)],
                              "age": rng.integers(18, 70, n_customers)})
    rows = []
    for _, customer in customers.iterrows():
        liked = articles[:20] if customer["age"] < 40 else articles[20:]
        favourites = rng.choice(liked, 3, replace=False)
        for day in np.sort(rng.choice(days, rng.integers(3, 15), replace=False)):
            item = favourites[rng.integers(3)] if rng.random() < 0.6 else rng.choice(liked)
            rows.append((pd.Timestamp("2020-05-01") + pd.Timedelta(days=int(day)), customer["customer_id"], item))
    log = pd.DataFrame(rows, columns=["t_dat", "customer_id", "article_id"]).sort_values("t_dat")
    log["price"] = (log["article_id"] % 7 + 1) / 100
    log["t_dat"] = log["t_dat"].dt.strftime("%Y-%m-%d")
    held = log["t_dat"] >= (pd.Timestamp("2020-05-01") + pd.Timedelta(days=days - 7)).strftime("%Y-%m-%d")
    log[~held].to_csv(public / "transactions_train.csv", index=False)
    customers.to_csv(public / "customers.csv", index=False)
    sample = customers[["customer_id"]].assign(prediction=" ".join(f"0{a}" for a in articles[:12]))
    sample.to_csv(public / "sample_submission.csv", index=False)
    return log[held].groupby("customer_id")["article_id"].agg(lambda a: " ".join(a.astype(str))).rename(
        "prediction").reset_index()


def test_a_log_becomes_a_row_per_id_and_window_with_its_history(tmp_path: Path) -> None:
    shop(tmp_path / "shop")
    files = find_files(tmp_path / "shop" / "public")
    train, test, sample = load_tables(files)
    events = event_log(train, test, sample, "Predict the articles each customer buys in the next 7 days.")
    assert events is not None and (events.item_column, events.time_column) == ("article_id", "t_dat")
    assert events.window == pd.Timedelta(days=7) and events.attributes == ["customers_age"]
    rows, asked = events.train_rows(train), events.test_rows(train, test)
    assert list(asked["customer_id"]) == list(sample["customer_id"]) and "prediction" not in asked.columns
    assert set(asked.columns) == set(rows.columns) - {"prediction"}
    log = train.assign(when=pd.to_datetime(train["t_dat"]))
    end = log["when"].max()
    last = rows.iloc[0]  # the last window's first id: its label is what it bought in (end - 7 days, end]
    mine = log[log["customer_id"] == last["customer_id"]]
    window = mine[mine["when"] > end - pd.Timedelta(days=7)]
    assert set(last["prediction"].split()) == set(window["article_id"].astype(str))
    assert last["events"] == (mine["when"] <= end - pd.Timedelta(days=7)).sum()
    assert last["customers_age"] == mine["customers_age"].iloc[0]
    first = asked.iloc[0]
    assert first["events"] == (log["customer_id"] == first["customer_id"]).sum()
    assert event_log(train, test, sample.assign(prediction="0"), "") is None  # one placeholder names no items


def test_a_shop_run_ranks_articles_better_than_the_sample(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "shop", shop(tmp_path / "shop"), "map@12")
    data, report = compete(folder, tmp_path / "run", budget=30, max_nodes=3)
    assert (data.spec.answer_shape, data.spec.metric, data.spec.group_column) == ("labels", "map@12", "customer_id")
    assert report.score > 0.05  # the sample's leading-zero ids never match: 0
