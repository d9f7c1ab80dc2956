"""Find a competition's tables in its folder and load them: train, test and the sample submission.

A folder is what Kaggle or MLE-bench gives an agent: sometimes a single archive, a train table
called `labels.csv`, no test table (the sample lists the test ids), no train table at all (the
training files' folders are their labels), or the targets in a table of their own.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from agent.column_roles import row_groups
from agent.metric_choice import pixel_order
from pipelines.array_records import find_array_records
from pipelines.array_tables import find_array_tables
from pipelines.coco import find_coco_tables
from pipelines.errors import InputError
from pipelines.files import FileCatalog, extract_archive, labelled_files
from pipelines.shapes.label_sets import find_label_sets
from pipelines.shapes.pixels import find_pixel_pairs
from pipelines.side_tables import join_side_tables
from pipelines.tables import is_table, read_table, read_table_sample, table_columns, table_stem
from pipelines.targets import label_keys

log = logging.getLogger(__name__)

COMPOSED_ID_COLUMNS = 6  # the columns, from the first, an id may be joined from
# the last: older competitions' names for the sample (randomPredictions.csv, allZerosBenchmark.csv)
SAMPLE_PATTERNS = [r"sample_?submission.*", r".*sample.*", r".*submission.*", r".*(benchmark|predictions).*"]


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


class ExplodedLayout(Protocol):
    """Files without a train table, read as rows so the rows harness applies: a row per part of each item
    (a pixel of an image, a class of a recording: pipelines.shapes.pixels, pipelines.shapes.label_sets), an
    image per row from JSON metadata (pipelines.coco), a row per example of NumPy arrays
    (pipelines.array_tables), or a row per folder of arrays (pipelines.array_records)."""

    def spec_layer(self) -> dict[str, Any]: ...

    def train_table(self, seed: int = 0) -> pd.DataFrame: ...

    def test_table(self) -> pd.DataFrame: ...


@dataclass
class CompetitionFiles:
    folder: Path
    train: Path
    test: Path
    sample_submission: Path
    description: Path | None
    labels: pd.Series | None = None  # without a train table: each training file's label, by its path
    targets: Path | None = None  # a table of the train rows' targets, apart from the train table
    layout: ExplodedLayout | None = None  # without a train table: its rows from the files
    side_tables: list[Path] = field(default_factory=list)  # other tables, joined to the rows by a shared key


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
            return min(hits, key=lambda p: (len(p.name), p.name))  # the same choice in any folder order
    names = ", ".join(sorted(p.name for p in tables)) or "no tables"
    raise InputError(f"no {role} table found (looked for {patterns[0]!r}; folder has: {names})", folder)


def _folder_and_tables(path: Path, extract_to: Path | None) -> tuple[Path, list[Path]]:
    folder = locate_public_dir(path)
    if extract_to is not None:
        folder = _extract_archives(folder, extract_to)
    return folder, [p for p in folder.iterdir() if p.is_file() and is_table(p)]


def find_sample(path: Path, extract_to: Path | None = None) -> Path:
    """The sample submission alone, for a folder whose other files may make no sense."""
    folder, tables = _folder_and_tables(path, extract_to)
    return _pick(tables, folder, "sample submission", SAMPLE_PATTERNS)


def find_files(path: Path, extract_to: Path | None = None) -> CompetitionFiles:
    """The tables of a competition folder.

    Image competitions often ship no test table (the sample submission lists the test ids, the
    images are in `test/`) and call the train table `labels.csv`: then the sample submission's
    ids are the test rows (`test` is the sample submission's path, see `load_tables`). Some ship no
    train table at all, the labels being the class folders or the names of the training files:
    then `train` is the folder itself, `labels` holds them, and `load_tables` makes the table.
    """
    folder, tables = _folder_and_tables(path, extract_to)
    sample = _pick(tables, folder, "sample submission", SAMPLE_PATTERNS)
    sample_table, description = read_table(sample), _description(folder)
    order = pixel_order(description.read_text(errors="replace")) if description else "F"
    if (found := find_coco_tables(folder, sample_table) or find_array_records(folder, sample_table, order)) is not None:
        return CompetitionFiles(folder, folder, sample, sample, description, layout=found)
    rest = [p for p in tables if p != sample]
    labels = None
    try:
        train = _pick(rest, folder, "train", [r"train", r"train.*", r".*train", r".*labels?"])
    except InputError:
        layout = (find_pixel_pairs(folder, sample_table) or find_label_sets(folder, sample_table, sample)
                  or find_array_tables(folder, sample_table))
        if layout is not None:
            return CompetitionFiles(folder, folder, sample, sample, description, layout=layout)
        labels = labelled_files(FileCatalog(folder))
        if labels is None:
            raise
        log.info("%s: no train table; the training files' folders or names are their labels", folder)
        train = folder
    others = [p for p in rest if p != train]
    test = _test_table(others, folder, sample, train)
    targets = None if labels is not None else _target_table([p for p in others if p != test], train, sample)
    own = {table_stem(train), table_stem(test)}  # train.json beside train.zip is the same table again
    side = [] if labels is not None else [p for p in others if p not in (test, targets) and table_stem(p) not in own]
    return CompetitionFiles(folder, train, test, sample, description, labels, targets, side_tables=side)


def _test_table(tables: list[Path], folder: Path, sample: Path, train: Path) -> Path:
    """The test table: named so, and sharing a column with the sample where train has the sample's ids; else the
    sample submission, its ids the test rows. nfl-player-contact's train_labels.csv and sample name contacts by
    `contact_id`, and its test_ tables describe the plays and players that the contact ids join."""
    patterns = [r"test", r"test.*", r".*test", r".*test.*"]  # the last: en_test_2.csv
    named = [t for t in tables if any(re.fullmatch(p, table_stem(t), re.I) for p in patterns)]
    if not named:
        log.info("%s: no test table; the sample submission's ids are the test rows", folder)
        return sample
    id_column, *_ = columns = [str(c).lower() for c in table_columns(sample)]
    shared = [t for t in named if set(columns) & _lower_columns(t)]  # a sample without ids repeats test's columns
    if not shared and train.is_file() and id_column in _lower_columns(train):
        log.info("%s: train names its rows by the sample's %r and no test table does; the sample's ids are the "
                 "test rows", folder, id_column)
        return sample
    return _pick(shared or named, folder, "test", patterns)


def _lower_columns(table: Path) -> set[str]:
    return {str(c).lower() for c in table_columns(table)}


def _description(folder: Path) -> Path | None:
    return next((p for name in ("description.md", "description.txt", "overview.md") if (p := folder / name).exists()),
                None)


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
    if files.layout is not None:
        return files.layout.train_table(seed), files.layout.test_table(), sample
    # Without a test table the test rows are the sample submission's ids (its first column).
    test = sample.iloc[:, :1].copy() if files.test == files.sample_submission else read_table(files.test)
    test = _with_sample_id_name(test, sample, files.test)
    if files.labels is not None:
        train = train_from_files(files.labels, sample)
    elif max_train_rows:
        train, rows = read_table_sample(files.train, max_train_rows, seed,
                                        groups=lambda head: row_groups(head, test, set(sample.columns)))
        train.attrs["rows_in_file"] = rows
    else:
        train = read_table(files.train)
    train = _with_sample_id_name(train, sample, files.train)
    if files.targets is not None:
        train = _join_targets(train, files.targets, sample)
    for frame, path in ((train, files.train), (test, files.test), (sample, files.sample_submission)):
        if frame.empty:
            raise InputError("table has a header but no rows", path)
    test = _with_composed_ids(_with_row_number_ids(test, sample, files.test), sample, files.test)
    test = _with_id_parts(test, train, sample, files.test)
    train, test = join_side_tables(train, test, files.side_tables, protected=set(sample.columns[1:]))
    return train, test, sample


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


def _with_sample_id_name(frame: pd.DataFrame, sample: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The table with its id column named as the sample names it, when only the case differs (iwildcam-2019's
    test.csv says `id`, its sample `Id`)."""
    id_column = sample.columns[0]
    same = [c for c in frame.columns if str(c).lower() == str(id_column).lower() and c != id_column]
    if id_column in frame.columns or len(same) != 1:
        return frame
    log.info("%s: column %r is the sample's %r", path, same[0], id_column)
    return frame.rename(columns={same[0]: id_column})


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


def _with_composed_ids(test: pd.DataFrame, sample: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The test table with the sample submission's ids when they join two of its columns with "_"
    (text normalisation's `<sentence_id>_<token_id>`, one submission row per token); else as it is."""
    id_column = sample.columns[0]
    if id_column in test.columns or len(test) != len(sample):
        return test
    wanted = set(sample[id_column].astype(str))
    texts = {c: test[c].astype(str) for c in test.columns[:COMPOSED_ID_COLUMNS]}
    for first, second in itertools.permutations(texts, 2):
        ids = texts[first] + "_" + texts[second]
        if ids.iloc[0] in wanted and set(ids) == wanted:
            log.info("%s: no %r column; the sample submission's ids are %s_%s", path, id_column, first, second)
            return test.assign(**{id_column: ids.to_numpy()})[[id_column, *test.columns]]
    return test


def _with_id_parts(test: pd.DataFrame, train: pd.DataFrame, sample: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The test table with the train columns its ids are made of, when it lacks them: nfl-player-contact's
    `<game_play>_<step>_<player 1>_<player 2>`, whose parts are train's columns and the keys of its side tables."""
    id_column = sample.columns[0]
    parts = id_parts(train, id_column, exclude=set(sample.columns[1:]))
    if parts is None or id_column not in test.columns or any(c in test.columns for c in parts):
        return test
    pattern = "_".join(rf"([^_]*(?:_[^_]*){{{underscores}}})" for underscores in parts.values())
    texts = test[id_column].astype(str).str.extract(f"^{pattern}$")
    if texts.isna().any().any():  # an id with another number of "_"
        return test
    columns = {}
    for column, (_, text) in zip(parts, texts.items()):
        number = pd.to_numeric(text, errors="coerce")
        numeric = pd.api.types.is_numeric_dtype(train[column]) and number.notna().all()
        columns[column] = number.astype(train[column].dtype) if numeric else text.astype(object)
    log.info("%s: the sample's %r ids are %s joined with '_'", path, id_column, ", ".join(parts))
    return test.assign(**columns)


def id_parts(train: pd.DataFrame, id_column: str, exclude: set[str], rows: int = 200) -> dict[str, int] | None:
    """The train columns whose values, joined with "_" in this order, are its ids, each with the number of "_"
    its values hold (the same in every row, so an id splits one way); None when they are not."""
    if id_column not in train.columns or train.empty:
        return None
    head = train.head(rows)
    ids = label_keys(head[id_column])  # as labels compare: 7.0 reads as 7, case aside
    texts = {c: label_keys(head[c]) for c in head.columns if c != id_column and c not in exclude}
    first = ids.iloc[0]

    def orders(position: int, used: tuple[str, ...]) -> list[tuple[str, ...]]:
        if position > len(first):
            return [used]
        found = []
        for column, values in texts.items():
            value = values.iloc[0]
            end = position + len(value)
            if column not in used and value and first.startswith(value, position) and first[end:end + 1] in ("", "_"):
                found += orders(end + 1, (*used, column))
        return found

    for order in orders(0, ()):
        if len(order) < 2:
            continue
        joined = pd.concat([texts[c] for c in order], axis=1).agg("_".join, axis=1)
        counts = {c: texts[c].str.count("_") for c in order}
        if (joined == ids).all() and all(n.nunique() == 1 for n in counts.values()):
            return {c: int(n.iloc[0]) for c, n in counts.items()}
    return None

