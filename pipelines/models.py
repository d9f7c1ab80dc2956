"""Estimators configured for the task at hand, so solutions choose a model family, not its plumbing."""

from __future__ import annotations

from typing import Any

from pipelines.context import Context


def _multi_output(estimator: Any, ctx: Context) -> Any:
    """One model per column for multilabel and multi-target regression."""
    from sklearn.multioutput import MultiOutputClassifier, MultiOutputRegressor

    if ctx.task == "multilabel":
        return MultiOutputClassifier(estimator)
    if ctx.task == "regression" and len(ctx.spec.target_columns) > 1:
        return MultiOutputRegressor(estimator)
    return estimator


def lgbm(ctx: Context, **params: Any) -> Any:
    """LightGBM for the task: binary, multiclass, multilabel or (multi-target) regression."""
    import lightgbm as lgb

    settings = {"n_estimators": 400, "learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 20,
                "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "verbose": -1,
                "random_state": ctx.seed, "n_jobs": ctx.n_jobs, **params}
    if ctx.task == "regression":
        return _multi_output(lgb.LGBMRegressor(**settings), ctx)
    return _multi_output(lgb.LGBMClassifier(**settings), ctx)


def linear(ctx: Context, **params: Any) -> Any:
    """Logistic regression for classification, ridge for regression."""
    from sklearn.linear_model import LogisticRegression, Ridge

    if ctx.task == "regression":
        return _multi_output(Ridge(**{"alpha": 1.0, **params}), ctx)
    settings = {"C": 1.0, "max_iter": 2000, **params}
    return _multi_output(LogisticRegression(**settings), ctx)
