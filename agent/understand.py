"""From a competition's tables to a `CompetitionSpec`: each field of the spec is one named decision.

Sources of truth, in order: command-line flags, competitions/<slug>.yaml, Kaggle's metadata,
the MLE-bench registry, then inference from the files and the description. Every decided field
records where it came from in `spec.sources`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agent.column_roles import (ColumnKinds, auxiliary_columns, column_kind, column_kinds, forecast_time_column,
                                input_columns, modality, unseen_group_column)
from agent.competition_files import CompetitionFiles
from agent.metric_choice import (ORDER_METRICS, REGRESSION_METRICS, SHARE_METRICS, adapt_metric, default_metric,
                                 metric_from_description, pixel_order)
from pipelines import rle
from pipelines.errors import InputError
from pipelines.features import comparable_pairs
from pipelines.files import FileCatalog
from pipelines.metrics import get_metric, metric_names
from pipelines.shapes import STRING_SHAPES, boxes, label_lists, masks
from pipelines.shapes.strings import string_shape
from pipelines.spec import CompetitionSpec
from pipelines.submission import order_key, passthrough_columns, row_key
from pipelines.targets import is_class_shares, is_one_hot, label_key, label_keys

log = logging.getLogger(__name__)


@dataclass
class Evidence:
    """What the spec is decided from; `sources` collects where each decision came from."""

    files: CompetitionFiles
    train: pd.DataFrame
    test: pd.DataFrame
    sample: pd.DataFrame
    given: dict[str, Any]
    sources: dict[str, str]
    description: str
    catalog: FileCatalog


@dataclass
class RowKey:
    """How submission rows are named: the id column, and the sample's other columns split into
    answers to predict and columns that repeat test's own values (`passthrough`)."""

    id_column: str
    id_is_content: bool
    passthrough: list[str]
    answer_columns: list[str]
    by_order: bool = False
    pooled: bool = False  # test has several rows per sample id


def build_spec(
    slug: str,
    files: CompetitionFiles,
    train: pd.DataFrame,
    test: pd.DataFrame,
    sample: pd.DataFrame,
    layers: list[tuple[str, dict[str, Any]]],
    catalog: FileCatalog | None = None,
) -> CompetitionSpec:
    """Decide every field of the spec; raise InputError naming the file when the data can't fit.

    `catalog` lists the files beside the tables (default: those below `files.folder`); it decides
    which columns name files when their values have no file suffix.
    """
    given, sources = merge_overrides(layers)
    description = files.description.read_text(errors="replace") if files.description else ""
    ev = Evidence(files, train, test, sample, given, sources, description, catalog or FileCatalog(files.folder))

    rows = decide_row_key(ev)
    rows, spread = decide_spread_column(ev, rows)
    targets, per_class = decide_targets(ev, rows)
    inputs = input_columns(train, test, targets, rows.id_column, rows.id_is_content, files.test)
    kinds = column_kinds(train, test, inputs, rows.id_column, ev.catalog)
    if not (kinds.numeric or kinds.categorical or kinds.text or kinds.datetime or kinds.file):
        absent = [c for c in train.columns if c not in test.columns and c not in targets]
        # (hotel-id's test is the sample: its only column names the images, an input once found as files)
        raise InputError(f"test table has none of train's input columns {absent[:8]}, and its ids name no files",
                         files.test)
    answer = decide_answer(ev, rows, targets, per_class, kinds)
    shape, task = answer.shape, answer.task
    time_column, group_column = decide_time_and_group(ev, kinds)
    image_size, mixed_sizes = _image_size(ev, kinds) if shape == "mask" else (None, False)

    return CompetitionSpec(
        slug=slug,
        data_dir=files.folder,
        train_file=files.train,
        test_file=files.test,
        sample_submission_file=files.sample_submission,
        description=description,
        id_column=rows.id_column,
        row_order_key=rows.by_order,
        pooled_rows=rows.pooled,
        target_columns=targets,
        task=task,
        modality=modality(kinds),
        classes=[0, 1] if shape == "mask" else decide_classes(ev, task, targets, per_class, rows.id_column, shape),
        target_bounds=target_bounds(train, targets) if task == "regression" and answer.metric not in ORDER_METRICS
        else (None, None),
        answer_shape=shape,
        source_column=answer.source_column,
        submission_columns=rows.answer_columns + ([spread] if spread else []),
        spread_column=spread,
        passthrough_columns=rows.passthrough,
        placeholder_parts=given.get("placeholder_parts") or [],
        submission_kind=answer.kind,
        metric=answer.metric,
        direction=answer.direction,
        mask_order=_mask_order(ev, kinds, targets, description) if shape == "mask" else "F",
        empty_mask=_empty_mask(ev.sample[rows.answer_columns[0]]) if shape == "mask" else "",
        image_size=image_size,
        mixed_image_sizes=mixed_sizes,
        text_columns=kinds.text,
        categorical_columns=kinds.categorical,
        numeric_columns=kinds.numeric,
        datetime_columns=kinds.datetime,
        file_columns=kinds.file,
        image_columns=kinds.image,
        group_column=group_column,
        time_column=time_column,
        column_pairs=comparable_pairs(train, kinds.categorical + kinds.text),
        auxiliary_columns=auxiliary_columns(train, test, targets) if shape == "rows" else [],
        sources=sources,
    )


@dataclass
class Answer:
    """What one answer is and how it is scored."""

    shape: str  # rows, span, string, mask or labels
    source_column: str | None  # the input a span or string answer comes from
    task: str
    kind: str  # what the submission's answer columns hold: value, proba or label
    metric: str
    direction: str


def decide_answer(ev: Evidence, rows: RowKey, targets: list[str], per_class: bool, kinds: ColumnKinds) -> Answer:
    """The answer's shape first (a mask before a string: run-length strings are no text), then its
    task, submission kind and metric, which the shape constrains."""
    metric = ev.given.get("metric")
    if metric is None and (described := metric_from_description(ev.description)):
        metric, ev.sources["metric"] = described, "description"
    shape, source_column = decide_mask_shape(ev, rows, targets, kinds), None
    if shape == "rows":
        shape, source_column = decide_answer_shape(ev, targets, metric, per_class)
    if shape == "mask":
        return Answer(shape, None, *decide_mask_scoring(ev, metric))
    if shape in STRING_SHAPES:
        task, kind = "text", "label"
        ev.sources["task"] = "answer shape"
    elif shape == "labels":  # one label per train row: classes ranked by probability; several: a label per column
        task, kind = ev.given.get("task") or ("multiclass" if label_lists.one_label_per_row(ev.train, targets[0])
                                              else "multilabel"), "label"
        ev.sources.setdefault("task", "answer shape")
    else:
        task = ev.given.get("task") or infer_task(ev.train, targets, metric)
        if per_class and task != "regression" and label_lists.lists_of(ev.train[targets[0]], rows.answer_columns):
            task = "multilabel"  # a list of labels per train row, a probability column per label asked for
        ev.sources.setdefault("task", "inferred")
        kind = decide_submission_kind(ev, task, targets, rows.answer_columns, per_class, metric)
    return Answer(shape, source_column, task, kind, *decide_metric(ev, metric, task, kind, shape))


def merge_overrides(layers: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], dict[str, str]]:
    """First layer that sets a key wins; remember which layer that was."""
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, values in layers:
        for key, value in values.items():
            if value is not None and key not in merged:
                merged[key] = value
                sources[key] = source
    if "target_column" in merged and "target_columns" not in merged:
        merged["target_columns"] = [merged["target_column"]]
        sources["target_columns"] = sources["target_column"]
    if isinstance(merged.get("target_columns"), str):
        merged["target_columns"] = [c.strip() for c in merged["target_columns"].split(",")]
    return merged, sources


# --- the decisions, in the order build_spec takes them --------------------------------------------

def decide_row_key(ev: Evidence) -> RowKey:
    """The id column, checked against test; a sample without an id of its own (detecting-insults)
    names rows by a column of test, may repeat others, and that column is the row's content, an
    input like any other. When no column names test's rows once each (a comment that repeats), the
    sample's rows are test's in test's order, matched by position."""
    id_column = ev.given.get("id_column") or row_key(ev.sample, ev.test)
    ev.sources.setdefault("id_column", "inferred")
    if id_column is None:
        ev.sources["row_order_key"] = "inferred: no column names test's rows once each; the sample repeats them in order"
        id_column = order_key(ev.sample, ev.test)
        passthrough = [c for c in passthrough_columns(ev.sample, ev.test, None) if c != id_column]
        answers = [c for c in ev.sample.columns if c != id_column and c not in passthrough]
        return RowKey(id_column, True, passthrough, answers, by_order=True)
    pooled = _check_ids(ev.files, ev.test, ev.sample, id_column)
    if pooled:
        ev.sources["pooled_rows"] = f"inferred: test has {len(ev.test)} rows for the sample's {len(ev.sample)} ids"
    passthrough = passthrough_columns(ev.sample, ev.test.drop_duplicates(id_column), id_column)
    answers = [c for c in ev.sample.columns if c != id_column and c not in passthrough]
    return RowKey(id_column, id_column != ev.sample.columns[0], passthrough, answers, pooled=pooled)


def decide_mask_shape(ev: Evidence, rows: RowKey, targets: list[str], kinds: ColumnKinds) -> str:
    """rows (a label or number per row) or mask (a mask per image): a mask when each row names an image
    and its one answer is written as run-length strings, in train's target or the sample, or when the
    training images have mask files beside them (`train/images` with `train/masks`) and the answer is
    not a number."""
    if given := ev.given.get("answer_shape"):
        return given
    if not kinds.image or len(rows.answer_columns) != 1:
        return "rows"
    answer = ev.sample[rows.answer_columns[0]]
    written_as_runs = any(c in ev.train.columns and masks.is_rle_column(ev.train[c]) for c in targets) \
        or masks.is_rle_column(answer)
    if written_as_runs or (not pd.api.types.is_numeric_dtype(answer) and _has_mask_files(ev, kinds)):
        ev.sources["answer_shape"] = "inferred: images answered by run-length masks" if written_as_runs \
            else "inferred: mask files beside the training images"
        return "mask"
    return "rows"


def decide_mask_scoring(ev: Evidence, metric: str | None) -> tuple[str, str, str, str]:
    """Task, submission kind, metric and direction of a mask answer: each pixel in or out (binary
    labels), scored by a mask metric; Dice when nothing names one."""
    if metric is not None and get_metric(metric).needs != "mask":
        log.warning("%s names %r, which does not score masks; scoring by Dice", ev.sources.get("metric"), metric)
        metric = None
    if metric is None:
        metric, ev.sources["metric"] = "dice", "inferred: the usual metric for masks"
    metric = get_metric(metric).name
    metric = _stand_in(ev, metric) or metric  # uw-madison's Hausdorff distance per scan: by its Dice
    direction = ev.given.get("direction") or ("maximize" if get_metric(metric).greater_is_better else "minimize")
    ev.sources.setdefault("direction", "metric")
    ev.sources["task"] = "answer shape"
    return "binary", "label", metric, direction


def decide_spread_column(ev: Evidence, rows: RowKey) -> tuple[RowKey, str | None]:
    """The sample's answer column that says how sure each value is: under a metric that scores values
    with their spread (osic's Laplace log likelihood), the one answer column train lacks. Under any
    other metric, answer columns train lacks beside ones it has keep the sample's values."""
    absent = [c for c in rows.answer_columns if c not in ev.train.columns]
    if not absent or len(absent) == len(rows.answer_columns):
        return rows, None
    metric = ev.given.get("metric") or metric_from_description(ev.description)
    answers = [c for c in rows.answer_columns if c not in absent]
    if metric is not None and get_metric(metric).spread and len(absent) == 1:
        ev.sources["spread_column"] = f"inferred: {metric} scores each value with its spread"
        return replace(rows, answer_columns=answers), absent[0]
    log.warning("%s: answer column(s) %s have no values in %s; the submission keeps the sample's",
                ev.files.sample_submission, absent, ev.files.train.name)
    return replace(rows, answer_columns=answers, passthrough=rows.passthrough + absent), None


def decide_targets(ev: Evidence, rows: RowKey) -> tuple[list[str], bool]:
    """The target columns, and whether the submission has one probability column per class."""
    if "target_columns" in ev.given:
        targets = list(ev.given["target_columns"])
        missing = [c for c in targets if c not in ev.train.columns]
        if missing:
            raise InputError(f"target column(s) {missing} not found; columns are {list(ev.train.columns)[:20]}",
                             ev.files.train)
        per_class = len(targets) == 1 and rows.answer_columns != targets
    else:
        targets, per_class = _find_targets(ev.files, ev.train, ev.test, rows.answer_columns, rows.id_column, ev.sample)
        ev.sources["target_columns"] = "inferred"
    if ev.train[targets].isna().all().any():
        raise InputError(f"target column(s) {targets} are empty", ev.files.train)
    return targets, per_class


def decide_answer_shape(ev: Evidence, targets: list[str], metric: str | None = None,
                        per_class: bool = False) -> tuple[str, str | None]:
    """What one answer is, and the input column it comes from: a span of an input text (a train-only
    text target that sits inside another column in most rows), a string that rewrites another column, boxes,
    space-separated labels (a label-list metric, or lists of labels from a vocabulary in train), free
    text, else a label or number per row."""
    if "answer_shape" in ev.given:
        source = ev.given.get("source_column")
        if source is not None and source not in ev.test.columns:
            raise InputError(f"source column {source!r} is not a column", ev.files.test)
        return ev.given["answer_shape"], source
    if len(targets) == 1 and targets[0] not in ev.test.columns and \
            boxes.is_box_column(ev.train[targets[0]], box_metric=_scores_boxes(metric)):
        ev.sources["answer_shape"] = f"inferred: {targets[0]!r} holds boxes (label, confidence and corners)"
        return "boxes", None
    shape, source = string_shape(ev.train, ev.test, targets[0]) if len(targets) == 1 else ("rows", None)
    # (label lists answered a column per label are a multilabel target of rows: see decide_answer)
    one_answer = source is None and len(targets) == 1 and not per_class
    if one_answer and label_lists.is_label_list(ev.train, targets[0], metric):
        ev.sources["answer_shape"] = f"inferred: {targets[0]!r} holds space-separated labels"
        return "labels", None
    if shape != "rows":
        ev.sources["answer_shape"] = (f"inferred: {targets[0]!r} is a span of {source!r} in most rows" if shape == "span"
                                      else f"inferred: {targets[0]!r} is text" + (f" rewriting {source!r}" if source else ""))
    return shape, source


def infer_task(train: pd.DataFrame, targets: list[str], metric: str | None) -> str:
    """binary, multiclass, multilabel or regression, from the metric when it settles it, else the values."""
    if metric in REGRESSION_METRICS:
        return "regression"
    values = train[targets]
    if metric is not None and get_metric(metric).needs == "value" and values.nunique().min() > 2:
        return "regression"  # a metric of values (osic's Laplace likelihood of FVC, in whole millilitres)
    if len(targets) > 1:
        if is_one_hot(values):
            return "multiclass"
        binary = values.apply(lambda c: set(pd.unique(c.dropna())) <= {0, 1, True, False}).all()
        if not binary and metric in SHARE_METRICS and is_class_shares(values):
            return "multiclass"  # votes per class, scored against their shares: the classifier's probabilities
        return "multilabel" if binary else "regression"
    y = values.iloc[:, 0].dropna()
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if numeric:
        integral = bool((y % 1 == 0).all())
        few_codes = integral and y.nunique() <= 30
        fractions = not integral and y.nunique() > 30  # no classes whatever the metric: jigsaw's share, scored by AUC
        if not few_codes and (metric is None or fractions):
            return "regression"
    return "binary" if y.nunique() == 2 else "multiclass"


def target_bounds(train: pd.DataFrame, targets: list[str]) -> tuple[float | None, float | None]:
    """0 below when no train target is negative (prices, counts), and 1 above when all lie in [0, 1]
    (shares, rates): a model's extrapolation past them is always wrong."""
    values = train[targets].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0 or values.min() < 0:
        return None, None
    return 0.0, (1.0 if values.max() <= 1 else None)


def decide_submission_kind(ev: Evidence, task: str, targets: list[str], answer_columns: list[str],
                           per_class: bool, metric: str | None) -> str:
    """value, proba or label: what the sample's answer columns hold."""
    if task == "regression":
        return "value"
    one_hot = task in ("binary", "multiclass") and len(targets) > 1
    if per_class or ((task in ("binary", "multilabel") or one_hot)
                     and any(_is_probability_column(ev.sample[c]) for c in answer_columns)):
        return "proba"
    if metric is not None and get_metric(metric).needs == "proba":
        return "proba"
    return "label"


def _stand_in(ev: Evidence, metric: str) -> str | None:
    """The ungrouped kin candidates are validated by when `metric` scores within groups of rows (the folds
    know no groups), else None."""
    stand_in = get_metric(metric).stand_in
    if stand_in is not None:
        log.warning("%s scores within groups of rows; candidates are validated by %s", metric, stand_in)
        ev.sources["metric"] = f"stand-in for {metric}, which scores within groups"
    return stand_in


def decide_metric(ev: Evidence, metric: str | None, task: str, kind: str, shape: str = "rows") -> tuple[str, str]:
    """The metric's registered name and the direction to optimise; one that cannot score this task's
    answers (a description's stray "AUC" for a span, "Jaccard" for a label) gives way to the default, and
    one scored within groups of rows (champs' log MAE per coupling type) to its ungrouped kin: the folds
    know no groups."""
    scorable = {"text": ("text", "label"), "regression": ("value",)}.get(task, ("label", "proba", "value"))
    if shape == "labels":
        scorable = ("text",)
    direction = ev.given.get("direction")
    replaced = metric is not None and get_metric(metric).needs not in scorable
    if replaced:
        metric = None
    ranked = f"map@{ev.given.get('ranked_labels')}"  # an event log's sample ranks this many items per id
    if metric is None and shape == "labels" and ranked in metric_names():
        metric, ev.sources["metric"] = ranked, "inferred: the sample ranks items per id"
    elif metric is None:
        metric, ev.sources["metric"] = default_metric(task, kind, shape), "inferred"
    elif ev.sources.get("metric") == "description":
        metric = adapt_metric(metric, task)
    metric = get_metric(metric).name
    if (stand_in := _stand_in(ev, metric)) is not None:
        metric, replaced = stand_in, True
    if replaced and ev.sources.get("direction") != "flag":  # the direction given was the replaced metric's
        direction, ev.sources["direction"] = None, "metric"
    direction = direction or ("maximize" if get_metric(metric).greater_is_better else "minimize")
    ev.sources.setdefault("direction", "metric")
    return metric, direction


def decide_classes(ev: Evidence, task: str, targets: list[str], per_class: bool, id_column: str,
                   shape: str = "rows") -> list[Any]:
    """The classes in a fixed order; see `CompetitionSpec`. Label lists: every class of one label per row,
    else the most frequent labels."""
    if shape == "labels" and task == "multilabel":
        labels = label_lists.vocabulary(ev.train, targets[0])
        if (covered := label_lists.coverage(ev.train, targets[0], labels)) < 1:
            log.warning("%s: %d most frequent labels kept of %s; they are %.1f%% of train's labels", ev.files.train,
                        len(labels), targets[0], 100 * covered)
        return labels
    if task == "multilabel" and per_class:
        return [c for c in ev.sample.columns if c != id_column]
    if task == "multilabel" or (task in ("binary", "multiclass") and len(targets) > 1):
        return list(targets)
    if task not in ("binary", "multiclass"):
        return []
    classes = _sorted_classes(ev.train[targets[0]])
    if per_class:
        known = {label_key(c) for c in classes}
        classes += [c for c in ev.sample.columns if c != id_column and label_key(c) not in known]
    return classes


def decide_time_and_group(ev: Evidence, kinds: ColumnKinds) -> tuple[str | None, str | None]:
    """The column folds must split by time, or else by group, when test is a future or new groups."""
    for key in ("group_column", "time_column"):
        if ev.given.get(key) and ev.given[key] not in ev.train.columns:
            raise InputError(f"{key.replace('_', ' ')} {ev.given[key]!r} is not a column", ev.files.train)
    time_column = ev.given.get("time_column")
    if time_column is None and (time_column := forecast_time_column(ev.train, ev.test, kinds.datetime)):
        ev.sources["time_column"] = "inferred: every test row comes after every train row"
    group_column = ev.given.get("group_column")
    if group_column is None and time_column is None and (
            group_column := unseen_group_column(ev.train, ev.test, kinds.numeric + kinds.categorical)):
        ev.sources["group_column"] = "inferred: its values repeat over train rows and none occurs in test"
    return time_column, group_column


# --- helpers of the decisions ------------------------------------------------------------------------

def _train_image_files(ev: Evidence, kinds: ColumnKinds, sample: int = 50) -> list[Path]:
    """Plain files (not archive members) of the first training rows' images."""
    found = [ev.catalog.find(v, "train") for v in ev.train[kinds.image[0]].head(sample)]
    return [ev.catalog.folder / f.member for f in found if f is not None and f.archive is None]


def _spread_image_files(ev: Evidence, kinds: ColumnKinds, sample: int = 100) -> list[Path]:
    """Plain files of the images of rows spread over train and over test."""
    found = []
    for frame, split in ((ev.train, "train"), (ev.test, "test")):
        if kinds.image[0] in frame.columns and len(frame):
            rows = np.unique(np.linspace(0, len(frame) - 1, sample).astype(int))
            found += [ev.catalog.find(v, split) for v in frame[kinds.image[0]].iloc[rows]]
    return [ev.catalog.folder / f.member for f in found if f is not None and f.archive is None]


def _has_mask_files(ev: Evidence, kinds: ColumnKinds) -> bool:
    paths = _train_image_files(ev, kinds, sample=20)
    return bool(paths) and masks.mask_files([str(p) for p in paths]) is not None


def _mask_order(ev: Evidence, kinds: ColumnKinds, targets: list[str], description: str) -> str:
    """The run-length strings' pixel order: as the training masks sit on their images, else as the
    description says."""
    said = pixel_order(description)
    if not targets or targets[0] not in ev.train.columns or not masks.is_rle_column(ev.train[targets[0]]):
        return said
    rows = ev.train[ev.train[targets[0]].fillna("").astype(str).str.strip() != ""].head(40)
    found = [ev.catalog.find(v, "train") for v in rows[kinds.image[0]]]
    paths = [str(ev.catalog.folder / f.member) if f is not None and f.archive is None else "" for f in found]
    seen = masks.order_from_images(list(rows[targets[0]]), paths)
    if seen is not None and seen != said:
        ev.sources["mask_order"] = f"inferred: the training masks sit on their images in {seen} order"
        log.warning("run-length masks read in %s order, as they sit on their images (the description says %s)",
                    seen, said)
    return seen or said


def _empty_mask(answers: pd.Series) -> str:
    """The sample's mark for an empty mask, where it writes one instead of a blank cell."""
    marks = set(answers.dropna().astype(str).str.strip()) & set(rle.EMPTY_MARKS)
    return next((m for m in marks if m), "")


def _image_size(ev: Evidence, kinds: ColumnKinds) -> tuple[tuple[int, int] | None, bool]:
    """The size most images share (None when they are in archives), and whether some have another."""
    return masks.size_census([str(p) for p in _spread_image_files(ev, kinds)]) or (None, False)


def _sorted_classes(values: pd.Series) -> list[Any]:
    unique = pd.unique(values.dropna())
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = sorted(float(v) for v in unique)
        return [int(v) if v.is_integer() else v for v in numbers]
    if pd.api.types.is_bool_dtype(values):
        return sorted(bool(v) for v in unique)
    return sorted(unique.tolist(), key=label_key)


def _is_probability_column(values: pd.Series) -> bool:
    numeric = pd.to_numeric(values, errors="coerce")
    return bool(numeric.notna().all() and numeric.between(0, 1).all() and (numeric % 1 != 0).any())


def _check_ids(files: CompetitionFiles, test: pd.DataFrame, sample: pd.DataFrame, id_column: str) -> bool:
    """Whether test has several rows for some of the sample's ids (rsna-breast's images of one breast),
    whose predictions the submission pools; an InputError when the ids do not match."""
    if id_column not in sample.columns:
        raise InputError(f"id column {id_column!r} is not a column of the sample submission", files.sample_submission)
    if id_column not in test.columns:
        raise InputError(f"id column {id_column!r} is missing", files.test)
    test_ids = set(label_keys(test[id_column]))
    sample_ids = set(label_keys(sample[id_column]))
    if test_ids == sample_ids and len(test) > len(sample) == len(sample_ids):
        return True
    if len(sample) != len(test) or test_ids != sample_ids:
        missing, unknown = len(test_ids - sample_ids), len(sample_ids - test_ids)
        raise InputError(
            f"ids don't match {files.test.name} ({len(sample)} rows vs {len(test)}; "
            f"{missing} test ids missing, {unknown} ids not in test)",
            files.sample_submission,
        )
    return False


def _holds_text(values: pd.Series) -> bool:
    """Whether a column holds strings (words, labels) rather than numbers, flags, dates or file names."""
    return not pd.api.types.is_bool_dtype(values) and column_kind(values) in ("text", "categorical")


def _scores_boxes(metric: str | None) -> bool:
    try:
        return metric is not None and get_metric(metric).name in boxes.BOX_METRICS
    except KeyError:
        return False


def _find_targets(files: CompetitionFiles, train: pd.DataFrame, test: pd.DataFrame, wanted: list[str],
                  id_column: str, sample: pd.DataFrame) -> tuple[list[str], bool]:
    """Target columns (from the sample's answer columns, `wanted`), and whether the submission has one
    probability column per class."""
    if wanted and all(c in train.columns for c in wanted):
        return wanted, False
    only_in_train = [c for c in train.columns if c not in test.columns and c != id_column]
    if len(only_in_train) > 1 and len(wanted) == 1:
        # Annotations beside the target (jigsaw-unintended-bias: `target` and some 40 others, the
        # sample asks for `prediction`): the one named as the sample's column or `target` is it.
        named = [c for c in only_in_train if c.lower() in {wanted[0].lower(), "target"}]
        # A text answer beside its position (chaii: `answer_text` and `answer_start`, the sample asks for
        # `PredictionString`): the one train-only column of text, when the sample's column holds text.
        texts = [c for c in only_in_train if _holds_text(train[c])]
        if len(named) != 1 and len(texts) == 1 and wanted[0] in sample.columns and _holds_text(sample[wanted[0]]):
            named = texts
        # Boxes beside their parts (siim-covid19: `label` holds them as the sample asks, `boxes` as dicts).
        placed = [c for c in only_in_train if boxes.is_box_column(train[c])]
        if len(named) != 1 and len(placed) == 1 and wanted[0] in sample.columns and boxes.labels_of(sample[wanted[0]]):
            named = placed
        only_in_train = named if len(named) == 1 else only_in_train
    if len(only_in_train) == 1:
        column = only_in_train[0]
        values = {label_key(v) for v in train[column].dropna().unique()}
        if len(wanted) > 1 and {label_key(c) for c in wanted} <= values | {label_key(c) for c in wanted}:
            return [column], True
        return [column], False
    raise InputError(
        f"cannot find the target: sample submission columns {wanted} are not in {files.train.name}, "
        f"and {len(only_in_train)} columns are only in train {only_in_train[:5]}; pass --target",
        files.train,
    )
