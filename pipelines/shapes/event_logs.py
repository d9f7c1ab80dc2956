"""Event logs answered as ranked items per id: the next purchases of each customer.

h-and-m gives two years of transactions (date, customer, article, price) and asks, for every customer,
the twelve articles they will buy in the week after the log ends, scored by MAP@12 over those who buy.
Such a layout is read as a row per id and window: each of the log's last few windows (as long as the
horizon asked) gives each id that acted in it a label list (the items it took, most often first), and
everything before the window gives the id's history as columns (how much and how lately it acted, its
numeric columns' level, how often it took each popular item); test rows are every sample id with the
same columns from the whole log; folds keep an id's rows together. The label-list shape (ranked
classes over the most frequent items), its folds, models and ensembles then apply unchanged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import pandas as pd

from pipelines.shapes.label_lists import tokens
from pipelines.tables import parse_datetimes

log = logging.getLogger(__name__)

MIN_EVENTS_PER_ID = 1.5  # a log: ids act several times on average
MIN_TOKENS_FOUND = 0.5  # of the sample's answer tokens, found among the item column's values
WINDOW_SHARE = 0.05  # the label window, as a share of the log's time span, when the description names none
POPULAR_ITEMS = 30  # items whose per-id counts become columns
RECENT_DAYS = 28
COUNTS = ("events", "distinct_items", "recent_events")
WINDOWS = 4  # consecutive label windows at the log's end, each a training row per id acting in it
HORIZON = re.compile(r"(?:next|following|subsequent)\s+(\d+|one|two|three|four|seven)?[- ]?(day|week|month)s?", re.I)
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "seven": 7}


def _item_key(value: object) -> str:
    """Items compared as text, leading zeros dropped from numbers (the sample's `0706016001` is `706016001`)."""
    text = str(value).strip()
    return str(int(text)) if text.isdigit() else text


@dataclass
class EventLog:
    id_column: str
    item_column: str
    time_column: str
    answer: str  # the sample's label-list column
    window: pd.Timedelta
    attributes: list[str]  # columns test gives per id (a customer's age, joined from a side table)
    popular: list  # items whose per-id counts become columns
    ranked: int  # items the sample lists per id: MAP@ranked when no metric is given

    def spec_layer(self) -> dict[str, object]:
        return {"id_column": self.id_column, "target_columns": [self.answer], "group_column": self.id_column,
                "answer_shape": "labels", "ranked_labels": self.ranked}

    def _times(self, frame: pd.DataFrame) -> pd.Series:
        return parse_datetimes(frame[self.time_column])

    def train_rows(self, events: pd.DataFrame) -> pd.DataFrame:
        """A row per id and window (the log's last WINDOWS windows) in which it acted: its items there, its
        history before."""
        when = self._times(events)
        attributes = events.groupby(events[self.id_column].astype(str))[self.attributes].last()
        frames = [self._window_rows(events, when, when.max() - k * self.window, attributes)
                  for k in range(1, WINDOWS + 1)]
        rows = pd.concat([f for f in frames if len(f)], ignore_index=True)
        log.info("event log: %d (id, window) rows from the last %d windows of %s of %s; the history before each "
                 "window is its columns", len(rows), WINDOWS, self.window, self.time_column)
        return rows

    def _window_rows(self, events: pd.DataFrame, when: pd.Series, cut: pd.Timestamp,
                     attributes: pd.DataFrame) -> pd.DataFrame:
        history, window = events[when <= cut], events[(when > cut) & (when <= cut + self.window)]
        if history.empty or window.empty:
            return pd.DataFrame()
        labels = window.groupby(window[self.id_column].astype(str))[self.item_column].agg(
            lambda items: " ".join(items.astype(str).value_counts(sort=True).index))
        ids = pd.Series(labels.index, name=self.id_column)
        rows = self._history(history, cut, ids)
        rows[self.attributes] = attributes.reindex(ids.to_numpy()).to_numpy()
        rows[self.answer] = labels.reindex(ids.to_numpy()).to_numpy()
        return rows

    def test_rows(self, events: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
        """A row per test id, with its history over the whole log."""
        ids = test[self.id_column].astype(str)
        rows = self._history(events, self._times(events).max(), ids)
        rows[self.attributes] = test[self.attributes].to_numpy()
        return rows

    def _history(self, events: pd.DataFrame, now: pd.Timestamp, ids: pd.Series) -> pd.DataFrame:
        when = self._times(events)
        key = events[self.id_column].astype(str)
        rest = events.drop(columns=[self.id_column, self.item_column, self.time_column, *self.attributes])
        numeric = rest.select_dtypes("number")
        recent = when > now - pd.Timedelta(days=RECENT_DAYS)
        parts = [key.value_counts().rename("events"),
                 events.groupby(key)[self.item_column].nunique().rename("distinct_items"),
                 ((now - when.groupby(key).max()).dt.days).rename("days_since_last"),
                 ((now - when.groupby(key).min()).dt.days).rename("days_since_first"),
                 key[recent].value_counts().rename("recent_events")]
        if numeric.shape[1]:
            stats = numeric.groupby(key).agg(["mean", "max"])
            parts.append(stats.set_axis([f"{c}_{s}" for c, s in stats.columns], axis=1))
        for item in self.popular:
            parts.append(key[events[self.item_column] == item].value_counts().rename(f"took_{item}"))
        table = pd.concat(parts, axis=1).reindex(ids.to_numpy())
        counts = [c for c in table.columns if c in COUNTS or c.startswith("took_")]
        table[counts] = table[counts].fillna(0)  # no history: none of it
        return table.rename_axis(self.id_column).reset_index()


def event_log(train: pd.DataFrame, test: pd.DataFrame, sample: pd.DataFrame, description: str = "") -> EventLog | None:
    """The log's reading, when train is a log of (id, item, time) rows, test the sample's ids (with attributes
    of each id, if any), and the sample ranks items per id: its answers name several of the item column's values."""
    if sample.shape[1] != 2:
        return None
    id_column, answer = sample.columns
    if answer in train.columns or id_column not in train.columns or len(test) != len(sample):
        return None
    if len(train) < MIN_EVENTS_PER_ID * train[id_column].nunique():
        return None
    wanted = {_item_key(t) for value in sample[answer].head(1000) for t in tokens(value)}
    candidates = [c for c in train.columns if c != id_column and c not in test.columns]
    if len(wanted) < 2 or not candidates:
        return None
    item = max(candidates, key=lambda c: len(wanted & set(train[c].drop_duplicates().map(_item_key))))
    if len(wanted & set(train[item].drop_duplicates().map(_item_key))) < MIN_TOKENS_FOUND * len(wanted):
        return None
    time = next((c for c in candidates if c != item and not pd.api.types.is_numeric_dtype(train[c])
                 and parse_datetimes(train[c].head(200)).notna().all()), None)
    if time is None:
        return None
    when = parse_datetimes(train[time])
    window = _window(description, when.max() - when.min())
    recent = train[when > when.max() - window - pd.Timedelta(days=RECENT_DAYS)][item]
    attributes = [c for c in test.columns if c != id_column and c in train.columns]
    ranked = int(sample[answer].head(1000).map(lambda v: len(tokens(v))).median())
    return EventLog(id_column, item, time, answer, window, attributes,
                    list(recent.value_counts().index[:POPULAR_ITEMS]), ranked)


def _window(description: str, span: pd.Timedelta) -> pd.Timedelta:
    """The horizon the description names ("the next 7 days", "the following week"), else a share of the span."""
    if found := HORIZON.search(description):
        count = found.group(1)
        n = int(count) if count and count.isdigit() else WORDS.get((count or "one").lower(), 1)
        return pd.Timedelta(days=n * {"day": 1, "week": 7, "month": 30}[found.group(2).lower()])
    return max(pd.Timedelta(days=1), span * WINDOW_SHARE)
