"""For many classes and few rows: linear, discriminant and neighbour models on scaled features, blended by their
out-of-fold probabilities into one calibrated prediction.

Trees struggle when each class has a handful of rows; these models share strength across classes.
Logistic regression, linear and regularised quadratic discriminant analysis and a distance-weighted
k-nearest-neighbour model are each cross-validated on the run's folds, then combined by greedy
selection or a logistic stack (cross-fitted, so the reported log loss is honest).
"""

from types import SimpleNamespace

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


def base_models(ctx):
    models = {
        "logistic": lambda p, c: linear(c, C=1.0),
        "lda": lambda p, c: LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
        "qda": lambda p, c: _qda(),
    }
    if NEIGHBOURS:
        models["knn"] = lambda p, c: KNeighborsClassifier(n_neighbors=10, weights="distance")
    return models


def fit_predict(train, test, folds, ctx):
    results = {name: cross_validate(SimpleNamespace(features=_scaled, model=m, PARAMS={}), train, test, folds, ctx)
               for name, m in base_models(ctx).items()}
    oof, test_pred, facts = combine([r.oof for r in results.values()], [r.test for r in results.values()],
                                    ctx.target(train), folds, ctx.spec, get_metric(ctx.spec.metric))
    facts["members"] = {name: round(r.score, 5) for name, r in results.items()}
    return oof, test_pred, facts
