"""Opening an image file, DICOM included, as a Pillow image: every reader of images goes through here.

Medical competitions ship scans as DICOM (`.dcm`, or `.dicom`): pixel values of up to 16 bits, stored inverted
when the photometric interpretation is MONOCHROME1, and a rescale to the modality's units. Pillow
cannot read them; pydicom can. A DICOM scan becomes a 16-bit grey image (mode `I;16`) of its
rescaled values (its stored values where those go negative, as CT's Hounsfield units do), which the
readers window as they do any deep image; colour DICOM becomes RGB. Compressed pixel data needs
pydicom's optional decoders (pylibjpeg, GDCM); a file none can decode raises OSError, which readers
treat as an unreadable image. Models read images as squares of a few dozen pixels (`load_images`).

A folder of NumPy arrays can be one item's image too (satellite records: a band per array), its arrays the
channels (`read_array_record`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

DICOM_SUFFIXES = (".dcm", ".dicom")
DEEP_MODES = ("I", "I;16", "I;16B", "I;16L", "F")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", *DICOM_SUFFIXES}
ANSWER_FOLDER_WORDS = {"mask", "masks", "label", "labels", "annotation", "annotations", "gt", "cleaned"}
RECORD_COLOUR_AXIS = 4  # a record array's last axis of at most this many values holds colours, not frames


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
    if Path(path).is_dir():
        return record_size(path)
    if not is_dicom(path):
        with Image.open(path) as image:
            return image.height, image.width
    import pydicom

    try:
        scan = pydicom.dcmread(path, stop_before_pixels=True)
        return int(scan.Rows), int(scan.Columns)
    except Exception as exc:  # pydicom raises many kinds: a truncated file, a missing tag
        raise OSError(f"cannot read the DICOM header of {path}: {exc}") from exc


def names_answer(stem: str) -> bool:
    """Whether a file or folder name says it holds answers (`masks`, `train_labels`, `human_pixel_masks`)."""
    return bool(set(re.split(r"[^a-z0-9]+", stem.lower())) & ANSWER_FOLDER_WORDS)


def is_array_record(path: str | Path) -> bool:
    """A folder of NumPy arrays that are one item's channels (contrails' `<record_id>/band_08.npy` ...)."""
    path = Path(path)
    return path.is_dir() and any(p.suffix == ".npy" for p in path.iterdir())


def record_inputs(path: str | Path) -> list[Path]:
    """A record's input arrays: its `.npy` files whose names do not say they are answers (`human_pixel_masks`)."""
    return sorted(p for p in Path(path).glob("*.npy") if not names_answer(p.stem))


def record_size(path: str | Path) -> tuple[int, int]:
    """(height, width) of a record's first input array, read from its header."""
    inputs = record_inputs(path)
    if not inputs:
        raise OSError(f"{path}: no input arrays")
    first = np.load(inputs[0], mmap_mode="r", allow_pickle=False)
    return int(first.shape[0]), int(first.shape[1])


def read_array_record(path: str | Path) -> np.ndarray:
    """A record's inputs as one (H, W, C) float32 image: a 2-D array is a channel; a 3-D array's last axis holds its
    channels when it has at most RECORD_COLOUR_AXIS of them (a colour image), else frames in time, of which the
    middle one (the labelled frame of a sequence centred on it) is the channel. Arrays of another size are left out."""
    size, channels = None, []
    for array_path in record_inputs(path):
        array = np.load(array_path, allow_pickle=False)
        if array.ndim not in (2, 3) or (size is not None and array.shape[:2] != size):
            continue
        size = array.shape[:2]
        if array.ndim == 2:
            channels.append(array)
        elif array.shape[2] <= RECORD_COLOUR_AXIS:
            channels.extend(np.moveaxis(array, 2, 0))
        else:
            channels.append(array[:, :, array.shape[2] // 2])
    if not channels:
        raise OSError(f"{path}: no input arrays of one size")
    return np.stack(channels, axis=-1).astype(np.float32)


def as_8bit(image: Image.Image) -> Image.Image:
    """A deep image (16-bit, integer or float) windowed to 8 bits between its 1st and 99th percentiles;
    others as they are."""
    if image.mode not in DEEP_MODES:
        return image
    pixels = np.asarray(image, dtype=np.float32)
    low, high = np.percentile(pixels, (1, 99))
    return Image.fromarray(np.clip((pixels - low) / max(high - low, 1e-6) * 255, 0, 255).astype(np.uint8))


def _record_square(path: str, side: int, channels: int) -> np.ndarray:
    """A record as an 8-bit square: each channel windowed between its 1st and 99th percentiles, the first
    three as colours (or their mean as grey)."""
    values = read_array_record(path)
    low, high = np.percentile(values, (1, 99), axis=(0, 1))
    scaled = np.clip((values - low) / np.maximum(high - low, 1e-6) * 255, 0, 255)
    picked = scaled[:, :, :3] if channels == 3 and scaled.shape[2] >= 3 else scaled.mean(axis=2, keepdims=True)
    planes = [Image.fromarray(picked[:, :, c].astype(np.uint8)).resize((side, side), Image.Resampling.BILINEAR)
              for c in range(picked.shape[2])]
    return np.broadcast_to(np.stack(planes, axis=-1), (side, side, channels)).copy()


def _load_one(path: str, side: int, channels: int) -> np.ndarray | None:
    try:
        if Path(path).is_dir():
            return _record_square(path, side, channels)
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
