"""A linear model on scaled numbers (right-skewed ones log-transformed), missing-value flags and one-hot categoricals."""

from pipelines.features import numeric_matrix
from pipelines.models import linear

PARAMS = {"C": 0.3}


def features(train, test, ctx):
    return numeric_matrix(train, test, ctx.spec)


def search_space(trial):
    return {"C": trial.suggest_float("C", 1e-3, 30.0, log=True)}


def model(params, ctx):
    if ctx.task == "regression":
        return linear(ctx, alpha=1.0 / params["C"])
    return linear(ctx, C=params["C"])
