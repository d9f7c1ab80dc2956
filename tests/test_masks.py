"""Answers that are masks: the spec's decision, the run-length submission, and a run end to end on a
generated layout like tgs-salt's (train.csv `id,rle_mask` with empty strings for empty masks,
train/images + train/masks, test/images, a sample of `1 1` placeholders)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from agent.competition_files import find_files, load_tables
from agent.understand import build_spec
from pipelines import rle
from pipelines.files import FileCatalog, attach_file_paths
from pipelines.folds import clean_train, make_folds
from pipelines.metrics import get_metric
from pipelines.shapes import masks
from pipelines.submission import submission_problems

SIDE = 16  # tgs-salt's are 101 px; 16 px keep a network's steps cheap on a busy machine
DESCRIPTION = """# Overview

## Evaluation

This competition is evaluated on the mean average precision at different intersection over union (IoU)
thresholds. The pixels are one-indexed and numbered from top to bottom, then left to right.
"""


def blob_item(rng: np.random.Generator, empty: bool) -> tuple[np.ndarray, np.ndarray]:
    """A noisy gray image and its mask: a bright disc of random place and size, or nothing."""
    image = rng.normal(90, 20, (SIDE, SIDE))
    mask = np.zeros((SIDE, SIDE), dtype=np.uint8)
    if not empty:
        rows, cols = np.mgrid[:SIDE, :SIDE]
        r = rng.uniform(3, 6)
        cy, cx = rng.uniform(r, SIDE - r, size=2)
        mask = ((rows - cy) ** 2 + (cols - cx) ** 2 <= r * r).astype(np.uint8)
        image = image + 90 * mask
    return np.clip(image, 0, 255).astype(np.uint8), mask


def mask_competition(folder: Path, n_train: int = 60, n_test: int = 20, table: bool = True) -> tuple[Path, pd.DataFrame]:
    """The competition's public folder and its private answers (id, rle_mask)."""
    rng = np.random.default_rng(0)
    public = folder / "public"
    for sub in ("train/images", "train/masks", "test/images"):
        (public / sub).mkdir(parents=True)
    rows, answers = [], []
    for i in range(n_train + n_test):
        image, mask = blob_item(rng, empty=i % 3 == 0)
        item = f"{i:04x}a{i * 7 % 13}"
        split = "train" if i < n_train else "test"
        Image.fromarray(image).save(public / split / "images" / f"{item}.png")
        if split == "train":
            Image.fromarray(mask * 255).save(public / "train" / "masks" / f"{item}.png")
            rows.append((item, rle.encode(mask)))
        else:
            answers.append((item, rle.encode(mask)))
    train = pd.DataFrame(rows, columns=["id", "rle_mask"])
    if table:
        train.to_csv(public / "train.csv", index=False)
    else:  # the ids only: the masks are the files
        train[["id"]].assign(z=range(len(train))).to_csv(public / "train.csv", index=False)
    pd.DataFrame({"id": [a for a, _ in answers], "rle_mask": "1 1"}).to_csv(public / "sample_submission.csv", index=False)
    (public / "description.md").write_text(DESCRIPTION)
    return public, pd.DataFrame(answers, columns=["id", "rle_mask"])


def prepared(public: Path, tmp_path: Path):
    files = find_files(public)
    train, test, sample = load_tables(files)
    catalog = FileCatalog(files.folder)
    spec = build_spec("blobs", files, train, test, sample, [], catalog)
    train = clean_train(train, spec)
    train, test = attach_file_paths(train, test, spec.file_columns, catalog, tmp_path / "files")
    return spec, train, test, sample


def test_images_with_run_length_answers_are_a_mask_competition(tmp_path: Path) -> None:
    public, _ = mask_competition(tmp_path / "blobs")
    spec, train, test, _ = prepared(public, tmp_path)
    assert spec.answer_shape == "mask" and spec.task == "binary"
    assert spec.metric == "mean_precision_iou" and spec.direction == "maximize"
    assert spec.image_size == (SIDE, SIDE) and spec.mask_order == "F"
    assert spec.image_columns == ["id"] and spec.target_columns == ["rle_mask"]
    # the rows name the images, never the masks of the same name; empty masks stay as answers
    assert train["id__path"].str.contains("/train/images/").all() and len(train) == 60
    y = masks.load_masks(train, spec)
    assert y.shape == (60, SIDE, SIDE) and (y.reshape(60, -1).sum(axis=1) == 0).sum() == 20
    folds = make_folds(train, spec, 5, seed=0)
    assert (folds == 0).sum() == 12 and (folds == -1).sum() == 48  # one held-out fold, alike in coverage
    assert (y[folds == 0].reshape(12, -1).sum(axis=1) == 0).sum() == 4


def test_mask_files_beside_the_images_answer_when_the_table_has_no_masks(tmp_path: Path) -> None:
    public, _ = mask_competition(tmp_path / "blobs", table=False)
    spec, train, _, _ = prepared(public, tmp_path)
    assert spec.answer_shape == "mask" and spec.sources["answer_shape"].endswith("beside the training images")
    y = masks.load_masks(train, spec)
    expected = np.stack([np.asarray(Image.open(public / "train" / "masks" / f"{i}.png")) > 0 for i in train["id"]])
    assert (y == expected).all()


def test_a_label_column_of_an_image_competition_stays_rows(tmp_path: Path) -> None:
    public, _ = mask_competition(tmp_path / "blobs")
    pd.DataFrame({"id": pd.read_csv(public / "train.csv")["id"], "label": [0, 1] * 30}).to_csv(
        public / "train.csv", index=False)
    pd.read_csv(public / "sample_submission.csv").assign(rle_mask=0).rename(columns={"rle_mask": "label"}).to_csv(
        public / "sample_submission.csv", index=False)
    spec, *_ = prepared(public, tmp_path)
    assert spec.answer_shape == "rows" and spec.task == "binary"


def test_the_submission_is_the_rule_applied_and_run_length_encoded(tmp_path: Path) -> None:
    public, _ = mask_competition(tmp_path / "blobs")
    spec, _, test, sample = prepared(public, tmp_path)
    rng = np.random.default_rng(3)
    proba = rng.uniform(0, 1, (len(test), SIDE, SIDE)).astype(np.float32)
    proba[0] = 0.9 * (np.arange(SIDE)[None, :] < 3)  # a thin strip of 48 pixels: under the smallest area
    rule = {"cut": 0.6, "min_area": 50.0}
    frame = masks.submission_frame(test["id"], proba, spec, rule)
    assert list(frame.columns) == ["id", "rle_mask"] and frame["rle_mask"].iloc[0] == ""
    decoded = np.stack([rle.decode(v, (SIDE, SIDE)) for v in frame["rle_mask"]])
    assert (decoded == masks.apply_rule(proba, rule).astype(bool)).all()
    assert submission_problems(frame, sample, spec) == []
    broken = frame.assign(rle_mask=["3 2 1 4", "1 500"] + list(frame["rle_mask"].iloc[2:]))
    problems = submission_problems(broken, sample, spec)
    assert len(problems) == 1 and "2 invalid run-length masks" in problems[0]


def test_the_rule_is_fitted_on_held_out_items_and_scored_on_the_other_half() -> None:
    rng = np.random.default_rng(0)
    y = np.stack([blob_item(rng, empty=i % 2 == 0)[1] for i in range(40)])
    proba = np.clip(0.75 * y + rng.uniform(0, 0.3, y.shape), 0, 1)  # blobs above 0.75; specks of noise up to 0.3
    metric = get_metric("mean_precision_iou")
    rule, honest = masks.decide_rule(y, proba, metric)
    assert rule["cut"] >= 0.3 and honest == pytest.approx(1.0)
    assert masks.rule_score(y, proba, {"cut": 0.1, "min_area": 0}, metric) < 0.6  # noise makes every mask wrong


@pytest.mark.parametrize("metric_name", ["mean_precision_iou", "dice", "dice_global", "f0.5_mean"])
def test_the_rule_search_picks_what_scoring_every_rule_would(metric_name: str) -> None:
    rng = np.random.default_rng(4)
    y = np.stack([blob_item(rng, empty=i % 3 == 0)[1] for i in range(30)])
    proba = np.clip(0.5 * y + rng.uniform(0, 0.55, y.shape), 0, 1)
    proba[::3, :2, :2] = 0.95  # specks on empty items: only a smallest area empties them
    metric = get_metric(metric_name)
    pixels = y.shape[1] * y.shape[2]
    rules = [{"cut": float(c), "min_area": float(math.ceil(s * pixels))}
             for s in masks.MIN_AREA_SHARES for c in masks.CUTS]
    scores = [masks.rule_score(y, proba, r, metric) for r in rules]
    assert masks.best_rule(y, proba, metric) == rules[int(np.argmax(scores))]


def test_the_rule_scores_the_same_on_probabilities_stored_in_half_precision() -> None:
    rng = np.random.default_rng(5)
    y = np.stack([blob_item(rng, empty=False)[1] for _ in range(12)])
    proba = np.where(y > 0, np.float16(0.7), np.float16(0.69)).astype(np.float32)  # only a cut of 0.7 separates
    metric = get_metric("mean_precision_iou")
    rule, score = masks.decide_rule(y, proba, metric)
    assert rule["cut"] == 0.7 and score == 1.0
    assert masks.decide_rule(y, proba.astype(np.float16), metric) == (rule, score)  # as the agent re-scores it


def test_the_unet_learns_blobs_and_a_later_fit_continues_from_its_weights(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from pipelines.context import Context
    from pipelines.segmentation import CONTINUED_LR_SHARE, UNetSegmenter

    rng = np.random.default_rng(1)
    items = [blob_item(rng, empty=i % 3 == 0) for i in range(72)]
    X = np.stack([image for image, _ in items])[:, None]
    y = np.stack([mask for _, mask in items])
    ctx = Context(spec=None, workdir=tmp_path, n_jobs=1)  # no deadline: the fit ends after its epochs
    first = UNetSegmenter(ctx, epochs=25, batch_size=16).fit(X[:56], y[:56])
    proba = first.predict(X[56:])
    assert proba.shape == (16, SIDE, SIDE) and 0 <= proba.min() and proba.max() <= 1
    dice = get_metric("dice")(list(y[56:]), list((proba > 0.5).astype(np.uint8)))
    assert dice > 0.7, dice
    assert not first.facts.continued and first.facts.side == SIDE and first.facts.epochs == 25
    again = UNetSegmenter(ctx, epochs=1, batch_size=16, continue_training=True).fit(X[:56], y[:56])
    assert again.facts.continued and again.facts.side == first.facts.side
    assert again.facts.peak_lr == pytest.approx(CONTINUED_LR_SHARE * first.facts.peak_lr)  # no full restart
    other_items = UNetSegmenter(ctx, epochs=1, batch_size=16, continue_training=True).fit(X[16:], y[16:])
    assert not other_items.facts.continued  # weights fitted on other items never carry over


def test_the_schedule_and_the_side_follow_the_time() -> None:
    from pipelines.segmentation import choose_side, one_cycle, side_range

    assert one_cycle(0.0) == pytest.approx(0.1) and one_cycle(0.15) == pytest.approx(1.0) and one_cycle(1.0) < 0.02
    assert side_range(101) == (32, 128) and side_range(16) == (16, 16)
    # 0.1 s a step at 32 px: 1,000 steps fit in 100 s at 32 px, in 400 s at 64 px
    assert choose_side(101, 32, 0.1, 1000, 100) == 32 and choose_side(101, 32, 0.1, 1000, 400) == 64
    assert choose_side(101, 32, 0.1, 1000, 10) == 32  # none fits: the smallest worth training


@pytest.mark.slow
def test_compete_on_a_mask_competition_beats_empty_masks(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from rich.console import Console

    from agent.compete import compete
    from agent.config import Settings
    from agent.journal import Journal
    from pipelines.rundata import RunData

    public, answers = mask_competition(tmp_path / "blobs", n_train=90, n_test=30)
    settings = Settings(time_budget=120, node_timeout=15, max_nodes=1, runs_root=tmp_path / "runs",
                        competitions_root=tmp_path / "comps", n_jobs=2)
    outcome = compete(public, settings, console=Console(quiet=True))
    journal = Journal(outcome.run.journal_path)
    drafts = [n for n in journal if n.step == "draft"]
    assert [n.title for n in drafts] == ["unet_masks"] and drafts[0].ok, [(n.title, n.error) for n in journal]
    assert drafts[0].sized_to_time  # the policy may start its improvements with less than it took
    fits = drafts[0].facts["fits"]  # what each fold's U-Net chose for its time, for the review
    assert len(fits) == len(drafts[0].fold_scores) and all(f["steps"] > 0 and f["side"] > 0 for f in fits)
    data = RunData.load(outcome.run.path)
    submission = pd.read_csv(outcome.run.submission_path, keep_default_na=False)
    assert submission_problems(submission, data.sample, data.spec) == []
    metric = get_metric("mean_precision_iou")
    truth = answers.set_index("id").loc[submission["id"], "rle_mask"].tolist()
    graded = metric(truth, submission["rle_mask"].tolist(), shapes=(SIDE, SIDE))
    empty = metric(truth, [""] * len(truth), shapes=(SIDE, SIDE))
    assert graded > empty + 0.2, (graded, empty, drafts[0].score)
