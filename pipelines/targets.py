"""Between the competition's target values and the arrays models and metrics see.

Internally a classification target is an integer code (its position in `spec.classes`), and a
prediction is "raw": the positive-class probability (binary), a probability matrix
(multiclass, multilabel) or values (regression). Everything that turns raw predictions into
labels, metric inputs or submission columns lives here, so CV scores and submissions are
made by the same code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipelines.errors import InputError
from pipelines.metrics import Metric
from pipelines.shapes import label_lists, masks
from pipelines.spec import CompetitionSpec


def label_key(value: Any) -> str:
    """Compare labels as text, so True == 'True' == 'true' and 1 == 1.0 == '1'."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip().lower()


def label_keys(values: pd.Series) -> pd.Series:
    """`label_key` of each value, vectorised for columns of one type: a 4M-row id column in a second, not 30."""
    missing = values.isna().to_numpy()
    present = values[~missing]
    if pd.api.types.is_bool_dtype(present):
        keys = np.where(present.to_numpy(dtype=bool), "true", "false")
    elif pd.api.types.is_integer_dtype(present):
        keys = present.astype(str).to_numpy()
    elif present.dtype == np.float64:
        numbers = present.to_numpy()
        whole = np.isfinite(numbers)
        whole[whole] = numbers[whole] % 1 == 0
        if (np.abs(numbers[whole]) >= 2**53).any():  # beyond exact int64 conversion: label_key's own path
            return values.map(label_key)
        keys = present.astype(str).to_numpy(dtype=object)
        keys[whole] = numbers[whole].astype(np.int64).astype(str)
    elif pd.api.types.infer_dtype(present, skipna=False) == "string":
        keys = present.astype(str).str.strip().str.lower().to_numpy(dtype=object)
    else:
        return values.map(label_key)
    out = np.empty(len(values), dtype=object)
    out[~missing] = keys
    out[missing] = [label_key(v) for v in values[missing]]
    return pd.Series(out, index=values.index, name=values.name, dtype=object)


def is_one_hot(values: pd.DataFrame) -> bool:
    """Whether 0/1 columns mark exactly one of them per row: one class per row, given as a column per class
    (lmsys-chatbot-arena's winner_model_a / winner_model_b / winner_tie)."""
    numbers = values.apply(pd.to_numeric, errors="coerce")
    return values.shape[1] > 1 and bool(numbers.isin([0, 1]).all().all()) and bool((numbers.sum(axis=1) == 1).all())


def is_class_shares(values: pd.DataFrame) -> bool:
    """Whether columns hold each row's votes (or shares) for one class per column: hms' six `*_vote` counts,
    non-negative with a positive sum in every row (0/1 marks are one class per row or none: `is_one_hot`)."""
    numbers = values.apply(pd.to_numeric, errors="coerce")
    return (values.shape[1] > 1 and not numbers.isna().any().any() and bool((numbers >= 0).all().all())
            and bool((numbers.sum(axis=1) > 0).all()) and not bool(numbers.isin([0, 1]).all().all()))


def class_labels(frame: pd.DataFrame, spec: CompetitionSpec) -> pd.Series:
    """The class of each row of a binary or multiclass task, also when the target is one column per class
    (marked with a 1, or the class with the most votes)."""
    if len(spec.target_columns) == 1:
        return frame[spec.target_columns[0]]
    values = frame[spec.target_columns]
    if not (is_one_hot(values) or is_class_shares(values)):
        raise InputError(f"target columns {spec.target_columns} do not mark exactly one class per row")
    return values.apply(pd.to_numeric).idxmax(axis=1)


def encode_target(frame: pd.DataFrame, spec: CompetitionSpec) -> np.ndarray:
    """Target columns of `frame` as model-ready numbers (codes, 0/1 matrix or floats)."""
    if spec.task == "multilabel" and spec.target_columns != spec.classes:  # one column of label lists
        return label_lists.indicators(frame[spec.target_columns[0]], spec.classes)
    if spec.task in ("binary", "multiclass"):
        column = class_labels(frame, spec)
        lookup = {label_key(c): i for i, c in enumerate(spec.classes)}
        codes = column.map(lambda v: lookup.get(label_key(v), -1)).to_numpy(dtype=np.int64)
        if (codes < 0).any():
            unknown = sorted({str(v) for v, c in zip(column, codes) if c < 0})[:5]
            raise InputError(f"target {', '.join(spec.target_columns)} has values outside {spec.classes}: {unknown}")
        return codes
    if spec.task == "text":
        return frame[spec.target_columns[0]].fillna("").astype(str).to_numpy(dtype=str)
    values = frame[spec.target_columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    if spec.task == "multilabel":
        return values.astype(np.int64)
    return values[:, 0] if values.shape[1] == 1 else values


def as_labels(raw: np.ndarray, spec: CompetitionSpec, threshold: Any = None) -> np.ndarray:
    """Class codes from raw probabilities (or rounded values for an ordinal regression).

    `threshold`: the positive-class cut (binary), one cut per label (multilabel), or for a multiclass
    task either one weight per class that the probabilities are multiplied by before the argmax, or
    `{"cuts": [...]}`: increasing cut points on the expected class position (ordered classes).
    Label lists are written as their text: the ranked labels, or the set above the cut `threshold`.
    """
    if spec.answer_shape == "labels":
        return label_lists.predicted_text(raw, spec.classes, label_lists.RANKED_METRICS.get(spec.metric), threshold)
    if spec.task == "binary":
        return (np.asarray(raw) >= (0.5 if threshold is None else threshold)).astype(np.int64)
    if spec.task == "multiclass":
        raw = np.asarray(raw)
        if isinstance(threshold, dict):
            return np.searchsorted(np.asarray(threshold["cuts"]), expected_position(raw)).astype(np.int64)
        return (raw if threshold is None else raw * np.asarray(threshold, dtype=np.float64)).argmax(axis=1)
    if spec.task == "multilabel":
        return (np.asarray(raw) >= (0.5 if threshold is None else threshold)).astype(np.int64)
    if spec.task == "text":
        return np.asarray(raw)
    return np.rint(raw)


def expected_position(proba: np.ndarray) -> np.ndarray:
    """The probability-weighted mean of the class positions 0..k-1: one number per row that keeps the
    classes' order, what cut points on an ordinal metric (quadratic kappa) are placed on."""
    return np.asarray(proba, dtype=np.float64) @ np.arange(proba.shape[1])


def metric_input(raw: np.ndarray, spec: CompetitionSpec, metric: Metric, threshold: Any = None) -> np.ndarray:
    """What `metric` must be fed for these raw predictions; for a metric of values and their spread, the
    spread is `threshold` (None: none, which such metrics read as the most confident they allow)."""
    if metric.spread:
        values = np.asarray(raw, dtype=np.float64).reshape(len(raw), -1)[:, 0]
        return np.column_stack([values, np.full(len(values), np.nan if threshold is None else float(threshold))])
    labels = metric.needs == "label" or (metric.needs == "text" and spec.answer_shape == "labels")
    return as_labels(raw, spec, threshold) if labels else np.asarray(raw)


def metric_truth(y: np.ndarray, spec: CompetitionSpec) -> np.ndarray:
    """What `metric` must be fed for encoded answers: label lists as their text, else `y` itself."""
    return label_lists.truth_text(y, spec.classes) if spec.answer_shape == "labels" else y


def score(y: np.ndarray, raw: np.ndarray, spec: CompetitionSpec, metric: Metric, threshold: Any = None) -> float:
    return float(metric(metric_truth(y, spec), metric_input(raw, spec, metric, threshold)))


def within_bounds(values: np.ndarray, spec: CompetitionSpec) -> np.ndarray:
    """Regression predictions clipped to the limits the target cannot pass (`spec.target_bounds`)."""
    low, high = spec.target_bounds
    return values if low is None and high is None else np.clip(values, low, high)


def submission_frame(
    ids: pd.Series, raw: np.ndarray, spec: CompetitionSpec, threshold: Any = None, test: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The submission table for raw test predictions, in the sample submission's column order (`test`: the
    rows predicted, whose images' own sizes masks are written at when sizes differ)."""
    if spec.answer_shape == "mask":
        shapes = masks.item_shapes(test, spec) if spec.mixed_image_sizes and test is not None else None
        return masks.submission_frame(ids, raw, spec, threshold, shapes)
    raw = np.asarray(raw)
    out = pd.DataFrame({spec.id_column: ids.to_numpy()})
    if spec.answer_shape == "labels":
        out[spec.submission_columns[0]] = as_labels(raw, spec, threshold)
    elif spec.submission_kind == "label":
        if spec.task in ("regression", "text"):
            values = raw if raw.ndim == 2 else raw[:, None]
            for j, col in enumerate(spec.submission_columns):
                out[col] = values[:, j]
        elif spec.task == "multilabel":
            labels = as_labels(raw, spec, threshold)
            for j, col in enumerate(spec.submission_columns):
                out[col] = labels[:, j]
        elif len(spec.target_columns) > 1:  # one 0/1 column per class
            codes = as_labels(raw, spec, threshold)
            by_class = {label_key(c): j for j, c in enumerate(spec.classes)}
            for col in spec.submission_columns:
                out[col] = (codes == by_class[label_key(col)]).astype(np.int64)
        else:
            codes = as_labels(raw, spec, threshold)
            out[spec.submission_columns[0]] = [spec.classes[c] for c in codes]
    elif spec.submission_kind == "proba":
        if spec.task == "binary":
            out[spec.submission_columns[0]] = raw if raw.ndim == 1 else raw[:, 1]
        else:
            by_class = {label_key(c): j for j, c in enumerate(spec.classes)}
            for col in spec.submission_columns:
                out[col] = raw[:, by_class[label_key(col)]]
    else:
        values = raw if raw.ndim == 2 else raw[:, None]
        values = within_bounds(values, spec) if spec.task == "regression" else values
        for j, col in enumerate(c for c in spec.submission_columns if c != spec.spread_column):
            out[col] = values[:, j]
        if spec.spread_column is not None:
            if threshold is None:
                raise ValueError(f"{spec.spread_column!r} needs a spread fitted on out-of-fold predictions")
            out[spec.spread_column] = float(threshold)
            out = out[[spec.id_column, *spec.submission_columns]]
    return out
