"""Side tables joined to the train and test rows by key columns they share.

Many competitions put part of what is known about a row in another table: a customer's attributes
beside their transactions, a loan applicant's earlier credits (many rows per applicant), a
product's description. A table whose key column names most train rows' and most test rows' keys
gives each row its columns (one row per key) or their statistics over the key's rows (mean, spread,
extremes, count). A table that covers train keys only (targets in disguise, as champs' coupling
contributions) is left out: no model could read it for a test row.

A key may take several columns (a player at a step of a play), and a row may name two of the table's keys
(`nfl_player_id_1`, `nfl_player_id_2` of a contact): the row then gets each one's columns and their
differences. A table split as the rows are (`train_tracking`, `test_tracking`) is one table.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.errors import InputError
from pipelines.tables import read_table, table_stem
from pipelines.targets import label_keys

log = logging.getLogger(__name__)

MAX_SIDE_BYTES = 256 * 2**20  # larger tables would need streamed aggregation; left out for now
MIN_KEYS_COVERED = 0.5  # of the train keys and of the test keys, each
MAX_AGGREGATED = 20  # numeric columns summarised per key
MAX_JOINED = 200  # columns of a table with one row per key
STATISTICS = ("mean", "std", "min", "max")
ROLE_SUFFIXES = [("_1", "_2"), ("1", "2")]  # a row's two columns naming one kind of key
X_WORD = re.compile(r"(?<![^_])([xX])(?![^_])")  # x as a word of a column name: x, x_position, pos_x


def join_side_tables(train: pd.DataFrame, test: pd.DataFrame, paths: list[Path],
                     protected: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test with the columns of each side table that shares a key with both; `protected` columns
    (the sample's answers) are never keys and never come from a side table."""
    for name, side in _side_tables(paths):
        key = side_key(side, train, test, protected)
        if key is None:
            continue
        side = side.drop(columns=[c for c in protected if c in side.columns and c not in key.columns])
        facts = per_key(side, key.columns, name)
        facts = facts.drop(columns=[c for c in facts.columns
                                    if any(f"{c}{s}" in train.columns or f"{c}{s}" in test.columns for s in key.roles)])
        if facts.empty:
            continue
        log.info("%s: %d columns joined to the rows by %s", name, facts.shape[1] * len(key.roles), key)
        train, test = (_joined(frame, key, facts) for frame in (train, test))
    return train, test


def _side_tables(paths: list[Path]) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each readable side table with its name; the train and test halves of one (same columns) as one."""
    halves: dict[str, list[tuple[str, pd.DataFrame]]] = defaultdict(list)
    for path in paths:
        if path.stat().st_size > MAX_SIDE_BYTES:
            log.info("%s: %d MB, too large to join; left out", path, path.stat().st_size // 2**20)
            continue
        try:
            halves[re.sub(r"^(train|test)_|_(train|test)$", "", table_stem(path), flags=re.I)].append(
                (table_stem(path), read_table(path)))
        except InputError as exc:
            log.info("%s: not joined (%s)", path, exc)
    for name, tables in halves.items():
        if len(tables) > 1 and all(list(t.columns) == list(tables[0][1].columns) for _, t in tables):
            yield name, pd.concat([t for _, t in tables], ignore_index=True)
        else:
            yield from tables


@dataclass
class SideKey:
    """The side table's key columns, and for each role (a suffix: "" when a row names one key) the rows' columns
    that hold it."""

    columns: list[str]
    roles: dict[str, list[str]]

    def __str__(self) -> str:
        return " and ".join(repr(columns) for columns in self.roles.values())


def side_key(side: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, protected: set[str]) -> SideKey | None:
    """How the side table's rows are found for a row: by the key columns train and test share with it, plus one
    column that a row holds twice (`x_1`, `x_2`); else by all the shared columns together; else by the shared
    column that names most keys. Each must name at least MIN_KEYS_COVERED of train's and of test's keys."""
    usable = [c for c in side.columns if c not in protected and not _measurement(side[c])]
    shared = [c for c in usable if c in train.columns and c in test.columns]
    candidates = [SideKey([*shared, c], {s: [*shared, f"{c}{s}"] for s in pair})
                  for c in usable if c not in shared for pair in ROLE_SUFFIXES
                  if all(f"{c}{s}" in train.columns and f"{c}{s}" in test.columns for s in pair)]
    candidates += [SideKey(shared, {"": shared})] if len(shared) > 1 else []
    candidates += sorted((SideKey([c], {"": [c]}) for c in shared), key=lambda k: -_cover(side, train, test, k))
    return next((k for k in candidates if _cover(side, train, test, k) >= MIN_KEYS_COVERED), None)


def _measurement(values: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(values) and not np.allclose(values.dropna() % 1, 0)


def _cover(side: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, key: SideKey) -> float:
    """The least share, over train and test and each role, of a frame's distinct keys that the side table has."""
    known = set(_keys(side, key.columns))
    return min(float(keys.isin(known).mean()) if len(keys) else 0.0
               for frame in (train, test) for columns in key.roles.values()
               for keys in [_keys(frame[columns].drop_duplicates().dropna(), columns)])


def _keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Each row's key as text, so 1 == 1.0 == '1' and True == 'true'."""
    parts = [label_keys(frame[column]) for column in columns]
    return parts[0].str.cat(parts[1:], sep="\x1f") if len(parts) > 1 else parts[0]


def per_key(side: pd.DataFrame, key: list[str], name: str) -> pd.DataFrame:
    """One row per key: the table's own columns when the key is unique, else statistics of its numeric columns,
    the number of distinct values of its other columns, and its row count. Indexed by the key as text."""
    keys = _keys(side, key)
    rest = side.drop(columns=key)
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


def _joined(frame: pd.DataFrame, key: SideKey, facts: pd.DataFrame) -> pd.DataFrame:
    """The frame with each role's facts; with two roles, also the differences of their numeric columns (how far
    apart two players stand: what neither one's own columns say)."""
    matched = {suffix: facts.reindex(_keys(frame, columns).to_numpy()).set_axis(frame.index)
               for suffix, columns in key.roles.items()}
    parts = [part.add_suffix(suffix) for suffix, part in matched.items()]
    if len(matched) == 2:
        first, second = (part.select_dtypes("number") for part in matched.values())
        difference = first - second
        parts += [difference.add_suffix("_difference"), difference.abs().add_suffix("_distance"),
                  _planar_distances(difference)]
    joined = pd.concat([frame, *parts], axis=1)
    joined.attrs = frame.attrs
    return joined


def _planar_distances(difference: pd.DataFrame) -> pd.DataFrame:
    """How far apart the two roles are in the plane, for each pair of columns named as x and y of one position
    (`x_position` and `y_position`): a contact, a tackle, a pass are decided by it, not by either axis alone."""
    out = {}
    for column in map(str, difference.columns):
        other = X_WORD.sub(lambda m: "y" if m.group(1) == "x" else "Y", column, count=1)
        if other != column and other in difference.columns:
            out[X_WORD.sub("xy", column, count=1) + "_distance"] = np.hypot(difference[column], difference[other])
    return pd.DataFrame(out, index=difference.index)
