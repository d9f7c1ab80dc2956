"""TF-IDF of word 1-2 grams (categorical fields as tokens) with a linear model: the fast, strong text baseline."""

from pipelines.features import text_tfidf
from pipelines.models import linear

# Feature blocks; the improve step flips one at a time and keeps what CV says helps.
NORMALIZE_TEXT = True   # decode HTML, mark links and user names, split hashtags
CHAR_NGRAMS = False     # add character 2-5 grams (robust to spelling, slower)

PARAMS = {"C": 2.0}


def features(train, test, ctx):
    return text_tfidf(train, test, ctx.spec, normalize=NORMALIZE_TEXT, chars=CHAR_NGRAMS, word_ngrams=(1, 2))


def search_space(trial):
    return {"C": trial.suggest_float("C", 0.05, 50.0, log=True)}


def model(params, ctx):
    if ctx.task == "regression":
        return linear(ctx, alpha=1.0 / params["C"])
    return linear(ctx, C=params["C"])
