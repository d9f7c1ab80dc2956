"""Forecast grids: the sample asks for a row per `<item>_<time>`, many per test item, and test holds each
item's known state at one time.

osic-pulmonary-fibrosis-progression gives, per test patient, the first visit (week, FVC, percent, age...)
and asks for FVC at every week from -12 to 133 (`<patient>_<week>`); train holds every visit of other
patients. Such a layout is read by spreading each test item's row over its grid times, with the state it
was measured in as `base_` columns and the time since then as a column; train rows get the same columns
from their item's first row, and lose the measurements of their own time (a visit's Percent is its FVC
in disguise, which test rows could never show). The rows harness, its folds (grouped by item: test items
are new) and its recipes then apply unchanged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import pandas as pd

log = logging.getLogger(__name__)

GRID_ID = re.compile(r"^(.+)_(-?\d+)$")
SINCE = "_since_base"


@dataclass
class ForecastGrid:
    """How a forecast grid's sample ids map to items and times, and which columns were measured."""

    id_column: str  # the sample's `<item>_<time>` column
    item_column: str
    time_column: str
    measured: list[str]  # numeric columns test gives at the item's known time (answers among them)

    def spec_layer(self) -> dict[str, object]:
        return {"group_column": self.item_column, "id_column": self.id_column}

    def _with_base(self, rows: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
        """`rows` with each item's known state (`base`, indexed by item) as base_ columns, and the time since it."""
        known = base.reindex(rows[self.item_column].astype(str).to_numpy())
        for column in [self.time_column, *self.measured]:
            rows[f"base_{column}"] = known[column].to_numpy()
        rows[f"{self.time_column}{SINCE}"] = rows[self.time_column] - rows[f"base_{self.time_column}"]
        return rows

    def _first_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        first = frame.sort_values(self.time_column, kind="stable").groupby(frame[self.item_column].astype(str)).first()
        return first[[self.time_column, *self.measured]]

    def train_rows(self, train: pd.DataFrame, answers: list[str]) -> pd.DataFrame:
        """Train's rows, each with its item's first row as the known state instead of its own measurements."""
        rows = train.reset_index(drop=True)
        rows = self._with_base(rows, self._first_rows(rows))
        rows = rows.drop(columns=[c for c in self.measured if c not in answers])
        rows.insert(0, self.id_column, rows[self.item_column].astype(str) + "_" + rows[self.time_column].astype(str))
        return rows

    def test_rows(self, test: pd.DataFrame, sample: pd.DataFrame, answers: list[str]) -> pd.DataFrame:
        """A row per sample id: its item's test row at the grid time, the row's own values as the known
        state; the answers test gives (the measurement at the known time) only as base_ columns."""
        parts = sample[self.id_column].astype(str).str.extract(GRID_ID)
        base = self._first_rows(test)
        rows = test.assign(_key=test[self.item_column].astype(str)).drop_duplicates("_key").set_index("_key")
        rows = rows.reindex(parts[0].to_numpy()).reset_index(drop=True)
        rows[self.time_column] = parts[1].astype(int).to_numpy()
        rows = self._with_base(rows, base).drop(columns=[c for c in {*self.measured, *answers} if c in rows.columns])
        rows.insert(0, self.id_column, sample[self.id_column].to_numpy())
        return rows


def forecast_grid(train: pd.DataFrame, test: pd.DataFrame, sample: pd.DataFrame) -> ForecastGrid | None:
    """The grid layout of these tables, or None: the sample's ids are `<item>_<time>` for the items of a
    test column, more than test's rows, and a numeric column of train and test is the time (named by the
    id column's second part, `Patient_Week` -> `Weeks`, else the one whose test values lie in the grid)."""
    id_column = sample.columns[0]
    if id_column in test.columns or len(sample) <= len(test) or len(sample.columns) < 2:
        return None
    parts = sample[id_column].astype(str).str.extract(GRID_ID)
    if parts[0].isna().any():
        return None
    items = set(parts[0])
    item_column = next((c for c in test.columns if c in train.columns and set(test[c].astype(str)) == items), None)
    if item_column is None:
        return None
    numeric = [c for c in test.columns if c != item_column and c in train.columns
               and pd.api.types.is_numeric_dtype(test[c]) and pd.api.types.is_numeric_dtype(train[c])]
    times = parts[1].astype(int)
    low, high = times.min(), times.max()
    named = id_column.split("_")[-1].lower()
    inside = [c for c in numeric if test[c].between(low, high).all()]
    time_column = next((c for c in inside if c.lower().startswith(named)), inside[0] if inside else None)
    if time_column is None:
        return None
    measured = [c for c in numeric if c != time_column]
    log.info("forecast grid: %d test items in %r over %r from %d to %d (%d rows); known state %s", len(items),
             item_column, time_column, low, high, len(sample), measured)
    return ForecastGrid(id_column, item_column, time_column, measured)
