"""Masks asked for per image and class, on a generated layout like uw-madison's: ids that spell a nested
path (`case3_day1_slice_0002` for `train/case3/case3_day1/scans/slice_0002_16_16.png`), a row per slice and
organ, row-major run-length strings under a description that says nothing of the order, one case's
scans of another size, and a metric scored per scan (Dice and a 3-D Hausdorff distance)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from agent.competition_files import find_files, load_tables
from agent.grading import grade_submission
from agent.understand import build_spec
from pipelines import rle
from pipelines.context import Context
from pipelines.files import FileCatalog, attach_file_paths
from pipelines.folds import clean_train, make_folds
from pipelines.shapes import masks

ORGANS = ("bright", "dark")


def scan(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A 16-bit slice and its organs: a bright disc on the left half, a dark bar on the right (or none)."""
    image = rng.normal(3000, 150, (height, width))
    rows, cols = np.mgrid[:height, :width]
    cy, cx, r = rng.uniform(5, height - 5), rng.uniform(4, width / 2 - 2), rng.uniform(2.5, 4)
    organs = {"bright": ((rows - cy) ** 2 + (cols - cx) ** 2 <= r * r).astype(np.uint8),
              "dark": np.zeros((height, width), dtype=np.uint8)}
    if rng.random() < 0.7:
        top = int(rng.integers(1, height - 7))
        organs["dark"][top:top + 6, width - 5:width - 2] = 1
    image = image + 4000.0 * organs["bright"] - 2500.0 * organs["dark"]
    return np.clip(image, 0, 65535).astype(np.uint16), organs


def slices_competition(folder: Path, order: str = "C") -> tuple[Path, pd.DataFrame]:
    """The public folder and the answers (id, class, predicted, image_height, image_width), in test order."""
    rng = np.random.default_rng(1)
    public = folder / "public"
    rows = []
    for case in range(1, 9):
        height, width = (16, 20) if case == 4 else (16, 16)
        split = "test" if case in (4, 7, 8) else "train"
        for s in range(1, 5):
            image, organs = scan(rng, height, width)
            path = public / split / f"case{case}" / f"case{case}_day2" / "scans" / f"slice_{s:04d}_{width}_{height}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(path)
            rows += [dict(id=f"case{case}_day2_slice_{s:04d}", split=split, image_height=height, image_width=width,
                          **{"class": organ, "segmentation": rle.encode(organs[organ], order)}) for organ in ORGANS]
    frame = pd.DataFrame(rows)
    train, test = frame[frame.split == "train"], frame[frame.split == "test"]
    train[["id", "class", "segmentation"]].to_csv(public / "train.csv", index=False)
    test[["id", "class"]].to_csv(public / "test.csv", index=False)
    test[["id", "class"]].assign(predicted="1 1 5 2").to_csv(public / "sample_submission.csv", index=False)
    answers = test.rename(columns={"segmentation": "predicted"})
    return public, answers[["id", "class", "predicted", "image_height", "image_width"]].reset_index(drop=True)


def prepared(public: Path, tmp_path: Path):
    files = find_files(public)
    train, test, sample = load_tables(files)
    catalog = FileCatalog(files.folder)
    spec = build_spec("slices", files, train, test, sample, [("flag", {"metric": "dice_hausdorff"})], catalog)
    train = clean_train(train, spec)
    train, test = attach_file_paths(train, test, spec.file_columns, catalog, tmp_path / "files")
    return spec, train, test


def test_ids_spelling_nested_paths_name_their_scans(tmp_path: Path) -> None:
    public, _ = slices_competition(tmp_path / "slices")
    catalog = FileCatalog(public)
    found = catalog.find("case3_day2_slice_0002", "train")
    assert found is not None and found.member == "train/case3/case3_day2/scans/slice_0002_16_16.png"
    assert catalog.find("case3_scans", "train") is None  # the words of four slices' paths: no one file
    assert catalog.find("case3_day2", "train").member == "train/case3/case3_day2"  # a folder: a row's files
    assert catalog.find("case9_day2_slice_0002", "train") is None


def test_rows_per_image_and_class_are_masks_read_as_they_sit_on_the_images(tmp_path: Path) -> None:
    public, _ = slices_competition(tmp_path / "slices")
    spec, train, test = prepared(public, tmp_path)
    assert spec.answer_shape == "mask" and spec.image_columns == ["id"] and spec.passthrough_columns == ["class"]
    assert spec.metric == "dice"  # the per-scan Hausdorff needs whole scans: folds are scored by its Dice part
    assert spec.mask_order == "C"  # the description says nothing, so "F"; the masks only fit their images in C
    assert spec.image_size == (16, 16) and spec.mixed_image_sizes
    y = masks.load_masks(train, spec)
    assert y.shape == (len(train), 16, 16)
    # the bright organ's pixels are bright in its image: masks and images line up
    X_train, X_test = masks.read_images(train, Context(spec=spec)), masks.read_images(test, Context(spec=spec))
    bright = (train["class"] == "bright").to_numpy()
    assert X_train[bright][:, 0][y[bright] == 1].mean() > X_train[bright][:, 0][y[bright] == 0].mean() + 2000
    assert X_test.shape == (len(test), 1, 16, 16)  # case 4's 16 x 20 scans resized to the common size

    # the network is told which organ a row asks for
    planes_train, planes_test = masks.with_row_categories(X_train, X_test, train, test, Context(spec=spec))
    assert planes_train.shape == (len(train), 3, 16, 16) and planes_test.shape == (len(test), 3, 16, 16)
    assert (planes_train[:, 1, 0, 0] == bright).all() and (planes_train[:, 2, 0, 0] == ~bright).all()

    folds = make_folds(train, spec, 5, seed=0)
    assert (pd.Series(folds).groupby(train["id"].to_numpy()).nunique() == 1).all()  # a slice's organs held out together
    assert (folds == 0).any() and (folds == -1).any()


def test_masks_are_written_at_each_images_own_size(tmp_path: Path) -> None:
    public, _ = slices_competition(tmp_path / "slices")
    spec, _, test = prepared(public, tmp_path)
    proba = np.zeros((len(test), 16, 16), dtype=np.float32)
    proba[:, 4:8, 4:8] = 0.9
    frame = masks.submission_frame(test["id"], proba, spec, {"cut": 0.5, "min_area": 0},
                                   masks.item_shapes(test, spec))
    wide = test["id"].str.startswith("case4_").to_numpy()
    decoded = rle.decode(frame["predicted"][np.flatnonzero(wide)[0]], (16, 20), "C")
    assert decoded.sum() == 4 * 5 and decoded[4:8, 5:10].all()  # the square, stretched to 20 columns
    assert rle.decode(frame["predicted"][np.flatnonzero(~wide)[0]], (16, 16), "C")[4:8, 4:8].all()


def test_the_pixel_order_is_the_one_under_which_masks_fit_their_images(tmp_path: Path) -> None:
    for order in ("C", "F"):
        public, _ = slices_competition(tmp_path / order, order)
        train = pd.read_csv(public / "train.csv", keep_default_na=False)
        catalog = FileCatalog(public)
        paths = [str(public / catalog.find(v, "train").member) for v in train["id"]]
        assert masks.order_from_images(list(train["segmentation"]), paths) == order


def test_a_perfect_submission_grades_one_with_scans_grouped_by_slice_id(tmp_path: Path) -> None:
    """MLE-bench matches these rows by order (an id repeats once per organ) and groups slices into scans."""
    public, answers = slices_competition(tmp_path / "slices" / "prepared")
    (public.parent / "private").mkdir()
    answers.to_csv(public.parent / "private" / "answers.csv", index=False)
    (tmp_path / "slices" / "competition.yaml").write_text("metric: dice_hausdorff\n")
    perfect = tmp_path / "perfect.csv"
    answers[["id", "class", "predicted"]].to_csv(perfect, index=False)
    assert grade_submission(tmp_path / "slices", perfect).score == pytest.approx(1.0)
    empty = tmp_path / "empty.csv"
    answers[["id", "class"]].assign(predicted="").to_csv(empty, index=False)
    assert grade_submission(tmp_path / "slices", empty).score < 0.5


def test_words_are_not_indexed_in_a_catalog_too_large_for_it(tmp_path: Path, monkeypatch) -> None:
    from pipelines import files

    public, _ = slices_competition(tmp_path / "slices")
    monkeypatch.setattr(files, "MAX_WORD_INDEXED", 10)
    assert FileCatalog(public).find("case3_day2_slice_0002", "train") is None
