"""Read a competition's tables, whatever format Kaggle shipped them in, with one-line errors.

Kaggle ships CSV most of the time, sometimes zipped, sometimes JSON or parquet. Every read goes
through `read_table`, so a bad file always fails the same way: an `InputError` naming the file.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.errors import InputError

STREAM_BYTES = 64 * 2**20  # CSVs larger than this are sampled in chunks, never held whole in memory
STREAM_CHUNK_ROWS = 200_000
MIN_SAMPLED_GROUPS = 100  # fewer whole groups than this in a sample, and rows are drawn instead
TABLE_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".parquet", ".pq")
COMPRESSED_SUFFIXES = (".zip", ".gz", ".bz2", ".xz", ".7z")
WIDE_HEADER_COLUMNS = 10_000


def table_stem(path: Path) -> str:
    """`train.csv.zip` -> `train`: the name without table or compression suffixes."""
    name = path.name
    for suffix in COMPRESSED_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    for suffix in TABLE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def is_table(path: Path) -> bool:
    name = path.name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.endswith(TABLE_SUFFIXES) or (path.suffix.lower() == ".zip" and _zip_holds_one_table(path))


def _zip_holds_one_table(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError):
        return False
    return len(names) == 1 and names[0].lower().endswith(TABLE_SUFFIXES)


def _table_format(path: Path) -> str:
    name = path.name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    for fmt in ("csv", "tsv", "jsonl", "json", "parquet", "pq"):
        if name.endswith("." + fmt):
            return "parquet" if fmt == "pq" else fmt
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            inner = [n for n in archive.namelist() if not n.endswith("/")][0]
        return _table_format(Path(inner))
    return "csv"


def _open_bytes(path: Path) -> bytes:
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if not n.endswith("/")]
                if len(members) != 1:
                    raise InputError(f"zip archive holds {len(members)} files, expected one table", path)
                return archive.read(members[0])
        except zipfile.BadZipFile as exc:
            raise InputError(f"not a valid zip archive ({exc})", path) from None
    return path.read_bytes()


def read_table(path: Path, **read_kwargs) -> pd.DataFrame:
    """Read a CSV/TSV/JSON/JSONL/parquet table, optionally zipped or gzipped.

    Raises InputError (file named, one line) for a missing, empty, non-UTF-8 or malformed file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path)
    if path.is_dir():
        raise InputError("expected a table, found a folder", path)
    if path.stat().st_size == 0:
        raise InputError("file is empty", path)
    fmt = _table_format(path)
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path, **read_kwargs)
        elif fmt in ("json", "jsonl"):
            raw = _decompressed(path)
            frame = _read_json(raw, lines=fmt == "jsonl", **read_kwargs)
        else:
            raw = _decompressed(path)
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); re-save it as UTF-8",
                    path,
                ) from None
            if not text.strip():
                raise InputError("file is empty", path)
            sep = "\t" if fmt == "tsv" else ","
            frame = pd.read_csv(io.StringIO(text), sep=sep, low_memory=False, **read_kwargs)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError("file has no columns", path) from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError(f"malformed table: {_first_line(exc)}", path) from None
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read as {fmt}: {_first_line(exc)}", path) from None
    if frame.shape[1] == 0:
        raise InputError("file has no columns", path)
    if fmt in ("json", "jsonl") and isinstance(frame.columns, pd.RangeIndex):
        raise InputError("rows are lists, so the columns have no names; expected records ({\"column\": value, ...}) "
                         "or an object of columns", path)
    if frame.columns.duplicated().any():
        dupes = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise InputError(f"duplicated column names {dupes}", path)
    return flatten_nested(frame) if fmt in ("json", "jsonl", "parquet") else without_row_index(frame)


def without_row_index(frame: pd.DataFrame) -> pd.DataFrame:
    """A CSV without the nameless first column of row numbers that pandas writes with `index=True`: 0, 1, ...,
    or a filtered table's own numbers beside another column that names each row (iwildcam-2019's sample
    `,Id,Category`). An artifact, never an id or an input."""
    first = frame.columns[0]
    if frame.shape[1] < 2 or not str(first).startswith("Unnamed: 0"):
        return frame
    numbers = pd.to_numeric(frame[first], errors="coerce")
    if numbers.isna().any() or (numbers % 1 != 0).any() or not numbers.is_unique:
        return frame
    counting = bool((numbers.to_numpy() == np.arange(len(frame))).all())
    if counting or any(frame[c].is_unique for c in frame.columns[1:]):
        return frame.drop(columns=first)
    return frame


def _read_json(raw: bytes, lines: bool, **read_kwargs) -> pd.DataFrame:
    """A JSON table; a `.json` file of one record per line (stanford-covid-vaccine's train.json) too."""
    try:
        return pd.read_json(io.BytesIO(raw), lines=lines, **read_kwargs)
    except ValueError:
        if lines:
            raise
        return pd.read_json(io.BytesIO(raw), lines=True, **read_kwargs)


def table_columns(path: Path) -> list[str]:
    """A table's column names; a CSV, TSV or parquet file is read no further than its header."""
    path = Path(path)
    fmt = _table_format(path)
    try:
        if len(header := _csv_header(path) or []) > WIDE_HEADER_COLUMNS:
            return header  # pandas takes minutes on a header this wide
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        if fmt in ("csv", "tsv") and path.suffix.lower() != ".7z":  # pandas cannot open 7z
            return list(pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", nrows=0, encoding="utf-8-sig").columns)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError):
        pass  # read_table names the problem
    return list(read_table(path).columns)


def _flat(value: object) -> object:
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, (list, tuple, np.ndarray)):
        return " ".join(str(v) for v in value)
    return value


def flatten_nested(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells holding lists or records (nested JSON, parquet list columns) as strings: a list's items
    joined by spaces, which reads as a bag of tokens (tags, subreddits), a record as its JSON.
    Every later step can then hash, count and compare them like any other value."""
    for column in frame.columns[frame.dtypes == object]:
        nested = frame[column].map(lambda v: isinstance(v, (dict, list, tuple, np.ndarray)))
        if nested.any():
            frame[column] = frame[column].map(_flat)
    return frame


def parse_datetimes(values: pd.Series) -> pd.Series:
    """Timestamps as naive UTC, unparseable ones missing. Zones are converted, not dropped, so a column
    that mixes them (`2009-06-15 17:26:21 UTC`, `... +02:00`, no zone) still orders and subtracts.

    One format guessed from the first value is tried first, being several times faster; only when
    some rows do not follow it is each row parsed on its own.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format": the per-row path below
        when = pd.to_datetime(values, errors="coerce", utc=True)
    if when.isna().sum() > values.isna().sum():
        when = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
    return when.dt.tz_localize(None)


def sample_rows(frame: pd.DataFrame, max_rows: int, seed: int = 0, by: str | None = None) -> pd.DataFrame:
    """At most `max_rows` rows drawn uniformly, in their original order (0: all rows). With `by`,
    whole groups of that column are drawn instead, so a breath's or a session's rows stay together, unless
    its groups are too big for a sample to hold many; `attrs["sampled_by"]` says which it was."""
    if not max_rows or len(frame) <= max_rows:
        return frame
    if by is not None and _groups_fit(frame[by], max_rows):
        keys = _group_keys(frame[by], seed)
        kept = np.flatnonzero(keys < _cut(keys, max_rows))
        if len(kept) >= max_rows // 2:  # else a group larger than the sample straddled the cut
            return _sampled_by(frame.iloc[kept].reset_index(drop=True), by)
    keys = np.random.default_rng(seed).random(len(frame))
    return _sampled_by(frame.iloc[np.flatnonzero(keys < _cut(keys, max_rows))].reset_index(drop=True), None)


def _groups_fit(values: pd.Series, max_rows: int) -> bool:
    """Whether a sample of `max_rows` rows holds many groups (not a few huge ones, or one long series)."""
    groups = values.nunique()
    return groups > 0 and len(values) / groups * MIN_SAMPLED_GROUPS <= max_rows


def _group_keys(values: pd.Series, seed: int) -> np.ndarray:
    """A random number in [0, 1) per group: the same value gets the same number in every chunk of a file."""
    hashed = pd.util.hash_pandas_object(values.astype(str), index=False, hash_key=f"{seed:016d}"[-16:])
    return hashed.to_numpy() / 2.0**64


def _cut(keys: np.ndarray, max_rows: int) -> float:
    """The key below which at most `max_rows` rows fall: the group that straddles it is left out whole."""
    return np.partition(keys, max_rows)[max_rows] if len(keys) > max_rows else np.inf


def table_width(path: Path) -> int | None:
    """How many columns a CSV or TSV (plain or gzipped) has, from its first line alone; None for
    other formats or an unreadable file (read_table names the problem)."""
    header = _csv_header(path)
    return len(header) if header is not None else None


def _csv_header(path: Path) -> list[str] | None:
    """The first line of a plain or gzipped CSV/TSV, split: a million columns in a second, where
    pandas takes minutes."""
    import gzip

    path = Path(path)
    fmt = _table_format(path) if path.is_file() else None
    suffix = path.suffix.lower()
    if fmt not in ("csv", "tsv") or suffix not in (".csv", ".tsv", ".gz"):
        return None
    try:
        with (gzip.open if suffix == ".gz" else open)(path, "rt", encoding="utf-8-sig", newline="") as f:
            return next(csv.reader(f, delimiter="\t" if fmt == "tsv" else ","), None)
    except (OSError, UnicodeDecodeError, csv.Error, EOFError):
        return None


def read_table_sample(path: Path, max_rows: int, seed: int = 0,
                      groups: Callable[[pd.DataFrame], str | None] | None = None) -> tuple[pd.DataFrame, int]:
    """A uniform sample of at most `max_rows` rows of a table, and the table's row count.

    A large CSV/TSV (plain or compressed) streams in chunks, each row given a random key and the
    `max_rows` smallest kept, so memory stays at the sample plus one chunk however big the file
    is; a whole 5 GB file read at once needs several times that. Other tables are read whole.
    `groups`, shown the first rows read, may name a column whose groups are drawn whole (`sample_rows`' `by`);
    `attrs["sampled_by"]` says which it was.
    """
    path = Path(path)
    fmt = _table_format(path) if path.is_file() else "csv"
    if fmt not in ("csv", "tsv") or path.stat().st_size < STREAM_BYTES or path.suffix.lower() == ".7z":
        frame = read_table(path)
        by = _group_column(groups, frame, max_rows) if len(frame) > max_rows else None  # a whole table needs none
        return sample_rows(frame, max_rows, seed, by), len(frame)
    rng = np.random.default_rng(seed)
    kept: pd.DataFrame | None = None
    keys = np.zeros(0)
    seen = 0
    by: str | None = None
    try:
        chunks = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", chunksize=STREAM_CHUNK_ROWS,
                             encoding="utf-8-sig", low_memory=False)
        for chunk in chunks:
            if kept is None:
                by = _group_column(groups, chunk, max_rows)
            chunk.index = np.arange(seen, seen + len(chunk))
            seen += len(chunk)
            kept = chunk if kept is None else pd.concat([kept, chunk])
            keys = np.concatenate([keys, rng.random(len(chunk)) if by is None else _group_keys(chunk[by], seed)])
            if len(kept) > max_rows + 1:  # one over: the cut below needs the first key left out
                best = np.argpartition(keys, max_rows + 1)[:max_rows + 1]
                kept, keys = kept.iloc[best], keys[best]
    except (pd.errors.ParserError, csv.Error, UnicodeDecodeError, ValueError, OSError) as exc:
        raise InputError(f"cannot read as {fmt}: {_first_line(exc)}", path) from None
    if kept is None:
        raise InputError("file has no rows", path)
    chosen = np.flatnonzero(keys < _cut(keys, max_rows))
    if by is not None and len(chosen) < max_rows // 2:  # a group larger than the sample straddled the cut
        chosen, by = np.argsort(keys)[:max_rows], None
    return _sampled_by(kept.iloc[chosen].sort_index().reset_index(drop=True), by), seen


def _sampled_by(frame: pd.DataFrame, by: str | None) -> pd.DataFrame:
    frame.attrs["sampled_by"] = by  # for the run's log: which groups a sample kept whole
    return frame


def _group_column(groups: Callable[[pd.DataFrame], str | None] | None, rows: pd.DataFrame,
                  max_rows: int) -> str | None:
    """The column `groups` names on these rows, if a sample of `max_rows` rows holds many of its groups
    (a few huge groups, or one long series, are sampled by row)."""
    if groups is None or not max_rows or (by := groups(rows)) is None:
        return None
    return by if _groups_fit(rows[by], max_rows) else None


def _seven_zip_member(path: Path) -> bytes:
    """The one file a 7z archive holds (statoil-iceberg's train.json.7z), extracted to a temporary folder."""
    import tempfile

    import py7zr

    try:
        with py7zr.SevenZipFile(path) as archive, tempfile.TemporaryDirectory() as scratch:
            members = [info.filename for info in archive.list() if not info.is_directory]
            if len(members) != 1:
                raise InputError(f"7z archive holds {len(members)} files, expected one table", path)
            archive.extract(path=scratch, targets=members)
            return (Path(scratch) / members[0]).read_bytes()
    except (py7zr.exceptions.ArchiveError, OSError, EOFError) as exc:
        raise InputError(f"not a readable 7z archive ({_first_line(exc)})", path) from None


def _decompressed(path: Path) -> bytes:
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _open_bytes(path)
    if suffix == ".7z":
        return _seven_zip_member(path)
    if suffix in (".gz", ".bz2", ".xz"):
        import bz2
        import gzip
        import lzma

        opener = {".gz": gzip.decompress, ".bz2": bz2.decompress, ".xz": lzma.decompress}[suffix]
        try:
            return opener(path.read_bytes())
        except (OSError, EOFError, lzma.LZMAError) as exc:
            raise InputError(f"cannot decompress: {_first_line(exc)}", path) from None
    return path.read_bytes()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
