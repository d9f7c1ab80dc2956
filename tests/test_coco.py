"""Image competitions whose labels are in COCO-style JSON metadata (herbarium, iNaturalist, iWildCam)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from agent.competition_files import find_files, load_tables
from agent.understand import build_spec
from pipelines.files import FileCatalog
from tests.test_images import png_bytes, shape_image
from tests.test_shapes import compete, with_answers


def nested_metadata(folder: Path, n: int = 90, n_classes: int = 3, seed: int = 0) -> pd.DataFrame:
    """herbarium-2020's layout: `data/train/metadata.json` (images, annotations, categories) with the images
    in class folders beside it, `data/test/metadata.json` (images only, ids as text), a sample of Id and
    Predicted saying 0. Returns the answers."""
    rng = np.random.default_rng(seed)
    public = folder / "public"
    categories = [{"id": 100 + k, "name": f"species {k}"} for k in range(n_classes)]
    train = {"annotations": [], "categories": categories, "images": [], "info": {"year": 2020}}
    test = {"images": [], "info": {"year": 2020}, "licenses": []}
    answers = []
    for i in range(n):
        label = i % n_classes
        if i % 4 == 0:
            index = len(test["images"])
            entry = {"file_name": f"images/{index}.png", "id": str(index), "height": 24, "width": 24}
            test["images"].append(entry)
            answers.append({"Id": index, "Predicted": 100 + label})
            image_path = public / "data" / "test" / entry["file_name"]
        else:
            entry = {"file_name": f"images/{100 + label}/{5000 + i}.png", "id": 5000 + i, "height": 24, "width": 24}
            train["images"].append(entry)
            train["annotations"].append({"category_id": 100 + label, "id": 5000 + i, "image_id": 5000 + i,
                                         "region_id": int(rng.integers(0, 3))})
            image_path = public / "data" / "train" / entry["file_name"]
        image_path.parent.mkdir(parents=True, exist_ok=True)
        image_path.write_bytes(png_bytes(shape_image(label, rng)))
    for part, content in (("train", train), ("test", test)):
        (public / "data" / part / "metadata.json").write_text(json.dumps(content, indent=4, sort_keys=True))
    answers = pd.DataFrame(answers)
    answers.assign(Predicted=0).to_csv(public / "sample_submission.csv", index=False)
    return answers


def test_coco_metadata_becomes_train_and_test_tables(tmp_path: Path) -> None:
    nested_metadata(tmp_path / "herbarium")
    public = tmp_path / "herbarium" / "public"
    notebooks = public / "notebooks"  # one JSON per item is data, never metadata
    notebooks.mkdir()
    for k in range(6):
        (notebooks / f"{k}.json").write_text(json.dumps({"images": [{"id": k, "file_name": "x.png"}]}))
    files = find_files(public)
    train, test, sample = load_tables(files)
    assert files.layout is not None and len(train) == 67 and len(test) == len(sample) == 23
    assert train["Predicted"].isin([100, 101, 102]).all() and "region_id" not in train.columns  # train-only notes
    assert list(test["Id"]) == list(sample["Id"]) and test["Id"].dtype == sample["Id"].dtype  # "0" read as 0
    assert all((public / name).is_file() for name in pd.concat([train, test])["file_name"])
    spec = build_spec("herbarium", files, train, test, sample, [("layout", files.layout.spec_layer())],
                      FileCatalog(public))
    assert (spec.task, spec.target_columns, spec.file_columns) == ("multiclass", ["Predicted"], ["file_name"])


def test_a_bare_list_of_test_images_and_facts_keyed_by_image_id(tmp_path: Path) -> None:
    """herbarium-2022: `image_id` keys, the test file a bare list, names relative to `train_images/`;
    iWildCam: a detector's results per image id become columns."""
    rng = np.random.default_rng(1)
    public = tmp_path / "public"
    images, annotations, test_images = [], [], []
    for i in range(12):
        split = "test" if i % 3 == 0 else "train"
        name = f"{i // 5:03d}/{split}-{i}.png"
        (public / f"{split}_images" / name).parent.mkdir(parents=True, exist_ok=True)
        (public / f"{split}_images" / name).write_bytes(png_bytes(shape_image(i % 2, rng)))
        entry = {"file_name": name, "image_id": f"{split}-{i}"}
        (test_images if split == "test" else images).append(entry)
        if split == "train":
            annotations += [{"image_id": f"train-{i}", "category_id": i % 2}] * 2  # a box per animal: one label
    (public / "train_metadata.json").write_text(json.dumps({"annotations": annotations, "images": images}))
    (public / "test_metadata.json").write_text(json.dumps(test_images))
    detections = [{"id": e["image_id"], "detections": [{"conf": 0.9}] * (k % 3), "max_detection_conf": k / 10}
                  for k, e in enumerate(images + test_images)]
    (public / "detector_results.json").write_text(json.dumps({"images": detections, "info": {"detector": "v3"}}))
    pd.DataFrame({"Id": [e["image_id"] for e in test_images], "Predicted": 42}).to_csv(
        public / "sample_submission.csv", index=False)
    train, test, _ = load_tables(find_files(public))
    assert len(train) == 8 and len(test) == 4 and list(train["Predicted"]) == [1, 0, 0, 1, 1, 0, 0, 1]
    assert train["file_name"].iloc[0] == "train_images/000/train-1.png"
    assert test["file_name"].iloc[0] == "test_images/000/test-0.png"
    assert list(test["detections_count"]) == [2, 0, 1, 2] and test["max_detection_conf"].iloc[0] == 0.8


def test_a_herbarium_run_learns_the_species_from_the_metadata(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "herbarium", nested_metadata(tmp_path / "herbarium", n=120), "accuracy")
    data, report = compete(folder, tmp_path / "run", budget=40)
    assert data.spec.file_columns == ["file_name"] and report.score > 0.5  # three species: a third by chance
