"""DICOM scans read as images: 16-bit values rescaled and windowed, MONOCHROME1 inverted, and a plain
image preferred to its DICOM copy (siim-isic ships `train/x.dcm` beside `jpeg/train/x.jpg`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from pipelines.files import FileCatalog, file_statistics
from pipelines.image_files import as_8bit, image_size, open_image


def write_dicom(path: Path, pixels: np.ndarray, *, monochrome1: bool = False, slope: float = 1.0,
                intercept: float = 0.0) -> Path:
    """An uncompressed 16-bit grey DICOM file, as scanners write them."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    scan = pydicom.Dataset()
    scan.file_meta = meta
    scan.SOPClassUID, scan.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    scan.Rows, scan.Columns = pixels.shape
    scan.SamplesPerPixel, scan.BitsAllocated, scan.BitsStored, scan.HighBit = 1, 16, 12, 11
    scan.PixelRepresentation = 0
    scan.PhotometricInterpretation = "MONOCHROME1" if monochrome1 else "MONOCHROME2"
    scan.RescaleSlope, scan.RescaleIntercept = slope, intercept
    scan.PixelData = pixels.astype(np.uint16).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    scan.save_as(path, enforce_file_format=True)
    return path


def test_a_dicom_scan_opens_as_a_deep_grey_image(tmp_path: Path) -> None:
    pixels = np.zeros((20, 30), dtype=np.uint16) + 1000
    pixels[5:10, 5:10] = 3000  # a bright square
    with open_image(write_dicom(tmp_path / "a.dcm", pixels, slope=2.0, intercept=-1024)) as image:
        assert image.size == (30, 20) and image.mode == "I;16"
        values = np.asarray(image)
    assert values.min() == 2 * 1000 - 1024 and values[5, 5] == 2 * 3000 - 1024  # rescaled
    with open_image(write_dicom(tmp_path / "ct.dcm", pixels - 1000, intercept=-1024)) as image:
        stored = np.asarray(image)  # air at -1024 Hounsfield units: the stored values, never negative
    assert stored.min() == 0 and stored[5, 5] == 2000
    with open_image(write_dicom(tmp_path / "b.dcm", pixels, monochrome1=True)) as image:
        inverted = np.asarray(image)
    assert inverted[5, 5] == 0 and inverted[0, 0] == 2000  # MONOCHROME1 stores bright as low
    with open_image(tmp_path / "a.dcm") as image:
        window = np.asarray(as_8bit(image))
    assert window.dtype == np.uint8 and window[5, 5] == 255 and window[0, 0] == 0


def test_a_dicom_file_named_dicom_opens_and_its_size_comes_from_the_header(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "scan.dicom", np.full((24, 40), 500, dtype=np.uint16))  # vinbigdata's suffix
    assert image_size(path) == (24, 40)
    with open_image(path) as image:
        assert image.size == (40, 24) and image.mode == "I;16"
    header_only = tmp_path / "header.dcm"
    header_only.write_bytes(path.read_bytes()[:-24 * 40 * 2 + 10])  # the pixels cut short: the header still reads
    assert image_size(header_only) == (24, 40)


def test_a_broken_dicom_file_is_an_unreadable_image(tmp_path: Path) -> None:
    (tmp_path / "broken.dcm").write_bytes(b"DICM" * 10)
    with pytest.raises(OSError):
        open_image(tmp_path / "broken.dcm")
    stats = file_statistics(pd.Series([str(tmp_path / "broken.dcm")]), "scan")
    assert stats["scan_bytes"][0] == 40 and np.isnan(stats["scan_width"][0])


def test_file_statistics_read_a_dicom_scans_size_and_levels(tmp_path: Path) -> None:
    pixels = np.full((16, 24), 500, dtype=np.uint16)
    pixels[:, 12:] = 2500
    stats = file_statistics(pd.Series([str(write_dicom(tmp_path / "s.dcm", pixels))]), "scan")
    assert stats["scan_width"][0] == 24 and stats["scan_height"][0] == 16
    assert 0.3 < stats["scan_mean"][0] < 0.7 and stats["scan_std"][0] > 0.3  # windowed, not saturated


def test_a_plain_image_wins_over_its_dicom_copy(tmp_path: Path) -> None:
    pixels = np.random.default_rng(0).integers(0, 4000, (8, 8))
    write_dicom(tmp_path / "dicom" / "train" / "ISIC_0001.dcm", pixels)
    (tmp_path / "jpeg" / "train").mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(tmp_path / "jpeg" / "train" / "ISIC_0001.jpg")
    write_dicom(tmp_path / "dicom" / "train" / "ISIC_0002.dcm", pixels)  # no plain copy: the scan itself
    catalog = FileCatalog(tmp_path)
    assert catalog.find("ISIC_0001", "train").member == "jpeg/train/ISIC_0001.jpg"
    assert catalog.find("ISIC_0002", "train").member == "dicom/train/ISIC_0002.dcm"
    assert catalog.image_share(pd.Series(["ISIC_0001", "ISIC_0002"])) == 1.0


def test_a_row_naming_a_folder_of_slices_gets_the_folders_statistics(tmp_path: Path) -> None:
    """rsna-miccai's `train/<BraTS21ID>/<series>/Image-<n>.dcm`: the id names a folder of a case's scans."""
    for split, case, level in (("train", "00012", 800), ("test", "00012", 900), ("train", "00013", 2500)):
        for series in ("FLAIR", "T1w"):
            for n in range(1, 4):
                write_dicom(tmp_path / split / case / series / f"Image-{n}.dcm", np.full((8, 8), level + n))
    catalog = FileCatalog(tmp_path)
    assert catalog.find("00012", "train").member == "train/00012"
    assert catalog.find("00012", "test").member == "test/00012"
    assert catalog.find("00014", "train") is None
    stats = file_statistics(pd.Series([str(tmp_path / "train" / "00012"), str(tmp_path / "train" / "00013")]), "case")
    assert list(stats["case_folder_files"]) == [6, 6] and (stats["case_exists"] == 1).all()
    assert stats["case_folder_median_mean"][1] > stats["case_folder_median_mean"][0] + 1000  # levels in their units


def test_zero_padded_names_answer_ids_read_as_numbers(tmp_path: Path) -> None:
    """rsna-miccai writes `00012`, which pandas reads as 12: the folder `train/00012` and a file `00012.png` are its."""
    write_dicom(tmp_path / "train" / "00012" / "FLAIR" / "Image-1.dcm", np.zeros((4, 4)))
    (tmp_path / "images").mkdir()
    Image.fromarray(np.zeros((4, 4), dtype=np.uint8)).save(tmp_path / "images" / "00077.png")
    catalog = FileCatalog(tmp_path)
    assert catalog.find(12, "train").member == "train/00012" and catalog.find("00012", "train").member == "train/00012"
    assert catalog.find(77).member == "images/00077.png" and catalog.find(7) is None
