"""Opening an image file, DICOM included, as a Pillow image: every reader of images goes through here.

Medical competitions ship scans as DICOM (`.dcm`, or `.dicom`): pixel values of up to 16 bits, stored inverted
when the photometric interpretation is MONOCHROME1, and a rescale to the modality's units. Pillow
cannot read them; pydicom can. A DICOM scan becomes a 16-bit grey image (mode `I;16`) of its
rescaled values (its stored values where those go negative, as CT's Hounsfield units do), which the
readers window as they do any deep image; colour DICOM becomes RGB. Compressed pixel data needs
pydicom's optional decoders (pylibjpeg, GDCM); a file none can decode raises OSError, which readers
treat as an unreadable image.
"""

from __future__ import annotations

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
