"""LightGBM on the table plus cheap statistics of the files its rows reference (size; image size, brightness, colour)."""

from pipelines.features import join_blocks, tabular_plus
from pipelines.files import file_paths, file_statistics
from pipelines.models import LGBM_STARTING_POINTS, lgbm, lgbm_search_space

COUNT_ENCODING = False
MISSING_INDICATORS = False

PARAMS = {"n_estimators": 2000, "learning_rate": 0.03, "num_leaves": 15, "min_child_samples": 20, "colsample_bytree": 0.5}
STARTING_POINTS = LGBM_STARTING_POINTS  # tried right after PARAMS when tuning


def features(train, test, ctx):
    X, X_test = tabular_plus(train, test, ctx, counts=COUNT_ENCODING, missing=MISSING_INDICATORS)
    for col in ctx.spec.file_columns:
        stats = (file_statistics(file_paths(train, col), col, ctx.n_jobs),
                 file_statistics(file_paths(test, col), col, ctx.n_jobs))
        X, X_test = join_blocks(X, X_test, stats)
    return X, X_test


def search_space(trial):
    return lgbm_search_space(trial)


def model(params, ctx):
    return lgbm(ctx, **params)
