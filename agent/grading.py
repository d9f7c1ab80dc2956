"""Grade a submission against a competition's private answers, the way MLE-bench does.

MLE-bench's rules: a submission that is missing, unreadable or malformed gets no score and no
medal (it is reported, not raised); a valid one is scored by the competition's metric and the
score is rounded to 5 decimals; medals come from the leaderboard cut-offs (see
``competitions.registry``).

Where each fact comes from:

- layout: ``<dir>/public`` + ``<dir>/private`` (practice) or ``<dir>/prepared/public`` +
  ``<dir>/prepared/private`` (MLE-bench). Answers: ``private/answers.csv``, else
  ``private/test.csv``, else the only CSV in ``private/``. Answer rows that are -1 in every scored
  column are not scored (the submission must still have them).
- metric and direction: ``competitions/<slug>.yaml``, else the MLE-bench registry, else the
  top-level ``metric:`` / ``direction:`` lines of a ``competition.yaml`` beside the data.
- medal cut-offs: a leaderboard CSV (given, or ``<dir>/leaderboard.csv``, or beside a ``prepared`` dir),
  else the registry.
- mask shapes (RLE strings): the answers' ``*height*`` / ``*width*`` columns, else the size of
  the public image named after each id. Groups (metrics scored per group of rows): the
  answers' column named ``group_column`` in the competition's spec.

``GradeReport.to_dict`` has MLE-bench's report keys (``competition_id``, ``score``, the four
``*_threshold``, the medal booleans, ``valid_submission``, ...), then a few of ours, so
MLE-bench's tooling and this project's read the same files.

Validity, as MLE-bench graders check it: the columns are the sample submission's (any order),
one row per answer id (ids compared as text, ``12.0`` == ``12``), no empty or NaN value
(except for string and mask metrics, where an empty span, answer or mask is an answer);
binary labels must be 0/1 (or True/False, any case, when the answers are True/False);
probabilities must be numbers in [0, 1]; values must be finite numbers, > 0 for ``rmse_log``
and >= 0 for the RMSLE metrics (Kaggle rejects negative ones).

``percentile`` is the share (0-100) of leaderboard rows the score strictly beats. With a
leaderboard file it is exact; with only the registry's cut-offs it is the share of rows below
the best cut-off the score reaches (gold, silver or bronze position, 50 for the median, else
0): a lower bound.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from agent.competition_files import SAMPLE_PATTERNS
from competitions.registry import (
    MedalThresholds,
    get_competition,
    load_spec_overrides,
    medal_positions,
    medal_thresholds,
    read_leaderboard,
)
from pipelines.errors import InputError
from pipelines.image_files import IMAGE_SUFFIXES, image_size
from pipelines.metrics import Metric, get_metric, metric_names
from pipelines.shapes.boxes import box_rows
from pipelines.submission import order_key, passthrough_columns, row_key
from pipelines.tables import read_table, table_stem, without_row_index

log = logging.getLogger(__name__)

Medal = Literal["gold", "silver", "bronze"]
SHOWN = 5  # offending values quoted per error
REGISTRY_SOURCE = "registry (MLE-Dojo's copies of the Kaggle private leaderboards)"
BOOL_LABELS = {"true": 1, "false": 0, "1": 1, "0": 0}
INT01_LABELS = {"1": 1, "0": 0}
# Predictions Kaggle refuses for these metrics: (test, what is required).
VALUE_RULES = {
    "rmse_log": (lambda v: v > 0, "> 0 (the metric takes logs)"),
    "rmsle": (lambda v: v >= 0, ">= 0 (Kaggle rejects negative predictions for RMSLE)"),
    "mcrmsle": (lambda v: v >= 0, ">= 0 (Kaggle rejects negative predictions for RMSLE)"),
}


@dataclass
class GradeReport:
    competition: str
    score: float | None
    metric: str
    direction: Literal["maximize", "minimize"]
    valid: bool
    errors: list[str] = field(default_factory=list)
    medal: Medal | None = None
    any_medal: bool = False
    above_median: bool = False
    thresholds: dict | None = None
    percentile: float | None = None
    submission_path: str = ""
    submission_exists: bool = False
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())

    def to_dict(self) -> dict:
        """MLE-bench's report keys, in its order, then the metric, percentile, cut-offs' source and errors."""
        cutoffs = self.thresholds or {}
        return {
            "competition_id": self.competition, "score": self.score,
            **{f"{k}_threshold": cutoffs.get(k) for k in ("gold", "silver", "bronze", "median")},
            "any_medal": self.any_medal, "gold_medal": self.medal == "gold", "silver_medal": self.medal == "silver",
            "bronze_medal": self.medal == "bronze", "above_median": self.above_median,
            "submission_exists": self.submission_exists, "valid_submission": self.valid,
            "is_lower_better": self.direction == "minimize", "created_at": self.created_at,
            "submission_path": self.submission_path,
            "metric": self.metric, "medal": self.medal, "percentile": self.percentile,
            "thresholds_source": cutoffs.get("source"), "errors": self.errors,
        }


class _Invalid(Exception):
    """The submission cannot be scored; ``reasons`` says every problem found."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class _Competition:
    slug: str
    metric: Metric
    direction: Literal["maximize", "minimize"]
    id_column: str
    columns: list[str]  # the sample submission's predicted columns, all required
    answer_ids: pd.Index  # canonical text, unique, in answers order
    answers: pd.DataFrame  # read as text; rows in the same order as answer_ids
    target_column: str | None  # from a spec: the answers' label column
    thresholds: MedalThresholds | None
    thresholds_source: str | None
    board: list[float] | None
    passthrough: list[str] = field(default_factory=list)  # sample columns that repeat the answers' inputs (not scored)
    by_order: bool = False  # no column names the rows once each: rows are matched by position
    public: Path | None = None  # the public files: test images give mask shapes
    group_column: str | None = None  # from a spec: the answers' column grouped metrics group by
    # the sample's rows beyond the answers' (h-and-m lists every customer, scores those who bought): not scored
    unscored: pd.DataFrame | None = None


# ---------------------------------------------------------------- text


NUMBER = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
PLAIN_INTEGER = r"0|[1-9]\d*"


def _canonical(values: pd.Series) -> pd.Series:
    """Stripped text, with integers written one way: '12.0', '012' and '12' all become '12'."""

    def one(s: str) -> str:
        f = float(s)
        if not (math.isfinite(f) and f.is_integer()):
            return s
        return str(int(s)) if re.fullmatch(r"[+-]?\d+", s) else str(int(f))  # int(s): no rounding

    text = values.astype(str).str.strip()
    rewrite = text.str.fullmatch(NUMBER) & ~text.str.fullmatch(PLAIN_INTEGER)
    if rewrite.any():  # rare: most ids and labels are plain integers or not numbers at all
        text = text.copy()
        text[rewrite] = text[rewrite].map(one)
    return text


def _quote(values) -> str:
    values = list(values)
    shown = ", ".join("<empty>" if str(v) == "" else repr(v) for v in values[:SHOWN])
    return shown + (f" (+{len(values) - SHOWN} more)" if len(values) > SHOWN else "")


def _binary_vocabulary(labels: pd.Series) -> dict[str, int] | None:
    """Accepted spellings of binary answers: True/False take 1/0 too; 0/1 take only 0/1."""
    seen = set(labels.str.lower().unique())
    if seen <= {"true", "false"}:
        return BOOL_LABELS
    if seen <= {"0", "1"}:
        return INT01_LABELS
    return None


# ---------------------------------------------------------------- the competition


def _top_level_scalars(path: Path) -> dict[str, str]:
    """Top-level ``key: value`` lines of a YAML file, read without a YAML parser, so a
    competition.yaml with anything else in it still gives its metric and direction."""
    scalars = {}
    for line in path.read_text().splitlines():
        if not line or line[0] in " \t#-" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        value = value.split(" #", 1)[0].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if value:
            scalars[key.strip()] = value
    return scalars


def _data_folders(competition_dir: Path) -> tuple[Path, Path]:
    for base in (competition_dir / "prepared", competition_dir):
        if (base / "public").is_dir() and (base / "private").is_dir():
            return base / "public", base / "private"
    raise InputError(
        "expected public/ and private/ folders, or prepared/public and prepared/private",
        competition_dir,
    )


def _answers_file(competition_dir: Path, private: Path, local: dict[str, str]) -> Path:
    if "answers" in local and (competition_dir / local["answers"]).is_file():
        return competition_dir / local["answers"]
    for name in ("answers.csv", "test.csv"):
        if (private / name).is_file():
            return private / name
    csvs = sorted(private.glob("*.csv"))
    if len(csvs) == 1:
        return csvs[0]
    found = ", ".join(p.name for p in csvs) or "no CSV file"
    raise InputError(f"cannot tell which file holds the answers ({found})", private)


def _sample_file(public: Path, private: Path) -> Path:
    """The sample submission: in public/, plain or archived (`en_sample_submission_2.csv.zip`,
    statoil's `sample_submission.csv.7z`), else the copy MLE-bench keeps in private/."""
    for folder in (public, private):
        if (folder / "sample_submission.csv").is_file():
            return folder / "sample_submission.csv"
        tables = [p for p in folder.iterdir() if p.name.lower().endswith((".csv", ".csv.zip", ".csv.7z"))]
        for pattern in SAMPLE_PATTERNS:  # as the run finds it: sample_submission first, randomPredictions last
            if hits := sorted(p for p in tables if re.fullmatch(pattern, table_stem(p), re.I)):
                return min(hits, key=lambda p: (p.suffix.lower() != ".csv", p.name))
    raise InputError("no sample_submission.csv, so the expected columns are unknown", public)


def _metric_and_direction(slug: str, local: dict[str, str], where: Path) -> tuple[Metric, str]:
    spec, info = load_spec_overrides(slug), get_competition(slug)
    if spec.get("metric"):
        name, direction = spec["metric"], spec.get("direction")
    elif info is not None:
        name, direction = info.metric, "minimize" if info.lower_is_better else "maximize"
    elif local.get("metric"):
        name, direction = local["metric"], local.get("direction")
    else:
        raise InputError(
            f"no metric known for {slug!r}: add competitions/{slug}.yaml with `metric:`", where
        )
    try:
        metric = get_metric(name)
    except KeyError:
        raise InputError(
            f"metric {name!r} cannot be graded here; gradable: {', '.join(metric_names())}", where
        ) from None
    direction = direction or ("maximize" if metric.greater_is_better else "minimize")
    if direction not in ("maximize", "minimize"):
        raise InputError(f"direction must be maximize or minimize, not {direction!r}", where)
    return metric, direction


def _medal_reference(
    competition_dir: Path, slug: str, leaderboard: Path | None
) -> tuple[MedalThresholds | None, str | None, list[float] | None]:
    beside = [competition_dir / "leaderboard.csv", competition_dir.parent / "leaderboard.csv"]
    board_file = leaderboard or next((p for p in beside[: 2 if competition_dir.name == "prepared" else 1]
                                      if p.is_file()), beside[0])
    if leaderboard is not None or board_file.is_file():
        board = read_leaderboard(board_file)
        return medal_thresholds(board), str(board_file), board
    info = get_competition(slug)
    if info is not None and info.thresholds is not None:
        return info.thresholds, REGISTRY_SOURCE, None
    return None, None, None


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".7z":  # pandas cannot open 7z
            table = read_table(path, dtype=str, keep_default_na=False)
        else:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read CSV ({exc})", path) from exc
    table.columns = [str(c).strip() for c in table.columns]
    return table


def _load_competition(competition_dir: Path, leaderboard: Path | None) -> _Competition:
    if not competition_dir.is_dir():
        raise InputError("no such folder", competition_dir)
    public, private = _data_folders(competition_dir)
    config = competition_dir / "competition.yaml"
    local = _top_level_scalars(config) if config.is_file() else {}
    folder = competition_dir.resolve()
    slug = local.get("id") or (folder.parent.name if folder.name == "prepared" else folder.name)
    metric, direction = _metric_and_direction(slug, local, competition_dir)
    spec = load_spec_overrides(slug)

    sample = without_row_index(_read_table(_sample_file(public, private)))  # as the run reads it
    answers_path = _answers_file(competition_dir, private, local)
    answers = _read_table(answers_path)
    if (boxed := box_rows(answers, sample[sample.columns[:1]], sample)) is not None:  # a row per true box
        answers = boxed.strings(answers)
    given_id = spec.get("id_column") or local.get("id_column")
    id_column = given_id if given_id in sample.columns else row_key(sample, answers)
    by_order = id_column is None  # MLE-bench matches such rows by their order
    if by_order:
        id_column = order_key(sample, answers)
    key = None if by_order else id_column
    passthrough = [c for c in passthrough_columns(sample, answers, key, table_is_answers=True) if c != id_column]
    if id_column not in answers.columns:
        raise InputError(f"answers have no id column {id_column!r}", answers_path)
    answer_ids = pd.Index(_canonical(answers[id_column]).to_numpy(dtype=object))
    if answer_ids.has_duplicates and not by_order:
        raise InputError(f"answers repeat ids: {_quote(answer_ids[answer_ids.duplicated()])}",
                         answers_path)
    thresholds, source, board = _medal_reference(competition_dir, slug, leaderboard)
    unscored = None
    if not by_order and id_column in sample.columns and len(sample) > len(answers):
        sample_ids = _canonical(sample[id_column].astype(str))
        if answer_ids.isin(sample_ids).all():
            unscored = sample[~sample_ids.isin(answer_ids).to_numpy()].astype(str)
    return _Competition(
        slug=slug,
        metric=metric,
        direction=direction,
        id_column=id_column,
        columns=[c for c in sample.columns if c != id_column and c not in passthrough],
        passthrough=passthrough,
        answer_ids=answer_ids,
        answers=answers,
        target_column=spec.get("target_column") or local.get("target_column"),
        thresholds=thresholds,
        thresholds_source=source,
        board=board,
        by_order=by_order,
        public=public,
        group_column=spec.get("group_column") or local.get("group_column"),
        unscored=unscored,
    )


# ---------------------------------------------------------------- the submission


def _read_submission(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise _Invalid([f"submission file not found: {path}"])
    if path.suffix.lower() != ".csv":
        raise _Invalid([f"submission must be a .csv file, not {path.name}"])
    try:
        submission = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise _Invalid(["submission file is empty"]) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Invalid([f"could not parse submission as CSV: {exc}"]) from None
    submission.columns = [str(c).strip() for c in submission.columns]
    return without_row_index(submission)  # MLE-bench's graders ignore such a column


def _aligned(submission: pd.DataFrame, comp: _Competition) -> pd.DataFrame:
    """The submission's rows in answers order, after every shape and id check."""
    expected = [comp.id_column, *comp.columns, *comp.passthrough]
    cols = list(submission.columns)
    errors = []
    if missing := [c for c in expected if c not in cols]:
        errors.append(f"missing column(s) {missing}; expected exactly {expected}")
    if extra := [c for c in cols if c not in expected]:
        errors.append(f"unexpected column(s) {extra}; expected exactly {expected}")
    if len(set(cols)) != len(cols):
        errors.append(f"duplicate column names: {cols}")
    # rows for ids the sample lists and the answers do not score may be there or not (MLE-bench's h-and-m)
    extra_ids = pd.Index([]) if comp.unscored is None else pd.Index(_canonical(comp.unscored[comp.id_column]))
    if not len(comp.answer_ids) <= len(submission) <= len(comp.answer_ids) + len(extra_ids):
        errors.append(
            f"submission has {len(submission)} data rows but the answers have "
            f"{len(comp.answer_ids)}; one row per test id is required"
        )
    if missing or len(set(cols)) != len(cols):
        raise _Invalid(errors)

    if comp.by_order:
        return _in_order(submission, comp, errors)
    ids = pd.Series(_canonical(submission[comp.id_column]).to_numpy(dtype=object))
    if len(duplicated := ids[ids.duplicated()].unique()):
        errors.append(f"{len(duplicated)} duplicated id(s) in `{comp.id_column}`: {_quote(duplicated)}")
    position = comp.answer_ids.get_indexer(ids)  # row of each id in the answers, -1 if none
    if len(unknown := ids[(position < 0) & ~ids.isin(extra_ids)].unique()):
        errors.append(f"{len(unknown)} id(s) not in the test set: {_quote(unknown)}")
    answered = np.zeros(len(comp.answer_ids), dtype=bool)
    answered[position[position >= 0]] = True
    if len(absent := comp.answer_ids[~answered]):
        errors.append(f"{len(absent)} test id(s) missing from the submission: {_quote(absent)}")
    if errors := errors + _empty_answers(submission, comp):
        raise _Invalid(errors)
    scored = position >= 0
    return submission[scored].iloc[np.argsort(position[scored])]


def _in_order(submission: pd.DataFrame, comp: _Competition, errors: list[str]) -> pd.DataFrame:
    """A submission whose rows are matched by position: its naming column must repeat the answers' in order."""
    if len(submission) == len(comp.answer_ids):
        moved = _canonical(submission[comp.id_column]).to_numpy(dtype=object) != comp.answer_ids.to_numpy()
        if moved.any():
            errors.append(f"rows are matched by their order, and `{comp.id_column}` differs from the test's "
                          f"in {int(moved.sum())} row(s): {_quote(submission[comp.id_column][moved])}")
    if errors := errors + _empty_answers(submission, comp):
        raise _Invalid(errors)
    return submission.reset_index(drop=True)


def _empty_answers(submission: pd.DataFrame, comp: _Competition) -> list[str]:
    errors = []
    # An empty span, mask or answer is an answer; an empty number or label is not.
    for column in comp.columns if comp.metric.needs not in ("text", "mask") else ():
        empty = submission[column].str.strip().str.lower().isin(["", "nan"])
        if empty.any():
            errors.append(f"column `{column}` has {int(empty.sum())} empty or NaN value(s)")
    return errors


def _numbers(frame: pd.DataFrame, columns: list[str], errors: list[str]) -> np.ndarray:
    out = np.empty((len(frame), len(columns)))
    for j, column in enumerate(columns):
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            errors.append(f"column `{column}` has {int(bad.sum())} non-numeric or infinite "
                          f"value(s): {_quote(frame[column][bad])}")
        out[:, j] = values
    return out


def _answer_numbers(comp: _Competition, columns: list[str]) -> np.ndarray:
    errors: list[str] = []
    values = _numbers(comp.answers, columns, errors)
    if errors:
        raise InputError("answers: " + "; ".join(errors), comp.slug)
    return values


def _squeeze(values: np.ndarray) -> np.ndarray:
    return values[:, 0] if values.shape[1] == 1 else values


def _label_inputs(sub: pd.DataFrame, comp: _Competition) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in comp.columns if c not in comp.answers.columns]
    if missing:
        raise InputError(f"answers have no column(s) {missing}", comp.slug)
    if len(comp.columns) > 1:  # multilabel indicator columns
        errors: list[str] = []
        y_pred = _numbers(sub, comp.columns, errors)
        if errors:
            raise _Invalid(errors)
        return _answer_numbers(comp, comp.columns), y_pred
    column = comp.columns[0]
    truth, pred = _canonical(comp.answers[column]), _canonical(sub[column])
    vocabulary = _binary_vocabulary(truth)
    if vocabulary is not None:
        codes = pred.str.lower().map(vocabulary)
        if codes.isna().any():
            raise _Invalid([f"column `{column}` has {int(codes.isna().sum())} value(s) that are "
                            f"not valid labels (allowed: {sorted(vocabulary)}): "
                            f"{_quote(pred[codes.isna()])}"])
        return truth.str.lower().map(vocabulary).to_numpy(dtype=int), codes.to_numpy(dtype=int)
    truth_numbers = pd.to_numeric(truth, errors="coerce")
    pred_numbers = pd.to_numeric(pred, errors="coerce")
    if truth_numbers.notna().all() and pred_numbers.notna().all():
        return truth_numbers.to_numpy(dtype=float), pred_numbers.to_numpy(dtype=float)
    return truth.to_numpy(dtype=object), pred.to_numpy(dtype=object)


def _class_codes(comp: _Competition) -> np.ndarray:
    """The answers' label column as positions among the submission's class columns."""
    candidates = [c for c in comp.answers.columns if c not in (comp.id_column, *comp.columns)]
    target = comp.target_column if comp.target_column in comp.answers.columns else None
    if target is None and len(candidates) == 1:
        target = candidates[0]
    if target is None:
        raise InputError(
            f"answers have neither the class columns {comp.columns} nor a single label column; "
            f"name it as `target_column` in competitions/{comp.slug}.yaml", comp.slug)
    positions = {name: i for i, name in enumerate(_canonical(pd.Series(comp.columns)))}
    codes = _canonical(comp.answers[target]).map(positions)
    if codes.isna().any():
        unknown = comp.answers[target][codes.isna()].unique()
        raise InputError(f"answer labels that are not submission columns: {_quote(unknown)}",
                         comp.slug)
    return codes.to_numpy(dtype=int)


def _proba_inputs(sub: pd.DataFrame, comp: _Competition) -> tuple[np.ndarray, np.ndarray]:
    errors: list[str] = []
    y_pred = _numbers(sub, comp.columns, errors)
    outside = (y_pred < 0) | (y_pred > 1)
    if outside.any():
        errors.append(f"{int(outside.sum())} probabilit(ies) outside [0, 1]")
    if errors:
        raise _Invalid(errors)
    if len(comp.columns) == 1:
        column = comp.columns[0]
        if column not in comp.answers.columns:
            raise InputError(f"answers have no column {column!r}", comp.slug)
        truth = _canonical(comp.answers[column])
        vocabulary = _binary_vocabulary(truth)
        if vocabulary is None:
            raise InputError(f"{comp.metric.name} needs 0/1 or True/False answers in {column!r}",
                             comp.slug)
        return truth.str.lower().map(vocabulary).to_numpy(dtype=int), y_pred[:, 0]
    if all(c in comp.answers.columns for c in comp.columns):
        return _answer_numbers(comp, comp.columns), y_pred
    return _class_codes(comp), y_pred


def _value_inputs(sub: pd.DataFrame, comp: _Competition) -> tuple[np.ndarray, np.ndarray]:
    scored = [c for c in comp.columns if c in comp.answers.columns]
    if not scored:
        raise InputError(f"answers have none of the submission columns {comp.columns}", comp.slug)
    errors: list[str] = []
    # a metric of values and their spread reads the submission's one column the answers lack beside them
    spread = [c for c in comp.columns if c not in comp.answers.columns] if comp.metric.spread else []
    y_pred = _numbers(sub, scored + spread, errors)
    if not errors and comp.metric.name in VALUE_RULES:
        allowed, requirement = VALUE_RULES[comp.metric.name]
        refused = ~allowed(y_pred)
        if refused.any():
            errors.append(f"predictions must be {requirement}; {int(refused.sum())} are not: "
                          f"{_quote(y_pred[refused])}")
    if errors:
        raise _Invalid(errors)
    return _squeeze(_answer_numbers(comp, scored)), _squeeze(y_pred)


def _scored_rows(comp: _Competition) -> np.ndarray:
    """Answer rows that count: a row whose every answered column is -1 is a test row Kaggle does not score
    (test_labels.csv marks them so); the submission must still hold it."""
    answered = [c for c in comp.columns if c in comp.answers.columns]
    if not answered:
        return np.ones(len(comp.answers), dtype=bool)
    return ~(comp.answers[answered].apply(lambda column: column.str.strip()) == "-1").all(axis=1).to_numpy()


def _scored_column(comp: _Competition) -> tuple[str, str]:
    """The answers' column a string or mask metric compares with the submission's one column: the column of
    its name, else (hubmap's `encoding` for the sample's `predicted`) their one column besides ids and sizes."""
    def sized(column: str) -> bool:  # a mask's height and width beside it (contrails' sample has them too)
        return re.search(r"height|width", column, re.IGNORECASE) is not None

    asked = [c for c in comp.columns if not sized(c)]
    scored = [c for c in asked if c in comp.answers.columns]
    others = [c for c in comp.answers.columns if c not in (comp.id_column, comp.group_column, *comp.passthrough)
              and not sized(c)]
    if not scored and len(asked) == 1 and len(others) == 1:
        return others[0], asked[0]
    if len(scored) != 1:
        raise InputError(f"{comp.metric.name} compares one column; the submission columns the "
                         f"answers also have are {scored}", comp.slug)
    return scored[0], scored[0]


def _column_inputs(sub: pd.DataFrame, comp: _Competition) -> tuple[list[str], list[str]]:
    """Strings and RLE masks are compared as the text they are written in."""
    truth, column = _scored_column(comp)
    return comp.answers[truth].tolist(), sub[column].tolist()


def _mask_shapes(comp: _Competition) -> list[tuple[int, int]] | None:
    """Each answer mask's (height, width): the answers' height and width columns, else the size
    of the public image named after the row's id, else unknown (None)."""
    lower = {c.lower(): c for c in comp.answers.columns}
    height = next((lower[c] for c in lower if "height" in c), None)
    width = next((lower[c] for c in lower if "width" in c), None)
    if height and width:
        try:
            heights, widths = (comp.answers[c].astype(float).astype(int) for c in (height, width))  # also "40.0"
            return list(zip(heights, widths))
        except ValueError as exc:
            raise InputError(f"answers' {height}/{width} are not integers ({exc})",
                             comp.slug) from exc
    if comp.public is None:
        return None
    images = {p.stem: p for p in comp.public.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES}
    ids = comp.answers[comp.id_column].astype(str).str.strip()  # as written: "0123" names a file
    if not ids.isin(list(images)).all():
        return None
    return [image_size(images[item]) for item in ids]


def _groups(comp: _Competition) -> np.ndarray | None:
    if not comp.metric.grouped:
        return None
    if comp.group_column is None and comp.by_order:  # an item's rows (one per class) are its group
        return comp.answers[comp.id_column].to_numpy(dtype=object)
    if comp.group_column not in comp.answers.columns:
        raise InputError(f"{comp.metric.name} scores within groups: name the answers' column as "
                         f"`group_column` in competitions/{comp.slug}.yaml", comp.slug)
    return comp.answers[comp.group_column].to_numpy(dtype=object)


def _score(submission_path: Path, comp: _Competition) -> float:
    sub = _aligned(_read_submission(submission_path), comp)
    scored = _scored_rows(comp)
    if not scored.all():
        sub, comp = sub[scored], replace(comp, answers=comp.answers[scored], answer_ids=comp.answer_ids[scored])
    inputs = {"label": _label_inputs, "proba": _proba_inputs, "value": _value_inputs,
              "text": _column_inputs, "mask": _column_inputs}
    y_true, y_pred = inputs[comp.metric.needs](sub, comp)
    shapes = _mask_shapes(comp) if comp.metric.needs == "mask" else None
    try:
        score = comp.metric(y_true, y_pred, groups=_groups(comp), shapes=shapes)
    except ValueError as exc:  # MLE-bench: a grader that raises means no score
        raise _Invalid([f"{comp.metric.name} could not be computed: {exc}"]) from None
    if not math.isfinite(score):
        raise _Invalid([f"{comp.metric.name} is not finite ({score})"])
    return round(score, 5)


# ---------------------------------------------------------------- medals


def _at_least(score: float, cutoff: float, lower_is_better: bool) -> bool:
    return score <= cutoff if lower_is_better else score >= cutoff


def _beats(score: float, other: float, lower_is_better: bool) -> bool:
    return score < other if lower_is_better else score > other


def _medal(score: float, t: MedalThresholds) -> Medal | None:
    for medal, cutoff in (("gold", t.gold), ("silver", t.silver), ("bronze", t.bronze)):
        if _at_least(score, cutoff, t.lower_is_better):
            return medal
    return None


def _percentile(score: float, t: MedalThresholds, board: list[float] | None) -> float | None:
    if board is not None:
        beaten = sum(_beats(score, other, t.lower_is_better) for other in board)
        return round(100 * beaten / len(board), 2)
    n = t.leaderboard_rows
    if n is None:
        return None
    for cutoff, position in zip((t.gold, t.silver, t.bronze), medal_positions(n)):
        if _at_least(score, cutoff, t.lower_is_better):
            return round(100 * (n - position) / n, 2)
    return 50.0 if _beats(score, t.median, t.lower_is_better) else 0.0


# ---------------------------------------------------------------- entry point


def grade_submission(
    competition_dir: Path, submission: Path, leaderboard: Path | None = None
) -> GradeReport:
    """Score ``submission`` and place it against the medal cut-offs.

    An invalid submission is a report with ``valid=False`` and its reasons; only a competition
    that cannot be graded at all (no answers, unknown metric, unreadable files) raises
    ``InputError``.
    """
    comp = _load_competition(Path(competition_dir), Path(leaderboard) if leaderboard else None)
    report = GradeReport(competition=comp.slug, score=None, metric=comp.metric.name,
                         direction=comp.direction, valid=False, submission_path=str(submission),
                         submission_exists=Path(submission).is_file())
    if comp.thresholds is not None:
        report.thresholds = {**asdict(comp.thresholds), "source": comp.thresholds_source}
    try:
        report.score = _score(Path(submission), comp)
    except _Invalid as exc:
        report.errors = exc.reasons
        log.info("invalid submission for %s: %s", comp.slug, exc)
        return report
    report.valid = True
    if comp.thresholds is not None:
        report.medal = _medal(report.score, comp.thresholds)
        report.any_medal = report.medal is not None
        report.above_median = _beats(report.score, comp.thresholds.median,
                                     comp.thresholds.lower_is_better)
        report.percentile = _percentile(report.score, comp.thresholds, comp.board)
    return report


def perfect_submission(competition_dir: Path) -> pd.DataFrame:
    """The submission that copies the private answers, in the sample submission's columns.

    It is the check that grading itself is right: it must be valid, and it must win gold
    wherever the competition has medal cut-offs. Class-probability columns are filled one-hot
    from a label column when the answers hold labels rather than probabilities.
    """
    comp = _load_competition(Path(competition_dir), None)
    submission = pd.DataFrame({comp.id_column: comp.answers[comp.id_column]})
    submission = submission.assign(**{c: comp.answers[c] for c in comp.passthrough})
    missing = [c for c in comp.columns if c not in comp.answers.columns]
    if missing and len(missing) < len(comp.columns):
        raise InputError(f"answers lack the submission column(s) {missing}", comp.slug)
    if not missing:
        submission = submission.assign(**{c: comp.answers[c] for c in comp.columns})
        return submission if comp.unscored is None else pd.concat([submission, comp.unscored[submission.columns]])
    codes = _class_codes(comp)
    for i, column in enumerate(comp.columns):
        submission[column] = (codes == i).astype(int)
    return submission
