"""Metrics on rows of labels, probabilities and numbers: one value (or one vector) per row.

Each function takes ``(y_true, y_pred)`` as numpy arrays (grouped ones also ``groups``, one
group key per row) and returns a float; what the arrays hold is documented in
``pipelines.metrics``. Where a competition's grader deviates from the textbook formula, the
function follows the grader and its docstring says so.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import label_ranking_average_precision_score, roc_curve

PROBA_CLIP = 1e-15


# ---------------------------------------------------------------- labels


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true == y_pred))


def _binary_codes(y: np.ndarray, what: str) -> np.ndarray:
    """0/1 (or bool) labels as an int array; anything else is an error, not a silent 0."""
    values = np.unique(y)
    if not np.isin(values, [0, 1]).all():
        raise ValueError(f"{what} must hold 0/1 labels, found {values[:5].tolist()}")
    return y.astype(int)


def f1_binary(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    t, p = _binary_codes(y_true, "y_true"), _binary_codes(y_pred, "y_pred")
    tp = np.sum((t == 1) & (p == 1))
    denom = np.sum(t == 1) + np.sum(p == 1)
    return 0.0 if denom == 0 else float(2 * tp / denom)


def qwk(y_true: np.ndarray, y_pred: np.ndarray) -> float:
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


def auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
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


def auc_mean_columnwise(y_true: np.ndarray, y_score: np.ndarray) -> float:
    if y_score.ndim != 2:
        raise ValueError("auc_mean_columnwise needs y_pred of shape (n, k)")
    targets = _one_hot_targets(y_true, y_score.shape[1])
    return float(np.mean([auc(targets[:, c], y_score[:, c]) for c in range(y_score.shape[1])]))


def logloss_multiclass(y_true: np.ndarray, y_proba: np.ndarray) -> float:
    if y_proba.ndim != 2:
        raise ValueError("logloss_multiclass needs y_pred of shape (n, k)")
    proba = np.clip(y_proba.astype(float), PROBA_CLIP, 1 - PROBA_CLIP)
    proba /= proba.sum(axis=1, keepdims=True)
    targets = _one_hot_targets(y_true, proba.shape[1])
    return float(-np.mean(np.sum(targets * np.log(proba), axis=1)))


def logloss(y_true: np.ndarray, y_proba: np.ndarray) -> float:
    """Binary log loss; an (n, 2) matrix is scored as the two-class case of the multiclass rule."""
    y = _binary_codes(y_true.ravel(), "y_true")
    if y_proba.ndim == 2 and y_proba.shape[1] == 2:
        return logloss_multiclass(y, y_proba)
    if y_proba.ndim == 2 and y_proba.shape[1] != 1:
        raise ValueError(f"logloss needs y_pred of shape (n,) or (n, 2), got {y_proba.shape}")
    p = y_proba.ravel().astype(float)
    return logloss_multiclass(y, np.column_stack([1 - p, p]))


# ---------------------------------------------------------------- values


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y_pred.astype(float) - y_true.astype(float)) ** 2)))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y_pred.astype(float) - y_true.astype(float))))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
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


def rmsle(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return rmse(*_log1p_pair(y_true, y_pred))


def rmse_log(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    y = y_true.astype(float)
    if (y <= 0).any():
        raise ValueError("rmse_log needs y_true > 0")
    return rmse(np.log(y), np.log(np.clip(y_pred.astype(float), PROBA_CLIP, None)))


def _as_columns(y: np.ndarray) -> np.ndarray:
    return y.reshape(len(y), -1).astype(float)


def columnwise_mean(score: Callable[[np.ndarray, np.ndarray], float]):
    """Lift a 1-D metric to the mean over target columns, as Kaggle's 'mean column-wise' metrics."""

    def mean_over_columns(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        t, p = _as_columns(y_true), _as_columns(y_pred)
        if t.shape != p.shape:
            raise ValueError(f"y_true has shape {t.shape} but y_pred has {p.shape}")
        return float(np.mean([score(t[:, c], p[:, c]) for c in range(t.shape[1])]))

    return mean_over_columns


def pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    t, p = y_true.astype(float).ravel(), y_pred.astype(float).ravel()
    if len(t) != len(p):
        raise ValueError("pearson compares one column with one column")
    if np.ptp(t) == 0 or np.ptp(p) == 0:
        return 0.0
    return float(np.corrcoef(t, p)[0, 1])


def spearman(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return pearson(rankdata(y_true), rankdata(y_pred))


def gini_normalized(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Kaggle's normalised Gini: the Gini of the predicted order over the Gini of the perfect one.

    Rows are ordered by prediction, highest first; tied predictions keep their row order (the
    formula Kaggle published sorts stably). For 0/1 targets without ties it is 2 * AUC - 1.
    """
    t, p = y_true.astype(float).ravel(), y_pred.astype(float).ravel()

    def gini(order_by: np.ndarray) -> float:
        ordered = t[np.argsort(-order_by, kind="stable")]
        return float(np.cumsum(ordered).sum() / ordered.sum() - (len(t) + 1) / 2) / len(t)

    if t.sum() == 0:
        raise ValueError("normalised Gini is undefined when y_true sums to 0")
    return gini(p) / gini(t)


def weighted_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """ALASKA2's weighted AUC: the ROC area below TPR 0.4 counts twice as much as the rest.

    The area is cut into horizontal bands at TPR 0, 0.4 and 1 (the cut points are inserted into
    the ROC curve by linear interpolation, as MLE-bench's grader does); each band's area to the
    right of the curve is weighted 2 and 1, and the sum is divided by the perfect score's.
    """
    y = _binary_codes(y_true.ravel(), "y_true")
    if y.min() == y.max():
        raise ValueError("weighted AUC is undefined when y_true holds a single class")
    fpr, tpr, _ = roc_curve(y, y_score.ravel().astype(float))
    bands, weights = [0.0, 0.4, 1.0], [2.0, 1.0]
    for cut in bands:
        if cut not in tpr:
            i = int(np.argmax(tpr > cut))
            x = fpr[i - 1] + (fpr[i] - fpr[i - 1]) * (cut - tpr[i - 1]) / (tpr[i] - tpr[i - 1])
            fpr, tpr = np.insert(fpr, i, x), np.insert(tpr, i, cut)
    total = 0.0
    for low, high, weight in zip(bands[:-1], bands[1:], weights):
        inside = (tpr >= low) & (tpr <= high)
        xs = np.append(fpr[inside], 1.0)
        ys = np.append(tpr[inside], high) - low
        total += weight * np.trapezoid(ys, xs)
    return float(total / np.dot(np.diff(bands), weights))


def probabilistic_f1(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """F1 with probabilities counted as fractional hits (RSNA mammography's pF1).

    Predictions are clipped to [0, 1]; true positives are the probability mass on positive
    rows, false positives the mass on negative rows; 0 when precision or recall is 0.
    """
    y = _binary_codes(y_true.ravel(), "y_true").astype(bool)
    p = np.clip(y_score.ravel().astype(float), 0, 1)
    if not y.any():
        raise ValueError("probabilistic F1 is undefined when y_true has no positive")
    ctp, cfp = p[y].sum(), p[~y].sum()
    if ctp == 0:
        return 0.0
    precision, recall = ctp / (ctp + cfp), ctp / y.sum()
    return float(2 * precision * recall / (precision + recall))


def weighted_multilabel_logloss(y_true: np.ndarray, y_proba: np.ndarray) -> float:
    """RSNA cervical-spine's weighted log loss over (n, k) 0/1 targets.

    Column 0 is the any-positive summary, weighted 7 when negative and 14 when positive; every
    other column weighs 1 and 2. Each row's weighted loss is divided by its weight sum, then
    rows are averaged. Probabilities are clipped to [1e-15, 1 - 1e-15].
    """
    t, p = _as_columns(y_true), np.clip(_as_columns(y_proba), PROBA_CLIP, 1 - PROBA_CLIP)
    if t.shape != p.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has {p.shape}")
    negative = np.ones(t.shape[1])
    negative[0] = 7.0
    weights = np.where(t == 1, 2 * negative, negative)
    loss = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    return float(np.mean((loss * weights).sum(axis=1) / weights.sum(axis=1)))


def kl_divergence(y_true: np.ndarray, y_proba: np.ndarray) -> float:
    """Mean over rows of KL(truth || prediction), as the HMS brain-activity grader computes it.

    ``y_true`` (n, k) holds votes or probabilities: each row is divided by its sum; or (n,) class codes,
    each a row's one certain class. Predictions are clipped to [1e-15, 1 - 1e-15] and not renormalised;
    cells where the truth is 0 add 0.
    """
    t, p = _as_columns(y_true), np.clip(_as_columns(y_proba), PROBA_CLIP, 1 - PROBA_CLIP)
    if t.shape[1] == 1 < p.shape[1]:
        t = np.eye(p.shape[1])[np.asarray(y_true, dtype=np.int64).ravel()]
    if t.shape != p.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has {p.shape}")
    sums = t.sum(axis=1, keepdims=True)
    if (sums <= 0).any():
        raise ValueError("every y_true row needs a positive sum (votes or probabilities)")
    t = t / sums
    safe = np.where(t > 0, t, 1.0)
    return float(np.mean(np.sum(np.where(t > 0, t * np.log(safe / p), 0.0), axis=1)))


def lwlrap(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Label-weighted label-ranking average precision (freesound audio tagging).

    Every positive label of every row counts once: for each, the precision of the row's
    ranking at that label's rank, averaged over all positive labels. Rows with no positive
    label are skipped. (MLE-bench's grader passes the submission as the truth and the answers
    as the scores; this takes them the right way round, as Kaggle scored them.)
    """
    t, s = _as_columns(y_true) > 0, _as_columns(y_score)
    weights = t.sum(axis=1)
    keep = weights > 0
    if not keep.any():
        raise ValueError("lwlrap is undefined when no row has a positive label")
    return float(label_ranking_average_precision_score(t[keep], s[keep],
                                                       sample_weight=weights[keep]))


def mean_angular_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean angle (radians) between true and predicted directions (IceCube).

    Both are (n, 2): azimuth, zenith in radians. The cosine is clipped to [-1, 1] first.
    """
    t, p = _as_columns(y_true), _as_columns(y_pred)
    if t.shape[1] != 2 or p.shape[1] != 2:
        raise ValueError("mean_angular_error needs (n, 2) arrays: azimuth, zenith")
    (az1, zen1), (az2, zen2) = t.T, p.T
    cosine = np.sin(zen1) * np.sin(zen2) * np.cos(az1 - az2) + np.cos(zen1) * np.cos(zen2)
    return float(np.mean(np.arccos(np.clip(cosine, -1, 1))))


def laplace_log_likelihood(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """OSIC's modified Laplace log likelihood (higher is better).

    ``y_true`` (n,) is the measured value, ``y_pred`` (n, 2) the predicted value and its
    confidence (a standard deviation). The confidence is floored at 70 and the absolute error
    capped at 1000, as the competition defines; a missing confidence counts as 0 (so 70).
    """
    p = _as_columns(y_pred)
    if p.shape[1] != 2:
        raise ValueError("laplace_log_likelihood needs y_pred of shape (n, 2): value, confidence")
    sigma = np.maximum(np.nan_to_num(p[:, 1], nan=0.0), 70)
    delta = np.minimum(np.abs(y_true.astype(float).ravel() - p[:, 0]), 1000)
    return float(np.mean(-np.sqrt(2) * delta / sigma - np.log(np.sqrt(2) * sigma)))


def mean_log_mae_by_group(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> float:
    """The mean over groups of log(MAE within the group) (CHAMPS, one group per coupling type).

    A group predicted exactly has log(0) = -inf, as MLE-bench's grader computes it (Kaggle
    floored the MAE at 1e-9); the registry rejects a non-finite score.
    """
    errors = np.abs(y_true.astype(float).ravel() - y_pred.astype(float).ravel())
    _, codes = np.unique(groups, return_inverse=True)
    maes = np.bincount(codes, weights=errors) / np.bincount(codes)
    with np.errstate(divide="ignore"):
        return float(np.mean(np.log(maes)))


HAVERSINE_RADIUS_M = 6_371_000


def haversine_p50_p95_by_group(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> float:
    """Smartphone decimeter's score: per trip, the mean of the 50th and 95th percentile of the
    haversine distance (metres) between true and predicted positions; then the mean over trips.

    Both are (n, 2): latitude, longitude in degrees. Percentiles interpolate linearly (numpy).
    """
    t, p = np.radians(_as_columns(y_true)), np.radians(_as_columns(y_pred))
    if t.shape[1] != 2 or p.shape[1] != 2:
        raise ValueError("haversine metrics need (n, 2) arrays: latitude, longitude")
    dlat, dlon = p[:, 0] - t[:, 0], p[:, 1] - t[:, 1]
    a = np.sin(dlat / 2) ** 2 + np.cos(t[:, 0]) * np.cos(p[:, 0]) * np.sin(dlon / 2) ** 2
    distance = 2 * HAVERSINE_RADIUS_M * np.arcsin(np.sqrt(a))
    keys = np.asarray(groups)
    scores = [np.mean(np.quantile(distance[keys == g], [0.5, 0.95])) for g in np.unique(keys)]
    return float(np.mean(scores))


def jigsaw_bias_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Jigsaw unintended-bias score: 0.25 x overall AUC + 0.25 x each of three power means
    (p = -5) over identity subgroups of the subgroup, BPSN and BNSP AUCs.

    ``y_true`` (n, 1 + m): the toxicity target, then one column per identity (fractions are
    fine: every column is read as >= 0.5). ``y_pred`` (n,) scores. As MLE-bench's grader does,
    the predictions too are cut at 0.5 before any AUC, so only which side of 0.5 a score falls
    on counts.
    """
    t = _as_columns(y_true) >= 0.5
    if t.shape[1] < 2:
        raise ValueError("jigsaw_bias_auc needs y_true columns: target, then identity columns")
    toxic, identities = t[:, 0], t[:, 1:]
    pred = (y_score.astype(float).ravel() >= 0.5).astype(float)
    per_identity = []
    for member in identities.T:
        background_positive = (member & ~toxic) | (~member & toxic)
        background_negative = (member & toxic) | (~member & ~toxic)
        subsets = (member, background_positive, background_negative)
        per_identity.append([auc(toxic[s].astype(int), pred[s]) for s in subsets])
    power_means = np.mean(np.asarray(per_identity) ** -5.0, axis=0) ** (1 / -5.0)
    return float(0.25 * auc(toxic.astype(int), pred) + 0.25 * power_means.sum())
