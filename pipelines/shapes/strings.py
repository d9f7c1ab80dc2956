"""Span and string answers: one string per row, a span of an input text or free text.

The contract for these shapes is one function, `fit_predict(train, test, ctx)`: fit on `train`
(rows with their answers) and return one string per row of `test` (rows without them). The
harness calls it once per fold, with the fold's training rows as `train` and the fold's
validation rows followed by the test rows as `test`, so validation rows are treated exactly like
test rows; it scores the validation strings with the competition's metric, and each test row's
answer is the one most folds gave (the first fold's on a tie).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from pipelines.context import Context
from pipelines.folds import training_rows
from pipelines.harness import CVResult, SolutionError, held_out_rows
from pipelines.metrics import get_metric
from pipelines.spec import CompetitionSpec

# Of the time left as a fold starts, the share its fit_predict may take (divided by the folds left).
FOLDS_SHARE = 0.85
# A span answer is a substring of its source in at least this share of rows, and shorter than it in
# this share: shorter in none, the answer is the input repeated (a rewrite, as in text normalisation).
SPAN_SHARE = 0.8
SHORTER_SHARE = 0.2
# A string answer repeats an input column in at least this share of rows (the rest rewrite it), or
# else is free text: this many words on average, this share of distinct values.
REWRITE_SHARE = 0.5
FREE_TEXT_WORDS = 3
FREE_TEXT_DISTINCT = 0.5
MIN_DISTINCT_ANSWERS = 50  # fewer distinct answers are class labels, whatever they look like
SHAPE_SAMPLE_ROWS = 5_000  # rows the shape is decided from


def as_strings(values: Any) -> np.ndarray:
    """Strings as a numpy unicode array (missing values as ""): what oof.npy and test.npy hold, loadable
    without pickle."""
    items = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]
    return np.asarray(items, dtype=str) if items else np.zeros(0, dtype=str)


def answers(frame: pd.DataFrame, spec: CompetitionSpec) -> np.ndarray:
    return as_strings(frame[spec.target_columns[0]])


def string_shape(train: pd.DataFrame, test: pd.DataFrame, target: str) -> tuple[str, str | None]:
    """("span", column) when the answers are spans of an input text column, ("string", column) when they
    rewrite an input column (repeat it in most rows), ("string", None) for free text, else ("rows", None)."""
    if target in test.columns or target not in train.columns:
        return "rows", None
    y = train[target]
    if pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return "rows", None
    rows = train[y.notna()]
    rows = rows.sample(SHAPE_SAMPLE_ROWS, random_state=0) if len(rows) > SHAPE_SAMPLE_ROWS else rows
    answers_ = rows[target].astype(str)
    if answers_.nunique() < MIN_DISTINCT_ANSWERS:
        return "rows", None
    best_span, best_rewrite = (0.0, None), (0.0, None)
    texts = [c for c in train.columns if c != target and c in test.columns
             and (pd.api.types.is_object_dtype(train[c]) or pd.api.types.is_string_dtype(train[c]))]
    for column in texts:
        source = rows[column].fillna("").astype(str)
        inside = np.array([a in s for a, s in zip(answers_, source)])
        shorter = inside & (answers_.str.len().to_numpy() < source.str.len().to_numpy())
        equal = float(np.mean(answers_.to_numpy() == source.to_numpy()))
        if inside.mean() >= SPAN_SHARE and shorter.mean() >= SHORTER_SHARE and inside.mean() > best_span[0]:
            best_span = (float(inside.mean()), column)
        if equal >= REWRITE_SHARE and equal > best_rewrite[0]:
            best_rewrite = (equal, column)
    if best_span[1] is not None:
        return "span", best_span[1]
    if best_rewrite[1] is not None:
        return "string", best_rewrite[1]
    free_text = answers_.str.split().str.len().mean() >= FREE_TEXT_WORDS and \
        answers_.nunique() >= FREE_TEXT_DISTINCT * len(answers_)
    return ("string", None) if free_text else ("rows", None)


def fallback_answers(train: pd.DataFrame, test: pd.DataFrame, spec: CompetitionSpec) -> np.ndarray:
    """An answer for every test row that knows nothing of the row but its source: for a span the whole
    source text (every word of the answer is in it), for a rewrite the input itself, for free text the
    most frequent training answer. What a run submits before any candidate has run, and what stands in
    for a test answer a candidate left empty (an empty cell is an invalid submission)."""
    if spec.source_column is not None:
        return as_strings(test[spec.source_column].fillna("").astype(str).where(lambda v: v != "", "-"))
    return as_strings([pd.Series(answers(train, spec)).value_counts().index[0]] * len(test))


def metric_reads(predicted: np.ndarray, train: pd.DataFrame, spec: CompetitionSpec, rows: int = 200) -> bool:
    """Whether the metric can score these strings as answers, train's own answers standing in for the truth. It
    cannot when they name another row's ids (AI4Code's cell orders) or are written in train's form where the
    sample asks for another (kuzushiji's boxes where points are asked)."""
    metric, truth = get_metric(spec.metric), answers(train, spec)
    n = min(len(truth), len(predicted), rows)
    if metric.grouped or n == 0:
        return True
    try:
        metric(truth[:n], predicted[:n])
    except ValueError:
        return False
    return True


def _checked(returned: Any, n: int) -> np.ndarray:
    if isinstance(returned, (str, bytes)) or not hasattr(returned, "__len__"):
        raise SolutionError(f"fit_predict returned {type(returned).__name__}; expected one string per test row")
    if len(returned) != n:
        raise SolutionError(f"fit_predict returned {len(returned)} strings, expected {n}")
    return as_strings(returned)


def most_common(votes: list[np.ndarray]) -> np.ndarray:
    """Per row, the string most folds gave; on a tie, the earliest fold's."""
    return as_strings([Counter(row).most_common(1)[0][0] for row in zip(*votes)])


def cross_validate(solution: ModuleType, train: pd.DataFrame, test: pd.DataFrame, folds: np.ndarray,
                   ctx: Context, params: dict[str, Any] | None = None) -> CVResult:
    """Score a string solution under the run's folds with the competition's metric (see the module doc)."""
    if not callable(getattr(solution, "fit_predict", None)):
        raise SolutionError("a solution for span or string answers defines fit_predict(train, test, ctx)")
    start = time.perf_counter()
    spec = ctx.spec
    metric = get_metric(spec.metric)
    y = answers(train, spec)
    test_inputs = test.drop(columns=[c for c in spec.target_columns if c in test.columns])
    oof = np.full(len(train), "", dtype=object)
    fold_ids = sorted(set(folds[folds >= 0].tolist()))
    votes, fold_scores = [], []
    for i, k in enumerate(fold_ids):
        valid_rows = np.flatnonzero(folds == k)
        train_rows = training_rows(folds, k, spec)
        rest = held_out_rows(train, valid_rows, test_inputs)
        seconds = FOLDS_SHARE * ctx.seconds_left() / (len(fold_ids) - i)
        fold_ctx = ctx if np.isinf(seconds) else replace(ctx, fit_deadline=ctx.clock() + seconds)
        predicted = _checked(solution.fit_predict(train.iloc[train_rows].reset_index(drop=True), rest, fold_ctx),
                             len(rest))
        oof[valid_rows] = predicted[: len(valid_rows)]
        votes.append(predicted[len(valid_rows):])
        fold_scores.append(float(metric(y[valid_rows], predicted[: len(valid_rows)])))
    validated = folds >= 0
    oof, test_pred = as_strings(oof), most_common(votes)
    empty = test_pred == ""
    test_pred = np.where(empty, fallback_answers(train, test_inputs, spec), test_pred)
    return CVResult(oof=oof, test=test_pred, fold_scores=fold_scores,
                    score=float(metric(y[validated], oof[validated])), params=dict(params or {}),
                    seconds=time.perf_counter() - start, facts={"empty_test_answers_filled": int(empty.sum())})
