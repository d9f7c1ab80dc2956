"""Items that are folders of NumPy arrays, answered by a mask each: the train table made from the folders.

google-research-identify-contrails ships `test/<record_id>/band_08.npy ... band_16.npy` (the bands of a
satellite record), the same folders under `train/` and `validation/` with `human_pixel_masks.npy` (the mask)
beside them, metadata JSON that test lacks, and a sample of `record_id, encoded_pixels` (plus the masks'
height and width, which the submission keeps). Read as a table of records whose id names its folder and whose
answer is its mask's run-length string, the mask harness and its U-Net apply unchanged; the folder is the row's
image (`pipelines.image_files.read_array_record`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines import rle
from pipelines.image_files import names_answer, record_inputs, record_size
from pipelines.shapes.masks import is_rle_column

log = logging.getLogger(__name__)

CHECKED_IDS = 20  # of the sample's, that must name record folders
SIZE_WORDS = ("height", "width")


@dataclass
class ArrayRecords:
    """Training records with their mask's name, the test records' folder, and the sample's columns."""

    train: list[Path]
    mask_name: str
    test: Path
    sample: pd.DataFrame
    answer_column: str
    order: str  # the run-length strings' pixel order, as the description says

    def spec_layer(self) -> dict[str, object]:
        return {"answer_shape": "mask", "id_column": self.sample.columns[0]}

    def train_table(self, seed: int = 0) -> pd.DataFrame:
        id_column = self.sample.columns[0]
        runs = []
        for record in self.train:
            mask = np.load(record / self.mask_name, allow_pickle=False)
            runs.append(rle.encode(mask.reshape(mask.shape[:2]), self.order))
        ids = pd.Series([r.name for r in self.train])
        numbers = pd.to_numeric(ids, errors="coerce")
        if pd.api.types.is_integer_dtype(self.sample[id_column]) and numbers.notna().all():  # as the sample reads them
            ids = numbers.astype(self.sample[id_column].dtype)
        return pd.DataFrame({id_column: ids, self.answer_column: runs})

    def test_table(self) -> pd.DataFrame:
        return self.sample.iloc[:, :1].copy()


def _size_axis(column: str) -> int | None:
    lowered = str(column).lower()
    return next((axis for axis, word in enumerate(SIZE_WORDS) if word in lowered), None)


def _mask_name(record: Path, inputs: set[str], size: tuple[int, int]) -> str | None:
    """The array of a training record beside its inputs that is a 0/1 mask of their size, named as an answer."""
    for path in sorted(record.glob("*.npy")):
        if path.name in inputs or not names_answer(path.stem):
            continue
        array = np.load(path, mmap_mode="r", allow_pickle=False)
        if array.shape[:2] == size and (array.ndim == 2 or array.shape[2:] == (1,)) and np.isin(array, (0, 1)).all():
            return path.name
    return None


def find_array_records(folder: Path, sample: pd.DataFrame, order: str) -> ArrayRecords | None:
    """The layout above: the sample's ids name folders of arrays in one folder, its one answer besides sizes is
    written as run-length strings, and other folders hold records with the same arrays and a mask; None else."""
    if sample.empty or len(sample.columns) < 2:
        return None
    answers = [c for c in sample.columns[1:] if _size_axis(c) is None]
    if len(answers) != 1 or not is_rle_column(sample[answers[0]]):
        return None
    ids = sample.iloc[:, 0].astype(str)
    splits = [d for d in sorted(folder.iterdir()) if d.is_dir()]
    test = next((d for d in splits if (d / ids.iloc[0]).is_dir()), None)
    if test is None or not all((test / i).is_dir() for i in ids.head(CHECKED_IDS)):
        return None
    inputs = {p.name for p in record_inputs(test / ids.iloc[0])}
    if not inputs:
        return None
    size = record_size(test / ids.iloc[0])
    candidates = [r for d in splits if d != test for r in sorted(d.iterdir())
                  if r.is_dir() and all((r / name).is_file() for name in inputs)]
    if not candidates:
        return None
    mask_name = next((m for r in candidates[:CHECKED_IDS] if (m := _mask_name(r, inputs, size))), None)
    if mask_name is None:
        return None
    train = [r for r in candidates if (r / mask_name).is_file()]
    log.info("%s: %d training records of %d arrays with %s as their mask; test records in %s/", folder, len(train),
             len(inputs), mask_name, test.name)
    return ArrayRecords(train, mask_name, test, sample, answers[0], order)
