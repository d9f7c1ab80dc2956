"""Sets of labels per item, answered as one submission row per (item, class) whose id joins the two.

mlsp-2013-birds ships no train table: a text file lists each recording's species (`rec_id,[labels]`,
lines `14,0,4`, `15` for none, `16,?` for a test recording), other text files hold features keyed by
the recording (a histogram per recording, many segments per recording, the name of its sound file),
and the sample asks for `Id = rec_id * 100 + species`. Such a layout is read by exploding every item
into one row per class, with the class as a column and the item's features beside it, so the rows
harness, its folds (grouped by item: whole items are held out) and its recipes apply unchanged, and
the submission's ids come out of it.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.tables import COMPRESSED_SUFFIXES, TABLE_SUFFIXES, read_table

log = logging.getLogger(__name__)

TEXT_TABLE_SUFFIXES = (*TABLE_SUFFIXES, ".txt")
MAX_TABLE_BYTES = 200 * 2**20  # side tables larger than this are not read whole
MAX_DEPTH = 3  # folder levels below the competition's searched for tables
UNKNOWN = "?"  # what a label list says for a test item
CLASS_COLUMN = "class"
MIN_ITEM_COVERAGE = 0.5  # a side table keyed by the item holds at least this share of the items


@dataclass
class ItemIds:
    """How the sample's ids join an item and a class: `item * base + class`, or `<item>_<class>`."""

    items: np.ndarray  # each sample row's item
    classes: np.ndarray  # each sample row's class
    base: int | None  # None: joined with "_"

    def compose(self, items: np.ndarray, classes: np.ndarray) -> np.ndarray:
        if self.base is not None:
            return items.astype(np.int64) * self.base + classes
        return np.char.add(np.char.add(items.astype(str), "_"), classes.astype(str))


@dataclass
class LabelSets:
    """The items' label lists, the sample's id rule, and the side tables that describe an item."""

    labels: Path
    item_column: str
    known: dict[int, set[int]]  # train items and their classes
    test_items: list[int]
    n_classes: int
    ids: ItemIds
    id_column: str
    answer_column: str
    features: pd.DataFrame = field(repr=False)  # a row per item (its index), from the side tables

    def spec_layer(self) -> dict[str, object]:
        return {"group_column": self.item_column, "id_column": self.id_column, "target_columns": [self.answer_column],
                "task": "binary"}

    def train_table(self, seed: int = 0) -> pd.DataFrame:
        items = np.array(sorted(self.known), dtype=np.int64)
        frame = self._rows(items)
        frame[self.answer_column] = [int(c in self.known[i]) for i, c in zip(frame[self.item_column], frame[CLASS_COLUMN])]
        return frame

    def test_table(self) -> pd.DataFrame:
        return self._rows(np.array(self.test_items, dtype=np.int64))

    def _rows(self, items: np.ndarray) -> pd.DataFrame:
        item = np.repeat(items, self.n_classes)
        klass = np.tile(np.arange(self.n_classes), len(items))
        frame = pd.DataFrame({self.id_column: self.ids.compose(item, klass), self.item_column: item, CLASS_COLUMN: klass})
        side = self.features.reindex(item).reset_index(drop=True)
        return pd.concat([frame, side], axis=1).copy()  # one block, not one per side column


def split_ids(values: pd.Series) -> list[ItemIds]:
    """Each way the ids split into a full grid of items by classes 0..K-1 (K >= 2): `item * 10**p + class`
    for every power p that gives one (item 3, classes 0-5 read as 30-35 with p = 1, or 300-305 with
    p = 2: the label lists decide), or `<item>_<class>`."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all() and (numbers >= 0).all() and (numbers % 1 == 0).all():
        ints = numbers.astype(np.int64).to_numpy()
        grids = (_grid(ints // 10 ** power, ints % 10 ** power, 10 ** power) for power in range(1, 7))
        return [ids for ids in grids if ids is not None]
    parts = values.astype(str).str.rsplit("_", n=1, expand=True)
    if parts.shape[1] != 2 or parts.isna().any().any():
        return []
    items, classes = pd.to_numeric(parts[0], errors="coerce"), pd.to_numeric(parts[1], errors="coerce")
    if items.isna().any() or classes.isna().any():
        return []
    ids = _grid(items.astype(np.int64).to_numpy(), classes.astype(np.int64).to_numpy(), None)
    return [ids] if ids is not None else []


def _grid(items: np.ndarray, classes: np.ndarray, base: int | None) -> ItemIds | None:
    n_items, n_classes = len(np.unique(items)), len(np.unique(classes))
    if n_classes < 2 or n_items < 2 or n_items * n_classes != len(items) or set(np.unique(classes)) != set(range(n_classes)):
        return None
    if len(set(zip(items.tolist(), classes.tolist()))) != len(items):
        return None
    return ItemIds(items, classes, base)


def read_ragged(path: Path) -> pd.DataFrame:
    """A comma-separated table whose rows may be longer than its header (`rec_id,[histogram of ...]`
    over 101 values): the header names the first fields, the rest are numbered; numbers where
    every value is one."""
    lines = list(csv.reader(io.StringIO(path.read_text(errors="replace"))))
    lines = [row for row in lines if row]
    if len(lines) < 2:
        return pd.DataFrame()
    header, rows = lines[0], lines[1:]
    width = max(len(r) for r in rows)
    names = [h.strip() for h in header if not h.strip().startswith("[")][:width]
    names += [str(k) for k in range(len(names), width)]
    frame = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], columns=names)
    for column in frame.columns:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        if numbers.notna().sum() == frame[column].notna().sum():
            frame[column] = numbers
    return frame


def _text_tables(folder: Path) -> list[Path]:
    paths = []
    for path in sorted(folder.rglob("*")):
        depth = len(path.relative_to(folder).parts)
        name = path.name.lower()
        if path.is_file() and depth <= MAX_DEPTH and name.endswith(TEXT_TABLE_SUFFIXES) \
                and not name.endswith(COMPRESSED_SUFFIXES) and path.stat().st_size <= MAX_TABLE_BYTES:
            paths.append(path)
    return paths


def _label_lists(path: Path, items: set[int], n_classes: int) -> tuple[str, dict[int, set[int]], set[int]] | None:
    """(item column, train items' classes, items marked unknown) when `path` lists, per item, its
    classes (integers below `n_classes`) or "?", and marks every sample item unknown or leaves it out."""
    try:
        lines = [row for row in csv.reader(io.StringIO(path.read_text(errors="strict"))) if row]
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if len(lines) < 3:
        return None
    known: dict[int, set[int]] = {}
    unknown: set[int] = set()
    for row in lines[1:]:
        values = [v.strip() for v in row]
        if not values[0].isdigit():
            return None
        item, rest = int(values[0]), [v for v in values[1:] if v]
        if rest == [UNKNOWN]:
            unknown.add(item)
        elif all(v.isdigit() and int(v) < n_classes for v in rest):
            known[item] = {int(v) for v in rest}
        else:
            return None
    if items & set(known) or len(known) < 2:
        return None
    if not any(len(c) > 1 for c in known.values()) and not unknown:
        return None  # one class per item at most and no test marks: an ordinary table, not label sets
    return lines[0][0].strip() or "item", known, unknown


def _side_features(tables: list[Path], item_column: str, all_items: set[int]) -> pd.DataFrame:
    """A row per item from every table keyed by the item: a table with a row per item as it is, one
    with many rows per item as the mean and max of its numbers and its row count."""
    parts = []
    for path in tables:
        try:
            frame = read_ragged(path) if path.suffix.lower() == ".txt" else read_table(path)
        except Exception as exc:  # a side table that cannot be read describes nothing
            log.info("%s: not read as a side table (%s)", path, exc)
            continue
        if frame.empty or not pd.api.types.is_integer_dtype(frame.iloc[:, 0]):
            continue
        key = frame.columns[0]
        covered = len(set(frame[key].tolist()) & all_items) / max(len(all_items), 1)
        if covered < MIN_ITEM_COVERAGE:
            continue
        values = frame.drop(columns=[key]).rename(columns=lambda c: f"{path.stem}.{c}")
        values.index = frame[key].to_numpy()
        if values.index.is_unique:
            parts.append(values)
            continue
        numbers = values.select_dtypes("number")
        grouped = numbers.groupby(level=0)
        parts.append(pd.concat([grouped.mean().add_suffix(".mean"), grouped.max().add_suffix(".max"),
                                grouped.size().rename(f"{path.stem}.rows")], axis=1))
    if not parts:
        return pd.DataFrame(index=pd.Index(sorted(all_items), name=item_column))
    rows = pd.concat(parts, axis=1).reindex(sorted(all_items))
    for column in rows.columns:  # a many-rows table's count is 0 where an item has no rows
        if column.endswith(".rows"):
            rows[column] = rows[column].fillna(0)
    return rows


def find_label_sets(folder: Path, sample: pd.DataFrame, sample_path: Path) -> LabelSets | None:
    """The layout above, when the sample's ids are a grid of items by classes and a text table lists
    each item's classes."""
    if len(sample.columns) != 2 or sample.empty:
        return None
    id_column, answer_column = sample.columns
    splits = split_ids(sample[id_column])
    tables = [p for p in _text_tables(folder) if p.resolve() != sample_path.resolve()] if splits else []
    readings = []
    for ids, path in itertools.product(splits, tables):
        test_items = set(ids.items.tolist())
        if (found := _label_lists(path, test_items, int(ids.classes.max()) + 1)) is not None:
            item_column, known, unknown = found
            if not unknown or test_items <= unknown:
                # The file's test marks name exactly the sample's items; else the widest base (a narrower
                # one splits an item's own digits).
                readings.append(((unknown == test_items, ids.base or 0), ids, path, item_column, known))
    if not readings:
        return None
    _, ids, path, item_column, known = max(readings, key=lambda r: r[0])
    test_items = sorted(set(ids.items.tolist()))
    n_classes = int(ids.classes.max()) + 1
    features = _side_features([p for p in tables if p != path], item_column, set(known) | set(test_items))
    log.info("%s: each item's classes in %s (%d train items, %d test items, %d classes); a row per item and class, "
             "%d feature columns from the side tables", folder, path.relative_to(folder), len(known), len(test_items),
             n_classes, features.shape[1])
    return LabelSets(path, item_column, known, test_items, n_classes, ids, id_column, answer_column, features)
