"""What each column of the train table is to a model: an input of some kind, a group, a time, or nothing.

These are facts about the data, decided once per run and kept in the spec, so every fold and
candidate sees the same ones.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.files import FileCatalog
from pipelines.tables import parse_datetimes
from pipelines.targets import label_keys

log = logging.getLogger(__name__)

FILE_SUFFIX = re.compile(r"\.(?:jpe?g|png|gif|bmp|tiff?|webp|wav|mp3|flac|ogg|npy|npz|dcm|txt|json)$", re.I)
TEST_FILES_FOUND = 0.5  # a column names files only if test rows name existing ones too


def column_kind(values: pd.Series) -> str:
    """numeric, categorical, text, datetime or file: how a solution should treat a column."""
    if pd.api.types.is_bool_dtype(values):
        return "categorical"
    if pd.api.types.is_numeric_dtype(values):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    present = values.dropna().astype(str)
    if present.empty:
        return "categorical"
    sample = present.sample(min(len(present), 1000), random_state=0)
    if sample.str.contains(FILE_SUFFIX).mean() > 0.9:
        return "file"
    if pd.to_numeric(sample, errors="coerce").notna().mean() > 0.98:
        return "numeric"
    if sample.str.contains(r"\d[-/:]\d|\d{4}-\d\d", regex=True).mean() > 0.9:
        parsed = parse_datetimes(sample)
        if parsed.notna().mean() > 0.95:
            return "datetime"
    words = sample.str.split().str.len().mean()
    unique_share = present.nunique() / len(present)
    if words >= 6 or (sample.str.len().mean() >= 50 and unique_share > 0.5):
        return "text"
    return "categorical"


@dataclass
class ColumnKinds:
    """The input columns by kind; `image` is the subset of `file` whose files are images."""

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    datetime: list[str] = field(default_factory=list)
    file: list[str] = field(default_factory=list)
    image: list[str] = field(default_factory=list)


def input_columns(train: pd.DataFrame, test: pd.DataFrame, targets: list[str], id_column: str,
                  id_is_content: bool, test_path: Path) -> list[str]:
    """The train columns a model may read: all but the targets, the id (unless it is the row's content),
    and identifiers of train rows that test lacks (quora's `qid1` beside `test_id`)."""
    columns = [c for c in train.columns if c not in targets and (c != id_column or id_is_content)
               and not (c not in test.columns and _is_identifier(train[c]))]
    absent = [c for c in columns if c not in test.columns]
    if absent and len(absent) < len(columns):  # none left: build_spec says so, unless the ids name files
        log.warning("%s: columns %s are only in train; they cannot be used as inputs", test_path, absent)
    return [c for c in columns if c not in absent]


def auxiliary_columns(train: pd.DataFrame, test: pd.DataFrame, targets: list[str], limit: int = 8) -> list[str]:
    """The numeric train-only columns that are not targets nor row numbers: labels test does not give
    (bike rentals' `casual` and `registered` beside their sum), which a model can learn to predict."""
    out = []
    for column in train.columns:
        values = train[column]
        if column in targets or column in test.columns:
            continue
        if pd.api.types.is_bool_dtype(values):
            values = values.astype(float)
        if column_kind(values) != "numeric":
            continue
        numbers = pd.to_numeric(values, errors="coerce").dropna()
        row_numbers = (numbers == np.round(numbers)).all() and numbers.nunique() == len(values)
        if numbers.nunique() >= 2 and not row_numbers and not _named_like_id(column):
            out.append(column)
    return out[:limit]


def column_kinds(train: pd.DataFrame, test: pd.DataFrame, inputs: list[str], id_column: str,
                 catalog: FileCatalog) -> ColumnKinds:
    kinds = ColumnKinds()
    for column in inputs:
        getattr(kinds, column_kind(train[column])).append(column)
    if id_column in train.columns and id_column in test.columns and column_kind(train[id_column]) == "datetime":
        kinds.datetime.append(id_column)  # a timestamp that names the row is also an input (bike-sharing-demand)
    kinds.file = _file_columns(train, test, id_column, kinds, catalog)
    kinds.image = [c for c in kinds.file if catalog.image_share(train[c]) > 0.5]
    return kinds


def modality(kinds: ColumnKinds) -> str:
    """text, image, tabular or mixed: which family of recipes the inputs call for."""
    has_text, has_files = bool(kinds.text), bool(kinds.file)
    has_tabular = bool(kinds.numeric or kinds.categorical or kinds.datetime)
    if has_text and not has_files and len(kinds.numeric) + len(kinds.categorical) <= 3:
        return "text"
    if has_text + has_files + has_tabular > 1:
        return "mixed"
    return "text" if has_text else "image" if has_files else "tabular"


def forecast_time_column(train: pd.DataFrame, test: pd.DataFrame, datetime_columns: list[str]) -> str | None:
    """The date column, when the test rows all come after the train rows: a forecast, which only
    time-ordered folds (train on the past, validate on what follows) validate honestly."""
    for column in datetime_columns:
        if column not in test.columns:
            continue
        past, future = parse_datetimes(train[column]), parse_datetimes(test[column])
        if past.nunique() >= 10 and future.notna().any() and future.min() >= past.max():
            return column
    return None


def unseen_group_column(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> str | None:
    """A column of whole numbers or strings whose values each cover several train rows, none of them
    in test: the rows come in groups (a breath, a patient, a session) and test holds new groups. Folds
    that split a group validate on groups the model has seen; only group folds validate as test is scored."""
    for column in columns:
        values = train[column].dropna()
        if pd.api.types.is_float_dtype(values) and not (values == np.round(values)).all():
            continue
        groups = values.nunique()
        if not 20 <= groups <= len(values) / 2 or test[column].nunique() < 10:  # too few to tell by chance
            continue
        if not _distinct_keys(test[column].dropna()).isin(set(_distinct_keys(values))).any():
            return column
    return None


def _distinct_keys(values: pd.Series) -> pd.Series:
    return label_keys(pd.Series(values.unique()))


def row_groups(train: pd.DataFrame, test: pd.DataFrame, answers: set[str]) -> str | None:
    """The column that names the group of each row where test holds new groups (a breath, a patient):
    a sample of train keeps such groups whole, or the group blocks would see cut sequences."""
    shared = [c for c in train.columns if c in test.columns and c not in answers]
    return unseen_group_column(train, test, shared)


def _is_identifier(values: pd.Series) -> bool:
    """A column named like an id (`id`, `row_id`, `qid1`), or whose values nearly all differ."""
    return _named_like_id(values.name) or values.nunique() >= 0.95 * len(values)


def _named_like_id(name: object) -> bool:
    return re.search(r"(^|_)q?id\d*$", str(name).lower()) is not None


def _file_columns(train: pd.DataFrame, test: pd.DataFrame, id_column: str, kinds: ColumnKinds,
                  catalog: FileCatalog) -> list[str]:
    """Columns with file suffixes, plus the id column, categorical columns and whole numbers unique to each
    row (rsna-breast's `image_id`) whose values name files without one (`abc` for `train/abc.jpg`), in
    train and in test; those are taken out of the categorical and numeric columns. (champs-scalar-coupling's
    `molecule_name` names a structure file for train molecules only: no model could read one for a test
    row, so it stays a category.)

    The id column stays the id (the submission's key) and becomes an input too: in many image
    competitions the id is the image's name and the only input.
    """
    numbered = [c for c in kinds.numeric if _whole_numbers(train[c]) and train[c].nunique() >= 0.95 * len(train)]
    named = [c for c in [id_column, *kinds.categorical, *numbered] if c in train.columns
             and catalog.share_found(train[c]) >= 0.9
             and (c not in test.columns or catalog.share_found(test[c]) >= TEST_FILES_FOUND)]
    kinds.categorical = [c for c in kinds.categorical if c not in named]
    kinds.numeric = [c for c in kinds.numeric if c not in named]
    # herbarium's image ids are the names of the files its file_name column gives: one input, not two
    named = [c for c in named if not any(_same_files(train[c], train[f], catalog) for f in kinds.file)]
    return list(dict.fromkeys([*named, *kinds.file]))


def _whole_numbers(values: pd.Series) -> bool:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return len(numbers) > 0 and bool((numbers == np.round(numbers)).all())


def _same_files(a: pd.Series, b: pd.Series, catalog: FileCatalog, sample: int = 50) -> bool:
    rows = a.index[:sample]
    return all(catalog.find(a[i], "train") == catalog.find(b[i], "train") for i in rows)
