"""Decision thresholds for metrics on labels (F1, accuracy, MCC, kappa), fitted on out-of-fold predictions.

A threshold fitted on the same predictions it is scored on flatters itself, so every decision is
checked by cross-fitting: for each fold, the threshold is fitted on the other folds' rows and
applied to this fold's. It is kept only when that honest score beats the default rule (0.5, or
the most probable class), and the honest score is the one reported.

A "threshold" is a float for a binary task, one float per label for a multilabel task, and one
weight per class for a multiclass task (the label is the argmax of probabilities times weights).
For an ordinal metric (quadratic kappa) a multiclass threshold is instead a set of cut points on the
expected class position: the argmax throws away how far apart the likely classes are, and an
essay between a 3 and a 4 is better called either than a 1. This is how Kaggle's kappa
competitions were won (regression or expected value, then optimised cut points).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.metrics import Metric
from pipelines.spec import CompetitionSpec
from pipelines.shapes.label_lists import RANKED_METRICS
from pipelines.targets import metric_input, metric_truth, score

BINARY_GRID = np.round(np.linspace(0.05, 0.95, 91), 3)
CLASS_WEIGHT_GRID = np.geomspace(0.5, 2.0, 11)
MAX_CLASSES = 30


def applies(spec: CompetitionSpec, metric: Metric) -> bool:
    """Whether the metric scores labels made from probabilities (so a threshold matters), or values with
    their spread (the threshold is then the spread)."""
    if metric.spread:
        return True
    if spec.answer_shape == "labels":  # a set of labels is those above a cut; a ranked list has no cut
        return spec.metric not in RANKED_METRICS
    if metric.needs != "label" or spec.task not in ("binary", "multiclass", "multilabel"):
        return False
    return spec.task != "multiclass" or spec.n_classes <= MAX_CLASSES


def _fit_binary(y: np.ndarray, raw: np.ndarray, spec: CompetitionSpec, metric: Metric,
                grid: np.ndarray = BINARY_GRID) -> float:
    sign = 1.0 if metric.greater_is_better else -1.0
    scores = [sign * score(y, raw, spec, metric, t) for t in grid]
    best = np.flatnonzero(np.isclose(scores, max(scores)))
    return float(grid[best[len(best) // 2]])  # the middle of a plateau generalises best


def _fit_spread(y: np.ndarray, raw: np.ndarray, spec: CompetitionSpec, metric: Metric) -> float:
    """One spread for every row: the best of a grid around the Laplace maximum-likelihood scale of the
    residuals (sqrt(2) times their mean absolute size)."""
    residual = np.abs(np.asarray(y, dtype=np.float64).ravel() - np.asarray(raw, dtype=np.float64).ravel())
    scale = max(float(np.sqrt(2) * np.mean(residual)), 1e-9)
    grid = scale * np.geomspace(0.25, 4.0, 25)
    sign = 1.0 if metric.greater_is_better else -1.0
    return float(grid[int(np.argmax([sign * score(y, raw, spec, metric, s) for s in grid]))])


def _coordinate_ascent(y: np.ndarray, raw: np.ndarray, spec: CompetitionSpec, metric: Metric,
                       start: np.ndarray, grid: np.ndarray, passes: int = 2) -> np.ndarray:
    sign = 1.0 if metric.greater_is_better else -1.0
    current = start.astype(np.float64).copy()
    best = sign * score(y, raw, spec, metric, current)
    for _ in range(passes):
        for j in range(len(current)):
            for value in grid:
                trial = current.copy()
                trial[j] = value
                candidate = sign * score(y, raw, spec, metric, trial)
                if candidate > best + 1e-12:
                    best, current = candidate, trial
    return current


def _fit_cuts(y: np.ndarray, raw: np.ndarray, spec: CompetitionSpec, metric: Metric, passes: int = 3,
              steps: int = 21) -> dict[str, list[float]]:
    """Cut points between class positions, each searched between its neighbours, a few passes over all."""
    sign = 1.0 if metric.greater_is_better else -1.0
    k = raw.shape[1]
    cuts = np.arange(k - 1) + 0.5
    best = sign * score(y, raw, spec, metric, {"cuts": cuts})
    for _ in range(passes):
        for j in range(k - 1):
            low, high = (cuts[j - 1] if j else 0.0), (cuts[j + 1] if j < k - 2 else k - 1.0)
            for value in np.linspace(low, high, steps)[1:-1]:
                trial = cuts.copy()
                trial[j] = value
                candidate = sign * score(y, raw, spec, metric, {"cuts": trial})
                if candidate > best + 1e-12:
                    best, cuts = candidate, trial
    return {"cuts": cuts.tolist()}


def fit_threshold(y: np.ndarray, raw: np.ndarray, spec: CompetitionSpec, metric: Metric) -> Any:
    """The threshold (or per-label thresholds, class weights or ordinal cut points) that maximises the metric
    on these rows."""
    if metric.spread:
        return _fit_spread(y, raw, spec, metric)
    if spec.task == "binary":
        return _fit_binary(y, raw, spec, metric)
    if spec.answer_shape == "labels":  # one cut for every label
        return _fit_binary(y, raw, spec, metric, BINARY_GRID[::3])
    if spec.task == "multilabel":
        return _coordinate_ascent(y, raw, spec, metric, np.full(raw.shape[1], 0.5), BINARY_GRID[::5]).tolist()
    if metric.ordinal:
        return _fit_cuts(y, raw, spec, metric)
    return _coordinate_ascent(y, raw, spec, metric, np.ones(raw.shape[1]), CLASS_WEIGHT_GRID).tolist()


def cross_fitted_labels_score(y: np.ndarray, raw: np.ndarray, folds: np.ndarray, spec: CompetitionSpec,
                              metric: Metric) -> tuple[float, list[float]]:
    """Overall and per-fold scores when each fold's threshold (or spread) is fitted on the other folds only."""
    fold_ids = sorted(set(folds[folds >= 0].tolist()))
    pieces_y, pieces_raw, pieces_t, fold_scores = [], [], [], []
    for k in fold_ids:
        fit_rows, rows = (folds >= 0) & (folds != k), folds == k
        threshold = fit_threshold(y[fit_rows], raw[fit_rows], spec, metric)
        fold_scores.append(score(y[rows], raw[rows], spec, metric, threshold))
        pieces_y.append(y[rows])
        pieces_raw.append(raw[rows])
        pieces_t.append(threshold)
    # Labels per fold, then the metric on all rows at once (as the plain OOF score is computed).
    labels = np.concatenate([metric_input(r, spec, metric, t) for r, t in zip(pieces_raw, pieces_t)])
    return float(metric(metric_truth(np.concatenate(pieces_y), spec), labels)), fold_scores


def decide_threshold(y: np.ndarray, oof: np.ndarray, folds: np.ndarray, spec: CompetitionSpec, metric: Metric,
                     default_score: float) -> tuple[Any | None, float, list[float] | None]:
    """(threshold, honest score, honest fold scores) when a fitted threshold beats the default; else (None, default, None)."""
    if not applies(spec, metric) or len(set(folds[folds >= 0].tolist())) < 2:
        return None, default_score, None
    honest, fold_scores = cross_fitted_labels_score(y, oof, folds, spec, metric)
    better = honest > default_score if metric.greater_is_better else honest < default_score
    if not better and not metric.spread:  # a spread has no default worth keeping
        return None, default_score, None
    mask = folds >= 0
    return fit_threshold(y[mask], oof[mask], spec, metric), honest, fold_scores
