"""Several diverse text models stacked through their out-of-fold probabilities with a small meta-model.

Logistic regression on word and on character n-grams, NB-weighted logistic regression on word
n-grams, and multinomial naive Bayes on word counts, each cross-validated on the run's folds;
their out-of-fold predictions are combined by a logistic-regression stack (or a greedy blend when
that scores better), fitted on the other folds for each fold so the reported score stays honest.
"""

from types import SimpleNamespace

from sklearn.naive_bayes import MultinomialNB

from pipelines.ensemble import combine
from pipelines.features import normalize_text, text_with_fields, tfidf, word_counts
from pipelines.harness import cross_validate
from pipelines.metrics import get_metric
from pipelines.models import linear, nb_linear

NORMALIZE_TEXT = True
CHAR_MODELS = True      # the character n-gram model: slowest member, often the most different


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


def base_models(ctx):
    """(features, model) pairs under the ordinary solution contract, so the harness cross-validates each."""
    classify = ctx.task != "regression"
    models = {
        "lr_words": (_words, lambda p, c: linear(c, C=2.0) if classify else linear(c, alpha=0.5)),
        "nb_words": (_word_trigrams, lambda p, c: nb_linear(c, C=2.0)),
    }
    if ctx.task in ("binary", "multiclass"):
        models["mnb_counts"] = (_counts, lambda p, c: MultinomialNB(alpha=1.0))
    if CHAR_MODELS:
        models["lr_chars"] = (_chars, lambda p, c: linear(c, C=2.0) if classify else linear(c, alpha=0.5))
    return models


def fit_predict(train, test, folds, ctx):
    results = {name: cross_validate(SimpleNamespace(features=f, model=m, PARAMS={}), train, test, folds, ctx)
               for name, (f, m) in base_models(ctx).items()}
    oof, test_pred, facts = combine([r.oof for r in results.values()], [r.test for r in results.values()],
                                    ctx.target(train), folds, ctx.spec, get_metric(ctx.spec.metric))
    facts["members"] = {name: round(r.score, 5) for name, r in results.items()}
    return oof, test_pred, facts
