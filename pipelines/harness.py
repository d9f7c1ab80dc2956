"""Cross-validation and tuning of a solution: the code no engineer writes.

Leak-proof by construction: for each fold, `features(train, test, ctx)` is called with the
fold's training rows as `train` and the fold's validation rows *without their target*,
followed by the test rows, as `test`. An encoder fitted on "all rows" therefore never sees a
validation label, and validation rows are treated exactly like test rows.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import optuna
import pandas as pd
import scipy.sparse as sp

from pipelines.context import Context
from pipelines.folds import training_rows
from pipelines.metrics import Metric, get_metric
from pipelines.shapes import ROW_MODEL_SHAPES, STRING_SHAPES
from pipelines.shapes import masks
from pipelines.spec import CompetitionSpec
from pipelines.targets import encode_target, score, within_bounds
from pipelines.thresholds import decide_threshold

log = logging.getLogger(__name__)

# Of a candidate's time left when its folds start, the share its folds may take (divided among the
# rounds of parallel folds); the rest scores and writes the results.
FOLDS_SHARE = 0.8
# Predicting a row through a boosted model costs at most about a quarter of fitting it (LightGBM, the
# slowest of the three to predict): the first folds split their time by this, later ones by the finished folds.
PREDICT_COST = 0.25
# A tuned node's re-check on fresh folds starts only when 1.5 x its expected time fits: the node is
# complete before it, and a re-check cut off by the node's limit would fail the node.
RECHECK_MARGIN = 1.5
RECHECK_MIN_RUNS = 4  # trials' time, in runs, that a re-check must leave; fewer trials leave little to check
# Test rows the folds' features may hold together (rows x folds). Beyond, each fold's features see a slice of the
# test rows, and one model refitted on every training row predicts them all: every fold's copy of a million test
# rows' features would not fit in memory.
MAX_FOLD_TEST_ROWS = 2_000_000
FOLD_TEST_SLICE = 1_000


class SolutionError(Exception):
    """A solution broke the contract (wrong shapes, missing function): the node fails with this."""


def load_solution(path: Path) -> ModuleType:
    """Import a solution file as a module and check it offers one of the two contracts."""
    spec = importlib.util.spec_from_file_location("solution", path)
    if spec is None or spec.loader is None:
        raise SolutionError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    has_parts = callable(getattr(module, "features", None)) and callable(getattr(module, "model", None))
    if not has_parts and not callable(getattr(module, "fit_predict", None)):
        raise SolutionError("a solution defines features(train, test, ctx) and model(params, ctx), or fit_predict(...)")
    return module


# --- target transforms: models fit a log target when the metric is on a log scale -------------

def target_transform(metric: Metric, y: np.ndarray) -> str | None:
    """'log1p' for RMSLE-type metrics, 'log' for RMSE of log; None otherwise."""
    if metric.name in ("rmsle", "mcrmsle") and np.nanmin(y) >= 0:
        return "log1p"
    if metric.name == "rmse_log" and np.nanmin(y) > 0:
        return "log"
    return None


def _forward(y: np.ndarray, transform: str | None) -> np.ndarray:
    return {"log1p": np.log1p, "log": np.log, None: lambda v: v}[transform](y)


def _inverse(y: np.ndarray, transform: str | None) -> np.ndarray:
    return {"log1p": np.expm1, "log": np.exp, None: lambda v: v}[transform](y)


def prior_prediction(y: np.ndarray, spec: CompetitionSpec, metric: Metric, n_rows: int) -> np.ndarray:
    """Raw predictions that know only the training target: its class shares, else its mean (its
    median for MAE; on the log scale for log metrics). What a run submits before any candidate has run."""
    if spec.task == "binary":
        value: Any = float(np.mean(y))
    elif spec.task == "multiclass":
        value = np.bincount(y, minlength=len(spec.classes)) / len(y)
    elif spec.task == "multilabel":
        value = np.mean(y, axis=0)
    elif metric.name == "mae":
        value = np.nanmedian(y, axis=0)
    else:
        transform = target_transform(metric, y)
        value = _inverse(np.nanmean(_forward(y, transform), axis=0), transform)
    return np.repeat(np.asarray(value, dtype=np.float64)[None, ...], n_rows, axis=0)


# --- features ----------------------------------------------------------------------------------

@dataclass
class FoldData:
    """One fold's matrices, computed once and reused by every tuning trial."""

    fold: int
    train_rows: np.ndarray
    valid_rows: np.ndarray
    X_train: Any
    X_valid: Any
    X_test: Any


def _n_rows(X: Any) -> int:
    return X.shape[0]


def _rows(X: Any, start: int, stop: int) -> Any:
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return X.iloc[start:stop].reset_index(drop=True)
    if sp.issparse(X):
        return X.tocsr()[start:stop]
    return X[start:stop]


def _check_features(X_train: Any, X_rest: Any, n_train: int, n_rest: int) -> None:
    for X, n, name in ((X_train, n_train, "train"), (X_rest, n_rest, "test")):
        if not hasattr(X, "shape"):
            raise SolutionError(f"features() returned {type(X).__name__} for {name}; expected a DataFrame or array")
        if _n_rows(X) != n:
            raise SolutionError(f"features() returned {_n_rows(X)} rows for {name}, expected {n}")
    if isinstance(X_train, pd.DataFrame) and isinstance(X_rest, pd.DataFrame):
        if list(X_train.columns) != list(X_rest.columns):
            raise SolutionError("features() returned different columns for train and test")
    elif X_train.ndim > 1 and X_rest.ndim > 1 and X_train.shape[1] != X_rest.shape[1]:
        raise SolutionError(f"features() returned {X_train.shape[1]} columns for train and {X_rest.shape[1]} for test")


def _inputs(test: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """The test rows as features() sees them: without any target column."""
    return test.drop(columns=[c for c in ctx.spec.target_columns if c in test.columns])


def held_out_rows(train: pd.DataFrame, valid_rows: np.ndarray, test_inputs: pd.DataFrame) -> pd.DataFrame:
    """A fold's validation rows, then the test rows, with only the columns test has: a validation row
    shows no label, nor any column test lacks (a further label, an answer's offset)."""
    shown = [c for c in train.columns if c in test_inputs.columns]
    return pd.concat([train.iloc[valid_rows][shown], test_inputs], ignore_index=True)


def fold_features(
    solution: ModuleType, train: pd.DataFrame, test: pd.DataFrame, folds: np.ndarray, ctx: Context
) -> list[FoldData]:
    """Run the solution's features() once per fold, never showing it a validation label."""
    test_inputs = _inputs(test, ctx)
    out = []
    for k in sorted(set(folds[folds >= 0].tolist())):
        train_rows = training_rows(folds, k, ctx.spec)
        valid_rows = np.flatnonzero(folds == k)
        fold_train = train.iloc[train_rows].reset_index(drop=True)
        fold_rest = held_out_rows(train, valid_rows, test_inputs)
        X_train, X_rest = solution.features(fold_train, fold_rest, ctx)
        _check_features(X_train, X_rest, len(train_rows), len(fold_rest))
        n_valid = len(valid_rows)
        out.append(
            FoldData(k, train_rows, valid_rows, X_train, _rows(X_rest, 0, n_valid), _rows(X_rest, n_valid, _n_rows(X_rest)))
        )
    return out


# --- fitting -----------------------------------------------------------------------------------

def predict_raw(estimator: Any, X: Any, ctx: Context) -> np.ndarray:
    """Raw predictions: positive-class probability, probability matrix, or values."""
    task = ctx.spec.task
    if task == "regression":
        return np.asarray(estimator.predict(X), dtype=np.float64)
    if not hasattr(estimator, "predict_proba"):
        raise SolutionError(f"{type(estimator).__name__} has no predict_proba; classification needs probabilities")
    proba = estimator.predict_proba(X)
    if task == "multilabel":
        if isinstance(proba, list):
            proba = np.column_stack([p[:, -1] for p in proba])
        return np.asarray(proba, dtype=np.float64)
    proba = np.asarray(proba, dtype=np.float64)
    k = ctx.spec.n_classes
    seen = getattr(estimator, "classes_", None)
    if proba.shape[1] != k:
        if seen is None:
            raise SolutionError(f"predict_proba returned {proba.shape[1]} columns, expected {k}")
        full = np.zeros((proba.shape[0], k))
        full[:, np.asarray(seen, dtype=int)] = proba
        proba = full
    return proba[:, 1] if task == "binary" else proba


def _raw_shape(ctx: Context, n: int) -> tuple[int, ...]:
    spec = ctx.spec
    if spec.task == "multiclass":
        return (n, spec.n_classes)
    if spec.task == "multilabel":
        return (n, spec.n_classes)
    if spec.task == "regression" and len(spec.target_columns) > 1:
        return (n, len(spec.target_columns))
    return (n,)


@dataclass
class CVResult:
    """Out-of-fold and test predictions of one configuration, with its scores."""

    oof: np.ndarray
    test: np.ndarray
    fold_scores: list[float]
    score: float
    params: dict[str, Any]
    seconds: float
    n_features: int | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    models: list[Any] = field(default_factory=list)  # the fold models, while their test predictions wait
    importance: dict[str, float] | None = None  # a tree model's mean share of importance per input column


def _tree_facts(estimator: Any, X: Any) -> tuple[int, dict[str, float]] | None:
    """A boosted-tree fold model's trees used and feature importances (None for other models)."""
    if not hasattr(estimator, "trees_used"):
        return None
    names = [str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else [f"x{i}" for i in range(X.shape[1])]
    return estimator.trees_used(), dict(zip(names, estimator.feature_importance().tolist()))


def fit_facts(estimator: Any) -> dict[str, Any] | None:
    """What a fold model decided as it fitted (a network's image side, epochs, peak learning rate), where it
    keeps them in `facts`: sized to its time, it differs from run to run, and the review should say how."""
    facts = getattr(estimator, "facts", None)
    return asdict(facts) if is_dataclass(facts) else dict(facts) if isinstance(facts, dict) else None


def oof_score(y: np.ndarray, oof: np.ndarray, folds: np.ndarray, ctx: Context, metric: Metric) -> float:
    """The metric on every validated row at once (rows never validated are left out)."""
    mask = folds >= 0
    return score(y[mask], oof[mask], ctx.spec, metric)


def _fit(solution: ModuleType, X: Any, y: np.ndarray, params: dict[str, Any], ctx: Context,
         transform: str | None) -> Any:
    """model(params) fitted on X and y (a regression target on the transformed scale)."""
    estimator = solution.model(dict(params), ctx)
    estimator.fit(X, _forward(y, transform) if ctx.spec.task == "regression" else y)
    return estimator


def _predict(estimator: Any, X: Any, ctx: Context, transform: str | None) -> np.ndarray:
    pred = predict_raw(estimator, X, ctx)
    return within_bounds(_inverse(pred, transform), ctx.spec) if ctx.spec.task == "regression" else pred


def run_folds(
    solution: ModuleType,
    fold_data: list[FoldData],
    y: np.ndarray,
    n_test: int,
    params: dict[str, Any],
    ctx: Context,
    metric: Metric,
    transform: str | None,
    on_fold: Any = None,
    workers: int = 1,
    predict_test: bool = True,
) -> CVResult:
    """Fit model(params) on each fold; average the folds' test predictions (or, without
    `predict_test`, keep the fold models in `models` and leave `test` at zero).

    With `workers` > 1 the folds are fitted in parallel threads (the tree and linear libraries
    release the GIL while fitting), each model with `ctx.n_jobs // workers` threads: on the data of
    most competitions that uses the cores better than threads inside one model, and it does not
    collapse when other processes compete for the cores, as OpenMP's spinning threads do.
    `on_fold(i, scores)` (used for pruning) needs the folds in order, so it implies one worker.
    Each fold's model gets a `fit_deadline` (see FoldTimes), so on data too big for the limit the
    folds end with smaller models, not killed.
    """
    start = time.perf_counter()
    workers = 1 if on_fold is not None else max(1, min(workers, len(fold_data)))
    times = FoldTimes(ctx, len(fold_data), workers)
    model_ctx = replace(ctx, n_jobs=max(1, ctx.n_jobs // workers))
    tree_facts: dict[int, tuple[int, dict[str, float]] | None] = {}
    fits: dict[int, dict[str, Any] | None] = {}

    def fit(i: int, fd: FoldData) -> tuple[np.ndarray, Any]:
        fold_ctx = times.fold_context(i, fd, model_ctx)
        started = ctx.clock()
        estimator = _fit(solution, fd.X_train, y[fd.train_rows], params, fold_ctx, transform)
        fitted = ctx.clock()
        valid = _predict(estimator, fd.X_valid, fold_ctx, transform)
        test_or_model = _predict(estimator, fd.X_test, fold_ctx, transform) if predict_test else estimator
        times.fitted(fold_ctx, started, fitted, ctx.clock())
        tree_facts[i], fits[i] = _tree_facts(estimator, fd.X_train), fit_facts(estimator)
        return valid, test_or_model

    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            predictions = pool.map(fit, range(len(fold_data)), fold_data)
    else:
        predictions = map(fit, range(len(fold_data)), fold_data)
    result = _collect(fold_data, predictions, y, n_test, ctx, metric, predict_test, on_fold)
    result.params, result.seconds = dict(params), time.perf_counter() - start
    trees = [tree_facts.get(i) for i in range(len(fold_data))]
    if trees and all(trees):
        names = list(trees[0][1])
        result.importance = {c: float(np.mean([t[1].get(c, 0.0) for t in trees])) for c in names}
        result.facts["trees"] = [t[0] for t in trees]
    if any(fits.values()):
        result.facts["fits"] = [fits.get(i) for i in range(len(fold_data))]
    return result


class FoldTimes:
    """Each fold's share of the candidate's time, decided as the fold starts from the time then left:
    a round of folds that ran long shrinks the later ones. The share is split between fitting and
    predicting as the folds finished so far measured it (before any has, by PREDICT_COST)."""

    def __init__(self, ctx: Context, n_folds: int, workers: int) -> None:
        self.ctx, self.n_folds, self.workers = ctx, n_folds, workers
        self.measured: list[tuple[float, float]] = []  # (fitting, predicting) seconds of each finished fold
        self.overruns: list[float] = []  # seconds each finished fold's fit ran past its deadline

    def fold_context(self, i: int, fd: FoldData, model_ctx: Context) -> Context:
        # The rounds left count this fold, those not started yet and those the other workers are busy with.
        rounds_left = math.ceil((self.n_folds - i + min(i, self.workers - 1)) / self.workers)
        seconds = FOLDS_SHARE * self.ctx.seconds_left() / rounds_left * self.fit_share(fd)
        if math.isinf(seconds):
            return model_ctx
        # A model stops growing at its deadline, then finishes what it holds (a copy, a refit): as long
        # as the earlier folds overran theirs, this one stops sooner.
        seconds -= min(self.overrun(), 0.5 * seconds)
        return replace(model_ctx, fit_deadline=self.ctx.clock() + seconds)

    def fitted(self, fold_ctx: Context, started: float, fitted: float, predicted: float) -> None:
        """Record a finished fold's fitting and predicting seconds, and how far it ran past its deadline."""
        self.measured.append((fitted - started, predicted - fitted))
        if fold_ctx.fit_deadline is not None:
            self.overruns.append(max(0.0, fitted - fold_ctx.fit_deadline))

    def overrun(self) -> float:
        return max(self.overruns, default=0.0)

    def fit_share(self, fd: FoldData) -> float:
        """The part of a fold's time its model may spend growing, the rest being its predictions (a
        multiclass model, predicting a tree per class, can take twice PREDICT_COST)."""
        if self.measured:
            fitting, predicting = map(sum, zip(*self.measured))
            return fitting / max(fitting + predicting, 1e-9)
        n_fit, n_predict = len(fd.train_rows), len(fd.valid_rows) + _n_rows(fd.X_test)
        return n_fit / (n_fit + PREDICT_COST * n_predict)


def _collect(fold_data: list[FoldData], predictions: Any, y: np.ndarray, n_test: int, ctx: Context, metric: Metric,
             predict_test: bool, on_fold: Any) -> CVResult:
    """Out-of-fold predictions, the test average (or the fold models) and the scores, fold by fold."""
    oof = np.full(_raw_shape(ctx, len(y)), np.nan)
    test = np.zeros(_raw_shape(ctx, n_test))
    folds = np.full(len(y), -1)
    fold_scores, models = [], []
    for i, (fd, (pred_valid, test_or_model)) in enumerate(zip(fold_data, predictions)):
        oof[fd.valid_rows] = pred_valid.reshape(oof[fd.valid_rows].shape)
        folds[fd.valid_rows] = fd.fold
        if predict_test:
            test += test_or_model.reshape(test.shape) / len(fold_data)
        else:
            models.append(test_or_model)
        fold_scores.append(score(y[fd.valid_rows], pred_valid, ctx.spec, metric))
        if on_fold is not None:
            on_fold(i, fold_scores)
    last = fold_data[-1] if fold_data else None
    n_features = last.X_train.shape[1] if last is not None and getattr(last.X_train, "ndim", 1) > 1 else None
    return CVResult(oof=oof, test=test, fold_scores=fold_scores, score=oof_score(y, oof, folds, ctx, metric),
                    params={}, seconds=0.0, n_features=n_features, models=models)


def predict_test_later(result: CVResult, fold_data: list[FoldData], ctx: Context, transform: str | None) -> CVResult:
    """`result` with the test predictions of the fold models it kept: their average, as `run_folds` makes it."""
    with ThreadPoolExecutor(max_workers=max(1, min(ctx.n_jobs, len(fold_data)))) as pool:
        predictions = list(pool.map(lambda pair: _predict(pair[0], pair[1].X_test, ctx, transform),
                                    zip(result.models, fold_data)))
    result.test = np.mean([p.reshape(result.test.shape) for p in predictions], axis=0)
    result.models = []
    return result


def refit_test(result: CVResult, solution: ModuleType, train: pd.DataFrame, test: pd.DataFrame, ctx: Context,
               transform: str | None) -> CVResult:
    """`result` with its test predictions replaced by those of model(result.params) fitted once on
    every training row, its features too.

    The fold models each saw (k-1)/k of the rows; one model on all of them is what many Kagglers
    submit. It costs one more fit, and its score is the folds' estimate (it has no validation rows).
    """
    X_train, X_test = solution.features(train.reset_index(drop=True), _inputs(test, ctx), ctx)
    _check_features(X_train, X_test, len(train), len(test))
    left = ctx.seconds_left()  # half of it to grow the model, the rest to predict every test row
    fit_ctx = ctx if math.isinf(left) else replace(ctx, fit_deadline=ctx.clock() + FOLDS_SHARE * left / 2)
    estimator = _fit(solution, X_train, encode_target(train, ctx.spec), result.params, fit_ctx, transform)
    result.test = _predict(estimator, X_test, ctx, transform)
    result.facts["test_prediction"] = "refit"
    return result


def _check_predictions(name: str, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2 and len(shape) == 1 and values.shape[1] == 2:
        values = values[:, 1]
    if values.shape != shape:
        raise SolutionError(f"fit_predict returned {name} of shape {values.shape}, expected {shape}")
    return values


def cross_validate(
    solution: ModuleType,
    train: pd.DataFrame,
    test: pd.DataFrame,
    folds: np.ndarray,
    ctx: Context,
    params: dict[str, Any] | None = None,
    refit: bool = False,
) -> CVResult:
    """Score a solution under the run's folds with the competition's metric. Its test prediction is the
    fold models' average, or with `refit` one model's fitted on every row (`fit_predict` solutions
    make their own)."""
    if ctx.spec.answer_shape in STRING_SHAPES:  # one string per row: its own contract and folds
        from pipelines.shapes import strings

        return strings.cross_validate(solution, train, test, folds, ctx, params)
    if ctx.spec.answer_shape == "mask":
        return masks.cross_validate(solution, train, test, folds, ctx, params)
    metric = get_metric(ctx.spec.metric)
    y = encode_target(train, ctx.spec)
    if callable(getattr(solution, "fit_predict", None)):
        start = time.perf_counter()
        returned = solution.fit_predict(train, test.drop(columns=ctx.spec.target_columns, errors="ignore"), folds, ctx)
        if not isinstance(returned, tuple) or len(returned) not in (2, 3):
            raise SolutionError("fit_predict returns (oof, test_pred) or (oof, test_pred, facts)")
        oof = _check_predictions("oof", returned[0], _raw_shape(ctx, len(train)))
        test_pred = _check_predictions("test", returned[1], _raw_shape(ctx, len(test)))
        if ctx.spec.task == "regression":
            oof, test_pred = within_bounds(oof, ctx.spec), within_bounds(test_pred, ctx.spec)
        fold_scores = [score(y[folds == k], oof[folds == k], ctx.spec, metric) for k in sorted(set(folds[folds >= 0]))]
        result = CVResult(oof, test_pred, fold_scores, oof_score(y, oof, folds, ctx, metric), {},
                          time.perf_counter() - start, facts=dict(returned[2]) if len(returned) == 3 else {})
        return with_threshold(result, y, folds, ctx, metric)
    params = {**getattr(solution, "PARAMS", {}), **(params or {})}
    transform = getattr(solution, "TARGET_TRANSFORM", target_transform(metric, y))
    fold_test = fold_test_rows(test, folds)
    refit = refit or len(fold_test) < len(test)
    fold_data = fold_features(solution, train, fold_test, folds, ctx)
    folds_ctx = leaving_time_to_refit(ctx, len(fold_data)) if refit else ctx
    result = run_folds(solution, fold_data, y, len(fold_test), params, folds_ctx, metric, transform,
                       workers=ctx.n_jobs)
    result.facts["target_transform"] = transform
    if refit:
        result = refit_test(result, solution, train, test, ctx, transform)
    return with_threshold(result, y, folds, ctx, metric)


def leaving_time_to_refit(ctx: Context, n_folds: int) -> Context:
    """The folds' context when a model refitted on every row predicts the test rows afterwards: its features of
    all the test rows, its fit and its predictions take about two folds' time, kept from the folds'."""
    left = ctx.seconds_left()
    return ctx if math.isinf(left) else replace(ctx, deadline=ctx.clock() + left * n_folds / (n_folds + 2))


def fold_test_rows(test: pd.DataFrame, folds: np.ndarray) -> pd.DataFrame:
    """The test rows each fold's features are computed with: all of them, or a slice when the folds would hold
    more than MAX_FOLD_TEST_ROWS (the test rows are then predicted by a model refitted on every row)."""
    n_folds = len(set(folds[folds >= 0].tolist()))
    return test if len(test) * n_folds <= MAX_FOLD_TEST_ROWS else test.iloc[:FOLD_TEST_SLICE]


def with_threshold(result: CVResult, y: np.ndarray, folds: np.ndarray, ctx: Context, metric: Metric) -> CVResult:
    """Use a decision threshold fitted on the out-of-fold predictions when it honestly helps (label metrics).

    The score becomes the cross-fitted one (each fold's threshold fitted on the other folds), so it
    stays comparable with candidates that keep the default rule.
    """
    threshold, honest, fold_scores = decide_threshold(y, result.oof, folds, ctx.spec, metric, result.score)
    if threshold is not None:
        result.facts.update(threshold=threshold, score_without_threshold=result.score)
        result.score, result.fold_scores = honest, fold_scores
    return result


def tune(
    solution: ModuleType,
    train: pd.DataFrame,
    test: pd.DataFrame,
    folds: np.ndarray,
    ctx: Context,
    *,
    timeout: float,
    storage: str | None = None,
    study_name: str = "tune",
    n_trials: int | None = None,
    refit: bool = False,
    fresh_folds: np.ndarray | None = None,
) -> tuple[CVResult, optuna.Study]:
    """Optuna over the solution's search_space, starting from its PARAMS, then its STARTING_POINTS
    (configurations known to suit other kinds of data), pruning weak trials fold by fold.

    Features are computed once per fold and shared by all trials; the best trial's fold models are
    kept, so no final re-fit is needed (with `refit`, one on every row makes the test prediction),
    and only they predict the test rows, which on a large test table is most of a trial's time.
    Trials run in `ctx.n_jobs` parallel threads with one-thread models (the folds of a trial run
    in order, so it can be pruned after each).

    The best of many trials on the same folds is an optimistic score. With `fresh_folds` (another
    split of the same rows) the best trial and the starting point are scored again on them, where
    the tuning never looked: their difference is the gain tuning earned, `fresh_folds_gain`.
    """
    if not callable(getattr(solution, "search_space", None)):
        raise SolutionError("tuning needs a search_space(trial) function in the solution")
    if ctx.spec.answer_shape not in ROW_MODEL_SHAPES:
        raise SolutionError(f"tuning is for answers of one label or number per row, not {ctx.spec.answer_shape}s")
    metric = get_metric(ctx.spec.metric)
    y = encode_target(train, ctx.spec)
    base = dict(getattr(solution, "PARAMS", {}))
    transform = getattr(solution, "TARGET_TRANSFORM", target_transform(metric, y))
    started = ctx.clock()
    fold_test = fold_test_rows(test, folds)
    refit = refit or len(fold_test) < len(test)
    fold_data = fold_features(solution, train, fold_test, folds, ctx)
    feature_seconds = ctx.clock() - started
    deadline = ctx.clock() + timeout
    trials = Trials(solution, fold_data, y, len(fold_test), base, replace(ctx, n_jobs=1) if ctx.n_jobs > 1 else ctx,
                    metric, transform, deadline)
    study = _study(study_name, storage, metric, ctx.seed)
    catch = (ValueError, ArithmeticError)
    # The starting point runs alone, as it sizes the re-check: the solution's PARAMS, or for a study
    # resumed after a kill its best trial, whose predictions died with the killed process.
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    run_points(study, trials.objective, [study.best_params if done else base], 1, catch)
    # The re-check's time comes out of the trials', sized by the first trial (a run on one thread);
    # a window too short for both keeps its trials.
    reserve = recheck_seconds(feature_seconds, 1.5 * trials.best.seconds) if fresh_folds is not None and trials.best \
        else 0.0
    if reserve and deadline - ctx.clock() - reserve < RECHECK_MIN_RUNS * trials.best.seconds:
        reserve, fresh_folds = 0.0, None
        note = {"fresh_folds": "not re-checked: the window is too short for trials and a re-check"}
    else:
        note = {}
    points = [] if done else list(getattr(solution, "STARTING_POINTS", []))
    points = points if n_trials is None else points[:max(0, n_trials - 1)]
    if points and deadline - ctx.clock() - reserve > 0:
        run_points(study, trials.objective, points, ctx.n_jobs, catch)
    left = deadline - ctx.clock() - reserve
    more = None if n_trials is None else n_trials - 1 - len(points)
    if left > 0 and (more is None or more > 0):
        study.optimize(trials.objective, timeout=left, n_trials=more, n_jobs=ctx.n_jobs, catch=catch)
    if trials.best is None:
        raise SolutionError("no tuning trial finished within the time limit")
    result = trials.best
    result.facts.update(target_transform=transform, trials=len(study.trials), **note)
    if refit:  # one model on every row predicts the test rows instead of the fold models
        result.models = []
        result = refit_test(result, solution, train, test, ctx, transform)
    else:
        result = predict_test_later(result, fold_data, ctx, transform)
    if fresh_folds is not None:  # last: the node is complete without it
        result.facts.update(recheck_on_fresh_folds(solution, train, test, fresh_folds, ctx, y, base, result, metric,
                                                   transform, feature_seconds))
    return with_threshold(result, y, folds, ctx, metric), study


def run_points(study: optuna.Study, objective: Any, points: list[dict[str, Any]], workers: int,
               catch: tuple[type[Exception], ...]) -> None:
    """Run a trial at each point, `workers` at a time. The trials are asked for here, one after the
    other: parallel `study.optimize` workers can pop the same enqueued trial and then fail to tell it."""
    for point in points:
        study.enqueue_trial(point)
    asked = [study.ask() for _ in points]

    def run(trial: optuna.Trial) -> None:
        try:
            study.tell(trial, objective(trial))
        except optuna.TrialPruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        except BaseException as error:  # failed as study.optimize fails it: caught types end only the trial
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            if not isinstance(error, catch):
                raise

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(run, asked))


def recheck_seconds(feature_seconds: float, run_seconds: float) -> float:
    """What the re-check on fresh folds is given: its features and two runs, with a margin."""
    return RECHECK_MARGIN * (feature_seconds + 2 * run_seconds) + 5.0


def recheck_on_fresh_folds(solution: ModuleType, train: pd.DataFrame, test: pd.DataFrame, folds: np.ndarray,
                           ctx: Context, y: np.ndarray, base: dict[str, Any], best: CVResult, metric: Metric,
                           transform: str | None, feature_seconds: float) -> dict[str, Any]:
    """The starting and the best parameters scored on `folds`, when both runs fit in the time left
    (the features as long as on the tuning folds, each run as long as the best trial)."""
    if best.params == base:
        return {"fresh_folds": "not re-checked: no trial beat the starting parameters"}
    if ctx.seconds_left() < recheck_seconds(feature_seconds, best.seconds):
        return {"fresh_folds": "not re-checked: too little time left"}
    fold_data = fold_features(solution, train, fold_test_rows(test, folds), folds, ctx)
    scores = [run_folds(solution, fold_data, y, 0, params, ctx, metric, transform, predict_test=False).score
              for params in (base, best.params)]
    return {"fresh_folds_scores": scores, "fresh_folds_gain": oriented(scores[1], metric) - oriented(scores[0], metric)}


class Trials:
    """Optuna's objective over shared fold features, keeping the best trial's result (its fold models)."""

    def __init__(self, solution: ModuleType, fold_data: list[FoldData], y: np.ndarray, n_test: int,
                 base: dict[str, Any], ctx: Context, metric: Metric, transform: str | None, deadline: float) -> None:
        self.solution, self.fold_data, self.y, self.n_test, self.base = solution, fold_data, y, n_test, base
        self.ctx, self.metric, self.transform, self.deadline = ctx, metric, transform, deadline
        self.best: CVResult | None = None
        self._lock = threading.Lock()

    def objective(self, trial: optuna.Trial) -> float:
        params = {**self.base, **self.solution.search_space(trial)}

        def report(i: int, fold_scores: list[float]) -> None:
            trial.report(float(np.mean(fold_scores)), i)
            # Optuna checks its timeout only between trials; a slow trial stops at the deadline instead.
            if trial.should_prune() or self.ctx.clock() > self.deadline:
                raise optuna.TrialPruned()

        # The test rows wait: only the best trial's models predict them, once tuning ends.
        result = run_folds(self.solution, self.fold_data, self.y, self.n_test, params, self.ctx, self.metric,
                           self.transform, on_fold=report, predict_test=False)
        if not math.isfinite(result.score):
            raise SolutionError(f"trial produced a non-finite score {result.score}")
        with self._lock:
            if self.best is None or oriented(result.score, self.metric) > oriented(self.best.score, self.metric):
                self.best = result
        return result.score


def _study(name: str, storage: str | None, metric: Metric, seed: int) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        study_name=name,
        storage=storage,
        load_if_exists=True,
        direction="maximize" if metric.greater_is_better else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1),
    )


def oriented(score_value: float, metric: Metric) -> float:
    """The score with its sign turned so that higher is better."""
    return score_value if metric.greater_is_better else -score_value
