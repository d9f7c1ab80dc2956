"""How training rows are split for validation: folds that hold out what test holds out.

Rows are split by time when test comes after train, by group when test holds groups train lacks,
stratified by class for classification, else at random; a fold is never designed by a candidate.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

from pipelines.shapes import masks
from pipelines.spec import CompetitionSpec
from pipelines.tables import parse_datetimes
from pipelines.targets import class_labels, label_keys

log = logging.getLogger(__name__)


def clean_train(train: pd.DataFrame, spec: CompetitionSpec) -> pd.DataFrame:
    """Rows without a target teach nothing; drop them (an empty mask is an answer: it stays)."""
    if spec.answer_shape == "mask":
        return train.reset_index(drop=True)
    keep = train[spec.target_columns].notna().all(axis=1)
    if not keep.all():
        log.warning("dropping %d train rows without a target", int((~keep).sum()))
    return train.loc[keep].reset_index(drop=True)


def make_folds(train: pd.DataFrame, spec: CompetitionSpec, n_folds: int, seed: int) -> np.ndarray:
    """Fold index per row; -1 marks rows that are only ever trained on (the earliest, for time splits)."""
    n = len(train)
    n_folds = max(2, min(n_folds, n // 2))
    folds = np.full(n, -1)
    if spec.answer_shape == "mask":
        return held_out_items(masks.coverage_strata(train, spec), n_folds, seed, _item_groups(train, spec))
    if spec.time_column:
        # Chunks of whole time points, oldest first, so rows of one date never straddle a fold's
        # training and validation; the oldest chunk only ever trains (as do rows without a date).
        when = parse_datetimes(train[spec.time_column])
        codes = pd.factorize(when, sort=True)[0]
        for k, points in enumerate(np.array_split(np.unique(codes[codes >= 0]), n_folds + 1)[1:]):
            folds[np.isin(codes, points)] = k
        return folds
    if spec.group_column:
        splitter = GroupKFold(n_splits=n_folds)
        groups = train[spec.group_column].astype(str).to_numpy()
        splits = splitter.split(np.zeros(n), groups=groups)
    elif spec.task in ("binary", "multiclass"):
        y = label_keys(class_labels(train, spec))
        smallest = y.value_counts().min()
        if smallest >= n_folds:
            splits = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(np.zeros(n), y)
        else:
            splits = KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(np.zeros(n))
    else:
        splits = KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(np.zeros(n))
    for k, (_, valid) in enumerate(splits):
        folds[valid] = k
    return folds


def training_rows(folds: np.ndarray, k: int, spec: CompetitionSpec) -> np.ndarray:
    """The rows fold `k`'s model trains on: every other fold's (and the rows only ever trained on),
    or with time-ordered folds the earlier folds' only, so a forecast never learns from its future."""
    return np.flatnonzero(folds < k if spec.time_column else folds != k)


def _item_groups(train: pd.DataFrame, spec: CompetitionSpec) -> np.ndarray | None:
    """Rows that must be held out together: the spec's groups, else the rows of one image (its classes' masks)."""
    if spec.group_column:
        return train[spec.group_column].astype(str).to_numpy()
    image = train[spec.image_columns[0]].astype(str) if spec.image_columns else None
    return image.to_numpy() if image is not None and image.duplicated().any() else None


def held_out_items(strata: np.ndarray, n_folds: int, seed: int, groups: np.ndarray | None = None) -> np.ndarray:
    """One fold of items (1/n_folds of them, alike in `strata`, whole `groups`) held out; the rest only train (-1).

    A network per fold is more than a run's budget pays for on items such as images: one
    held-out fold measures the model that predicts the test items.
    """
    stratified = np.unique(strata, return_counts=True)[1].min() >= n_folds
    if groups is not None:
        splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed) if stratified \
            else GroupKFold(n_splits=n_folds)
    else:
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed) if stratified \
            else KFold(n_splits=n_folds, shuffle=True, random_state=seed)
    _, valid = next(splitter.split(np.zeros(len(strata)), strata, groups))
    folds = np.full(len(strata), -1)
    folds[valid] = 0
    return folds


def describe_folds(folds: np.ndarray, spec: CompetitionSpec) -> str:
    """The folds in a sentence, for whoever writes solutions: how many, how split, how large."""
    validated = folds[folds >= 0]
    k = int(validated.max()) + 1 if validated.size else 0
    if spec.time_column:
        how = (f"time-ordered by `{spec.time_column}`: each fold validates on a later period and trains on "
               "every earlier row (the oldest rows only ever train)")
    elif spec.group_column:
        how = f"grouped by `{spec.group_column}`: all rows of a group sit in one fold, as test holds unseen groups"
    elif spec.task in ("binary", "multiclass"):
        how = "shuffled and stratified by class"
    else:
        how = "shuffled at random"
    per_fold = np.bincount(validated, minlength=k) if k else np.array([0])
    return (f"{k} folds, {how}; each validates about {int(per_fold.mean())} rows and trains on about "
            f"{int(len(folds) - per_fold.mean())} of the {len(folds)} training rows")
