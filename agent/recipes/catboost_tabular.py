"""CatBoost with its ordered target statistics on the categoricals: a different view of the same columns as LightGBM."""

from pipelines.features import tabular_plus
from pipelines.models import catboost

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

PARAMS = {"n_estimators": 1500, "learning_rate": 0.06, "depth": 6, "l2_leaf_reg": 3.0, "random_strength": 1.0,
          "max_ctr_complexity": 1, "one_hot_max_size": 10}
# Tried right after PARAMS when tuning: slow and regularised only (a deep CatBoost trial costs several others).
STARTING_POINTS = [{"learning_rate": 0.03, "depth": 4, "l2_leaf_reg": 10.0, "random_strength": 2.0}]


def features(train, test, ctx):
    return tabular_plus(train, test, ctx, counts=COUNT_ENCODING, target=TARGET_ENCODING, missing=MISSING_INDICATORS,
                        row_stats=ROW_STATISTICS, group_stats=GROUP_STATISTICS, sequence=GROUP_SEQUENCE,
                        codes=INTEGER_CODES, meaning=PAIR_MEANING,
                        neighbours=PAIR_NEIGHBOURS, auxiliary=AUXILIARY_TARGETS)


def search_space(trial):
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        "depth": trial.suggest_int("depth", 3, 8),
        "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 0.5, 30.0, log=True),
        "random_strength": trial.suggest_float("random_strength", 0.1, 10.0, log=True),
    }


def model(params, ctx):
    return catboost(ctx, **params)
