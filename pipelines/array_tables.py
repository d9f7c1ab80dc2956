"""Tables kept as NumPy arrays: a `.npy` of a row per example for train and for test, and train's labels in
a `.npy` of their own.

ml2021spring-hw2 ships `timit_11/timit_11/{train_11,test_11,train_label_11}.npy` (frames of 429 numbers,
phoneme labels as strings) beside a sample whose ids are test's row numbers. Read as tables, a column per
number, the rows harness and its recipes apply unchanged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

MAX_ARRAYS = 20  # more .npy files are one per item (a recording, a band stack), not tables
MAX_DEPTH = 3  # folder levels below the competition's searched


@dataclass
class ArrayTables:
    """The train, label and test arrays, and the sample's columns their tables are named by."""

    train: Path
    labels: Path
    test: Path
    sample: pd.DataFrame

    def spec_layer(self) -> dict[str, object]:
        return {}

    def train_table(self, seed: int = 0) -> pd.DataFrame:
        id_column, answer = self.sample.columns[:2]
        # numbered apart from test's rows, whose ids (the sample's) are often row numbers too
        array = np.load(self.train)
        frame = _table(array, id_column, -1 - np.arange(len(array)))
        frame[answer] = np.load(self.labels, allow_pickle=False).reshape(len(frame))
        return frame

    def test_table(self) -> pd.DataFrame:
        id_column = self.sample.columns[0]
        return _table(np.load(self.test), id_column, self.sample[id_column].to_numpy())


def _table(array: np.ndarray, id_column: str, ids: np.ndarray) -> pd.DataFrame:
    """The array as columns x0, x1, ... after the ids; one copy of the numbers, not one per column added."""
    flat = array.reshape(len(array), -1)
    frame = pd.DataFrame(flat, columns=[f"x{i}" for i in range(flat.shape[1])], copy=False)
    frame.insert(0, id_column, ids)
    return frame


def find_array_tables(folder: Path, sample: pd.DataFrame) -> ArrayTables | None:
    """The layout above: a test array with a row per sample row, a train array with rows of the same shape, and
    a 1-D array with a label per train row; None when the folder holds no such arrays."""
    if len(sample.columns) != 2 or sample.empty:
        return None
    paths = [p for p in sorted(folder.rglob("*.npy")) if len(p.relative_to(folder).parts) <= MAX_DEPTH + 1]
    if not paths or len(paths) > MAX_ARRAYS:
        return None
    shapes = {}
    for path in paths:
        try:
            shapes[path] = np.load(path, mmap_mode="r", allow_pickle=False).shape
        except (ValueError, OSError):
            continue
    named = {role: [p for p in shapes if re.search(role, p.stem, re.I)] for role in ("test", "train")}
    tests = [p for p in named["test"] if len(shapes[p]) > 1 and shapes[p][0] == len(sample)]
    for test in tests:
        trains = [p for p in named["train"] if shapes[p][1:] == shapes[test][1:] and p != test]
        for train in trains:
            labels = [p for p in shapes if p not in (train, test) and shapes[p] in ((shapes[train][0],),
                                                                                   (shapes[train][0], 1))]
            if labels:
                label = min(labels, key=lambda p: (not re.search(r"label|target|y$", p.stem, re.I), len(p.name)))
                log.info("%s: tables in arrays: %s (%d rows of %s), labels %s, test %s", folder, train.name,
                         shapes[train][0], shapes[train][1:], label.name, test.name)
                return ArrayTables(train, label, test, sample)
    return None
