"""LightGBM on pretrained sentence embeddings of the text plus every tabular column.

A sentence-embedding model (all-MiniLM-L6-v2 unless AGENT_TEXT_MODEL names another) turns each
row's text into 384 numbers that carry what bag-of-words models miss (synonyms, paraphrases, word
order); trees combine them with the tabular columns. Different from the bag-of-words models, so
the two ensemble well. Needs the `text` extra; the embeddings are computed once per run and cached.
"""

import pandas as pd

from pipelines.embeddings import encode_in_time, text_embeddings
from pipelines.features import joined_text, tabular_plus
from pipelines.models import LGBM_STARTING_POINTS, lgbm, lgbm_search_space

TABULAR_FEATURES = True  # the other columns (numbers, categories, text statistics) beside the embeddings

PARAMS = {"n_estimators": 2000, "learning_rate": 0.03, "num_leaves": 15, "min_child_samples": 20, "colsample_bytree": 0.5,
          "subsample": 0.8, "reg_lambda": 1.0}
STARTING_POINTS = LGBM_STARTING_POINTS  # tried right after PARAMS when tuning


def _embeddings(text, ctx):
    vectors = text_embeddings(text, ctx)
    return pd.DataFrame(vectors, columns=[f"embedding_{i}" for i in range(vectors.shape[1])])


def features(train, test, ctx):
    text, text_test = joined_text(train, ctx.spec.text_columns), joined_text(test, ctx.spec.text_columns)
    everything = pd.concat([text, text_test], ignore_index=True)
    encode_in_time(everything, ctx)
    X, X_test = _embeddings(text, ctx), _embeddings(text_test, ctx)
    if TABULAR_FEATURES:
        T, T_test = tabular_plus(train, test, ctx)
        X, X_test = pd.concat([T.reset_index(drop=True), X], axis=1), pd.concat([T_test.reset_index(drop=True), X_test], axis=1)
    return X, X_test


def search_space(trial):
    return lgbm_search_space(trial)


def model(params, ctx):
    return lgbm(ctx, **params)
