"""Check a submission against sample_submission before anyone writes or uploads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.shapes import label_lists, masks
from pipelines.spec import CompetitionSpec
from pipelines.targets import label_key, label_keys


def _id_keys(values: pd.Series) -> pd.Series:
    return label_keys(values)


def row_key(sample: pd.DataFrame, table: pd.DataFrame) -> str | None:
    """The column that names a submission's rows: the first sample column that `table` (the test table,
    or the graded answers) holds once per row. That is nearly always the first; detecting-insults'
    sample (Insult, Date, Comment) is named by its Comment. None when no column names the rows once
    each but some repeat `table`'s values in its own order: the rows are then matched by their order,
    as Kaggle and MLE-bench match them. Else the sample's first column (which then fails as an id)."""
    for column in sample.columns:
        if column in table.columns and table[column].notna().all() and not _id_keys(table[column]).duplicated().any():
            return column
    return None if ordered_columns(sample, table) else sample.columns[0]


def ordered_columns(sample: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """Sample columns that repeat `table`'s values row for row, in `table`'s order."""
    if len(sample) != len(table):
        return []
    return [c for c in sample.columns if c in table.columns
            and (_id_keys(sample[c]).to_numpy() == _id_keys(table[c]).to_numpy()).all()]


def order_key(sample: pd.DataFrame, table: pd.DataFrame) -> str:
    """Of the columns that repeat `table` in its order, the one with most distinct values: what names
    the rows in messages when they are matched by order."""
    return max(ordered_columns(sample, table), key=lambda c: sample[c].nunique())


def passthrough_columns(sample: pd.DataFrame, table: pd.DataFrame, key: str | None, *,
                        table_is_answers: bool = False) -> list[str]:
    """Sample columns that repeat `table`'s values row for row (detecting-insults' Date, a question's
    Title and Body beside its Tags): the submission carries them over, nobody predicts them. A sample
    named by its first column carries only columns whose values vary: a test table that repeats the
    sample's placeholder target (one value throughout) must not lose it; and none when `table` holds
    the answers, where a column the sample repeats is a target."""
    if key is None:
        return ordered_columns(sample, table)
    if key not in table.columns or (table_is_answers and key == sample.columns[0]):
        return []
    keys = pd.Index(_id_keys(table[key]).to_numpy())
    rows = keys.get_indexer(_id_keys(sample[key]).to_numpy()) if keys.is_unique else np.array([-1])
    if (rows < 0).any():
        return []
    own_id = key == sample.columns[0]
    return [c for c in sample.columns if c != key and c in table.columns
            and (_id_keys(sample[c]).to_numpy() == _id_keys(table[c]).to_numpy()[rows]).all()
            and not (own_id and sample[c].nunique(dropna=False) <= 1)]


def submission_problems(submission: pd.DataFrame, sample: pd.DataFrame, spec: CompetitionSpec) -> list[str]:
    """Every reason this submission would be rejected; empty when it is valid."""
    problems = []
    if list(submission.columns) != list(sample.columns):
        problems.append(f"columns {list(submission.columns)} differ from sample_submission's {list(sample.columns)}")
        return problems
    if len(submission) != len(sample):
        problems.append(f"{len(submission)} rows, sample_submission has {len(sample)}")
    if spec.row_order_key:
        if len(submission) == len(sample) and (_id_keys(submission[spec.id_column]).to_numpy()
                                               != _id_keys(sample[spec.id_column]).to_numpy()).any():
            problems.append(f"rows are matched by order, and column {spec.id_column!r} is not in sample_submission's")
    else:
        problems += _id_problems(submission, sample, spec.id_column)
    if spec.answer_shape == "mask":
        return problems + masks.submission_problems(submission, spec)
    for col in spec.submission_columns:
        values = submission[col]
        if values.isna().any():
            problems.append(f"column {col!r} has {int(values.isna().sum())} empty values")
            continue
        if spec.submission_kind in ("proba", "value") or spec.task == "regression":
            numeric = pd.to_numeric(values, errors="coerce")
            if numeric.isna().any() or not np.isfinite(numeric.to_numpy(dtype=float)).all():
                problems.append(f"column {col!r} has non-numeric or infinite values")
            elif spec.submission_kind == "proba" and ((numeric < 0) | (numeric > 1)).any():
                problems.append(f"column {col!r} has probabilities outside [0, 1]")
        elif spec.answer_shape == "labels":
            allowed = {label_key(c) for c in spec.classes}
            bad = {label_key(t) for v in values for t in label_lists.tokens(str(v))} - allowed
            if bad or (values.astype(str).str.strip() == "").any():
                problems.append(f"column {col!r} has empty answers or labels outside the {len(allowed)} known: "
                                f"{sorted(bad)[:5]}")
        elif spec.task in ("binary", "multiclass"):
            allowed = {label_key(c) for c in spec.classes}
            bad = set(label_keys(values)) - allowed
            if bad:
                problems.append(f"column {col!r} has labels outside {spec.classes}: {sorted(bad)[:5]}")
    return problems


def _id_problems(submission: pd.DataFrame, sample: pd.DataFrame, id_column: str) -> list[str]:
    problems = []
    ids = _id_keys(submission[id_column])
    if ids.duplicated().any():
        problems.append(f"{int(ids.duplicated().sum())} duplicated ids")
    expected = set(_id_keys(sample[id_column]))
    missing, unknown = expected - set(ids), set(ids) - expected
    if missing:
        problems.append(f"{len(missing)} ids of sample_submission missing")
    if unknown:
        problems.append(f"{len(unknown)} ids not in sample_submission")
    return problems


def with_passthrough(submission: pd.DataFrame, sample: pd.DataFrame, spec: CompetitionSpec) -> pd.DataFrame:
    """The submission with the columns the sample carries over from test (copied from the sample by id,
    or by position when rows are matched by order), every column in the sample's order."""
    if not spec.passthrough_columns:
        return submission
    if spec.row_order_key:
        filled = submission.assign(**{c: sample[c].to_numpy() for c in spec.passthrough_columns})
    else:
        given = sample.set_index(_id_keys(sample[spec.id_column]).to_numpy())[spec.passthrough_columns]
        keys = _id_keys(submission[spec.id_column]).to_numpy()
        filled = submission.assign(**{c: given[c].reindex(keys).to_numpy() for c in spec.passthrough_columns})
    return filled[[c for c in sample.columns if c in filled.columns]]


def with_sample_answers(submission: pd.DataFrame, sample: pd.DataFrame, spec: CompetitionSpec) -> pd.DataFrame:
    """The submission with the sample's answers in the rows of a part train never shows (`placeholder_parts`)."""
    if not spec.placeholder_parts:
        return submission
    ends = tuple("_" + part for part in spec.placeholder_parts)
    return _sample_answers_in(submission, sample, spec, submission[spec.id_column].astype(str).str.endswith(ends))


def with_sample_answers_everywhere(submission: pd.DataFrame, sample: pd.DataFrame,
                                   spec: CompetitionSpec) -> pd.DataFrame:
    """The submission with the sample's answers in every row: a placeholder the grader accepts."""
    return _sample_answers_in(submission, sample, spec, pd.Series(True, index=submission.index))


def _sample_answers_in(submission: pd.DataFrame, sample: pd.DataFrame, spec: CompetitionSpec,
                       rows: pd.Series) -> pd.DataFrame:
    given = sample.set_index(_id_keys(sample[spec.id_column]).to_numpy())
    keys = _id_keys(submission.loc[rows.to_numpy(), spec.id_column]).to_numpy()
    columns = [c for c in spec.submission_columns if c in given.columns and c in submission.columns]
    out = submission.copy()
    for column in columns:
        out[column] = out[column].astype(object)
        out.loc[rows.to_numpy(), column] = given[column].reindex(keys).to_numpy()
    return out


def pooled(submission: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """One row per id: the mean of its rows' numbers, the most common of its labels, in first-seen order."""
    groups = submission.groupby(_id_keys(submission[id_column]).to_numpy(), sort=False)
    out = groups.agg({c: "first" if c == id_column else "mean" if pd.api.types.is_numeric_dtype(submission[c])
                      else (lambda v: v.mode().iloc[0]) for c in submission.columns})
    return out.reset_index(drop=True)


def write_submission(submission: pd.DataFrame, sample: pd.DataFrame, spec: CompetitionSpec, path: Path) -> None:
    """Validate, order rows as in sample_submission (rows matched by order keep theirs: test's), and
    write atomically."""
    if spec.pooled_rows:
        submission = pooled(submission, spec.id_column)
    submission = with_passthrough(with_sample_answers(submission, sample, spec), sample, spec)
    problems = submission_problems(submission, sample, spec)
    if problems:
        raise ValueError("invalid submission: " + "; ".join(problems))
    if spec.row_order_key:
        ordered = submission.reset_index(drop=True)
    else:
        order = pd.Series(range(len(sample)), index=_id_keys(sample[spec.id_column]).to_numpy())
        ordered = submission.iloc[np.argsort(order.loc[_id_keys(submission[spec.id_column]).to_numpy()].to_numpy())]
        ordered = ordered.reset_index(drop=True)
    ordered[spec.id_column] = sample[spec.id_column].to_numpy()
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    ordered.to_csv(tmp, index=False)
    tmp.replace(path)
