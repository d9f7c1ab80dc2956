"""Answers that are boxes: per item (an image), `label confidence x_min y_min x_max y_max` repeated, as object
detection competitions ask for them (SIIM-COVID's opacities, VinBigData's findings).

Boxes are strings to the harness: a box solution keeps the string contract (`fit_predict(train, test, ctx)`
returns one string per test row, see pipelines.shapes.strings) and is scored by the competition's box metric
on held-out items. This module reads them: which column holds boxes, and a train that holds a row per box
(an item's id, a label and four corners) turned into a row per item with its boxes as one string, the shape
the sample asks for, the boxes several readers drew around one finding fused into one. A label whose every
box is the whole-image placeholder `0 0 1 1` says the item has no finding of that kind; it is a class of the
item, not a place.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.metrics.text import box_iou, parse_boxes
from pipelines.shapes.masks import image_shape

log = logging.getLogger(__name__)

BOX_METRICS = ("map_boxes_iou50", "map_boxes_iou40")
WHOLE_IMAGE = (0.0, 0.0, 1.0, 1.0)  # the placeholder box of a label that is no place (no finding)
BOX_SHARE = 0.95  # of a column's non-empty values that must read as boxes
SAMPLE_ROWS = 500
# Train's names for a box's corners: (x_min, y_min, x_max, y_max), or (x, y, width, height).
CORNER_NAMES = (("x_min", "y_min", "x_max", "y_max"), ("xmin", "ymin", "xmax", "ymax"), ("x1", "y1", "x2", "y2"),
                ("left", "top", "right", "bottom"))
SIZE_NAMES = (("x", "y", "width", "height"), ("x", "y", "w", "h"), ("left", "top", "width", "height"))

Box = tuple[str, float, float, float, float, float]


def parse(text: object) -> list[Box]:
    """The boxes of one answer ([] for an empty or missing one); ValueError when it is not boxes."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    return parse_boxes(str(text))


@dataclass(frozen=True)
class BoxClasses:
    """Labels with a place (their boxes are found) and labels of the whole image (no finding)."""

    placed: list[str]
    whole: list[str]

    @classmethod
    def of(cls, truth: list[list[Box]]) -> BoxClasses:
        labels = sorted({box[0] for boxes in truth for box in boxes})
        whole = [label for label in labels if all(box[2:] == WHOLE_IMAGE for boxes in truth for box in boxes
                                                   if box[0] == label)]
        return cls([label for label in labels if label not in whole], whole)


def item_sizes(paths: list[str]) -> np.ndarray:
    """(height, width) of each row's image, from its header; (1, 1) for a row naming none (siim's study rows
    name a folder), so its boxes stay in [0, 1]."""
    def size(path: str) -> tuple[int, int]:
        try:
            return image_shape(path) if path else (1, 1)
        except OSError:
            return 1, 1

    return np.array([size(p) for p in paths], dtype=float).reshape(-1, 2)


def written(boxes: list[Box]) -> str:
    """One answer as submissions write it, the whole-image box as `0 0 1 1`."""
    return " ".join(f"{label} {confidence:.4g} {x0:.5g} {y0:.5g} {x1:.5g} {y1:.5g}" if (x0, y0, x1, y1) != WHOLE_IMAGE
                    else f"{label} {confidence:.4g} 0 0 1 1" for label, confidence, x0, y0, x1, y1 in boxes)


def is_box_column(values: pd.Series, box_metric: bool = False) -> bool:
    """Whether a column's answers are boxes: nearly all non-empty values groups of six fields whose last five
    are numbers, a confidence in [0, 1] and corners in order, and some value a box that is not the whole-image
    placeholder or several boxes. Unless the metric scores boxes, some label must be a word or some corner a
    fraction: ranked ids (`12 3 45 ...`) and lists of class numbers read as six numbers too."""
    present = values.dropna().astype(str).str.strip()
    present = present[present != ""]
    if present.empty:
        return False
    sample = present.sample(min(len(present), SAMPLE_ROWS), random_state=0)
    read = []
    for value in sample:
        try:
            boxes = parse(value)
        except ValueError:
            continue
        if all(0 <= conf <= 1 and x1 >= x0 and y1 >= y0 for _, conf, x0, y0, x1, y1 in boxes):
            read.append(boxes)
    if len(read) < BOX_SHARE * len(sample):
        return False
    found = [box for boxes in read for box in boxes]
    if not box_metric and all(re.fullmatch(r"-?\d+", box[0]) and all(float(v).is_integer() for v in box[2:])
                              for box in found):
        return False
    return any(len(boxes) > 1 or boxes[0][2:] != WHOLE_IMAGE for boxes in read if boxes)


def _columns_named(columns: list[str], names: tuple[tuple[str, ...], ...]) -> tuple[str, ...] | None:
    lowered = {re.sub(r"[\s_]+", "_", str(c).strip().lower()): c for c in columns}
    for group in names:
        if all(n in lowered for n in group):
            return tuple(lowered[n] for n in group)
    return None


@dataclass
class BoxRows:
    """Train holds a row per box (VinBigData: image_id, class_name, class_id, rad_id, x_min, ..., y_max) where
    the sample asks for an item's boxes as one string; a box without corners is the whole-image placeholder."""

    item: str  # the sample's id column, repeated in train
    label: str  # train's column of box labels, the one the sample's placeholder names
    corners: tuple[str, str, str, str]
    sizes: bool  # the last two of `corners` are a width and a height
    answer: str  # the sample's answer column

    def spec_layer(self) -> dict[str, object]:
        return {"target_columns": [self.answer], "answer_shape": "boxes"}

    def strings(self, train: pd.DataFrame) -> pd.DataFrame:
        """A row per item, in order of first appearance: the item's boxes as one string (each at confidence
        1), the boxes of a label that overlap by half or more fused into their mean (readers boxing one finding:
        VinBigData has three per image, its answers one), beside the columns that hold one value per item."""
        x0, y0, a, b = (pd.to_numeric(train[c], errors="coerce") for c in self.corners)
        x1, y1 = (x0 + a, y0 + b) if self.sizes else (a, b)
        corners = np.c_[x0, y0, x1, y1]
        corners[np.isnan(corners).any(axis=1)] = WHOLE_IMAGE
        boxes = pd.DataFrame(corners, columns=["x0", "y0", "x1", "y1"], index=train.index).assign(
            item=train[self.item].to_numpy(), label=train[self.label].astype(str).to_numpy())
        texts: dict[object, list[str]] = {}
        for (item, label), group in boxes.groupby(["item", "label"], sort=False):
            texts.setdefault(item, []).extend(
                f"{label} 1 " + " ".join(f"{v:g}" for v in np.round(box, 2)) for box in fused(group.to_numpy()[:, :4]))
        answers = pd.Series({item: " ".join(parts) for item, parts in texts.items()})
        grouped = train.drop(columns=[self.label, *self.corners]).groupby(train[self.item], sort=False)
        constant = [c for c in grouped.obj.columns if c != self.item and (grouped[c].nunique(dropna=False) <= 1).all()]
        items = grouped[constant].first().reset_index() if constant else pd.DataFrame({self.item: answers.index})
        return items.assign(**{self.answer: answers.loc[items[self.item]].to_numpy()})


def fused(corners: np.ndarray, overlap: float = 0.5) -> list[np.ndarray]:
    """Boxes (n, 4: x_min, y_min, x_max, y_max) of one label in one image, each joined to the first group whose
    mean box it overlaps by `overlap` (IoU) or more; the groups' mean boxes."""
    groups: list[list[np.ndarray]] = []
    for box in corners.astype(float):
        for group in groups:
            if box_iou(np.mean(group, axis=0), box) >= overlap:
                group.append(box)
                break
        else:
            groups.append([box])
    return [np.mean(group, axis=0) for group in groups]


def labels_of(values: pd.Series) -> set[str]:
    """The labels of the boxes a column's first values hold (a sample's placeholder); empty unless all are boxes."""
    try:
        return {box[0] for value in values.dropna().head(SAMPLE_ROWS) for box in parse(value)}
    except ValueError:
        return set()


def box_rows(train: pd.DataFrame, test: pd.DataFrame, sample: pd.DataFrame) -> BoxRows | None:
    """The layout, when the sample's one answer column train lacks holds boxes, its ids repeat in train, and
    train has four corner (or position and size) columns and a label column holding the sample's labels."""
    answers = [c for c in sample.columns[1:] if c not in test.columns]
    item = sample.columns[0]
    if len(answers) != 1 or answers[0] in train.columns or item not in train.columns or train[item].is_unique:
        return None
    placeholder = labels_of(sample[answers[0]])
    if not placeholder:
        return None
    columns = [str(c) for c in train.columns]
    corners, sizes = _columns_named(columns, CORNER_NAMES), False
    if corners is None:
        corners, sizes = _columns_named(columns, SIZE_NAMES), True
    if corners is None:
        return None
    labels = [c for c in train.columns if c not in (item, *corners) and c not in test.columns
              and placeholder <= set(train[c].dropna().astype(str))]
    if not labels:
        return None
    log.info("train holds a row per box (%s, %s): read as a row per %r with its boxes as one string",
             labels[0], ", ".join(corners), item)
    return BoxRows(item, labels[0], corners, sizes, answers[0])
