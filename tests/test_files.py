"""Statistics of the files rows point to, on real small images written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from pipelines.files import FileCatalog, file_statistics, resolve_column


def test_image_statistics_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "train_images").mkdir()
    Image.new("RGB", (40, 20), (255, 0, 0)).save(tmp_path / "train_images" / "red.png")
    Image.fromarray(np.zeros((10, 10), dtype=np.uint8)).save(tmp_path / "dark.jpg")
    (tmp_path / "notes.txt").write_text("hello")
    cells = pd.Series(["red.png", "dark.jpg", "notes.txt", "gone.png", None], index=[5, 6, 7, 8, 9])
    paths = resolve_column(cells, FileCatalog(tmp_path), tmp_path / "cache", "train")
    assert paths[5] == str((tmp_path / "train_images" / "red.png").resolve())  # bare names are found below
    assert paths[8] == paths[9] == ""
    stats = file_statistics(paths, "img")
    assert list(stats.index) == [5, 6, 7, 8, 9] and stats.shape[1] == 11
    red, dark, text, gone = (stats.loc[i] for i in (5, 6, 7, 8))
    assert red["img_width"] == 40 and red["img_height"] == 20 and red["img_aspect"] == 2.0
    assert red["img_red"] > 0.99 and red["img_green"] < 0.01
    assert dark["img_mean"] < 0.01 and dark["img_channels"] == 1
    assert text["img_exists"] == 1 and text["img_bytes"] == 5 and np.isnan(text["img_width"])
    assert gone["img_exists"] == 0 and stats.loc[9, "img_exists"] == 0
