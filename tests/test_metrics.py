"""Metrics against hand-computed values and independent implementations (sklearn, scipy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr
from sklearn import metrics as skm

from pipelines.metrics import Metric, get_metric, metric_names

RNG = np.random.default_rng(0)


def score(name: str, y_true, y_pred) -> float:
    return get_metric(name)(y_true, y_pred)


# ---------------------------------------------------------------- registry


def test_canonical_names_and_kinds():
    expected = {
        "accuracy": "label", "top1_error": "label", "f1": "label", "f1_macro": "label",
        "f1_micro": "label", "qwk": "label", "mcc": "label", "auc": "proba",
        "auc_mean_columnwise": "proba", "weighted_auc": "proba", "jigsaw_bias_auc": "proba",
        "probabilistic_f1": "proba", "lwlrap": "proba", "logloss": "proba",
        "logloss_multiclass": "proba", "weighted_multilabel_logloss": "proba",
        "logloss_mean_columnwise": "proba",
        "kl_divergence": "proba",
        "rmse": "value", "rmsle": "value", "rmse_log": "value", "mae": "value", "r2": "value",
        "mcrmse": "value", "mcrmsle": "value", "pearson": "value",
        "spearman_mean_columnwise": "value", "gini_normalized": "value",
        "mean_angular_error": "value", "laplace_log_likelihood": "value",
        "mean_log_mae_by_group": "value", "mean_p50_p95_haversine_m": "value",
        "jaccard_word": "text", "levenshtein_mean": "text", "levenshtein_per_token": "text",
        "kendall_tau": "text", "map@5": "text", "map@12": "text", "f1_micro_label_sets": "text",
        "answer_match": "text", "f1_points_in_boxes": "text", "map_boxes_iou50": "text", "map_boxes_iou40": "text", "dice_hausdorff": "mask",
        "mean_precision_iou": "mask", "dice": "mask", "dice_global": "mask", "f0.5_mean": "mask",
    }
    assert sorted(metric_names()) == sorted(expected)
    for name, needs in expected.items():
        metric = get_metric(name)
        assert isinstance(metric, Metric)
        assert metric.name == name and metric.needs == needs


def test_direction():
    lower_is_better = {"top1_error", "logloss", "logloss_multiclass", "rmse", "rmsle",
                       "rmse_log", "mae", "mcrmse", "mcrmsle", "weighted_multilabel_logloss",
                       "logloss_mean_columnwise",
                       "kl_divergence", "mean_angular_error", "mean_log_mae_by_group",
                       "mean_p50_p95_haversine_m", "levenshtein_mean", "levenshtein_per_token"}
    for name in metric_names():
        assert get_metric(name).greater_is_better == (name not in lower_is_better), name


@pytest.mark.parametrize(
    "alias, canonical",
    [
        ("ROC-AUC", "auc"), ("roc_auc", "auc"), ("Log Loss", "logloss"), ("log_loss", "logloss"),
        ("multi_logloss", "logloss_multiclass"), ("multi-class-log-loss", "logloss_multiclass"),
        ("kappa", "qwk"), ("Quadratic Weighted Kappa", "qwk"), ("rmse_of_log", "rmse_log"),
        ("RMSE", "rmse"), ("  Accuracy ", "accuracy"), ("matthews_corrcoef", "mcc"),
        ("root_mean_squared_log_error", "rmsle"), ("macro_f1", "f1_macro"),
        ("Spearman", "spearman_mean_columnwise"), ("r2_score", "r2"),
        ("MAP@5", "map@5"), ("custom:mean_precision_iou_0.5-0.95", "mean_precision_iou"),
        ("custom:levenshtein_per_gesture", "levenshtein_per_token"), ("Gini", "gini_normalized"),
    ],
)
def test_aliases(alias, canonical):
    assert get_metric(alias).name == canonical


def test_unknown_name_lists_close_matches():
    with pytest.raises(KeyError, match="accuracy"):
        get_metric("acuracy")
    with pytest.raises(KeyError, match="unknown metric 'map@7'"):
        get_metric("map@7")


def test_length_mismatch_and_empty_input_raise():
    with pytest.raises(ValueError, match="rows"):
        score("rmse", [1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="no rows"):
        score("accuracy", [], [])


# ---------------------------------------------------------------- labels


def test_accuracy_and_top1_error():
    assert score("accuracy", [0, 1, 1, 0], [0, 1, 0, 0]) == 0.75
    assert score("top1_error", [0, 1, 1, 0], [0, 1, 0, 0]) == 0.25
    assert score("accuracy", ["a", "b", "c"], ["a", "b", "b"]) == pytest.approx(2 / 3)
    t, p = RNG.integers(0, 4, 200), RNG.integers(0, 4, 200)
    assert score("accuracy", t, p) == pytest.approx(skm.accuracy_score(t, p))


def test_f1_binary_positive_class():
    # tp=2, fp=1, fn=1 -> 2*2 / (3 + 3)
    assert score("f1", [1, 1, 0, 0, 1], [1, 0, 1, 0, 1]) == pytest.approx(2 / 3)
    assert score("f1", [0, 0, 0], [0, 0, 0]) == 0.0  # zero_division=0
    assert score("f1", [True, False], [True, True]) == pytest.approx(2 / 3)
    t, p = RNG.integers(0, 2, 300), RNG.integers(0, 2, 300)
    assert score("f1", t, p) == pytest.approx(skm.f1_score(t, p))
    with pytest.raises(ValueError, match="0/1"):
        score("f1", [0, 1, 2], [0, 1, 1])


def test_f1_macro_and_micro():
    t, p = [0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1]
    # per class F1: class 0: p=2/3, r=1 -> 0.8; classes 1 and 2: 0 -> macro 0.8/3
    assert score("f1_macro", t, p) == pytest.approx(0.8 / 3)
    assert score("f1_micro", t, p) == pytest.approx(2 / 6)
    multilabel_t = np.array([[1, 0, 1], [0, 1, 0]])
    multilabel_p = np.array([[1, 0, 0], [0, 1, 1]])
    # micro: tp=2, fp=1, fn=1
    assert score("f1_micro", multilabel_t, multilabel_p) == pytest.approx(2 / 3)


def test_qwk_by_hand_and_against_sklearn():
    # by hand: observed weighted disagreement 1, expected 5 -> 1 - 1/5
    assert score("qwk", [0, 1, 2], [0, 2, 2]) == pytest.approx(0.8)
    assert score("qwk", [3, 3, 3], [3, 3, 3]) == 1.0
    assert score("qwk", [0, 1, 2, 3], [0, 1, 2, 3]) == pytest.approx(1.0)
    for _ in range(5):
        t, p = RNG.integers(0, 5, 100), RNG.integers(0, 5, 100)
        expected = skm.cohen_kappa_score(t, p, weights="quadratic")
        assert score("qwk", t, p) == pytest.approx(expected)
    t, p = np.array([0, 2, 4, 4, 0]), np.array([0, 4, 4, 2, 2])  # label 1 and 3 never used
    assert score("qwk", t, p) == pytest.approx(skm.cohen_kappa_score(t, p, weights="quadratic"))


def test_mcc():
    # tp=2, fn=1, tn=2, fp=1 -> (2*2 - 1*1) / sqrt(3^4)
    assert score("mcc", [1, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 1]) == pytest.approx(1 / 3)


# ---------------------------------------------------------------- probabilities


def test_auc():
    assert score("auc", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert score("auc", [0, 1], [0.5, 0.5]) == 0.5
    t = RNG.integers(0, 2, 500)
    s = np.round(RNG.random(500) + 0.3 * t, 1)  # rounding makes many ties
    assert score("auc", t, s) == pytest.approx(skm.roc_auc_score(t, s))
    with pytest.raises(ValueError, match="single class"):
        score("auc", [1, 1], [0.2, 0.3])


def test_auc_mean_columnwise():
    t = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    s = np.array([[0.1, 0.1], [0.4, 0.9], [0.35, 0.2], [0.8, 0.8]])
    assert score("auc_mean_columnwise", t, s) == pytest.approx((0.75 + 1.0) / 2)
    t = RNG.integers(0, 2, (300, 4))
    s = RNG.random((300, 4)) + 0.2 * t
    assert score("auc_mean_columnwise", t, s) == pytest.approx(skm.roc_auc_score(t, s))
    codes = np.array([0, 1, 2, 2, 1, 0])
    proba = RNG.dirichlet(np.ones(3), 6)
    assert score("auc_mean_columnwise", codes, proba) == pytest.approx(
        score("auc_mean_columnwise", np.eye(3)[codes], proba)
    )


def test_logloss_binary():
    assert score("logloss", [1, 0], [0.8, 0.3]) == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2)
    t = RNG.integers(0, 2, 200)
    p = RNG.random(200)
    assert score("logloss", t, p) == pytest.approx(skm.log_loss(t, p))
    assert score("logloss", t, np.column_stack([1 - p, p])) == pytest.approx(skm.log_loss(t, p))
    assert score("logloss", t, p.reshape(-1, 1)) == pytest.approx(skm.log_loss(t, p))
    # a confident miss is clipped to 1e-15: -log(1e-15)
    assert score("logloss", [1], [0.0]) == pytest.approx(-math.log(1e-15))
    assert score("logloss", [1], [1.0]) == pytest.approx(0.0, abs=1e-12)


def test_logloss_multiclass_clips_and_renormalises():
    # row 1 renormalises [0.1, 0.1, 0.2] -> 0.25 for the true class; row 2 is a (clipped) certainty
    proba = np.array([[0.1, 0.1, 0.2], [0.0, 1.0, 0.0]])
    assert score("logloss_multiclass", [0, 1], proba) == pytest.approx(math.log(4) / 2)
    # a confident miss: clipped to 1e-15, renormalised by 1 + (1e-15 - 1e-15) = 1
    assert score("logloss_multiclass", [0], [[0.0, 1.0]]) == pytest.approx(-math.log(1e-15))
    t = RNG.integers(0, 4, 300)
    p = RNG.dirichlet(np.ones(4), 300)
    assert score("logloss_multiclass", t, p) == pytest.approx(skm.log_loss(t, p))
    assert score("logloss_multiclass", np.eye(4)[t], p) == pytest.approx(skm.log_loss(t, p))
    # clipping comes first, so values above 1 count as 1 - 1e-15: [2, 1] -> [0.5, 0.5]
    assert score("logloss_multiclass", [0], [[2.0, 1.0]]) == pytest.approx(math.log(2))


def test_logloss_multiclass_absent_class():
    t = np.array([0, 0, 2, 2, 0])  # class 1 never appears in this fold
    p = RNG.dirichlet(np.ones(3), 5)
    assert score("logloss_multiclass", t, p) == pytest.approx(skm.log_loss(t, p, labels=[0, 1, 2]))
    with pytest.raises(ValueError, match="0..2"):
        score("logloss_multiclass", [0, 3], RNG.dirichlet(np.ones(3), 2))


# ---------------------------------------------------------------- values


def test_rmse_mae_r2():
    assert score("rmse", [1, 2, 3], [1, 2, 5]) == pytest.approx(math.sqrt(4 / 3))
    assert score("mae", [1, 2, 3], [2, 2, 1]) == pytest.approx(1.0)
    t, p = RNG.normal(size=100), RNG.normal(size=100)
    assert score("rmse", t, p) == pytest.approx(skm.root_mean_squared_error(t, p))
    assert score("mae", t, p) == pytest.approx(skm.mean_absolute_error(t, p))
    assert score("r2", t, p) == pytest.approx(skm.r2_score(t, p))
    assert score("r2", [2, 2, 2], [2, 2, 2]) == 1.0
    assert score("r2", [2, 2, 2], [2, 2, 3]) == 0.0


def test_rmsle_clips_negative_predictions_to_zero():
    e = math.e
    # log1p(y) = [0, 1]; predictions clip to [0, e^2 - 1] -> log1p = [0, 2]
    assert score("rmsle", [0, e - 1], [-5, e**2 - 1]) == pytest.approx(math.sqrt(0.5))
    t, p = RNG.random(100) * 10, RNG.random(100) * 10
    assert score("rmsle", t, p) == pytest.approx(skm.root_mean_squared_log_error(t, p))
    with pytest.raises(ValueError, match="y_true >= 0"):
        score("rmsle", [-1, 2], [1, 2])


def test_rmse_log():
    # house-prices: 10% too high on one of two rows
    assert score("rmse_log", [100, 1000], [110, 1000]) == pytest.approx(math.log(1.1) / math.sqrt(2))
    assert score("rmse_log", [1.0], [0.0]) == pytest.approx(-math.log(1e-15))
    with pytest.raises(ValueError, match="y_true > 0"):
        score("rmse_log", [0, 2], [1, 2])


def test_mcrmse_and_mcrmsle():
    t = np.zeros((2, 2))
    assert score("mcrmse", t, [[1, 3], [1, -3]]) == pytest.approx(2.0)
    e = math.e
    # column 1: log1p(pred) = [1, 1] -> 1; column 2: [0 (clipped), 3] -> sqrt(9/2)
    expected = (1 + math.sqrt(4.5)) / 2
    assert score("mcrmsle", t, [[e - 1, -1], [e - 1, e**3 - 1]]) == pytest.approx(expected)
    assert score("mcrmse", [1, 2, 3], [1, 2, 5]) == pytest.approx(score("rmse", [1, 2, 3], [1, 2, 5]))


def test_pearson_and_spearman():
    t, p = RNG.normal(size=50), RNG.normal(size=50)
    assert score("pearson", t, p) == pytest.approx(pearsonr(t, p)[0])
    assert score("pearson", [1, 2, 3], [5, 5, 5]) == 0.0
    T, P = RNG.normal(size=(40, 3)), RNG.normal(size=(40, 3))
    P[:, 0] = np.round(P[:, 0])  # ties
    expected = np.mean([spearmanr(T[:, c], P[:, c])[0] for c in range(3)])
    assert score("spearman_mean_columnwise", T, P) == pytest.approx(expected)
    assert score("spearman_mean_columnwise", [1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)
