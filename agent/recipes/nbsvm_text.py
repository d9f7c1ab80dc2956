"""Naive-Bayes-weighted logistic regression (NB-SVM) on word 1-3 gram TF-IDF: strong on short texts and sentiment."""

from pipelines.features import text_tfidf
from pipelines.models import nb_linear

# Feature blocks; the improve step flips one at a time and keeps what CV says helps.
NORMALIZE_TEXT = True   # decode HTML, mark links and user names, split hashtags
CHAR_NGRAMS = False     # add character 2-5 grams

PARAMS = {"C": 2.0}


def features(train, test, ctx):
    return text_tfidf(train, test, ctx.spec, normalize=NORMALIZE_TEXT, chars=CHAR_NGRAMS, word_ngrams=(1, 3))


def search_space(trial):
    return {"C": trial.suggest_float("C", 0.05, 50.0, log=True)}


def model(params, ctx):
    return nb_linear(ctx, C=params["C"])
