"""What the layout generators share: generated text, the usual train/test/sample split, images, audio and
the zip archives real competitions ship their files in."""

from __future__ import annotations

import shutil
import warnings
import wave
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

WORDS = ("good bad great terrible fine awful nice poor clear wrong right helpful useless long short detailed vague "
         "funny boring kind rude").split()


def sentence(rng: np.random.Generator, n: int, lean: float = 0.0) -> str:
    """`n` words; a positive `lean` prefers the first words of the vocabulary, a negative one the others."""
    idx = rng.integers(0, len(WORDS), n)
    if lean:
        idx = np.where(rng.random(n) < abs(lean), (np.arange(n) % 5) * 2 + (0 if lean > 0 else 1), idx)
    return " ".join(WORDS[i] for i in idx)


def split(frame: pd.DataFrame, n_train: int, folder: Path, id_column: str, targets: list[str],
          sample_values: dict[str, object], test_name: str = "test.csv", train_name: str = "train.csv") -> pd.DataFrame:
    """Write the train table, the test table and sample_submission.csv; return the answers."""
    folder.mkdir(parents=True, exist_ok=True)
    frame.iloc[:n_train].to_csv(folder / train_name, index=False)
    test = frame.iloc[n_train:]
    test.drop(columns=targets).to_csv(folder / test_name, index=False)
    pd.DataFrame({id_column: test[id_column], **sample_values}).to_csv(folder / "sample_submission.csv", index=False)
    return test[[id_column, *targets]]


def hex_ids(rng: np.random.Generator, n: int, digits: int) -> list[str]:
    """`n` distinct random lowercase hex strings of `digits` characters, like Kaggle's hashed ids."""
    ids: set[str] = set()
    while len(ids) < n:
        ids.update(rng.bytes((digits + 1) // 2).hex()[:digits] for _ in range(n - len(ids)))
    return list(rng.permutation(sorted(ids)))


def save_image(path: Path, pixels: np.ndarray, **options) -> None:
    """An array of 0-255 values (H, W) or (H, W, 3) written in the format the suffix names."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, **options)


def _dicom(sop_class: str, pixels: np.ndarray):
    """An uncompressed DICOM dataset of `sop_class` for an image the size of `pixels`, its pixels not yet set."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    scan = pydicom.Dataset()
    scan.file_meta = meta
    scan.SOPClassUID, scan.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    scan.Rows, scan.Columns = pixels.shape[:2]
    return scan


def _save(scan, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scan.save_as(path, enforce_file_format=True)


def save_colour_dicom(path: Path, pixels: np.ndarray) -> None:
    """An (H, W, 3) array of 0-255 values as an uncompressed colour DICOM file (siim-isic's photographs)."""
    scan = _dicom("1.2.840.10008.5.1.4.1.1.7", pixels)  # secondary capture
    scan.SamplesPerPixel, scan.PhotometricInterpretation, scan.PlanarConfiguration = 3, "RGB", 0
    scan.BitsAllocated, scan.BitsStored, scan.HighBit, scan.PixelRepresentation = 8, 8, 7, 0
    scan.PixelData = np.clip(pixels, 0, 255).astype(np.uint8).tobytes()
    _save(scan, path)


def save_dicom(path: Path, pixels: np.ndarray, modality: str = "CT", intercept: float | None = -1024.0,
               photometric: str = "MONOCHROME2", **elements) -> None:
    """An (H, W) array of stored values (0-65535) as an uncompressed 16-bit grey DICOM file: by default a CT
    slice, RescaleSlope 1 and RescaleIntercept -1024 (Hounsfield units are the stored values minus 1024);
    `modality` "MR" or "MG" (mammography), `intercept=None` for no rescale at all, `photometric` "MONOCHROME1"
    where 0 is white; `elements` further attributes by keyword (InstanceNumber=3, ImagePositionPatient=[...])."""
    storage = {"CT": "1.2.840.10008.5.1.4.1.1.2", "MR": "1.2.840.10008.5.1.4.1.1.4",
               "MG": "1.2.840.10008.5.1.4.1.1.1.2"}  # digital mammography, for presentation
    scan = _dicom(storage[modality], pixels)
    scan.Modality = modality
    for keyword, value in elements.items():
        setattr(scan, keyword, value)
    scan.SamplesPerPixel, scan.PhotometricInterpretation = 1, photometric
    scan.BitsAllocated, scan.BitsStored, scan.HighBit, scan.PixelRepresentation = 16, 16, 15, 0
    if intercept is not None:
        scan.RescaleSlope, scan.RescaleIntercept = 1, intercept
    scan.PixelData = np.clip(pixels, 0, 65535).astype("<u2").tobytes()
    _save(scan, path)


def save_wav(path: Path, signal: np.ndarray, rate: int) -> None:
    """A mono 16-bit PCM file; `signal` in [-1, 1]."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
        out.writeframes((np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes())


def save_aiff(path: Path, signal: np.ndarray, rate: int) -> None:
    """A mono 16-bit AIFF file (big-endian samples); `signal` in [-1, 1]."""
    with warnings.catch_warnings():  # aifc is deprecated from Python 3.11 and the only stdlib AIFF writer
        warnings.simplefilter("ignore", DeprecationWarning)
        import aifc
    path.parent.mkdir(parents=True, exist_ok=True)
    with aifc.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
        out.writeframes((np.clip(signal, -1, 1) * 32767).astype(">i2").tobytes())


def zip_away(path: Path, archive: Path | None = None) -> None:
    """Replace a file or folder by a zip archive holding it under its own name (`train/x.jpg`), as Kaggle ships them."""
    archive = archive or path.with_name(path.name + ".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for item in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if item.is_file():
                out.write(item, item.relative_to(path.parent).as_posix())
    shutil.rmtree(path) if path.is_dir() else path.unlink()
