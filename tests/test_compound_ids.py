"""Ids joining an item and a part (`0011165.jpg_Fish`, `ID_12cadc6af_epidural`, `<study>_patient_overall`):
both become columns, so the item's file is found and the part is an input; a sample-only test of
`<study>_<column>` ids then names train's columns, and train is melted to match."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from agent.compete import prepare_run
from agent.config import Settings
from agent.run_folder import RunFolder
from pipelines import rle
from pipelines.compound_ids import compound_id_parts, with_compound_id_parts


@pytest.mark.parametrize("ids, items, parts", [
    (["0011165.jpg_Fish", "0011165.jpg_Sugar", "0011166.jpg_Fish", "0011166.jpg_Sugar"],
     ["0011165.jpg"] * 2 + ["0011166.jpg"] * 2, ["Fish", "Sugar"] * 2),
    (["ID_1a_epidural", "ID_1a_any", "ID_2b_epidural", "ID_2b_any"], ["ID_1a"] * 2 + ["ID_2b"] * 2,
     ["epidural", "any"] * 2),
    (["u1_C1", "u1_patient_overall", "u2_C1", "u2_patient_overall"], ["u1"] * 2 + ["u2"] * 2,
     ["C1", "patient_overall"] * 2),
    (["Test_0_grapheme_root", "Test_0_vowel_diacritic", "Test_1_grapheme_root", "Test_1_vowel_diacritic"],
     ["Test_0"] * 2 + ["Test_1"] * 2, ["grapheme_root", "vowel_diacritic"] * 2),
])
def test_an_id_is_split_after_its_longest_prefix_seen_with_several_endings(ids, items, parts) -> None:
    found = compound_id_parts(pd.Series(ids))
    assert found is not None and list(found[0]) == items and list(found[1]) == parts


def test_ids_tagged_with_the_kind_of_item_split_in_test_and_in_train() -> None:
    """siim-covid19-detection: the sample's `<study>_study` and `<image>_image` rows, train's `<image>_image`."""
    test = pd.DataFrame({"id": [f"s{i}_study" for i in range(3)] + [f"i{i}_image" for i in range(4)]})
    train = pd.DataFrame({"id": [f"i{i}_image" for i in range(10, 14)], "label": "none 1 0 0 1 1"})
    train, test = with_compound_id_parts(train, test, "id")
    assert list(test["id__item"]) == ["s0", "s1", "s2", "i0", "i1", "i2", "i3"]
    assert list(test["id__part"]) == ["study"] * 3 + ["image"] * 4
    assert list(train["id__item"]) == ["i10", "i11", "i12", "i13"] and set(train["id__part"]) == {"image"}
    assert compound_id_parts(pd.Series(["a_x", "b_y"] + [f"c{i}_x" for i in range(40)])) is None  # y too rare


@pytest.mark.parametrize("ids", [["0001_01", "0001_02", "0002_01"],  # a group and a number: a sequence
                                 ["a_b", "c_d", "e_f"],  # no item seen twice
                                 ["sample_a", "sample_b"],  # one item
                                 ["x", "y_z"]])
def test_other_ids_are_left_alone(ids) -> None:
    assert compound_id_parts(pd.Series(ids)) is None


def test_image_and_class_ids_are_masks_of_the_named_image_per_class(tmp_path: Path) -> None:
    """Understanding Clouds: train.csv `Image_Label` (`<image>.jpg_<cloud>`), `EncodedPixels`; the sample alike."""
    rng = np.random.default_rng(0)
    public = tmp_path / "clouds"
    rows = []
    for i in range(40):
        image = rng.integers(0, 60, (12, 12, 3))
        split = "train_images" if i < 30 else "test_images"
        for kind, (top, left) in (("Fish", (1, 1)), ("Sugar", (6, 6))):
            mask = np.zeros((12, 12), dtype=np.uint8)
            if rng.random() < 0.6:
                mask[top:top + 4, left:left + 4] = 1
                image[mask == 1] += 150
            rows.append((f"{i:07d}.jpg_{kind}", rle.encode(mask) if mask.any() else "", split))
        (public / split).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.astype(np.uint8)).save(public / split / f"{i:07d}.jpg", quality=95)
    frame = pd.DataFrame(rows, columns=["Image_Label", "EncodedPixels", "split"])
    frame[frame.split == "train_images"].drop(columns="split").to_csv(public / "train.csv", index=False)
    frame[frame.split == "test_images"][["Image_Label"]].assign(EncodedPixels="1 1").to_csv(
        public / "sample_submission.csv", index=False)
    data = prepare_run(public, "clouds", RunFolder(tmp_path / "run"), Settings(competitions_root=tmp_path / "c"), {})
    spec = data.spec
    assert spec.answer_shape == "mask" and spec.image_columns == ["Image_Label__item"]
    assert "Image_Label__part" in spec.categorical_columns and spec.id_column == "Image_Label"
    assert data.train["Image_Label__item__path"].str.contains("/train_images/").all()
    assert data.test["Image_Label__item__path"].str.contains("/test_images/").all()
    assert (pd.Series(data.folds).groupby(data.train["Image_Label__item"].to_numpy()).nunique() == 1).all()


def test_a_sample_of_study_and_column_ids_melts_a_wide_train(tmp_path: Path) -> None:
    """rsna-2022-cervical without its test.csv: train a row per study and a column per vertebra, the sample
    `<study>_C1`, ..., `<study>_patient_overall`."""
    rng = np.random.default_rng(0)
    public = tmp_path / "spine"
    public.mkdir()
    uids = [f"1.2.826.0.1.3680043.{v}" for v in rng.choice(10**6, 120, replace=False)]
    broken = (rng.random((120, 2)) < 0.2).astype(int)
    pd.DataFrame({"StudyInstanceUID": uids[:100], "C1": broken[:100, 0], "C2": broken[:100, 1],
                  "patient_overall": broken[:100].max(axis=1)}).to_csv(public / "train.csv", index=False)
    pd.DataFrame({"row_id": [f"{u}_{c}" for u in uids[100:] for c in ("C1", "C2", "patient_overall")],
                  "fractured": 0.5}).to_csv(public / "sample_submission.csv", index=False)
    data = prepare_run(public, "spine", RunFolder(tmp_path / "run"), Settings(competitions_root=tmp_path / "c"), {})
    assert len(data.train) == 300 and data.spec.target_columns == ["fractured"]
    assert data.spec.group_column == "row_id__item" and "row_id__part" in data.spec.categorical_columns
    first = data.train[data.train["row_id__item"] == uids[0]].set_index("row_id__part")["fractured"]
    assert first.to_dict() == {"C1": broken[0, 0], "C2": broken[0, 1], "patient_overall": broken[0].max()}
    assert (pd.Series(data.folds).groupby(data.train["row_id__item"].to_numpy()).nunique() == 1).all()


def test_rows_of_a_part_train_never_has_keep_the_sample_answers(tmp_path: Path) -> None:
    """siim-covid19-detection: train_image_level.csv has `<image>_image` rows with boxes (its `boxes` column
    the same as dicts); the sample asks for those of the test images and `<study>_study` rows besides, which
    no train row teaches, in one PredictionString column; images sit in test/<study>/<series>/<image>.png."""
    from agent.engineers.builtin import recipe_code
    from pipelines.context import Context
    from pipelines.harness import cross_validate, load_solution
    from pipelines.submission import write_submission

    rng = np.random.default_rng(0)
    public, rows, sample = tmp_path / "siim", [], []
    for i in range(60):
        study, image, split = f"s{i:03d}", f"im{i:03d}", "train" if i < 45 else "test"
        sick = rng.random() < 0.5
        (folder := public / split / study / "series1").mkdir(parents=True)
        Image.fromarray((rng.integers(0, 60, (16, 16)) + 150 * sick).astype(np.uint8)).save(folder / f"{image}.png")
        label = f"opacity 1 {rng.integers(1, 4)} 2 {rng.integers(8, 12)} 14" if sick else "none 1 0 0 1 1"
        if split == "train":
            rows.append({"id": f"{image}_image", "boxes": "[{'x': 2}]" if sick else "", "label": label,
                         "StudyInstanceUID": study})
        else:
            sample += [{"id": f"{study}_study", "PredictionString": "negative 1 0 0 1 1"},
                       {"id": f"{image}_image", "PredictionString": "none 1 0 0 1 1"}]
    pd.DataFrame(rows).to_csv(public / "train_image_level.csv", index=False)
    pd.DataFrame(sample).to_csv(public / "sample_submission.csv", index=False)
    data = prepare_run(public, "siim", RunFolder(tmp_path / "run"), Settings(competitions_root=tmp_path / "c"), {})
    spec = data.spec
    assert spec.answer_shape == "boxes" and spec.target_columns == ["label"] and spec.placeholder_parts == ["study"]
    assert spec.image_columns == ["id__item"] and list(data.train["id__part"].unique()) == ["image"]
    (tmp_path / "box_priors.py").write_text(recipe_code("box_priors"))  # test's study rows name folders, no image
    result = cross_validate(load_solution(tmp_path / "box_priors.py"), data.train, data.test, data.folds,
                            Context(spec=spec, seed=0, n_jobs=1, workdir=tmp_path))
    predicted = pd.DataFrame({"id": data.test["id"], "PredictionString": result.test})
    write_submission(predicted, data.sample, spec, tmp_path / "submission.csv")
    written = pd.read_csv(tmp_path / "submission.csv")
    studies = written["id"].str.endswith("_study")
    assert (written.loc[studies, "PredictionString"] == "negative 1 0 0 1 1").all()
    assert written.loc[~studies, "PredictionString"].str.contains("opacity").all()
