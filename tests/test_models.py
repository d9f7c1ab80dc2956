"""Model wrappers with the real libraries on small generated data: tasks, early stopping, GPU choice and fallback."""

from __future__ import annotations

import logging
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.metrics import roc_auc_score

from pipelines import models
from pipelines.context import Context
from pipelines.harness import load_solution
from pipelines.models import GBDT, NBLogisticRegression, device_options, gbdt, nb_linear
from tests.test_features import make_spec

RECIPES = Path(__file__).resolve().parent.parent / "agent" / "recipes"


def table(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": pd.Categorical(rng.choice(["x", "y", "z"], size=n))})
    logit = 2 * X["a"] - X["b"] + (X["c"] == "x") * 1.5
    return X, (logit + rng.normal(scale=0.5, size=n) > 0).astype(int).to_numpy()


@pytest.mark.parametrize("library", ["lightgbm", "xgboost", "catboost"])
def test_each_library_learns_with_native_categoricals_and_stops_early(library: str) -> None:
    X, y = table()
    model = GBDT(library, classifier=True, n_estimators=2000, early_stopping_rounds=30, params={"learning_rate": 0.1})
    model.fit(X.iloc[:500], y[:500])
    proba = model.predict_proba(X.iloc[500:])
    assert proba.shape == (100, 2) and np.allclose(proba.sum(axis=1), 1)
    assert ((proba[:, 1] > 0.5) == y[500:]).mean() > 0.8
    assert 10 <= model.n_trees_ < 2000  # early stopping found a count well below the ceiling


@pytest.mark.parametrize("library", ["lightgbm", "xgboost", "catboost"])
def test_above_refit_max_rows_the_early_stopped_model_is_kept(library: str, monkeypatch) -> None:
    X, y = table()
    monkeypatch.setattr(models, "REFIT_MAX_ROWS", 100)
    fits = []
    original = GBDT._fit_one
    monkeypatch.setattr(GBDT, "_fit_one", lambda self, *a, **k: fits.append(1) or original(self, *a, **k))
    model = GBDT(library, classifier=True, n_estimators=2000, early_stopping_rounds=30, params={"learning_rate": 0.1})
    model.fit(X.iloc[:500], y[:500])
    assert len(fits) == 1 and 1 <= model.n_trees_ < 2000  # one fit, stopped early, no refit
    assert ((model.predict_proba(X.iloc[500:])[:, 1] > 0.5) == y[500:]).mean() > 0.8


@pytest.mark.parametrize("library", ["lightgbm", "xgboost", "catboost"])
@pytest.mark.parametrize("early_stopping_rounds", [None, 50])
def test_boosting_stops_growing_at_the_deadline(library: str, early_stopping_rounds: int | None) -> None:
    # A million trees at a tiny learning rate would take hours; the deadline ends them with a usable model.
    X, y = table()
    start = time.monotonic()
    model = GBDT(library, classifier=True, n_estimators=10**6, early_stopping_rounds=early_stopping_rounds,
                 params={"learning_rate": 0.001}, deadline=start + 0.5).fit(X, y)
    assert time.monotonic() - start < 10  # not hours
    # However few trees a busy machine allowed, they rank the rows (their probabilities stay near the prior).
    assert roc_auc_score(y, model.predict_proba(X)[:, 1]) > 0.7


@pytest.mark.parametrize("task", ["regression", "multilabel"])
def test_target_columns_share_the_folds_time_in_turn(task: str) -> None:
    # Thirty targets: the fold's deadline handed to every column let the first ones spend it all.
    X, y = table()
    Y = np.column_stack([y, 1 - y, y]) if task == "multilabel" else np.column_stack([y * 1.0, X["a"], -X["b"]])
    spec = make_spec(task=task, target_columns=["p", "q", "r"], submission_columns=["p", "q", "r"],
                     metric="rmse" if task == "regression" else "auc", classes=[] if task == "regression" else [0, 1])
    start = time.monotonic()
    ctx = Context(spec=spec, fit_deadline=start + 1.5)
    model = gbdt("lightgbm", ctx, n_estimators=20_000, early_stopping_rounds=None, learning_rate=0.001).fit(X, Y)
    deadlines = [column.deadline for column in model.estimators_]
    assert deadlines == sorted(deadlines) and deadlines[-1] <= ctx.fit_deadline
    assert deadlines[0] < start + 1.5 / 2  # the first column took its share, not the whole fold's time
    assert all(column.trees_used() > 0 for column in model.estimators_)
    out = model.predict_proba(X) if task == "multilabel" else model.predict(X)
    assert (len(out), len(out[0])) == (3, len(X)) if task == "multilabel" else out.shape == (len(X), 3)
    assert hasattr(model, "predict_proba") == (task == "multilabel")


def test_regression_and_missing_classes_in_a_fold() -> None:
    X, y = table()
    reg = GBDT("lightgbm", classifier=False, n_estimators=50, early_stopping_rounds=None).fit(X, y * 3.0)
    assert reg.predict(X).shape == (len(X),)
    # A fold that lacks class 1 of three: XGBoost needs contiguous labels, probabilities keep the classes seen.
    labels = np.where(y == 1, 2, 0)
    clf = GBDT("xgboost", classifier=True, n_estimators=20, early_stopping_rounds=None).fit(X, labels)
    assert list(clf.classes_) == [0, 2] and clf.predict_proba(X).shape == (len(X), 2)


@pytest.mark.parametrize("library", ["lightgbm", "xgboost", "catboost"])
def test_classes_with_one_row_never_land_only_in_the_early_stopping_rows(library: str) -> None:
    X, y = table()
    labels = y.copy()
    labels[[7, 100, 101]] = [2, 3, 3]  # a class with one row, one with two
    for seed in range(4):  # several holdout draws: the singleton must stay on the fitting side each time
        model = GBDT(library, classifier=True, n_estimators=200, early_stopping_rounds=20, seed=seed,
                     params={"learning_rate": 0.1})
        fit_rows, stop_rows = model._holdout(np.unique(labels, return_inverse=True)[1])
        assert 7 in fit_rows and len(np.intersect1d(fit_rows, stop_rows)) == 0
        assert len(fit_rows) + len(stop_rows) == len(labels)
        assert model.fit(X, labels).predict_proba(X).shape == (len(X), 4)
    fit_rows, stop_rows = GBDT("catboost")._holdout(np.arange(30))  # one row per class: no early stopping
    assert len(fit_rows) == 30 and len(stop_rows) == 0


def test_device_options_choose_the_gpu_only_when_present_and_worth_it() -> None:
    assert device_options("lightgbm", "cuda", 10**9) == {}  # its OpenCL build is never asked for
    xgboost_rows, catboost_rows = models.GPU_MIN_ROWS["xgboost"], models.GPU_MIN_ROWS["catboost"]
    assert device_options("xgboost", "cuda", xgboost_rows) == {"device": "cuda"}
    assert device_options("xgboost", "cuda", xgboost_rows - 1) == {"device": "cpu"}
    assert device_options("catboost", "cuda", catboost_rows) == {"task_type": "GPU"}
    assert device_options("catboost", "cuda", catboost_rows - 1) == {"task_type": "CPU"}
    assert device_options("lightgbm", "cpu", 10**9) == {}
    assert device_options("catboost", "cpu", 10**9) == {"task_type": "CPU"}
    with pytest.raises(ValueError):
        device_options("sklearn", "cpu", 1)


def test_a_gpu_that_cannot_start_falls_back_to_the_cpu_once(monkeypatch, caplog) -> None:
    # This machine has no GPU: CatBoost asked for one raises, and the wrapper refits on the CPU; the
    # folds fitted beside it in other threads, and every later fit, go to the CPU without trying.
    monkeypatch.setattr(models, "GPU_MIN_ROWS", {})
    monkeypatch.setattr(models, "_GPU_FAILED", set())
    X, y = table(300)
    fit = lambda _: GBDT("catboost", classifier=True, n_estimators=30, early_stopping_rounds=None,  # noqa: E731
                         device="cuda").fit(X, y)
    with caplog.at_level(logging.WARNING, logger="pipelines.models"), ThreadPoolExecutor(3) as pool:
        fitted = list(pool.map(fit, range(3)))
    assert all(model.predict_proba(X).shape == (300, 2) for model in fitted)
    assert caplog.text.count("catboost on the GPU failed") == 1
    assert all(model.model_.get_params()["task_type"] == "CPU" for model in fitted)
    assert device_options("catboost", "cuda", 10**9) == {"task_type": "CPU"}


def test_gbdt_factory_wraps_multilabel_tasks() -> None:
    X, y = table()
    spec = make_spec(task="multilabel", target_columns=["p", "q"], classes=["p", "q"], submission_columns=["p", "q"])
    model = gbdt("lightgbm", Context(spec=spec), n_estimators=20, early_stopping_rounds=None)
    model.fit(X, np.column_stack([y, 1 - y]))
    assert len(model.predict_proba(X)) == 2


def test_a_seed_keyword_bags_and_ctx_seed_is_the_default() -> None:
    X, y = table()
    ctx = Context(spec=make_spec(), seed=3)
    fitted = {seed: gbdt("lightgbm", ctx, seed=seed, n_estimators=50).fit(X.iloc[:500], y[:500]).predict_proba(X.iloc[500:])
              for seed in (None, 3, 4)}
    assert np.array_equal(fitted[None], fitted[3]) and not np.array_equal(fitted[3], fitted[4])


def test_nb_logistic_regression_binary_and_multiclass() -> None:
    rng = np.random.default_rng(0)
    n, vocab = 400, 50
    y = rng.integers(0, 3, n)
    counts = rng.poisson(0.3, size=(n, vocab)).astype(float)
    counts[np.arange(n), y * 5] += 3  # each class has its own marker words
    X = sp.csr_matrix(counts)
    multi = NBLogisticRegression(C=1.0).fit(X, y)
    proba = multi.predict_proba(X)
    assert proba.shape == (n, 3) and np.allclose(proba.sum(axis=1), 1)
    assert (multi.predict(X) == y).mean() > 0.9
    binary = nb_linear(Context(spec=make_spec()), C=1.0).fit(X, (y == 0).astype(int))
    assert binary.predict_proba(X).shape == (n, 2)
    assert ((binary.predict_proba(X)[:, 1] > 0.5) == (y == 0)).mean() > 0.9


@pytest.mark.parametrize("recipe", sorted(p.stem for p in RECIPES.glob("*.py") if "STARTING_POINTS" in p.read_text()))
def test_a_recipe_starting_points_lie_inside_its_search_space(recipe: str) -> None:
    solution = load_solution(RECIPES / f"{recipe}.py")
    assert solution.STARTING_POINTS
    for point in solution.STARTING_POINTS:
        trial = optuna.trial.FixedTrial(point)
        # FixedTrial raises for a key the space asks and the point lacks, and warns for a value out of range
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            suggested = solution.search_space(trial)
        assert set(point) <= set(suggested)
