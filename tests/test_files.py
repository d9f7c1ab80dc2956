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


def test_a_table_of_its_own_per_row_gives_statistics_of_each_signal(tmp_path: Path) -> None:
    """predict-volcanic-eruptions: `train/<segment_id>.csv` holds each row's sensor readings. The
    competition's own tables at the top are no row's file; the ones below are."""
    (tmp_path / "train").mkdir()
    pd.DataFrame({"segment_id": [11, 12], "time_to_eruption": [5, 9]}).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"sensor_1": [1.0, 3.0, np.nan, 5.0], "sensor_2": [np.nan] * 4}).to_csv(tmp_path / "train" / "11.csv", index=False)
    pd.DataFrame({"sensor_1": [0.0, 0.0, 0.0, 0.0], "sensor_3": [2.0, 4.0, 6.0, 8.0]}).to_csv(tmp_path / "train" / "12.csv", index=False)
    catalog = FileCatalog(tmp_path)
    assert catalog.find("train") is None and catalog.share_found(pd.Series([11, 12])) == 1.0
    stats = file_statistics(resolve_column(pd.Series([11, 12, 13]), catalog, tmp_path / "cache", "train"), "seg")
    first, second, missing = stats.iloc[0], stats.iloc[1], stats.iloc[2]
    assert first["seg_sensor_1_mean"] == 3.0 and first["seg_sensor_1_missing"] == 0.25 and first["seg_sensor_2_missing"] == 1.0
    assert first["seg_sensor_1_step_std"] == 0.0 and first["seg_sensor_1_max"] == 5.0
    assert second["seg_sensor_1_std"] == 0.0 and second["seg_sensor_3_min"] == 2.0 and np.isnan(first["seg_sensor_3_mean"])
    assert missing["seg_exists"] == 0 and np.isnan(missing["seg_sensor_1_mean"])
