"""The MLE-bench registry, suites, the medal-threshold rule and per-competition specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from competitions.registry import (
    PRACTICE,
    CompetitionInfo,
    get_competition,
    load_leaderboard_thresholds,
    load_registry,
    load_spec_overrides,
    medal_positions,
    medal_thresholds,
    read_leaderboard,
    suite,
)
from pipelines.errors import InputError
from pipelines.metrics import get_metric


def test_registry_rows():
    registry = load_registry()
    assert len(registry) == 82
    spooky = registry["spooky-author-identification"]
    assert isinstance(spooky, CompetitionInfo)
    assert spooky.splits == ("lite", "all", "systemcard")
    assert spooky.metric == "logloss_multiclass" and spooky.lower_is_better
    assert spooky.leaderboard_rows == 1241
    assert (spooky.gold_threshold, spooky.silver_threshold, spooky.bronze_threshold) == (
        0.16506, 0.26996, 0.29381)
    assert spooky.thresholds.gold == 0.16506 and spooky.thresholds.lower_is_better
    assert spooky.data_type == "text" and spooky.competition_type == "simple"
    melanoma = registry["siim-isic-melanoma-classification"]
    assert melanoma.gold_threshold is None and melanoma.leaderboard_rows is None
    assert melanoma.thresholds is None
    assert sum(info.thresholds is not None for info in registry.values()) == 75


def test_get_competition():
    assert get_competition("aerial-cactus-identification").metric == "auc"
    assert get_competition("titanic") is None


def test_load_registry_from_a_path(tmp_path):
    path = tmp_path / "reg.csv"
    path.write_text(
        "id,splits,competition_type,metric,lower_is_better,leaderboard_rows,gold_threshold,"
        "silver_threshold,bronze_threshold,median_threshold,threshold_source,data_type,"
        "approx_raw_size\nmy-comp,lite,simple,rmse,true,10,1.0,2.0,3.0,4.0,,tabular,\n"
    )
    info = load_registry(path)["my-comp"]
    assert info.lower_is_better and info.thresholds.median == 4.0
    (tmp_path / "bad.csv").write_text("name,score\nx,1\n")
    with pytest.raises(InputError, match="registry"):
        load_registry(tmp_path / "bad.csv")


@pytest.mark.parametrize(
    "name, size", [("lite", 22), ("medium", 38), ("high", 15), ("dev", 7), ("all", 75),
                   ("systemcard", 30), ("practice", 4), ("LITE", 22)],
)
def test_suite_sizes(name, size):
    ids = suite(name)
    assert len(ids) == len(set(ids)) == size


def test_suites_partition_all_and_practice():
    assert set(suite("lite")) | set(suite("medium")) | set(suite("high")) == set(suite("all"))
    assert "spaceship-titanic" in suite("dev")
    assert suite("practice") == list(PRACTICE)
    with pytest.raises(InputError, match="unknown suite 'nope'"):
        suite("nope")


# Competitions whose metric nothing in pipelines.metrics computes, and why.
NOT_COMPUTED = {
    "3d-object-detection-for-autonomous-vehicles":
        "per-sample mAP of 3-D boxes (centre, size, yaw) over IoU 0.5-0.95; the overlap rule "
        "is Lyft's mAP_evaluation.py (rotated polygons), which is not among the task files",
}


def test_every_registry_row_maps_to_a_metric_with_its_direction():
    registry = load_registry()
    assert set(NOT_COMPUTED) <= set(registry)
    for info in registry.values():
        if info.id in NOT_COMPUTED:
            with pytest.raises(KeyError):
                get_metric(info.metric)
            continue
        metric = get_metric(info.metric)
        assert metric.name == info.metric, info.id
        assert info.lower_is_better == (not metric.greater_is_better), info.id


def test_mlebench_names_resolve_where_one_rule_has_the_name():
    registry = load_registry()
    assert registry["tgs-salt-identification-challenge"].mlebench_metric == (
        "custom:mean_precision_iou_0.5-0.95")
    assert registry["imet-2020-fgvc7"].metric == "f1_micro_label_sets"
    assert registry["plant-seedlings-classification"].metric == "f1_micro"  # single labels
    assert registry["tensorflow2-question-answering"].metric == "answer_match"
    for info in registry.values():
        if info.id not in NOT_COMPUTED and info.mlebench_metric != "f1_micro":
            assert get_metric(info.mlebench_metric).name == info.metric, info.id


SHARED_REGISTRY = Path("/work/shared/mlebench/competitions.csv")


@pytest.mark.skipif(not SHARED_REGISTRY.is_file(), reason="the shared MLE-bench registry is absent")
def test_shipped_registry_copies_mlebench_rows():
    import csv

    with SHARED_REGISTRY.open(newline="") as f:
        shared = {row["id"]: row for row in csv.DictReader(f)}
    registry = load_registry()
    assert set(shared) == set(registry)
    for slug, row in shared.items():
        assert registry[slug].mlebench_metric == row["metric"], slug
        assert registry[slug].lower_is_better == (row["lower_is_better"] == "true"), slug


# ---------------------------------------------------------------- medal rule


@pytest.mark.parametrize(
    "n, positions",
    [
        (1, (1, 1, 1)), (5, (1, 1, 2)), (50, (5, 10, 20)), (99, (9, 19, 39)),
        (100, (10, 20, 40)), (249, (10, 49, 99)),
        (250, (10, 50, 100)), (999, (11, 50, 100)),
        (1000, (12, 50, 100)), (1241, (12, 62, 124)), (5000, (20, 250, 500)),
    ],
)
def test_medal_positions_by_band(n, positions):
    assert medal_positions(n) == positions


def board(n: int, lower_is_better: bool = False) -> list[float]:
    """Distinct scores n..1 (best first), or 1..n when lower is better."""
    return [float(i + 1) for i in range(n)] if lower_is_better else [float(n - i) for i in range(n)]


@pytest.mark.parametrize(
    "n, gold, silver, bronze, median",
    [
        (10, 10, 9, 7, 5.5),         # positions 1, 2, 4; even N: mean of 5 and 6
        (11, 11, 10, 8, 6),          # positions 1, 2, 4; odd N: the middle score
        (150, 141, 121, 91, 75.5),   # positions 10, 30, 60
        (500, 490, 451, 401, 250.5),  # positions 11, 50, 100
        (2000, 1987, 1901, 1801, 1000.5),  # positions 14, 100, 200
    ],
)
def test_thresholds_on_synthetic_boards(n, gold, silver, bronze, median):
    t = medal_thresholds(board(n))
    assert (t.gold, t.silver, t.bronze, t.median) == (gold, silver, bronze, median)
    assert not t.lower_is_better and t.leaderboard_rows == n
    low = medal_thresholds(board(n, lower_is_better=True))
    assert low.lower_is_better
    assert (low.gold, low.silver, low.bronze) == (n + 1 - gold, n + 1 - silver, n + 1 - bronze)


def test_thresholds_with_ties_read_the_score_at_the_position():
    scores = [0.9, 0.9, 0.9, 0.8, 0.8, 0.7, 0.7, 0.7, 0.6, 0.5]  # N=10: positions 1, 2, 4
    t = medal_thresholds(scores)
    assert (t.gold, t.silver, t.bronze, t.median) == (0.9, 0.9, 0.8, 0.75)


def test_mlebench_readme_example_positions(tmp_path):
    # spooky-author-identification: N = 1241 -> gold, silver, bronze at 12, 62, 124
    scores = [round(0.1 + i * 0.001, 4) for i in range(1241)]  # lower is better
    path = tmp_path / "leaderboard.csv"
    path.write_text("teamName,score\n" + "".join(f"t{i},{s}\n" for i, s in enumerate(scores)))
    t = load_leaderboard_thresholds(path)
    assert t.lower_is_better and t.leaderboard_rows == 1241
    assert (t.gold, t.silver, t.bronze) == (scores[11], scores[61], scores[123])
    assert t.median == scores[620]


def test_read_leaderboard_orders_by_rank(tmp_path):
    path = tmp_path / "lb.csv"
    path.write_text("rank,score\n3,0.7\n1,0.9\n2,0.8\n")
    assert read_leaderboard(path) == [0.9, 0.8, 0.7]
    path.write_text("score\n0.5\n0.6\n")
    assert read_leaderboard(path) == [0.5, 0.6]


@pytest.mark.parametrize("text", ["rank,points\n1,3\n", "score\n", "score\n0.5\nabc\n"])
def test_read_leaderboard_rejects_bad_files(tmp_path, text):
    path = tmp_path / "lb.csv"
    path.write_text(text)
    with pytest.raises(InputError):
        read_leaderboard(path)
    with pytest.raises(InputError):
        read_leaderboard(tmp_path / "missing.csv")


# ---------------------------------------------------------------- specs


def test_practice_specs():
    expected = {
        "titanic": ("accuracy", "maximize", "PassengerId", "Survived", "binary"),
        "house-prices-advanced-regression-techniques":
            ("rmse_log", "minimize", "Id", "SalePrice", "regression"),
        "spaceship-titanic": ("accuracy", "maximize", "PassengerId", "Transported", "binary"),
        "nlp-getting-started": ("f1", "maximize", "id", "target", "binary"),
    }
    for slug, facts in expected.items():
        spec = load_spec_overrides(slug)
        assert (spec["metric"], spec["direction"], spec["id_column"], spec["target_column"],
                spec["task"]) == facts
        assert get_metric(spec["metric"]).greater_is_better == (spec["direction"] == "maximize")


def test_spec_overrides_missing_or_outside_the_folder():
    assert load_spec_overrides("no-such-competition") == {}
    assert load_spec_overrides("../pyproject") == {}


def test_shipped_data_files_sit_beside_the_module():
    folder = Path(load_spec_overrides.__code__.co_filename).parent
    assert (folder / "mlebench.csv").is_file()
    assert {p.stem for p in folder.glob("*.yaml")} >= set(PRACTICE)
