"""A compact description of the data for the engineer: what a Kaggler looks at first."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipelines.shapes import label_lists, masks
from pipelines.spec import CompetitionSpec
from pipelines.targets import class_labels


def _column_facts(name: str, train: pd.Series, test: pd.Series | None, kind: str) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "dtype": str(train.dtype),
        "missing": round(float(train.isna().mean()), 4),
        "unique": int(train.nunique(dropna=True)),
    }
    present = train.dropna()
    if kind == "numeric" and len(present):
        numbers = pd.to_numeric(present, errors="coerce")
        facts.update(min=float(numbers.min()), median=float(numbers.median()), max=float(numbers.max()))
    elif kind == "text" and len(present):
        text = present.astype(str)
        facts.update(mean_chars=round(float(text.str.len().mean()), 1), mean_words=round(float(text.str.split().str.len().mean()), 1))
    elif len(present):
        facts["top"] = [str(v) for v in present.astype(str).value_counts().index[:5]]
    if train.dtype == object and len(present):  # a solution must know whether `True` is a bool or a string
        facts["value_types"] = sorted({type(v).__name__ for v in present.iloc[:1000]})
    if test is not None:
        facts["missing_in_test"] = round(float(test.isna().mean()), 4)
    return facts


def profile(spec: CompetitionSpec, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    """Sizes, column kinds and statistics, and the target's distribution."""
    kinds = {c: k for k, cols in (
        ("numeric", spec.numeric_columns), ("categorical", spec.categorical_columns), ("text", spec.text_columns),
        ("datetime", spec.datetime_columns), ("file", spec.file_columns)) for c in cols}
    target: dict[str, Any] = {"columns": spec.target_columns, "task": spec.task}
    if spec.answer_shape == "mask":
        target.update(masks.profile_facts(train, spec))
    elif spec.answer_shape == "labels" or (spec.task == "multilabel" and spec.target_columns != spec.classes):
        target.update(label_lists.profile_facts(train, spec))
    elif spec.task in ("binary", "multiclass"):
        shares = class_labels(train, spec).map(str).value_counts(normalize=True)
        target["class_shares"] = {k: round(float(v), 4) for k, v in shares.head(30).items()}
    elif spec.task == "multilabel":
        target["positive_rate"] = {c: round(float(train[c].mean()), 4) for c in spec.target_columns}
    elif spec.task == "text":
        target.update(answer_facts(train, spec))
    else:
        y = train[spec.target_columns].apply(pd.to_numeric, errors="coerce")
        target.update(
            min=float(np.nanmin(y.values)), median=float(np.nanmedian(y.values)), max=float(np.nanmax(y.values)),
            skew=round(float(y.skew().mean()), 3),
        )
    return {
        "slug": spec.slug,
        "rows": {"train": len(train), "test": len(test)},
        "task": spec.task,
        "answer_shape": spec.answer_shape,
        "modality": spec.modality,
        "metric": spec.metric,
        "direction": spec.direction,
        "id_column": spec.id_column,
        "target": target,
        "submission": {"columns": spec.submission_columns, "kind": spec.submission_kind,
                       "answer_shape": spec.answer_shape, "source_column": spec.source_column,
                       "rows_matched_by_order": spec.row_order_key,
                       "labels_ranked": label_lists.RANKED_METRICS.get(spec.metric) if spec.answer_shape == "labels"
                       else None},
        "column_pairs": spec.column_pairs,
        "columns": [
            _column_facts(c, train[c], test[c] if c in test.columns else None, kinds[c]) for c in kinds
        ],
    }


def profile_markdown(facts: dict[str, Any]) -> str:
    """The profile as a short text an engineer (human or LLM) reads in seconds."""
    lines = [
        f"# {facts['slug']}: {facts['task']} ({facts['modality']}), metric {facts['metric']} ({facts['direction']})",
        f"train {facts['rows']['train']} rows"
        + (f" (a sample of the file's {facts['rows']['train_in_file']}{_groups_kept(facts['rows'])})"
           if "train_in_file" in facts["rows"] else "")
        + f", test {facts['rows']['test']} rows; id `{facts['id_column']}`; "
        f"target {facts['target']}",
        f"submission columns {facts['submission']['columns']} as {facts['submission']['kind']}"
        + _shape_line(facts["submission"]),
        *([f"paired columns, drawn from one vocabulary: {', '.join(f'{a} ~ {b}' for a, b in facts['column_pairs'])}"]
          if facts.get("column_pairs") else []),
        "",
        "| column | kind | dtype | missing | unique | details |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for col in facts["columns"]:
        details = {k: v for k, v in col.items() if k not in ("name", "kind", "dtype", "missing", "unique")}
        lines.append(f"| {col['name']} | {col['kind']} | {col['dtype']} | {col['missing']} | {col['unique']} | {details} |")
    return "\n".join(lines)


def answer_facts(train: pd.DataFrame, spec: CompetitionSpec) -> dict[str, Any]:
    """What string answers look like: their length, and how often they repeat or sit inside their source."""
    answers = train[spec.target_columns[0]].fillna("").astype(str)
    facts: dict[str, Any] = {"mean_words": round(float(answers.str.split().str.len().mean()), 2),
                             "distinct": int(answers.nunique()), "top": answers.value_counts().index[:5].tolist()}
    if spec.source_column is not None:
        source = train[spec.source_column].fillna("").astype(str)
        facts["share_equal_to_source"] = round(float((answers == source).mean()), 4)
        facts["share_inside_source"] = round(float(np.mean([a in s for a, s in zip(answers, source)])), 4)
    return facts


def _groups_kept(rows: dict[str, Any]) -> str:
    return f", whole groups of `{rows['whole_groups_of']}`" if rows.get("whole_groups_of") else ""


def _shape_line(submission: dict[str, Any]) -> str:
    shape = submission.get("answer_shape", "rows")
    line = ""
    if shape == "span":
        line = f"; each answer is a span (substring) of `{submission['source_column']}`, written as a string"
    elif shape == "string":
        line = "; each answer is a string" + (f" rewriting `{submission['source_column']}`"
                                              if submission.get("source_column") else "")
    elif shape == "labels":
        line = (f"; each answer is {submission.get('labels_ranked') or 'a set of'} space-separated labels"
                + (" ranked most likely first" if submission.get("labels_ranked") else "")
                + ": models predict a probability per label (n, labels) and the harness writes the labels")
    elif shape == "mask":
        line = ("; each answer is a 0/1 mask per item (image) as run-length strings: models predict a probability "
                "per pixel (n, H, W) and the harness makes the masks")
    if submission.get("rows_matched_by_order"):
        line += "; rows are matched by their order (the sample has no id)"
    return line
