"""Tables shipped only as 7z archives, holding inputs that are lists of numbers (statoil-iceberg's layout:
train.json.7z, test.json.7z and sample_submission.csv.7z, each record's radar bands a flat list of
floats, `inc_angle` a number or "na")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import py7zr
import pytest

from agent.competition_files import find_files, load_tables
from agent.grading import grade_submission
from agent.understand import build_spec
from pipelines.errors import InputError
from pipelines.number_lists import expand_number_lists, is_number_list
from pipelines.tables import read_table

SIDE = 12


def seven_zip(path: Path) -> None:
    with py7zr.SevenZipFile(path.with_name(path.name + ".7z"), "w") as archive:
        archive.write(path, path.name)
    path.unlink()


def icebergs(folder: Path, n: int = 200, n_test: int = 50, seed: int = 0) -> pd.DataFrame:
    """A bright spot mid-frame on icebergs, a dimmer one on ships; ships may lack the angle."""
    rng = np.random.default_rng(seed)
    iceberg = rng.random(n) < 0.5
    records = []
    for i, berg in enumerate(iceberg):
        band = rng.normal(-25, 2, (SIDE, SIDE))
        band[4:8, 4:8] += 8 if berg else 3
        angle = "na" if not berg and rng.random() < 0.2 else round(float(rng.uniform(30, 45)), 4)
        records.append({"id": f"{i:08x}", "band_1": band.ravel().round(4).tolist(),
                        "band_2": (band - 10).ravel().round(4).tolist(), "inc_angle": angle, "is_iceberg": int(berg)})
    folder.mkdir(parents=True)
    (folder / "train.json").write_text(json.dumps(records[:-n_test]))
    (folder / "test.json").write_text(json.dumps([{k: v for k, v in r.items() if k != "is_iceberg"}
                                                  for r in records[-n_test:]]))
    pd.DataFrame({"id": [r["id"] for r in records[-n_test:]], "is_iceberg": 0.5}).to_csv(
        folder / "sample_submission.csv", index=False)
    for name in ("train.json", "test.json", "sample_submission.csv"):
        seven_zip(folder / name)
    return pd.DataFrame({"id": [r["id"] for r in records[-n_test:]], "is_iceberg": iceberg[-n_test:].astype(int)})


def test_tables_only_in_7z_archives_are_found_and_read(tmp_path: Path) -> None:
    icebergs(tmp_path / "public")
    files = find_files(tmp_path / "public")
    assert [p.name for p in (files.train, files.test, files.sample_submission)] == \
        ["train.json.7z", "test.json.7z", "sample_submission.csv.7z"]
    train, test, sample = load_tables(files)
    assert len(train) == 150 and len(test) == 50 and list(sample.columns) == ["id", "is_iceberg"]
    (tmp_path / "broken.csv.7z").write_bytes(b"7z\xbc\xaf\x27\x1c not an archive")
    with pytest.raises(InputError, match="broken.csv.7z.*7z archive"):
        read_table(tmp_path / "broken.csv.7z")


def test_lists_of_numbers_become_their_statistics_not_words(tmp_path: Path) -> None:
    icebergs(tmp_path / "public")
    files = find_files(tmp_path / "public")
    train, test, sample = load_tables(files)
    assert is_number_list(train["band_1"]) and not is_number_list(train["inc_angle"].astype(str))
    train, test = expand_number_lists(train, test, keep=set(sample.columns))
    assert "band_1" not in train.columns
    assert {"band_1_mean", "band_1_max", "band_2_centre_minus_all"} <= set(test.columns)
    assert (train["band_1_length"] == SIDE * SIDE).all()
    bergs = train["is_iceberg"] == 1  # the brighter centre tells them apart
    assert train.loc[bergs, "band_1_centre_minus_all"].min() > train.loc[~bergs, "band_1_centre_minus_all"].max()
    spec = build_spec("icebergs", files, train, test, sample, [])
    assert spec.task == "binary" and not spec.text_columns and "band_1_q95" in spec.numeric_columns


def test_a_sample_only_in_a_7z_archive_still_grades(tmp_path: Path) -> None:
    answers = icebergs(tmp_path / "public")
    (tmp_path / "private").mkdir()
    answers.to_csv(tmp_path / "private" / "answers.csv", index=False)
    (tmp_path / "competition.yaml").write_text("metric: logloss\n")
    answers.assign(is_iceberg=answers["is_iceberg"] * 0.8 + 0.1).to_csv(tmp_path / "guess.csv", index=False)
    report = grade_submission(tmp_path, tmp_path / "guess.csv")
    assert report.valid and report.score == pytest.approx(-np.log(0.9), abs=1e-4), report.errors
