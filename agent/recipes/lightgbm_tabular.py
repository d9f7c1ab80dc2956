"""LightGBM on every column: numbers as they are, categoricals natively, date parts, text statistics."""

from pipelines.features import tabular
from pipelines.models import lgbm

PARAMS = {"n_estimators": 400, "learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 20}


def features(train, test, ctx):
    return tabular(train, test, ctx.spec)


def search_space(trial):
    return {
        "n_estimators": trial.suggest_int("n_estimators", 100, 1500, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 7, 127, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 5, 100, log=True),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }


def model(params, ctx):
    return lgbm(ctx, **params)
