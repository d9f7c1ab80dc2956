"""Label lists: each answer is several labels in one cell, space-separated.

Two kinds are scored differently. A ranked list (MAP@k: whale-categorization-playground's five guesses
per photo, hotel-id's five hotels) earns most for the right label first; a set (micro F1 over attribute
or tag sets: imet's attributes, a question's tags) earns for each right label and loses for each wrong
one. Train gives one label per row (a class: the list is the k most probable classes) or a list per
row (several labels: each is a 0/1 column of a multilabel task, the set is the labels above a cut that
is fitted out of fold like any other decision threshold). Either way the models, folds and ensembles
of a classification task apply unchanged; only the metric's input and the submission are the labels
written back as text. (mlsp-2013-birds' species per recording are answered a row per item and class
instead: pipelines.shapes.label_sets.)
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from pipelines.spec import CompetitionSpec

RANKED_METRICS = {"map@5": 5, "map@12": 12}  # metric -> how many labels an answer ranks
SET_METRICS = ("f1_micro_label_sets",)
MAX_LABELS = 200  # a multilabel task keeps this many most frequent labels: one 0/1 column each
MIN_LABEL_ROWS = 10  # ... each in this many rows, so every fold's training rows hold some (a one-class column
# fails linear models)
LIST_SHARE = 0.2  # without a label-list metric, at least this share of train rows must hold several labels
MIN_REPEATS = 3  # ... and a label must occur in this many rows on average (a vocabulary, not free text)
MAX_PER_ROW = 10  # ... and rows list at most this many on average, rarely one twice (sentences repeat words)
REPEAT_SHARE = 0.05
SAMPLE_ROWS = 5000


def tokens(value: object) -> list[str]:
    """A cell's labels, separated by spaces or commas (freesound's "Bark,Bus")."""
    if isinstance(value, str):
        return [t for t in re.split(r"[\s,]+", value) if t]
    return [] if pd.isna(value) else [str(value)]


def lists_of(values: pd.Series, labels: list[str]) -> bool:
    """Whether `values` list several of `labels` in some rows and nothing else (one column per label asked
    for, while train gives each row its list: freesound's sample has 80 label columns)."""
    lists = values.dropna().map(tokens)
    known = set(labels)
    return bool(len(lists) and (lists.str.len() > 1).any() and lists.map(lambda t: set(t) <= known).mean() >= 0.99)


def is_label_list(train: pd.DataFrame, target: str, metric: str | None) -> bool:
    """Whether `target` holds label lists: a label-list metric names it so, or (no other metric known)
    many train rows list several labels drawn from a small vocabulary (tags, attribute ids)."""
    if target not in train.columns:
        return False
    y = train[target].dropna()
    if y.empty or pd.api.types.is_bool_dtype(y):
        return False
    if metric in RANKED_METRICS or metric in SET_METRICS:  # whole numbers name labels too (hotel ids)
        return not pd.api.types.is_numeric_dtype(y) or bool((y % 1 == 0).all())
    if metric is not None or pd.api.types.is_numeric_dtype(y):
        return False
    lists = [tokens(v) for v in y.head(SAMPLE_ROWS)]
    several = np.mean([len(t) > 1 for t in lists])
    counts = Counter(label for t in lists for label in t)
    repeats = np.mean([len(set(t)) < len(t) for t in lists])
    short = np.mean([len(t) for t in lists]) <= MAX_PER_ROW and repeats <= REPEAT_SHARE
    return bool(several >= LIST_SHARE and short and counts and sum(counts.values()) / len(counts) >= MIN_REPEATS)


def one_label_per_row(train: pd.DataFrame, target: str) -> bool:
    return bool(train[target].dropna().map(lambda v: len(tokens(v)) == 1).all())


def vocabulary(train: pd.DataFrame, target: str) -> list[str]:
    """The labels a multilabel answer chooses from: the MAX_LABELS most frequent, most frequent first, of
    those in MIN_LABEL_ROWS rows (all of the most frequent when none is that common)."""
    ranked = Counter(label for v in train[target] for label in dict.fromkeys(tokens(v))).most_common(MAX_LABELS)
    return [label for label, n in ranked if n >= MIN_LABEL_ROWS] or [label for label, _ in ranked]


def coverage(train: pd.DataFrame, target: str, labels: list[str]) -> float:
    """Share of the train rows' labels that are among `labels` (the rest can never be predicted)."""
    kept = set(labels)
    occurrences = [label for v in train[target] for label in dict.fromkeys(tokens(v))]
    return sum(label in kept for label in occurrences) / max(1, len(occurrences))


def indicators(values: pd.Series, labels: list[str]) -> np.ndarray:
    """A 0/1 column per label of `labels`; labels outside it are dropped."""
    position = {label: j for j, label in enumerate(labels)}
    out = np.zeros((len(values), len(labels)), dtype=np.int64)
    for i, value in enumerate(values):
        for label in tokens(value):
            if (j := position.get(label)) is not None:
                out[i, j] = 1
    return out


def truth_text(y: np.ndarray, labels: list[str]) -> np.ndarray:
    """Encoded answers (class codes, or a 0/1 matrix) written back as label lists."""
    y = np.asarray(y)
    names = np.asarray([str(label) for label in labels], dtype=object)
    if y.ndim == 1:
        return names[y]
    return np.asarray([" ".join(names[row.astype(bool)]) for row in y], dtype=object)


def predicted_text(raw: np.ndarray, labels: list[str], ranked: int | None, cut: float | None = None) -> np.ndarray:
    """Probabilities as answers: the `ranked` most probable labels, most probable first; or for a set
    every label at or above `cut` (0.5 by default), the most probable one when none is."""
    raw = np.asarray(raw, dtype=np.float64)
    names = np.asarray([str(label) for label in labels], dtype=object)
    order = np.argsort(-raw, axis=1, kind="stable")
    if ranked is not None:
        return np.asarray([" ".join(names[row[:ranked]]) for row in order], dtype=object)
    chosen = raw >= (0.5 if cut is None else cut)
    chosen[np.arange(len(raw)), order[:, 0]] = True
    return np.asarray([" ".join(names[np.flatnonzero(row)[np.argsort(-p[row])]]) for row, p in zip(chosen, raw)],
                      dtype=object)


def profile_facts(train: pd.DataFrame, spec: CompetitionSpec) -> dict[str, Any]:
    """How many labels, how many per row, the most frequent, and how much of train the kept ones cover."""
    lists = train[spec.target_columns[0]].map(tokens)
    counts = Counter(label for t in lists for label in t)
    return {"labels": len(counts), "labels_kept": spec.n_classes,
            "labels_per_row": round(float(lists.str.len().mean()), 2),
            "label_shares": {k: round(v / len(train), 4) for k, v in counts.most_common(30)},
            "kept_labels_cover": round(coverage(train, spec.target_columns[0], spec.classes), 4)}
