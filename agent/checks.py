"""Checks that refuse, in one line, a run that could not succeed: flags that name nothing, data too
wide for the budget or too small to validate, and overrides that contradict the sample submission.

Each raises InputError naming the flag or the file; none of them guesses a fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.errors import InputError
from pipelines.metrics import get_metric
from pipelines.spec import CompetitionSpec
from pipelines.tables import table_width

COLUMNS_PER_BUDGET_SECOND = 500
MIN_COLUMNS_ALLOWED = 5_000
TASKS = ("binary", "multiclass", "multilabel", "regression")


def check_flags(flags: dict[str, Any]) -> None:
    """The spec flags name things that exist: a known metric, a direction, a task."""
    if flags.get("metric") is not None:
        try:
            get_metric(flags["metric"])
        except KeyError as exc:
            raise InputError(str(exc.args[0]), "--metric") from None
    if flags.get("direction") not in (None, "maximize", "minimize"):
        raise InputError(f"must be maximize or minimize, not {flags['direction']!r}", "--direction")
    if flags.get("task") not in (None, *TASKS):
        raise InputError(f"must be {', '.join(TASKS[:-1])} or {TASKS[-1]}, not {flags['task']!r}", "--task")


def check_width(path: Path, time_budget: float) -> None:
    """Refuse at once a table too wide to read, profile and fit in the budget (read from its header
    only: reading a million-column table with pandas takes minutes before anything can be decided)."""
    width = table_width(path)
    allowed = max(MIN_COLUMNS_ALLOWED, int(COLUMNS_PER_BUDGET_SECOND * time_budget))
    if width is not None and width > allowed:
        raise InputError(f"{width:,} columns is more than a {time_budget:g}s budget can handle (at most {allowed:,}: "
                         f"{COLUMNS_PER_BUDGET_SECOND} per second of --time-budget)", path)


def check_trainable(train: pd.DataFrame, spec: CompetitionSpec, folds: int | None) -> None:
    """Enough rows for the folds, finite numbers to regress on, two classes to tell apart."""
    path = spec.train_file
    wanted = folds or 2
    if len(train) < 2 * wanted:
        asked = f"--folds {folds}" if folds else "cross-validation"
        raise InputError(f"{len(train)} training row(s) with a target; {asked} needs at least {2 * wanted}", path)
    if spec.task == "regression":
        for column in spec.target_columns:
            values = pd.to_numeric(train[column], errors="coerce")
            if values.isna().any():
                example = train.loc[values.isna(), column].iloc[0]
                raise InputError(f"target column {column!r} is a regression target but holds {example!r}", path)
            infinite = ~np.isfinite(values.to_numpy(dtype=float))
            if infinite.any():
                raise InputError(f"target column {column!r} has {int(infinite.sum())} infinite value(s) (first in "
                                 f"row {int(np.argmax(infinite)) + 1}); fix or drop those rows", path)
    elif spec.task in ("binary", "multiclass") and len(spec.classes) < 2:
        raise InputError(f"target {spec.target_columns} has a single class {spec.classes}; there is nothing to learn",
                         path)


def check_format(spec: CompetitionSpec, sample: pd.DataFrame) -> None:
    """A --metric or --task that makes the submission something the sample is not (numbers or
    probabilities where it holds labels) is refused: the grader would reject every row."""
    forced = [f"--{key}" for key in ("metric", "task") if spec.sources.get(key) == "flag"]
    if not forced:
        return
    for column in spec.submission_columns:
        values = sample[column].dropna()
        numeric = pd.to_numeric(values, errors="coerce").notna().all()
        if spec.submission_kind in ("value", "proba") and not numeric and len(values):
            what = "numbers" if spec.submission_kind == "value" else "probabilities"
            raise InputError(f"{' and '.join(forced)} ({spec.metric}, {spec.task}) would submit {what}, but the sample "
                             f"submission's column {column!r} holds labels such as {values.iloc[0]!r}",
                             spec.sample_submission_file)
