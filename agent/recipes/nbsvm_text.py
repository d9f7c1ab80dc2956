"""Naive-Bayes-weighted logistic regression (NB-SVM) on word 1-3 gram TF-IDF: strong on short texts and sentiment."""

import scipy.sparse as sp

from pipelines.features import normalize_text, text_with_fields, tfidf
from pipelines.models import nb_linear

# Feature blocks; the improve step flips one at a time and keeps what CV says helps.
NORMALIZE_TEXT = True   # decode HTML, mark links and user names, split hashtags
CHAR_NGRAMS = False     # add character 2-5 grams

PARAMS = {"C": 2.0}


def features(train, test, ctx):
    text, text_test = text_with_fields(train, ctx.spec), text_with_fields(test, ctx.spec)
    if NORMALIZE_TEXT:
        text, text_test = normalize_text(text), normalize_text(text_test)
    X, X_test = tfidf(text, text_test, analyzer="word", ngram_range=(1, 3))
    if CHAR_NGRAMS:
        C, C_test = tfidf(text, text_test, analyzer="char_wb", ngram_range=(2, 5), max_features=100_000)
        X, X_test = sp.hstack([X, C]).tocsr(), sp.hstack([X_test, C_test]).tocsr()
    return X, X_test


def search_space(trial):
    return {"C": trial.suggest_float("C", 0.05, 50.0, log=True)}


def model(params, ctx):
    return nb_linear(ctx, C=params["C"])
