"""A test that names, row by row, which of train's columns it asks for (rsna-2022-cervical-spine's
`prediction_type`: C1..C7, patient_overall; Bengali.AI's `component`): train melted to a row per item and
named column, and the sample's answer learned from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from agent.competition_files import find_files, load_tables
from agent.understand import build_spec
from pipelines.files import FileCatalog
from pipelines.folds import make_folds
from pipelines.shapes.named_columns import named_columns

NAMES = ["C1", "C2", "C3", "patient_overall"]


def studies(folder: Path, n: int = 200, n_test: int = 40) -> Path:
    """train: a row per study, a 0/1 column per vertebra and their maximum; test a row per study and
    prediction type, as MLE-bench's prepare.py writes them (StudyInstanceUID, prediction_type, row_id)."""
    rng = np.random.default_rng(0)
    uids = [f"1.2.826.0.1.3680043.{v}" for v in rng.choice(10**6, n, replace=False)]
    age = rng.integers(20, 90, n)
    broken = (rng.random((n, 3)) < 0.05 + 0.006 * (age[:, None] - 20)).astype(int)
    frame = pd.DataFrame({"StudyInstanceUID": uids, "age": age, "patient_overall": broken.max(axis=1),
                          **{f"C{j + 1}": broken[:, j] for j in range(3)}})
    folder.mkdir(parents=True)
    frame[n_test:].to_csv(folder / "train.csv", index=False)
    test = pd.DataFrame([(u, a, name, f"{u}_{name}") for u, a in zip(uids[:n_test], age[:n_test]) for name in NAMES],
                        columns=["StudyInstanceUID", "age", "prediction_type", "row_id"])
    test.to_csv(folder / "test.csv", index=False)
    test[["row_id"]].assign(fractured=0.5).to_csv(folder / "sample_submission.csv", index=False)
    return folder


def test_train_is_melted_to_a_row_per_study_and_named_column(tmp_path: Path) -> None:
    files = find_files(studies(tmp_path / "spine"))
    train, test, sample = load_tables(files)
    layout = named_columns(train, test, sample)
    assert layout is not None and layout.selector == "prediction_type" and layout.answer == "fractured"
    assert layout.named == sorted(NAMES) and layout.item_column == "StudyInstanceUID"
    long = layout.melt(train)
    assert len(long) == 4 * len(train)
    assert set(long.columns) == {"StudyInstanceUID", "age", "prediction_type", "fractured"}
    first = long[long["StudyInstanceUID"] == train["StudyInstanceUID"][0]].set_index("prediction_type")["fractured"]
    assert first.to_dict() == train.loc[0, NAMES].to_dict()  # each value under its own column's name

    spec = build_spec("spine", files, long, test, sample, [("layout", layout.spec_layer())], FileCatalog(files.folder))
    assert spec.target_columns == ["fractured"] and spec.task == "binary" and spec.id_column == "row_id"
    assert "prediction_type" in spec.categorical_columns and spec.group_column == "StudyInstanceUID"
    folds = make_folds(long, spec, 5, seed=0)
    assert (pd.Series(folds).groupby(long["StudyInstanceUID"]).nunique() == 1).all()  # a study's rows together


def test_tables_without_a_naming_column_are_left_alone(tmp_path: Path) -> None:
    files = find_files(studies(tmp_path / "spine"))
    train, test, sample = load_tables(files)
    test = test.assign(prediction_type=test["prediction_type"].replace({"C1": "C9"}))  # names a column train lacks
    assert named_columns(train, test, sample) is None
    assert named_columns(train, test.drop(columns="prediction_type"), sample) is None


def test_a_run_prepares_the_melted_rows(tmp_path: Path) -> None:
    from agent.compete import prepare_run
    from agent.config import Settings
    from agent.run_folder import RunFolder

    settings = Settings(competitions_root=tmp_path / "comps")
    data = prepare_run(studies(tmp_path / "spine"), "spine", RunFolder(tmp_path / "run"), settings, {})
    assert len(data.train) == 4 * 160 and data.spec.target_columns == ["fractured"]
    assert data.spec.sources["target_columns"] == "layout"
