"""Decision thresholds and ensembles on generated out-of-fold predictions: honest scores, kept only when they help."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.context import Context
from pipelines.ensemble import (_meta_logistic, _stack_inputs, blend_members, combine, ensemble_code, greedy_weights,
                                surrogate_loss)
from pipelines.metrics import get_metric
from pipelines.targets import as_labels, submission_frame
from pipelines.thresholds import applies, decide_threshold
from tests.test_features import make_spec


def folds_for(n: int, k: int = 5) -> np.ndarray:
    return np.arange(n) % k


def noisy_probabilities(y: np.ndarray, noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logit = (2 * y - 1) * 1.5 + rng.normal(scale=noise, size=len(y))
    return 1 / (1 + np.exp(-logit))


def test_f1_threshold_is_fitted_when_the_positive_class_is_rare() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.15).astype(int)
    raw = noisy_probabilities(y, 2.0, 1) * 0.5  # probabilities biased low: 0.5 misses most positives
    spec, f1 = make_spec(metric="f1"), get_metric("f1")
    default = f1(y, (raw >= 0.5).astype(int))
    threshold, honest, fold_scores = decide_threshold(y, raw, folds_for(len(y)), spec, f1, default)
    assert threshold is not None and threshold < 0.4
    assert honest > default + 0.1 and len(fold_scores) == 5
    assert honest <= f1(y, (raw >= threshold).astype(int)) + 1e-9  # the honest score does not flatter itself


def test_no_threshold_when_it_does_not_help_or_the_metric_wants_probabilities() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 1000)
    raw = noisy_probabilities(y, 1.0, 2)  # calibrated and symmetric: 0.5 is already right
    accuracy = get_metric("accuracy")
    spec = make_spec()
    threshold, score, _ = decide_threshold(y, raw, folds_for(1000), spec, accuracy, accuracy(y, (raw >= 0.5).astype(int)))
    if threshold is not None:  # a cut may win by chance, but only by a hair
        assert abs(threshold - 0.5) <= 0.1
    assert not applies(make_spec(metric="auc", submission_kind="proba"), get_metric("auc"))


def test_multiclass_class_weights_move_the_argmax() -> None:
    spec = make_spec(task="multiclass", classes=[0, 1, 2])
    raw = np.array([[0.5, 0.4, 0.1], [0.2, 0.3, 0.5]])
    assert as_labels(raw, spec).tolist() == [0, 2]
    assert as_labels(raw, spec, [1.0, 1.5, 1.0]).tolist() == [1, 2]
    frame = submission_frame(pd.Series([7, 8]), raw, spec, [1.0, 1.5, 1.0])
    assert frame["y"].tolist() == [1, 2]


def test_kappa_cuts_on_the_expected_class_beat_the_argmax() -> None:
    """Scores 1..6 from a latent quality; the model's probabilities are spread over neighbouring
    classes, so the argmax mostly predicts the common middle classes and quadratic kappa pays for it."""
    rng = np.random.default_rng(0)
    quality = rng.normal(size=3000)
    y = np.clip(np.round(2.5 + 1.2 * quality + rng.normal(0, 0.4, 3000)), 0, 5).astype(int)
    centres = np.arange(6)
    estimate = 2.5 + 0.8 * quality + rng.normal(0, 0.5, 3000)  # shrunk towards the middle, as models are
    raw = np.exp(-((centres[None, :] - estimate[:, None]) ** 2) / 2.0)
    raw /= raw.sum(axis=1, keepdims=True)
    spec, kappa = make_spec(task="multiclass", classes=list(range(1, 7)), metric="qwk"), get_metric("qwk")
    default = kappa(y, raw.argmax(axis=1))
    threshold, honest, _ = decide_threshold(y, raw, folds_for(len(y)), spec, kappa, default)
    assert set(threshold) == {"cuts"} and np.all(np.diff(threshold["cuts"]) > 0) and len(threshold["cuts"]) == 5
    assert honest > default + 0.01
    labels = as_labels(raw, spec, threshold)
    assert kappa(y, labels) >= honest - 0.01
    frame = submission_frame(pd.Series(range(3)), raw[:3], spec, threshold)
    assert frame["y"].tolist() == [spec.classes[c] for c in labels[:3]]


def test_greedy_selection_weights_the_better_and_complementary_members() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)
    good, other, useless = noisy_probabilities(y, 1.5, 1), noisy_probabilities(y, 1.5, 2), rng.random(3000)
    weights = greedy_weights([good, other, useless], y, surrogate_loss("binary"))
    assert weights[2] == 0 and weights[0] > 0.2 and weights[1] > 0.2 and weights.sum() == pytest.approx(1)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_combine_beats_its_members_honestly(task: str) -> None:
    rng = np.random.default_rng(1)
    n = 1500
    folds = folds_for(n)
    if task == "binary":
        y = rng.integers(0, 2, n)
        members = [noisy_probabilities(y, 2.0, s) for s in (1, 2, 3)]
        spec, metric = make_spec(metric="logloss", submission_kind="proba"), get_metric("logloss")
    elif task == "multiclass":
        y = rng.integers(0, 3, n)
        def member(seed: int) -> np.ndarray:
            logits = np.eye(3)[y] * 2 + np.random.default_rng(seed).normal(scale=1.5, size=(n, 3))
            return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        members = [member(s) for s in (1, 2, 3)]
        spec = make_spec(task="multiclass", classes=[0, 1, 2], metric="logloss_multiclass", submission_kind="proba")
        metric = get_metric("logloss_multiclass")
    else:
        y = np.exp(rng.normal(11, 0.4, n))
        members = [y * np.exp(np.random.default_rng(s).normal(scale=0.15, size=n)) for s in (1, 2, 3)]
        spec = make_spec(task="regression", classes=[], metric="rmse_log", direction="minimize", submission_kind="value")
        metric = get_metric("rmse_log")
    tests = [m[:100] for m in members]
    oof, test, facts = combine(members, tests, y, folds, spec, metric)
    assert np.isfinite(oof).all() and test.shape == tests[0].shape
    assert metric(y, oof) < min(metric(y, m) for m in members)  # all three metrics are losses
    assert facts["method"] in ("greedy", "stack") and set(facts["losses"]) == {"greedy", "stack"}
    if task == "multiclass":
        assert np.allclose(oof.sum(axis=1), 1) and np.allclose(test.sum(axis=1), 1)
    if task == "regression":
        assert (test > 0).all()


def test_the_stack_converges_on_collinear_log_probabilities_of_many_classes() -> None:
    # Two members' log-probabilities of seven ordered classes, one of them sure of itself (its far
    # classes at the clipping floor): L-BFGS runs out of its 2,000 steps here; Newton's method needs ten.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, 3000)
    score = y + rng.normal(scale=0.7, size=3000)
    sharp = -3 * (np.arange(7) - score[:, None]) ** 2
    soft = -(np.arange(7) - score[:, None] + rng.normal(size=(3000, 1))) ** 2
    members = [np.exp(z) / np.exp(z).sum(axis=1, keepdims=True) for z in (sharp, soft)]
    meta = _meta_logistic(_stack_inputs(members, "multiclass"), y)
    assert meta.solver == "newton-cholesky" and meta.n_iter_.max() < 100
    wide = _meta_logistic(rng.normal(size=(300, 400)), rng.integers(0, 7, 300))  # a Hessian of 2,400² coefficients
    assert wide.solver == "lbfgs"


def test_ensemble_node_code_loads_its_members_beside_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    for member, seed in (("0001", 1), ("0002", 2)):
        (tmp_path / "nodes" / member).mkdir(parents=True)
        np.save(tmp_path / "nodes" / member / "oof.npy", noisy_probabilities(y, 1.5, seed))
        np.save(tmp_path / "nodes" / member / "test.npy", np.full(50, 0.5))
    code = ensemble_code(["0001", "0002"])
    ast.parse(code)
    assert 'MEMBERS = [\'0001\', \'0002\']' in code
    spec = make_spec(metric="logloss", submission_kind="proba")
    oof, test, facts = blend_members(tmp_path / "nodes", ["0001", "0002"], pd.DataFrame({"y": y}), folds_for(500),
                                     Context(spec=spec))
    assert oof.shape == (500,) and test.shape == (50,)
    if facts["method"] == "greedy":
        assert set(facts["weights"]) == {"0001", "0002"}


def test_multilabel_thresholds_are_fitted_per_label() -> None:
    rng = np.random.default_rng(5)
    y = (rng.random((1500, 2)) < [0.1, 0.5]).astype(int)
    raw = np.column_stack([noisy_probabilities(y[:, 0], 1.5, 1) * 0.4, noisy_probabilities(y[:, 1], 1.5, 2)])
    spec = make_spec(task="multilabel", target_columns=["p", "q"], classes=["p", "q"], submission_columns=["p", "q"],
                     metric="f1_micro")
    metric = get_metric("f1_micro")
    default = metric(y, as_labels(raw, spec))
    threshold, honest, _ = decide_threshold(y, raw, folds_for(1500), spec, metric, default)
    assert threshold is not None and len(threshold) == 2 and threshold[0] < threshold[1]
    assert honest > default
