"""XGBoost on the same columns, grown depth-wise: diversity for the ensemble."""

from pipelines.features import tabular_plus
from pipelines.models import xgboost

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

PARAMS = {"n_estimators": 2000, "learning_rate": 0.03, "max_depth": 5, "min_child_weight": 2.0, "colsample_bytree": 0.5,
          "subsample": 0.8, "reg_lambda": 1.0}
STARTING_POINTS = [  # tried right after PARAMS when tuning: slow and regularised, then deep and loose
    {"learning_rate": 0.01, "max_depth": 3, "min_child_weight": 20.0, "colsample_bytree": 0.3, "subsample": 0.7,
     "reg_lambda": 5.0},
    {"learning_rate": 0.05, "max_depth": 8, "min_child_weight": 1.0, "colsample_bytree": 0.8, "subsample": 0.9,
     "reg_lambda": 0.1},
]


def features(train, test, ctx):
    return tabular_plus(train, test, ctx, counts=COUNT_ENCODING, target=TARGET_ENCODING, missing=MISSING_INDICATORS,
                        row_stats=ROW_STATISTICS, group_stats=GROUP_STATISTICS, sequence=GROUP_SEQUENCE,
                        codes=INTEGER_CODES, meaning=PAIR_MEANING,
                        neighbours=PAIR_NEIGHBOURS, auxiliary=AUXILIARY_TARGETS)


def search_space(trial):
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "max_depth": trial.suggest_int("max_depth", 2, 10),
        "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 50.0, log=True),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.2, 1.0),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 30.0, log=True),
    }


def model(params, ctx):
    return xgboost(ctx, **params)
