"""Download a competition's data once, unzipped, into data/competitions/<slug>/.

The data is fetched and unpacked into a hidden staging folder which is renamed into place only
when complete, with a marker file recording the download; an interrupted download leaves no
marker and is redone on the next call, and a cached one costs no network call at all.
"""

from __future__ import annotations

import json
import logging
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from agent.kaggle.client import kaggle_api
from agent.kaggle.errors import KaggleError, call

if TYPE_CHECKING:
    from kaggle.api.kaggle_api_extended import KaggleApi

log = logging.getLogger(__name__)

MARKER = ".kaggle-download.json"
DEFAULT_ROOT = Path("data/competitions")
_LIST_PAGE_SIZE = 200
_LIST_MAX_PAGES = 5  # enough to check a tabular competition; image sets list thousands of files
_MAX_NESTING = 3


def download_competition(slug: str, root: Path = DEFAULT_ROOT, force: bool = False) -> Path:
    """The folder holding the competition's files (train, test, sample_submission), downloaded if needed.

    `force` downloads again and replaces the cached copy.
    """
    folder = Path(root) / slug
    if (folder / MARKER).is_file() and not force:
        log.info("using the cached download of %s in %s", slug, folder)
        return _data_folder(folder)
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).is_file() and not force:
        raise KaggleError(
            "holds files that were not downloaded by agent; pass --force to replace them with Kaggle's data",
            where=folder,
        )

    api = kaggle_api()
    listed, complete_listing = _list_files(api, slug)
    if not listed:
        raise KaggleError(f"Kaggle lists no data files for {slug}; see https://www.kaggle.com/competitions/{slug}/data")
    log.info("downloading %s: %d files, %.1f MB", slug, len(listed), sum(listed.values()) / 1e6)

    staging = Path(root) / f".{slug}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        what = f"download the data of {slug}"
        call(api.competition_download_files, slug, path=str(staging), force=True, quiet=True, slug=slug, what=what)
        _unzip_all(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if complete_listing:
        _warn_missing(listed, _data_folder(staging))

    record = {
        "slug": slug,
        "files": sorted(listed),
        "bytes": sum(listed.values()),
        "downloaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    (staging / MARKER).write_text(json.dumps(record, indent=1))
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)
    return _data_folder(folder)


def _list_files(api: KaggleApi, slug: str) -> tuple[dict[str, int], bool]:
    """File name -> size as Kaggle lists them, and whether the listing is complete."""
    files: dict[str, int] = {}
    token: str | None = None
    for _ in range(_LIST_MAX_PAGES):
        what = f"list the data files of {slug}"
        page = call(api.competition_list_files, slug, page_token=token, page_size=_LIST_PAGE_SIZE, slug=slug, what=what)
        files.update({file.name: file.total_bytes or 0 for file in page.files})
        token = page.next_page_token
        if not token:
            return files, True
    return files, False


def _unzip_all(folder: Path) -> None:
    """Unpack the competition archive and the archives inside it (train.csv.zip), deleting each archive.

    `zipfile` drops absolute paths and '..' from member names, so nothing lands outside `folder`.
    """
    for _ in range(_MAX_NESTING):
        archives = [path for path in folder.rglob("*.zip") if path.is_file()]
        if not archives:
            return
        for archive in archives:
            try:
                with zipfile.ZipFile(archive) as zipped:
                    zipped.extractall(archive.parent)
            except zipfile.BadZipFile:
                raise KaggleError("the downloaded archive is damaged; run the download again", where=archive) from None
            archive.unlink()


def _warn_missing(listed: dict[str, int], folder: Path) -> None:
    missing = [
        name for name in listed if not (folder / name).exists() and not (folder / name.removesuffix(".zip")).exists()
    ]
    if missing:
        log.warning("Kaggle lists files that are not in the download: %s", ", ".join(sorted(missing)[:10]))


def _data_folder(folder: Path) -> Path:
    """`folder`, or the single folder inside it when the archive wrapped everything in one."""
    entries = [entry for entry in folder.iterdir() if entry.name != MARKER]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else folder
