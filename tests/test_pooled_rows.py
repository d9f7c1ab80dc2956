"""A test table with several rows per answer (rsna-breast-cancer: a row per mammogram, an answer per
breast, `prediction_id` = `<patient>_<laterality>`): each row is predicted, and the submission answers each
id with the mean of its rows' predictions. The images are named by a whole-number `image_id` column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from agent.compete import prepare_run
from agent.config import Settings
from agent.run_folder import RunFolder
from pipelines.submission import pooled, write_submission


def breasts(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for patient in rng.choice(10**5, 60, replace=False):
        for side in "LR":
            cancer = int(rng.random() < 0.3)
            for view in ("CC", "MLO"):
                image_id = int(rng.integers(10**8, 10**9))
                split = "train" if len(rows) < 160 else "test"
                pixels = rng.integers(0, 80, (16, 16)) + 150 * cancer * (rng.random((16, 16)) < 0.2)
                (home := folder / f"{split}_images" / str(patient)).mkdir(parents=True, exist_ok=True)
                Image.fromarray(pixels.astype(np.uint8)).save(home / f"{image_id}.png")
                rows.append(dict(patient_id=patient, image_id=image_id, laterality=side, view=view,
                                 age=float(rng.integers(40, 80)), cancer=cancer, split=split,
                                 prediction_id=f"{patient}_{side}"))
    frame = pd.DataFrame(rows)
    train, test = frame[frame.split == "train"], frame[frame.split == "test"]
    train.drop(columns=["split", "prediction_id"]).to_csv(folder / "train.csv", index=False)
    test.drop(columns=["split", "cancer"]).to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"prediction_id": test["prediction_id"].unique(), "cancer": 0.02}).to_csv(
        folder / "sample_submission.csv", index=False)
    return folder


def test_several_test_rows_per_sample_id_are_predicted_and_pooled(tmp_path: Path) -> None:
    data = prepare_run(breasts(tmp_path / "breasts"), "breasts", RunFolder(tmp_path / "run"),
                       Settings(competitions_root=tmp_path / "c"), {})
    spec = data.spec
    assert spec.pooled_rows and spec.id_column == "prediction_id" and spec.target_columns == ["cancer"]
    assert spec.image_columns == ["image_id"] and "image_id" not in spec.numeric_columns  # a number naming a file
    assert len(data.test) == 80 and len(data.sample) == 40
    predictions = pd.DataFrame({"prediction_id": data.test["prediction_id"], "cancer": np.arange(80) / 100})
    write_submission(predictions, data.sample, spec, tmp_path / "submission.csv")
    written = pd.read_csv(tmp_path / "submission.csv")
    assert list(written["prediction_id"]) == list(data.sample["prediction_id"])
    first = data.sample["prediction_id"][0]
    assert written["cancer"][0] == predictions.loc[predictions["prediction_id"] == first, "cancer"].mean()


def test_pooling_averages_numbers_and_keeps_the_most_common_label() -> None:
    frame = pd.DataFrame({"id": ["a", "b", "a", "a"], "p": [0.2, 0.5, 0.4, 0.6], "label": ["x", "y", "z", "z"]})
    out = pooled(frame, "id")
    assert list(out["id"]) == ["a", "b"] and np.allclose(out["p"], [0.4, 0.5]) and list(out["label"]) == ["z", "y"]
