"""Answers asked for a row per (item, train column): test names, in a column of its own, which of train's
columns each row asks for.

rsna-2022-cervical-spine-fracture-detection's train has a row per study and a 0/1 column per vertebra
(C1..C7, patient_overall); its test has a row per study and `prediction_type` (C1, ..., patient_overall),
and the sample one `fractured` per test row. Bengali.AI's test names `component` (grapheme_root,
vowel_diacritic, ...) the same way. Train is melted to that shape, a row per item and named column with
the column's name under the test's column and its value as the sample's answer; the rows harness then
applies unchanged, the name an input like any other, and folds keep an item's rows together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from pipelines.compound_ids import ITEM

log = logging.getLogger(__name__)


@dataclass
class NamedColumns:
    """Which test column names train's answer columns, and what the sample calls the answer."""

    selector: str  # the test column whose values are names of train columns
    answer: str  # the sample's answer column
    named: list[str]  # the train columns it names
    item_column: str | None  # the column train and test share that names items (a study), if one does
    train_key: str | None = None  # train's name for it, when test's is the item of a compound id

    def spec_layer(self) -> dict[str, object]:
        return {"target_columns": [self.answer], **({"group_column": self.item_column} if self.item_column else {})}

    def melt(self, train: pd.DataFrame) -> pd.DataFrame:
        """A row per train row and named column, in train's order, the name under `selector` and the
        value under `answer`; rows whose named value is missing are dropped."""
        if self.train_key is not None:
            train = train.rename(columns={self.train_key: self.item_column})
        kept = [c for c in train.columns if c not in self.named]
        long = train.reset_index(drop=True).melt(id_vars=kept, value_vars=self.named, var_name=self.selector,
                                                 value_name=self.answer, ignore_index=False)
        long = long.rename_axis("_row").reset_index().sort_values(["_row", self.selector], kind="stable")
        return long.drop(columns="_row").dropna(subset=[self.answer]).reset_index(drop=True)


def named_columns(train: pd.DataFrame, test: pd.DataFrame, sample: pd.DataFrame) -> NamedColumns | None:
    """The layout, when the sample has one answer column train lacks and a column of test (not of train)
    takes two or more values that are all names of train columns test lacks; else None."""
    answers = [c for c in sample.columns[1:] if c not in test.columns]
    if len(answers) != 1 or answers[0] in train.columns:
        return None
    only_train = {str(c): c for c in train.columns if c not in test.columns}
    for column in [c for c in test.columns if c not in train.columns]:
        values = test[column].dropna().astype(str).unique()
        if len(values) >= 2 and all(v in only_train for v in values):
            named = [only_train[v] for v in sorted(values)]
            log.info("test's %r names train's columns %s: train is read as a row per item and named column",
                     column, named)
            shared = [c for c in test.columns if c in train.columns and train[c].is_unique]
            if shared:
                return NamedColumns(column, answers[0], named, shared[0])
            # a sample-only test of `<study>_<column>` ids: its items are what train's one key names
            keys = [c for c in only_train.values() if c not in named and train[c].is_unique]
            items = [c for c in test.columns if str(c).endswith(ITEM)]
            if len(keys) == 1 and len(items) == 1:
                return NamedColumns(column, answers[0], named, items[0], train_key=keys[0])
            return NamedColumns(column, answers[0], named, None)
    return None
