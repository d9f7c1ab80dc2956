"""Items that are folders of NumPy arrays answered by a mask each (contrails' band records): read as a mask
competition whose images are the folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from agent.competition_files import find_files, load_tables
from agent.understand import build_spec
from pipelines import rle
from pipelines.array_records import ArrayRecords
from pipelines.files import FileCatalog
from pipelines.image_files import read_array_record
from tests.test_shapes import compete, with_answers

SIDE, FRAMES = 16, 6


def record(rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Two bands of FRAMES frames in kelvin; a thin line, present in the middle frame only, is colder in the
    second band than in the first (the mask marks it). A third of the records have none."""
    mask = np.zeros((SIDE, SIDE), dtype=np.int32)
    if rng.random() > 1 / 3:
        row = int(rng.integers(2, SIDE - 2))
        mask[row:row + 2, int(rng.integers(0, 4)):int(rng.integers(10, SIDE))] = 1
    bands = {}
    for name, cooling in (("band_11", 1.0), ("band_14", 6.0)):
        values = 260 + rng.normal(0, 1.0, (SIDE, SIDE, FRAMES))
        values[:, :, FRAMES // 2] -= cooling * mask
        bands[name] = values.astype(np.float32)
    return bands, mask


def records_layout(folder: Path, n_train: int = 60, n_validation: int = 20, n_test: int = 20) -> pd.DataFrame:
    """contrails' files in small: train/<id>/ (bands, the pixel mask (H, W, 1) and the labellers' masks),
    validation/<id>/ (bands and pixel mask), test/<id>/ (bands), metadata JSON for train; returns the answers."""
    rng = np.random.default_rng(0)
    public = folder / "public"
    answers, metadata = [], []
    for i in range(n_train + n_validation + n_test):
        record_id = str(10 ** 17 + int(rng.integers(0, 10 ** 17)))
        part = "train" if i < n_train else "validation" if i < n_train + n_validation else "test"
        where = public / part / record_id
        where.mkdir(parents=True)
        bands, mask = record(rng)
        for name, values in bands.items():
            np.save(where / f"{name}.npy", values)
        if part == "train":
            np.save(where / "human_individual_masks.npy", np.stack([mask] * 3, axis=-1)[:, :, None, :])
            metadata.append({"record_id": record_id, "row_min": float(rng.normal()), "timestamp": 1.5e9 + i})
        if part != "test":
            np.save(where / "human_pixel_masks.npy", mask[:, :, None])
        else:
            answers.append({"record_id": record_id, "encoded_pixels": rle.encode(mask) or "-", "height": SIDE,
                            "width": SIDE})
    (public / "train_metadata.json").write_text(json.dumps(metadata))
    frame = pd.DataFrame(answers)
    frame.assign(encoded_pixels=["1 3 10 5", "-"] * (n_test // 2)).to_csv(public / "sample_submission.csv",
                                                                          index=False)
    return frame


def test_record_folders_are_the_images_and_their_mask_arrays_the_answers(tmp_path: Path) -> None:
    records_layout(tmp_path / "records")
    files = find_files(tmp_path / "records" / "public")
    assert isinstance(files.layout, ArrayRecords) and files.layout.mask_name == "human_pixel_masks.npy"
    train, test, sample = load_tables(files)
    assert len(train) == 80 and list(test["record_id"]) == list(sample["record_id"])
    first = files.folder / "validation" / str(train["record_id"].iloc[70])
    mask = np.load(first / "human_pixel_masks.npy")[:, :, 0]
    assert (rle.decode(train["encoded_pixels"].iloc[70], (SIDE, SIDE)) == mask).all()

    image = read_array_record(first)  # a channel per band, its middle frame; the masks are no input
    assert image.shape == (SIDE, SIDE, 2) and image.dtype == np.float32
    assert np.array_equal(image[:, :, 1], np.load(first / "band_14.npy")[:, :, FRAMES // 2])

    spec = build_spec("records", files, train, test, sample, [("layout", files.layout.spec_layer())],
                      FileCatalog(files.folder))
    assert (spec.answer_shape, spec.image_columns, spec.image_size) == ("mask", ["record_id"], (SIDE, SIDE))
    assert spec.submission_columns == ["encoded_pixels"] and spec.passthrough_columns == ["height", "width"]
    assert spec.empty_mask == "-"  # a blank cell reads back as a missing value, which the grader rejects


def test_compete_on_record_folders_finds_the_masks(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "records", records_layout(tmp_path / "records"), "dice_global")
    data, report = compete(folder, tmp_path / "run", budget=40, max_nodes=2)
    assert data.spec.answer_shape == "mask"
    submission = pd.read_csv(tmp_path / "run" / "submission.csv", keep_default_na=False)
    assert "" not in set(submission["encoded_pixels"]) and "-" in set(submission["encoded_pixels"])
    assert report.score > 0.3, report  # empty masks score 0


def test_a_record_is_an_image_to_the_image_network_too(tmp_path: Path) -> None:
    """A rows competition whose items are records reads them through load_images as the CNN does: windowed
    to 8 bits, not left black as an unreadable file."""
    from pipelines.image_files import load_images

    records_layout(tmp_path / "records", n_train=2, n_validation=0, n_test=2)
    record_path = next((tmp_path / "records" / "public" / "train").iterdir())
    pixels, unreadable = load_images([str(record_path)], 8, 3, 1)
    assert unreadable == 0 and pixels.shape == (1, 3, 8, 8) and pixels.std() > 0
    grey, _ = load_images([str(record_path)], 8, 1, 1)
    assert grey.shape == (1, 1, 8, 8) and grey.std() > 0
