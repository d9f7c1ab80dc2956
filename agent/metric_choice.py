"""Which metric a competition is scored by, when no flag, yaml or registry says: its description's
words, else the usual metric for the task and the submission's kind."""

from __future__ import annotations

import re

REGRESSION_METRICS = {"rmse", "rmsle", "rmse_log", "mae", "r2", "mcrmse", "mcrmsle", "pearson", "spearman_mean_columnwise"}
SHARE_METRICS = {"kl_divergence", "logloss_multiclass"}  # a distribution per row: votes per class are its truth
# Scores of order or correlation: predictions clipped to the target's limits would tie and lose that order.
ORDER_METRICS = {"pearson", "spearman_mean_columnwise", "gini_normalized"}

_METRIC_PATTERNS = [
    (r"(intersection over union|\biou\b)[^.]{0,20}thresholds", "mean_precision_iou"),
    (r"dice coefficient|\bmean dice\b", "dice"),
    (r"quadratic(ally)? weighted kappa|\bqwk\b", "qwk"),
    (r"mean column-?wise root mean squared logarithmic", "mcrmsle"),
    (r"root mean squared? logarithmic error|\brmsle\b", "rmsle"),
    (r"(root mean squared? error|\brmse\b)[^.]{0,80}\blog", "rmse_log"),
    (r"mean column-?wise (area under|auc|roc)", "auc_mean_columnwise"),
    (r"area under the (roc|receiver)|\broc[ -]auc\b|\bauc\b", "auc"),
    (r"multi-?class (logarithmic|log) loss", "logloss_multiclass"),
    (r"(logarithmic|log)[ -]loss|cross[- ]entropy", "logloss"),
    (r"\bmap\s*@\s*5\b|mean average precision\s*@\s*5\b", "map@5"),
    (r"\bmap\s*@\s*12\b|mean average precision\s*@\s*12\b", "map@12"),
    (r"laplace log[ -]?likelihood", "laplace_log_likelihood"),
    (r"matthews", "mcc"),
    (r"macro[- ]?(averaged )?f1|f1[- ]macro", "f1_macro"),
    (r"micro[- ]?(averaged )?f1|f1[- ]micro", "f1_micro"),
    (r"\bf1\b|f-score|f-measure", "f1"),
    (r"mean absolute error|\bmae\b", "mae"),
    (r"root mean squared? error|\brmse\b", "rmse"),
    (r"coefficient of determination|\br2\b|r-squared", "r2"),
    (r"\bjaccard\b", "jaccard_word"),
    (r"levenshtein|edit distance", "levenshtein_mean"),
    (r"\baccuracy\b|correctly (classified|predicted)", "accuracy"),
]


def metric_from_description(text: str) -> str | None:
    """The metric a description names, reading its Evaluation/Metric section first."""
    lowered = text.lower()
    section = re.search(r"(evaluation|metric)[^\n]*\n?(.{0,1500})", lowered, re.S)
    for haystack in ([section.group(0)] if section else []) + [lowered]:
        for pattern, name in _METRIC_PATTERNS:
            if re.search(pattern, haystack):
                return name
    return None


def adapt_metric(name: str, task: str) -> str:
    """Description phrases are task-agnostic; the task picks the variant."""
    if task == "multiclass" and name == "logloss":
        return "logloss_multiclass"
    if task == "multilabel" and name == "auc":
        return "auc_mean_columnwise"
    if task == "multiclass" and name == "f1":
        return "f1_macro"
    return name


def default_metric(task: str, kind: str, shape: str = "rows") -> str:
    if shape == "span":
        return "jaccard_word"
    if shape == "labels":
        return "f1_micro_label_sets"
    if task == "regression":
        return "rmse"
    if task == "multilabel":
        return "auc_mean_columnwise" if kind == "proba" else "f1_micro"
    if kind == "proba":
        return "auc" if task == "binary" else "logloss_multiclass"
    return "accuracy"


def pixel_order(text: str) -> str:
    """How a description numbers a mask's pixels for run-length encoding: "C" when it says left to
    right and then top to bottom (row by row), else Kaggle's usual "F" (down each column first)."""
    lowered = re.sub(r"\s+", " ", text.lower())
    row_first = re.search(r"left to right,? (and )?then (from )?top to bottom|row[- ]major|row by row", lowered)
    return "C" if row_first else "F"
