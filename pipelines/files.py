"""The files a table's rows point to (images, audio, documents): finding them, and cheap statistics of them.

Competitions name files in many ways: a relative path (`train/abc.jpg`), a file name (`abc.jpg`)
or a bare id (`abc` for `train_images/abc.png`, or `17` for `images/17.jpg`), with the files in
folders or in zip or tar archives beside the tables. The run resolves every such cell once, when it
prepares the data (`attach_file_paths`): archives holding referenced files are extracted into the
run folder, never into the user's data folder, and each file column `c` gets a companion column
`c__path` with the file's absolute path ("" when it is missing). Candidates read `file_paths(...)`
and never search for files themselves.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from pipelines.audio import AUDIO_SUFFIXES, audio_statistics
from pipelines.errors import InputError
from pipelines.image_files import (ANSWER_FOLDER_WORDS, DEEP_MODES, IMAGE_SUFFIXES, as_8bit, is_array_record, is_dicom,
                                   open_image)
from pipelines.tables import is_table, read_table

log = logging.getLogger(__name__)

STAT_NAMES = ["exists", "bytes", "width", "height", "aspect", "channels", "mean", "std", "red", "green", "blue"]
PATH_SUFFIX = "__path"
SPLIT_WORDS = {"train": {"train", "training", "trn"}, "test": {"test", "testing", "tst"}}
EXTRACTED_MARKER = ".complete"
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".7z")
MAX_PATH_WORDS = 8  # a cell of more words is text, not a path spelled as an id
MAX_WORD_INDEXED = 200_000  # files; the words of a million paths take 11 s and 0.7 GB to index


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if w}


def _padded_number(name: str) -> bool:
    return name.isdigit() and name.startswith("0") and name.strip("0") != ""


def path_column(column: str) -> str:
    """The companion column holding the resolved paths of file column `column`."""
    return f"{column}{PATH_SUFFIX}"


def _key(value: Any) -> str | None:
    """A cell as a lookup key: forward slashes, no leading './', lower case; integral floats as integers."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    text = str(value).strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text.lower() or None


@dataclass(frozen=True)
class Located:
    """Where a file is: a plain file (`archive` None, `member` relative to the folder) or an archive member."""

    archive: str | None
    member: str

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.member).suffix.lower()

    def words(self) -> set[str]:
        """The lower-case words of the folders (and archive) the file sits in, e.g. {'train', 'images'}."""
        folders = [*(PurePosixPath(self.archive).with_suffix("").parts if self.archive else ()),
                   *PurePosixPath(self.member).parts[:-1]]
        words = {w for part in folders for w in re.split(r"[^a-z0-9]+", part.lower()) if w}
        return words | {w.rstrip("0123456789") for w in words if w[-1].isdigit()}  # `train2/`: a second stage's train


class FileCatalog:
    """Every file below a competition folder, the members of its archives included, by path, name and stem.

    Built lazily: a tabular competition pays for one walk of a small folder. Looking up a value
    tries, in order, the path relative to the folder (or inside an archive), the file name, the file
    name without its suffix, the one file whose path holds every word of the value, and last a folder
    of that name (a row's files: a scan's slices); when several match, the one in a folder named like
    the rows' split (train/test) wins, then plain files over archive members.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @cached_property
    def entries(self) -> list[Located]:
        found: list[Located] = []
        for root, dirs, names in os.walk(self.folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith("."):
                    continue
                path = Path(root) / name
                relative = path.relative_to(self.folder).as_posix()
                if is_table(path) and Path(root) == self.folder:  # rows never name the competition's own tables
                    continue
                if is_archive(path):
                    found.extend(Located(relative, member) for member in _archive_members(path))
                else:
                    found.append(Located(None, relative))
        return found

    @cached_property
    def _index(self) -> tuple[dict[str, list[int]], dict[str, list[int]], dict[str, list[int]]]:
        by_path: dict[str, list[int]] = {}
        by_name: dict[str, list[int]] = {}
        by_stem: dict[str, list[int]] = {}
        for i, entry in enumerate(self.entries):
            member = PurePosixPath(entry.member.lower())
            by_path.setdefault(str(member), []).append(i)
            by_name.setdefault(member.name, []).append(i)
            by_stem.setdefault(member.stem, []).append(i)
            if _padded_number(member.stem):  # `00012.png` for an id pandas read as 12
                by_stem.setdefault(member.stem.lstrip("0"), []).append(i)
        return by_path, by_name, by_stem

    def find(self, value: Any, split: str | None = None) -> Located | None:
        """The file a cell names, or None."""
        key = _key(value)
        if key is None:
            return None
        by_path, by_name, by_stem = self._index
        name = PurePosixPath(key).name
        hits = by_path.get(key) or by_name.get(name) or by_stem.get(name)
        if not hits:
            return self._by_words(key, split) or self._folder(key, split)
        candidates = [self.entries[i] for i in hits]
        if len(candidates) > 1 and split in SPLIT_WORDS:
            in_split = [c for c in candidates if c.words() & SPLIT_WORDS[split]]
            candidates = in_split or candidates
        # An image and its mask share a name (train/images/x.png, train/masks/x.png): the row names the image;
        # an image beside its annotations (hubmap's x.tiff and x.json): the image; an image beside its DICOM
        # copy (siim-isic's jpeg/train/x.jpg and train/x.dcm): the plain image.
        return min(candidates, key=lambda c: (c.archive is not None, bool(c.words() & ANSWER_FOLDER_WORDS),
                                              PurePosixPath(c.member).suffix.lower() not in IMAGE_SUFFIXES,
                                              is_dicom(c.member), c.member))

    @cached_property
    def _word_index(self) -> dict[str, set[int]]:
        index: dict[str, set[int]] = {}
        for i, entry in enumerate(self.entries):
            for word in _words(str(PurePosixPath(entry.archive or "", entry.member).with_suffix(""))):
                index.setdefault(word, set()).add(i)
        return index

    def _by_words(self, key: str, split: str | None) -> Located | None:
        """The one file whose path holds every word of the cell, one of them in the file's own name: an id
        spelling a nested path (`case12_day3_slice_0001` for `case12/case12_day3/scans/slice_0001_266_266.png`).
        None when no file or several do (an id naming a folder of files)."""
        words = _words(key)
        if not 2 <= len(words) <= MAX_PATH_WORDS or len(self.entries) > MAX_WORD_INDEXED:
            return None
        sets = sorted((self._word_index.get(w, set()) for w in words), key=len)
        hits = set.intersection(*sets)
        hits = {i for i in hits if words & _words(PurePosixPath(self.entries[i].member).stem)}
        if len(hits) > 1 and split in SPLIT_WORDS:
            hits = {i for i in hits if self.entries[i].words() & SPLIT_WORDS[split]} or hits
        return self.entries[hits.pop()] if len(hits) == 1 else None

    @cached_property
    def _folders(self) -> dict[str, list[str]]:
        by_name: dict[str, set[str]] = {}
        for entry in self.entries:
            if entry.archive is None:  # top-level folders are splits or collections (train/, images/), not a row's
                for parent in PurePosixPath(entry.member).parents[:-2]:
                    names = [parent.name.lower(), *([parent.name.lstrip("0")] if _padded_number(parent.name) else [])]
                    for name in names:
                        by_name.setdefault(name, set()).add(str(parent))
        return {name: sorted(paths) for name, paths in by_name.items()}

    def _folder(self, key: str, split: str | None) -> Located | None:
        """The folder of files a cell names (a study's slices: `train_images/<StudyInstanceUID>/`), in the rows'
        split when folders of that name are in several; the outermost of them."""
        candidates = [Located(None, path) for path in self._folders.get(PurePosixPath(key).name, [])]
        if len(candidates) > 1 and split in SPLIT_WORDS:
            candidates = [c for c in candidates if c.words() & SPLIT_WORDS[split]] or candidates
        return min(candidates, key=lambda c: (c.member.count("/"), c.member)) if candidates else None

    def share_found(self, values: pd.Series, sample: int = 200) -> float:
        """Share of a sample of the non-empty cells that name a file here."""
        present = values.dropna()
        if present.empty:
            return 0.0
        present = present.sample(min(sample, len(present)), random_state=0)
        return sum(self.find(v) is not None for v in present) / len(present)

    def image_share(self, values: pd.Series, sample: int = 200) -> float:
        """Share of a sample of the found files that are images (a folder of arrays that are an item's channels
        counts as one)."""
        present = values.dropna()
        present = present.sample(min(sample, len(present)), random_state=0) if len(present) else present
        found = [f for v in present if (f := self.find(v)) is not None]
        images = sum(f.suffix in IMAGE_SUFFIXES or (f.archive is None and not f.suffix
                                                     and is_array_record(self.folder / f.member)) for f in found)
        return images / len(found) if found else 0.0


def labelled_files(catalog: FileCatalog) -> pd.Series | None:
    """Labels of the training files of a competition that ships no train table, indexed by each
    file's path: the class folder a file sits in (`train/<class>/x.png`), else the word its name
    starts with (`train/cat.12.jpg`), else the one its name ends with (`train2/..._TRAIN7_1.aif`).
    None when the training files follow none of these patterns."""
    members: dict[str, Located] = {}
    for entry in catalog.entries:  # a folder and its zipped copy hold the same files: keep one
        if entry.words() & SPLIT_WORDS["train"]:
            members.setdefault(entry.member, entry)
    if len(members) < 4:
        return None
    paths = [PurePosixPath(m) for m in sorted(members)]
    folders = pd.Series([p.parent.name for p in paths], index=[str(p) for p in paths])
    in_class_folders = ~folders.str.lower().isin(SPLIT_WORDS["train"]) & (folders != "")
    if in_class_folders.mean() >= 0.9 and 2 <= folders[in_class_folders].nunique() <= len(paths) / 2:
        return folders[in_class_folders]
    names = pd.Series([p.name for p in paths], index=folders.index)
    stems = pd.Series([p.stem for p in paths], index=folders.index)
    for words in (names.str.extract(r"^([A-Za-z]+)[._ -]", expand=False),  # cat.12.jpg
                  stems.str.extract(r"[._ -]([A-Za-z0-9]+)$", expand=False)):  # 20090328_..._TRAIN7_1.aif
        if words.notna().all() and 2 <= words.nunique() <= min(100, len(paths) / 5):
            return words
    return None


def is_archive(path: Path) -> bool:
    """A zip, tar or 7z archive of files (iNaturalist ships its images as `train_val2019.tar.gz`, invasive-species
    as `train.7z`)."""
    return path.name.lower().endswith(ARCHIVE_SUFFIXES) and not is_table(path)


def _seven_zip_files(path: Path) -> list[str]:
    """A 7z archive's plain files that stay inside the folder they are extracted to (no link, no '..')."""
    import py7zr

    with py7zr.SevenZipFile(path) as archive:
        return [i.filename for i in archive.list() if i.is_file and not i.is_symlink and
                not i.filename.startswith("/") and ".." not in PurePosixPath(i.filename).parts]


def _archive_members(path: Path) -> list[str]:
    import py7zr

    try:
        if path.suffix.lower() == ".7z":
            return _seven_zip_files(path)
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
            return [n for n in names if not n.endswith("/") and not n.startswith("__MACOSX/")]
        with tarfile.open(path) as archive:  # a compressed tar is read through once to list it
            return [m.name for m in archive.getmembers() if m.isfile()]
    except (zipfile.BadZipFile, tarfile.TarError, py7zr.exceptions.ArchiveError, OSError, EOFError) as exc:
        log.warning("%s: cannot read the archive (%s); its files are not searched", path, exc)
        return []


def extract_archive(archive: Path, target: Path) -> Path:
    """Unpack `archive` into `target` once.

    The files go into a private folder that is renamed into place when complete, so runs sharing
    `target` (a bench's seeds in parallel) never read a half-written file, and an interrupted
    extraction leaves nothing that looks finished.
    """
    if (target / EXTRACTED_MARKER).exists():
        return target
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    log.info("extracting %s into %s", archive, target)
    import py7zr

    try:
        if archive.suffix.lower() == ".7z":
            with py7zr.SevenZipFile(archive) as opened:
                opened.extract(path=partial, targets=_seven_zip_files(archive))
        elif archive.suffix.lower() == ".zip":
            with zipfile.ZipFile(archive) as opened:
                opened.extractall(partial)  # zipfile drops absolute paths and '..' from member names
        else:
            with tarfile.open(archive) as opened:  # plain files and folders only, none outside `partial`
                members = [m for m in opened.getmembers() if (m.isfile() or m.isdir()) and
                           not m.name.startswith("/") and ".." not in PurePosixPath(m.name).parts]
                opened.extractall(partial, members=members,
                                  **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    except (zipfile.BadZipFile, tarfile.TarError, py7zr.exceptions.ArchiveError, EOFError) as exc:
        shutil.rmtree(partial, ignore_errors=True)
        kind = {".zip": "zip", ".7z": "7z"}.get(archive.suffix.lower(), "tar")
        raise InputError(f"not a valid {kind} archive ({exc})", archive) from None
    (partial / EXTRACTED_MARKER).touch()
    if target.exists() and not (target / EXTRACTED_MARKER).exists():  # left unfinished by an older version
        shutil.rmtree(target, ignore_errors=True)
    try:
        partial.rename(target)
    except OSError:  # another process finished first: use its copy
        shutil.rmtree(partial, ignore_errors=True)
    return target


def resolve_column(values: pd.Series, catalog: FileCatalog, cache_dir: Path, split: str) -> pd.Series:
    """Absolute paths of the files the cells name ("" when not found), extracting archives into `cache_dir`."""
    located = [catalog.find(v, split) for v in values]
    roots = {None: catalog.folder.resolve()}
    for archive in sorted({loc.archive for loc in located if loc is not None and loc.archive is not None}):
        target = Path(cache_dir).resolve() / Path(archive).with_suffix("")
        roots[archive] = extract_archive(catalog.folder / archive, target)
    paths = [str(roots[loc.archive] / loc.member) if loc is not None else "" for loc in located]
    return pd.Series(paths, index=values.index, dtype=object)


def attach_file_paths(train: pd.DataFrame, test: pd.DataFrame, file_columns: list[str], catalog: FileCatalog,
                      cache_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test with a `<column>__path` column per file column; an InputError when a column's files are absent."""
    train, test = train.copy(), test.copy()
    for column in file_columns:
        for frame, split in ((train, "train"), (test, "test")):
            paths = resolve_column(frame[column], catalog, cache_dir, split)
            named = frame[column].notna()
            missing = named & (paths == "")
            if named.any() and missing.all():
                examples = ", ".join(repr(str(v)) for v in frame.loc[named, column].head(3))
                archives = sorted({e.archive for e in catalog.entries if e.archive})
                raise InputError(
                    f"column {column!r} names files ({examples}, ...) but none of the {split} rows' files is below "
                    f"this folder or in its archives ({', '.join(archives) or 'none'})", catalog.folder)
            if missing.any():
                log.warning("%s: %d of %d %s files named by column %r are missing", catalog.folder, int(missing.sum()),
                            int(named.sum()), split, column)
            frame[path_column(column)] = paths
    return train, test


def file_paths(frame: pd.DataFrame, column: str) -> pd.Series:
    """The absolute path of the file each row's `column` names ("" when missing), as the run resolved it."""
    name = path_column(column)
    if name not in frame.columns:
        raise KeyError(f"{name!r} is missing: file columns are resolved when the run prepares its data "
                       "(pipelines.files.attach_file_paths)")
    return frame[name].fillna("").astype(str)


@lru_cache(maxsize=200_000)
def _stats(path: str) -> tuple[float, ...]:
    size = float(os.path.getsize(path))
    width = height = channels = mean = std = red = green = blue = np.nan
    if Path(path).suffix.lower() in IMAGE_SUFFIXES:
        try:
            with open_image(path) as image:
                width, height = image.size
                channels = float(len(image.getbands()))
                image.draft("RGB", (64, 64))  # JPEG decoders shrink while decoding: fast
                pixels = np.asarray(as_8bit(image).convert("RGB").resize((32, 32)), dtype=np.float32) / 255.0
            mean, std = float(pixels.mean()), float(pixels.std())
            red, green, blue = (float(v) for v in pixels.reshape(-1, 3).mean(axis=0))
        except Exception:  # an unreadable image keeps its size only
            pass
    aspect = width / height if height and not np.isnan(height) else np.nan
    return (1.0, size, float(width), float(height), aspect, channels, mean, std, red, green, blue)


SIGNAL_STATS = ("mean", "std", "min", "max", "q01", "q99", "missing", "step_std")
ARRAY_SUFFIXES = (".npy", ".npz")
MAX_SLICES = 16  # an array's first axis up to this long is read as that many channels (seti's six panels)
FOLDER_IMAGES = 8  # images read from a folder of a row's files
PARALLEL_FILES = 5000  # more files than this are read by several processes
FILES_PER_TASK = 2000


@lru_cache(maxsize=50_000)
def _array_stats(path: str) -> dict[str, float]:
    """A saved array's level, spread, extremes and roughness (spread of steps along its last axis), for
    the whole array and, when its first axis is short, for each slice of it: seti's cadence stacks six
    panels, and a signal in some panels and not the others is what tells a needle from noise."""
    try:
        loaded = np.load(path, allow_pickle=False)
        array = loaded[loaded.files[0]] if isinstance(loaded, np.lib.npyio.NpzFile) else loaded
        array = np.asarray(array, dtype=np.float64)
    except Exception:  # an unreadable array keeps the file statistics only
        return {}
    parts = {"all": array}
    if array.ndim >= 2 and array.shape[0] <= MAX_SLICES:
        parts.update({f"s{i}": array[i] for i in range(array.shape[0])})
    stats: dict[str, float] = {}
    for name, part in parts.items():
        values = part[np.isfinite(part)]
        if values.size == 0:
            continue
        steps = np.diff(part, axis=-1) if part.ndim and part.shape[-1] > 1 else np.zeros(1)
        stats.update({f"array_{name}_mean": float(values.mean()), f"array_{name}_std": float(values.std()),
                      f"array_{name}_min": float(values.min()), f"array_{name}_max": float(values.max()),
                      f"array_{name}_step_std": float(np.nanstd(steps))})
    return stats


@lru_cache(maxsize=50_000)
def _signal_stats(path: str, max_columns: int = 40) -> dict[str, float]:
    """Per numeric column of a row's own table (a seismograph segment, an EEG recording): level,
    spread, extremes, missing share and how rough the signal is (spread of its steps)."""
    try:
        frame = read_table(Path(path)).select_dtypes("number").iloc[:, :max_columns]
    except Exception:  # an unreadable table keeps the file statistics only
        return {}
    stats: dict[str, float] = {}
    for col in frame.columns:
        values = frame[col].to_numpy(dtype=np.float64)
        present = values[~np.isnan(values)]
        if present.size == 0:
            stats[f"{col}_missing"] = 1.0
            continue
        q01, q99 = np.quantile(present, [0.01, 0.99])
        facts = (present.mean(), present.std(), present.min(), present.max(), q01, q99,
                 1 - present.size / values.size, np.diff(present).std() if present.size > 1 else np.nan)
        stats.update({f"{col}_{stat}": float(v) for stat, v in zip(SIGNAL_STATS, facts)})
    return stats


@lru_cache(maxsize=50_000)
def _folder_stats(path: str) -> dict[str, float]:
    """A folder of a row's files (a scan's slices, a study's series): how many, how large, and the levels of
    up to FOLDER_IMAGES of its images spread over it, in their own units (a CT's bone is bright in every scan)."""
    files = sorted(p for p in Path(path).rglob("*") if p.is_file())
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    stats = {"folder_files": float(len(files)), "folder_bytes": float(sum(p.stat().st_size for p in files)),
             "folder_images": float(len(images))}
    levels = []
    for image in [images[i] for i in np.unique(np.linspace(0, len(images) - 1, FOLDER_IMAGES).astype(int))] \
            if images else []:
        try:
            with open_image(image) as opened:
                pixels = np.asarray(opened.convert("L") if opened.mode not in DEEP_MODES else opened, dtype=np.float32)
        except Exception:  # an unreadable image adds nothing
            continue
        levels.append((pixels.mean(), pixels.std(), *np.quantile(pixels, [0.5, 0.99]), min(pixels.shape)))
    if levels:
        table = np.array(levels)
        for j, stat in enumerate(("mean", "std", "median", "q99", "side")):
            stats.update({f"folder_{stat}_mean": float(table[:, j].mean()),
                          f"folder_{stat}_max": float(table[:, j].max())})
    return stats


def _file_row(path: Any) -> dict[str, float]:
    found = isinstance(path, str) and path and os.path.isfile(path)
    row = dict(zip(STAT_NAMES, _stats(path) if found else (0.0,) + (np.nan,) * (len(STAT_NAMES) - 1)))
    if not found and isinstance(path, str) and path and os.path.isdir(path):
        row.update(exists=1.0, **_folder_stats(path))
    if found and is_table(Path(path)):
        row.update(_signal_stats(path))
    elif found and Path(path).suffix.lower() in AUDIO_SUFFIXES:
        row.update(audio_statistics(path))
    elif found and Path(path).suffix.lower() in ARRAY_SUFFIXES:
        row.update(_array_stats(path))
    return row


def _file_rows(paths: list[Any]) -> list[dict[str, float]]:
    return [_file_row(p) for p in paths]


def file_statistics(paths: pd.Series, name: str, n_jobs: int = 1) -> pd.DataFrame:
    """One row of statistics per path: whether the file exists, its size, image facts for images,
    for a table of its own (`train/<id>.csv`) statistics of each of its numeric columns, for a
    sound file its spectrum's band energies, for a NumPy array its slices' statistics, and for a
    folder of files its files' count, size and image levels. Many files are read by `n_jobs` forked processes:
    decoding holds the GIL (Pillow's TIFF reader is Python), and 237,000 patches took 2 minutes on one core."""
    values = list(paths)
    rows = None
    if n_jobs > 1 and len(values) > PARALLEL_FILES:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        chunks = [values[i:i + FILES_PER_TASK] for i in range(0, len(values), FILES_PER_TASK)]
        try:
            with ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                rows = [row for chunk in pool.map(_file_rows, chunks) for row in chunk]
        except (BrokenProcessPool, OSError) as exc:  # a process limit, memory: read them here instead
            log.warning("reading file statistics in one process: %s", exc)
    if rows is None:
        rows = _file_rows(values)
    frame = pd.DataFrame(rows, index=paths.index, dtype="float64")
    return frame.add_prefix(f"{name}_")
