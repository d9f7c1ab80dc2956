"""Statistics of the files rows point to, on real small images written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pipelines.files import FileCatalog, file_statistics, labelled_files, resolve_column


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


def test_many_files_are_read_by_several_processes_into_the_same_rows(tmp_path: Path, monkeypatch) -> None:
    from pipelines import files

    rng = np.random.default_rng(0)
    for i in range(30):
        Image.fromarray(rng.integers(0, 255, (8 + i, 8, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    paths = pd.Series([str(tmp_path / f"{i}.png") for i in range(30)] + [""], index=range(100, 131))
    alone = file_statistics(paths, "img")
    monkeypatch.setattr(files, "PARALLEL_FILES", 10)
    monkeypatch.setattr(files, "FILES_PER_TASK", 4)
    files._stats.cache_clear()
    shared = file_statistics(paths, "img", n_jobs=2)
    pd.testing.assert_frame_equal(shared, alone)
    assert list(shared["img_height"].iloc[:3]) == [8, 9, 10]


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


def _tone(seconds: float, rate: int, hertz: float) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * hertz * np.arange(int(seconds * rate)) / rate)


def test_sound_files_give_their_spectrum_in_bands(tmp_path: Path) -> None:
    """The same 300 Hz tone as 16-bit WAV and AIFF (written by the standard library's own encoders):
    same duration, same band energies, the loudest band the one holding 300 Hz."""
    import warnings
    import wave

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        aifc = pytest.importorskip("aifc")
    samples = (_tone(2.0, 2000, 300.0) * 32767).astype(np.int16)
    with wave.open(str(tmp_path / "a.wav"), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(2000)
        out.writeframes(samples.astype("<i2").tobytes())
    with aifc.open(str(tmp_path / "a.aif"), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(2000)
        out.writeframes(samples.astype(">i2").tobytes())
    (tmp_path / "broken.aif").write_bytes(b"FORM....AIFF")
    paths = pd.Series([str(tmp_path / n) for n in ("a.wav", "a.aif", "broken.aif")])
    stats = file_statistics(paths, "clip")
    wav, aif, broken = stats.iloc[0], stats.iloc[1], stats.iloc[2]
    assert wav["clip_seconds"] == aif["clip_seconds"] == 2.0
    assert np.allclose(wav.filter(like="band"), aif.filter(like="band"))
    peaks = wav.filter(like="_peak")
    tone_bin = round(300 / 1000 * 128)  # 256-sample frames: 129 bins from 0 to 1000 Hz, split into 24 bands
    band = next(k for k, bins in enumerate(np.array_split(np.arange(129), 24)) if tone_bin in bins)
    assert peaks.index[peaks.argmax()] == f"clip_band{band:02d}_peak"
    assert broken["clip_exists"] == 1 and np.isnan(broken["clip_band00_mean"])


def test_labels_at_the_end_of_file_names_in_a_second_stage_folder(tmp_path: Path) -> None:
    """right-whale-redux: no train table; `train2/<date>_<time>_TRAIN<i>_<label>.aif`, test clips in `test2/`."""
    for folder in ("train2", "test2"):
        (tmp_path / folder).mkdir()
    for i in range(20):
        (tmp_path / "train2" / f"20090328_0000{i:02d}_TRAIN{i}_{i % 3 == 0:d}.aif").write_bytes(b"")
        (tmp_path / "test2" / f"20090330_0000{i:02d}_Test{i}.aif").write_bytes(b"")
    labels = labelled_files(FileCatalog(tmp_path))
    assert labels is not None and len(labels) == 20 and all(p.startswith("train2/") for p in labels.index)
    assert labels["train2/20090328_000003_TRAIN3_1.aif"] == "1" and sorted(labels.unique()) == ["0", "1"]


def test_saved_arrays_give_statistics_of_each_slice(tmp_path: Path) -> None:
    """seti's cadences: six panels of (time, frequency) in `train/<c>/<id>.npy`; a needle lights some panels."""
    rng = np.random.default_rng(0)
    quiet, needle = rng.normal(0, 1, (6, 8, 10)), rng.normal(0, 1, (6, 8, 10))
    needle[[0, 2, 4], :, 3] += 9.0
    (tmp_path / "train" / "a").mkdir(parents=True)
    np.save(tmp_path / "train" / "a" / "aq.npy", quiet.astype(np.float16))
    np.save(tmp_path / "train" / "a" / "an.npy", needle.astype(np.float16))
    np.savez(tmp_path / "train" / "a" / "az.npz", needle[0])
    paths = resolve_column(pd.Series(["aq", "an", "az"]), FileCatalog(tmp_path), tmp_path / "cache", "train")
    stats = file_statistics(paths, "f")
    assert stats.loc[1, "f_array_s0_max"] > 8 > stats.loc[0, "f_array_s0_max"]  # the needle's panel
    assert stats.loc[1, "f_array_s1_max"] < 8  # an off panel
    assert stats.loc[2, "f_array_all_max"] > 8  # an .npz's first array, its 8 rows as slices
    assert np.isnan(stats.loc[0, "f_array_s7_max"]) and not np.isnan(stats.loc[2, "f_array_s7_max"])


def test_files_inside_a_tar_archive_are_found_and_extracted_safely(tmp_path: Path) -> None:
    """iNaturalist ships its images as `train_val2019.tar.gz`; a hostile archive's links and '..' stay out."""
    import io
    import tarfile

    folder, outside = tmp_path / "comp", tmp_path / "evil.txt"
    folder.mkdir()
    with tarfile.open(folder / "train_val2019.tar.gz", "w:gz") as archive:
        for name, data in (("train_val2019/Plants/4/a1.jpg", b"one"), ("train_val2019/Plants/5/b2.jpg", b"two"),
                           ("../evil.txt", b"escaped")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("train_val2019/secret.jpg")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    catalog = FileCatalog(folder)
    assert {e.member for e in catalog.entries} == {"train_val2019/Plants/4/a1.jpg", "train_val2019/Plants/5/b2.jpg",
                                                  "../evil.txt"}
    paths = resolve_column(pd.Series(["train_val2019/Plants/5/b2.jpg", "a1.jpg", "secret.jpg"]), catalog,
                           tmp_path / "cache", "train")
    assert Path(paths[0]).read_bytes() == b"two" and Path(paths[1]).read_bytes() == b"one" and paths[2] == ""
    assert not outside.exists() and not any(p.is_symlink() for p in (tmp_path / "cache").rglob("*"))


def test_an_id_naming_an_image_and_its_annotations_names_the_image(tmp_path: Path) -> None:
    """hubmap-kidney-segmentation: `train/<id>.tiff` beside `<id>.json` and `<id>-anatomical-structure.json`."""
    (tmp_path / "train").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "train" / "2f6ecfcdf.tiff")
    for name in ("2f6ecfcdf.json", "2f6ecfcdf-anatomical-structure.json"):
        (tmp_path / "train" / name).write_text("[]")
    paths = resolve_column(pd.Series(["2f6ecfcdf"]), FileCatalog(tmp_path), tmp_path / "cache", "train")
    assert Path(paths[0]).name == "2f6ecfcdf.tiff"


def test_files_inside_a_7z_archive_are_found_and_extracted(tmp_path: Path) -> None:
    """invasive-species-monitoring ships `train.7z` (train/<n>.jpg) beside the zipped label table."""
    import py7zr

    folder = tmp_path / "comp"
    folder.mkdir()
    with py7zr.SevenZipFile(folder / "train.7z", "w") as archive:
        archive.writestr(b"one", "train/1.jpg")
        archive.writestr(b"two", "train/2.jpg")
    catalog = FileCatalog(folder)
    assert {e.member for e in catalog.entries} == {"train/1.jpg", "train/2.jpg"}
    paths = resolve_column(pd.Series([1, 3]), catalog, tmp_path / "cache", "train")
    assert Path(paths[0]).read_bytes() == b"one" and paths[1] == ""
