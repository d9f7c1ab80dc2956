"""Train and test tables from COCO-style metadata, which image competitions ship instead of a train table.

Herbarium, iNaturalist and iWildCam describe their images in JSON: `images` (id, file_name, size,
location, time...), `annotations` (image_id, category_id) and `categories`, the test file holding
`images` only (or a bare list of them). Joined, they are an ordinary table of rows with a file
column and a class, so the rows harness, the image recipes and the grader need nothing new.
Other JSON files keyed by the same image ids (iWildCam's detector results) add their facts as columns.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

PROBE_BYTES = 1 << 20  # a COCO file names its keys within its first megabyte
COCO_KEYS = (b'"image_id"', b'"images"', b'"file_name"')
MAX_JSON_PER_FOLDER = 5  # more JSON files side by side are one per item (notebooks, documents), not metadata
MAX_DEPTH = 2
ID_KEYS = ("id", "image_id")
SAMPLE_CHECKED = 20


@dataclass
class CocoLayout:
    """The joined tables; `spec_layer` adds nothing, as the rows read like any table with a file column."""

    train: pd.DataFrame
    test: pd.DataFrame

    def spec_layer(self) -> dict[str, Any]:
        return {}

    def train_table(self, seed: int = 0) -> pd.DataFrame:
        return self.train

    def test_table(self) -> pd.DataFrame:
        return self.test


@dataclass
class _Images:
    path: Path
    records: list[dict[str, Any]]
    id_key: str
    labels: dict[str, Any] | None  # image id (as text) -> category, for a file with annotations


def find_coco_tables(folder: Path, sample: pd.DataFrame) -> CocoLayout | None:
    """The train and test tables of a folder whose JSON holds annotated images and the sample's test images.

    Train rows are the annotated images of every file that has them (iNaturalist's train and val); test rows
    are the images of the unannotated file that lists the sample's ids. None when the folder is not so."""
    if sample.shape[1] < 2:
        return None
    loaded = {path: content for path in _candidate_files(folder) if (content := _load(path)) is not None}
    image_lists = [found for path, content in loaded.items() if (found := _images(path, content)) is not None]
    annotated = [i for i in image_lists if i.labels]
    if not annotated:
        return None
    wanted = set(sample.iloc[:, 0].astype(str))

    def listed(images: _Images) -> int:
        return len(wanted & {str(r.get(images.id_key)) for r in images.records})

    test = max((i for i in image_lists if i.labels is None and _has_files(i)), key=listed, default=None)
    if test is None or listed(test) < 0.9 * len(wanted):
        return None
    id_column, target = sample.columns[0], sample.columns[1]
    train = pd.concat([_table(i, folder, id_column) for i in annotated], ignore_index=True)
    train[target] = [i.labels.get(str(r.get(i.id_key))) for i in annotated for r in i.records]
    train = train[train[target].notna()].reset_index(drop=True)
    test_table = _table(test, folder, id_column)
    test_table[id_column] = _like(test_table[id_column], sample[id_column])
    test_table = test_table[test_table[id_column].astype(str).isin(wanted)].reset_index(drop=True)
    train, test_table = _with_side_facts(image_lists, train, test_table, id_column)
    log.info("%s: train rows are the images annotated in %s, test rows those of %s", folder,
             ", ".join(str(i.path.relative_to(folder)) for i in annotated), test.path.relative_to(folder))
    return CocoLayout(train, test_table)


def _candidate_files(folder: Path) -> list[Path]:
    found = []
    for depth in range(MAX_DEPTH + 1):
        pattern = "/".join(["*"] * depth + ["*.json"])
        by_parent: dict[Path, list[Path]] = {}
        for path in folder.glob(pattern):
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts):
                by_parent.setdefault(path.parent, []).append(path)
        found += [p for paths in by_parent.values() if len(paths) <= MAX_JSON_PER_FOLDER for p in sorted(paths)]
    return found


def _load(path: Path) -> Any:
    try:
        with path.open("rb") as opened:
            head = opened.read(PROBE_BYTES)
        if not any(key in head for key in COCO_KEYS):
            return None
        with path.open(encoding="utf-8", errors="replace") as opened:  # herbarium-2020's is not all UTF-8
            return json.load(opened)
    except (OSError, ValueError) as exc:
        log.debug("%s: not read as image metadata (%s)", path, exc)
        return None


def _images(path: Path, content: Any) -> _Images | None:
    """The image records of a file (its `images`, or the file itself when it is a list of them), with their
    categories when it has `annotations`."""
    records = content.get("images") if isinstance(content, dict) else content
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records[:100]):
        return None
    id_key = next((k for k in ID_KEYS if k in records[0]), None)
    if id_key is None:
        return None
    labels = None
    annotations = content.get("annotations") if isinstance(content, dict) else None
    if isinstance(annotations, list) and annotations and isinstance(annotations[0], dict) \
            and {"image_id", "category_id"} <= annotations[0].keys():
        by_image: dict[str, Counter] = {}
        for note in annotations:
            by_image.setdefault(str(note.get("image_id")), Counter())[note.get("category_id")] += 1
        labels = {image: counts.most_common(1)[0][0] for image, counts in by_image.items()}
    return _Images(path, records, id_key, labels)


def _has_files(images: _Images) -> bool:
    return "file_name" in images.records[0]


def _table(images: _Images, folder: Path, id_column: str) -> pd.DataFrame:
    """The records' plain fields, the image id named as the sample names it, file names relative to `folder`."""
    frame = pd.DataFrame([{k: v for k, v in r.items() if not isinstance(v, (dict, list))} for r in images.records])
    frame = frame.rename(columns={images.id_key: id_column})
    if "file_name" in frame.columns:
        frame["file_name"] = _relative_paths(frame["file_name"].astype(str), images.path.parent, folder)
    return frame


def _relative_paths(names: pd.Series, beside: Path, folder: Path) -> pd.Series:
    """File names as paths from `folder`: they may be relative to the JSON's folder, to `folder`, or to a
    folder within either (herbarium-2022's `train_images/`); the first root under which they exist wins."""
    roots = [beside, folder, *sorted(p for base in {beside, folder} for p in base.iterdir() if p.is_dir())]
    probe = names.head(SAMPLE_CHECKED)
    for root in roots:
        if all((root / name).is_file() for name in probe):
            prefix = PurePosixPath(root.relative_to(folder).as_posix()) if root != folder else None
            return names.map(lambda n: str(prefix / n) if prefix else n)
    return names  # left for the file catalog to find by name (images inside archives)


def _with_side_facts(image_lists: list[_Images], train: pd.DataFrame, test: pd.DataFrame,
                     id_column: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test with the facts other files give per image id (a detector's confidence, its box count)."""
    for side in image_lists:
        if side.labels is not None or _has_files(side):
            continue
        facts = pd.DataFrame([{k: (len(v) if isinstance(v, list) else v) for k, v in r.items()
                               if not isinstance(v, dict)} for r in side.records])
        facts = facts.rename(columns={k: f"{k}_count" for k, v in side.records[0].items() if isinstance(v, list)})
        facts = facts.rename(columns={side.id_key: id_column}).drop_duplicates(id_column)
        facts = facts.drop(columns=[c for c in facts.columns if c != id_column and c in train.columns])
        keys = facts[id_column].astype(str)
        if not (set(train[id_column].astype(str)) & set(keys)) or facts.shape[1] < 2:
            continue
        facts = facts.set_index(keys)
        log.info("%s: %s joined by image id", side.path.name, ", ".join(facts.columns[1:]))
        for frame in (train, test):
            ids = frame[id_column].astype(str)
            for column in facts.columns.drop(id_column):
                frame[column] = ids.map(facts[column]).to_numpy()
    return train, test


def _like(values: pd.Series, model: pd.Series) -> pd.Series:
    """`values` in the dtype of the sample's ids (herbarium's test ids are text, its sample's numbers)."""
    try:
        return values.astype(model.dtype)
    except (TypeError, ValueError):
        return values
