"""Answers that are several labels in one cell: a ranked list (MAP@k) or a set (micro F1 over label sets).

Generated in the layouts of whale-categorization-playground (an image name, one whale per photo, five
guesses ranked, MAP@5 named only by the description) and facebook-recruiting-iii-keyword-extraction (a
question's title, its space-separated tags), decided in the spec, cross-validated with the competition's
own metric on the labels written back as text, and run end to end through `agent compete`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agent.competition_files import find_files, load_tables
from agent.grading import grade_submission
from agent.understand import build_spec
from pipelines.metrics import get_metric
from pipelines.shapes.label_lists import indicators, is_label_list, predicted_text, truth_text, vocabulary
from pipelines.submission import submission_problems
from tests.test_shapes import FILLER, compete, with_answers

TAGS = "python pandas numpy regex java spring sql linux".split()
WHALES = [f"w_{k:07x}" for k in range(9)]


def questions(folder: Path, n: int = 700, n_test: int = 150, seed: int = 0) -> pd.DataFrame:
    """Titles of filler words around one word per tag (each word kept with probability 0.8); one to three tags."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        tags = list(rng.choice(TAGS, int(rng.integers(1, 4)), replace=False, p=np.linspace(2, 1, len(TAGS)) / 12))
        words = [f"{t}ish" for t in tags if rng.random() < 0.8] + list(rng.choice(FILLER, 6))
        rows.append({"Id": 1000 + i, "Title": " ".join(rng.permutation(words)), "Body": f"<p>{i}</p>",
                     "Tags": " ".join(tags)})
    frame = pd.DataFrame(rows)
    public = folder / "public"
    public.mkdir(parents=True)
    frame.iloc[:-n_test].to_csv(public / "train.csv", index=False)
    frame.iloc[-n_test:].drop(columns="Tags").to_csv(public / "test.csv", index=False)
    # as in the real sample, the question's Title and Body come before the placeholder tags
    frame.iloc[-n_test:][["Id", "Title", "Body"]].assign(Tags="python pandas").to_csv(
        public / "sample_submission.csv", index=False)
    return frame.iloc[-n_test:][["Id", "Tags"]]


def whales(folder: Path, n: int = 600, n_test: int = 120, seed: int = 0) -> pd.DataFrame:
    """One whale per photo, told apart by two measurements and a colour (noisy: the right whale is often
    second or third); `new_whale` is a label like any other."""
    rng = np.random.default_rng(seed)
    names = np.array(WHALES + ["new_whale"])
    whale = rng.integers(0, len(names), n)
    frame = pd.DataFrame({"Image": [f"{rng.bytes(4).hex()}.jpg" for _ in range(n)],
                          "length": whale % 3 + rng.normal(0, 0.6, n), "fin": whale // 3 + rng.normal(0, 0.6, n),
                          "colour": np.where(whale % 2 == 0, "grey", "dark"), "Id": names[whale]})
    public = folder / "public"
    public.mkdir(parents=True)
    frame.iloc[:-n_test].to_csv(public / "train.csv", index=False)
    frame.iloc[-n_test:].drop(columns="Id").to_csv(public / "test.csv", index=False)
    frame.iloc[-n_test:][["Image"]].assign(Id="new_whale " + " ".join(WHALES[:4])).to_csv(
        public / "sample_submission.csv", index=False)
    (public / "description.md").write_text("## Evaluation\nSubmissions are evaluated according to the Mean "
                                           "Average Precision @ 5 (MAP@5).\n")
    return frame.iloc[-n_test:][["Image", "Id"]]


def spec_of(folder: Path):
    files = find_files(folder)
    train, test, sample = load_tables(files)
    return build_spec(folder.parent.name, files, train, test, sample, []), train


def test_ranked_answers_list_the_most_probable_labels_first_and_sets_those_above_the_cut() -> None:
    proba = np.array([[0.1, 0.7, 0.2], [0.3, 0.3, 0.4]])
    assert list(predicted_text(proba, ["a", "b", "c"], ranked=2)) == ["b c", "c a"]
    assert list(predicted_text(proba, ["a", "b", "c"], ranked=None, cut=0.25)) == ["b", "c a b"]
    assert list(predicted_text(proba, ["a", "b", "c"], ranked=None)) == ["b", "c"]  # none above 0.5: the likeliest
    y = indicators(pd.Series(["b a", "c", "a zzz"]), ["a", "b", "c"])
    assert y.tolist() == [[1, 1, 0], [0, 0, 1], [1, 0, 0]]  # a label outside the vocabulary is dropped
    assert list(truth_text(y, ["a", "b", "c"])) == ["a b", "c", "a"]
    assert list(truth_text(np.array([2, 0]), ["a", "b", "c"])) == ["c", "a"]
    lists = pd.DataFrame({"tags": ["a b"] * 12 + ["c"] * 3})
    assert vocabulary(lists, "tags") == ["a", "b"]  # c is too rare for every fold's training rows to hold it
    assert vocabulary(lists.head(3), "tags") == ["a", "b"]  # none is common: the most frequent all the same


def test_a_label_column_that_held_one_class_in_training_predicts_that_class() -> None:
    from sklearn.dummy import DummyClassifier

    from pipelines.models import ColumnsInTurn

    y = np.array([[1, 0], [1, 0], [1, 1]])
    model = ColumnsInTurn(DummyClassifier(strategy="prior"), classifier=True).fit(np.zeros((3, 1)), y)
    first, second = model.predict_proba(np.zeros((2, 1)))
    assert first[:, 1].tolist() == [1.0, 1.0] and second[:, 1] == pytest.approx([1 / 3, 1 / 3])


def test_label_lists_are_told_from_classes_and_free_text() -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"tags": [" ".join(rng.choice(TAGS, int(rng.integers(1, 4)), replace=False))
                                   for _ in range(300)]})
    assert is_label_list(train, "tags", None)
    classes = pd.DataFrame({"tags": rng.choice(TAGS, 300)})
    assert not is_label_list(classes, "tags", None) and is_label_list(classes, "tags", "map@5")
    free = pd.DataFrame({"tags": [" ".join(rng.choice(list("abcdefghij"), 3)) + f" w{i} v{i}" for i in range(300)]})
    assert not is_label_list(free, "tags", None)  # most words occur once: text, not a vocabulary
    sentences = pd.DataFrame({"tags": [" ".join(rng.choice(FILLER, 12)) for _ in range(300)]})
    assert not is_label_list(sentences, "tags", None)  # a small vocabulary, but sentences repeat their words
    assert not is_label_list(pd.DataFrame({"tags": rng.normal(size=300)}), "tags", "map@5")


def test_the_spec_reads_tag_sets_as_labels_and_whales_as_ranked_classes(tmp_path: Path) -> None:
    questions(tmp_path / "tags")
    spec, train = spec_of(tmp_path / "tags" / "public")
    assert (spec.answer_shape, spec.task, spec.metric, spec.submission_columns) == \
        ("labels", "multilabel", "f1_micro_label_sets", ["Tags"])
    assert set(spec.classes) == set(TAGS) and spec.classes[0] == "python"  # most frequent first
    assert "Title" in spec.text_columns and "Tags" not in spec.feature_columns
    assert spec.passthrough_columns == ["Title", "Body"]  # carried over from test, not predicted
    whales(tmp_path / "whales")
    spec, train = spec_of(tmp_path / "whales" / "public")
    assert (spec.answer_shape, spec.task, spec.metric) == ("labels", "multiclass", "map@5")
    assert spec.classes == sorted(set(train["Id"])) and spec.id_column == "Image"
    wrong = pd.DataFrame({"Image": ["x.jpg"], "Id": ["w_0000000 w_9999999"]})
    assert any("outside" in p for p in submission_problems(wrong, wrong, spec))


@pytest.mark.slow
def test_tag_sets_end_to_end_fit_a_cut_and_beat_the_sample(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "tags", questions(tmp_path / "tags"), "f1_micro_label_sets")
    data, report = compete(folder, tmp_path / "run", budget=60, max_nodes=3)
    sample = grade_submission(folder, folder / "public" / "sample_submission.csv")
    assert data.spec.answer_shape == "labels" and report.score > sample.score + 0.3, (report.score, sample.score)
    submitted = pd.read_csv(tmp_path / "run" / "submission.csv")
    assert list(submitted.columns) == ["Id", "Title", "Body", "Tags"]
    assert submitted["Tags"].str.split().map(lambda t: set(t) <= set(TAGS) and len(t) >= 1).all()
    best = json.loads((tmp_path / "run" / "summary.json").read_text())["best"]
    assert best["score"] == pytest.approx(report.score, abs=0.1)  # the CV score is the metric on label text


@pytest.mark.slow
def test_ranked_whales_end_to_end_list_five_distinct_guesses(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "whales", whales(tmp_path / "whales"), "map@5")
    data, report = compete(folder, tmp_path / "run", budget=60, max_nodes=3)
    submitted = pd.read_csv(tmp_path / "run" / "submission.csv")["Id"].str.split()
    assert (submitted.map(len) == 5).all() and (submitted.map(lambda t: len(set(t))) == 5).all()
    sample = grade_submission(folder, folder / "public" / "sample_submission.csv")
    answers = pd.read_csv(folder / "private" / "answers.csv")
    top1 = get_metric("accuracy")(answers["Id"].to_numpy(), submitted.str[0].to_numpy())
    # the later guesses earn: the five score above the first guess alone
    assert report.score > sample.score + 0.2 and report.score > top1 + 0.05, (report.score, sample.score, top1)


def test_label_lists_answered_a_probability_column_per_label_are_a_multilabel_target(tmp_path: Path) -> None:
    """freesound-audio-tagging-2019: train_curated.csv lists each clip's labels ("Bark,Bus"), the sample
    asks for one probability column per label."""
    from pipelines.targets import encode_target

    rng = np.random.default_rng(0)
    labels = ["Bark", "Bus", "Sigh", "Zipper"]
    public = tmp_path / "public"
    public.mkdir()
    rows = [",".join(rng.choice(labels, int(rng.integers(1, 3)), replace=False)) for _ in range(60)]
    pd.DataFrame({"fname": [f"{i}.wav" for i in range(60)], "x": rng.normal(size=60), "labels": rows}).to_csv(
        public / "train.csv", index=False)
    pd.DataFrame({"fname": ["a.wav", "b.wav"], "x": [0.1, 0.2]}).to_csv(public / "test.csv", index=False)
    pd.DataFrame({"fname": ["a.wav", "b.wav"], **{label: 0 for label in labels}}).to_csv(
        public / "sample_submission.csv", index=False)
    spec, train = spec_of(public)
    assert (spec.task, spec.target_columns, spec.classes, spec.submission_kind) == \
        ("multilabel", ["labels"], labels, "proba")
    y = encode_target(train, spec)
    assert y.shape == (60, 4) and y[0].tolist() == [int(label in rows[0].split(",")) for label in labels]
