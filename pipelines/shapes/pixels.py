"""Image answers: a value per pixel of each test image, one submission row per `<image>_<row>_<col>`.

denoising-dirty-documents ships no tables but the sample submission: scanned pages in `train/`,
their cleaned versions under the same names in `train_cleaned/`, pages to clean in `test/`. Such a
layout is read by exploding every image into one row per pixel, with the grey levels around the
pixel and of its background as columns, so the rows harness, its folds (grouped by image: whole
images are held out) and its recipes apply unchanged, and the submission's `<image>_<row>_<col>`
rows come out of it. Training images give a uniform sample of their pixels; test images all of them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.image_files import DICOM_SUFFIXES, IMAGE_SUFFIXES

log = logging.getLogger(__name__)

PIXEL_ID = re.compile(r"^(.+)_(\d+)_(\d+)$")
PLAIN_IMAGE_SUFFIXES = IMAGE_SUFFIXES - set(DICOM_SUFFIXES)  # grey() opens them with PIL
RADIUS = 2  # pixels on each side whose grey levels become columns
BACKGROUND = 15  # side of the window whose median estimates the page's background
TRAIN_PIXELS_PER_IMAGE = 5000  # a uniform sample: neighbouring pixels tell much the same
IMAGE_COLUMN = "image"


@dataclass
class PixelPairs:
    """Training images with their target images under the same names, test images, and the sample's columns."""

    inputs: Path
    targets: Path
    test: Path
    id_column: str
    answer_column: str
    first_index: int  # the sample's first row and column number: 1 (Kaggle's) or 0

    def spec_layer(self) -> dict[str, object]:
        return {"group_column": IMAGE_COLUMN, "id_column": self.id_column, "target_columns": [self.answer_column],
                "task": "regression"}

    def train_table(self, seed: int = 0) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        frames = []
        for path in images_in(self.inputs):
            target = self.targets / path.name
            if target.exists():
                frames.append(self._rows(path, grey(target), rng))
        return pd.concat(frames, ignore_index=True)

    def test_table(self) -> pd.DataFrame:
        return pd.concat([self._rows(path) for path in images_in(self.test)], ignore_index=True)

    def _rows(self, path: Path, target: np.ndarray | None = None, rng: np.random.Generator | None = None) -> pd.DataFrame:
        image = grey(path)
        if target is not None and target.shape != image.shape:
            raise ValueError(f"{path.name}: its target image is {target.shape[::-1]}, the image {image.shape[::-1]}")
        rows, cols = np.indices(image.shape).reshape(2, -1)
        if rng is not None and len(rows) > TRAIN_PIXELS_PER_IMAGE:
            keep = np.sort(rng.choice(len(rows), TRAIN_PIXELS_PER_IMAGE, replace=False))
            rows, cols = rows[keep], cols[keep]
        frame = pixel_features(image, rows, cols)
        ids = [f"{path.stem}_{r + self.first_index}_{c + self.first_index}" for r, c in zip(rows, cols)]
        frame.insert(0, self.id_column, ids)
        frame.insert(1, IMAGE_COLUMN, path.stem)
        if target is not None:
            frame[self.answer_column] = target[rows, cols].astype(np.float64)
        return frame


def pixel_features(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> pd.DataFrame:
    """Per pixel: the grey levels of its (2·RADIUS+1)² neighbourhood, the background (a wide median)
    and the pixel against it, and where it lies in the image."""
    from scipy.ndimage import median_filter

    height, width = image.shape
    padded = np.pad(image, RADIUS, mode="edge")
    columns: dict[str, np.ndarray] = {}
    for dy in range(-RADIUS, RADIUS + 1):
        for dx in range(-RADIUS, RADIUS + 1):
            columns[f"grey_{dy:+d}_{dx:+d}"] = padded[rows + RADIUS + dy, cols + RADIUS + dx]
    background = median_filter(image, size=BACKGROUND, mode="nearest")
    columns["background"] = background[rows, cols]
    columns["against_background"] = image[rows, cols] - background[rows, cols]
    columns["row_share"], columns["col_share"] = rows / max(height - 1, 1), cols / max(width - 1, 1)
    return pd.DataFrame({k: v.astype(np.float32) for k, v in columns.items()})


def grey(path: Path) -> np.ndarray:
    """The image's grey levels in [0, 1]."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PLAIN_IMAGE_SUFFIXES)


def find_pixel_pairs(folder: Path, sample: pd.DataFrame) -> PixelPairs | None:
    """The layout above, when the sample's ids are `<image>_<row>_<col>` over the images of one folder
    and another pair of folders holds images under the same names (the inputs, and their targets:
    the folder whose name extends the other's, `train_cleaned` beside `train`)."""
    if len(sample.columns) != 2 or sample.empty:
        return None
    id_column, answer_column = sample.columns
    parsed = sample[id_column].astype(str).head(1000).str.extract(PIXEL_ID)
    if parsed.isna().any().any():
        return None
    folders = {p: {q.stem for q in images_in(p)} for p in folder.iterdir() if p.is_dir()}
    folders = {p: names for p, names in folders.items() if names}
    test = next((p for p, names in folders.items() if set(parsed[0]) <= names), None)
    for inputs in folders:
        for targets in folders:
            if inputs != targets != test and inputs != test and targets.name.startswith(inputs.name) \
                    and len(folders[targets] & folders[inputs]) >= 2:
                first = int(min(parsed[1].astype(int).min(), parsed[2].astype(int).min()))
                log.info("%s: images in %s/ with their targets in %s/, test images in %s/; a row per pixel",
                         folder, inputs.name, targets.name, test.name if test else "?")
                return PixelPairs(inputs, targets, test, id_column, answer_column, first) if test else None
    return None
