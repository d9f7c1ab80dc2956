"""Tables kept as NumPy arrays in nested folders: read as a column per number, test's ids from the sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from agent.competition_files import find_files, load_tables
from pipelines.array_tables import ArrayTables
from tests.test_shapes import compete, with_answers


def frames_layout(folder: Path, n: int = 600, seed: int = 0) -> pd.DataFrame:
    """ml2021spring-hw2's layout in small: windows of 3 frames of 4 numbers, a class as a string per frame
    (the class moves the frame's mean), arrays two folders down; returns the answers."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 5, n)
    frames = rng.normal(0, 1, (n, 3, 4)).astype(np.float32) + classes[:, None, None]
    root = folder / "public" / "frames" / "frames"
    root.mkdir(parents=True)
    n_test = n // 4
    np.save(root / "train_3.npy", frames[n_test:])
    np.save(root / "train_label_3.npy", classes[n_test:].astype("<U2"))
    np.save(root / "test_3.npy", frames[:n_test])
    answers = pd.DataFrame({"Id": range(n_test), "ClassId": classes[:n_test].astype(str)})
    answers.assign(ClassId=0).to_csv(folder / "public" / "sampleSubmission.csv", index=False)
    return answers


def test_arrays_are_read_as_tables(tmp_path: Path) -> None:
    answers = frames_layout(tmp_path / "frames")
    files = find_files(tmp_path / "frames" / "public")
    assert isinstance(files.layout, ArrayTables) and files.layout.labels.name == "train_label_3.npy"
    train, test, _ = load_tables(files)
    arrays = files.layout.train.parent
    assert train.shape == (450, 14) and test.shape == (150, 13)
    assert np.allclose(test.filter(like="x").to_numpy(), np.load(arrays / "test_3.npy").reshape(150, 12))
    assert list(test["Id"]) == list(answers["Id"]) and set(train["Id"]).isdisjoint(test["Id"])
    assert list(train["ClassId"]) == list(np.load(arrays / "train_label_3.npy"))


def test_a_run_learns_from_arrays(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "frames", frames_layout(tmp_path / "frames"), "accuracy")
    _, report = compete(folder, tmp_path / "run", budget=20, max_nodes=2)
    assert report.score > 0.8  # the sample's class 0: about 0.2
