"""A forecast grid with a spread: osic-pulmonary-fibrosis-progression's layout (each test patient's first visit,
a sample row per `<patient>_<week>` asking for FVC and a Confidence train never shows, scored by a Laplace
log likelihood over the last measured weeks), read, validated and run end to end."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agent.competition_files import find_files, load_tables
from agent.grading import grade_submission
from agent.understand import build_spec
from pipelines.metrics import get_metric
from pipelines.shapes.forecasts import forecast_grid
from tests.test_shapes import compete, with_answers

WEEKS = range(-12, 60)


def patients(folder: Path, n: int = 70, n_test: int = 10, seed: int = 0) -> pd.DataFrame:
    """FVC falls from a first visit at a rate set by smoking; Percent is FVC against an age norm."""
    rng = np.random.default_rng(seed)
    rows, answers = [], []
    for p in range(n):
        patient, age = f"ID{p:05d}", int(rng.integers(50, 85))
        smoker = rng.choice(["Never smoked", "Ex-smoker", "Currently smokes"])
        start, slope = rng.normal(2800, 500), {"Never smoked": -3, "Ex-smoker": -8, "Currently smokes": -15}[smoker]
        weeks = np.sort(rng.choice(np.arange(-5, 55), 7, replace=False))
        fvc = (start + slope * (weeks - weeks[0]) + rng.normal(0, 60, len(weeks))).round()
        visits = [{"Patient": patient, "Weeks": int(w), "FVC": int(f), "Percent": f / (4000 - 10 * age) * 100,
                   "Age": age, "Sex": "Male", "SmokingStatus": smoker} for w, f in zip(weeks, fvc)]
        if p < n - n_test:
            rows += visits
        else:
            rows_test = visits[0]
            answers += [{"Patient_Week": f"{patient}_{w}", "FVC": -1} for w in WEEKS]
            for visit in visits[-3:]:  # the last three measured weeks are scored
                answers[len(answers) - len(WEEKS) + WEEKS.index(visit["Weeks"])]["FVC"] = visit["FVC"]
            rows.append({**rows_test, "_test": True})
    frame = pd.DataFrame(rows)
    public = folder / "public"
    public.mkdir(parents=True)
    frame[frame["_test"] != True].drop(columns="_test").to_csv(public / "train.csv", index=False)  # noqa: E712
    test = frame[frame["_test"] == True].drop(columns="_test")  # noqa: E712
    test.to_csv(public / "test.csv", index=False)
    answers_frame = pd.DataFrame(answers)
    sample = answers_frame[["Patient_Week"]].assign(FVC=2000, Confidence=100)
    sample.to_csv(public / "sample_submission.csv", index=False)
    (public / "description.md").write_text("## Evaluation\nThis competition is evaluated on a modified version of "
                                           "the Laplace Log Likelihood.\n")
    return answers_frame


def test_a_week_grid_is_read_as_a_row_per_week_from_each_patients_first_visit(tmp_path: Path) -> None:
    patients(tmp_path / "osic")
    files = find_files(tmp_path / "osic" / "public")
    train, test, sample = load_tables(files)
    grid = forecast_grid(train, test, sample)
    assert (grid.id_column, grid.item_column, grid.time_column) == ("Patient_Week", "Patient", "Weeks")
    rows = grid.test_rows(test, sample, ["FVC", "Confidence"])
    assert list(rows["Patient_Week"]) == list(sample["Patient_Week"]) and "FVC" not in rows
    first = test.iloc[0]
    row = rows[rows["Patient_Week"] == f"{first['Patient']}_40"].iloc[0]
    assert row["base_FVC"] == first["FVC"] and row["Weeks_since_base"] == 40 - first["Weeks"]
    trained = grid.train_rows(train, ["FVC", "Confidence"])
    assert "Percent" not in trained and "base_Percent" in trained  # a visit's own Percent is its FVC in disguise
    one = trained[trained["Patient"] == train["Patient"].iloc[0]]
    assert (one["base_FVC"] == one["FVC"].iloc[0]).all() and one["Weeks_since_base"].iloc[0] == 0
    assert forecast_grid(train, test, sample.head(len(test))) is None  # no more rows than test: no grid
    spec = build_spec("osic", files, trained, rows, sample, [("layout", grid.spec_layer()),
                                                             ("registry", {"metric": "laplace_log_likelihood"})])
    assert (spec.task, spec.target_columns, spec.spread_column) == ("regression", ["FVC"], "Confidence")
    assert spec.submission_columns == ["FVC", "Confidence"] and spec.group_column == "Patient"
    (files.folder / "description.md").unlink()  # no metric known: the column train lacks keeps the sample's values
    spec = build_spec("osic", replace(files, description=None), trained, rows, sample,
                      [("layout", grid.spec_layer())])
    assert spec.spread_column is None and spec.passthrough_columns == ["Confidence"] and spec.target_columns == ["FVC"]


def test_the_spread_is_fitted_to_the_residuals() -> None:
    from pipelines.thresholds import fit_threshold
    from tests.test_features import make_spec

    spec = make_spec(task="regression", classes=[], metric="laplace_log_likelihood", target_columns=["FVC"],
                     submission_columns=["FVC", "Confidence"], submission_kind="value", spread_column="Confidence")
    rng = np.random.default_rng(0)
    y = rng.normal(2500, 400, 2000)
    sigma = fit_threshold(y, y + rng.laplace(0, 200, len(y)), spec, get_metric("laplace_log_likelihood"))
    assert 200 < sigma < 400  # a Laplace scale of 200 is a deviation of 283


@pytest.mark.slow
def test_a_forecast_with_its_confidence_end_to_end_beats_the_sample(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "osic", patients(tmp_path / "osic"), "laplace_log_likelihood")
    data, report = compete(folder, tmp_path / "run", budget=60, max_nodes=2)
    sample = grade_submission(folder, folder / "public" / "sample_submission.csv")
    assert data.spec.spread_column == "Confidence" and report.score > sample.score + 1, (report.score, sample.score)
    confidence = pd.read_csv(tmp_path / "run" / "submission.csv")["Confidence"]
    assert confidence.nunique() == 1 and 70 < confidence.iloc[0] < 1000
