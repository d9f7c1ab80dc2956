"""Miniatures of two MLE-bench object-detection competitions on chest radiographs:
vinbigdata-chest-xray-abnormalities-detection (14 kinds of finding, each image boxed by three
radiologists, COCO mAP at IoU 0.4) and siim-covid19-detection (a study-level class and image-level opacity
boxes in one submission, DICOM files in study/series folders, mAP at IoU > 0.5 over six classes).

Each generator writes what the competition's `prepare.py` gives an agent (file names, folders, columns, id
formats, the sample submission and its placeholder values) filled with generated radiographs whose findings
are known, and returns the answers as `prepare.py` writes them to private/. Kept small enough for
`agent compete --time-budget 60` on two cores: 500 images (studies) of 84-128 px a side where the real ones
hold thousands of 2000-4000 px; the box coordinates stay in each image's own pixels, as in the real data, so
that a model working on resized images must scale its boxes back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from layout_kit import hex_ids, save_dicom


def _smooth(rng: np.random.Generator, shape: tuple[int, int], power: float) -> np.ndarray:
    """Noise of unit spread whose spectrum falls as 1/f**power: 0.5 a fine network, 2 broad swells."""
    height, width = shape
    f = np.hypot(*np.meshgrid(np.fft.rfftfreq(width) * width, np.fft.fftfreq(height) * height))
    noise = np.fft.irfft2(np.fft.rfft2(rng.normal(size=shape)) / (1 + f) ** power, s=shape)
    return noise / noise.std()


def _chest(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A frontal chest radiograph in [0, 1], bright where dense: soft tissue, two dark lungs crossed by curved
    ribs, the heart and spine between them, the diaphragm's domes below, and grain."""
    yy, xx = (np.arange(height)[:, None] + 0.5) / height, (np.arange(width)[None, :] + 0.5) / width
    shift, spread = rng.normal(0, 0.015), rng.uniform(0.93, 1.05)  # how the patient stands, how broad they are
    middle = xx - 0.5 - shift
    values = np.where((middle / (0.5 * spread)) ** 2 + ((yy - 0.6) / 0.62) ** 2 < 1, 0.5, 0.08)
    for side in (-1, 1):
        across = xx - 0.5 - shift - side * 0.2 * spread
        reach = (across / (0.155 * spread)) ** 2 + ((yy - 0.45) / 0.3) ** 2
        ribs = 0.05 * np.cos(2 * np.pi * (7.5 * yy + 6 * across ** 2))
        values = np.where(reach < 1, 0.2 + 0.05 * reach + ribs, values)
    values = np.where(yy > 0.7 + 0.6 * (np.abs(middle) - 0.2) ** 2, np.maximum(values, 0.6), values)
    values[((middle - 0.05) / (0.13 * spread)) ** 2 + ((yy - 0.64) / 0.12) ** 2 < 1] = 0.6
    values[(np.abs(middle) < 0.055) & (yy < 0.7)] = 0.62
    return values + 0.03 * _smooth(rng, (height, width), 1.5) + rng.normal(0, 0.015, (height, width))


def _paint(rng: np.random.Generator, values: np.ndarray, box: tuple[float, float, float, float],
           brightness: float, texture: float) -> None:
    """Add a finding filling `box` (pixels x_min, y_min, x_max, y_max): a soft-edged ellipse `brightness`
    above (below, if negative) its surroundings, mottled by `texture` (0 smooth, 1 a reticular network)."""
    height, width = values.shape
    x1, y1, x2, y2 = box
    yy, xx = np.arange(height)[:, None] + 0.5, np.arange(width)[None, :] + 0.5
    reach = ((xx - (x1 + x2) / 2) / max((x2 - x1) / 2, 1)) ** 2 + ((yy - (y1 + y2) / 2) / max((y2 - y1) / 2, 1)) ** 2
    blob = np.exp(-reach ** 2)
    if texture:
        blob *= np.clip(1 + texture * _smooth(rng, values.shape, 0.5), 0, None)
    values += brightness * blob


def _save_radiograph(rng: np.random.Generator, path: Path, values: np.ndarray, inverted: bool,
                     modality: str = "DX") -> None:
    """12-bit stored values under a per-machine gain and offset; MONOCHROME1 files store them inverted."""
    stored = np.clip(values * rng.uniform(2600, 3800) + rng.uniform(50, 300), 0, 4095)
    # layout_kit knows no DX storage class: the mammography one is the nearest X-ray class, the tag says DX
    save_dicom(path, 4095 - stored if inverted else stored, modality="MG", intercept=None,
               photometric="MONOCHROME1" if inverted else "MONOCHROME2", Modality=modality)


# --- vinbigdata-chest-xray-abnormalities-detection ------------------------------------------------------

VIN_CLASSES = ["Aortic enlargement", "Atelectasis", "Calcification", "Cardiomegaly", "Consolidation", "ILD",
               "Infiltration", "Lung Opacity", "Nodule/Mass", "Other lesion", "Pleural effusion",
               "Pleural thickening", "Pneumothorax", "Pulmonary fibrosis", "No finding"]
VIN_FINDINGS = {  # class_id: placement, centre x and y, width and height (fractions of the image, the patient's
    # right lung on the image's left; "side" findings may sit on either side, "lung" ones anywhere in a lung),
    # brightness, texture, share of the abnormal images' findings (the real ranking, flattened)
    0: ("fixed", 0.58, 0.30, 0.10, 0.10, 0.25, 0.0, 0.20),  # the aortic knob, right of the spine's top
    1: ("side", 0.30, 0.66, 0.14, 0.06, 0.15, 0.0, 0.03),  # a flat band above the diaphragm
    2: ("lung", 0.0, 0.0, 0.04, 0.04, 0.50, 0.0, 0.04),  # a tiny very bright speck
    3: ("fixed", 0.56, 0.63, 0.42, 0.20, 0.18, 0.0, 0.16),  # a heart much wider than the usual
    4: ("side", 0.30, 0.55, 0.14, 0.14, 0.30, 0.0, 0.03),
    5: ("side", 0.30, 0.60, 0.18, 0.24, 0.12, 0.8, 0.04),  # a reticular network in the lower lung
    6: ("side", 0.28, 0.42, 0.14, 0.16, 0.18, 0.4, 0.05),
    7: ("side", 0.30, 0.50, 0.16, 0.16, 0.22, 0.2, 0.07),
    8: ("lung", 0.0, 0.0, 0.06, 0.06, 0.35, 0.0, 0.07),  # a small round bright nodule
    9: ("lung", 0.0, 0.0, 0.10, 0.10, 0.20, 0.5, 0.07),
    10: ("side", 0.20, 0.64, 0.14, 0.12, 0.30, 0.0, 0.07),  # fluid filling the costophrenic angle
    11: ("side", 0.24, 0.20, 0.14, 0.06, 0.22, 0.0, 0.10),  # a cap over the apex
    12: ("side", 0.17, 0.32, 0.08, 0.30, -0.12, 0.0, 0.02),  # air outside the lung: darker, at its edge
    13: ("side", 0.30, 0.27, 0.14, 0.14, 0.15, 0.9, 0.10),  # streaks in the upper lung
}
VIN_READERS = [f"R{k}" for k in range(1, 18)]


def _vin_box(rng: np.random.Generator, class_id: int, side: int, height: int,
             width: int) -> tuple[float, float, float, float]:
    """Where a finding of `class_id` sits in an image (pixels x_min, y_min, x_max, y_max); `side` 1 mirrors a
    "side" finding to the patient's left, and picks the lung of a "lung" one."""
    placement, cx, cy, w, h = VIN_FINDINGS[class_id][:5]
    if placement == "lung":
        cx, cy = 0.5 + (1 if side else -1) * rng.uniform(0.1, 0.3), rng.uniform(0.25, 0.62)
    elif placement == "side" and side:
        cx = 1 - cx
    cx, cy = cx + rng.normal(0, 0.02), cy + rng.normal(0, 0.02)
    w, h = w * rng.uniform(0.8, 1.25), h * rng.uniform(0.8, 1.25)
    return (max(cx - w / 2, 0) * width, max(cy - h / 2, 0) * height, min(cx + w / 2, 1) * width,
            min(cy + h / 2, 1) * height)


def _reader_box(rng: np.random.Generator, box: tuple[float, float, float, float], height: int,
                width: int) -> tuple[float, float, float, float]:
    """One radiologist's box around a finding: each edge off by about 8% of the box's size, in whole pixels."""
    size = np.array([box[2] - box[0], box[3] - box[1]] * 2)
    x1, y1, x2, y2 = np.round(np.array(box) + rng.normal(0, 0.08, 4) * size)
    x1, y1 = np.clip(x1, 0, width - 3), np.clip(y1, 0, height - 3)
    return float(x1), float(y1), float(np.clip(x2, x1 + 2, width - 1)), float(np.clip(y2, y1 + 2, height - 1))


def vinbigdata(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """vinbigdata-chest-xray-abnormalities-detection: train.csv (image_id of 32 hex digits, class_name,
    class_id 0-14, rad_id R1-R17, x_min, y_min, x_max, y_max in the image's pixels as whole-number floats),
    a row per radiologist's box in no particular order: three radiologists read each image, each boxing what
    they see, so a finding has up to three differing boxes, and an image nobody finds anything on has three
    "No finding" rows (class 14) with empty coordinates; about 70% of the images are such. train/ and
    test/<image_id>.dicom: 2000-3000 px radiographs, some MONOCHROME1. prepare.py splits the image ids
    (train_test_split of `image_id.unique()`, test_size 0.1, random_state 0; here 0.2, so that 100 images are
    scored), keeps train's rows as they are, and writes the held-out ones' first row per (image_id, class_id)
    as the answers (image_id, class_id, class_name, rad_id, x_min, y_min, x_max, y_max, sorted by image and
    class, "No finding" at 0 0 1 1): a consensus of one box per class, so a second box of a class in an image
    is not scored. sample_submission.csv: image_id, PredictionString "14 1 0 0 1 1". COCO mAP at IoU 0.4 (the
    project's `map_boxes_iou40`). Here 500 images of 100-128 x 84-120 px, 45% abnormal with one to four findings whose
    place, size, brightness and texture depend on the class; a finding on one side is on both in a quarter
    of the cases; each reader after the first misses a finding one time in five; 15% of the files are
    MONOCHROME1."""
    from sklearn.model_selection import train_test_split

    ids = hex_ids(rng, 500, 32)
    shares = np.array([spec[-1] for spec in VIN_FINDINGS.values()])
    reader_share = np.array([8.0 if reader in ("R8", "R9", "R10") else 1.0 for reader in VIN_READERS])
    rows, images = [], {}
    for image_id in ids:
        height, width = int(rng.integers(100, 129)), int(rng.integers(84, 121))
        found = []
        if rng.random() < 0.45:
            for class_id in rng.choice(14, 1 + min(int(rng.poisson(0.8)), 3), replace=False, p=shares / shares.sum()):
                both = VIN_FINDINGS[class_id][0] == "side" and rng.random() < 0.25
                sides = (0, 1) if both else (int(rng.integers(0, 2)),)
                found += [(int(class_id), _vin_box(rng, int(class_id), side, height, width)) for side in sides]
        readers = rng.choice(VIN_READERS, 3, replace=False, p=reader_share / reader_share.sum())
        for k, reader in enumerate(readers):
            if not found:
                rows.append({"image_id": image_id, "class_name": VIN_CLASSES[14], "class_id": 14, "rad_id": reader,
                             "x_min": np.nan, "y_min": np.nan, "x_max": np.nan, "y_max": np.nan})
            for class_id, box in [f for f in found if k == 0 or rng.random() < 0.8] or found[:1]:
                x1, y1, x2, y2 = _reader_box(rng, box, height, width)
                rows.append({"image_id": image_id, "class_name": VIN_CLASSES[class_id], "class_id": class_id,
                             "rad_id": reader, "x_min": x1, "y_min": y1, "x_max": x2, "y_max": y2})
        images[image_id] = (height, width, found)
    frame = pd.DataFrame(rows).sample(frac=1, random_state=int(rng.integers(2 ** 31))).reset_index(drop=True)
    unique_ids = np.asarray(frame["image_id"].unique(), dtype=object)  # pandas 3 hands back an arrow array
    train_ids, test_ids = train_test_split(unique_ids, test_size=0.2, random_state=0)  # the real 0.1
    folder.mkdir(parents=True, exist_ok=True)
    frame[frame["image_id"].isin(train_ids)].to_csv(folder / "train.csv", index=False)
    pd.DataFrame({"image_id": test_ids, "PredictionString": "14 1 0 0 1 1"}).to_csv(
        folder / "sample_submission.csv", index=False)
    answers = frame[frame["image_id"].isin(test_ids)].groupby(by=["image_id", "class_id"]).first().reset_index()
    answers = answers.fillna(0)
    answers.loc[answers["class_id"] == 14, ["x_max", "y_max"]] = 1.0
    held = set(test_ids)
    for image_id, (height, width, found) in images.items():
        values = _chest(rng, height, width)
        for class_id, box in found:
            _paint(rng, values, box, *VIN_FINDINGS[class_id][5:7])
        part = "test" if image_id in held else "train"
        _save_radiograph(rng, folder / part / f"{image_id}.dicom", values, rng.random() < 0.15)
    return answers


SIIM_STUDY = {"negative": "Negative for Pneumonia", "typical": "Typical Appearance",
              "indeterminate": "Indeterminate Appearance", "atypical": "Atypical Appearance"}
SIIM_SHARES = [0.27, 0.47, 0.18, 0.08]
SIIM_OPACITY = {  # study class: chances of 0, 1 or 2 boxes (one a lung), box centre x in the patient's right lung
    # and y, width and height (fractions of the image), brightness, texture
    "typical": ((0.06, 0.14, 0.80), 0.26, 0.58, 0.22, 0.36, 0.20, 0.3),  # bilateral, peripheral, lower, hazy
    "indeterminate": ((0.15, 0.60, 0.25), 0.35, 0.46, 0.15, 0.22, 0.15, 0.3),  # central, fainter
    "atypical": ((0.40, 0.55, 0.05), 0.30, 0.30, 0.14, 0.16, 0.32, 0.0),  # one dense focus, upper
}


def _siim_spots(rng: np.random.Generator, study: str) -> list[tuple[float, float, float, float]]:
    """The opacities of a study as fractions of the image (centre x, centre y, width, height)."""
    if study not in SIIM_OPACITY:
        return []
    chances, cx, cy, w, h = SIIM_OPACITY[study][:5]
    n = int(rng.choice(3, p=chances))
    sides = [0, 1] if n == 2 else [int(rng.integers(0, 2))] * n
    return [((1 - cx if side else cx) + rng.normal(0, 0.03), cy + rng.normal(0, 0.04), w * rng.uniform(0.8, 1.25),
             h * rng.uniform(0.8, 1.25)) for side in sides]


def siim_covid(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """siim-covid19-detection: train_study_level.csv (id `<study>_study`, then the four one-hot columns
    "Negative for Pneumonia", "Typical Appearance", "Indeterminate Appearance", "Atypical Appearance"),
    train_image_level.csv (id `<image>_image`, boxes as a python-literal list of {'x', 'y', 'width',
    'height'} dicts in pixels with five decimals, empty where there is none, label "opacity 1 x_min y_min
    x_max y_max" repeated or "none 1 0 0 1 1", StudyInstanceUID `<study>`), every id 12 hex digits, and
    train/ and test/<study>/<series>/<image>.dcm, 2000-4000 px radiographs. A few studies hold two images,
    of which only one is boxed, the other labelled none whatever it shows. prepare.py splits the studies
    (train_test_split, test_size 0.1, random_state 0; here 0.2, so that 100 studies are scored), sorts both
    tables by id, and writes the answers (private/test.csv: id, PredictionString), the held-out studies'
    "<class> 1 0 0 1 1" (class the lower-case first word of the one-hot column) sorted by id, then their
    images' labels sorted by id; sample_submission.csv the same ids with "negative 1 0 0 1 1" and
    "none 1 0 0 1 1". mAP at IoU > 0.5 over the classes in the answers (`map_boxes_iou50`). Here 500 studies,
    8% with a second image (half of them in a second series), 96-128 px a side; typical studies show two
    hazy lower peripheral opacities, indeterminate ones one or two fainter central ones, atypical ones a
    dense upper focus or nothing, negative ones nothing; 15% of the files are MONOCHROME1 (CR)."""
    from sklearn.model_selection import train_test_split

    n_studies = 500
    fresh = iter(hex_ids(rng, 5 * n_studies, 12))  # studies, series and images from one pool, no id twice
    classes = list(SIIM_STUDY)
    study_rows, image_rows, files = [], [], []
    for _ in range(n_studies):
        study, kind = next(fresh), classes[int(rng.choice(4, p=SIIM_SHARES))]
        study_rows.append({"id": f"{study}_study", **{SIIM_STUDY[c]: int(c == kind) for c in classes}})
        spots, series = _siim_spots(rng, kind), next(fresh)
        for k in range(2 if rng.random() < 0.08 else 1):
            image, height, width = next(fresh), int(rng.integers(96, 129)), int(rng.integers(96, 129))
            series = next(fresh) if k and rng.random() < 0.5 else series
            boxes = []
            for cx, cy, w, h in spots:
                x, y = max(cx - w / 2, 0) * width, max(cy - h / 2, 0) * height
                boxes.append({"x": round(x, 5), "y": round(y, 5), "width": round(min(w * width, width - x), 5),
                              "height": round(min(h * height, height - y), 5)})
            files.append((study, series, image, height, width, boxes, kind))
            boxed = boxes if k == 0 else []  # a study's other images are left unboxed, as in the real data
            label = " ".join(f"opacity 1 {b['x']} {b['y']} {round(b['x'] + b['width'], 5)} "
                             f"{round(b['y'] + b['height'], 5)}" for b in boxed) or "none 1 0 0 1 1"
            image_rows.append({"id": f"{image}_image", "boxes": str(boxed) if boxed else None, "label": label,
                               "StudyInstanceUID": study})
    train_study = pd.DataFrame(study_rows).sort_values(by="id")
    train_image = pd.DataFrame(image_rows).sort_values(by="id")
    new_train_study, new_test_study = train_test_split(train_study, test_size=0.2, random_state=0)  # real 0.1
    new_train_study, new_test_study = new_train_study.sort_values(by="id"), new_test_study.sort_values(by="id")
    folder.mkdir(parents=True, exist_ok=True)
    new_train_study.to_csv(folder / "train_study_level.csv", index=False)
    in_test = (train_image["StudyInstanceUID"] + "_study").isin(new_test_study["id"])
    train_image[~in_test].to_csv(folder / "train_image_level.csv", index=False)
    test_image = train_image[in_test]
    names = [c.split()[0].lower() for c in SIIM_STUDY.values()]
    rows = [{"id": row["id"], "PredictionString": f"{names[int(np.argmax(row.iloc[1:].to_numpy()))]} 1 0 0 1 1"}
            for _, row in new_test_study.iterrows()]
    answers = pd.DataFrame(rows + [{"id": i, "PredictionString": label}
                                   for i, label in zip(test_image["id"], test_image["label"])])
    sample = ["negative 1 0 0 1 1"] * len(new_test_study) + ["none 1 0 0 1 1"] * len(test_image)
    answers.assign(PredictionString=sample).to_csv(folder / "sample_submission.csv", index=False)
    held = {i.removesuffix("_study") for i in new_test_study["id"]}
    for study, series, image, height, width, boxes, kind in files:
        values = _chest(rng, height, width)
        for b in boxes:
            _paint(rng, values, (b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]), *SIIM_OPACITY[kind][5:])
        inverted = rng.random() < 0.15
        _save_radiograph(rng, folder / ("test" if study in held else "train") / study / series / f"{image}.dcm",
                         values, inverted, "CR" if inverted else "DX")
    return answers


LAYOUTS = {
    "vinbigdata-chest-xray-abnormalities-detection": (
        "DICOM boxes by three readers; 'No finding' rows; COCO mAP@0.4", "map_boxes_iou40", vinbigdata),
    "siim-covid19-detection": ("study/series/image DICOMs; study and image rows in one submission",
                               "map_boxes_iou50", siim_covid),
}
