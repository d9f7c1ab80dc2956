"""For many classes and few rows: linear, discriminant and neighbour models on scaled features, blended by their
out-of-fold probabilities into one calibrated prediction.

Trees struggle when each class has a handful of rows; these models share strength across classes.
Logistic regression, linear and regularised quadratic discriminant analysis (where every class has two
rows) and a distance-weighted k-nearest-neighbour model are each cross-validated on the run's folds, then
combined by greedy selection or a logistic stack (cross-fitted, so the reported log loss is honest).
"""

from types import SimpleNamespace

import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.neighbors import KNeighborsClassifier

from pipelines.ensemble import combine
from pipelines.features import numeric_matrix
from pipelines.harness import cross_validate
from pipelines.metrics import get_metric
from pipelines.models import linear

NEIGHBOURS = True


def _scaled(train, test, ctx):
    return numeric_matrix(train, test, ctx.spec)


def _qda():
    """Per-class covariances shrunk towards the diagonal: a class with fewer rows than features has a
    singular one, which plain QDA refuses."""
    try:
        return QuadraticDiscriminantAnalysis(solver="eigen", shrinkage="auto")
    except TypeError:  # scikit-learn before 1.8 has no solver; reg_param regularises instead
        return QuadraticDiscriminantAnalysis(reg_param=0.5)


def _every_class_twice(y, folds) -> bool:
    """Whether each fold's training rows hold every class they hold at least twice: a class seen once
    has no covariance at all, shrunk or not."""
    for k in set(folds[folds >= 0]):
        counts = np.unique(y[(folds != k) & (folds >= 0)], return_counts=True)[1]
        if counts.min(initial=2) < 2:
            return False
    return True


def base_models(ctx, y, folds):
    models = {
        "logistic": lambda p, c: linear(c, C=1.0),
        "lda": lambda p, c: LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
    }
    if _every_class_twice(y, folds):
        models["qda"] = lambda p, c: _qda()
    if NEIGHBOURS:
        models["knn"] = lambda p, c: KNeighborsClassifier(n_neighbors=10, weights="distance")
    return models


def fit_predict(train, test, folds, ctx):
    y = ctx.target(train)
    results = {name: cross_validate(SimpleNamespace(features=_scaled, model=m, PARAMS={}), train, test, folds, ctx)
               for name, m in base_models(ctx, y, folds).items()}
    oof, test_pred, facts = combine([r.oof for r in results.values()], [r.test for r in results.values()],
                                    y, folds, ctx.spec, get_metric(ctx.spec.metric))
    facts["members"] = {name: round(r.score, 5) for name, r in results.items()}
    return oof, test_pred, facts
