"""What is known about competitions before looking at their files: MLE-bench's registry,
benchmark suites, medal thresholds and hand-written per-competition specs.

``mlebench.csv`` is a copy of MLE-bench's competition list with the thresholds its grading
rule gives (see the project's notes on how it was built), plus one column: ``metric`` names
the ``pipelines.metrics`` metric that scores the competition the way its ``grade.py`` does,
and ``mlebench_metric`` keeps the registry's own name (they differ where one name covers
several rules, e.g. ``f1_micro`` over single labels or over label sets, and for the
``custom:`` metrics). A row whose metric no ``pipelines.metrics`` metric computes keeps the
registry's name in both. ``<slug>.yaml`` files are specs a person wrote for one competition
and override anything inferred.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from pipelines.errors import InputError

HERE = Path(__file__).parent
MLEBENCH_CSV = HERE / "mlebench.csv"

PRACTICE = (
    "titanic",
    "house-prices-advanced-regression-techniques",
    "spaceship-titanic",
    "nlp-getting-started",
)
SPLIT_SUITES = ("lite", "medium", "high", "dev", "all", "systemcard")


@dataclass(frozen=True)
class MedalThresholds:
    """Cut-off scores of a leaderboard, as MLE-bench reads them (a score ties in at the cut-off)."""

    gold: float
    silver: float
    bronze: float
    median: float
    lower_is_better: bool
    leaderboard_rows: int | None


@dataclass(frozen=True)
class CompetitionInfo:
    """One row of the MLE-bench registry."""

    id: str
    splits: tuple[str, ...]
    competition_type: str
    metric: str  # the pipelines.metrics name (see the module docstring)
    lower_is_better: bool
    data_type: str
    leaderboard_rows: int | None
    gold_threshold: float | None
    silver_threshold: float | None
    bronze_threshold: float | None
    median_threshold: float | None
    mlebench_metric: str = ""  # the registry's own name for the metric

    @property
    def thresholds(self) -> MedalThresholds | None:
        """The four cut-offs together, or None where MLE-bench found no leaderboard."""
        cutoffs = (self.gold_threshold, self.silver_threshold, self.bronze_threshold,
                   self.median_threshold)
        if any(c is None for c in cutoffs):
            return None
        return MedalThresholds(*cutoffs, self.lower_is_better, self.leaderboard_rows)


def _optional_float(text: str) -> float | None:
    return float(text) if text.strip() else None


def _parse_row(row: dict[str, str]) -> CompetitionInfo:
    return CompetitionInfo(
        id=row["id"],
        splits=tuple(s for s in row["splits"].split(";") if s),
        competition_type=row["competition_type"],
        metric=row["metric"],
        lower_is_better=row["lower_is_better"].strip().lower() == "true",
        data_type=row["data_type"],
        leaderboard_rows=int(row["leaderboard_rows"]) if row["leaderboard_rows"].strip() else None,
        gold_threshold=_optional_float(row["gold_threshold"]),
        silver_threshold=_optional_float(row["silver_threshold"]),
        bronze_threshold=_optional_float(row["bronze_threshold"]),
        median_threshold=_optional_float(row["median_threshold"]),
        mlebench_metric=row.get("mlebench_metric") or row["metric"],
    )


def load_registry(path: Path | str | None = None) -> dict[str, CompetitionInfo]:
    """Competition id -> info, from ``path`` or the shipped MLE-bench registry."""
    if path is None:
        return dict(_shipped_registry())
    return _read_registry(Path(path))


@lru_cache(maxsize=1)
def _shipped_registry() -> dict[str, CompetitionInfo]:
    return _read_registry(MLEBENCH_CSV)


def _read_registry(path: Path) -> dict[str, CompetitionInfo]:
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        return {info.id: info for info in map(_parse_row, rows)}
    except OSError as exc:
        raise InputError(f"cannot read the competition registry: {exc.strerror}", path) from exc
    except (KeyError, ValueError) as exc:
        raise InputError(f"not a competition registry CSV ({exc})", path) from exc


def get_competition(slug: str) -> CompetitionInfo | None:
    """The registry row for ``slug``, or None when MLE-bench does not have it."""
    return _shipped_registry().get(slug)


def suite(name: str) -> list[str]:
    """Competition ids of a benchmark suite: an MLE-bench split, or "practice"."""
    key = name.strip().lower()
    if key == "practice":
        return list(PRACTICE)
    if key not in SPLIT_SUITES:
        known = ", ".join(("practice",) + SPLIT_SUITES)
        raise InputError(f"unknown suite {name!r}; known suites: {known}", "suite")
    return [info.id for info in _shipped_registry().values() if key in info.splits]


# ---------------------------------------------------------------- leaderboards


def read_leaderboard(csv_path: Path | str) -> list[float]:
    """Scores of a leaderboard CSV (a ``score`` column), best team first.

    Rows are ordered by ``rank`` when the file has one (a stable sort, so tied ranks keep the
    file order); otherwise the file order is taken as the ranking, as MLE-bench does.
    """
    path = Path(csv_path)
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise InputError(f"cannot read the leaderboard: {exc.strerror}", path) from exc
    if not rows or "score" not in rows[0]:
        raise InputError("a leaderboard needs a `score` column and at least one row", path)
    try:
        if "rank" in rows[0]:
            rows.sort(key=lambda r: float(r["rank"]))
        scores = [float(r["score"]) for r in rows]
    except (TypeError, ValueError) as exc:
        raise InputError(f"leaderboard has a non-numeric score or rank ({exc})", path) from exc
    if not all(math.isfinite(s) for s in scores):
        raise InputError("leaderboard has a non-finite score", path)
    return scores


def medal_positions(n_teams: int) -> tuple[int, int, int]:
    """1-based leaderboard positions of the gold, silver and bronze cut-offs for N teams.

    Kaggle's progression rule as MLE-bench applies it: every position is at least 1.
    """
    if n_teams < 1:
        raise ValueError("a leaderboard needs at least one team")
    if n_teams < 100:
        gold, silver, bronze = int(0.1 * n_teams), int(0.2 * n_teams), int(0.4 * n_teams)
    elif n_teams < 250:
        gold, silver, bronze = 10, int(0.2 * n_teams), int(0.4 * n_teams)
    elif n_teams < 1000:
        gold, silver, bronze = 10 + int(0.002 * n_teams), 50, 100
    else:
        gold, silver, bronze = 10 + int(0.002 * n_teams), int(0.05 * n_teams), int(0.1 * n_teams)
    return max(1, gold), max(1, silver), max(1, bronze)


def medal_thresholds(scores: Sequence[float]) -> MedalThresholds:
    """Cut-offs of a leaderboard given best team first.

    Lower is better when the first score is below the last (MLE-bench's test); the median is
    the mean of the two middle scores for an even number of teams.
    """
    if not scores:
        raise ValueError("a leaderboard needs at least one team")
    gold, silver, bronze = (scores[p - 1] for p in medal_positions(len(scores)))
    return MedalThresholds(
        gold=float(gold),
        silver=float(silver),
        bronze=float(bronze),
        median=float(statistics.median(scores)),
        lower_is_better=bool(scores[0] < scores[-1]),
        leaderboard_rows=len(scores),
    )


def load_leaderboard_thresholds(csv_path: Path | str) -> MedalThresholds:
    """Medal thresholds from an MLE-bench / Kaggle ``leaderboard.csv``."""
    return medal_thresholds(read_leaderboard(csv_path))


# ---------------------------------------------------------------- per-competition specs


def load_spec_overrides(slug: str) -> dict:
    """The hand-written spec ``competitions/<slug>.yaml`` (metric, direction, id_column,
    target_column(s), task), or {} when there is none. These facts win over the registry and
    over anything inferred from the data."""
    path = HERE / f"{slug}.yaml"
    if "/" in slug or "\\" in slug or not path.is_file():
        return {}
    try:
        spec = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", path) from exc
    if not isinstance(spec, dict):
        raise InputError("a competition spec must be a mapping of keys to values", path)
    return spec
