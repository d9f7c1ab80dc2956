"""LightGBM on every column: numbers as they are, categoricals natively, parts and counts of high-cardinality strings, date parts, text statistics."""

from pipelines.features import tabular_plus
from pipelines.models import LGBM_STARTING_POINTS, lgbm, lgbm_search_space

# Feature blocks beyond the basics; the improve step flips one at a time and keeps what CV says helps.
PAIR_MEANING = False        # how alike in meaning paired phrase columns are (sentence embeddings' cosine)
PAIR_NEIGHBOURS = False     # the targets of an anchor's known matches nearest in meaning (paired columns)
GROUP_STATISTICS = False    # size and numeric means of the row's group (when the competition has a group column)
GROUP_SEQUENCE = False      # the row's place in its group's sequence: position, running sums, changes
COUNT_ENCODING = False      # how often each categorical value occurs
TARGET_ENCODING = False     # out-of-fold smoothed target mean of each categorical value
MISSING_INDICATORS = False  # a flag per column with missing values, and missing values per row
ROW_STATISTICS = False      # sum, mean, spread and zeros across the numeric columns
INTEGER_CODES = False       # counts and out-of-fold target means of whole-number columns that look like codes
AUXILIARY_TARGETS = False   # out-of-fold predictions of the labels train has beside the target

PARAMS = {"n_estimators": 2000, "learning_rate": 0.03, "num_leaves": 15, "min_child_samples": 20, "colsample_bytree": 0.5,
          "subsample": 0.8, "reg_lambda": 1.0}
STARTING_POINTS = LGBM_STARTING_POINTS  # tried right after PARAMS when tuning


def features(train, test, ctx):
    return tabular_plus(train, test, ctx, counts=COUNT_ENCODING, target=TARGET_ENCODING, missing=MISSING_INDICATORS,
                        row_stats=ROW_STATISTICS, group_stats=GROUP_STATISTICS, sequence=GROUP_SEQUENCE,
                        codes=INTEGER_CODES, meaning=PAIR_MEANING,
                        neighbours=PAIR_NEIGHBOURS, auxiliary=AUXILIARY_TARGETS)


def search_space(trial):
    return lgbm_search_space(trial)


def model(params, ctx):
    return lgbm(ctx, **params)
