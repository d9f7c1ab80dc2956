"""Competition metrics by name, with the Kaggle conventions that decide leaderboard scores.

Every solution is scored through this registry (cross-validation, tuning, ensembling and
grading), so a metric here must give the number Kaggle / MLE-bench would give. Where Kaggle
clips or renormalises, the metric does too; where a metric is undefined, it says so below.

What ``y_true`` and ``y_pred`` must be depends on ``Metric.needs``:

- ``"label"``: 1-D arrays of labels (ints or strings). ``f1`` wants 0/1 (or bool) labels;
  ``f1_macro`` / ``f1_micro`` also take (n, k) 0/1 indicator matrices (multilabel).
- ``"proba"``: binary: ``y_true`` 0/1 of shape (n,), ``y_pred`` the probability of class 1,
  shape (n,) (``logloss`` also takes (n, 2)). Multiclass: ``y_true`` integer codes 0..k-1 of
  shape (n,) or a one-hot (n, k) matrix, ``y_pred`` (n, k); a class absent from ``y_true`` is
  fine because k comes from ``y_pred``. Multilabel: both (n, k).
- ``"value"``: (n,), or (n, k) for the mean-columnwise metrics.

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
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import f1_score, matthews_corrcoef

PROBA_CLIP = 1e-15


@dataclass(frozen=True)
class Metric:
    """A scoring function plus what it needs to be used right: its direction and input kind."""

    name: str
    greater_is_better: bool
    needs: Literal["label", "proba", "value"]
    fn: Callable[[np.ndarray, np.ndarray], float]
    ordinal: bool = False  # labels are ordered: a prediction one class off costs less than one far off

    def __call__(self, y_true, y_pred) -> float:
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if len(y_true) != len(y_pred):
            raise ValueError(
                f"{self.name}: y_true has {len(y_true)} rows but y_pred has {len(y_pred)}"
            )
        if len(y_true) == 0:
            raise ValueError(f"{self.name}: no rows to score")
        return float(self.fn(y_true, y_pred))


# ---------------------------------------------------------------- labels


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true == y_pred))


def _binary_codes(y: np.ndarray, what: str) -> np.ndarray:
    """0/1 (or bool) labels as an int array; anything else is an error, not a silent 0."""
    values = np.unique(y)
    if not np.isin(values, [0, 1]).all():
        raise ValueError(f"{what} must hold 0/1 labels, found {values[:5].tolist()}")
    return y.astype(int)


def _f1_binary(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    t, p = _binary_codes(y_true, "y_true"), _binary_codes(y_pred, "y_pred")
    tp = np.sum((t == 1) & (p == 1))
    denom = np.sum(t == 1) + np.sum(p == 1)
    return 0.0 if denom == 0 else float(2 * tp / denom)


def _qwk(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    labels, codes = np.unique(np.concatenate([y_true.ravel(), y_pred.ravel()]), return_inverse=True)
    k = len(labels)
    if k == 1:
        return 1.0
    t, p = codes[: len(y_true)], codes[len(y_true) :]
    observed = np.zeros((k, k))
    np.add.at(observed, (t, p), 1)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    i, j = np.indices((k, k))
    weights = (i - j) ** 2
    return float(1 - (weights * observed).sum() / (weights * expected).sum())


# ---------------------------------------------------------------- probabilities


def _auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic: ties get half credit, exactly like the ROC area."""
    y = _binary_codes(y_true.ravel(), "y_true")
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC is undefined when y_true holds a single class")
    ranks = rankdata(y_score.ravel().astype(float))
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _one_hot_targets(y_true: np.ndarray, n_classes: int) -> np.ndarray:
    """Integer codes (n,) or a target matrix (n, k) as an (n, k) float matrix."""
    if y_true.ndim == 2:
        if y_true.shape[1] != n_classes:
            raise ValueError(f"y_true has {y_true.shape[1]} columns but y_pred has {n_classes}")
        return y_true.astype(float)
    codes = y_true.astype(float)
    if not (np.all(codes == np.round(codes)) and codes.min() >= 0 and codes.max() < n_classes):
        raise ValueError(f"y_true must hold integer class codes in 0..{n_classes - 1}")
    return np.eye(n_classes)[codes.astype(int)]


def _auc_mean_columnwise(y_true: np.ndarray, y_score: np.ndarray) -> float:
    if y_score.ndim != 2:
        raise ValueError("auc_mean_columnwise needs y_pred of shape (n, k)")
    targets = _one_hot_targets(y_true, y_score.shape[1])
    return float(np.mean([_auc(targets[:, c], y_score[:, c]) for c in range(y_score.shape[1])]))


def _logloss_multiclass(y_true: np.ndarray, y_proba: np.ndarray) -> float:
    if y_proba.ndim != 2:
        raise ValueError("logloss_multiclass needs y_pred of shape (n, k)")
    proba = np.clip(y_proba.astype(float), PROBA_CLIP, 1 - PROBA_CLIP)
    proba /= proba.sum(axis=1, keepdims=True)
    targets = _one_hot_targets(y_true, proba.shape[1])
    return float(-np.mean(np.sum(targets * np.log(proba), axis=1)))


def _logloss(y_true: np.ndarray, y_proba: np.ndarray) -> float:
    """Binary log loss; an (n, 2) matrix is scored as the two-class case of the multiclass rule."""
    y = _binary_codes(y_true.ravel(), "y_true")
    if y_proba.ndim == 2 and y_proba.shape[1] == 2:
        return _logloss_multiclass(y, y_proba)
    if y_proba.ndim == 2 and y_proba.shape[1] != 1:
        raise ValueError(f"logloss needs y_pred of shape (n,) or (n, 2), got {y_proba.shape}")
    p = y_proba.ravel().astype(float)
    return _logloss_multiclass(y, np.column_stack([1 - p, p]))


# ---------------------------------------------------------------- values


def _rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y_pred.astype(float) - y_true.astype(float)) ** 2)))


def _mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y_pred.astype(float) - y_true.astype(float))))


def _r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    y, p = y_true.astype(float), y_pred.astype(float)
    ss_res = np.sum((y - p) ** 2)
    ss_tot = np.sum((y - y.mean()) ** 2)
    if ss_tot == 0:  # constant target: sklearn's convention (perfect -> 1, else 0)
        return 1.0 if ss_res == 0 else 0.0
    return float(1 - ss_res / ss_tot)


def _log1p_pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = y_true.astype(float)
    if (y < 0).any():
        raise ValueError("RMSLE needs y_true >= 0")
    return np.log1p(y), np.log1p(np.clip(y_pred.astype(float), 0, None))


def _rmsle(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return _rmse(*_log1p_pair(y_true, y_pred))


def _rmse_log(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    y = y_true.astype(float)
    if (y <= 0).any():
        raise ValueError("rmse_log needs y_true > 0")
    return _rmse(np.log(y), np.log(np.clip(y_pred.astype(float), PROBA_CLIP, None)))


def _as_columns(y: np.ndarray) -> np.ndarray:
    return y.reshape(len(y), -1).astype(float)


def _columnwise_mean(score: Callable[[np.ndarray, np.ndarray], float]):
    """Lift a 1-D metric to the mean over target columns, as Kaggle's 'mean column-wise' metrics."""

    def mean_over_columns(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        t, p = _as_columns(y_true), _as_columns(y_pred)
        if t.shape != p.shape:
            raise ValueError(f"y_true has shape {t.shape} but y_pred has {p.shape}")
        return float(np.mean([score(t[:, c], p[:, c]) for c in range(t.shape[1])]))

    return mean_over_columns


def _pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    t, p = y_true.astype(float).ravel(), y_pred.astype(float).ravel()
    if len(t) != len(p):
        raise ValueError("pearson compares one column with one column")
    if np.ptp(t) == 0 or np.ptp(p) == 0:
        return 0.0
    return float(np.corrcoef(t, p)[0, 1])


def _spearman(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return _pearson(rankdata(y_true), rankdata(y_pred))


# ---------------------------------------------------------------- registry

_METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("accuracy", True, "label", _accuracy),
        Metric("top1_error", False, "label", lambda t, p: 1.0 - _accuracy(t, p)),
        Metric("f1", True, "label", _f1_binary),
        Metric("f1_macro", True, "label",
               lambda t, p: float(f1_score(t, p, average="macro", zero_division=0))),
        Metric("f1_micro", True, "label",
               lambda t, p: float(f1_score(t, p, average="micro", zero_division=0))),
        Metric("qwk", True, "label", _qwk, ordinal=True),
        Metric("mcc", True, "label", lambda t, p: float(matthews_corrcoef(t, p))),
        Metric("auc", True, "proba", _auc),
        Metric("auc_mean_columnwise", True, "proba", _auc_mean_columnwise),
        Metric("logloss", False, "proba", _logloss),
        Metric("logloss_multiclass", False, "proba", _logloss_multiclass),
        Metric("rmse", False, "value", _rmse),
        Metric("rmsle", False, "value", _rmsle),
        Metric("rmse_log", False, "value", _rmse_log),
        Metric("mae", False, "value", _mae),
        Metric("r2", True, "value", _r2),
        Metric("mcrmse", False, "value", _columnwise_mean(_rmse)),
        Metric("mcrmsle", False, "value", _columnwise_mean(_rmsle)),
        Metric("pearson", True, "value", _pearson),
        Metric("spearman_mean_columnwise", True, "value", _columnwise_mean(_spearman)),
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
