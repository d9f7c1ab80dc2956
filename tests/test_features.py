"""Feature blocks on small generated tables: what each derives, and that nothing sees a validation target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.context import Context
from pipelines.features import (
    auxiliary_predictions,
    composite_id_group,
    coordinate_distances,
    comparable_pairs,
    coordinate_points,
    count_encoding,
    datetime_parts,
    frequent_tokens,
    group_sequence,
    high_cardinality,
    integer_codes,
    most_telling,
    normalize_text,
    numeric_matrix,
    pair_similarity,
    skewed_log,
    tabular,
    tabular_plus,
    target_encoding,
    text_with_fields,
)
from pipelines.spec import CompetitionSpec


def make_spec(**columns) -> CompetitionSpec:
    base = dict(slug="t", data_dir=".", train_file="train.csv", test_file="test.csv", sample_submission_file="s.csv",
                id_column="id", target_columns=["y"], task="binary", classes=[0, 1], submission_columns=["y"],
                submission_kind="label", metric="accuracy", direction="maximize")
    return CompetitionSpec(**{**base, **columns})


@pytest.fixture()
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 300
    decks, sides = np.array(list("ABCDEFG")), np.array(["P", "S"])
    def table(rows: int, offset: int) -> pd.DataFrame:
        return pd.DataFrame({
            "id": [f"{(i + offset) // 3:04d}_{(i + offset) % 3 + 1:02d}" for i in range(rows)],
            "cabin": [f"{rng.choice(decks)}/{rng.integers(0, 2000)}/{rng.choice(sides)}" for _ in range(rows)],
            "name": [f"{rng.choice(['Mr.', 'Mrs.', 'Miss.'])} {rng.choice(['Ann', 'Bob', 'Cy'])} Family{rng.integers(0, 60)}"
                     for _ in range(rows)],
            "colour": rng.choice(["red", "green", None], size=rows),
            "size": rng.normal(size=rows),
            "spend": rng.exponential(100, size=rows),
            "y": rng.integers(0, 2, size=rows),
        })
    return table(n, 0), table(100, n).drop(columns="y")


def test_structured_codes_split_into_parts(frames) -> None:
    train, test = frames
    X, X_test = high_cardinality(train["cabin"], test["cabin"], "cabin")
    assert list(X.columns) == ["cabin_part0", "cabin_part1", "cabin_part2"]
    assert isinstance(X["cabin_part0"].dtype, pd.CategoricalDtype)
    assert X["cabin_part1"].dtype == "float64" and X_test["cabin_part1"].notna().all()
    assert set(X["cabin_part2"].cat.categories) == {"P", "S"}


def test_fixed_length_codes_are_read_character_by_character() -> None:
    """tabular-playground-may-2022's f_27: ten letters, nearly every code unique; the letters carry the signal."""
    rng = np.random.default_rng(0)
    letters = rng.choice(list("ABCDEFGH"), size=(400, 10))
    train = pd.Series(["".join(row) for row in letters[:300]])
    test = pd.Series(["".join(row) for row in letters[300:]])
    X, X_test = high_cardinality(train, test, "f_27")
    assert list(X.columns) == [f"f_27_char{i}" for i in range(10)] + ["f_27_distinct_chars"]
    assert X["f_27_char3"].astype(str).tolist() == list(letters[:300, 3])
    assert X_test["f_27_distinct_chars"].tolist() == [float(len(set(row))) for row in letters[300:]]
    words = pd.Series([f"word{i} other" for i in range(300)])  # spaces: free text, not a code
    assert "words_char0" not in high_cardinality(words, words, "words")[0].columns


def test_free_text_gives_recurring_words_and_word_counts(frames) -> None:
    train, test = frames
    X, _ = high_cardinality(train["name"], test["name"], "name")
    assert {"name_has_mr", "name_has_mrs", "name_has_miss"} <= set(X.columns)
    assert {"name_first_word_count", "name_last_word_count"} <= set(X.columns)
    family = train["name"].str.split().str[-1]
    expected = pd.concat([family, test["name"].str.split().str[-1]]).value_counts()
    assert np.array_equal(X["name_last_word_count"].to_numpy(), family.map(expected).to_numpy(dtype=float))


def test_counts_use_train_and_test_inputs_together() -> None:
    train = pd.DataFrame({"c": ["a", "a", "b", None]})
    test = pd.DataFrame({"c": ["a", "c"]})
    X, X_test = count_encoding(train, test, ["c"])
    assert X["c_count"].tolist()[:3] == [3.0, 3.0, 1.0] and np.isnan(X["c_count"].iloc[3])
    assert X_test["c_count"].tolist() == [3.0, 1.0]


def test_composite_ids_give_group_size_and_position(frames) -> None:
    train, test = frames
    X, X_test = composite_id_group(train["id"], test["id"], "id")
    assert set(X["id_group_size"].unique()) == {3.0}
    assert X["id_in_group"].tolist()[:4] == [1.0, 2.0, 3.0, 1.0]
    plain = pd.Series([str(i) for i in range(50)])
    assert composite_id_group(plain, plain, "id")[0].empty
    by_class = pd.Series([f"{i // 5:05d}__{i % 5 + 1:03d}" for i in range(50)])  # a class and a count: train only
    assert composite_id_group(by_class, plain, "id")[0].empty


def test_group_sequences_give_positions_running_sums_and_changes() -> None:
    train = pd.DataFrame({"breath": [1, 1, 1, 2, 2], "u_in": [1.0, 2.0, 4.0, 5.0, 3.0]})
    test = pd.DataFrame({"breath": [7, 7], "u_in": [2.0, 2.0]})
    X, X_test = group_sequence(train, test, "breath", ["u_in"])
    assert X["breath_position"].tolist() == [0, 1, 2, 0, 1] and X["breath_position_from_end"].tolist() == [2, 1, 0, 1, 0]
    assert X["u_in_running_sum"].tolist() == [1, 3, 7, 5, 8] and X_test["u_in_running_sum"].tolist() == [2, 4]
    assert X["u_in_change"].fillna(-1).tolist() == [-1, 1, 2, -1, -2]
    assert X["u_in_next_change"].fillna(-1).tolist() == [1, 2, -1, -2, -1]
    shuffled = train.iloc[[0, 3, 1, 4, 2]]  # a group's rows apart: no sequence to read
    assert group_sequence(shuffled, test, "breath", ["u_in"])[0].empty


def test_dates_with_and_without_time_zones_give_the_same_parts() -> None:
    """new-york-city-taxi-fare's `2009-06-15 17:26:21 UTC`: zones are converted to UTC, not a reason to fail."""
    values = pd.Series(["2014-07-06 03:29:01 UTC", "2014-07-06 05:29:01+02:00", "2014-07-07 10:00:00", "not a date"])
    parts = datetime_parts(values, "t")
    assert parts["t_hour"].tolist()[:3] == [3, 3, 10] and parts.iloc[3].isna().all()
    assert parts["t_days"].tolist()[:3] == [5300, 5300, 5301]


def test_two_places_in_a_row_give_their_distance() -> None:
    """A taxi trip's pickup and dropoff: one degree of latitude is 111 km; a longitude of the same
    name is found beside each latitude, and an unpaired latitude gives nothing."""
    trip = pd.DataFrame({"pickup_latitude": [40.0, 0.0], "pickup_longitude": [-74.0, 10.0],
                         "dropoff_latitude": [41.0, 0.0], "dropoff_longitude": [-74.0, 11.0], "lat_only": [1.0, 2.0]})
    assert coordinate_points(list(trip.columns)) == [("pickup_latitude", "pickup_longitude"),
                                                     ("dropoff_latitude", "dropoff_longitude")]
    X, X_test = coordinate_distances(trip, trip.iloc[:1], list(trip.columns))
    np.testing.assert_allclose(X["pickup_latitude_dropoff_latitude_km"], [111.19, 111.19], atol=0.01)
    np.testing.assert_allclose(X["pickup_latitude_dropoff_latitude_north_km"], [111.19, 0.0], atol=0.01)
    np.testing.assert_allclose(X["pickup_latitude_dropoff_latitude_east_km"], [0.0, 111.19], atol=0.01)
    assert len(X_test) == 1 and coordinate_distances(trip, trip, ["lat_only", "pickup_latitude"])[0].empty


def test_phrase_pairs_from_one_vocabulary_give_their_similarity() -> None:
    """An anchor and a target phrase share words; a class code and one-word grades are no pair, nor is
    a phrase and a text four times as long (a title and its body)."""
    phrases = pd.DataFrame({"anchor": ["abatement of pollution", "wood board", "wet cleaning device", "wood board"],
                            "target": ["pollution abatement", "steel board", "dry plate", "Wood Board"],
                            "context": ["A47", "B27", "A47", "B27"], "grade": ["Gd", "TA", "Gd", "Ex"],
                            "other_grade": ["TA", "Gd", "Ex", "Gd"]})
    phrases["body"] = (phrases["anchor"] + " " + phrases["target"] + " ") * 2
    columns = ["context", "grade", "other_grade", "anchor", "target", "body"]
    assert comparable_pairs(phrases, columns) == [("anchor", "target")]
    X, X_test = pair_similarity(phrases, phrases.iloc[:1], [("anchor", "target")])
    assert X["anchor_target_shared_words"].tolist() == [2.0, 1.0, 0.0, 2.0]
    np.testing.assert_allclose(X["anchor_target_word_jaccard"], [2 / 3, 1 / 3, 0.0, 1.0])
    assert X["anchor_target_same"].tolist() == [0.0, 0.0, 0.0, 1.0]
    assert X["anchor_target_char_jaccard"].iloc[0] > X["anchor_target_char_jaccard"].iloc[2]
    assert len(X_test) == 1


def test_skewed_columns_keep_their_raw_scale_beside_the_log() -> None:
    """A linear model gets both shapes of a right-skewed column, so no fold's skew near the limit
    decides alone whether a fare is fitted on a distance or on its log."""
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"km": rng.exponential(3.0, 500), "even": rng.normal(size=500)})
    X, X_test = skewed_log(train, train.head(3))
    assert list(X.columns) == ["km", "even", "km_log"] and X["km"].equals(train["km"])
    np.testing.assert_allclose(X_test["km_log"], np.log1p(train["km"].head(3)))


def test_target_encoding_never_uses_a_rows_own_target() -> None:
    # Every key is unique, so an in-sample encoding would reproduce the target exactly.
    train = pd.DataFrame({"k": [f"k{i}" for i in range(200)]})
    y = np.random.default_rng(1).integers(0, 2, 200)
    X, X_test = target_encoding(train, pd.DataFrame({"k": ["k0", "new"]}), ["k"], y, smoothing=1.0)
    assert np.allclose(X["k_target"], y.mean(), atol=0.05)
    assert X_test["k_target"].iloc[0] == pytest.approx((y[0] + y.mean()) / 2)
    assert X_test["k_target"].iloc[1] == pytest.approx(y.mean())


def test_auxiliary_labels_are_predicted_out_of_fold_and_cached(tmp_path, monkeypatch) -> None:
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600)})
    # `casual` follows the inputs; `noise` does not, so only an in-sample fit could predict it.
    train = X.assign(casual=(X["a"] > 0).astype(int), noise=rng.normal(size=600))
    test = pd.DataFrame({"a": [2.0, -2.0], "b": [0.0, 0.0]})
    ctx = Context(spec=make_spec(numeric_columns=["a", "b"], auxiliary_columns=["casual", "noise"]),
                  cache_dir=tmp_path, n_jobs=1)
    P, P_test = auxiliary_predictions(train, test, X, test, ["casual", "noise"], ctx)
    assert list(P.columns) == ["casual_predicted", "noise_predicted"]
    assert np.corrcoef(P["casual_predicted"], train["casual"])[0, 1] > 0.9
    assert abs(np.corrcoef(P["noise_predicted"], train["noise"])[0, 1]) < 0.15
    assert P_test["casual_predicted"].iloc[0] > 0.9 > 0.1 > P_test["casual_predicted"].iloc[1]
    saved = list((tmp_path / "auxiliary").glob("*.npz"))
    assert len(saved) == 1
    again, again_test = auxiliary_predictions(train, test, X, test, ["casual", "noise"], ctx)
    assert again.equals(P) and again_test.equals(P_test)
    train.loc[0, "casual"] = 1 - train.loc[0, "casual"]  # other labels are other predictions
    auxiliary_predictions(train, test, X, test, ["casual", "noise"], ctx)
    assert len(list((tmp_path / "auxiliary").glob("*.npz"))) == 2
    monkeypatch.setattr("pipelines.features.AUXILIARY_FIT_ROWS", 150)  # a big table's models learn from a sample
    sampled, _ = auxiliary_predictions(train, test, X, test, ["casual", "noise"], ctx)
    assert not sampled.equals(P) and np.corrcoef(sampled["casual_predicted"], train["casual"])[0, 1] > 0.8


def test_multiclass_target_encoding_has_a_column_per_class(frames) -> None:
    train, test = frames
    spec = make_spec(task="multiclass", classes=[0, 1, 2], categorical_columns=["colour"], numeric_columns=["size"])
    train = train.assign(y=np.arange(len(train)) % 3)
    X, X_test = tabular_plus(train, test, Context(spec=spec), target=True, counts=True, missing=True)
    assert {"colour_target_0", "colour_target_1", "colour_target_2", "colour_count", "colour_missing"} <= set(X.columns)
    assert list(X.columns) == list(X_test.columns) and not X.columns.duplicated().any()


def test_whole_number_codes_get_counts_and_target_means() -> None:
    rng = np.random.default_rng(0)
    n = 400
    manager = rng.integers(0, 40, n) * 37 + 1000  # a code: 40 repeated levels whose order means nothing
    train = pd.DataFrame({"manager": manager, "age": rng.integers(18, 25, n), "spend": rng.normal(size=n),
                          "serial": np.arange(n), "y": (manager % 3 == 0).astype(int)})
    test = train.head(50).drop(columns="y")
    numbers = ["manager", "age", "spend", "serial"]
    assert integer_codes(train, numbers) == ["manager"]  # too few levels, not whole, every value unique
    spec = make_spec(numeric_columns=numbers)
    X, X_test = tabular_plus(train, test, Context(spec=spec), codes=True)
    assert {"manager_count", "manager_target"} <= set(X.columns) and "age_count" not in X.columns
    assert list(X.columns) == list(X_test.columns)
    assert np.corrcoef(X["manager_target"], train["y"])[0, 1] > 0.9  # out of fold, yet the code's target is found


def test_tabular_and_numeric_matrix_agree_on_rows_and_have_no_gaps(frames) -> None:
    train, test = frames
    spec = make_spec(categorical_columns=["cabin", "name", "colour"], numeric_columns=["size", "spend"])
    X, X_test = tabular(train, test, spec)
    assert len(X) == len(train) and list(X.columns) == list(X_test.columns)
    assert "id_group_size" in X.columns  # the id is read for its structure, never used as a number
    A, B = numeric_matrix(train, test, spec)
    assert A.shape[1] == B.shape[1] and np.isfinite(A).all() and np.isfinite(B).all()
    assert abs(A[:, : X.shape[1]].mean()) < 1.0  # scaled


def test_rare_and_unseen_levels_become_missing_not_new_categories() -> None:
    spec = make_spec(categorical_columns=["c"])
    train = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 5 + ["rare"]})
    X, X_test = tabular(train, pd.DataFrame({"c": ["a", "unseen"]}), spec)
    assert list(X["c"].cat.categories) == ["a", "b"]
    assert X["c"].isna().sum() == 1 and X_test["c"].isna().tolist() == [False, True]


def test_text_helpers() -> None:
    text = pd.Series(["Fire!!! at http://t.co/x &amp; @bob #wildfire soooo bad", None])
    cleaned = normalize_text(text)
    assert "xxurl" in cleaned[0] and "xxuser" in cleaned[0] and "wildfire" in cleaned[0] and "&" in cleaned[0]
    assert "soo " in cleaned[0] and cleaned[1] == ""
    assert normalize_text(pd.Series(["@José ÉÉÉ"]))[0] == " xxuser  ÉÉ"  # letters beyond ASCII, as Python's re sees them
    spec = make_spec(text_columns=["t"], categorical_columns=["kw"])
    joined = text_with_fields(pd.DataFrame({"t": ["hello"], "kw": ["Forest Fire"]}), spec)
    assert joined[0] == "hello kw=forest_fire"
    tokens, _ = frequent_tokens(pd.Series(["Mr. A", "Mr. B", "Mrs. C", "Dr. D"]), pd.Series(["Mr. E"]), "n", min_share=0.4)
    assert list(tokens.columns) == ["n_has_mr"]


def test_wide_single_precision_tables_stay_single_precision_for_the_test_rows() -> None:
    rng = np.random.default_rng(0)
    columns = [f"x{i}" for i in range(6)]
    train = pd.DataFrame(rng.normal(size=(200, 6)).astype(np.float32), columns=columns).assign(id=range(200))
    test = pd.DataFrame(rng.normal(size=(500, 6)).astype(np.float32), columns=columns).assign(id=range(500))
    train.loc[3, "x1"] = np.nan
    spec = make_spec(numeric_columns=columns)
    X, X_test = tabular(train, test, spec)
    assert (X_test[columns].dtypes == np.float32).all()
    A, B = numeric_matrix(train, test, spec)
    assert B.dtype == np.float32 and A.shape[1] == B.shape[1] == 7  # six scaled numbers, one missing-value flag
    expected = (test["x0"] - train["x0"].mean()) / train["x0"].std(ddof=0)
    assert np.allclose(B[:, 0], expected.clip(-10, 10), atol=1e-5)


def test_the_group_blocks_derive_from_the_columns_that_follow_the_target_when_not_all_fit() -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.normal(size=(300, 6)), columns=[f"c{i}" for i in range(6)])
    y = (train["c4"] - 0.5 * train["c1"] + rng.normal(0, 0.1, 300) > 0).astype(int).to_numpy()
    assert most_telling(train, list(train.columns), y, at_most=2) == ["c1", "c4"]
    assert most_telling(train, ["c0", "c5"], y, at_most=2) == ["c0", "c5"]
