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
from pipelines.compound_ids import compound_id_parts


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
