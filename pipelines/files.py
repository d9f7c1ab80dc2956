"""Cheap statistics of the files a table's rows point to (images, audio, documents), as extra columns.

A first model on a competition whose rows reference files should not wait for a deep network:
file size, image size and shape, brightness and colour often carry signal, cost milliseconds per
file, and give trees something to split on.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}
STAT_NAMES = ["exists", "bytes", "width", "height", "aspect", "channels", "mean", "std", "red", "green", "blue"]


@lru_cache(maxsize=8)
def _index(data_dir: str) -> dict[str, str]:
    """Every file under the competition folder by its name, for values that give a bare file name."""
    found: dict[str, str] = {}
    for root, _, names in os.walk(data_dir):
        for name in names:
            found.setdefault(name, os.path.join(root, name))
    return found


def resolve(value: str, data_dir: Path) -> Path | None:
    """The file a cell names: a path relative to the competition folder, or a file name found anywhere below it."""
    if not isinstance(value, str) or not value:
        return None
    direct = Path(data_dir) / value
    if direct.is_file():
        return direct
    found = _index(str(data_dir)).get(Path(value).name)
    return Path(found) if found else None


@lru_cache(maxsize=200_000)
def _stats(path: str) -> tuple[float, ...]:
    size = float(os.path.getsize(path))
    width = height = channels = mean = std = red = green = blue = np.nan
    if Path(path).suffix.lower() in IMAGE_SUFFIXES:
        try:
            from PIL import Image

            with Image.open(path) as image:
                width, height = image.size
                channels = float(len(image.getbands()))
                image.draft("RGB", (64, 64))  # JPEG decoders shrink while decoding: fast
                pixels = np.asarray(image.convert("RGB").resize((32, 32)), dtype=np.float32) / 255.0
            mean, std = float(pixels.mean()), float(pixels.std())
            red, green, blue = (float(v) for v in pixels.reshape(-1, 3).mean(axis=0))
        except Exception:  # an unreadable image keeps its size only
            pass
    aspect = width / height if height and not np.isnan(height) else np.nan
    return (1.0, size, float(width), float(height), aspect, channels, mean, std, red, green, blue)


def file_statistics(values: pd.Series, data_dir: Path, name: str) -> pd.DataFrame:
    """One row of statistics per cell: whether the file exists, its size, and image facts for images."""
    rows = []
    for value in values:
        path = resolve(value, data_dir)
        rows.append(_stats(str(path)) if path is not None else (0.0,) + (np.nan,) * (len(STAT_NAMES) - 1))
    return pd.DataFrame(rows, columns=[f"{name}_{s}" for s in STAT_NAMES], index=values.index, dtype="float64")
