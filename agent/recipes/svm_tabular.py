"""A support-vector machine with an RBF kernel on scaled numbers and one-hot categoricals: smooth boundaries for small data."""

from pipelines.features import numeric_matrix
from pipelines.models import svm

PARAMS = {"C": 1.0, "gamma": "scale"}


def features(train, test, ctx):
    return numeric_matrix(train, test, ctx.spec)


def search_space(trial):
    return {"C": trial.suggest_float("C", 0.05, 100.0, log=True)}


def model(params, ctx):
    if ctx.task == "regression":
        return svm(ctx, epsilon=0.01, **params)
    return svm(ctx, **params)
