"""Sequence answers: a value per position of each item, one submission row per `<item>_<position>`.

stanford-covid-vaccine ships JSON records, one per RNA molecule: per-position strings (`sequence`,
`structure`, one character per position), scalars, and in train the answers as lists (`reactivity`,
one number per scored position); the sample submission has a row per `<id>_<position>`. Such a
layout is read by exploding every item into one row per position, with the characters around
the position as columns, so the rows harness, its folds (grouped by item: whole items are held
out) and its recipes apply unchanged, and the submission's `<item>_<position>` rows come out of it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.number_lists import is_number_list, numbers

log = logging.getLogger(__name__)

NEIGHBOURS = 3  # characters on each side of a position that become columns of its row
POSITION_ID = re.compile(r"^(.+)_(\d+)$")


@dataclass
class SequenceItems:
    """How the items of a sequence layout map to per-position rows."""

    id_column: str  # the sample's `<item>_<position>` column
    item_column: str  # the column of train and test naming items
    answer_columns: list[str]  # train columns holding a list of numbers per item, one per scored position
    per_position: list[str]  # string columns with one character per position

    def spec_layer(self) -> dict[str, object]:
        return {"answer_shape": "sequence", "group_column": self.item_column, "id_column": self.id_column}

    def explode(self, items: pd.DataFrame) -> pd.DataFrame:
        """One row per position of every item: the item's scalars, `position`, the characters at and around
        it, and (in train) the answers at it (missing beyond the scored positions)."""
        lists = [c for c in items.columns if c not in self.per_position and is_number_list(items[c], min_numbers=2)]
        scalars = [c for c in items.columns if c not in self.per_position and c not in lists]
        lengths = items[self.per_position[0]].astype(str).str.len().to_numpy()
        rows = np.repeat(np.arange(len(items)), lengths)
        position = np.concatenate([np.arange(n) for n in lengths]) if len(items) else np.zeros(0, dtype=int)
        out = items[scalars].iloc[rows].reset_index(drop=True)
        out.insert(0, self.id_column, out[self.item_column].astype(str) + "_" + position.astype(str))
        out["position"], out["positions_left"] = position, lengths[rows] - position - 1
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        for column in self.per_position:
            chars = np.array(list("".join(str(v) for v in items[column])) or [""])
            for offset in range(-NEIGHBOURS, NEIGHBOURS + 1):
                at = position + offset
                inside = (at >= 0) & (at < lengths[rows])
                name = column if offset == 0 else f"{column}_{'prev' if offset < 0 else 'next'}{abs(offset)}"
                out[name] = np.where(inside, chars[np.clip(starts + at, 0, len(chars) - 1)], "^" if offset < 0 else "$")
        for column in [c for c in self.answer_columns if c in items.columns]:
            values = [numbers(v) for v in items[column]]
            out[column] = [v[p] if v is not None and p < len(v) else np.nan
                           for v, p in zip((values[r] for r in rows), position)]
        return out


def sequence_items(train: pd.DataFrame, test: pd.DataFrame, sample: pd.DataFrame) -> SequenceItems | None:
    """The sequence layout of these tables, or None: the sample's ids are `<item>_<position>` for the items
    of a test column, each item has as many rows as characters in some string column of test, and the
    sample's answer columns are lists of numbers in train."""
    id_column, answers = sample.columns[0], list(sample.columns[1:])
    if id_column in test.columns or not answers or not all(c in train.columns for c in answers):
        return None
    parts = sample[id_column].astype(str).str.extract(POSITION_ID)
    if parts[0].isna().any():
        return None
    items = set(parts[0])
    item_column = next((c for c in test.columns if set(test[c].astype(str)) == items), None)
    if item_column is None or not all(is_number_list(train[c], min_numbers=2) for c in answers):
        return None
    positions = parts.assign(n=1).groupby(0)["n"].sum()
    wanted = test[item_column].astype(str).map(positions).to_numpy()
    per_position = [c for c in test.columns if c != item_column and c in train.columns
                    and not pd.api.types.is_numeric_dtype(test[c])
                    and (test[c].astype(str).str.len().to_numpy() == wanted).all()]
    if not per_position:
        return None
    log.info("sequence layout: items in %r, a row per position of %s, answers %s", item_column, per_position, answers)
    return SequenceItems(id_column, item_column, answers, per_position)
