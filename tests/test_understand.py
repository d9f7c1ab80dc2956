"""Spec inference from files, and the one-line errors for bad input."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agent.column_roles import column_kind
from agent.competition_files import find_files, load_tables
from agent.metric_choice import metric_from_description
from agent.understand import build_spec
from pipelines.folds import clean_train, make_folds
from agent.profile import profile
from pipelines.errors import InputError
from pipelines.features import tabular
from pipelines.tables import read_table, table_columns
from pipelines.submission import write_submission
from pipelines.targets import encode_target, submission_frame
from tests.conftest import DEMO, agent_command


def spec_of(folder: Path, layers=(), extract_to: Path | None = None):
    files = find_files(folder, extract_to=extract_to)
    train, test, sample = load_tables(files)
    return build_spec(folder.name, files, train, test, sample, list(layers))


def test_demo_titanic_spec() -> None:
    spec = spec_of(DEMO)
    assert spec.id_column == "PassengerId"
    assert spec.target_columns == ["Survived"]
    assert spec.task == "binary" and spec.classes == [0, 1]
    assert spec.submission_kind == "label"
    assert spec.metric == "accuracy" and spec.direction == "maximize"
    assert spec.sources["metric"] == "description"
    assert "Sex" in spec.categorical_columns and "Age" in spec.numeric_columns
    assert spec.modality == "tabular"


@pytest.mark.parametrize(
    "task, proba, expected_kind, expected_metric",
    [
        ("binary", False, "label", "accuracy"),
        ("multiclass", True, "proba", "logloss_multiclass"),
        ("multiclass", False, "label", "accuracy"),
        ("regression", False, "value", "rmse"),
    ],
)
def test_inferred_task_and_submission_format(make_comp, task, proba, expected_kind, expected_metric) -> None:
    spec = spec_of(make_comp(task=task, proba_columns=proba))
    assert spec.task == task
    assert spec.target_columns == ["label"]
    assert spec.submission_kind == expected_kind
    assert spec.metric == expected_metric
    if task == "multiclass":
        assert sorted(spec.classes) == ["high", "low", "mid"]


@pytest.mark.parametrize("sample_value, expected_kind, expected_metric",
                         [(0.5, "proba", "auc_mean_columnwise"), (0, "label", "f1_micro")])
def test_multilabel_submissions_of_probabilities_or_labels(tmp_path: Path, sample_value, expected_kind,
                                                           expected_metric) -> None:
    """Jigsaw-style: one 0/1 column per label in train; the sample submission says probabilities or labels."""
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"id": range(200), "text": ["some words here"] * 200,
                          "toxic": rng.integers(0, 2, 200), "threat": rng.integers(0, 2, 200)})
    train.to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"id": range(200, 250), "text": ["more words"] * 50}).to_csv(tmp_path / "test.csv", index=False)
    pd.DataFrame({"id": range(200, 250), "toxic": sample_value, "threat": sample_value}).to_csv(
        tmp_path / "sample_submission.csv", index=False)
    spec = spec_of(tmp_path)
    assert spec.task == "multilabel" and spec.submission_kind == expected_kind and spec.metric == expected_metric


@pytest.mark.parametrize("sample_value, expected_kind, expected_metric",
                         [(1 / 3, "proba", "logloss_multiclass"), (0, "label", "accuracy")])
def test_one_column_per_class_is_a_multiclass_target(tmp_path: Path, sample_value, expected_kind,
                                                     expected_metric) -> None:
    """lmsys-style: winner_a / winner_b / tie, exactly one 1 per row: one class per row, not three labels."""
    rng = np.random.default_rng(0)
    winner = rng.integers(0, 3, 300)
    train = pd.DataFrame({"id": range(300), "x": rng.normal(size=300)})
    for j, name in enumerate(["winner_a", "winner_b", "tie"]):
        train[name] = (winner == j).astype(int)
    train.to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"id": range(300, 350), "x": 0.0}).to_csv(tmp_path / "test.csv", index=False)
    pd.DataFrame({"id": range(300, 350), "winner_a": sample_value, "winner_b": sample_value,
                  "tie": sample_value}).to_csv(tmp_path / "sample_submission.csv", index=False)
    spec = spec_of(tmp_path)
    assert spec.task == "multiclass" and spec.classes == ["winner_a", "winner_b", "tie"]
    assert spec.submission_kind == expected_kind and spec.metric == expected_metric
    np.testing.assert_array_equal(encode_target(train, spec), winner)
    folds = make_folds(train, spec, 5, seed=0)
    assert all(np.bincount(winner[folds == k], minlength=3).min() >= 15 for k in range(5))  # stratified by class
    assert profile(spec, train, train.drop(columns=spec.target_columns))["target"]["class_shares"]["tie"] > 0.2
    raw = np.tile([0.2, 0.5, 0.3], (2, 1))
    out = submission_frame(pd.Series([300, 301]), raw, spec)
    if expected_kind == "proba":
        np.testing.assert_allclose(out[["winner_a", "winner_b", "tie"]].to_numpy(), raw)
    else:
        assert out[["winner_a", "winner_b", "tie"]].to_numpy().tolist() == [[0, 1, 0], [0, 1, 0]]
    train.loc[int(np.flatnonzero(winner != 2)[0]), "tie"] = 1  # two classes in one row
    with pytest.raises(InputError, match="exactly one class per row"):
        encode_target(train, spec)


def test_a_sample_that_repeats_test_columns_names_rows_by_them(tmp_path: Path) -> None:
    """detecting-insults: no id anywhere. The sample is Insult, Date, Comment; the Comment names the
    row (and is the text to read), the Date is carried over, only the Insult is predicted."""
    rng = np.random.default_rng(0)
    comments = [f'"comment number {i} says {w}"' for i, w in enumerate(rng.choice(["hi", "idiot", "thanks"], 260))]
    frame = pd.DataFrame({"Insult": [int("idiot" in c) for c in comments],
                          "Date": [f"2012061{i % 10}192155Z" if i % 7 else None for i in range(260)], "Comment": comments})
    frame.iloc[:200].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[200:, 1:].to_csv(tmp_path / "test.csv", index=False)
    frame.iloc[200:].assign(Insult=0).to_csv(tmp_path / "sample_submission_null.csv", index=False)
    spec = spec_of(tmp_path)
    assert spec.id_column == "Comment" and spec.passthrough_columns == ["Date"]
    assert spec.target_columns == ["Insult"] == spec.submission_columns and spec.task == "binary"
    assert "Comment" in spec.feature_columns
    sample = read_table(tmp_path / "sample_submission_null.csv")
    test = read_table(tmp_path / "test.csv")
    predicted = submission_frame(test["Comment"][::-1], np.linspace(0, 1, 60), spec)
    write_submission(predicted, sample, spec, tmp_path / "submission.csv")
    written = pd.read_csv(tmp_path / "submission.csv")
    assert list(written.columns) == ["Insult", "Date", "Comment"]
    assert written["Comment"].tolist() == sample["Comment"].tolist()
    assert written["Date"].equals(sample["Date"]) and written["Insult"].iloc[0] == 1.0  # reversed order, realigned


def test_the_target_among_train_only_annotations_is_the_one_named_target(tmp_path: Path) -> None:
    """jigsaw-unintended-bias: train has `target` and annotations test lacks; the sample asks for `prediction`."""
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"id": range(100), "comment_text": ["some words here"] * 100, "target": rng.random(100),
                          "obscene": rng.random(100), "male": rng.random(100) < 0.3, "row": range(100),
                          "rater": ["a", "b"] * 50})
    train.to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"id": range(100, 130), "comment_text": ["more words"] * 30}).to_csv(tmp_path / "test.csv", index=False)
    pd.DataFrame({"id": range(100, 130), "prediction": 0.0}).to_csv(tmp_path / "sample_submission.csv", index=False)
    spec = spec_of(tmp_path)
    assert spec.target_columns == ["target"] and spec.submission_columns == ["prediction"]
    assert spec.task == "regression" and spec.feature_columns == ["comment_text"]  # annotations are no inputs
    assert spec.auxiliary_columns == ["obscene", "male"]  # but labels to learn; row numbers and words are not
    # The registry names jigsaw's AUC over identity subgroups: the share is still no class, and the
    # folds, which have no identity columns, are scored by the regression default.
    spec = spec_of(tmp_path, layers=[("registry", {"metric": "jigsaw_bias_auc"})])
    assert (spec.task, spec.submission_kind, spec.metric, spec.classes) == ("regression", "value", "rmse", [])
    assert spec.target_bounds == (0.0, 1.0)  # a share: predictions are clipped to it
    train.rename(columns={"target": "score"}).to_csv(tmp_path / "train.csv", index=False)  # nothing named so
    with pytest.raises(InputError, match="cannot find the target"):
        spec_of(tmp_path)


def test_a_text_answer_beside_its_position_is_the_target(tmp_path: Path) -> None:
    """chaii: train has `answer_text` and `answer_start`, test neither; the sample asks for `PredictionString`."""
    contexts = [f"the river {w}{i} flows past the old mill today" for i, w in enumerate(["north", "south", "east"] * 40)]
    answers = [c.split()[2] for c in contexts]
    pd.DataFrame({"id": range(120), "context": contexts, "question": "which way?", "answer_text": answers,
                  "answer_start": [c.find(a) for c, a in zip(contexts, answers)]}).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"id": range(120, 140), "context": contexts[:20], "question": "which way?"}).to_csv(
        tmp_path / "test.csv", index=False)
    pd.DataFrame({"id": range(120, 140), "PredictionString": "dummy text"}).to_csv(
        tmp_path / "sample_submission.csv", index=False)
    spec = spec_of(tmp_path)
    assert spec.target_columns == ["answer_text"] and spec.submission_columns == ["PredictionString"]
    assert (spec.answer_shape, spec.source_column) == ("span", "context")
    pd.DataFrame({"id": range(120, 140), "PredictionString": 0.0}).to_csv(  # a number asked for: not the text
        tmp_path / "sample_submission.csv", index=False)
    with pytest.raises(InputError, match="cannot find the target"):
        spec_of(tmp_path)


def test_a_test_table_without_ids_takes_the_sample_submissions_row_numbers(tmp_path: Path) -> None:
    """digit-recognizer: test.csv holds only pixels; the sample submission numbers its rows 1..N."""
    rng = np.random.default_rng(0)
    pixels = pd.DataFrame(rng.integers(0, 16, (260, 4)), columns=[f"pixel{i}" for i in range(4)])
    pixels.iloc[:200].assign(label=rng.integers(0, 3, 200))[["label", *pixels.columns]].to_csv(
        tmp_path / "train.csv", index=False)
    pixels.iloc[200:].to_csv(tmp_path / "test.csv", index=False)
    pd.DataFrame({"ImageId": range(1, 61), "Label": 0}).to_csv(tmp_path / "sample_submission.csv", index=False)
    files = find_files(tmp_path)
    train, test, sample = load_tables(files)
    assert list(test.columns) == ["ImageId", *pixels.columns] and test["ImageId"].tolist() == list(range(1, 61))
    spec = build_spec(tmp_path.name, files, train, test, sample, [])
    assert spec.id_column == "ImageId" and spec.target_columns == ["label"] and spec.submission_columns == ["Label"]
    pd.DataFrame({"ImageId": range(5, 65), "Label": 0}).sample(frac=1, random_state=0).to_csv(
        tmp_path / "sample_submission.csv", index=False)  # not row numbers: the missing id stays an error
    with pytest.raises(InputError, match="id column 'ImageId' is missing"):
        spec_of(tmp_path)


def test_an_id_column_named_in_another_case_and_a_sample_with_row_numbers(tmp_path: Path) -> None:
    """iwildcam-2019: train.csv and test.csv say `id` and `category_id`, the sample (saved with pandas' index)
    `Id` and `Category`."""
    rng = np.random.default_rng(0)
    pd.DataFrame({"id": [f"a{i}" for i in range(100)], "x": rng.normal(size=100),
                  "category_id": rng.integers(0, 3, 100)}).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"id": [f"b{i}" for i in range(30)], "x": rng.normal(size=30)}).to_csv(tmp_path / "test.csv",
                                                                                      index=False)
    sample = pd.DataFrame({"Id": [f"b{i}" for i in range(30)], "Category": 0})
    sample.to_csv(tmp_path / "sample_submission.csv", index=True)
    spec = spec_of(tmp_path)
    assert (spec.id_column, spec.target_columns, spec.submission_columns) == ("Id", ["category_id"], ["Category"])
    predicted = sample.assign(Category=rng.integers(0, 3, 30))
    write_submission(predicted, sample, spec, tmp_path / "submission.csv")
    assert list(pd.read_csv(tmp_path / "submission.csv").columns) == ["Id", "Category"]


def test_train_only_identifiers_are_not_counted_as_missing_inputs(tmp_path: Path) -> None:
    """quora-question-pairs: train has id, qid1, qid2; test has test_id and the two questions."""
    train = pd.DataFrame({"id": range(100), "qid1": range(0, 200, 2), "qid2": range(1, 200, 2),
                          "question1": ["how do I cook rice"] * 100, "question2": ["what is rice"] * 100,
                          "is_duplicate": [0, 1] * 50})
    train.to_csv(tmp_path / "train.csv", index=False)
    test = pd.DataFrame({"test_id": range(40), "question1": ["why"] * 40, "question2": ["how"] * 40})
    test.to_csv(tmp_path / "test.csv", index=False)
    pd.DataFrame({"test_id": range(40), "is_duplicate": 0.5}).to_csv(tmp_path / "sample_submission.csv", index=False)
    spec = spec_of(tmp_path)
    assert spec.feature_columns == ["question1", "question2"] and spec.submission_kind == "proba"
    assert spec.auxiliary_columns == []


def test_targets_in_their_own_table_are_joined_to_the_train_rows_by_id(tmp_path: Path) -> None:
    """lish-moa: train_features.csv has the inputs, train_targets_scored.csv the targets by sig_id
    (in another order, one train row without targets); a table of other targets is left alone."""
    rng = np.random.default_rng(0)
    ids = [f"id_{i:04d}" for i in range(120)]
    features = pd.DataFrame({"sig_id": ids, "cp_dose": rng.choice(["D1", "D2"], 120), "g-0": rng.normal(size=120)})
    features.to_csv(tmp_path / "train_features.csv", index=False)
    targets = pd.DataFrame({"sig_id": ids, "a": (features["g-0"] > 0).astype(int), "b": rng.integers(0, 2, 120)})
    targets.iloc[1:][::-1].to_csv(tmp_path / "train_targets_scored.csv", index=False)
    targets.rename(columns={"a": "c"}).to_csv(tmp_path / "train_targets_nonscored.csv", index=False)
    features.head(30).assign(sig_id=[f"t_{i}" for i in range(30)]).to_csv(tmp_path / "test_features.csv", index=False)
    pd.DataFrame({"sig_id": [f"t_{i}" for i in range(30)], "a": 0.5, "b": 0.5}).to_csv(tmp_path / "sample_submission.csv", index=False)

    files = find_files(tmp_path)
    assert files.train.name == "train_features.csv" and files.targets.name == "train_targets_scored.csv"
    train, test, sample = load_tables(files)
    spec = build_spec(tmp_path.name, files, train, test, sample, [])
    assert spec.task == "multilabel" and spec.target_columns == ["a", "b"]
    assert spec.feature_columns == ["cp_dose", "g-0"]
    cleaned = clean_train(train, spec)
    assert len(cleaned) == 119 and (cleaned["a"] == (cleaned["g-0"] > 0)).all()

    targets.iloc[[1, 1, 2]].to_csv(tmp_path / "train_targets_scored.csv", index=False)
    with pytest.raises(InputError, match="train_targets_scored.csv.*ids repeat"):
        load_tables(find_files(tmp_path))


def test_a_timestamp_id_is_also_an_input(tmp_path: Path) -> None:
    """bike-sharing-demand: rows are named by their hour, and the hour is what predicts the count."""
    hours = pd.date_range("2011-01-01", periods=960, freq="h")
    frame = pd.DataFrame({"datetime": hours.strftime("%Y-%m-%d %H:%M:%S"), "temp": np.arange(960) % 30,
                          "count": 10 + 50 * (hours.hour == 8)})
    in_test = hours.day > 19  # interleaved with the train days: no forecast
    frame[~in_test].to_csv(tmp_path / "train.csv", index=False)
    frame.loc[in_test, ["datetime", "temp"]].to_csv(tmp_path / "test.csv", index=False)
    frame.loc[in_test, ["datetime"]].assign(count=0).to_csv(tmp_path / "sampleSubmission.csv", index=False)
    spec = spec_of(tmp_path)
    assert spec.id_column == "datetime" and spec.datetime_columns == ["datetime"] and spec.time_column is None
    train = read_table(tmp_path / "train.csv")
    X, _ = tabular(train, read_table(tmp_path / "test.csv"), spec)
    assert (X["datetime_hour"].to_numpy() == pd.to_datetime(train["datetime"]).dt.hour.to_numpy()).all()


def test_a_forecast_gets_time_ordered_folds_and_a_shuffled_date_does_not(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    days = pd.date_range("2020-01-01", periods=400).strftime("%Y-%m-%d")
    frame = pd.DataFrame({"date": days, "shop": rng.integers(1, 4, 400), "sales": rng.normal(20, 3, 400)})
    for name, test_rows in (("forecast", frame.index >= 300), ("shuffled", frame.index % 4 == 0)):
        folder = tmp_path / name
        folder.mkdir()
        frame[~test_rows].to_csv(folder / "train.csv", index=False)
        test = frame[test_rows].drop(columns="sales").reset_index(drop=True)
        test.insert(0, "id", range(len(test)))
        test.to_csv(folder / "test.csv", index=False)
        pd.DataFrame({"id": test["id"], "sales": 0.0}).to_csv(folder / "sample_submission.csv", index=False)
    forecast, shuffled = spec_of(tmp_path / "forecast"), spec_of(tmp_path / "shuffled")
    assert forecast.time_column == "date" and forecast.sources["time_column"].startswith("inferred")
    assert shuffled.time_column is None
    assert spec_of(tmp_path / "forecast", [("flag", {"time_column": "shop"})]).time_column == "shop"


def test_groups_that_test_never_shares_get_group_folds(tmp_path: Path) -> None:
    """ventilator-style: 40 rows per breath, test holds other breaths. Folds that split a breath would
    validate on breaths the model has seen; a column test shares values with is no such group."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": range(2400), "breath_id": np.repeat(np.arange(60), 40),
                          "R": rng.choice([5, 20, 50], 2400), "u_in": rng.normal(size=2400)})
    frame["pressure"] = frame.groupby("breath_id")["u_in"].cumsum()
    in_test = frame["breath_id"] >= 50
    frame[~in_test].to_csv(tmp_path / "train.csv", index=False)
    frame.loc[in_test].drop(columns="pressure").to_csv(tmp_path / "test.csv", index=False)
    frame.loc[in_test, ["id"]].assign(pressure=0.0).to_csv(tmp_path / "sample_submission.csv", index=False)
    spec = spec_of(tmp_path)
    assert spec.group_column == "breath_id" and spec.sources["group_column"].startswith("inferred")
    train = read_table(tmp_path / "train.csv")
    folds = make_folds(train, spec, 5, seed=0)
    assert all(len(set(folds[train["breath_id"] == b])) == 1 for b in range(50))  # a breath stays in one fold

    frame.loc[in_test, "breath_id"] = frame.loc[in_test, "breath_id"] - 50  # test now shares breaths with train
    frame.loc[in_test].drop(columns="pressure").to_csv(tmp_path / "test.csv", index=False)
    assert spec_of(tmp_path).group_column is None


def test_question_pairs_are_found_and_drafted_with_trees_first(tmp_path: Path) -> None:
    """quora-style: two questions per row from one vocabulary; whether they match is the target. The
    pair is recorded in the spec and the profile, and LightGBM on pair features is the second draft."""
    from agent.engineers.builtin import applicable_recipes
    from agent.profile import profile_markdown

    rng = np.random.default_rng(0)
    words = "how what why can does make learn best way good start money online python code data".split()
    q1 = [" ".join(rng.choice(words, 7)) + "?" for _ in range(300)]
    q2 = [q if rng.random() < 0.5 else " ".join(rng.choice(words, 7)) + "?" for q in q1]
    frame = pd.DataFrame({"id": range(300), "question1": q1, "question2": q2,
                          "is_duplicate": [int(a == b) for a, b in zip(q1, q2)]})
    frame.iloc[:240].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[240:].drop(columns="is_duplicate").to_csv(tmp_path / "test.csv", index=False)
    frame.iloc[240:][["id"]].assign(is_duplicate=0.5).to_csv(tmp_path / "sample_submission.csv", index=False)
    spec = spec_of(tmp_path)
    assert spec.column_pairs == [("question1", "question2")] and spec.modality == "text"
    assert applicable_recipes(spec, 240)[:2] == ["tfidf_linear", "lightgbm_tabular"]
    train = read_table(tmp_path / "train.csv")
    assert "question1 ~ question2" in profile_markdown(profile(spec, train, read_table(tmp_path / "test.csv")))
    X, _ = tabular(train, train, spec)
    assert X["question1_question2_same"].tolist() == train["is_duplicate"].astype(float).tolist()


def test_layers_override_inference_in_order(make_comp) -> None:
    folder = make_comp(task="binary")
    spec = spec_of(folder, layers=[("flag", {"metric": "auc"}), ("yaml", {"metric": "f1", "direction": "maximize"})])
    assert spec.metric == "auc" and spec.sources["metric"] == "flag"
    assert spec.submission_kind == "proba", "AUC needs probabilities even when the sample holds labels"


def test_text_columns_are_recognised_as_text(tmp_path: Path) -> None:
    words = ["storm", "flood", "sunny", "happy", "fire", "calm", "wind", "rain"]
    texts = [" ".join(words[(i + j) % 8] for j in range(8)) + f" number {i}" for i in range(60)]
    assert column_kind(pd.Series(texts)) == "text"
    assert column_kind(pd.Series(["a", "b", "c"] * 20)) == "categorical"
    assert column_kind(pd.Series(["2020-01-0%d" % (i % 9 + 1) for i in range(50)])) == "datetime"
    assert column_kind(pd.Series([f"img_{i}.jpg" for i in range(50)])) == "file"


def test_metric_from_description_reads_evaluation_section() -> None:
    text = "# Overview\nPredict prices.\n## Evaluation\nSubmissions are scored on the Root Mean Squared Logarithmic Error."
    assert metric_from_description(text) == "rmsle"
    assert metric_from_description("Metric: root mean squared error between the log of the prediction") == "rmse_log"
    assert metric_from_description("Evaluated on area under the ROC curve.") == "auc"
    assert metric_from_description("nothing here") is None


def test_layouts_prepared_public_and_plain_kaggle_zip(tmp_path: Path, make_comp) -> None:
    plain = make_comp("plain")
    prepared = tmp_path / "mle" / "prepared" / "public"
    prepared.parent.mkdir(parents=True)
    plain.rename(prepared)
    (tmp_path / "mle" / "prepared" / "private").mkdir()
    (tmp_path / "mle" / "prepared" / "private" / "answers.csv").write_text("never read")
    assert find_files(tmp_path / "mle").folder == prepared

    download = tmp_path / "download"
    download.mkdir()
    with zipfile.ZipFile(download / "toy.zip", "w") as archive:
        for name in ("train.csv", "test.csv", "sample_submission.csv"):
            archive.write(prepared / name, name)
    spec = spec_of(download, extract_to=tmp_path / "extracted")
    assert spec.target_columns == ["label"]


def test_tables_in_other_formats(tmp_path: Path, make_comp) -> None:
    folder = make_comp()
    pd.read_csv(folder / "train.csv").to_parquet(folder / "train.parquet")
    (folder / "train.csv").unlink()
    with zipfile.ZipFile(folder / "test.csv.zip", "w") as archive:
        archive.write(folder / "test.csv", "test.csv")
    (folder / "test.csv").unlink()
    pd.read_csv(folder / "sample_submission.csv").to_json(folder / "sample_submission.json", orient="records")
    (folder / "sample_submission.csv").unlink()
    spec = spec_of(folder)
    assert spec.task == "binary" and spec.id_column == "row_id"
    for name in ("train.parquet", "test.csv.zip", "sample_submission.json"):  # headers, as read_table reads them
        assert table_columns(folder / name) == list(read_table(folder / name).columns)


def test_nested_json_cells_become_strings_every_step_can_use(tmp_path: Path, make_comp) -> None:
    """Reddit-style records: a list of subreddits and a nested record per row (random-acts-of-pizza)."""
    folder = make_comp()
    for name in ("train", "test"):
        frame = pd.read_csv(folder / f"{name}.csv")
        frame["tags"] = [["fire", "help"] if i % 2 else ["cake"] for i in range(len(frame))]
        frame["meta"] = [{"votes": i % 3, "kind": "post"} for i in range(len(frame))]
        frame.to_json(folder / f"{name}.json", orient="records")
        (folder / f"{name}.csv").unlink()
    train = read_table(folder / "train.json")
    assert train["tags"].tolist()[:2] == ["cake", "fire help"]
    assert train["meta"][0] == '{"kind": "post", "votes": 0}'
    files = find_files(folder)
    train, test, sample = load_tables(files)
    spec = build_spec(folder.name, files, train, test, sample, [])
    assert "tags" in spec.feature_columns and "meta" in spec.feature_columns
    assert profile(spec, train, test)["rows"]["train"] == len(train)  # counting values used to fail on lists
    X, X_test = tabular(train, test, spec)
    assert len(X) == len(train) and list(X.columns) == list(X_test.columns)


def test_stratified_folds_cover_every_row(make_comp) -> None:
    folder = make_comp(task="multiclass")
    files = find_files(folder)
    train, test, sample = load_tables(files)
    spec = build_spec("toy", files, train, test, sample, [])
    folds = make_folds(train, spec, 5, seed=0)
    assert sorted(set(folds)) == [0, 1, 2, 3, 4]
    shares = pd.crosstab(folds, train["label"], normalize="index")
    assert (shares.max() - shares.min()).max() < 0.05


# --- bad input: one line naming the file, exit code 2, no traceback -------------------------

def _break(folder: Path, how: str) -> str:
    """Damage a competition folder; return the file name the error must mention."""
    if how == "missing_test":
        (folder / "test.csv").unlink()
        return "titanic"
    if how == "empty_train":
        (folder / "train.csv").write_text("")
        return "train.csv"
    if how == "ids_mismatch":
        sample = pd.read_csv(folder / "sample_submission.csv")
        sample.loc[0, "PassengerId"] = 999999
        sample.to_csv(folder / "sample_submission.csv", index=False)
        return "sample_submission.csv"
    if how == "no_target":
        train = pd.read_csv(folder / "train.csv").rename(columns={"Survived": "Outcome"})
        train["Weight"] = 1.0  # two train-only columns, neither named like the submission's
        train.to_csv(folder / "train.csv", index=False)
        return "train.csv"
    if how == "not_utf8":
        (folder / "train.csv").write_bytes((folder / "train.csv").read_bytes().replace(b"Braund", b"Br\xe4und"))
        return "train.csv"
    if how == "malformed":
        (folder / "test.csv").write_text('PassengerId,Pclass\n1,"3\n2,1,5,6\n')
        return "test.csv"
    if how == "test_columns_missing":
        test = pd.read_csv(folder / "test.csv")
        test[["PassengerId"]].to_csv(folder / "test.csv", index=False)
        return "test.csv"
    raise ValueError(how)


@pytest.mark.parametrize(
    "how", ["missing_test", "empty_train", "ids_mismatch", "no_target", "not_utf8", "malformed", "test_columns_missing"]
)
def test_bad_input_gives_one_line_error(demo_copy: Path, tmp_path: Path, how: str) -> None:
    names = _break(demo_copy, how)
    with pytest.raises(InputError) as caught:
        spec_of(demo_copy)
    assert names in str(caught.value)

    result = agent_command("compete", str(demo_copy), "--time-budget", "30", "--no-submit",
                           "--run-dir", str(tmp_path / "run"))
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert names in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    # Nothing to show for the run but the organisers' sample, copied as it is: still a valid file to grade.
    assert (tmp_path / "run" / "submission.csv").read_bytes() == (demo_copy / "sample_submission.csv").read_bytes()
    assert "as a fallback" in result.stdout


def test_missing_folder_and_bad_flag(tmp_path: Path) -> None:
    result = agent_command("compete", str(tmp_path / "nowhere" / "x"), "--no-submit")
    assert result.returncode == 2 and result.stderr.startswith("error:")
    result = agent_command("compete", str(DEMO), "--no-submit", "--task", "ranking", "--run-dir", str(tmp_path / "r"))
    assert result.returncode == 2 and "--task" in result.stderr


def test_target_flag_that_does_not_exist(tmp_path: Path) -> None:
    result = agent_command("compete", str(DEMO), "--no-submit", "--target", "Nope", "--run-dir", str(tmp_path / "r"))
    assert result.returncode == 2
    assert "train.csv" in result.stderr and "Nope" in result.stderr


def test_a_large_table_is_streamed_into_a_uniform_sample(tmp_path: Path, monkeypatch) -> None:
    import gzip

    import numpy as np

    from pipelines import tables

    monkeypatch.setattr(tables, "STREAM_BYTES", 0)  # stream even this small file, in many chunks
    monkeypatch.setattr(tables, "STREAM_CHUNK_ROWS", 700)
    path = tmp_path / "train.csv.gz"
    with gzip.open(path, "wt") as out:
        pd.DataFrame({"row": range(10_000), "word": ["a", "b"] * 5_000}).to_csv(out, index=False)
    sample, rows = tables.read_table_sample(path, 2_000, seed=3)
    assert rows == 10_000 and len(sample) == 2_000 and list(sample.columns) == ["row", "word"]
    assert sample["row"].is_unique and sample["row"].is_monotonic_increasing  # distinct rows, file order
    assert abs(sample["row"].mean() - 5_000) < 300 and (sample["row"] < 2_000).sum() > 300  # not the head
    again, _ = tables.read_table_sample(path, 2_000, seed=3)
    assert again.equals(sample)
    whole, rows = tables.read_table_sample(path, 20_000)
    assert rows == 10_000 and np.array_equal(whole["row"], np.arange(10_000))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b\n1,\xff\n")
    with pytest.raises(InputError, match="bad.csv"):
        tables.read_table_sample(bad, 10)


def test_a_sample_by_group_draws_whole_groups() -> None:
    from pipelines.tables import sample_rows

    frame = pd.DataFrame({"breath": np.repeat(np.arange(500), 8), "step": np.tile(np.arange(8), 500)})
    sample = sample_rows(frame, 1_000, seed=1, by="breath")
    sizes = sample.groupby("breath").size()
    assert len(sample) <= 1_000 and len(sizes) >= 110 and (sizes == 8).all()  # every kept breath whole
    assert sample["breath"].is_monotonic_increasing  # file order kept
    assert sample.equals(sample_rows(frame, 1_000, seed=1, by="breath"))
    assert not sample.equals(sample_rows(frame, 1_000, seed=2, by="breath"))
    assert len(sample_rows(frame, 1_000, seed=1)) == 1_000  # without `by`, rows


@pytest.mark.parametrize("streamed", [True, False])
def test_a_run_on_sampled_rows_keeps_the_groups_test_never_shares_whole(tmp_path: Path, monkeypatch, caplog,
                                                                         streamed: bool) -> None:
    from agent.compete import prepare_run
    from agent.config import Settings
    from agent.run_folder import RunFolder
    from pipelines import tables

    if streamed:
        monkeypatch.setattr(tables, "STREAM_BYTES", 0)
        monkeypatch.setattr(tables, "STREAM_CHUNK_ROWS", 700)
    rng = np.random.default_rng(0)
    n_breaths, steps = 500, 20
    frame = pd.DataFrame({"id": np.arange(n_breaths * steps), "breath": np.repeat(np.arange(n_breaths), steps),
                          "u_in": rng.random(n_breaths * steps)})
    frame["pressure"] = frame.groupby("breath")["u_in"].cumsum()
    folder = tmp_path / "comp"
    folder.mkdir()
    frame.iloc[:8_000].to_csv(folder / "train.csv", index=False)
    frame.iloc[8_000:].drop(columns="pressure").to_csv(folder / "test.csv", index=False)
    frame.iloc[8_000:][["id"]].assign(pressure=0.0).to_csv(folder / "sample_submission.csv", index=False)
    settings = Settings(max_train_rows=2_000, competitions_root=tmp_path / "comps")
    data = prepare_run(folder, "comp", RunFolder(tmp_path / "run"), settings, {})
    sizes = data.train.groupby("breath").size()
    assert len(data.train) <= 2_000 and len(sizes) >= 80 and (sizes == steps).all()
    assert data.spec.group_column == "breath"
    assert "a sample of %d, whole groups of 'breath'" % len(data.train) in caplog.text
    assert "a sample of the file's 8000, whole groups of `breath`" in (tmp_path / "run" / "profile.md").read_text()


def test_a_run_trains_on_at_most_max_train_rows(tmp_path: Path) -> None:
    import json

    from agent.compete import prepare_run
    from agent.config import Settings
    from agent.run_folder import RunFolder

    settings = Settings(max_train_rows=300, competitions_root=tmp_path / "comps")
    data = prepare_run(DEMO, "titanic", RunFolder(tmp_path / "run"), settings, {})
    total = len(pd.read_csv(DEMO / "train.csv"))
    assert len(data.train) == 300 < total and len(data.test) == len(pd.read_csv(DEMO / "test.csv"))
    facts = json.loads((tmp_path / "run" / "profile.json").read_text())
    assert facts["rows"] == {"train": 300, "test": len(data.test), "train_in_file": total}
    assert f"a sample of the file's {total}" in (tmp_path / "run" / "profile.md").read_text()


def test_the_automatic_row_cap_follows_the_budget_the_width_and_the_cores() -> None:
    from agent.compete import train_row_cap
    from agent.config import Settings

    assert train_row_cap(Settings(time_budget=300, n_jobs=2)) == 90_000
    assert train_row_cap(Settings(time_budget=300, n_jobs=2), n_columns=40) == 22_500
    assert train_row_cap(Settings(time_budget=300, n_jobs=4)) == 180_000
    assert train_row_cap(Settings(time_budget=10, n_jobs=2)) == 20_000  # never below the floor
    assert train_row_cap(Settings(time_budget=300, max_train_rows=0)) == 0  # 0 keeps every row


def test_large_training_sets_get_three_folds_unless_asked(tmp_path: Path) -> None:
    import numpy as np

    from agent.compete import prepare_run
    from agent.config import Settings
    from agent.run_folder import RunFolder

    rng = np.random.default_rng(0)
    folder = tmp_path / "big"
    folder.mkdir()
    n = 60_000
    pd.DataFrame({"id": range(n), "x": rng.normal(size=n), "y": rng.normal(size=n)}).to_csv(folder / "train.csv",
                                                                                          index=False)
    pd.DataFrame({"id": range(n, n + 100), "x": rng.normal(size=100)}).to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"id": range(n, n + 100), "y": 0.0}).to_csv(folder / "sample_submission.csv", index=False)
    for folds, expected in ((None, 3), (5, 5)):
        settings = Settings(folds=folds, time_budget=600, competitions_root=tmp_path / "comps")
        data = prepare_run(folder, "big", RunFolder(tmp_path / f"run-{folds}"), settings, {})
        assert len(data.train) == n and sorted(set(data.folds)) == list(range(expected))
    demo = prepare_run(DEMO, "titanic", RunFolder(tmp_path / "demo"), Settings(competitions_root=tmp_path / "c"), {})
    assert sorted(set(demo.folds)) == list(range(5))


def test_the_profile_says_whether_an_object_column_holds_bools_or_strings(tmp_path: Path) -> None:
    rows = 60
    pd.DataFrame({"id": range(rows), "flag": ([True, False, None] * rows)[:rows], "word": (["a", "b"] * rows)[:rows],
                  "y": ([0, 1] * rows)[:rows]}).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"id": range(rows, rows + 10), "flag": True, "word": "a"}).to_csv(tmp_path / "test.csv", index=False)
    pd.DataFrame({"id": range(rows, rows + 10), "y": 0}).to_csv(tmp_path / "sample_submission.csv", index=False)
    spec = spec_of(tmp_path)
    train, test = read_table(tmp_path / "train.csv"), read_table(tmp_path / "test.csv")
    columns = {c["name"]: c for c in profile(spec, train, test)["columns"]}
    assert columns["flag"]["dtype"] == "object" and columns["flag"]["value_types"] == ["bool"]
    assert "value_types" not in columns["word"]  # its dtype says it: str


def test_files_named_for_train_rows_only_leave_the_column_a_category(tmp_path: Path) -> None:
    """champs-scalar-coupling's layout: `structures/<molecule>.xyz` for train molecules only, and a metric
    scored within coupling types that the folds cannot know."""
    (tmp_path / "structures").mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for m in range(60):
        name = f"dsgdb9nsd_{m:06d}"
        if m < 50:
            (tmp_path / "structures" / f"{name}.xyz").write_text("3\n\nC 0 0 0\n")
        rows += [{"id": len(rows), "molecule_name": name, "type": t, "atom_index_0": 1, "atom_index_1": 0,
                  "scalar_coupling_constant": 90.0 if t == "1JHC" else rng.normal(3)} for t in ("1JHC", "2JHH")]
    frame = pd.DataFrame(rows)
    frame.iloc[:100].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[100:].drop(columns="scalar_coupling_constant").to_csv(tmp_path / "test.csv", index=False)
    frame.iloc[100:][["id"]].assign(scalar_coupling_constant=0).to_csv(tmp_path / "sample_submission.csv", index=False)
    spec = spec_of(tmp_path, layers=[("registry", {"metric": "mean_log_mae_by_group", "direction": "minimize"})])
    assert spec.file_columns == [] and "molecule_name" in spec.categorical_columns
    assert (spec.metric, spec.direction) == ("mae", "minimize") and "stand-in" in spec.sources["metric"]


def test_a_metric_that_gives_way_takes_its_direction_with_it(tmp_path: Path) -> None:
    """jigsaw-unintended-bias: the registry's AUC (maximize) cannot score a toxicity share fitted by
    regression; RMSE replaces it and must be minimised, or the search keeps its worst candidate."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": range(200), "comment_text": [f"w{i % 7} x{i % 3}" for i in range(200)],
                          "target": rng.random(200).round(4)})
    frame.iloc[:150].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[150:].drop(columns="target").to_csv(tmp_path / "test.csv", index=False)
    frame.iloc[150:][["id"]].assign(target=0.0).to_csv(tmp_path / "sample_submission.csv", index=False)
    spec = spec_of(tmp_path, layers=[("registry", {"metric": "auc", "direction": "maximize"})])
    assert (spec.task, spec.metric, spec.direction) == ("regression", "rmse", "minimize")
    assert spec.sources["direction"] == "metric"


def test_a_test_of_image_names_only_reads_the_images_and_else_says_what_is_missing(tmp_path: Path) -> None:
    """hotel-id: train.csv has the image, its chain and a timestamp; the test images are listed only by the
    sample, whose one input is the image its id names."""
    from PIL import Image

    (tmp_path / "train_images").mkdir()
    (tmp_path / "test_images").mkdir()
    names = [f"{i:04x}.jpg" for i in range(30)]
    for i, name in enumerate(names):
        folder = "train_images" if i < 20 else "test_images"
        Image.new("RGB", (8, 8), (10 * i, 0, 0)).save(tmp_path / folder / name)
    pd.DataFrame({"image": names[:20], "chain": [i % 3 for i in range(20)], "timestamp": pd.date_range(
        "2020-01-01", periods=20).astype(str), "hotel_id": [i % 4 for i in range(20)]}).to_csv(tmp_path / "train.csv",
                                                                                             index=False)
    pd.DataFrame({"image": names[20:], "hotel_id": "0 1 2 3 4"}).to_csv(tmp_path / "sample_submission.csv", index=False)
    spec = spec_of(tmp_path, layers=[("registry", {"metric": "map@5"})])
    assert spec.file_columns == ["image"] and spec.image_columns == ["image"] and spec.answer_shape == "labels"
    for name in names[20:]:
        (tmp_path / "test_images" / name).unlink()
    with pytest.raises(InputError, match="none of train's input columns .*'chain'.*name no files"):
        spec_of(tmp_path, layers=[("registry", {"metric": "map@5"})])


def test_votes_per_class_scored_as_shares_are_a_multiclass_target(tmp_path: Path) -> None:
    """hms: six `*_vote` counts per row, the sample's probabilities scored by KL divergence against the votes'
    shares: the classifier learns each row's most voted class, and its probabilities are the answer."""
    from pipelines.metrics import get_metric

    rng = np.random.default_rng(0)
    names = ["seizure_vote", "lpd_vote", "other_vote"]
    votes = rng.multinomial(12, [0.6, 0.3, 0.1], 200)[:, rng.permutation(3)]
    train = pd.DataFrame(votes, columns=names).assign(eeg_id=range(200), x=rng.normal(size=200))
    train.to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"eeg_id": range(200, 230), "x": 0.0}).to_csv(tmp_path / "test.csv", index=False)
    pd.DataFrame({"eeg_id": range(200, 230), **{n: 1 / 3 for n in names}}).to_csv(tmp_path / "sample_submission.csv",
                                                                                 index=False)
    spec = spec_of(tmp_path, [("flag", {"metric": "kl_divergence"})])
    assert (spec.task, spec.classes, spec.submission_kind, spec.metric) == ("multiclass", names, "proba",
                                                                              "kl_divergence")
    codes = encode_target(train, spec)
    np.testing.assert_array_equal(codes, votes.argmax(axis=1))
    kl, proba = get_metric("kl_divergence"), np.full((200, 3), 0.2) + 0.4 * np.eye(3)[codes]
    assert kl(codes, proba) == pytest.approx(-np.log(0.6))  # a certain class: the log loss
    assert kl(votes, proba) < kl(votes, np.full((200, 3), 1 / 3))


@pytest.mark.parametrize("values", [
    pd.Series([True, False, None], dtype=object), pd.Series([True, False]), pd.Series([1, 2, -3]),
    pd.Series([1, None], dtype="Int64"), pd.Series([0.1, 1e-5, np.nan, 2.0, 1e20, -0.0, np.inf, 3.5]),
    pd.Series([0.5, 2.0, np.nan]), pd.Series([" A b ", None, "x"]), pd.Series(["A", "b"], dtype=object),
    pd.Series([1, "a", 2.0, True], dtype=object), pd.Series([1.5, 2.0], dtype=np.float32),
    pd.Series(pd.to_datetime(["2020-01-01", None])), pd.Series([2**63 + 5], dtype=np.uint64),
], ids=lambda v: str(v.dtype))
def test_label_keys_of_a_column_are_label_key_of_each_value(values: pd.Series) -> None:
    from pipelines.targets import label_key, label_keys

    assert label_keys(values).tolist() == [label_key(v) for v in values]


def test_a_sample_draws_rows_where_groups_are_too_big_to_keep_whole() -> None:
    from pipelines.tables import sample_rows

    few = pd.DataFrame({"series": np.repeat(np.arange(20), 500), "t": range(10_000)})
    sample = sample_rows(few, 1_000, seed=0, by="series")  # two whole series would be the sample
    assert len(sample) == 1_000 and sample.attrs["sampled_by"] is None and sample["series"].nunique() == 20
    skewed = pd.DataFrame({"series": [0] * 9_000 + list(range(1, 1_001)), "t": range(10_000)})
    sample = sample_rows(skewed, 1_000, seed=0, by="series")
    assert 500 <= len(sample) <= 1_000 and sample["series"].is_unique and sample.attrs["sampled_by"] == "series"
