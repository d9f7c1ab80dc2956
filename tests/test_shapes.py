"""Answers that are not one label or number per row: rows matched by order, spans and strings.

Each shape is decided once in the spec from generated layouts of the real competitions' files
(detecting-insults, tweet-sentiment-extraction, text-normalization) and run end to end through
`agent compete`, graded by `agent grade` against the constant the run starts from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agent.competition_files import find_files, load_tables
from agent.engineers.base import Brief
from agent.engineers.prompts import Limits, contract_section
from agent.profile import profile, profile_markdown
from agent.grading import grade_submission
from agent.understand import build_spec
from pipelines.context import Context
from pipelines.harness import SolutionError, cross_validate
from pipelines.metrics import get_metric
from pipelines.rundata import RunData
from pipelines.shapes.label_sets import split_ids
from pipelines.shapes.pixels import grey
from pipelines.shapes.sequences import sequence_items
from pipelines.shapes.spans import candidates, span_text, window_jaccard
from pipelines.shapes.strings import string_shape
from pipelines.submission import submission_problems, write_submission
from pipelines.tables import read_table
from pipelines.targets import submission_frame
from tests.conftest import agent_command

FILLER = "i the a to my is it and so was at for on just day going now today work home got this".split()
POSITIVE, NEGATIVE = "good great love happy nice".split(), "bad sad hate miss sick".split()


def spec_of(folder: Path):
    files = find_files(folder)
    train, test, sample = load_tables(files)
    return build_spec(folder.name, files, train, test, sample, [])


def tweets(folder: Path, n: int = 600, n_test: int = 150, seed: int = 0) -> pd.DataFrame:
    """tweet-sentiment-extraction's files: the selected text is the sentiment's words, or the whole
    text for neutral tweets; the sample's answers are empty. Returns the answers."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        sentiment = rng.choice(["neutral", "positive", "negative"])
        words = list(rng.choice(FILLER, int(rng.integers(4, 12))))
        if sentiment == "neutral":
            selected = words
        else:
            at, run = int(rng.integers(0, len(words) + 1)), list(rng.choice(POSITIVE if sentiment == "positive" else NEGATIVE, 2))
            words[at:at] = run
            selected = run
        rows.append({"textID": f"t{i:05d}", "text": " ".join(words), "selected_text": " ".join(selected),
                     "sentiment": sentiment})
    frame = pd.DataFrame(rows)
    public = folder / "public"
    public.mkdir(parents=True)
    frame.iloc[:-n_test].to_csv(public / "train.csv", index=False)
    test = frame.iloc[-n_test:]
    test.drop(columns=["selected_text"]).to_csv(public / "test.csv", index=False)
    test[["textID"]].assign(selected_text="").to_csv(public / "sample_submission.csv", index=False)
    (public / "description.md").write_text("## Evaluation\nThe metric is the word-level Jaccard score.\n")
    return test[["textID", "selected_text"]]


def normalisation(folder: Path, n_sentences: int = 300, n_test: int = 40, seed: int = 0) -> pd.DataFrame:
    """text-normalization's files: a row per token, `after` repeats `before` except numbers and
    letters, which are spoken; the submission's id is `<sentence_id>_<token_id>`, absent from test."""
    rng = np.random.default_rng(seed)
    digits = "zero one two three four five six seven eight nine".split()
    spoken = {str(k): " ".join(digits[int(d)] for d in str(k)) for k in range(60)}
    rows = []
    for s in range(n_sentences):
        for t in range(int(rng.integers(3, 9))):
            kind = rng.random()
            before = str(rng.choice(FILLER)) if kind < 0.7 else str(rng.integers(0, 60)) if kind < 0.9 else "AB"
            after = spoken.get(before, "a b" if before == "AB" else before)
            rows.append({"sentence_id": s, "token_id": t, "class": "CARDINAL" if before in spoken else "PLAIN",
                         "before": before, "after": after})
    frame = pd.DataFrame(rows)
    is_test = frame["sentence_id"] >= n_sentences - n_test
    public = folder / "public"
    public.mkdir(parents=True)
    frame[~is_test].to_csv(public / "en_train.csv", index=False)
    test = frame[is_test].assign(sentence_id=lambda f: f["sentence_id"] - (n_sentences - n_test))
    test.drop(columns=["class", "after"]).to_csv(public / "en_test_2.csv", index=False)
    test = test.assign(id=test["sentence_id"].astype(str) + "_" + test["token_id"].astype(str))
    test[["id", "before"]].rename(columns={"before": "after"}).to_csv(public / "en_sample_submission_2.csv", index=False)
    return test[["id", "after"]]


def insults(folder: Path, n: int = 500, n_test: int = 120, seed: int = 0) -> pd.DataFrame:
    """detecting-insults' files with a comment twice in test: no column names the rows once each."""
    rng = np.random.default_rng(seed)
    insult = rng.random(n) < 0.3
    comments = [f'"{" ".join(rng.choice(FILLER, int(rng.integers(3, 10))))}{" you idiot" if bad else ""}"'
                for bad in insult]
    dates = [f"201206{rng.integers(10, 28)}000000Z" if rng.random() < 0.7 else "" for _ in range(n)]
    frame = pd.DataFrame({"Insult": insult.astype(int), "Date": dates, "Comment": comments})
    frame.loc[n - 1, ["Insult", "Comment"]] = frame.loc[n - 2, ["Insult", "Comment"]].to_numpy()
    public = folder / "public"
    public.mkdir(parents=True)
    frame.iloc[:-n_test].to_csv(public / "train.csv", index=False)
    test = frame.iloc[-n_test:]
    test[["Date", "Comment"]].to_csv(public / "test.csv", index=False)
    test.assign(Insult=0).to_csv(public / "sample_submission_null.csv", index=False)
    (public / "description.md").write_text("## Evaluation\nSubmissions are scored by the area under the ROC curve.\n")
    return test.assign(Usage="PrivateTest")


def molecules(folder: Path, n: int = 90, n_test: int = 20, length: int = 16, scored: int = 12,
              seed: int = 0) -> pd.DataFrame:
    """stanford-covid-vaccine's files: JSON lines per molecule with a character per position, two rates
    as lists of the scored positions in train; the sample has a row per `<id>_<position>`. The answers
    mark unscored positions -1, the rows grading leaves out."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        sequence = "".join(rng.choice(list("ACGU"), length))
        structure = "".join(rng.choice(list("(.)"), length))
        rate = np.array([0.2 + (c == ".") + 0.5 * (b in "AG") for b, c in zip(sequence, structure)])
        records.append({"id": f"id_{i:04d}", "sequence": sequence, "structure": structure, "seq_length": length,
                        "reactivity": (rate + rng.normal(0, 0.1, length))[:scored].round(4).tolist(),
                        "deg_50C": (0.5 * rate + rng.normal(0, 0.1, length))[:scored].round(4).tolist(),
                        "reactivity_error": rng.uniform(0, 1, scored).round(3).tolist()})
    frame = pd.DataFrame(records)
    public = folder / "public"
    public.mkdir(parents=True)
    frame.iloc[:-n_test].to_json(public / "train.json", orient="records", lines=True)
    test = frame.iloc[-n_test:]
    test[["id", "sequence", "structure", "seq_length"]].to_json(public / "test.json", orient="records", lines=True)
    rows = [{"id_seqpos": f"{r['id']}_{j}", **{c: str(r[c][j]) if j < scored else "-1" for c in ("reactivity", "deg_50C")}}
            for _, r in test.iterrows() for j in range(length)]
    answers = pd.DataFrame(rows)
    answers.assign(reactivity=0.0, deg_50C=0.0).to_csv(public / "sample_submission.csv", index=False)
    return answers


def documents(folder: Path, n: int = 14, n_test: int = 4, height: int = 30, width: int = 44, seed: int = 0) -> pd.DataFrame:
    """denoising-dirty-documents' files: grey pages `train/<n>.png` (text strokes under a stain and noise)
    with their clean versions in `train_cleaned/`, pages to clean in `test/`, no tables but the sample,
    a row per test pixel `<n>_<row>_<col>` (1-based) saying 1. Returns the answers."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    answers = []
    for i in range(n + n_test):
        clean = np.ones((height, width))
        for row in range(3, height - 4, 7):  # lines of dark strokes
            for col in rng.choice(width - 3, width // 4, replace=False):
                clean[row:row + 3, col:col + 2] = rng.uniform(0.0, 0.2)
        yy, xx = np.mgrid[:height, :width]
        stain = 1 - 0.3 * np.exp(-((yy - rng.uniform(0, height)) ** 2 + (xx - rng.uniform(0, width)) ** 2) / 120)
        dirty = np.clip(clean * stain * 0.9 + rng.normal(0, 0.04, clean.shape), 0, 1)
        part = "train" if i < n else "test"
        for name, pixels in ((part, dirty), ("train_cleaned", clean)):
            if name == "train_cleaned" and part == "test":
                continue
            (folder / "public" / name).mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.round(pixels * 255).astype(np.uint8)).save(folder / "public" / name / f"{i + 1}.png")
        if part == "test":
            answers.append(pd.DataFrame({"id": [f"{i + 1}_{r + 1}_{c + 1}" for r in range(height) for c in range(width)],
                                         "value": (np.round(clean * 255) / 255).ravel()}))
    answers = pd.concat(answers, ignore_index=True)
    answers.assign(value=1).to_csv(folder / "public" / "sampleSubmission.csv", index=False)
    return answers


def recordings(folder: Path, n: int = 150, n_test: int = 40, n_classes: int = 6, seed: int = 0) -> pd.DataFrame:
    """mlsp-2013-birds' files: which classes each recording holds in `essential_data/labels.txt`
    (`rec_id,[labels]`, ragged rows, `?` for a test recording, nothing for none), a histogram per
    recording and many segments per recording in `supplemental_data/` (headers shorter than their rows),
    no train table, a sample of `Id = rec_id * 100 + class`. Returns the answers."""
    rng = np.random.default_rng(seed)
    holds = rng.random((n + n_test, n_classes)) < 0.3
    is_test = np.zeros(n + n_test, dtype=bool)
    is_test[rng.choice(n + n_test, n_test, replace=False)] = True
    (folder / "public" / "essential_data").mkdir(parents=True)
    (folder / "public" / "supplemental_data").mkdir()
    labels, histograms, segments = ["rec_id,[labels]"], [], []
    for item in range(n + n_test):
        classes = np.flatnonzero(holds[item])
        labels.append(f"{item},?" if is_test[item] else ",".join([str(item), *map(str, classes)]))
        histogram = rng.random(4 * n_classes) * 0.2 + np.repeat(holds[item], 4)
        histograms.append(",".join([str(item), *(f"{v:.4f}" for v in histogram)]))
        for k in classes:
            segments.append(f"{item},{len(segments)},{k + rng.normal(0, 0.2):.4f}")
    (folder / "public" / "essential_data" / "labels.txt").write_text("\n".join(labels) + "\n")
    header = "rec_id,[histogram of segment features]\n"
    (folder / "public" / "supplemental_data" / "histogram.txt").write_text(header + "\n".join(histograms) + "\n")
    (folder / "public" / "supplemental_data" / "segments.txt").write_text(header + "\n".join(segments) + "\n")
    test = np.flatnonzero(is_test)
    ids = [item * 100 + k for item in test for k in range(n_classes)]
    pd.DataFrame({"Id": ids, "Probability": 0}).to_csv(folder / "public" / "sample_submission.csv", index=False)
    return pd.DataFrame({"Id": ids, "Probability": [int(holds[item, k]) for item in test for k in range(n_classes)]})


def with_answers(folder: Path, answers: pd.DataFrame, metric: str) -> Path:
    (folder / "private").mkdir()
    answers.to_csv(folder / "private" / "answers.csv", index=False)
    (folder / "competition.yaml").write_text(f"metric: {metric}\n")
    return folder


# --- decisions -------------------------------------------------------------------------------------

def test_the_answer_shape_is_a_span_a_rewrite_free_text_or_a_label() -> None:
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(FILLER, 8)) for _ in range(300)]
    train = pd.DataFrame({"text": texts, "mood": rng.choice(["a", "b"], 300)})
    test = train.drop(columns=[]).iloc[:10]
    spans = train.assign(answer=[t if i % 3 == 0 else " ".join(t.split()[2:5]) for i, t in enumerate(texts)])
    assert string_shape(spans, test, "answer") == ("span", "text")
    rewrites = train.assign(answer=[t if i % 4 else t.upper() for i, t in enumerate(texts)])
    assert string_shape(rewrites, test, "answer") == ("string", "text")
    free = train.assign(answer=[" ".join(rng.choice(POSITIVE, 5)) + f" {i}" for i in range(300)])
    assert string_shape(free, test, "answer") == ("string", None)
    labels = train.assign(answer=rng.choice(["good", "bad", "the"], 300))  # few values: classes, even inside the text
    assert string_shape(labels, test, "answer") == ("rows", None)
    assert string_shape(train.assign(answer=rng.normal(size=300)), test, "answer") == ("rows", None)


def test_span_and_string_specs(tmp_path: Path) -> None:
    tweets(tmp_path / "tweets")
    spec = spec_of(tmp_path / "tweets")
    assert (spec.answer_shape, spec.source_column, spec.task) == ("span", "text", "text")
    assert spec.metric == "jaccard_word" and spec.sources["metric"] == "description"
    assert spec.id_column == "textID" and spec.submission_columns == ["selected_text"] and spec.classes == []
    normalisation(tmp_path / "norm")
    spec = spec_of(tmp_path / "norm")
    assert (spec.answer_shape, spec.source_column, spec.metric) == ("string", "before", "accuracy")
    assert spec.id_column == "id" and "before" in spec.feature_columns  # the id joins sentence_id and token_id


def test_rows_are_matched_by_order_when_a_test_comment_repeats(tmp_path: Path) -> None:
    insults(tmp_path / "insults")
    public = tmp_path / "insults" / "public"
    spec = spec_of(public)
    assert spec.row_order_key and spec.id_column == "Comment" and spec.passthrough_columns == ["Date"]
    assert spec.submission_columns == ["Insult"] and "Comment" in spec.feature_columns
    sample, test = read_table(public / "sample_submission_null.csv"), read_table(public / "test.csv")
    predicted = submission_frame(test["Comment"], np.linspace(0, 1, len(test)), spec)
    write_submission(predicted, sample, spec, tmp_path / "submission.csv")
    written = pd.read_csv(tmp_path / "submission.csv")
    assert written["Insult"].tolist() == pytest.approx(np.linspace(0, 1, len(test)).tolist())  # test's order kept
    assert written["Comment"].tolist() == sample["Comment"].tolist()
    reordered = written.iloc[::-1].reset_index(drop=True)
    assert any("matched by order" in p for p in submission_problems(reordered, sample, spec))


def test_the_profile_and_the_prompt_state_the_span_contract(tmp_path: Path) -> None:
    tweets(tmp_path / "tweets")
    spec = spec_of(tmp_path / "tweets")
    files = find_files(tmp_path / "tweets")
    train, test, _ = load_tables(files)
    facts = profile(spec, train, test)
    assert facts["target"]["share_inside_source"] == 1.0 and facts["submission"]["answer_shape"] == "span"
    assert "a span (substring) of `text`" in profile_markdown(facts)
    contract = contract_section(Brief(spec, facts, profile_markdown(facts)), Limits(60, 2, 4000, "cpu"))
    assert "fit_predict(train, test, ctx) -> list[str]" in contract and "`text`" in contract
    assert "pipelines.shapes.spans.candidates(" in contract and "features(train, test, ctx) ->" not in contract


def test_a_sequence_layout_is_read_as_a_row_per_position(tmp_path: Path) -> None:
    molecules(tmp_path / "mol")
    files = find_files(tmp_path / "mol")
    train, test, sample = load_tables(files)
    items = sequence_items(train, test, sample)
    assert items is not None and items.item_column == "id" and items.per_position == ["sequence", "structure"]
    assert items.answer_columns == ["reactivity", "deg_50C"]
    rows = items.explode(train)
    assert len(rows) == 70 * 16 and "reactivity_error" not in rows.columns
    first = rows[rows["id"] == "id_0000"]
    assert first["sequence"].str.cat() == train["sequence"].iloc[0]
    assert first["sequence_prev1"].iloc[0] == "^" and first["sequence_prev1"].iloc[1] == train["sequence"].iloc[0][0]
    given = [float(v) for v in train["reactivity"].iloc[0].split()]  # lists arrive joined by spaces
    assert first["reactivity"].iloc[:12].tolist() == given and first["reactivity"].iloc[12:].isna().all()
    exploded_test = items.explode(test)
    assert exploded_test["id_seqpos"].tolist() == sample["id_seqpos"].tolist()
    assert sequence_items(*load_tables(find_files(tmp_path / "mol"))[:2], sample.rename(columns={"id_seqpos": "x"})
                          .assign(x=range(len(sample)))) is None  # plain ids: no sequence layout


# --- the harness's contract for strings --------------------------------------------------------------

def test_string_folds_score_held_out_rows_and_name_a_broken_contract(tmp_path: Path) -> None:
    normalisation(tmp_path / "norm")
    spec = spec_of(tmp_path / "norm")
    files = find_files(tmp_path / "norm")
    train, test, _ = load_tables(files)
    folds = np.arange(len(train)) % 3
    ctx = Context(spec=spec)

    class Identity:
        @staticmethod
        def fit_predict(fold_train, rest, ctx):
            assert "after" not in rest.columns and len(fold_train) < len(train)
            return rest["before"].astype(str).tolist()

    result = cross_validate(Identity, train, test, folds, ctx)
    identity = float(np.mean(train["after"].astype(str) == train["before"].astype(str)))
    assert result.score == pytest.approx(identity) and len(result.fold_scores) == 3
    assert result.test.tolist() == test["before"].astype(str).tolist()

    class TooShort:
        @staticmethod
        def fit_predict(fold_train, rest, ctx):
            return ["x"] * (len(rest) - 1)

    with pytest.raises(SolutionError, match="strings, expected"):
        cross_validate(TooShort, train, test, folds, ctx)


def test_span_candidates_hold_the_whole_text_and_know_their_worth() -> None:
    texts, answers = ["so happy today", "a b c d e f"], ["happy", "a b c d e f"]
    cands = candidates(texts, max_words=2)
    whole = cands[(cands["start"] == 0) & (cands["stop"] == cands["n"])]
    assert whole["row"].tolist() == [0, 1]  # the whole text, however long
    assert len(cands[cands["row"] == 0]) == 5 + 1  # windows of one and two words, and the whole
    worth = window_jaccard(texts, answers, cands)
    best = cands.iloc[int(np.argmax(np.where(cands["row"] == 0, worth, -1)))]
    assert span_text(texts[0], best["start"], best["stop"]) == "happy"
    assert worth[whole.index[1]] == 1.0
    assert get_metric("jaccard_word")(["so happy"], ["happy today"]) == pytest.approx(1 / 3)


# --- end to end -------------------------------------------------------------------------------------

def compete(folder: Path, run: Path, budget: int = 30, max_nodes: int | None = None):
    limit = ["--max-nodes", str(max_nodes)] if max_nodes else []
    # Three folds: what is tested is how each shape is read, held out and scored, not the fold count.
    result = agent_command("compete", str(folder / "public"), "--time-budget", str(budget), "--no-submit",
                           "--run-dir", str(run), "--folds", "3", *limit)
    assert result.returncode == 0, result.stderr[-2000:]
    report = grade_submission(folder, run / "submission.csv")
    assert report.valid, report.errors
    return RunData.load(run), report


def test_an_image_answer_is_read_as_a_row_per_pixel_with_its_neighbourhood(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "pages", documents(tmp_path / "pages"), "rmse")
    files = find_files(folder)
    assert files.layout is not None and files.layout.targets.name == "train_cleaned" and files.layout.first_index == 1
    train, test, sample = load_tables(files)
    assert set(test["id"]) == set(sample["id"]) and len(train) == 14 * 30 * 44  # small pages: every pixel
    spec = build_spec("pages", files, train, test, sample, [("layout", files.layout.spec_layer())])
    assert (spec.task, spec.group_column, spec.target_columns) == ("regression", "image", ["value"])
    assert "grey_+0_+0" in spec.numeric_columns and "background" in spec.numeric_columns
    pixel = train[train["id"] == "1_4_2"].iloc[0]  # row 4, column 2, counted from 1
    page, clean = grey(folder / "public" / "train" / "1.png"), grey(folder / "public" / "train_cleaned" / "1.png")
    assert pixel["grey_+0_+0"] == pytest.approx(page[3, 1]) and pixel["grey_+0_-1"] == pytest.approx(page[3, 0])
    assert pixel["value"] == pytest.approx(clean[3, 1])


def test_ids_that_join_an_item_and_a_class_are_split_only_when_they_form_a_grid() -> None:
    (ids,) = split_ids(pd.Series([r * 100 + k for r in (3, 7, 12) for k in range(19)]))
    assert ids.base == 100 and set(ids.items) == {3, 7, 12} and ids.classes.max() == 18
    assert (ids.compose(ids.items, ids.classes) == [r * 100 + k for r in (3, 7, 12) for k in range(19)]).all()
    (named,) = split_ids(pd.Series([f"{r}_{k}" for r in (1, 2) for k in range(3)]))
    assert named.base is None and named.compose(np.array([5]), np.array([2]))[0] == "5_2"
    assert [i.base for i in split_ids(pd.Series([r * 100 + k for r in (3, 7) for k in range(6)]))] == [10, 100]
    assert split_ids(pd.Series(range(100, 157))) == []  # ordinary ids: no full grid of classes
    assert split_ids(pd.Series([r * 100 + k for r in (3, 7) for k in range(5)][:-1])) == []


def test_label_lists_with_side_tables_are_read_as_a_row_per_item_and_class(tmp_path: Path) -> None:
    answers = recordings(tmp_path / "birds")
    files = find_files(tmp_path / "birds")
    assert files.layout is not None and files.layout.labels.name == "labels.txt"
    train, test, sample = load_tables(files)
    assert list(test["Id"]) == list(sample["Id"]) and len(train) == 150 * 6
    assert {"histogram.1", "segments.2.mean", "segments.2.max", "segments.rows"} <= set(train.columns)
    lines = (tmp_path / "birds/public/essential_data/labels.txt").read_text().splitlines()[1:]
    item, *holds = next(line for line in lines if "?" not in line and "," in line).split(",")
    rows = train[train["rec_id"] == int(item)].set_index("class")["Probability"]
    assert rows.to_dict() == {k: int(str(k) in holds) for k in range(6)}
    spec = build_spec("birds", files, train, test, sample, [("layout", files.layout.spec_layer())])
    assert (spec.task, spec.group_column, spec.target_columns) == ("binary", "rec_id", ["Probability"])
    assert len(answers) == len(sample)


@pytest.mark.slow
def test_images_to_clean_end_to_end_beat_the_sample(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "pages", documents(tmp_path / "pages", n=6, n_test=2), "rmse")
    data, report = compete(folder, tmp_path / "run", budget=120, max_nodes=1)
    assert data.spec.group_column == "image"
    for k in set(data.folds[data.folds >= 0].tolist()):  # no page is both trained on and validated
        assert not set(data.train["image"][data.folds == k]) & set(data.train["image"][data.folds != k])
    sample = grade_submission(folder, folder / "public" / "sampleSubmission.csv")
    assert report.score < 0.5 * sample.score, (report.score, sample.score)


@pytest.mark.slow
def test_label_lists_end_to_end_hold_out_whole_items_and_beat_chance(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "birds", recordings(tmp_path / "birds"), "auc")
    data, report = compete(folder, tmp_path / "run", budget=120, max_nodes=1)
    for k in set(data.folds[data.folds >= 0].tolist()):  # no recording is both trained on and validated
        assert not set(data.train["rec_id"][data.folds == k]) & set(data.train["rec_id"][data.folds != k])
    assert report.score > 0.8, report.score


@pytest.mark.slow
def test_spans_end_to_end_beat_the_whole_text(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "tweets", tweets(tmp_path / "tweets"), "jaccard_word")
    data, report = compete(folder, tmp_path / "run")
    assert data.spec.answer_shape == "span"
    answers = pd.read_csv(folder / "private" / "answers.csv")
    whole_text = get_metric("jaccard_word")(answers["selected_text"], data.test["text"])
    assert report.score > whole_text + 0.1
    nodes = [json.loads(line) for line in (tmp_path / "run" / "journal.jsonl").read_text().splitlines()]
    assert any(n.get("title") == "span_selector" and n.get("status") == "ok" for n in nodes)


@pytest.mark.slow
def test_strings_end_to_end_beat_repeating_the_input(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "norm", normalisation(tmp_path / "norm"), "accuracy")
    data, report = compete(folder, tmp_path / "run")
    assert data.spec.answer_shape == "string"
    answers = pd.read_csv(folder / "private" / "answers.csv", dtype=str)
    sample = pd.read_csv(folder / "public" / "en_sample_submission_2.csv", dtype=str)
    assert report.score > float(np.mean(answers["after"] == sample["after"])) + 0.1


@pytest.mark.slow
def test_rows_matched_by_order_end_to_end(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "insults", insults(tmp_path / "insults"), "auc")
    data, report = compete(folder, tmp_path / "run", budget=120, max_nodes=3)
    assert data.spec.row_order_key and report.score > 0.8


@pytest.mark.slow
def test_sequences_end_to_end_hold_out_whole_items_and_beat_the_mean(tmp_path: Path) -> None:
    folder = with_answers(tmp_path / "mol", molecules(tmp_path / "mol"), "mcrmse")
    data, report = compete(folder, tmp_path / "run", budget=120, max_nodes=4)
    assert data.spec.answer_shape == "sequence" and data.spec.group_column == "id"
    for k in set(data.folds[data.folds >= 0].tolist()):  # no molecule is both trained on and validated
        assert not set(data.train["id"][data.folds == k]) & set(data.train["id"][data.folds != k])
    answers = pd.read_csv(folder / "private" / "answers.csv")
    scored = answers[answers["reactivity"] != -1]
    train_mean = data.train[["reactivity", "deg_50C"]].mean().to_numpy()
    constant = get_metric("mcrmse")(scored[["reactivity", "deg_50C"]].to_numpy(), np.tile(train_mean, (len(scored), 1)))
    assert report.score < 0.8 * constant
