"""Opening an image file, DICOM included, as a Pillow image: every reader of images goes through here.

Medical competitions ship scans as DICOM (`.dcm`, or `.dicom`): pixel values of up to 16 bits, stored inverted
when the photometric interpretation is MONOCHROME1, and a rescale to the modality's units. Pillow
cannot read them; pydicom can. A DICOM scan becomes a 16-bit grey image (mode `I;16`) of its
rescaled values (its stored values where those go negative, as CT's Hounsfield units do), which the
readers window as they do any deep image; colour DICOM becomes RGB. Compressed pixel data needs
pydicom's optional decoders (pylibjpeg, GDCM); a file none can decode raises OSError, which readers
treat as an unreadable image. Models read images as squares of a few dozen pixels (`load_images`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

DICOM_SUFFIXES = (".dcm", ".dicom")
DEEP_MODES = ("I", "I;16", "I;16B", "I;16L", "F")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", *DICOM_SUFFIXES}


def is_dicom(path: str | Path) -> bool:
    return Path(path).suffix.lower() in DICOM_SUFFIXES


def open_image(path: str | Path) -> Image.Image:
    """The image at `path` (use it as a context manager, as `Image.open`'s)."""
    if not is_dicom(path):
        return Image.open(path)
    import pydicom

    try:
        scan = pydicom.dcmread(path)
        pixels = scan.pixel_array
    except Exception as exc:  # pydicom raises many kinds: a missing decoder, a truncated file
        raise OSError(f"cannot decode DICOM {path}: {exc}") from exc
    if pixels.ndim == 3 and pixels.shape[-1] == 3:
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="RGB")
    if pixels.ndim == 3:  # several frames: the middle one
        pixels = pixels[len(pixels) // 2]
    slope, intercept = float(getattr(scan, "RescaleSlope", 1) or 1), float(getattr(scan, "RescaleIntercept", 0) or 0)
    values = pixels.astype(np.float64) * slope + intercept
    if values.min() < 0:  # CT's Hounsfield units (air -1000): stored units, the same offset in every scan
        values -= intercept
    if getattr(scan, "PhotometricInterpretation", "") == "MONOCHROME1":
        values = values.max() - values
    return Image.fromarray(np.clip(values, 0, 65535).astype(np.uint16))


def image_size(path: str | Path) -> tuple[int, int]:
    """(height, width) from the file's header, without decoding its pixels."""
    if not is_dicom(path):
        with Image.open(path) as image:
            return image.height, image.width
    import pydicom

    try:
        scan = pydicom.dcmread(path, stop_before_pixels=True)
        return int(scan.Rows), int(scan.Columns)
    except Exception as exc:  # pydicom raises many kinds: a truncated file, a missing tag
        raise OSError(f"cannot read the DICOM header of {path}: {exc}") from exc


def as_8bit(image: Image.Image) -> Image.Image:
    """A deep image (16-bit, integer or float) windowed to 8 bits between its 1st and 99th percentiles;
    others as they are."""
    if image.mode not in DEEP_MODES:
        return image
    pixels = np.asarray(image, dtype=np.float32)
    low, high = np.percentile(pixels, (1, 99))
    return Image.fromarray(np.clip((pixels - low) / max(high - low, 1e-6) * 255, 0, 255).astype(np.uint8))


def _load_one(path: str, side: int, channels: int) -> np.ndarray | None:
    try:
        with open_image(path) as image:
            image.draft("RGB" if channels == 3 else "L", (side, side))  # JPEG decodes at a reduced scale: fast
            image = as_8bit(image).convert("RGB" if channels == 3 else "L").resize((side, side),
                                                                                   Image.Resampling.BILINEAR)
            array = np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError):
        return None
    return array.reshape(side, side, channels)


def load_images(paths: Sequence[str], side: int, channels: int, n_jobs: int) -> tuple[np.ndarray, int]:
    """All images as one (n, channels, side, side) uint8 array, and how many could not be read (left black).

    Threads suffice: Pillow releases the GIL while it decodes and resizes.
    """
    out = np.zeros((len(paths), channels, side, side), dtype=np.uint8)
    failed = 0
    with ThreadPoolExecutor(max_workers=max(2, n_jobs)) as pool:
        for i, array in enumerate(pool.map(lambda p: _load_one(p, side, channels) if p else None, paths)):
            if array is None:
                failed += 1
            else:
                out[i] = array.transpose(2, 0, 1)
    return out, failed


_squares: dict[tuple[str, int, int], np.ndarray] = {}  # a candidate's folds read each image once


def cached_images(paths: Sequence[str], side: int, channels: int, n_jobs: int) -> np.ndarray:
    """`load_images` of these paths, each decoded once per process (black where unreadable or "")."""
    missing = [p for p in dict.fromkeys(paths) if p and (p, side, channels) not in _squares]
    if missing:
        pixels, _ = load_images(missing, side, channels, n_jobs)
        _squares.update(((p, side, channels), x) for p, x in zip(missing, pixels))
    blank = np.zeros((channels, side, side), dtype=np.uint8)
    return np.stack([_squares.get((p, side, channels), blank) for p in paths]) if len(paths) else \
        np.zeros((0, channels, side, side), dtype=np.uint8)
