"""Inputs that hold many numbers per row: a radar image's pixels as a JSON list (statoil-iceberg's
band_1), a signal, a histogram. Read as text they would be hashed as words; their summary statistics
(level, spread, extremes, quantiles, where the peak is, and for a square grid how its centre stands
out from its border) are what tree and linear models can use."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

MIN_NUMBERS = 8  # fewer numbers per row are a short code or a pair, not a signal
CHECK_ROWS = 20
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def numbers(value: object) -> np.ndarray | None:
    """A cell's numbers, as JSON gives a list or `tables.flatten_nested` joins one (by spaces); None if not."""
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
    elif isinstance(value, str):
        items = value.split()
    else:
        return None
    try:
        return np.asarray(items, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def is_number_list(values: pd.Series, min_numbers: int = MIN_NUMBERS) -> bool:
    """Every checked row holds at least `min_numbers` numbers (as a list, or joined by spaces)."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    head = values.dropna().head(CHECK_ROWS)
    parsed = [numbers(v) for v in head]
    return len(head) > 0 and all(p is not None and p.size >= min_numbers for p in parsed)


def _summary(values: np.ndarray) -> list[float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [np.nan] * (7 + len(QUANTILES))
    side = int(round(np.sqrt(values.size)))
    centre = np.nan
    if side * side == values.size and side >= 4:  # a square grid: an image whose object sits mid-frame
        grid = values.reshape(side, side)
        quarter = side // 4
        centre = float(np.nanmean(grid[quarter:side - quarter, quarter:side - quarter]) - np.nanmean(grid))
    peak = int(np.nanargmax(values))
    return [float(finite.mean()), float(finite.std()), float(finite.min()), float(finite.max()),
            *np.quantile(finite, QUANTILES).tolist(), peak / max(1, values.size - 1),
            float(values.size), centre]


def summarise(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """A column of number lists as its per-row statistics, one column each (`<column>_mean`, ...)."""
    names = ["mean", "std", "min", "max", *(f"q{int(q * 100):02d}" for q in QUANTILES), "peak_at", "length",
             "centre_minus_all"]
    rows = [_summary(n) if (n := numbers(v)) is not None and n.size else [np.nan] * len(names)
            for v in frame[column]]
    return pd.DataFrame(rows, columns=[f"{column}_{n}" for n in names], index=frame.index)


def expand_number_lists(train: pd.DataFrame, test: pd.DataFrame, keep: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test with each number-list input (a column of both, not in `keep`) replaced by its
    statistics."""
    columns = [c for c in train.columns if c in test.columns and c not in keep and is_number_list(train[c])]
    for column in columns:
        log.info("column %r holds lists of numbers: read as their statistics", column)
        train = pd.concat([train.drop(columns=column), summarise(train, column)], axis=1)
        test = pd.concat([test.drop(columns=column), summarise(test, column)], axis=1)
    return train, test
