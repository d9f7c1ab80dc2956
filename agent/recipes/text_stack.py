"""Several diverse text models stacked through their out-of-fold probabilities with a small meta-model.

Logistic regression on word n-grams, NB-weighted logistic regression on word n-grams, multinomial
naive Bayes on word counts, then logistic regression on pretrained sentence embeddings (when the
`text` extra is installed and encoding fits the time left), then on character n-grams (when its
expected time fits what is left), each cross-validated on the run's folds; the members come in
order of what they add for their time; their out-of-fold predictions are combined by a
logistic-regression stack (or a greedy blend when that scores better), fitted on the other folds
for each fold so the reported score stays honest.
"""

import time
from types import SimpleNamespace

import pandas as pd
from sklearn.naive_bayes import MultinomialNB

from pipelines.embeddings import (EncodingTooSlow, embeddings_available, embeddings_fit, encoding_seconds,
                                  text_embeddings)
from pipelines.ensemble import combine
from pipelines.features import joined_text, normalize_text, text_with_fields, tfidf, word_counts
from pipelines.harness import cross_validate
from pipelines.metrics import get_metric
from pipelines.models import linear, nb_linear

NORMALIZE_TEXT = True
CHAR_MODELS = True      # the character n-gram model: slowest member, often the most different
CHAR_COST = 5.0         # its time over the word model's: a text has several times more char n-grams than words
EMBEDDINGS = True       # the sentence-embedding model: meaning beyond the words, the most different


def _texts(train, test, ctx):
    text, text_test = text_with_fields(train, ctx.spec), text_with_fields(test, ctx.spec)
    return (normalize_text(text), normalize_text(text_test)) if NORMALIZE_TEXT else (text, text_test)


def _words(train, test, ctx):
    return tfidf(*_texts(train, test, ctx), analyzer="word", ngram_range=(1, 2))


def _word_trigrams(train, test, ctx):
    return tfidf(*_texts(train, test, ctx), analyzer="word", ngram_range=(1, 3))


def _chars(train, test, ctx):
    return tfidf(*_texts(train, test, ctx), analyzer="char_wb", ngram_range=(2, 5), max_features=100_000)


def _counts(train, test, ctx):
    return word_counts(*_texts(train, test, ctx))


def _embeddings(train, test, ctx):
    # The raw text: the model was trained on ordinary sentences, markers like `xxurl` are noise to it.
    return (text_embeddings(joined_text(train, ctx.spec.text_columns), ctx),
            text_embeddings(joined_text(test, ctx.spec.text_columns), ctx))


def base_models(ctx):
    """(features, model) pairs under the ordinary solution contract, so the harness cross-validates each."""
    classify = ctx.task != "regression"
    models = {
        "lr_words": (_words, lambda p, c: linear(c, C=2.0) if classify else linear(c, alpha=0.5)),
        "nb_words": (_word_trigrams, lambda p, c: nb_linear(c, C=2.0)),
    }
    if ctx.task in ("binary", "multiclass"):
        models["mnb_counts"] = (_counts, lambda p, c: MultinomialNB(alpha=1.0))
    return models


def _char_model(ctx):
    return _chars, lambda p, c: linear(c, C=2.0) if ctx.task != "regression" else linear(c, alpha=0.5)


def fit_predict(train, test, folds, ctx):
    run = lambda f, m: cross_validate(SimpleNamespace(features=f, model=m, PARAMS={}), train, test, folds, ctx)  # noqa: E731
    results, seconds = {}, {}
    for name, (f, m) in base_models(ctx).items():
        started = time.monotonic()
        results[name] = run(f, m)
        seconds[name] = time.monotonic() - started
    facts = {}
    if EMBEDDINGS and embeddings_available():
        # Decided after the cheap members, on the time they really left: encoding is the slow part.
        texts = pd.concat([joined_text(train, ctx.spec.text_columns), joined_text(test, ctx.spec.text_columns)])
        try:
            # Started when the estimate says it may fit; the pace of the first batches has the last word.
            if not embeddings_fit(texts, ctx, share=1.0):
                raise EncodingTooSlow(f"encoding would take about {encoding_seconds(texts, ctx):.0f}s "
                                      f"of the {ctx.seconds_left():.0f}s left")
            text_embeddings(texts, ctx, seconds=0.8 * ctx.seconds_left())  # into the run's cache, for the folds
            classify = ctx.task != "regression"
            results["lr_embeddings"] = run(_embeddings, lambda p, c: linear(c, C=1.0) if classify else linear(c, alpha=1.0))
        except EncodingTooSlow as slow:
            facts["embeddings_left_out"] = str(slow)
    if CHAR_MODELS:
        expected = CHAR_COST * seconds["lr_words"]
        if expected < ctx.seconds_left():
            results["lr_chars"] = run(*_char_model(ctx))
        else:
            facts["chars_left_out"] = f"about {expected:.0f}s expected, {ctx.seconds_left():.0f}s left"
    oof, test_pred, combined = combine([r.oof for r in results.values()], [r.test for r in results.values()],
                                       ctx.target(train), folds, ctx.spec, get_metric(ctx.spec.metric))
    facts.update(combined, members={name: round(r.score, 5) for name, r in results.items()})
    return oof, test_pred, facts
