"""Span selection: every window of up to a few words of the source text, and the whole text, is a
candidate; LightGBM learns each candidate's word Jaccard with the true span from its position, its
length, the row's categorical columns (a sentiment) and how often its words are inside answers
under that condition; each row's answer is its best-scored candidate."""

import time

import numpy as np
import pandas as pd

from pipelines.models import GBDT
from pipelines.shapes.spans import WordRates, candidates, span_text, window_features, window_jaccard

NEIGHBOUR_RATES = False  # add the in-answer rates of the words just before and after the window

PARAMS = {"n_estimators": 200, "learning_rate": 0.1, "num_leaves": 31, "min_child_samples": 20}
NEGATIVES_PER_ROW = 24  # training candidates kept per row (the best and the whole text always)
FIT_SHARE = 0.6  # of the fold's time, what growing the trees may take; the rest scores the candidates
# LightGBM runs on one thread: the candidate tables are small, and OpenMP threads that spin-wait for
# each other crawl on a busy machine.


def _conditions(frame, ctx):
    columns = [c for c in ctx.spec.categorical_columns if c in frame.columns]
    if not columns:
        return [""] * len(frame)
    joined = frame[columns[0]].astype(str)
    for column in columns[1:]:
        joined = joined + "|" + frame[column].astype(str)
    return joined.tolist()


def _max_words(train, ctx):
    source, target = ctx.spec.source_column, ctx.spec.target_columns[0]
    answer_words = train[target].fillna("").astype(str).str.split().str.len()
    shorter = answer_words[answer_words < train[source].fillna("").astype(str).str.split().str.len()]
    return int(np.clip(np.quantile(shorter, 0.9) if len(shorter) else 3, 3, 12))


def _matrix(texts, conditions, cands, rates, levels):
    X = window_features(texts, conditions, cands, rates, neighbours=NEIGHBOUR_RATES)
    X["condition"] = pd.Categorical(np.asarray(conditions, dtype=object)[cands["row"].to_numpy()], categories=levels)
    return X


def fit_predict(train, test, ctx):
    source, target = ctx.spec.source_column, ctx.spec.target_columns[0]
    texts, answers = train[source].fillna("").astype(str).tolist(), train[target].fillna("").astype(str).tolist()
    conditions = _conditions(train, ctx)
    rates = WordRates().fit(texts, answers, conditions)
    max_words = _max_words(train, ctx)
    cands = candidates(texts, max_words)
    value = window_jaccard(texts, answers, cands)
    rng = np.random.default_rng(ctx.seed)
    whole = np.flatnonzero((cands["start"] == 0) & (cands["stop"] == cands["n"]))
    keep = [whole]
    for _, rows in cands.groupby("row").indices.items():
        keep.append([rows[np.argmax(value[rows])], *rng.permutation(rows)[:NEGATIVES_PER_ROW]])
    keep = np.unique(np.concatenate(keep))
    levels = sorted(set(conditions))
    X = _matrix(texts, conditions, cands.iloc[keep].reset_index(drop=True), rates, levels)
    deadline = None if ctx.fit_deadline is None else time.monotonic() + FIT_SHARE * (ctx.fit_deadline - time.monotonic())
    params = dict(PARAMS)
    ranker = GBDT("lightgbm", classifier=False, n_estimators=params.pop("n_estimators"), params=params,
                  early_stopping_rounds=None, n_jobs=1, seed=ctx.seed, deadline=deadline)  # one thread: see above
    ranker.fit(X, value[keep])

    test_texts = test[source].fillna("").astype(str).tolist()
    test_conditions = _conditions(test, ctx)
    test_cands = candidates(test_texts, max_words)
    scores = ranker.predict(_matrix(test_texts, test_conditions, test_cands, rates, levels))
    best = pd.Series(scores).groupby(test_cands["row"].to_numpy()).idxmax().to_numpy()
    chosen = test_cands.iloc[best]
    return [span_text(test_texts[r], i, j) for r, i, j in zip(chosen["row"], chosen["start"], chosen["stop"])]
