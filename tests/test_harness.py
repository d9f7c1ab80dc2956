"""The harness: cross-validation with the competition's metric, leak-proof features, tuning, submissions."""

from __future__ import annotations

import threading
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agent.competition_files import find_files, load_tables
from agent.understand import build_spec
from pipelines.folds import clean_train, make_folds
from pipelines.context import Context
from pipelines.harness import SolutionError, cross_validate, load_solution, prior_prediction, tune
from pipelines.submission import submission_problems, write_submission
from pipelines.targets import submission_frame
from tests.conftest import DEMO

RECIPES = Path(__file__).resolve().parent.parent / "agent" / "recipes"


def prepared(folder: Path, layers=()):
    files = find_files(folder)
    train, test, sample = load_tables(files)
    spec = build_spec(folder.name, files, train, test, sample, list(layers))
    train = clean_train(train, spec)
    return spec, train, test, sample, make_folds(train, spec, 5, seed=0)


def module(code: str) -> types.ModuleType:
    mod = types.ModuleType("solution")
    exec(code, mod.__dict__)
    return mod


# LightGBM on `tabular`, recording what each call of features() is shown in the module's `seen`.
WATCHED_SOLUTION = """
from pipelines.features import tabular
from pipelines.models import lgbm
def features(train, test, ctx):
    seen.append((len(train), len(test), list(train.columns), list(test.columns)))
    return tabular(train, test, ctx.spec)
def model(params, ctx):
    return lgbm(ctx, n_estimators=50)
"""


def watched_solution() -> tuple[types.ModuleType, list]:
    solution = module(WATCHED_SOLUTION)
    solution.seen = []
    return solution, solution.seen


def test_validation_rows_reach_features_without_their_target_nor_columns_test_lacks() -> None:
    spec, train, test, _, folds = prepared(DEMO)
    train = train.assign(Boat=train["Survived"] * 7)  # a label test does not have (a lifeboat's number)
    solution, seen = watched_solution()
    result = cross_validate(solution, train, test, folds, Context(spec=spec))
    assert len(seen) == 5
    for n_train, n_rest, train_columns, columns in seen:
        assert "Survived" in train_columns and "Boat" in train_columns
        assert "Survived" not in columns and "Boat" not in columns
        assert n_train + n_rest == len(train) + len(test)
    assert 0.7 < result.score < 0.9
    assert not np.isnan(result.oof).any()


def test_a_test_table_too_large_for_every_folds_copy_is_predicted_by_one_refitted_model(monkeypatch) -> None:
    """The folds' features see a slice of the test rows; all of them are predicted once, by a model on every row."""
    import pipelines.harness as harness

    spec, train, test, _, folds = prepared(DEMO)
    monkeypatch.setattr(harness, "MAX_FOLD_TEST_ROWS", 2 * len(test))
    monkeypatch.setattr(harness, "FOLD_TEST_SLICE", 20)
    solution, seen = watched_solution()
    result = cross_validate(solution, train, test, folds, Context(spec=spec))
    assert [n_rest - int((folds == k).sum()) for k, (_, n_rest, *_) in enumerate(seen[:5])] == [20] * 5
    assert seen[5][:2] == (len(train), len(test)) and result.facts["test_prediction"] == "refit"
    assert result.test.shape == (len(test),) and 0.7 < result.score < 0.9


def test_an_encoder_fitted_on_all_rows_cannot_leak_the_target() -> None:
    """A target encoding computed over train + test uses only the fold's training labels."""
    spec, train, test, _, folds = prepared(DEMO)
    train = train.assign(Ticket=np.arange(len(train)).astype(str))  # unique per row: a perfect leak if labels leaked
    code = """
import pandas as pd
from pipelines.models import lgbm
def features(train, test, ctx):
    both = pd.concat([train, test])
    means = both.groupby("Ticket")["Survived"].mean() if "Survived" in both else None
    encode = lambda f: pd.DataFrame({"ticket_mean": f["Ticket"].map(means).astype(float)})
    return encode(train), encode(test)
def model(params, ctx):
    return lgbm(ctx, n_estimators=30, min_child_samples=5)
"""
    result = cross_validate(module(code), train, test, folds, Context(spec=spec))
    assert result.score < 0.7, "validation labels leaked into the features"


def test_what_each_fold_model_tells_of_its_fit_reaches_the_facts() -> None:
    """A model sized to its time (a network's epochs) keeps `facts`; the review shows them per fold."""
    spec, train, test, _, folds = prepared(DEMO)
    code = """
from sklearn.linear_model import LogisticRegression
class Counted(LogisticRegression):
    def fit(self, X, y):
        self.facts = {"rows": len(X)}
        return super().fit(X, y)
def features(train, test, ctx):
    return train[["Pclass"]], test[["Pclass"]]
def model(params, ctx):
    return Counted()
"""
    result = cross_validate(module(code), train, test, folds, Context(spec=spec))
    assert [f["rows"] for f in result.facts["fits"]] == [int((folds != k).sum()) for k in range(5)]


def test_shapes_are_checked() -> None:
    spec, train, test, _, folds = prepared(DEMO)
    code = """
def features(train, test, ctx):
    return train[["Pclass"]], test[["Pclass"]].iloc[:5]
def model(params, ctx):
    raise AssertionError
"""
    with pytest.raises(SolutionError, match="rows for test"):
        cross_validate(module(code), train, test, folds, Context(spec=spec))


def test_solution_without_the_contract_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "solution.py"
    path.write_text("x = 1\n")
    with pytest.raises(SolutionError, match="features"):
        load_solution(path)


def test_time_ordered_folds_train_on_the_past_only(make_comp) -> None:
    folder = make_comp(task="regression", n_train=200)
    train = pd.read_csv(folder / "train.csv")
    train["day"] = pd.date_range("2020-01-01", periods=len(train)).astype(str)
    train.to_csv(folder / "train.csv", index=False)
    test = pd.read_csv(folder / "test.csv")
    test["day"] = pd.date_range("2021-01-01", periods=len(test)).astype(str)
    test.to_csv(folder / "test.csv", index=False)
    spec, train, test, _, folds = prepared(folder, [("flag", {"time_column": "day"})])
    seen = []
    code = """
import pandas as pd
def features(train, test, ctx):
    seen.append((pd.to_datetime(train["day"]).max(), pd.to_datetime(test["day"]).min()))
    return train[["x1", "x2"]], test[["x1", "x2"]]
from pipelines.models import linear
def model(params, ctx):
    return linear(ctx)
"""
    solution = module(code)
    solution.seen = seen
    result = cross_validate(solution, train, test, folds, Context(spec=spec))
    assert (folds == -1).sum() > 0, "the earliest rows are only ever trained on"
    for last_train_day, first_valid_day in seen:
        assert last_train_day < first_valid_day
    assert np.isnan(result.oof[folds == -1]).all()
    assert np.isfinite(result.score)


def test_log_target_for_log_metrics_and_valid_regression_submission(make_comp) -> None:
    spec, train, test, sample, folds = prepared(make_comp(task="regression"), [("flag", {"metric": "rmsle"})])
    solution = load_solution(RECIPES / "lightgbm_tabular.py")
    result = cross_validate(solution, train, test, folds, Context(spec=spec, n_jobs=2), {"n_estimators": 100})
    assert result.facts["target_transform"] == "log1p"
    assert result.score < 0.2
    frame = submission_frame(test[spec.id_column], result.test, spec)
    assert submission_problems(frame, sample, spec) == []


def test_folds_share_the_candidates_time_and_end_with_smaller_models_in_it(make_comp) -> None:
    # Hours of trees at a learning rate of 0.0001: each fold's share of 6 s stops them, and every fold
    # still validates and predicts the test rows before the candidate would be killed.
    # The exact rule runs on a model clock below; here, on a busy machine, the work after the deadline may
    # overrun it a little, never by the deadline again.
    spec, train, test, sample, folds = prepared(make_comp())
    ctx = Context(spec=spec, n_jobs=2, deadline=time.monotonic() + 6)
    solution = load_solution(RECIPES / "lightgbm_tabular.py")
    result = cross_validate(solution, train, test, folds, ctx, {"n_estimators": 10**6, "learning_rate": 1e-4})
    assert time.monotonic() < ctx.deadline + 6
    assert len(result.facts["trees"]) == 5 and max(result.facts["trees"]) < 10**6
    assert 0.6 < result.score and not np.isnan(result.oof).any()
    assert submission_problems(submission_frame(test[spec.id_column], result.test, spec), sample, spec) == []


class ModelClock:
    """A clock that moves only when a model says it worked, so the folds' time rules run the same on
    any machine, however busy. Each worker thread keeps its own time, as parallel folds would; the
    main thread reads the furthest any has got. The first round of folds meets at a barrier, so
    that they start together."""

    def __init__(self, workers: int) -> None:
        self.now = 0.0
        self.lock = threading.Lock()
        self.local = threading.local()
        self.first_round = threading.Barrier(workers)
        self.main = threading.get_ident()

    def __call__(self) -> float:
        if threading.get_ident() == self.main:
            return self.now
        if not hasattr(self.local, "time"):
            self.local.time = self.now
        return self.local.time

    def start(self, fold: int) -> None:
        if fold < self.first_round.parties:
            self.first_round.wait(timeout=60)

    def work(self, seconds: float) -> None:
        with self.lock:
            if threading.get_ident() == self.main:  # folds run in turn, no workers
                self.now += seconds
                return
            self.local.time = self() + seconds
            self.now = max(self.now, self.local.time)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_later_folds_shrink_when_predicting_costs_more_than_estimated(make_comp, n_jobs: int) -> None:
    """A model whose predictions take as long as its fit (a multiclass GBDT comes near): the first
    fold measures that, and the later ones leave room for it, so the folds end within the time."""
    spec, train, test, _, folds = prepared(make_comp(task="regression"))
    code = """
import numpy as np
from pipelines.features import numeric_matrix
class GrowsUntilItsDeadline:
    def __init__(self, ctx):
        self.ctx = ctx
    def fit(self, X, y):
        self.took = self.ctx.fit_deadline - self.ctx.clock()
        self.ctx.clock.work(self.took)
        self.mean = float(np.mean(y))
        return self
    def predict(self, X):
        self.ctx.clock.work(0.5 * self.took)
        return np.full(X.shape[0], self.mean)
def features(train, test, ctx):
    return numeric_matrix(train, test, ctx.spec)
GRANTED = []  # each fold's seconds to fit, as it starts
def model(params, ctx):
    GRANTED.append(ctx.fit_deadline - ctx.clock())
    ctx.clock.start(len(GRANTED) - 1)
    return GrowsUntilItsDeadline(ctx)
"""
    solution = module(code)
    ctx = Context(spec=spec, n_jobs=n_jobs, deadline=100.0, clock=ModelClock(n_jobs))  # two jobs: folds in pairs
    cross_validate(solution, train, test, folds, ctx)
    assert 0 < ctx.seconds_left() < 30  # within the time, and most of it used
    granted = solution.GRANTED
    assert len(granted) == 5 and granted[n_jobs] < granted[0]  # the second round leaves room for predicting
    assert granted[:n_jobs] == [granted[0]] * n_jobs  # folds that start together get the same share


def test_refit_predicts_the_test_rows_with_one_model_on_every_row(make_comp, tmp_path: Path) -> None:
    spec, train, test, _, folds = prepared(make_comp(task="regression"), [("flag", {"metric": "rmsle"})])
    code = """
from sklearn.linear_model import Ridge
from pipelines.features import numeric_matrix
def features(train, test, ctx):
    return numeric_matrix(train, test, ctx.spec)
def model(params, ctx):
    return Ridge(alpha=params["alpha"])
def search_space(trial):
    return {"alpha": trial.suggest_float("alpha", 0.1, 10.0, log=True)}
PARAMS = {"alpha": 1.0}
"""
    solution, ctx = module(code), Context(spec=spec, n_jobs=2)
    averaged = cross_validate(solution, train, test, folds, ctx)
    refitted = cross_validate(solution, train, test, folds, ctx, refit=True)
    # The same folds and scores; only the test prediction changes, to one Ridge on all rows (log scale).
    assert refitted.score == averaged.score and np.array_equal(refitted.oof, averaged.oof)
    X, X_test = solution.features(train, test.drop(columns=spec.target_columns, errors="ignore"), ctx)
    y = train[spec.target_columns[0]].to_numpy(dtype=float)
    expected = np.expm1(solution.model({"alpha": 1.0}, ctx).fit(X, np.log1p(y)).predict(X_test))
    assert np.allclose(refitted.test, expected) and not np.allclose(averaged.test, expected)
    assert refitted.facts["test_prediction"] == "refit" and "test_prediction" not in averaged.facts
    tuned, _ = tune(solution, train, test, folds, ctx, timeout=60, n_trials=3, refit=True,
                    storage=f"sqlite:///{tmp_path / 'optuna.db'}", study_name="t")
    alpha = tuned.params["alpha"]
    expected = np.expm1(solution.model({"alpha": alpha}, ctx).fit(X, np.log1p(y)).predict(X_test))
    assert np.allclose(tuned.test, expected)


def test_multiclass_probabilities_fill_every_class_column(make_comp, tmp_path: Path) -> None:
    spec, train, test, sample, folds = prepared(make_comp(task="multiclass", proba_columns=True))
    solution = load_solution(RECIPES / "lightgbm_tabular.py")
    result = cross_validate(solution, train, test, folds, Context(spec=spec, n_jobs=2), {"n_estimators": 60})
    assert result.oof.shape == (len(train), 3)
    assert np.allclose(result.oof.sum(axis=1), 1)
    frame = submission_frame(test[spec.id_column], result.test, spec)
    write_submission(frame, sample, spec, tmp_path / "sub.csv")
    written = pd.read_csv(tmp_path / "sub.csv")
    assert list(written.columns) == list(sample.columns)
    assert (written[spec.id_column] == sample[spec.id_column]).all()


def test_tuning_starts_from_the_solution_params_then_its_starting_points_and_never_ends_worse(tmp_path: Path) -> None:
    spec, train, test, _, folds = prepared(DEMO)
    solution = load_solution(RECIPES / "lightgbm_tabular.py")
    solution.PARAMS = {**solution.PARAMS, "n_estimators": 60}
    solution.STARTING_POINTS = [{"n_estimators": 30, "num_leaves": 5}, {"n_estimators": 75, "num_leaves": 25}]
    solution.search_space = lambda trial: {"n_estimators": trial.suggest_int("n_estimators", 20, 80),
                                           "num_leaves": trial.suggest_int("num_leaves", 4, 31)}
    ctx = Context(spec=spec, n_jobs=2)
    base = cross_validate(solution, train, test, folds, ctx)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    tuned, study = tune(solution, train, test, folds, ctx, timeout=120, n_trials=5, storage=storage, study_name="t")
    assert study.trials[0].params["n_estimators"] == solution.PARAMS["n_estimators"]
    # the two starting points run next (in either order: two trials run at once)
    assert sorted(t.params["n_estimators"] for t in study.trials[1:3]) == [30, 75]
    assert tuned.score >= base.score - 1e-12
    assert (tmp_path / "optuna.db").exists()
    # a study continued after a kill starts from its best trial, not from the starting points again
    best = study.best_params
    _, study = tune(solution, train, test, folds, ctx, timeout=120, n_trials=2, storage=storage, study_name="t")
    assert len(study.trials) == 7 and study.trials[5].params == best
    enqueued = [t.number for t in study.trials if "fixed_params" in t.system_attrs]
    assert sorted(enqueued) == [0, 1, 2, 5]


def test_only_the_best_trial_predicts_the_test_rows(make_comp, tmp_path: Path) -> None:
    spec, train, test, _, folds = prepared(make_comp(task="regression"))
    code = """
from sklearn.linear_model import Ridge
from pipelines.features import numeric_matrix
PREDICTED = []  # rows of each predict() call
class Counted(Ridge):
    def predict(self, X):
        PREDICTED.append(X.shape[0])
        return super().predict(X)
def features(train, test, ctx):
    return numeric_matrix(train, test, ctx.spec)
def model(params, ctx):
    return Counted(alpha=params["alpha"])
def search_space(trial):
    return {"alpha": trial.suggest_float("alpha", 0.01, 1e6, log=True)}
PARAMS = {"alpha": 1e6}  # a start every trial beats, so the best trial is not the start
"""
    solution, ctx = module(code), Context(spec=spec, n_jobs=2)
    fresh = make_folds(train, spec, len(set(folds.tolist())), seed=99)
    tuned, study = tune(solution, train, test, folds, ctx, timeout=60, n_trials=6,
                        storage=f"sqlite:///{tmp_path / 'optuna.db'}", study_name="t", fresh_folds=fresh)
    n_folds = len(set(folds.tolist()))
    assert len(study.trials) == 6 and solution.PREDICTED.count(len(test)) == n_folds
    solution.PREDICTED.clear()
    plain = cross_validate(solution, train, test, folds, ctx, tuned.params)
    assert np.allclose(tuned.test, plain.test) and tuned.score == pytest.approx(plain.score)
    assert solution.PREDICTED.count(len(test)) == n_folds and tuned.models == []
    # the starting and the best parameters re-scored on folds the tuning never saw
    rescored = [cross_validate(solution, train, test, fresh, ctx, params).score for params in (solution.PARAMS,
                                                                                               tuned.params)]
    assert tuned.facts["fresh_folds_scores"] == pytest.approx(rescored)
    assert tuned.facts["fresh_folds_gain"] == pytest.approx(rescored[0] - rescored[1])  # rmse: lower is better


def test_submission_problems_are_specific() -> None:
    spec, train, test, sample, _ = prepared(DEMO)
    good = sample.copy()
    assert submission_problems(good, sample, spec) == []
    assert any("rows" in p for p in submission_problems(good.iloc[:-3], sample, spec))
    bad = good.copy()
    bad.loc[0, "Survived"] = np.nan
    assert any("empty" in p for p in submission_problems(bad, sample, spec))
    bad = good.copy()
    bad["Survived"] = 7
    assert any("labels outside" in p for p in submission_problems(bad, sample, spec))
    assert any("columns" in p for p in submission_problems(good.rename(columns={"Survived": "s"}), sample, spec))


def test_a_resumed_study_reevaluates_its_best_trial_first(tmp_path: Path) -> None:
    """After a kill the best trial's predictions are gone; the resumed study runs it again before exploring."""
    spec, train, test, _, folds = prepared(DEMO)
    solution = load_solution(RECIPES / "lightgbm_tabular.py")
    solution.PARAMS, solution.STARTING_POINTS = {**solution.PARAMS, "n_estimators": 40}, []
    solution.search_space = lambda trial: {"num_leaves": trial.suggest_int("num_leaves", 4, 31)}
    ctx = Context(spec=spec, n_jobs=1)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    first, study = tune(solution, train, test, folds, ctx, timeout=60, n_trials=3, storage=storage, study_name="s")
    best_params, trials_before = study.best_params, len(study.trials)
    again, resumed = tune(solution, train, test, folds, ctx, timeout=60, n_trials=1, storage=storage, study_name="s")
    assert len(resumed.trials) == trials_before + 1
    assert resumed.trials[-1].params == best_params
    assert again.params["num_leaves"] == best_params["num_leaves"]


def test_the_prior_prediction_knows_only_the_training_target() -> None:
    from pipelines.metrics import get_metric
    from tests.test_features import make_spec

    binary = make_spec(task="binary", classes=[0, 1])
    assert np.allclose(prior_prediction(np.array([0, 1, 1, 1]), binary, get_metric("auc"), 3), [0.75] * 3)
    three = make_spec(task="multiclass", classes=["a", "b", "c"])
    shares = prior_prediction(np.array([0, 2, 2, 2]), three, get_metric("logloss_multiclass"), 2)
    assert shares.shape == (2, 3) and np.allclose(shares[0], [0.25, 0, 0.75])
    values = np.array([1.0, 2.0, 3.0, 100.0])
    regression = make_spec(task="regression")
    assert np.allclose(prior_prediction(values, regression, get_metric("rmse"), 2), 26.5)
    assert np.allclose(prior_prediction(values, regression, get_metric("mae"), 2), 2.5)
    assert np.allclose(prior_prediction(values, regression, get_metric("rmsle"), 2), np.expm1(np.log1p(values).mean()))


def test_a_share_is_predicted_within_zero_and_one() -> None:
    """A linear model extrapolates past the limits a share cannot leave; CV and submission see them kept."""
    from tests.test_features import make_spec

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 200)
    train = pd.DataFrame({"id": range(200), "x": x, "share": x})
    test = pd.DataFrame({"id": range(200, 204), "x": [-3.0, 0.5, 4.0, 1.0]})
    spec = make_spec(task="regression", classes=[], target_columns=["share"], submission_columns=["share"],
                     submission_kind="value", metric="rmse", direction="minimize", numeric_columns=["x"],
                     target_bounds=(0.0, 1.0))
    solution = module("""
from sklearn.linear_model import LinearRegression
def features(train, test, ctx):
    return train[["x"]], test[["x"]]
def model(params, ctx):
    return LinearRegression()
""")
    folds = np.arange(200) % 5
    result = cross_validate(solution, train, test, folds, Context(spec=spec))
    assert np.allclose(result.test, [0.0, 0.5, 1.0, 1.0]) and result.score < 1e-9
    free = spec.model_copy(update={"target_bounds": (None, None)})
    unbounded = cross_validate(solution, train, test, folds, Context(spec=free))
    assert unbounded.test.min() < -2.9 and unbounded.test.max() > 3.9
    frame = submission_frame(test["id"], np.array([-1.0, 0.2, 0.7, 2.0]), spec)
    assert frame["share"].tolist() == [0.0, 0.2, 0.7, 1.0]
