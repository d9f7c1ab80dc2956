"""Miniatures of the MLE-bench lite competitions that benchmarks/unseen_layouts.py did not have yet.

Each generator writes what the competition's `prepare.py` gives an agent (file names, folders, zip archives,
columns, id rules, the sample submission's shape and placeholder values) filled with generated rows whose
signal a model can learn, and returns the answers in the shape the competition's `grade.py` reads them.
Kept small: each runs within `agent compete --time-budget 60` on two cores. Where the real files carry
formats no library here writes (DICOM, TFRecord), the miniature leaves them out and says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from layout_kit import hex_ids, save_aiff, save_colour_dicom, save_image, save_wav, zip_away


def _blobs(rng: np.random.Generator, side: int, count: int, colour, radius: float, pixels: np.ndarray) -> np.ndarray:
    """Paint `count` round spots of `colour` at random places."""
    yy, xx = np.mgrid[:side, :side]
    for _ in range(count):
        cy, cx = rng.uniform(0, side, 2)
        pixels[(yy - cy) ** 2 + (xx - cx) ** 2 < radius ** 2] = colour
    return pixels


def cactus(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """aerial-cactus-identification: 32x32 aerial photos in train.zip/test.zip named `<hex>.jpg`; the id column
    keeps the `.jpg`; train.csv (id, has_cactus) and no test table. AUC."""
    n, n_train = 900, 720
    ids = [f"{h}.jpg" for h in hex_ids(rng, n, 32)]
    has = (rng.random(n) < 0.75).astype(int)
    for i, (name, cactus_) in enumerate(zip(ids, has)):
        pixels = rng.normal(0, 18, (32, 32, 3)) + np.array([150, 130, 100]) * rng.uniform(0.7, 1.2)
        if cactus_:  # a column of green, somewhere, of some length
            x, top = rng.integers(3, 29), rng.integers(0, 16)
            pixels[top:top + rng.integers(10, 17), x - 1:x + 2] = [70, 120, 60]
        save_image(folder / ("train" if i < n_train else "test") / name, pixels, quality=90)
    zip_away(folder / "train"), zip_away(folder / "test")
    frame = pd.DataFrame({"id": ids, "has_cactus": has})
    frame.iloc[:n_train].to_csv(folder / "train.csv", index=False)
    frame.iloc[n_train:].assign(has_cactus=0.5).to_csv(folder / "sample_submission.csv", index=False)
    return frame.iloc[n_train:]


def retinas(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """aptos2019-blindness-detection: fundus photos `train_images/<id_code>.png`, a 0-4 grade (diagnosis) that grows
    with the lesions; quadratic kappa. The sample asks for diagnosis 0."""
    n, n_train = 600, 500
    ids = hex_ids(rng, n, 12)
    grade = rng.choice(5, n, p=[0.45, 0.12, 0.25, 0.07, 0.11])
    side = 48
    yy, xx = np.mgrid[:side, :side]
    disc = (yy - side / 2) ** 2 + (xx - side / 2) ** 2 < (side / 2 - 2) ** 2
    for i, (code, g) in enumerate(zip(ids, grade)):
        pixels = np.zeros((side, side, 3)) + rng.normal(0, 10, (side, side, 3))
        pixels[disc] += np.array([170, 80, 40]) * rng.uniform(0.7, 1.2)
        _blobs(rng, side, int(3 * g + rng.integers(0, 3)), [240, 220, 90], 1.6, pixels)  # exudates
        pixels[~disc] = 0
        save_image(folder / ("train_images" if i < n_train else "test_images") / f"{code}.png", pixels)
    frame = pd.DataFrame({"id_code": ids, "diagnosis": grade})
    frame.iloc[:n_train].to_csv(folder / "train.csv", index=False)
    frame.iloc[n_train:][["id_code"]].to_csv(folder / "test.csv", index=False)
    frame.iloc[n_train:].assign(diagnosis=0).to_csv(folder / "sample_submission.csv", index=False)
    return frame.iloc[n_train:]


def _page(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A clean scanned page in [0, 1]: white, with lines of dark glyphs."""
    page = np.ones((height, width))
    for top in range(3, height - 6, 9):
        x = 2
        while x < width - 4:
            w = int(rng.integers(2, 5))
            glyph = rng.random((6, w)) < 0.55
            page[top:top + 6, x:x + w][glyph] = rng.uniform(0.05, 0.25)
            x += w + int(rng.integers(1, 4))
    return page


def documents(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """denoising-dirty-documents: grey pages `train/<n>.png` with their clean versions `train_cleaned/<n>.png`, test
    pages `test/<n>.png`; one submission row per test pixel, `<n>_<row>_<col>` (1-based), value in [0, 1]; RMSE.
    The sample (sampleSubmission.csv) says 1 everywhere."""
    names = rng.choice(np.arange(1, 217), 20, replace=False)
    height, width = 42, 60
    answers = []
    for i, name in enumerate(names):
        clean = _page(rng, height, width)
        yy, xx = np.mgrid[:height, :width]
        stain = 1 - rng.uniform(0.1, 0.35) * np.exp(-((yy - rng.uniform(0, height)) ** 2 + (xx - rng.uniform(0, width)) ** 2)
                                                    / (2 * rng.uniform(8, 20) ** 2))
        dirty = np.clip(clean * stain * rng.uniform(0.8, 0.95) + rng.normal(0, 0.05, clean.shape), 0, 1)
        part = "train" if i < 16 else "test"
        save_image(folder / part / f"{name}.png", dirty * 255)
        if part == "train":
            save_image(folder / "train_cleaned" / f"{name}.png", clean * 255)
        else:
            clean = np.round(clean * 255) / 255  # the answers are the cleaned png's pixels
            answers.append(pd.DataFrame({"id": [f"{name}_{r + 1}_{c + 1}" for r in range(height) for c in range(width)],
                                         "value": clean.ravel()}))
    answers = pd.concat(answers, ignore_index=True)
    answers.assign(value=1).to_csv(folder / "sampleSubmission.csv", index=False)
    return answers


def pets(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """dogs-vs-cats-redux-kernels-edition: the label is only in the file name (train.zip: `train/cat.0.jpg`,
    `train/dog.0.jpg`), test images `test/1.jpg`...; the sample asks for id, label (the probability of a dog);
    log loss."""
    n, n_train = 800, 640
    dog = rng.random(n) < 0.5
    counters = {True: 0, False: 0}
    for i, is_dog in enumerate(dog):
        fur = np.array([150, 110, 70]) if is_dog else np.array([110, 110, 120])
        pixels = rng.normal(0, 25, (40, 40, 3)) + fur * rng.uniform(0.6, 1.3) + rng.normal(0, 15, 3)
        if is_dog:  # floppy dark ears at the top corners
            pixels[:10, :8] *= 0.5
            pixels[:10, -8:] *= 0.5
        if i < n_train:
            name = f"{'dog' if is_dog else 'cat'}.{counters[bool(is_dog)]}.jpg"
            counters[bool(is_dog)] += 1
            save_image(folder / "train" / name, pixels, quality=90)
        else:
            save_image(folder / "test" / f"{i - n_train + 1}.jpg", pixels, quality=90)
    zip_away(folder / "train"), zip_away(folder / "test")
    ids = np.arange(1, n - n_train + 1)
    pd.DataFrame({"id": ids, "label": 0.5}).to_csv(folder / "sample_submission.csv", index=False)
    return pd.DataFrame({"id": ids, "label": dog[n_train:].astype(int)})


def tissue(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """histopathologic-cancer-detection: 40-hex-digit ids, `train/<id>.tif` patches, labels in train_labels.csv;
    a patch is positive when its centre holds tumour cells (dense dark nuclei). AUC; the sample says 0."""
    n, n_train = 900, 720
    ids = hex_ids(rng, n, 40)
    label = (rng.random(n) < 0.4).astype(int)
    side = 32
    for i, (name, y) in enumerate(zip(ids, label)):
        pixels = rng.normal(0, 15, (side, side, 3)) + np.array([230, 170, 210]) * rng.uniform(0.8, 1.1)
        _blobs(rng, side, int(rng.integers(4, 10)), [120, 60, 140], 1.3, pixels)
        if y:  # a few more nuclei crowd the centre
            centre = pixels[10:22, 10:22]
            _blobs(rng, 12, int(rng.integers(1, 5)), [120, 60, 140], 1.3, centre)
        save_image(folder / ("train" if i < n_train else "test") / f"{name}.tif", pixels)
    frame = pd.DataFrame({"id": ids, "label": label})
    frame.iloc[:n_train].to_csv(folder / "train_labels.csv", index=False)
    frame.iloc[n_train:].assign(label=0).to_csv(folder / "sample_submission.csv", index=False)
    return frame.iloc[n_train:]


TOXIC = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
TOXIC_WORDS = {"toxic": ["jerk", "loser"], "severe_toxic": ["scum"], "obscene": ["damn", "crap"], "threat": ["hurt", "kill"],
               "insult": ["idiot", "moron"], "identity_hate": ["those people"]}
NEUTRAL = ("the article was edited today please see talk page thanks for the source i think this section needs a "
           "citation wikipedia policy says we should keep it neutral and verifiable").split()


def toxic_comments(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """jigsaw-toxic-comment-classification-challenge: six 0/1 columns per comment; test rows whose answers are -1
    in every column are not scored (as in test_labels.csv); the mean of the columns' AUCs. The sample says 0.5."""
    n, n_train = 4000, 3000
    rates = {"toxic": 0.15, "severe_toxic": 0.03, "obscene": 0.08, "threat": 0.03, "insult": 0.08, "identity_hate": 0.03}
    labels = {c: np.zeros(n, dtype=int) for c in TOXIC}
    texts = []
    for i in range(n):
        words = list(rng.choice(NEUTRAL, rng.integers(6, 30)))
        for column in TOXIC:
            if rng.random() < rates[column]:
                labels[column][i] = 1
                if rng.random() < 0.85:
                    words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(TOXIC_WORDS[column])))
        if any(labels[c][i] for c in TOXIC[1:]):
            labels["toxic"][i] = 1
        texts.append(" ".join(words).capitalize() + rng.choice([".", "!", "\n\n", " ?"]))
    frame = pd.DataFrame({"id": hex_ids(rng, n, 16), "comment_text": texts, **labels})
    folder.mkdir(parents=True, exist_ok=True)
    frame.iloc[:n_train].to_csv(folder / "train.csv", index=False)
    frame.iloc[n_train:][["id", "comment_text"]].to_csv(folder / "test.csv", index=False)
    frame.iloc[n_train:][["id"]].assign(**{c: 0.5 for c in TOXIC}).to_csv(folder / "sample_submission.csv", index=False)
    answers = frame.iloc[n_train:][["id", *TOXIC]].copy()
    answers.loc[rng.random(len(answers)) < 0.4, TOXIC] = -1
    return answers


LEAF_GENERA = ["Acer", "Alnus", "Betula", "Castanea", "Cornus", "Eucalyptus", "Fagus", "Ilex", "Magnolia", "Populus",
               "Prunus", "Quercus", "Salix", "Sorbus", "Tilia"]


def leaves(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """leaf-classification: 64 margin, 64 shape and 64 texture features per leaf, a binary silhouette
    `images/<id>.jpg` of every leaf (train and test in one folder), integer ids shuffled; ten or so leaves per
    species; the sample asks for a probability per species (columns in sorted order); multiclass log loss."""
    species = sorted(f"{g}_{s}" for g in LEAF_GENERA for s in ("Opalus", "Rubra"))
    per_species, n_test_each = 10, 2
    centres = rng.gamma(2.0, 0.01, (len(species), 192))
    rows, ids = [], rng.permutation(np.arange(1, len(species) * per_species + 1))
    side = 48
    yy, xx = np.mgrid[:side, :side] - side / 2
    for k, name in enumerate(species):
        lobes, width = 2 + k % 5, 0.4 + 0.05 * (k // 5)
        for j in range(per_species):
            features = np.clip(centres[k] * rng.lognormal(0, 0.35, 192), 0, None)
            rows.append({"species": name, **{f"{part}{d + 1}": features[64 * p + d].round(6)
                                             for p, part in enumerate(("margin", "shape", "texture")) for d in range(64)},
                         "test": j < n_test_each})
            angle = np.arctan2(yy, xx) + rng.normal(0, 0.1)
            radius = side / 2.4 * (1 + 0.25 * np.cos(lobes * angle)) * np.sqrt(width / (width * np.cos(angle) ** 2
                                                                                         + np.sin(angle) ** 2 + 1e-9)) ** 0.5
            save_image(folder / "images" / f"{ids[len(rows) - 1]}.jpg", 255 * (np.hypot(yy, xx) < radius), quality=95)
    frame = pd.DataFrame(rows)
    frame.insert(0, "id", ids)
    frame = frame.sample(frac=1, random_state=0).reset_index(drop=True)
    test, train = frame[frame.test].drop(columns="test"), frame[~frame.test].drop(columns="test")
    train.to_csv(folder / "train.csv", index=False)
    test.drop(columns="species").to_csv(folder / "test.csv", index=False)
    one_hot = pd.DataFrame({"id": test["id"].to_numpy(), **{s: (test["species"] == s).astype(int).to_numpy() for s in species}})
    one_hot.assign(**{s: 1 / len(species) for s in species}).to_csv(folder / "sample_submission.csv", index=False)
    return one_hot


BIRDS = ["BRCR", "PAWR", "PSFL", "RBNU", "DEJU", "OSFL", "HETH", "CBCH", "VATH", "HEWA", "SWTH", "HAFL", "WETA", "BHGB",
         "GCKI", "WAVI", "MGWA", "STJA", "CONI"]


def birds(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """mlsp-2013-birds: recordings `essential_data/src_wavs/<filename>.wav`, which of 19 species sing in each
    (`rec_labels_test_hidden.txt`: `rec_id,labels...`, `?` for a test recording, nothing for silence), the split in
    `CVfolds_2.txt`, precomputed `supplemental_data/histogram_of_segments.txt` and `segment_features.txt`; one
    submission row per (recording, species), Id = rec_id * 100 + species; AUC over all rows. The spectrogram
    bitmaps are left out."""
    n, rate = 240, 8000
    essential, supplemental = folder / "essential_data", folder / "supplemental_data"
    essential.mkdir(parents=True, exist_ok=True), supplemental.mkdir(parents=True, exist_ok=True)
    fold = np.zeros(n, dtype=int)
    fold[rng.choice(n, n // 5, replace=False)] = 1
    sings = rng.random((n, len(BIRDS))) < np.linspace(0.25, 0.05, len(BIRDS))
    names = [f"PC{rng.integers(1, 19)}_2009{rng.integers(5, 9):02d}{rng.integers(1, 29):02d}_{rng.integers(0, 24):02d}0000_{i:04d}"
             for i in range(n)]
    t = np.arange(2 * rate) / rate
    histograms, segments = [], []
    for i in range(n):
        audio = rng.normal(0, 0.05, t.size)
        histogram = np.abs(rng.normal(0, 0.01, 100))
        for k in np.flatnonzero(sings[i]):
            start = rng.uniform(0, 1.5)
            call = (t > start) & (t < start + 0.3)
            audio[call] += 0.3 * np.sin(2 * np.pi * (400 + 180 * k) * t[call])
            histogram[5 * k:5 * k + 5] += rng.uniform(0.02, 0.1, 5)
            segments.append(f"{i},{len(segments)}," + ",".join(f"{v:.6f}" for v in
                                                              np.r_[400 + 180 * k + rng.normal(0, 20), rng.random(37)]))
        histograms.append(f"{i}," + ",".join(f"{v:.6f}" for v in histogram / histogram.sum()))
        save_wav(essential / "src_wavs" / f"{names[i]}.wav", audio, rate)
    pd.DataFrame({"rec_id": np.arange(n), "fold": fold}).to_csv(essential / "CVfolds_2.txt", index=False)
    pd.DataFrame({"rec_id": np.arange(n), "filename": names}).to_csv(essential / "rec_id2filename.txt", index=False)
    lines = ["rec_id,[labels]"]
    for i in range(n):
        labels = "?" if fold[i] else ",".join(str(k) for k in np.flatnonzero(sings[i]))
        lines.append(f"{i},{labels}" if labels else str(i))
    (essential / "rec_labels_test_hidden.txt").write_text("\n".join(lines) + "\n")
    (essential / "species_list.txt").write_text("class_id,code,species\n" + "".join(
        f"{k},{code},Bird {code.title()}\n" for k, code in enumerate(BIRDS)))
    header = "rec_id,[histogram of segment features]\n"  # prepare.py writes this header over both files
    (supplemental / "histogram_of_segments.txt").write_text(header + "\n".join(histograms) + "\n")
    (supplemental / "segment_features.txt").write_text(header + "\n".join(segments) + "\n")
    test = np.flatnonzero(fold)
    ids = [r * 100 + k for r in test for k in range(len(BIRDS))]
    pd.DataFrame({"Id": ids, "Probability": 0}).to_csv(folder / "sample_submission.csv", index=False)
    return pd.DataFrame({"Id": ids, "Probability": [int(sings[r, k]) for r in test for k in range(len(BIRDS))]})


CATHETERS = ["ETT - Abnormal", "ETT - Borderline", "ETT - Normal", "NGT - Abnormal", "NGT - Borderline",
             "NGT - Incompletely Imaged", "NGT - Normal", "CVC - Abnormal", "CVC - Borderline", "CVC - Normal",
             "Swan Ganz Catheter Present"]


def catheters(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """ranzcr-clip-catheter-line-classification: chest X-rays `train/<StudyInstanceUID>.jpg` and `test/...`, 11 0/1
    columns (names with spaces and dashes) plus PatientID in train.csv, line coordinates in train_annotations.csv,
    no test table (the test ids are the sample's); the mean of the columns' AUCs. The sample says 0."""
    n, n_train, side = 700, 560, 48
    uids = [f"1.2.826.0.1.3680043.8.498.{v}" for v in rng.integers(10**18, 10**19 - 1, n, dtype=np.uint64)]
    present = {"ETT": rng.random(n) < 0.4, "NGT": rng.random(n) < 0.45, "CVC": rng.random(n) < 0.85}
    state = {tube: rng.choice(3, n, p=[0.25, 0.25, 0.5]) for tube in present}  # abnormal, borderline, normal
    columns = {c: np.zeros(n, dtype=int) for c in CATHETERS}
    annotations = []
    for i, uid in enumerate(uids):
        pixels = rng.normal(70, 12, (side, side)) + 40 * np.exp(-((np.arange(side) - side / 2) / 12) ** 2)[None, :]
        for tube, x in (("ETT", 24), ("NGT", 18), ("CVC", 32)):
            if not present[tube][i]:
                continue
            depth = {0: 40, 1: 30, 2: 20}[int(state[tube][i])] + int(rng.integers(-2, 3))  # how far the line goes in
            pixels[2:depth, x - 1:x + 1] = 235
            annotations.append({"StudyInstanceUID": uid, "label": f"{tube} - {['Abnormal', 'Borderline', 'Normal'][state[tube][i]]}",
                                "data": str([[x * 50, 100], [x * 50, depth * 50]])})
            kind = ("Abnormal", "Borderline", "Normal")[int(state[tube][i])]
            if tube == "NGT" and kind == "Borderline" and rng.random() < 0.4:
                kind = "Incompletely Imaged"
            columns[f"{tube} - {kind}"][i] = 1
        if rng.random() < 0.06:
            columns["Swan Ganz Catheter Present"][i] = 1
            pixels[5:45, 40:42] = 200
        save_image(folder / ("train" if i < n_train else "test") / f"{uid}.jpg", pixels, quality=90)
    frame = pd.DataFrame({"StudyInstanceUID": uids, **columns,
                          "PatientID": [f"ec{v:07x}" for v in rng.integers(0, 16**7, n)]})
    frame.iloc[:n_train].to_csv(folder / "train.csv", index=False)
    train_uids = set(uids[:n_train])
    pd.DataFrame([a for a in annotations if a["StudyInstanceUID"] in train_uids]).to_csv(folder / "train_annotations.csv", index=False)
    frame.iloc[n_train:][["StudyInstanceUID", *CATHETERS]].assign(**{c: 0 for c in CATHETERS}).to_csv(
        folder / "sample_submission.csv", index=False)
    return frame.iloc[n_train:]


def melanoma(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """siim-isic-melanoma-classification: patient metadata beside `jpeg/train/<image_name>.jpg`; train.csv also has
    diagnosis and benign_malignant, which give the target away and which test lacks; AUC; the sample says 0.
    The DICOM copies (`train/<image_name>.dcm`, test's in `test/`) are there too; the TFRecords are left out."""
    n, n_train, side = 1000, 800, 40
    patients = [f"IP_{v:07d}" for v in rng.choice(10**7, 300, replace=False)]
    patient = rng.integers(0, len(patients), n)
    age = (rng.integers(4, 18, len(patients)) * 5.0)[patient]
    target = (rng.random(n) < 1 / (1 + np.exp(-(-3.2 + 0.04 * (age - 50))))).astype(int)
    yy, xx = np.mgrid[:side, :side] - side / 2
    for i in range(n):
        pixels = rng.normal(0, 8, (side, side, 3)) + np.array([225, 175, 150]) * rng.uniform(0.85, 1.05)
        angle = np.arctan2(yy, xx)
        edge = (7 + rng.uniform(0, 4)) * (1 + (0.35 if target[i] else 0.05) * np.sin(rng.integers(3, 7) * angle + rng.uniform(0, 6)))
        lesion = np.hypot(yy, xx) < edge
        pixels[lesion] = np.array([80, 50, 40]) * (rng.uniform(0.5, 0.8) if target[i] else rng.uniform(0.9, 1.3))
        split, name = "train" if i < n_train else "test", f"ISIC_{1000000 + i * 7:07d}"
        save_image(folder / "jpeg" / split / f"{name}.jpg", pixels, quality=90)
        save_colour_dicom(folder / split / f"{name}.dcm", pixels)
    diagnosis = np.where(target == 1, "melanoma", rng.choice(["unknown", "nevus", "seborrheic keratosis"], n, p=[0.8, 0.15, 0.05]))
    frame = pd.DataFrame({"image_name": [f"ISIC_{1000000 + i * 7:07d}" for i in range(n)],
                          "patient_id": [patients[p] for p in patient], "sex": rng.choice(["male", "female", ""], n, p=[0.5, 0.48, 0.02]),
                          "age_approx": age, "anatom_site_general_challenge": rng.choice(
                              ["torso", "lower extremity", "upper extremity", "head/neck", ""], n, p=[0.5, 0.25, 0.15, 0.08, 0.02]),
                          "diagnosis": diagnosis, "benign_malignant": np.where(target == 1, "malignant", "benign"), "target": target})
    frame = frame.sample(frac=1, random_state=0).reset_index(drop=True)
    is_test = frame["image_name"].map(lambda s: (int(s[5:]) - 1000000) // 7 >= n_train)
    frame[~is_test].to_csv(folder / "train.csv", index=False)
    test = frame[is_test]
    test[["image_name", "patient_id", "sex", "age_approx", "anatom_site_general_challenge"]].to_csv(folder / "test.csv", index=False)
    test[["image_name"]].assign(target=0).to_csv(folder / "sample_submission.csv", index=False)
    return test[["image_name", "target"]]


AUTHOR_WORDS = {"EAP": "raven tomb melancholy dread ghastly heart beating chamber silence nevermore".split(),
                "HPL": "eldritch cyclopean abyss ancient whispering unnamable sea shoggoth madness stars".split(),
                "MWS": "creature wretched misery affection beloved father friend tears despair mountains".split()}
COMMON = "the of and to a in that it was i he his which my with as had you at not this but from".split()


def authors(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """spooky-author-identification: a sentence each (ids `id12345`), author EAP/HPL/MWS; the sample holds the
    training priors in three probability columns; multiclass log loss."""
    n, n_train = 3000, 2700
    author = rng.choice(["EAP", "HPL", "MWS"], n, p=[0.40, 0.29, 0.31])
    texts = []
    for a in author:  # mostly common words; an author's own words more often than the others'
        vocabulary = [COMMON, AUTHOR_WORDS[a], AUTHOR_WORDS[str(rng.choice(list(AUTHOR_WORDS)))]]
        words = [str(rng.choice(vocabulary[rng.choice(3, p=[0.75, 0.15, 0.10])])) for _ in range(rng.integers(8, 35))]
        texts.append(" ".join(words).capitalize() + str(rng.choice([".", ";", "?"] if a == "EAP" else [".", ","])))
    ids = [f"id{v:05d}" for v in rng.choice(100000, n, replace=False)]
    frame = pd.DataFrame({"id": ids, "text": texts, "author": author})
    folder.mkdir(parents=True, exist_ok=True)
    frame.iloc[:n_train].to_csv(folder / "train.csv", index=False)
    test = frame.iloc[n_train:]
    test[["id", "text"]].to_csv(folder / "test.csv", index=False)
    one_hot = pd.DataFrame({"id": test["id"], **{a: (test["author"] == a).astype(int) for a in AUTHOR_WORDS}})
    one_hot.assign(EAP=0.403493538995863, HPL=0.287808366106543, MWS=0.308698094897594).to_csv(
        folder / "sample_submission.csv", index=False)
    return one_hot


ONES_EN = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen " \
          "eighteen nineteen".split()
TENS_EN = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
ONES_RU = "ноль один два три четыре пять шесть семь восемь девять десять одиннадцать двенадцать тринадцать четырнадцать " \
          "пятнадцать шестнадцать семнадцать восемнадцать девятнадцать".split()
TENS_RU = "_ _ двадцать тридцать сорок пятьдесят шестьдесят семьдесят восемьдесят девяносто".split()
HUNDREDS_RU = "_ сто двести триста четыреста пятьсот шестьсот семьсот восемьсот девятьсот".split()
PLAIN_EN = "the a of and to in was is it for on with as by at from his her they this city river team first album " \
           "season war film school world north".split()
PLAIN_RU = "в и на с по не что он это был года для как из его от к о города также время после году она".split()


def _spoken(number: int, russian: bool) -> str:
    """A number below 1000 in words, as the text-normalization answers write cardinals."""
    ones, tens = (ONES_RU, TENS_RU) if russian else (ONES_EN, TENS_EN)
    if number < 20:
        return ones[number]
    if number < 100:
        return tens[number // 10] + ("" if number % 10 == 0 else " " + ones[number % 10])
    head = HUNDREDS_RU[number // 100] if russian else ones[number // 100] + " hundred"
    return head + ("" if number % 100 == 0 else " " + _spoken(number % 100, russian))


def _year(year: int, russian: bool) -> str:
    """A year from 1990 to 2019 read aloud."""
    century, rest = divmod(year, 100)
    if russian:
        head = "две тысячи" if century == 20 else "тысяча девятьсот"
        return head + (" " + _spoken(rest, True) if rest else "")
    if century == 20 and rest < 10:
        return "two thousand" + (" " + _spoken(rest, False) if rest else "")
    return _spoken(century, False) + " " + _spoken(rest, False)


def _normalization(folder: Path, rng: np.random.Generator, language: str) -> pd.DataFrame:
    """text-normalization-challenge-*-language: one row per token (sentence_id, token_id, class, before, after);
    the test has no class or after; one submission row per token, id `<sentence_id>_<token_id>`, the sample's
    `after` repeating `before`; all three tables quoted (QUOTE_NONNUMERIC) and shipped only as zip archives;
    accuracy over tokens. Most tokens stay as they are; numbers, years and acronyms are spoken."""
    import csv

    russian = language == "ru"
    plain = PLAIN_RU if russian else PLAIN_EN
    rows = []
    for sentence_id in range(1400):
        for token_id in range(int(rng.integers(5, 14))):
            kind = rng.choice(["PLAIN", "PUNCT", "CARDINAL", "LETTERS", "DATE"], p=[0.72, 0.12, 0.08, 0.04, 0.04])
            if kind == "PLAIN":
                before = after = str(rng.choice(plain))
            elif kind == "PUNCT":
                before = after = str(rng.choice([",", ".", "(", ")", "-"]))
            elif kind == "CARDINAL":
                number = int(rng.choice([rng.integers(0, 30), rng.integers(30, 300)]))
                before, after = str(number), _spoken(number, russian)
            elif kind == "LETTERS":
                before = "".join(rng.choice(list("АБВГДКМНСТ" if russian else "ABCDFKMNST"), int(rng.integers(2, 4))))
                after = " ".join(before.lower())
            else:
                year = int(rng.integers(1990, 2020))
                before, after = str(year), _year(year, russian)
            rows.append({"sentence_id": sentence_id, "token_id": token_id, "class": kind, "before": before, "after": after})
    frame = pd.DataFrame(rows)
    test_sentences = set(rng.choice(1400, 140, replace=False))
    is_test = frame["sentence_id"].isin(test_sentences)
    train, answers = frame[~is_test].copy(), frame[is_test].copy()
    for part in (train, answers):  # sentence ids renumbered within each part, as prepare.py does
        part["sentence_id"] = part["sentence_id"].map({old: new for new, old in enumerate(part["sentence_id"].unique())})
    answers["id"] = answers["sentence_id"].astype(str) + "_" + answers["token_id"].astype(str)
    folder.mkdir(parents=True, exist_ok=True)
    quoted = {"index": False, "quotechar": '"', "quoting": csv.QUOTE_NONNUMERIC}
    train.to_csv(folder / f"{language}_train.csv", **quoted)
    answers.drop(columns=["class", "after", "id"]).to_csv(folder / f"{language}_test_2.csv", **quoted)
    answers[["id", "before"]].rename(columns={"before": "after"}).to_csv(folder / f"{language}_sample_submission_2.csv", **quoted)
    for name in (f"{language}_train.csv", f"{language}_test_2.csv", f"{language}_sample_submission_2.csv"):
        zip_away(folder / name)
    return answers[["id", "after"]]


def normalization_en(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    return _normalization(folder, rng, "en")


def normalization_ru(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    return _normalization(folder, rng, "ru")


def whales(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """the-icml-2013-whale-challenge-right-whale-redux: 2 s AIFF clips at 2 kHz in train2.zip, the label only in
    the name (`<date>_<time>_<offset>_TRAIN<i>_<label>.aif`), test clips `<date>_..._Test<i>.aif` from later days
    in test2.zip; no table at all but the sample (sampleSubmission.csv: clip, probability 0). An up-call is a
    tone rising from about 100 to 200 Hz. AUC."""
    rate, n, n_train = 2000, 700, 560
    t = np.arange(2 * rate) / rate
    dates = ["20090328", "20090329", "20090330", "20090331"]
    call = rng.random(n) < 0.3
    answers = []
    for i in range(n):
        audio = rng.normal(0, 0.2, t.size) + 0.1 * np.sin(2 * np.pi * rng.uniform(20, 60) * t)
        if call[i]:
            start, length = rng.uniform(0.2, 1.2), rng.uniform(0.5, 0.8)
            inside = (t > start) & (t < start + length)
            f = 100 + 100 * (t[inside] - start) / length
            audio[inside] += rng.uniform(0.02, 0.15) * np.sin(2 * np.pi * np.cumsum(f) / rate)
        day = dates[(2 if i >= n_train else 0) + int(rng.integers(0, 2))]  # the test clips come from later days
        stamp = f"{day}_{rng.integers(0, 24):02d}{rng.integers(0, 60):02d}00_{rng.integers(0, 900):03d}s{rng.integers(0, 10)}ms"
        if i < n_train:
            save_aiff(folder / "train2" / f"{stamp}_TRAIN{i}_{int(call[i])}.aif", audio / 2, rate)
        else:
            name = f"{stamp}_Test{i - n_train}.aif"
            save_aiff(folder / "test2" / name, audio / 2, rate)
            answers.append({"clip": name, "probability": int(call[i])})
    zip_away(folder / "train2"), zip_away(folder / "test2")
    answers = pd.DataFrame(answers)
    answers.assign(probability=0).to_csv(folder / "sampleSubmission.csv", index=False)
    return answers


LAYOUTS = {
    "aerial-cactus-identification": ("zipped images; the id keeps .jpg", "auc", cactus),
    "aptos2019-blindness-detection": ("png images; grades 0-4, kappa", "qwk", retinas),
    "denoising-dirty-documents": ("image to image; a row per pixel", "rmse", documents),
    "dogs-vs-cats-redux-kernels-edition": ("label only in zipped file names", "logloss", pets),
    "histopathologic-cancer-detection": ("tif patches; train_labels.csv", "auc", tissue),
    "jigsaw-toxic-comment-classification-challenge": ("six 0/1 columns; unscored -1 rows", "auc_mean_columnwise", toxic_comments),
    "leaf-classification": ("192 features and silhouettes; 30 species", "logloss_multiclass", leaves),
    "mlsp-2013-birds": ("text files, wavs; a row per recording and species", "auc", birds),
    "ranzcr-clip-catheter-line-classification": ("11 0/1 columns; no test table", "auc_mean_columnwise", catheters),
    "siim-isic-melanoma-classification": ("images beside metadata; leaky train columns", "auc", melanoma),
    "spooky-author-identification": ("text; three authors", "logloss_multiclass", authors),
    "text-normalization-challenge-english-language": ("a row per token; zipped tables", "accuracy", normalization_en),
    "text-normalization-challenge-russian-language": ("a row per token; zipped tables", "accuracy", normalization_ru),
    "the-icml-2013-whale-challenge-right-whale-redux": ("zipped aiff clips; label in the name", "auc", whales),
}
