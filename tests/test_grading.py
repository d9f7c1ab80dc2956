"""Grading on small generated competition folders, in both layouts."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.grading import REGISTRY_SOURCE, grade_submission
from pipelines.errors import InputError
from pipelines.metrics import get_metric

RNG = np.random.default_rng(0)


def make_competition(
    root: Path,
    answers: pd.DataFrame,
    sample: pd.DataFrame,
    *,
    yaml: str | None = None,
    prepared: bool = False,
    answers_name: str = "answers.csv",
) -> Path:
    """A competition folder: practice layout, or MLE-bench's prepared/ layout."""
    base = root / "prepared" if prepared else root
    (base / "public").mkdir(parents=True)
    (base / "private").mkdir()
    sample.to_csv(base / "public" / "sample_submission.csv", index=False)
    answers.to_csv(base / "private" / answers_name, index=False)
    if yaml is not None:
        (root / "competition.yaml").write_text(yaml)
    return root


def write(path: Path, frame: pd.DataFrame | str) -> Path:
    if isinstance(frame, str):
        path.write_text(frame)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.fixture
def binary(tmp_path):
    """A 0/1 accuracy competition (practice layout, metric from competition.yaml)."""
    answers = pd.DataFrame({"Id": range(100, 120), "label": [0, 1] * 10})
    sample = answers.assign(label=0)
    comp = make_competition(
        tmp_path / "toy-binary", answers, sample,
        yaml="id: toy-binary\nmetric: accuracy   # fraction right\ndirection: maximize\n"
             "split:\n  method: nested keys are ignored\n",
    )
    return comp, answers


def grade(comp: Path, frame: pd.DataFrame | str, name: str = "submission.csv"):
    return grade_submission(comp, write(comp.parent / name, frame))


# ---------------------------------------------------------------- labels


def test_label_submissions_score_and_validity(binary):
    comp, answers = binary
    report = grade(comp, answers)
    assert report.valid and report.score == 1.0 and report.errors == []
    assert (report.competition, report.metric, report.direction) == ("toy-binary", "accuracy", "maximize")
    assert report.medal is None and report.thresholds is None and report.percentile is None
    assert grade(comp, answers.assign(label=0)).score == 0.5
    assert grade(comp, answers.sample(frac=1, random_state=1)).score == 1.0
    assert grade(comp, answers.assign(Id=answers.Id.astype(str) + ".0")).score == 1.0
    assert grade(comp, answers.assign(label=answers.label.astype(float))).score == 1.0
    assert grade(comp, answers[["label", "Id"]]).score == 1.0  # column order is free


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda a: a.head(5), "5 data rows but the answers have 20"),
        (lambda a: a.rename(columns={"label": "Label"}), "missing column"),
        (lambda a: a.assign(extra=1), "unexpected column"),
        (lambda a: pd.concat([a.iloc[:-1], a.iloc[:1]]), "duplicated id"),
        (lambda a: a.assign(Id=a.Id.replace(100, 999)), "not in the test set"),
        (lambda a: a.assign(label=a.label.astype(object).where(a.index != 3, "")), "empty or NaN"),
        (lambda a: a.assign(label=a.label.astype(object).where(a.index != 3, np.nan)), "empty or NaN"),
        (lambda a: a.assign(label=a.label.map({0: "False", 1: "True"})), "not valid labels"),
        (lambda a: a.assign(label=a.label * 0.8 + 0.1), "not valid labels"),
        (lambda a: a.assign(label=a.label + 1), "not valid labels"),
    ],
)
def test_invalid_label_submissions(binary, mutate, message):
    comp, answers = binary
    report = grade(comp, mutate(answers))
    assert not report.valid and report.score is None
    assert any(message in e for e in report.errors), report.errors


@pytest.mark.parametrize(
    "content, message",
    [("", "empty"), ("Id,label\n", "0 data rows"), ("Id,label\n100,0\n101,1,5,6\n", "parse"),
     ("Id,label\n100,0\n10", "empty or NaN")],
)
def test_broken_files_are_invalid_not_errors(binary, content, message):
    comp, _ = binary
    report = grade(comp, content)
    assert not report.valid and any(message in e for e in report.errors), report.errors


def test_missing_or_non_csv_submission_is_invalid(binary):
    comp, answers = binary
    missing = grade_submission(comp, comp / "nope.csv")
    assert not missing.valid and "not found" in missing.errors[0]
    assert "must be a .csv" in grade(comp, answers, name="submission.txt").errors[0]


def test_true_false_answers_accept_any_case_and_0_1(tmp_path):
    answers = pd.DataFrame({"PassengerId": ["a_1", "a_2", "b_1", "c_1"],
                            "Transported": ["True", "False", "True", "True"]})
    comp = make_competition(tmp_path / "tf", answers, answers.assign(Transported="False"),
                            yaml="metric: accuracy\n")
    assert grade(comp, answers.assign(Transported=["true", "FALSE", "True", "false"])).score == 0.75
    assert grade(comp, answers.assign(Transported=[1, 0, 1, 0])).score == 0.75
    assert not grade(comp, answers.assign(Transported=["yes", "no", "yes", "yes"])).valid


def test_text_and_numeric_multiclass_labels(tmp_path):
    answers = pd.DataFrame({"id": range(6), "animal": ["cat", "dog", "bird", "cat", "dog", "cat"]})
    comp = make_competition(tmp_path / "text", answers, answers.assign(animal="cat"),
                            yaml="metric: f1_macro\n")
    pred = ["cat", "dog", "cat", "cat", "bird", "cat"]
    expected = get_metric("f1_macro")(answers.animal.to_numpy(), np.array(pred))
    assert grade(comp, answers.assign(animal=pred)).score == round(expected, 5)
    assert grade(comp, answers.assign(animal="Cat")).score == 0.0  # text is case-sensitive

    grades = pd.DataFrame({"id": range(5), "grade": [0, 1, 2, 3, 3]})
    comp = make_competition(tmp_path / "qwk", grades, grades.assign(grade=0), yaml="metric: qwk\n")
    assert grade(comp, grades.assign(grade=[0.0, 1.0, 2.0, 3.0, 3.0])).score == 1.0
    assert grade(comp, grades.assign(grade=[0, 1, 2, 2, 3])).score == pytest.approx(
        round(get_metric("qwk")([0, 1, 2, 3, 3], [0, 1, 2, 2, 3]), 5))


# ---------------------------------------------------------------- probabilities


def test_binary_probability_column(tmp_path):
    answers = pd.DataFrame({"id": range(8), "is_iceberg": [0, 1, 0, 1, 1, 0, 0, 1]})
    comp = make_competition(tmp_path / "auc", answers, answers.assign(is_iceberg=0.5),
                            yaml="metric: roc_auc\n")
    proba = [0.1, 0.9, 0.2, 0.3, 0.8, 0.4, 0.35, 0.7]
    report = grade(comp, answers.assign(is_iceberg=proba))
    assert report.metric == "auc" and report.score == 14 / 16
    report = grade(comp, answers.assign(is_iceberg=[p * 2 for p in proba]))
    assert not report.valid and "outside [0, 1]" in report.errors[0]


def test_rows_named_by_a_later_column_and_carried_inputs(tmp_path):
    """detecting-insults: the sample is Insult, Date, Comment. Insult repeats, so the Comment names
    the rows; the Date repeats the answers' own values and is carried, not scored."""
    answers = pd.DataFrame({"Insult": [0, 1, 0, 1, 1, 0], "Date": ["20120618Z", "", "20120619Z", "", "20120620Z", ""],
                            "Comment": [f'"comment {i}"' for i in range(6)], "Usage": "PrivateTest"})
    comp = make_competition(tmp_path / "insults", answers, answers[["Insult", "Date", "Comment"]].assign(Insult=0),
                            yaml="metric: auc\n")
    proba = [0.1, 0.9, 0.2, 0.3, 0.8, 0.4]
    report = grade(comp, answers[["Insult", "Date", "Comment"]].assign(Insult=proba).iloc[::-1])
    assert report.valid and report.score == pytest.approx(8 / 9, abs=1e-5)  # reports round to 5 places
    report = grade(comp, answers[["Insult", "Comment"]].assign(Insult=proba))
    assert not report.valid and "missing column(s) ['Date']" in report.errors[0]


def test_rows_matched_by_order_when_a_comment_repeats(tmp_path):
    """detecting-insults with a comment twice in test: no column names the rows once each, so they
    are matched by position, as MLE-bench does; a reordered submission is named invalid."""
    answers = pd.DataFrame({"Insult": [0, 1, 0, 1, 1, 0], "Date": ["20120618Z", "", "20120619Z", "", "", ""],
                            "Comment": ['"you idiot"', '"you idiot"', '"hi"', '"moron"', '"idiot"', '"ok"'],
                            "Usage": "PrivateTest"})
    answers.loc[0, "Insult"] = 1  # the repeated comment is an insult both times
    comp = make_competition(tmp_path / "insults", answers, answers[["Insult", "Date", "Comment"]].assign(Insult=0),
                            yaml="metric: auc\n")
    proba = [0.9, 0.8, 0.1, 0.7, 0.6, 0.2]
    report = grade(comp, answers[["Insult", "Date", "Comment"]].assign(Insult=proba))
    assert report.valid and report.score == 1.0
    report = grade(comp, answers[["Insult", "Date", "Comment"]].assign(Insult=proba).iloc[::-1])
    assert not report.valid and "matched by their order" in report.errors[0]


@pytest.fixture
def three_classes(tmp_path):
    classes = ["EAP", "HPL", "MWS"]
    labels = np.array(["EAP", "MWS", "EAP", "HPL", "EAP", "MWS"])  # HPL seen once
    proba = RNG.dirichlet(np.ones(3), len(labels))
    submission = pd.DataFrame(proba, columns=classes).assign(id=[f"id{i}" for i in range(6)])
    submission = submission[["id", *classes]]
    sample = submission.assign(EAP=1 / 3, HPL=1 / 3, MWS=1 / 3)
    codes = np.array([classes.index(x) for x in labels])
    expected = round(get_metric("logloss_multiclass")(codes, proba), 5)
    return tmp_path, classes, labels, submission, sample, expected


def test_class_probabilities_against_one_hot_answers(three_classes):
    root, classes, labels, submission, sample, expected = three_classes
    one_hot = pd.DataFrame((labels[:, None] == np.array(classes)).astype(int), columns=classes)
    answers = one_hot.assign(id=submission.id)[["id", *classes]]
    # MLE-bench layout: prepared/private/test.csv, slug from the folder, metric from the registry
    comp = make_competition(root / "spooky-author-identification", answers, sample,
                            prepared=True, answers_name="test.csv")
    report = grade(comp, submission)
    assert report.valid and report.metric == "logloss_multiclass" and report.score == expected
    assert report.direction == "minimize"


def test_class_probabilities_against_a_label_column(three_classes):
    root, classes, labels, submission, sample, expected = three_classes
    answers = pd.DataFrame({"id": submission.id, "author": labels})
    comp = make_competition(root / "spooky", answers, sample, yaml="metric: multi_logloss\n")
    assert grade(comp, submission).score == expected
    # rows need not sum to 1: they are renormalised, as Kaggle does
    assert grade(comp, submission.assign(**{c: submission[c] / 2 for c in classes})).score == expected
    report = grade(comp, submission.assign(EAP=-0.1))
    assert not report.valid and "outside [0, 1]" in report.errors[0]


def test_label_column_must_be_known(tmp_path):
    answers = pd.DataFrame({"id": [1, 2], "author": ["EAP", "ZZZ"], "text": ["a", "b"]})
    sample = pd.DataFrame({"id": [1, 2], "EAP": 0.5, "ZZZ": 0.5})
    comp = make_competition(tmp_path / "amb", answers, sample, yaml="metric: multi_logloss\n")
    with pytest.raises(InputError, match="target_column"):
        grade(comp, sample)
    comp = make_competition(tmp_path / "named", answers, sample,
                            yaml="metric: multi_logloss\ntarget_column: author\n")
    assert grade(comp, sample).score == round(math.log(2), 5)


# ---------------------------------------------------------------- values


def test_multi_column_regression_scores_only_answered_columns(tmp_path):
    truth = RNG.random((10, 2))
    answers = pd.DataFrame(truth, columns=["a", "b"]).assign(id=range(10))
    sample = answers.assign(a=0.0, b=0.0, unscored=0.0)[["id", "a", "b", "unscored"]]
    comp = make_competition(tmp_path / "multi", answers, sample, yaml="metric: mcrmse\n")
    pred = truth + np.array([0.1, 0.3])
    submission = sample.assign(a=pred[:, 0], b=pred[:, 1])
    assert grade(comp, submission).score == pytest.approx(0.2)
    assert not grade(comp, submission.drop(columns="unscored")).valid
    report = grade(comp, submission.assign(b="x"))
    assert not report.valid and "non-numeric" in report.errors[0]


def test_log_metrics_refuse_what_kaggle_refuses(tmp_path):
    answers = pd.DataFrame({"Id": [1, 2], "SalePrice": [100.0, 1000.0]})
    comp = make_competition(tmp_path / "prices", answers, answers.assign(SalePrice=1.0),
                            yaml="metric: rmse_log\ndirection: minimize\n")
    assert grade(comp, answers.assign(SalePrice=[110.0, 1000.0])).score == round(
        math.log(1.1) / math.sqrt(2), 5)
    report = grade(comp, answers.assign(SalePrice=[0.0, 1000.0]))
    assert not report.valid and "> 0" in report.errors[0]
    comp = make_competition(tmp_path / "counts", answers, answers, yaml="metric: rmsle\n")
    assert grade(comp, answers).score == 0.0
    assert ">= 0" in grade(comp, answers.assign(SalePrice=[-1.0, 5.0])).errors[0]


# ---------------------------------------------------------------- metric sources


def test_spec_yaml_beats_the_local_competition_yaml(tmp_path):
    answers = pd.DataFrame({"PassengerId": [1, 2, 3, 4], "Survived": [0, 1, 1, 0]})
    comp = make_competition(tmp_path / "x", answers, answers.assign(Survived=0),
                            yaml="id: titanic\nmetric: f1\ndirection: maximize\n")
    report = grade(comp, answers.assign(Survived=0))
    assert report.metric == "accuracy" and report.score == 0.5  # f1 would be 0.0


@pytest.mark.parametrize(
    "yaml, message",
    [(None, "no metric known"), ("metric: map@7\n", "cannot be graded"),
     ("metric: rmse\ndirection: up\n", "direction")],
)
def test_competitions_that_cannot_be_graded(tmp_path, yaml, message):
    answers = pd.DataFrame({"id": [1], "y": [1.0]})
    comp = make_competition(tmp_path / "unknown-comp", answers, answers, yaml=yaml)
    with pytest.raises(InputError, match=message):
        grade(comp, answers)


def test_missing_answers_cannot_be_graded(binary):
    comp, answers = binary
    (comp / "private" / "answers.csv").unlink()
    with pytest.raises(InputError, match="which file holds the answers"):
        grade(comp, answers)
    with pytest.raises(InputError, match="public/ and private/"):
        grade_submission(comp / "public", comp / "x.csv")


# ---------------------------------------------------------------- medals


def test_leaderboard_thresholds_award_medals(binary):
    comp, answers = binary
    # N = 10, higher is better: gold, silver, bronze at positions 1, 2, 4; median 0.725
    scores = [0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5]
    write(comp / "leaderboard.csv", pd.DataFrame({"rank": range(1, 11), "score": scores}))
    perfect = grade(comp, answers)
    assert perfect.medal == "gold" and perfect.any_medal and perfect.above_median
    assert perfect.percentile == 100.0
    assert perfect.thresholds == {"gold": 0.95, "silver": 0.9, "bronze": 0.8, "median": 0.725,
                                  "lower_is_better": False, "leaderboard_rows": 10,
                                  "source": str(comp / "leaderboard.csv")}
    wrong = np.r_[np.ones(2, dtype=int), np.zeros(18, dtype=int)]  # 2 of 20 flipped -> 0.9
    silver = grade(comp, answers.assign(label=np.where(wrong == 1, 1 - answers.label, answers.label)))
    assert silver.score == 0.9 and silver.medal == "silver"  # a tie at the cut-off counts
    assert silver.percentile == 80.0  # strictly beats 8 of 10
    half = grade(comp, answers.assign(label=0))
    assert half.score == 0.5 and half.medal is None and not half.above_median
    assert half.percentile == 0.0
    invalid = grade(comp, answers.head(3))
    assert not invalid.valid and invalid.medal is None and not invalid.any_medal
    assert invalid.thresholds is not None and invalid.percentile is None


def test_a_prepared_folder_finds_the_leaderboard_beside_it(tmp_path):
    """MLE-bench practice folders keep leaderboard.csv next to `prepared/`; grading `<comp>/prepared` finds it."""
    answers = pd.DataFrame({"id": range(4), "label": [0, 1, 1, 0]})
    comp = make_competition(tmp_path / "comp", answers, answers.assign(label=0), prepared=True)
    write(comp / "prepared" / "competition.yaml", "metric: accuracy\n")
    write(comp / "leaderboard.csv", pd.DataFrame({"score": [1.0, 0.9, 0.6, 0.4]}))
    report = grade(comp / "prepared", answers.assign(label=[0, 1, 1, 1]))
    assert report.score == 0.75 and report.percentile == 50.0
    assert report.thresholds["source"] == str(comp / "leaderboard.csv")


def test_lower_is_better_board_and_strict_median(binary, tmp_path):
    comp, answers = binary
    board = write(tmp_path / "board.csv", pd.DataFrame({"score": [0.0, 0.1, 0.3, 0.5, 0.5, 0.9]}))
    # N = 6: positions 1, 1, 2 -> gold 0.0, silver 0.0, bronze 0.1; median 0.4
    sub = write(tmp_path / "s.csv", answers.assign(label=0))  # accuracy 0.5, read as an error
    report = grade_submission(comp, sub, leaderboard=board)
    assert report.thresholds["lower_is_better"] and report.thresholds["median"] == 0.4
    assert report.medal is None and not report.above_median  # 0.5 is worse than 0.4
    assert report.percentile == round(100 / 6, 2)  # beats only 0.9


def test_registry_thresholds(tmp_path):
    # detecting-insults-in-social-commentary: AUC, N = 50, gold 0.83321 at position 5
    answers = pd.DataFrame({"Comment": ["a", "b", "c", "d"], "Insult": [0, 1, 0, 1]})
    comp = make_competition(tmp_path / "detecting-insults-in-social-commentary", answers,
                            answers.assign(Insult=0.5), prepared=True, answers_name="test.csv")
    report = grade(comp, answers.assign(Insult=[0.1, 0.9, 0.2, 0.8]))
    assert report.metric == "auc" and report.score == 1.0 and report.medal == "gold"
    assert report.thresholds["source"] == REGISTRY_SOURCE and "MLE-Dojo" in REGISTRY_SOURCE
    assert report.percentile == 90.0  # at least as good as position 5 of 50
    below = grade(comp, answers.assign(Insult=[0.9, 0.1, 0.8, 0.2]))
    assert below.score == 0.0 and below.medal is None and below.percentile == 0.0


# ---------------------------------------------------------------- CLI

MLEBENCH_KEYS = ("competition_id", "score", "gold_threshold", "silver_threshold", "bronze_threshold",
                 "median_threshold", "any_medal", "gold_medal", "silver_medal", "bronze_medal", "above_median",
                 "submission_exists", "valid_submission", "is_lower_better", "created_at", "submission_path")


def test_cli_prints_one_json_line(binary):
    comp, answers = binary
    runner = CliRunner()
    good = write(comp.parent / "good.csv", answers)
    result = runner.invoke(app, ["grade", str(comp), str(good)])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    expected = grade_submission(comp, good).to_dict()
    assert list(printed)[:len(MLEBENCH_KEYS)] == list(MLEBENCH_KEYS)  # MLE-bench's report keys, in its order
    assert {k: v for k, v in printed.items() if k != "created_at"} == {k: v for k, v in expected.items()
                                                                      if k != "created_at"}
    assert printed["valid_submission"] and printed["submission_exists"] and printed["is_lower_better"] is False
    bad = write(comp.parent / "bad.csv", answers.head(2))
    result = runner.invoke(app, ["grade", str(comp), str(bad)])
    assert result.exit_code == 1 and json.loads(result.stdout)["valid_submission"] is False
    assert result.stderr.startswith("invalid submission: ")
    result = runner.invoke(app, ["grade", str(comp), str(comp.parent / "none.csv")])
    assert result.exit_code == 1 and json.loads(result.stdout)["submission_exists"] is False
    (comp / "private" / "answers.csv").unlink()
    result = runner.invoke(app, ["grade", str(comp), str(good)])
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_rows_marked_minus_one_everywhere_are_not_scored(tmp_path):
    """test_labels.csv style: rows that are -1 in every column do not count, but must be submitted."""
    answers = pd.DataFrame({"id": [f"r{i}" for i in range(8)], "toxic": [0, 1, -1, 0, 1, -1, 1, 0],
                            "insult": [1, 0, -1, 0, 1, -1, 0, 1]})
    comp = make_competition(tmp_path / "labels", answers, answers.assign(toxic=0.5, insult=0.5),
                            yaml="metric: auc_mean_columnwise\n")
    proba = pd.DataFrame({"toxic": [0.2, 0.7, 0.9, 0.1, 0.6, 0.0, 0.4, 0.5], "insult": [0.8, 0.3, 0.1, 0.2, 0.6, 0.9, 0.1, 0.7]})
    report = grade(comp, answers[["id"]].join(proba))
    kept = answers.index[answers.toxic >= 0]
    expected = get_metric("auc_mean_columnwise")(answers.loc[kept, ["toxic", "insult"]].to_numpy(),
                                                 proba.loc[kept].to_numpy())
    assert report.valid and report.score == pytest.approx(expected, abs=1e-5) and 0 < expected < 1
    report = grade(comp, answers[["id"]].join(proba).drop(index=2))
    assert not report.valid and "missing from the submission: 'r2'" in " ".join(report.errors)


def test_sample_submission_shipped_only_zipped(tmp_path):
    """text-normalization: public/ has en_sample_submission_2.csv.zip and no plain sample."""
    answers = pd.DataFrame({"id": ["0_0", "0_1", "1_0"], "after": ["the", "one hundred", "b b c"]})
    comp = make_competition(tmp_path / "tokens", answers, answers, yaml="metric: accuracy\n")
    sample = comp / "public" / "sample_submission.csv"
    answers.assign(after=["the", "100", "BBC"]).to_csv(comp / "public" / "en_sample_submission_2.csv.zip", index=False)
    sample.unlink()
    report = grade(comp, answers.assign(after=["the", "one hundred", "bbc"]))
    assert report.valid and report.score == pytest.approx(2 / 3, abs=1e-5)


def test_older_names_for_the_sample_and_float_mask_sizes(tmp_path):
    """multi-modal-gesture-recognition's sample is randomPredictions.csv; uw-madison's answers give each
    image's height and width as floats ("40.0")."""
    from pipelines import rle

    answers = pd.DataFrame({"Id": [1, 2], "Sequence": ["1 2 3", "4"]})
    comp = make_competition(tmp_path / "gestures", answers, answers, yaml="metric: levenshtein_per_token\n")
    (comp / "public" / "sample_submission.csv").rename(comp / "public" / "randomPredictions.csv")
    assert grade(comp, answers).score == 0.0
    mask = np.zeros((2, 3), bool)
    mask[0, :] = True
    answers = pd.DataFrame({"id": ["a"], "segmentation": [rle.encode(mask)], "image_height": [2.0],
                            "image_width": [3.0]})
    comp = make_competition(tmp_path / "slices", answers, answers[["id", "segmentation"]], yaml="metric: dice\n")
    assert grade(comp, answers[["id", "segmentation"]]).score == 1.0


# ---------------------------------------------------------------- strings, masks, groups


def test_answers_naming_the_one_answer_column_otherwise(tmp_path):
    """hubmap-kidney-segmentation: the answers' masks are `encoding` beside the image's size, the sample's
    column `predicted`; a mask's size asked for beside it is no second answer."""
    from pipelines import rle

    mask = np.zeros((4, 5), bool)
    mask[1:3, 1:4] = True
    answers = pd.DataFrame({"id": ["a", "b"], "encoding": [rle.encode(mask), rle.encode(~mask)],
                            "width_pixels": [5, 5], "height_pixels": [4, 4]})
    sample = pd.DataFrame({"id": ["a", "b"], "predicted": ""})
    comp = make_competition(tmp_path / "kidney", answers, sample, yaml="metric: dice\n")
    assert grade(comp, sample.assign(predicted=answers["encoding"])).score == 1.0
    assert grade(comp, sample.assign(predicted=[rle.encode(mask)] * 2)).score == pytest.approx(0.5)
    # contrails: the sample asks for the masks' height and width beside them, as the answers hold them
    answers = pd.DataFrame({"record_id": ["a", "b"], "encoded_pixels": [rle.encode(mask), rle.encode(~mask)],
                            "height": [4, 4], "width": [5, 5]})
    comp = make_competition(tmp_path / "contrails", answers, answers.assign(encoded_pixels="-"), yaml="metric: dice\n")
    assert grade(comp, answers).score == 1.0


def test_mask_answers_take_their_shape_from_the_test_images(tmp_path):
    # tgs-salt: the registry names mean_precision_iou; answers hold only id and rle_mask, so the
    # 5x5 size comes from public/test/images/<id>.png
    from PIL import Image

    from pipelines import rle

    masks = {"0123": np.zeros((5, 5), bool), "b2": np.zeros((5, 5), bool)}  # "0123" as written
    masks["b2"][:4, :] = True  # 20 of 25 pixels
    answers = pd.DataFrame({"id": list(masks), "rle_mask": [rle.encode(m) for m in masks.values()]})
    comp = make_competition(tmp_path / "tgs-salt-identification-challenge", answers,
                            answers.assign(rle_mask="1 1"), prepared=True, answers_name="test.csv")
    images = comp / "prepared" / "public" / "test" / "images"
    images.mkdir(parents=True)
    for name in masks:
        Image.fromarray(np.zeros((5, 5), np.uint8)).save(images / f"{name}.png")
    perfect = grade(comp, answers)
    assert perfect.metric == "mean_precision_iou" and perfect.score == 1.0 and perfect.medal == "gold"
    # empty masks: 1 for the empty image; IoU 20/25 = 0.8 beats 6 of the 10 thresholds
    assert grade(comp, answers.assign(rle_mask="")).score == pytest.approx((1 + 0.6) / 2)
    broken = grade(comp, answers.assign(rle_mask=["", "3 2 1 2"]))
    assert not broken.valid and "sorted" in broken.errors[0]


def test_mask_answers_take_their_shape_from_dicom_test_images(tmp_path):
    from pipelines import rle
    from tests.test_dicom import write_dicom

    mask = np.zeros((6, 4), bool)
    mask[:3] = True
    answers = pd.DataFrame({"id": ["scan1"], "rle_mask": [rle.encode(mask)]})
    comp = make_competition(tmp_path / "scans", answers, answers.assign(rle_mask="1 1"), prepared=True,
                            yaml="metric: dice\n")
    (comp / "prepared" / "public" / "test").mkdir(parents=True)
    write_dicom(comp / "prepared" / "public" / "test" / "scan1.dcm", np.zeros((6, 4), np.uint16))
    assert grade(comp, answers).score == 1.0
    outside = grade(comp, answers.assign(rle_mask="20 10"))  # runs past the scan's 24 pixels
    assert not outside.valid


def test_span_answers_accept_empty_predictions(tmp_path):
    answers = pd.DataFrame({"textID": ["t1", "t2"], "selected_text": ["so happy today", "bad"]})
    comp = make_competition(tmp_path / "spans", answers, answers.assign(selected_text="x"),
                            yaml="metric: jaccard_word\n")
    # {so, happy, today} vs {happy}: 1/3; "" vs {bad}: 0
    report = grade(comp, answers.assign(selected_text=["Happy", ""]))
    assert report.valid and report.score == pytest.approx(round(1 / 6, 5))


def test_grouped_metric_reads_its_group_column_from_the_spec(tmp_path):
    answers = pd.DataFrame({"id": [1, 2, 3], "type": ["1JHC", "1JHC", "2JHH"], "y": [0.0, 0, 0]})
    sample = answers[["id", "y"]]
    comp = make_competition(tmp_path / "couplings", answers, sample,
                            yaml="metric: mean_log_mae_by_group\ngroup_column: type\n")
    # 1JHC: MAE 2 -> ln 2; 2JHH: MAE 0.5 -> ln 0.5; mean 0
    assert grade(comp, sample.assign(y=[1, 3, 0.5])).score == pytest.approx(0.0)
    unnamed = make_competition(tmp_path / "no-groups", answers, sample,
                               yaml="metric: mean_log_mae_by_group\n")
    with pytest.raises(InputError, match="group_column"):
        grade(unnamed, sample)


def test_sample_rows_beyond_the_answers_are_allowed_and_not_scored(tmp_path):
    """h-and-m: the sample lists every customer, the answers those who bought in the held-out week."""
    from agent.grading import perfect_submission

    answers = pd.DataFrame({"customer_id": ["c1", "c3"], "prediction": ["0101 0102", "0103"]})
    sample = pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"], "prediction": "0706016001 0706016002"})
    comp = make_competition(tmp_path / "hm", answers, sample, yaml="metric: map@12\n")
    full = sample.assign(prediction=["0101 0102", "0999", "0103 0104", "0999"])
    report = grade(comp, full)
    assert report.valid and report.score == pytest.approx(1.0)
    assert grade(comp, full.iloc[[0, 2]]).score == pytest.approx(1.0)  # a superset of the answers is enough
    report = grade(comp, full.iloc[[0, 1]])
    assert not report.valid and "1 test id(s) missing" in report.errors[0]
    report = grade(comp, pd.concat([full, pd.DataFrame({"customer_id": ["c9"], "prediction": ["1"]})]))
    assert not report.valid and "not in the test set" in " ".join(report.errors)
    assert grade(comp, perfect_submission(comp)).score == pytest.approx(1.0)


def test_a_sample_written_with_its_row_numbers_is_read_without_them(tmp_path):
    """iwildcam-2019's sample was saved with pandas' index (of a filtered table): a nameless first column of
    numbers; train.csv here with 0, 1, 2, ..."""
    from agent.competition_files import find_files, load_tables

    answers = pd.DataFrame({"Id": ["a", "b", "c"], "Category": [0, 19, 0]})
    comp = make_competition(tmp_path / "cams", answers, answers.assign(Category=0), yaml="metric: accuracy\n")
    answers.assign(Category=0).set_axis([3, 8, 11]).to_csv(comp / "public" / "sample_submission.csv", index=True)
    pd.DataFrame({"Id": ["d", "e"], "x": [1, 2], "Category": [0, 19]}).to_csv(comp / "public" / "train.csv",
                                                                            index=True)
    train, _, sample = load_tables(find_files(comp))
    assert list(sample.columns) == ["Id", "Category"] and list(train.columns) == ["Id", "x", "Category"]
    assert grade(comp, answers).score == 1.0
    assert grade(comp, (comp / "public" / "sample_submission.csv").read_text()).valid  # the sample as it is
    from pipelines.tables import read_table

    (tmp_path / "nameless.csv").write_text(",target\n100,0\n205,1\n317,0\n")  # the only column naming the rows
    assert list(read_table(tmp_path / "nameless.csv").columns) == ["Unnamed: 0", "target"]
