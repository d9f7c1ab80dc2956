"""Estimators configured for the task at hand, so solutions choose a model family, not its plumbing.

Gradient-boosted trees come from one class, `GBDT`, which picks the library's GPU options when a
GPU is present and the data is big enough to gain from it (falling back to the CPU when the GPU
build refuses), and which early-stops on an inner holdout and refits with the number of trees
found, so `n_estimators` is a ceiling rather than a guess.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.metaestimators import available_if

from pipelines.context import Context

log = logging.getLogger(__name__)

# Fitting rows from which a library's folds are faster on the GPU, one fit at a time, than in parallel
# threads on the CPU (`benchmarks/gpu_paths.py --recipes`).
GPU_MIN_ROWS = {"xgboost": 80_000, "catboost": 200_000}
# One fit on the GPU at a time: folds fitted in parallel threads take turns (CatBoost refuses a
# second fit on a busy device, "device already requested"), and a library whose GPU build failed
# once in this process is not tried there again.
_GPU = threading.Lock()
_GPU_FAILED: set[str] = set()
# Early stopping needs a holdout big enough to be more signal than noise.
EARLY_STOPPING_MIN_ROWS = 300
LIGHTGBM_COPY_SECONDS = 40e-6  # per tree, for the model's copy at the end of training
REFIT_MAX_ROWS = 50_000  # above this the 15% holdout costs little accuracy, and a refit would double the time


def _is_multi_output(ctx: Context) -> bool:
    return ctx.task == "multilabel" or (ctx.task == "regression" and len(ctx.spec.target_columns) > 1)


def _multi_output(estimator: Any, ctx: Context, deadline: float | None = None) -> Any:
    """One model per column for multilabel and multi-target regression (`ColumnsInTurn`); `deadline`
    only for models that take one of their own."""
    if not _is_multi_output(ctx):
        return estimator
    return ColumnsInTurn(estimator, deadline, classifier=ctx.task == "multilabel")


class ColumnsInTurn(BaseEstimator):
    """One model per target column, fitted in turn; with `deadline`, each stops by an even share of
    the time left until then. The fold's deadline given to every column would let the first columns
    spend it and the last ones run past the candidate's limit (thirty targets: thirty models per fold)."""

    def __init__(self, estimator: Any, deadline: float | None = None, classifier: bool = False) -> None:
        self.estimator = estimator
        self.deadline = deadline
        self.classifier = classifier

    def fit(self, X: Any, y: Any) -> ColumnsInTurn:
        y = np.asarray(y)
        self.estimators_ = []
        for column in range(y.shape[1]):
            model = clone(self.estimator)
            if self.deadline is not None:
                now = time.monotonic()
                model.set_params(deadline=min(self.deadline, now + (self.deadline - now) / (y.shape[1] - column)))
            self.estimators_.append(model.fit(X, y[:, column]))
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.column_stack([model.predict(X) for model in self.estimators_])

    @available_if(lambda self: self.classifier)
    def predict_proba(self, X: Any) -> list[np.ndarray]:
        """Each column's class probabilities (n, 2), as sklearn's MultiOutputClassifier gives them; a column
        that held one class in training gives that class probability 1 (its (n, 1) would read as the other's)."""
        out = []
        for model in self.estimators_:
            proba = np.asarray(model.predict_proba(X), dtype=np.float64)
            if proba.shape[1] == 1:
                positive = np.full(len(proba), float(np.asarray(model.classes_)[0] == 1))
                proba = np.column_stack([1 - positive, positive])
            out.append(proba)
        return out


# --- gradient-boosted trees ------------------------------------------------------------------------

def device_options(library: str, device: str, n_rows: int) -> dict[str, Any]:
    """The library's GPU parameters when a GPU is present and worth it for `n_rows`; else CPU ones.

    XGBoost and CatBoost ship CUDA builds. LightGBM stays on the CPU: its PyPI wheel's GPU build is
    OpenCL, which may find no GPU or pick a CPU platform (PoCL), gains little over the CPU's cores,
    and stalls when the folds' models share the device.
    """
    if library == "lightgbm":
        return {}
    gpu = device == "cuda" and n_rows >= GPU_MIN_ROWS.get(library, 0) and library not in _GPU_FAILED
    if library == "xgboost":
        return {"device": "cuda"} if gpu else {"device": "cpu"}
    if library == "catboost":
        return {"task_type": "GPU"} if gpu else {"task_type": "CPU"}
    raise ValueError(f"unknown library {library!r}")


def _time_limit(library: str, deadline: float) -> Any:
    """The library's callback that ends boosting at `deadline` (time.monotonic()), keeping the trees
    grown so far: a fold that runs out of time gives a smaller model instead of none."""
    if library == "lightgbm":
        import lightgbm as lgb

        def stop(env: Any) -> None:  # after training, LightGBM copies its model through text: leave time for it
            if time.monotonic() + LIGHTGBM_COPY_SECONDS * (env.iteration + 1) > deadline:
                raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list or [])
        return stop
    if library == "xgboost":
        import xgboost as xgb

        class Stop(xgb.callback.TrainingCallback):
            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                return time.monotonic() > deadline  # True ends training
        return Stop()

    class Continue:  # CatBoost: False ends training
        def after_iteration(self, info: Any) -> bool:
            return time.monotonic() <= deadline
    return Continue()


def _category_columns(X: Any) -> list[str]:
    if not isinstance(X, pd.DataFrame):
        return []
    return [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]


def _for_catboost(X: Any, cat_columns: list[str]) -> Any:
    """CatBoost wants categories as strings without missing values."""
    if not cat_columns:
        return X
    X = X.copy()
    for col in cat_columns:
        X[col] = X[col].astype(object).where(X[col].notna(), "missing").astype(str)
    return X


def _make(library: str, classifier: bool, params: dict[str, Any]) -> Any:
    if library == "lightgbm":
        import lightgbm as lgb

        return (lgb.LGBMClassifier if classifier else lgb.LGBMRegressor)(**params)
    if library == "xgboost":
        import xgboost as xgb

        return (xgb.XGBClassifier if classifier else xgb.XGBRegressor)(**params)
    import catboost as cb

    return (cb.CatBoostClassifier if classifier else cb.CatBoostRegressor)(**params)


_DEFAULTS = {
    "lightgbm": {"learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 20, "subsample": 0.8,
                 "subsample_freq": 1, "colsample_bytree": 0.8, "verbose": -1},
    "xgboost": {"learning_rate": 0.05, "max_depth": 6, "subsample": 0.8, "colsample_bytree": 0.8,
                "tree_method": "hist", "enable_categorical": True, "max_cat_to_onehot": 8, "verbosity": 0},
    "catboost": {"learning_rate": 0.08, "depth": 6, "verbose": 0, "allow_writing_files": False},
}


class GBDT(BaseEstimator):
    """LightGBM, XGBoost or CatBoost with the task's objective, device choice and early stopping.

    With `early_stopping_rounds`, a stratified 15% holdout of the training rows finds the number of
    trees, then the model is refitted on all rows with that many trees (scaled up for the extra data);
    above REFIT_MAX_ROWS rows the early-stopped model itself is kept. With `deadline`
    (time.monotonic()), boosting stops adding trees then (CatBoost on the GPU excepted).
    """

    def __init__(self, library: str = "lightgbm", classifier: bool = True, params: dict[str, Any] | None = None,
                 n_estimators: int = 1000, early_stopping_rounds: int | None = 100, device: str = "cpu",
                 n_jobs: int = 1, seed: int = 0, deadline: float | None = None) -> None:
        self.library = library
        self.classifier = classifier
        self.params = params
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.device = device
        self.n_jobs = n_jobs
        self.seed = seed
        self.deadline = deadline

    def _settings(self, n_rows: int, n_estimators: int) -> dict[str, Any]:
        settings = {**_DEFAULTS[self.library], **(self.params or {})}
        settings.update(device_options(self.library, self.device, n_rows))
        if self.library == "catboost":
            settings.update(iterations=n_estimators, random_seed=self.seed, thread_count=self.n_jobs)
        else:
            settings.update(n_estimators=n_estimators, random_state=self.seed, n_jobs=self.n_jobs)
        return settings

    def _fit_one(self, X: Any, y: np.ndarray, n_estimators: int, eval_set: tuple | None = None,
                 stop_at: float | None = None) -> Any:
        settings = self._settings(len(y), n_estimators)
        cpu = {**settings, **device_options(self.library, "cpu", 0)}
        if cpu == settings:
            return self._fit_with(settings, X, y, eval_set, stop_at)
        with _GPU:
            if self.library not in _GPU_FAILED:  # another fold's fit may have failed there while this one waited
                try:
                    return self._fit_with(settings, X, y, eval_set, stop_at)
                except Exception as exc:  # a GPU build that cannot start (no driver, old driver) must not fail the node
                    _GPU_FAILED.add(self.library)
                    log.warning("%s on the GPU failed (%s); fitting on the CPU", self.library, exc)
        return self._fit_with(cpu, X, y, eval_set, stop_at)

    def _fit_with(self, settings: dict[str, Any], X: Any, y: np.ndarray, eval_set: tuple | None,
                  stop_at: float | None) -> Any:
        cats = _category_columns(X)
        on_gpu = settings.get("task_type") == "GPU"
        limit = [_time_limit(self.library, stop_at)] if stop_at is not None and not on_gpu else []
        if self.library == "catboost":
            settings = {**settings, "cat_features": cats or None}
            X = _for_catboost(X, cats)
            if eval_set is not None:
                eval_set = (_for_catboost(eval_set[0], cats), eval_set[1])
        if self.library == "xgboost":
            settings = {**settings, "callbacks": limit or None}
            if eval_set is not None:
                settings["early_stopping_rounds"] = self.early_stopping_rounds
        model = _make(self.library, self.classifier, settings)
        if self.library == "lightgbm":
            import lightgbm as lgb

            if eval_set is None:
                return model.fit(X, y, callbacks=limit)
            return model.fit(X, y, eval_X=(eval_set[0],), eval_y=(eval_set[1],),
                             callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False), *limit])
        if self.library == "xgboost":
            return model.fit(X, y) if eval_set is None else model.fit(X, y, eval_set=[eval_set], verbose=False)
        if eval_set is None:
            return model.fit(X, y, callbacks=limit or None)
        return model.fit(X, y, eval_set=eval_set, early_stopping_rounds=self.early_stopping_rounds,
                         callbacks=limit or None)

    def _best_iteration(self, model: Any) -> int | None:
        if self.library == "lightgbm":
            return model.best_iteration_ or None
        if self.library == "xgboost":
            return getattr(model, "best_iteration", None)
        return model.get_best_iteration()

    def _holdout(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows to fit on and the 15% to early-stop on, stratified when every class has two rows.

        Otherwise one row of each class stays on the fitting side: CatBoost and XGBoost refuse an
        early-stopping set with a class the model never saw (a class with one row in a fold).
        """
        from sklearn.model_selection import train_test_split

        rows = np.arange(len(y))
        if not self.classifier:
            return train_test_split(rows, test_size=0.15, random_state=self.seed)
        counts = np.bincount(y)
        if counts.min() >= 2 and 0.15 * len(y) >= len(counts):
            return train_test_split(rows, test_size=0.15, random_state=self.seed, stratify=y)
        kept = np.unique(y, return_index=True)[1]
        rest = np.setdiff1d(rows, kept)
        n_stop = min(int(round(0.15 * len(y))), len(rest) // 2)
        if n_stop == 0:  # about one row per class: nothing to stop on
            return rows, rows[:0]
        fit_rows, stop_rows = train_test_split(rest, test_size=n_stop, random_state=self.seed)
        return np.sort(np.concatenate([kept, fit_rows])), stop_rows

    def fit(self, X: Any, y: np.ndarray) -> GBDT:
        y = np.asarray(y)
        if self.classifier:  # codes 0..k-1 of the classes present (XGBoost insists on them)
            self.classes_, y = np.unique(y, return_inverse=True)
        early = bool(self.early_stopping_rounds) and len(y) >= EARLY_STOPPING_MIN_ROWS
        fit_rows, stop_rows = self._holdout(y) if early else (None, [])
        if not len(stop_rows):
            self.model_ = self._fit_one(X, y, self.n_estimators, stop_at=self.deadline)
            self.n_trees_ = self.n_estimators
            return self
        take = lambda A, r: A.iloc[r] if isinstance(A, pd.DataFrame) else A[r]  # noqa: E731
        refit = len(y) <= REFIT_MAX_ROWS
        probe_until = self.deadline
        if self.deadline is not None and refit:  # the refit grows as many trees again, on a few more rows
            probe_until = time.monotonic() + 0.45 * (self.deadline - time.monotonic())
        probe = self._fit_one(take(X, fit_rows), y[fit_rows], self.n_estimators, (take(X, stop_rows), y[stop_rows]),
                              stop_at=probe_until)
        best = self._best_iteration(probe) or self.n_estimators
        if not refit:  # predictions stop at the best iteration in all three libraries
            self.model_, self.n_trees_ = probe, best
            return self
        self.n_trees_ = max(10, min(self.n_estimators, int(round((best + 1) / 0.85))))
        self.model_ = self._fit_one(X, y, self.n_trees_, stop_at=self.deadline)
        return self

    def trees_used(self) -> int:
        """Trees the predictions use: the early-stopped count, or as many as boosting grew before its time limit."""
        model = self.model_
        if self.library == "lightgbm":
            return int(model.best_iteration_ or model.booster_.current_iteration())
        if self.library == "xgboost":
            best = getattr(model, "best_iteration", None)
            return int(best + 1 if best is not None else model.get_booster().num_boosted_rounds())
        return int(model.tree_count_)

    def feature_importance(self) -> np.ndarray:
        """Each input column's importance as a share: LightGBM's and XGBoost's total gain, CatBoost's
        prediction change (its default)."""
        if self.library == "lightgbm":
            values = self.model_.booster_.feature_importance(importance_type="gain")
        else:
            values = self.model_.feature_importances_
        values = np.asarray(values, dtype=float)
        return values / values.sum() if values.sum() > 0 else values

    def _input(self, X: Any) -> Any:
        return _for_catboost(X, _category_columns(X)) if self.library == "catboost" else X

    def predict(self, X: Any) -> np.ndarray:
        if self.classifier:
            return self.classes_[self.predict_proba(X).argmax(axis=1)]
        return np.asarray(self.model_.predict(self._input(X)))

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.model_.predict_proba(self._input(X)))


def gbdt(library: str, ctx: Context, *, early_stopping_rounds: int | None = 100, seed: int | None = None,
         **params: Any) -> Any:
    """A GBDT of `library` ("lightgbm", "xgboost", "catboost") with the task's objective (binary,
    multiclass, multilabel or multi-target regression) and the device's settings.

    `n_estimators` (default 1000) caps the trees; other keywords go to the library's estimator as
    they are (LightGBM: num_leaves, subsample with subsample_freq 1 by default...; XGBoost:
    max_depth...; CatBoost: depth, l2_leaf_reg...). Early stopping needs no evaluation set: with
    `early_stopping_rounds` (default 100; None: off) a stratified 15% of the fitting rows finds the
    number of trees, then the model is refitted on every row. Boosting also stops at the fold's
    share of the candidate's time (a target column's model at its share). pandas `category` columns
    are categoricals, missing values and CatBoost too. `seed` (default `ctx.seed`) seeds the model
    and its stopping split: vary it to bag. Threads and device come from `ctx`.
    """
    n_estimators = params.pop("n_estimators", 1000)
    model = GBDT(library=library, classifier=ctx.is_classification, params=params, n_estimators=n_estimators,
                 early_stopping_rounds=early_stopping_rounds, device=ctx.device, n_jobs=ctx.n_jobs,
                 seed=ctx.seed if seed is None else seed, deadline=ctx.fit_deadline)
    return _multi_output(model, ctx, ctx.fit_deadline)


def lgbm(ctx: Context, **params: Any) -> Any:
    """LightGBM for the task: `gbdt("lightgbm", ctx, **params)`; keywords as there."""
    return gbdt("lightgbm", ctx, **params)


def lgbm_search_space(trial: Any) -> dict[str, Any]:
    """Optuna suggestions for `lgbm`, shared by every LightGBM recipe so their tuning cannot drift apart."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 128, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 3, 100, log=True),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.2, 1.0),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 30.0, log=True),
    }


# Tried right after a recipe's PARAMS when tuning (its STARTING_POINTS), so the sampler learns early which
# side of the defaults the data prefers: slow and heavily regularised (noisy targets, small tables), or
# deep and loose (many rows, many interactions).
LGBM_STARTING_POINTS = [
    {"learning_rate": 0.01, "num_leaves": 7, "min_child_samples": 100, "colsample_bytree": 0.3, "subsample": 0.7,
     "reg_lambda": 5.0},
    {"learning_rate": 0.05, "num_leaves": 63, "min_child_samples": 10, "colsample_bytree": 0.8, "subsample": 0.9,
     "reg_lambda": 0.1},
]


def xgboost(ctx: Context, **params: Any) -> Any:
    """XGBoost for the task: `gbdt("xgboost", ctx, **params)`; keywords as there."""
    return gbdt("xgboost", ctx, **params)


def catboost(ctx: Context, **params: Any) -> Any:
    """CatBoost for the task: `gbdt("catboost", ctx, **params)`; keywords as there."""
    return gbdt("catboost", ctx, **params)


# --- linear, kernel and neighbour models ---------------------------------------------------------

def linear(ctx: Context, **params: Any) -> Any:
    """Logistic regression for classification (C=1.0, max_iter=3000), ridge for regression (alpha=1.0);
    every keyword goes to scikit-learn's LogisticRegression or Ridge, one model per target column
    for multilabel and multi-target tasks. Scale dense inputs first."""
    from sklearn.linear_model import LogisticRegression, Ridge

    if ctx.task == "regression":
        return _multi_output(Ridge(**{"alpha": 1.0, **params}), ctx)
    settings = {"C": 1.0, "max_iter": 3000, **params}
    return _multi_output(LogisticRegression(**settings), ctx)


def svm(ctx: Context, **params: Any) -> Any:
    """An RBF support-vector machine or support-vector regression. Every keyword goes to
    scikit-learn's SVC or SVR (C=1.0 unless given; its defaults otherwise, gamma="scale");
    probabilities come from sigmoid calibration around it, so `probability` is not needed. Scale
    dense inputs first."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC, SVR

    if ctx.task == "regression":
        return _multi_output(SVR(**{"C": 1.0, **params}), ctx)
    return _multi_output(CalibratedClassifierCV(SVC(**{"C": 1.0, **params}), method="sigmoid", cv=3, ensemble=False), ctx)


class NBLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression on features scaled by their naive-Bayes log-count ratio (NB-SVM, Wang & Manning 2012).

    One binary model per class (one-vs-rest) for more than two classes, each with its own ratio;
    probabilities are renormalised across classes.
    """

    def __init__(self, C: float = 4.0, alpha: float = 1.0, max_iter: int = 3000) -> None:
        self.C = C
        self.alpha = alpha
        self.max_iter = max_iter

    def _ratio(self, X: Any, positive: np.ndarray) -> np.ndarray:
        p = np.asarray(X[positive].sum(axis=0)).ravel() + self.alpha
        q = np.asarray(X[~positive].sum(axis=0)).ravel() + self.alpha
        return np.log((p / p.sum()) / (q / q.sum()))

    def fit(self, X: Any, y: np.ndarray) -> NBLogisticRegression:
        from sklearn.linear_model import LogisticRegression

        X = sp.csr_matrix(X)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        self.models_ = []
        for c in targets:
            positive = y == c
            r = self._ratio(X, positive)
            model = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(X.multiply(r).tocsr(), positive.astype(int))
            self.models_.append((r, model))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        X = sp.csr_matrix(X)
        scores = np.column_stack([m.predict_proba(X.multiply(r).tocsr())[:, 1] for r, m in self.models_])
        if len(self.classes_) == 2:
            return np.column_stack([1 - scores[:, 0], scores[:, 0]])
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def nb_linear(ctx: Context, **params: Any) -> Any:
    """NB-weighted logistic regression for classification on counts or TF-IDF; ridge for regression."""
    if ctx.task == "regression":
        return linear(ctx, alpha=1.0 / params.get("C", 1.0))
    return _multi_output(NBLogisticRegression(**params), ctx)
