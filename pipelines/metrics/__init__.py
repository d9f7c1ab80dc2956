"""Competition metrics by name, with the conventions that decide leaderboard scores.

Every solution is scored through this registry (cross-validation, tuning, ensembling and
grading), so a metric here must give the number Kaggle / MLE-bench would give. Where a
competition's grader clips, renormalises or deviates from the textbook formula, the metric does
too, and says so in its docstring. Call a metric as ``metric(y_true, y_pred)``; a metric with
``grouped=True`` also takes ``groups=`` (one group key per row), and a mask metric takes
``shapes=`` for RLE strings.

What ``y_true`` and ``y_pred`` must be depends on ``Metric.needs``:

- ``"label"``: 1-D arrays of labels (ints or strings). ``f1`` wants 0/1 (or bool) labels;
  ``f1_macro`` / ``f1_micro`` also take (n, k) 0/1 indicator matrices (multilabel).
- ``"proba"``: binary: ``y_true`` 0/1 of shape (n,), ``y_pred`` the probability of class 1,
  shape (n,) (``logloss`` also takes (n, 2)). Multiclass: ``y_true`` integer codes 0..k-1 of
  shape (n,) or a one-hot (n, k) matrix, ``y_pred`` (n, k); a class absent from ``y_true`` is
  fine because k comes from ``y_pred``. Multilabel: both (n, k). ``kl_divergence`` takes vote
  counts (n, k) or class codes (n,) as ``y_true``; ``jigsaw_bias_auc`` takes (n, 1 + identities) (see its doc).
- ``"value"``: (n,), or (n, k) for the mean-columnwise metrics and the few whose rows are
  vectors (``mean_angular_error``: azimuth, zenith; ``laplace_log_likelihood``: ``y_pred`` is
  value, confidence; ``mean_p50_p95_haversine_m``: latitude, longitude).
- ``"text"``: one string per item on each side (spans, sequences, space-separated label sets
  or ranked ids, as the submission writes them). None and NaN are read as "".
- ``"mask"``: one mask per item on each side: a 2-D array (nonzero = foreground) or an RLE
  string (``pipelines.rle``; column-major unless ``Metric.rle_order`` says "C"). ``shapes``,
  a (height, width) for every item or one per item, lets RLE strings be checked against the
  image and gives ``mean_precision_iou`` the image size it needs for empty predictions.

Choices where Kaggle's rule is not a formula:

- ``logloss`` / ``logloss_multiclass`` clip probabilities to [1e-15, 1 - 1e-15], then divide
  each row by its sum (Kaggle's rule, as sklearn applied it). Rows need not sum to 1, but
  values above 1 are clipped before the division: pass probabilities, not raw scores.
- ``rmsle`` / ``mcrmsle`` clip negative predictions to 0 (Kaggle rejects negative submissions;
  in cross-validation a negative prediction is scored as 0 rather than crashing the fold).
  Negative ``y_true`` raises ``ValueError``.
- ``rmse_log`` clips predictions below 1e-15 up to 1e-15: a non-positive prediction costs a
  huge but finite error. Non-positive ``y_true`` raises ``ValueError``.
- ``pearson`` / ``spearman_mean_columnwise`` count a constant column (no ordering at all) as
  correlation 0 instead of scipy's NaN, so a degenerate model scores "no skill", not NaN.
- ``qwk`` weights disagreements by the distance between positions in the sorted set of labels
  seen in either array (as ``sklearn.metrics.cohen_kappa_score``, which MLE-bench uses); when
  both raters use one and the same single label, kappa is 1.
- ``auc`` raises ``ValueError`` when ``y_true`` holds a single class (AUC is undefined).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.metrics import f1_score, matthews_corrcoef

from pipelines import rle
from pipelines.metrics import masks, tabular, text
from pipelines.metrics.masks import Mask

__all__ = ["Mask", "Metric", "get_metric", "metric_names"]

Needs = Literal["label", "proba", "value", "text", "mask"]
Shape = tuple[int, int]


@dataclass(frozen=True)
class Metric:
    """A scoring function plus what it needs to be used right: its direction and input kind."""

    name: str
    greater_is_better: bool
    needs: Needs
    fn: Callable[..., float]
    ordinal: bool = False  # ordered labels: one class off costs less than one far off
    grouped: bool = False  # scored within groups of rows (fn takes groups as a third argument)
    rle_order: rle.Order = "F"  # pixel order of this competition's RLE strings
    stand_in: str | None = None  # a grouped metric's ungrouped kin, what folds without the groups are scored by
    spread: bool = False  # y_pred is (n, 2): each value and how sure it is (osic's Confidence, a deviation)

    def __call__(self, y_true, y_pred, *, groups: Sequence | None = None,
                 shapes: Shape | Sequence[Shape] | None = None) -> float:
        if len(y_true) != len(y_pred):
            raise ValueError(
                f"{self.name}: y_true has {len(y_true)} rows but y_pred has {len(y_pred)}"
            )
        if len(y_true) == 0:
            raise ValueError(f"{self.name}: no rows to score")
        if self.needs == "text":
            y_true, y_pred = _strings(y_true), _strings(y_pred)
        elif self.needs == "mask":
            per_item = _shapes(shapes, len(y_true))
            y_true = [masks.as_mask(m, s, self.rle_order) for m, s in zip(y_true, per_item)]
            y_pred = [masks.as_mask(m, s, self.rle_order) for m, s in zip(y_pred, per_item)]
        else:
            y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if not self.grouped:
            return float(self.fn(y_true, y_pred))
        if groups is None or len(groups) != len(y_true):
            raise ValueError(f"{self.name} scores within groups: pass groups=, one key per row")
        return float(self.fn(y_true, y_pred, np.asarray(groups)))


def _strings(values: Sequence[Any]) -> list[str]:
    def one(v: Any) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        return str(v)

    return [one(v) for v in values]


def _shapes(shapes: Shape | Sequence[Shape] | None, n: int) -> list[Shape | None]:
    if shapes is None:
        return [None] * n
    if len(shapes) == 2 and all(isinstance(v, (int, np.integer)) for v in shapes):
        return [tuple(shapes)] * n
    if len(shapes) != n:
        raise ValueError(f"shapes has {len(shapes)} entries for {n} masks")
    return [tuple(s) for s in shapes]


# ---------------------------------------------------------------- registry

_METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("accuracy", True, "label", tabular.accuracy),
        Metric("top1_error", False, "label", lambda t, p: 1.0 - tabular.accuracy(t, p)),
        Metric("f1", True, "label", tabular.f1_binary),
        Metric("f1_macro", True, "label",
               lambda t, p: float(f1_score(t, p, average="macro", zero_division=0))),
        Metric("f1_micro", True, "label",
               lambda t, p: float(f1_score(t, p, average="micro", zero_division=0))),
        Metric("qwk", True, "label", tabular.qwk, ordinal=True),
        Metric("mcc", True, "label", lambda t, p: float(matthews_corrcoef(t, p))),
        Metric("auc", True, "proba", tabular.auc),
        Metric("auc_mean_columnwise", True, "proba", tabular.auc_mean_columnwise),
        Metric("weighted_auc", True, "proba", tabular.weighted_auc),
        Metric("jigsaw_bias_auc", True, "proba", tabular.jigsaw_bias_auc),
        Metric("probabilistic_f1", True, "proba", tabular.probabilistic_f1),
        Metric("lwlrap", True, "proba", tabular.lwlrap),
        Metric("logloss", False, "proba", tabular.logloss),
        Metric("logloss_multiclass", False, "proba", tabular.logloss_multiclass),
        Metric("logloss_mean_columnwise", False, "proba", tabular.columnwise_mean(tabular.logloss)),
        Metric("weighted_multilabel_logloss", False, "proba", tabular.weighted_multilabel_logloss),
        Metric("kl_divergence", False, "proba", tabular.kl_divergence),
        Metric("rmse", False, "value", tabular.rmse),
        Metric("rmsle", False, "value", tabular.rmsle),
        Metric("rmse_log", False, "value", tabular.rmse_log),
        Metric("mae", False, "value", tabular.mae),
        Metric("r2", True, "value", tabular.r2),
        Metric("mcrmse", False, "value", tabular.columnwise_mean(tabular.rmse)),
        Metric("mcrmsle", False, "value", tabular.columnwise_mean(tabular.rmsle)),
        Metric("pearson", True, "value", tabular.pearson),
        Metric("spearman_mean_columnwise", True, "value",
               tabular.columnwise_mean(tabular.spearman)),
        Metric("gini_normalized", True, "value", tabular.gini_normalized),
        Metric("mean_angular_error", False, "value", tabular.mean_angular_error),
        Metric("laplace_log_likelihood", True, "value", tabular.laplace_log_likelihood, spread=True),
        Metric("mean_log_mae_by_group", False, "value", tabular.mean_log_mae_by_group,
               grouped=True, stand_in="mae"),
        Metric("mean_p50_p95_haversine_m", False, "value", tabular.haversine_p50_p95_by_group,
               grouped=True),
        Metric("jaccard_word", True, "text", text.jaccard_word),
        Metric("levenshtein_mean", False, "text", text.levenshtein_mean),
        Metric("levenshtein_per_token", False, "text", text.levenshtein_per_token),
        Metric("kendall_tau", True, "text", text.kendall_tau_orderings),
        Metric("map@5", True, "text", text.map_at_k(5)),
        Metric("map@12", True, "text", text.map_at_k(12)),
        Metric("f1_micro_label_sets", True, "text", text.f1_micro_label_sets),
        Metric("answer_match", True, "text", text.answer_match),
        Metric("f1_points_in_boxes", True, "text", text.f1_points_in_boxes),
        Metric("map_boxes_iou50", True, "text", text.map_boxes_iou50),
        Metric("map_boxes_iou40", True, "text", text.map_boxes_coco(0.4)),
        Metric("mean_precision_iou", True, "mask", masks.mean_precision_iou),
        Metric("dice", True, "mask", masks.dice_mean),
        Metric("dice_global", True, "mask", masks.dice_global),
        Metric("f0.5_mean", True, "mask", masks.fbeta_mean(0.5), rle_order="C"),
        Metric("dice_hausdorff", True, "mask", masks.dice_hausdorff, grouped=True, stand_in="dice"),
    ]
}
# Other spellings seen in Kaggle's metric names, MLE-bench configs and library APIs. Keys are
# compared after `_compact`, so "Log Loss", "log-loss" and "log_loss" are one alias.
_ALIASES: dict[str, str] = {
    "acc": "accuracy",
    "categorization_accuracy": "accuracy",
    "classification_accuracy": "accuracy",
    "error_rate": "top1_error",
    "top1": "top1_error",
    "roc_auc": "auc",
    "auroc": "auc",
    "roc_auc_score": "auc",
    "area_under_receiver_operating_characteristic_curve": "auc",
    "mean_columnwise_auc": "auc_mean_columnwise",
    "mean_column_wise_roc_auc": "auc_mean_columnwise",
    "columnwise_auc": "auc_mean_columnwise",
    "roc_auc_mean_columnwise": "auc_mean_columnwise",
    "log_loss": "logloss",
    "binary_logloss": "logloss",
    "binary_crossentropy": "logloss",
    "binary_cross_entropy": "logloss",
    "multi_logloss": "logloss_multiclass",
    "multiclass_logloss": "logloss_multiclass",
    "multi_class_log_loss": "logloss_multiclass",
    "multiclass_loss": "logloss_multiclass",
    "mlogloss": "logloss_multiclass",
    "categorical_crossentropy": "logloss_multiclass",
    "root_mean_squared_error": "rmse",
    "root_mean_square_error": "rmse",
    "root_mean_squared_log_error": "rmsle",
    "root_mean_squared_logarithmic_error": "rmsle",
    "rmse_of_log": "rmse_log",
    "log_rmse": "rmse_log",
    "mean_absolute_error": "mae",
    "r2_score": "r2",
    "r_squared": "r2",
    "coefficient_of_determination": "r2",
    "f1_score": "f1",
    "f1_binary": "f1",
    "binary_f1": "f1",
    "macro_f1": "f1_macro",
    "f1_score_macro": "f1_macro",
    "micro_f1": "f1_micro",
    "f1_score_micro": "f1_micro",
    "kappa": "qwk",
    "quadratic_weighted_kappa": "qwk",
    "quadratic_kappa": "qwk",
    "cohen_kappa_quadratic": "qwk",
    "matthews_corrcoef": "mcc",
    "matthews_correlation_coefficient": "mcc",
    "mean_columnwise_rmse": "mcrmse",
    "mean_columnwise_root_mean_squared_error": "mcrmse",
    "mean_columnwise_rmsle": "mcrmsle",
    "pearson_correlation": "pearson",
    "pearson_correlation_coefficient": "pearson",
    "pearsonr": "pearson",
    "pearson_r": "pearson",
    "spearman": "spearman_mean_columnwise",
    "spearmanr": "spearman_mean_columnwise",
    "mean_columnwise_spearman": "spearman_mean_columnwise",
    "mean_columnwise_logloss": "logloss_mean_columnwise",
    "mean_columnwise_log_loss": "logloss_mean_columnwise",
    "gini": "gini_normalized",
    "normalized_gini": "gini_normalized",
    "normalised_gini": "gini_normalized",
    "kullback_leibler_divergence": "kl_divergence",
    "label_weighted_lrap": "lwlrap",
    "jaccard": "jaccard_word",
    "word_jaccard": "jaccard_word",
    "levenshtein": "levenshtein_mean",
    "edit_distance": "levenshtein_mean",
    "mean_levenshtein": "levenshtein_mean",
    "kendall_tau_correlation": "kendall_tau",
    "mean_average_precision_at_5": "map@5",
    "mean_average_precision_at_12": "map@12",
    "mean_dice": "dice",
    "dice_coefficient": "dice",
    "global_dice": "dice_global",
    "iou_precision": "mean_precision_iou",
    "mean_precision_at_iou": "mean_precision_iou",
    # MLE-bench's names for its bespoke metrics (competitions/mlebench.csv, `mlebench_metric`)
    "custom:weighted_auc": "weighted_auc",
    "custom:jigsaw_bias_weighted_auc": "jigsaw_bias_auc",
    "custom:probabilistic_f1": "probabilistic_f1",
    "custom:weighted_multilabel_logloss": "weighted_multilabel_logloss",
    "custom:laplace_log_likelihood": "laplace_log_likelihood",
    "custom:mean_log_mae_by_type": "mean_log_mae_by_group",
    "custom:mean_p50_p95_haversine_m": "mean_p50_p95_haversine_m",
    "custom:levenshtein_per_gesture": "levenshtein_per_token",
    "custom:mean_precision_iou_0.5-0.95": "mean_precision_iou",
    "custom:mean_f0.5_per_fragment": "f0.5_mean",
    "custom:f1_char_center_in_box": "f1_points_in_boxes",
    "custom:map_iou0.5": "map_boxes_iou50",
    "map@iou0.4": "map_boxes_iou40",
    "custom:0.4dice+0.6(1-hausdorff)": "dice_hausdorff",
}


def _compact(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


_LOOKUP: dict[str, str] = {_compact(n): n for n in _METRICS} | {
    _compact(alias): canonical for alias, canonical in _ALIASES.items()
}


def get_metric(name: str) -> Metric:
    """The metric called ``name`` (case, spaces, '-' and '_' ignored; aliases accepted)."""
    canonical = _LOOKUP.get(_compact(name))
    if canonical is None:
        spellings = list(_METRICS) + list(_ALIASES)
        close = difflib.get_close_matches(name.strip().lower(), spellings, n=4, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise KeyError(f"unknown metric {name!r}; {hint}known metrics: {', '.join(metric_names())}")
    return _METRICS[canonical]


def metric_names() -> list[str]:
    """Canonical metric names, in registry order."""
    return list(_METRICS)
