"""TF-IDF word 1-2 grams of the text columns with a linear model."""

from pipelines.features import joined_text, tfidf
from pipelines.models import linear

PARAMS = {"C": 4.0}


def features(train, test, ctx):
    text = ctx.spec.text_columns
    return tfidf(joined_text(train, text), joined_text(test, text), analyzer="word", ngram_range=(1, 2))


def search_space(trial):
    return {"C": trial.suggest_float("C", 0.05, 50.0, log=True)}


def model(params, ctx):
    if ctx.task == "regression":
        return linear(ctx, alpha=1.0 / params["C"])
    return linear(ctx, C=params["C"])
