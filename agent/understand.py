"""From a folder of competition files to a `CompetitionSpec`: find the tables, check them, infer the task.

Sources of truth, in order: command-line flags, competitions/<slug>.yaml, Kaggle's metadata,
the MLE-bench registry, then inference from the files and the description. Every decided field
records where it came from in `spec.sources`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.errors import InputError
from pipelines.features import comparable_pairs
from pipelines.files import FileCatalog, extract_archive, labelled_files
from pipelines.metrics import get_metric
from pipelines.spec import CompetitionSpec
from pipelines.submission import passthrough_columns, row_key
from pipelines.tables import is_table, parse_datetimes, read_table, read_table_sample, table_columns, table_stem
from pipelines.targets import class_labels, is_one_hot, label_key

log = logging.getLogger(__name__)

REGRESSION_METRICS = {"rmse", "rmsle", "rmse_log", "mae", "r2", "mcrmse", "mcrmsle", "pearson", "spearman_mean_columnwise"}
FILE_SUFFIX = re.compile(r"\.(?:jpe?g|png|gif|bmp|tiff?|webp|wav|mp3|flac|ogg|npy|npz|dcm|txt|json)$", re.I)


# --- finding the files -------------------------------------------------------------------------

def locate_public_dir(path: Path) -> Path:
    """The folder the agent may read: <dir>/prepared/public, <dir>/public, or <dir> itself.

    A `private/` folder beside it holds grading answers and is never read.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such folder", path)
    if not path.is_dir():
        raise InputError("expected a competition folder", path)
    for candidate in (path / "prepared" / "public", path / "public"):
        if candidate.is_dir():
            return candidate
    return path


@dataclass
class CompetitionFiles:
    folder: Path
    train: Path
    test: Path
    sample_submission: Path
    description: Path | None
    labels: pd.Series | None = None  # without a train table: each training file's label, by its path
    targets: Path | None = None  # a table of the train rows' targets, apart from the train table


def _extract_archives(folder: Path, extract_to: Path) -> Path:
    """A plain Kaggle download is one `<slug>.zip`; unpack it once and read from there."""
    archives = [p for p in folder.glob("*.zip") if not is_table(p)]
    tables = [p for p in folder.iterdir() if p.is_file() and is_table(p)]
    if tables or len(archives) != 1:
        return folder
    return extract_archive(archives[0], extract_to)


def _pick(tables: list[Path], folder: Path, role: str, patterns: list[str]) -> Path:
    for pattern in patterns:
        hits = [p for p in tables if re.fullmatch(pattern, table_stem(p), re.I)]
        if hits:
            return sorted(hits, key=lambda p: len(p.name))[0]
    names = ", ".join(sorted(p.name for p in tables)) or "no tables"
    raise InputError(f"no {role} table found (looked for {patterns[0]!r}; folder has: {names})", folder)


def find_files(path: Path, extract_to: Path | None = None) -> CompetitionFiles:
    """The tables of a competition folder.

    Image competitions often ship no test table (the sample submission lists the test ids, the
    images are in `test/`) and call the train table `labels.csv`: then the sample submission's
    ids are the test rows (`test` is the sample submission's path, see `load_tables`). Some ship no
    train table at all, the labels being the class folders or the names of the training files:
    then `train` is the folder itself, `labels` holds them, and `load_tables` makes the table.
    """
    folder = locate_public_dir(path)
    if extract_to is not None:
        folder = _extract_archives(folder, extract_to)
    tables = [p for p in folder.iterdir() if p.is_file() and is_table(p)]
    sample = _pick(tables, folder, "sample submission", [r"sample_?submission.*", r".*sample.*", r".*submission.*"])
    rest = [p for p in tables if p != sample]
    labels = None
    try:
        train = _pick(rest, folder, "train", [r"train", r"train.*", r".*train", r".*labels?"])
    except InputError:
        labels = labelled_files(FileCatalog(folder))
        if labels is None:
            raise
        log.info("%s: no train table; the training files' folders or names are their labels", folder)
        train = folder
    others = [p for p in rest if p != train]
    test_patterns = [r"test", r"test.*", r".*test"]
    if any(re.fullmatch(p, table_stem(t), re.I) for p in test_patterns for t in others):
        test = _pick(others, folder, "test", test_patterns)
    else:
        log.info("%s: no test table; the sample submission's ids are the test rows", folder)
        test = sample
    description = next(
        (p for name in ("description.md", "description.txt", "overview.md") if (p := folder / name).exists()), None
    )
    targets = None if labels is not None else _target_table([p for p in others if p != test], train, sample)
    return CompetitionFiles(folder, train, test, sample, description, labels, targets)


def _target_table(candidates: list[Path], train: Path, sample: Path) -> Path | None:
    """The table holding the targets when the train table has only the inputs (lish-moa's
    train_targets_scored.csv beside train_features.csv): it has the sample submission's id column and
    every one of its other columns, which the train table lacks. Only headers are read."""
    try:
        id_column, *targets = table_columns(sample)
        train_columns = set(table_columns(train))
    except InputError:  # reported when the tables are read
        return None
    if not targets or set(targets) <= train_columns or id_column not in train_columns:
        return None
    for path in sorted(candidates):
        try:
            columns = set(table_columns(path))
        except InputError:  # an unreadable side table is not this run's concern
            continue
        if id_column in columns and set(targets) <= columns:
            log.info("%s: the targets are in %s, joined on %r", train, path.name, id_column)
            return path
    return None


# --- column typing -----------------------------------------------------------------------------

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


# --- metric from the description ---------------------------------------------------------------

_METRIC_PATTERNS = [
    (r"quadratic(ally)? weighted kappa|\bqwk\b", "qwk"),
    (r"mean column-?wise root mean squared logarithmic", "mcrmsle"),
    (r"root mean squared? logarithmic error|\brmsle\b", "rmsle"),
    (r"(root mean squared? error|\brmse\b)[^.]{0,80}\blog", "rmse_log"),
    (r"mean column-?wise (area under|auc|roc)", "auc_mean_columnwise"),
    (r"area under the (roc|receiver)|\broc[ -]auc\b|\bauc\b", "auc"),
    (r"multi-?class (logarithmic|log) loss", "logloss_multiclass"),
    (r"(logarithmic|log)[ -]loss|cross[- ]entropy", "logloss"),
    (r"matthews", "mcc"),
    (r"macro[- ]?(averaged )?f1|f1[- ]macro", "f1_macro"),
    (r"micro[- ]?(averaged )?f1|f1[- ]micro", "f1_micro"),
    (r"\bf1\b|f-score|f-measure", "f1"),
    (r"mean absolute error|\bmae\b", "mae"),
    (r"root mean squared? error|\brmse\b", "rmse"),
    (r"coefficient of determination|\br2\b|r-squared", "r2"),
    (r"\baccuracy\b|correctly (classified|predicted)", "accuracy"),
]


def metric_from_description(text: str) -> str | None:
    """The metric a description names, reading its Evaluation/Metric section first."""
    lowered = text.lower()
    section = re.search(r"(evaluation|metric)[^\n]*\n?(.{0,1500})", lowered, re.S)
    for haystack in ([section.group(0)] if section else []) + [lowered]:
        for pattern, name in _METRIC_PATTERNS:
            if re.search(pattern, haystack):
                return name
    return None


def _adapt_metric(name: str, task: str) -> str:
    """Description phrases are task-agnostic; the task picks the variant."""
    if task == "multiclass" and name == "logloss":
        return "logloss_multiclass"
    if task == "multilabel" and name == "auc":
        return "auc_mean_columnwise"
    if task == "multiclass" and name == "f1":
        return "f1_macro"
    return name


def _default_metric(task: str, kind: str) -> str:
    if task == "regression":
        return "rmse"
    if task == "multilabel":
        return "auc_mean_columnwise" if kind == "proba" else "f1_micro"
    if kind == "proba":
        return "auc" if task == "binary" else "logloss_multiclass"
    return "accuracy"


# --- the spec ----------------------------------------------------------------------------------

def _merge_overrides(layers: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], dict[str, str]]:
    """First layer that sets a key wins; remember which layer that was."""
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, values in layers:
        for key, value in values.items():
            if value is not None and key not in merged:
                merged[key] = value
                sources[key] = source
    if "target_column" in merged and "target_columns" not in merged:
        merged["target_columns"] = [merged["target_column"]]
        sources["target_columns"] = sources["target_column"]
    if isinstance(merged.get("target_columns"), str):
        merged["target_columns"] = [c.strip() for c in merged["target_columns"].split(",")]
    return merged, sources


def _sorted_classes(values: pd.Series) -> list[Any]:
    unique = pd.unique(values.dropna())
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = sorted(float(v) for v in unique)
        return [int(v) if v.is_integer() else v for v in numbers]
    if pd.api.types.is_bool_dtype(values):
        return sorted(bool(v) for v in unique)
    return sorted(unique.tolist(), key=label_key)


def _is_probability_column(values: pd.Series) -> bool:
    numeric = pd.to_numeric(values, errors="coerce")
    return bool(numeric.notna().all() and numeric.between(0, 1).all() and (numeric % 1 != 0).any())


def _check_ids(files: CompetitionFiles, test: pd.DataFrame, sample: pd.DataFrame, id_column: str) -> None:
    if id_column not in sample.columns:
        raise InputError(f"id column {id_column!r} is not a column of the sample submission", files.sample_submission)
    if id_column not in test.columns:
        raise InputError(f"id column {id_column!r} is missing", files.test)
    test_ids = set(test[id_column].map(label_key))
    sample_ids = set(sample[id_column].map(label_key))
    if len(sample) != len(test) or test_ids != sample_ids:
        missing, unknown = len(test_ids - sample_ids), len(sample_ids - test_ids)
        raise InputError(
            f"ids don't match {files.test.name} ({len(sample)} rows vs {len(test)}; "
            f"{missing} test ids missing, {unknown} ids not in test)",
            files.sample_submission,
        )


def _find_targets(files: CompetitionFiles, train: pd.DataFrame, test: pd.DataFrame, wanted: list[str],
                  id_column: str) -> tuple[list[str], bool]:
    """Target columns (from the sample's answer columns, `wanted`), and whether the submission has one
    probability column per class."""
    if wanted and all(c in train.columns for c in wanted):
        return wanted, False
    only_in_train = [c for c in train.columns if c not in test.columns and c != id_column]
    if len(only_in_train) > 1 and len(wanted) == 1:
        # Annotations beside the target (jigsaw-unintended-bias: `target` and some 40 others, the
        # sample asks for `prediction`): the one named as the sample's column or `target` is it.
        named = [c for c in only_in_train if c.lower() in {wanted[0].lower(), "target"}]
        only_in_train = named if len(named) == 1 else only_in_train
    if len(only_in_train) == 1:
        column = only_in_train[0]
        values = {label_key(v) for v in train[column].dropna().unique()}
        if len(wanted) > 1 and {label_key(c) for c in wanted} <= values | {label_key(c) for c in wanted}:
            return [column], True
        return [column], False
    raise InputError(
        f"cannot find the target: sample submission columns {wanted} are not in {files.train.name}, "
        f"and {len(only_in_train)} columns are only in train {only_in_train[:5]}; pass --target",
        files.train,
    )


def _infer_task(train: pd.DataFrame, targets: list[str], metric: str | None) -> str:
    if metric in REGRESSION_METRICS:
        return "regression"
    values = train[targets]
    if len(targets) > 1:
        if is_one_hot(values):
            return "multiclass"
        binary = values.apply(lambda c: set(pd.unique(c.dropna())) <= {0, 1, True, False}).all()
        return "multilabel" if binary else "regression"
    y = values.iloc[:, 0].dropna()
    classification_metric = metric is not None
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if numeric and not classification_metric:
        integral = bool((y % 1 == 0).all())
        if not (integral and y.nunique() <= 30):
            return "regression"
    return "binary" if y.nunique() == 2 else "multiclass"


def build_spec(
    slug: str,
    files: CompetitionFiles,
    train: pd.DataFrame,
    test: pd.DataFrame,
    sample: pd.DataFrame,
    layers: list[tuple[str, dict[str, Any]]],
    catalog: FileCatalog | None = None,
) -> CompetitionSpec:
    """Decide every field of the spec; raise InputError naming the file when the data can't fit.

    `catalog` lists the files beside the tables (default: those below `files.folder`); it decides
    which columns name files when their values have no file suffix.
    """
    given, sources = _merge_overrides(layers)
    catalog = catalog or FileCatalog(files.folder)
    description = files.description.read_text(errors="replace") if files.description else ""

    id_column = given.get("id_column") or row_key(sample, test)
    sources.setdefault("id_column", "inferred")
    _check_ids(files, test, sample, id_column)
    # A sample without an id of its own (detecting-insults) names rows by a column of test, may repeat
    # others, and that column is the row's content, an input like any other.
    content_id = id_column != sample.columns[0]
    passthrough = passthrough_columns(sample, test, id_column)
    answer_columns = [c for c in sample.columns if c != id_column and c not in passthrough]

    if "target_columns" in given:
        targets = list(given["target_columns"])
        missing = [c for c in targets if c not in train.columns]
        if missing:
            raise InputError(f"target column(s) {missing} not found; columns are {list(train.columns)[:20]}", files.train)
        per_class = len(targets) == 1 and answer_columns != targets
    else:
        targets, per_class = _find_targets(files, train, test, answer_columns, id_column)
        sources["target_columns"] = "inferred"
    if train[targets].isna().all().any():
        raise InputError(f"target column(s) {targets} are empty", files.train)

    metric = given.get("metric")
    if metric is None and (described := metric_from_description(description)):
        metric, sources["metric"] = described, "description"
    task = given.get("task") or _infer_task(train, targets, metric)
    sources.setdefault("task", "inferred")

    classes: list[Any] = []
    one_hot = task in ("binary", "multiclass") and len(targets) > 1
    if one_hot:
        classes = list(targets)
    elif task in ("binary", "multiclass"):
        classes = _sorted_classes(train[targets[0]])
        if per_class:
            known = {label_key(c) for c in classes}
            classes += [c for c in sample.columns if c != id_column and label_key(c) not in known]
    elif task == "multilabel":
        classes = list(targets)

    submission_columns = answer_columns
    if task == "regression":
        kind = "value"
    elif per_class or ((task in ("binary", "multilabel") or one_hot)
                       and any(_is_probability_column(sample[c]) for c in submission_columns)):
        kind = "proba"
    elif metric is not None and get_metric(metric).needs == "proba":
        kind = "proba"
    else:
        kind = "label"

    if metric is None:
        metric, sources["metric"] = _default_metric(task, kind), "inferred"
    elif sources.get("metric") == "description":
        metric = _adapt_metric(metric, task)
    metric = get_metric(metric).name
    direction = given.get("direction") or ("maximize" if get_metric(metric).greater_is_better else "minimize")
    sources.setdefault("direction", "metric")

    # Identifiers of train rows that test lacks (quora's `id`, `qid1`, `qid2` beside `test_id`) are no inputs.
    feature_cols = [c for c in train.columns if c not in targets and (c != id_column or content_id)
                    and not (c not in test.columns and _is_identifier(train[c]))]
    absent = [c for c in feature_cols if c not in test.columns]
    if absent and len(absent) == len(feature_cols):
        raise InputError(f"test table has none of train's {len(feature_cols)} input columns: {absent[:8]}",
                         files.test)
    if absent:
        log.warning("%s: columns %s are only in train; they cannot be used as inputs", files.test, absent)
    kinds: dict[str, list[str]] = {"numeric": [], "categorical": [], "text": [], "datetime": [], "file": []}
    for column in feature_cols:
        if column not in absent:
            kinds[column_kind(train[column])].append(column)
    if id_column in train.columns and id_column in test.columns and column_kind(train[id_column]) == "datetime":
        kinds["datetime"].append(id_column)  # a timestamp that names the row is also an input (bike-sharing-demand)
    kinds["file"] = _file_columns(train, id_column, kinds, catalog)
    image_columns = [c for c in kinds["file"] if catalog.image_share(train[c]) > 0.5]
    for key in ("group_column", "time_column"):
        if given.get(key) and given[key] not in train.columns:
            raise InputError(f"{key.replace('_', ' ')} {given[key]!r} is not a column", files.train)
    time_column = given.get("time_column")
    if time_column is None and (time_column := _forecast_time_column(train, test, kinds["datetime"])):
        sources["time_column"] = "inferred: every test row comes after every train row"
    group_column = given.get("group_column")
    if group_column is None and time_column is None and (
            group_column := _unseen_group_column(train, test, kinds["numeric"] + kinds["categorical"])):
        sources["group_column"] = "inferred: its values repeat over train rows and none occurs in test"

    column_pairs = comparable_pairs(train, kinds["categorical"] + kinds["text"])
    has_text, has_files = bool(kinds["text"]), bool(kinds["file"])
    has_tabular = bool(kinds["numeric"] or kinds["categorical"] or kinds["datetime"])
    modality = "mixed" if (has_text + has_files + has_tabular) > 1 else "text" if has_text else "image" if has_files else "tabular"
    if has_text and not has_files and len(kinds["numeric"]) + len(kinds["categorical"]) <= 3:
        modality = "text"

    return CompetitionSpec(
        slug=slug,
        data_dir=files.folder,
        train_file=files.train,
        test_file=files.test,
        sample_submission_file=files.sample_submission,
        description=description,
        id_column=id_column,
        target_columns=targets,
        task=task,
        modality=modality,
        classes=classes,
        submission_columns=submission_columns,
        passthrough_columns=passthrough,
        submission_kind=kind,
        metric=metric,
        direction=direction,
        text_columns=kinds["text"],
        categorical_columns=kinds["categorical"],
        numeric_columns=kinds["numeric"],
        datetime_columns=kinds["datetime"],
        file_columns=kinds["file"],
        image_columns=image_columns,
        group_column=group_column,
        time_column=time_column,
        column_pairs=column_pairs,
        sources=sources,
    )


def _is_identifier(values: pd.Series) -> bool:
    """A column named like an id (`id`, `row_id`, `qid1`), or whose values nearly all differ."""
    named = re.search(r"(^|_)q?id\d*$", str(values.name).lower()) is not None
    return named or values.nunique() >= 0.95 * len(values)


def _forecast_time_column(train: pd.DataFrame, test: pd.DataFrame, datetime_columns: list[str]) -> str | None:
    """The date column, when the test rows all come after the train rows: a forecast, which only
    time-ordered folds (train on the past, validate on what follows) validate honestly."""
    for column in datetime_columns:
        if column not in test.columns:
            continue
        past, future = parse_datetimes(train[column]), parse_datetimes(test[column])
        if past.nunique() >= 10 and future.notna().any() and future.min() >= past.max():
            return column
    return None


def _unseen_group_column(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> str | None:
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
        if not test[column].dropna().map(label_key).isin(set(values.map(label_key))).any():
            return column
    return None


def _file_columns(train: pd.DataFrame, id_column: str, kinds: dict[str, list[str]], catalog: FileCatalog) -> list[str]:
    """Columns with file suffixes, plus the id column and categorical columns whose values name files
    without one (`abc` for `train/abc.jpg`); those are taken out of the categorical columns.

    The id column stays the id (the submission's key) and becomes an input too: in many image
    competitions the id is the image's name and the only input.
    """
    named = [c for c in [id_column, *kinds["categorical"]] if c in train.columns and catalog.share_found(train[c]) >= 0.9]
    kinds["categorical"] = [c for c in kinds["categorical"] if c not in named]
    return list(dict.fromkeys([*named, *kinds["file"]]))


def train_from_files(labels: pd.Series, sample: pd.DataFrame) -> pd.DataFrame:
    """The train table of a competition whose training files carry their labels: the file's path in
    the sample submission's id column, its label in the submission's one label column (or `label`
    when the submission has a column per class)."""
    target = sample.columns[1] if len(sample.columns) == 2 else "label"
    return pd.DataFrame({sample.columns[0]: labels.index, target: labels.to_numpy()})


def load_tables(files: CompetitionFiles, max_train_rows: int = 0,
                seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train, test and sample submission. With `max_train_rows`, a larger train table is sampled
    uniformly (and streamed, not loaded whole); `train.attrs["rows_in_file"]` says how many it had."""
    sample = read_table(files.sample_submission)
    if files.labels is not None:
        train = train_from_files(files.labels, sample)
    elif max_train_rows:
        train, rows = read_table_sample(files.train, max_train_rows, seed)
        train.attrs["rows_in_file"] = rows
    else:
        train = read_table(files.train)
    if files.targets is not None:
        train = _join_targets(train, files.targets, sample)
    # Without a test table the test rows are the sample submission's ids (its first column).
    test = sample.iloc[:, :1].copy() if files.test == files.sample_submission else read_table(files.test)
    for frame, path in ((train, files.train), (test, files.test), (sample, files.sample_submission)):
        if frame.empty:
            raise InputError("table has a header but no rows", path)
    return train, _with_row_number_ids(test, sample, files.test), sample


def _join_targets(train: pd.DataFrame, path: Path, sample: pd.DataFrame) -> pd.DataFrame:
    """The train rows with the sample submission's columns from the target table, matched by id
    (a train row without targets keeps missing values, and `clean_train` drops it)."""
    id_column = sample.columns[0]
    targets = read_table(path)[[id_column, *sample.columns[1:]]]
    try:
        joined = train.merge(targets, on=id_column, how="left", validate="many_to_one")
    except pd.errors.MergeError:
        raise InputError(f"ids repeat in column {id_column!r}, so the targets cannot be matched to train rows", path) from None
    except ValueError as exc:  # ids of different types in the two tables
        raise InputError(f"cannot match its {id_column!r} to the train table's: {exc}", path) from None
    joined.attrs = train.attrs
    return joined


def _with_row_number_ids(test: pd.DataFrame, sample: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The test table with the sample submission's ids when they are only its row numbers
    (digit-recognizer: `ImageId` 1..N, absent from test.csv); else the test table as it is."""
    id_column = sample.columns[0]
    ids = pd.to_numeric(sample[id_column], errors="coerce")
    if id_column in test.columns or len(test) != len(sample) or ids.isna().any() or not (ids.diff().iloc[1:] == 1).all():
        return test
    log.info("%s: no %r column; the sample submission's ids %s..%s are its row numbers", path, id_column,
             sample[id_column].iloc[0], sample[id_column].iloc[-1])
    return test.assign(**{id_column: sample[id_column].to_numpy()})[[id_column, *test.columns]]


def clean_train(train: pd.DataFrame, spec: CompetitionSpec) -> pd.DataFrame:
    """Rows without a target teach nothing; drop them."""
    keep = train[spec.target_columns].notna().all(axis=1)
    if not keep.all():
        log.warning("dropping %d train rows without a target", int((~keep).sum()))
    return train.loc[keep].reset_index(drop=True)


def make_folds(train: pd.DataFrame, spec: CompetitionSpec, n_folds: int, seed: int) -> np.ndarray:
    """Fold index per row; -1 marks rows that are only ever trained on (the earliest, for time splits)."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

    n = len(train)
    n_folds = max(2, min(n_folds, n // 2))
    folds = np.full(n, -1)
    if spec.time_column:
        # Chunks of whole time points, oldest first, so rows of one date never straddle a fold's
        # training and validation; the oldest chunk only ever trains (as do rows without a date).
        when = parse_datetimes(train[spec.time_column])
        codes = pd.factorize(when, sort=True)[0]
        for k, points in enumerate(np.array_split(np.unique(codes[codes >= 0]), n_folds + 1)[1:]):
            folds[np.isin(codes, points)] = k
        return folds
    if spec.group_column:
        splitter = GroupKFold(n_splits=n_folds)
        groups = train[spec.group_column].astype(str).to_numpy()
        splits = splitter.split(np.zeros(n), groups=groups)
    elif spec.task in ("binary", "multiclass"):
        y = class_labels(train, spec).map(label_key)
        smallest = y.value_counts().min()
        if smallest >= n_folds:
            splits = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(np.zeros(n), y)
        else:
            splits = KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(np.zeros(n))
    else:
        splits = KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(np.zeros(n))
    for k, (_, valid) in enumerate(splits):
        folds[valid] = k
    return folds
