"""Side tables joined to the train and test rows by a key column they share.

Many competitions put part of what is known about a row in another table: a customer's attributes
beside their transactions, a loan applicant's earlier credits (many rows per applicant), a
product's description. A table whose key column names most train rows' and most test rows' keys
gives each row its columns (one row per key) or their statistics over the key's rows (mean, spread,
extremes, count). A table that covers train keys only (targets in disguise, as champs' coupling
contributions) is left out: no model could read it for a test row.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.errors import InputError
from pipelines.tables import read_table, table_stem
from pipelines.targets import label_key

log = logging.getLogger(__name__)

MAX_SIDE_BYTES = 256 * 2**20  # larger tables would need streamed aggregation; left out for now
MIN_KEYS_COVERED = 0.5  # of the train keys and of the test keys, each
MAX_AGGREGATED = 20  # numeric columns summarised per key
MAX_JOINED = 200  # columns of a table with one row per key
STATISTICS = ("mean", "std", "min", "max")


def join_side_tables(train: pd.DataFrame, test: pd.DataFrame, paths: list[Path],
                     protected: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test with the columns of each side table that shares a key with both; `protected` columns
    (the sample's answers) are never keys and never come from a side table."""
    for path in paths:
        if path.stat().st_size > MAX_SIDE_BYTES:
            log.info("%s: %d MB, too large to join; left out", path, path.stat().st_size // 2**20)
            continue
        try:
            side = read_table(path)
        except InputError as exc:
            log.info("%s: not joined (%s)", path, exc)
            continue
        key = shared_key(side, train, test, protected)
        if key is None:
            continue
        facts = per_key(side.drop(columns=[c for c in protected if c in side.columns and c != key]), key,
                        table_stem(path))
        facts = facts.drop(columns=[c for c in facts.columns if c in train.columns or c in test.columns])
        if facts.empty:
            continue
        log.info("%s: %d columns joined to the rows by %r", path.name, facts.shape[1], key)
        train, test = (_joined(frame, facts, key) for frame in (train, test))
    return train, test


def shared_key(side: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, protected: set[str]) -> str | None:
    """The column of `side` that train and test also have, whose values name most of their keys; the best covered."""
    best, best_cover = None, MIN_KEYS_COVERED
    for column in side.columns:
        if column in protected or column not in train.columns or column not in test.columns:
            continue
        if pd.api.types.is_float_dtype(side[column]) and not np.allclose(side[column].dropna() % 1, 0):
            continue  # measurements, not keys
        known = set(side[column].dropna().map(label_key))
        cover = min(_covered(train[column], known), _covered(test[column], known))
        if cover >= best_cover and (best is None or cover > best_cover):
            best, best_cover = column, cover
    return best


def _covered(values: pd.Series, known: set[str]) -> float:
    distinct = values.dropna().drop_duplicates()
    return float(distinct.map(label_key).isin(known).mean()) if len(distinct) else 0.0


def per_key(side: pd.DataFrame, key: str, name: str) -> pd.DataFrame:
    """One row per key: the table's own columns when the key is unique, else statistics of its numeric columns,
    the number of distinct values of its other columns, and its row count. Indexed by the key as text."""
    keys = side[key].map(label_key)
    rest = side.drop(columns=[key])
    if keys.is_unique:
        return rest.iloc[:, :MAX_JOINED].set_axis(keys.to_numpy()).add_prefix(f"{name}_")
    numeric = rest.select_dtypes("number").iloc[:, :MAX_AGGREGATED]
    grouped = numeric.groupby(keys.to_numpy())
    parts = [grouped.agg(list(STATISTICS))] if numeric.shape[1] else []
    if parts:
        parts[0].columns = [f"{name}_{column}_{stat}" for column, stat in parts[0].columns]
    others = rest.drop(columns=numeric.columns).iloc[:, :MAX_AGGREGATED]
    if others.shape[1]:
        parts.append(others.groupby(keys.to_numpy()).nunique().add_prefix(f"{name}_").add_suffix("_distinct"))
    parts.append(keys.value_counts().rename(f"{name}_rows").to_frame())
    return pd.concat(parts, axis=1)


def _joined(frame: pd.DataFrame, facts: pd.DataFrame, key: str) -> pd.DataFrame:
    matched = facts.reindex(frame[key].map(label_key).to_numpy())
    matched.index = frame.index
    joined = pd.concat([frame, matched], axis=1)
    joined.attrs = frame.attrs
    return joined
