"""Miniatures of MLE-bench medium competitions whose inputs are images, sounds, radar bands or spectrogram arrays.

Each generator writes what the competition's `prepare.py` gives an agent (file names, nested folders, archives,
columns, id rules, the sample submission's shape and placeholder values) filled with generated items whose
signal a model can learn, and returns the answers in the shape the competition's `grade.py` reads them.
Kept small: each runs within `agent compete --time-budget 60` on two cores. Where the real items are large
(75x75 radar bands, (6, 273, 256) cadences, 16 kHz audio) the miniature keeps their form at a smaller size.
"""

from __future__ import annotations

import json
import lzma
import struct
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from layout_kit import hex_ids, save_image, save_wav


def _number(value: int) -> bytes:
    """7z's variable-length NUMBER: a first byte whose leading ones count the little-endian bytes after it."""
    for extra in range(8):
        if value < 1 << (7 * (extra + 1)):
            return bytes([((0xFF00 >> extra) & 0xFF) | (value >> (8 * extra))]) + \
                (value & ((1 << (8 * extra)) - 1)).to_bytes(extra, "little")
    return b"\xff" + value.to_bytes(8, "little")


def _seven_zip(path: Path) -> None:
    """Replace a file by `<name>.7z` holding it under its own name, LZMA-compressed. No library here writes 7z,
    so the archive's few records for one file are written by hand, after 7-Zip's 7zFormat.txt."""
    data = path.read_bytes()
    lc, lp, pb, dictionary = 3, 0, 2, 1 << 24
    packed = lzma.compress(data, format=lzma.FORMAT_RAW, filters=[
        {"id": lzma.FILTER_LZMA1, "dict_size": dictionary, "lc": lc, "lp": lp, "pb": pb}])
    name = (path.name + "\0").encode("utf-16-le")
    header = b"".join([
        b"\x01\x04",  # Header, MainStreamsInfo
        b"\x06\x00\x01\x09", _number(len(packed)), b"\x00",  # PackInfo: one packed stream at offset 0
        b"\x07\x0b\x01\x00\x01\x23\x03\x01\x01\x05",  # UnPackInfo: one folder of one coder, LZMA (03 01 01)
        bytes([(pb * 5 + lp) * 9 + lc]), dictionary.to_bytes(4, "little"),  # its five property bytes
        b"\x0c", _number(len(data)), b"\x00",  # the unpacked size
        b"\x08\x0a\x01", struct.pack("<I", zlib.crc32(data)), b"\x00",  # SubStreamsInfo: the file's CRC
        b"\x00",  # end of MainStreamsInfo
        b"\x05\x01\x11", _number(len(name) + 1), b"\x00", name, b"\x00",  # FilesInfo: one file, its name
        b"\x00"])  # end of Header
    start = struct.pack("<QQI", len(packed), len(header), zlib.crc32(header))
    signature = b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start
    path.with_name(path.name + ".7z").write_bytes(signature + packed + header)
    path.unlink()


WHALE_SAMPLE = "new_whale w_1287fbc w_98baff9 w_7554f44 w_1eafe46"


def _fluke(rng: np.random.Generator, marks: np.ndarray, height: int, width: int) -> np.ndarray:
    """A dark tail fluke on a grey-blue sea, white marks where `marks` (3 x 6) says, placed and lit a little
    differently every time."""
    yy, xx = np.mgrid[:height, :width]
    scale = rng.uniform(0.9, 1.05)
    u = ((xx + 0.5) / width - 0.5 - rng.normal(0, 0.03)) / (0.45 * scale)
    v = ((yy + 0.5) / height - 0.45 - rng.normal(0, 0.03)) / (0.3 * scale)
    fluke = (u ** 2 + v ** 2 < 1) & ~((np.abs(u) < 0.08) & (v < -0.4)) | ((np.abs(u) < 0.15) & (v > 0) & (v < 2))
    row, col = np.clip(((v + 1) / 2 * 3).astype(int), 0, 2), np.clip(((u + 1) / 2 * 6).astype(int), 0, 5)
    white = fluke & (u ** 2 + v ** 2 < 1) & marks[row, col]
    pixels = np.array([70, 100, 120]) * rng.uniform(0.7, 1.2) + 20 * (yy / height)[..., None]
    pixels = pixels + rng.normal(0, 12, (height, width, 3))
    pixels[fluke] = np.array([35, 35, 40]) + rng.normal(0, 8, (int(fluke.sum()), 3))
    pixels[white] = np.array([225, 225, 220]) * rng.uniform(0.8, 1.0) + rng.normal(0, 8, (int(white.sum()), 3))
    return pixels


def humpbacks(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """whale-categorization-playground: fluke photos `train/<8 hex>.jpg` and `test/...` of varying sizes, some
    grey; train.csv (Image with its `.jpg`, Id) names the whale `w_<7 hex>` or `new_whale`, most whales seen once
    or twice. prepare.py sends one image of each whale with two or more to train and one to test, splits the rest
    90/10, and renames a test whale that no train image shows `new_whale`. The sample repeats `new_whale` and the
    four most frequent whales for every image; MAP@5 (answers in private/test.csv: Image, Id). Each whale's fluke
    carries its own pattern of white marks."""
    whales = WHALE_SAMPLE.split()[1:] + [f"w_{h}" for h in hex_ids(rng, 130, 7)]
    counts = [12, 10, 9, 8, *rng.choice([1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6], len(whales) - 4)]
    marks = rng.random((len(whales), 3, 6)) < 0.45
    rows = [(k, whale) for k, (whale, count) in enumerate(zip(whales, counts)) for _ in range(count)]
    rows += [(-1, "new_whale")] * 40  # whales nobody named, each unlike any other
    rows = [rows[i] for i in rng.permutation(len(rows))]
    frame = pd.DataFrame({"Image": [f"{h}.jpg" for h in hex_ids(rng, len(rows), 8)], "Id": [w for _, w in rows]})
    part = np.full(len(frame), "", dtype=object)
    for _, images in frame.groupby("Id", sort=False).groups.items():
        images = rng.permutation(np.asarray(images))
        if len(images) >= 2:
            part[images[0]], part[images[1]] = "train", "test"
        else:
            part[images[0]] = "test" if rng.random() < 0.1 else "train"
    undecided = np.flatnonzero(part == "")
    part[undecided] = np.where(rng.random(len(undecided)) < 0.1, "test", "train")
    for i, (k, _) in enumerate(rows):
        height, width = int(rng.integers(28, 45)), int(rng.integers(56, 65))
        pixels = _fluke(rng, marks[k] if k >= 0 else rng.random((3, 6)) < 0.45, height, width)
        if rng.random() < 0.3:  # a black-and-white photo
            pixels = pixels.mean(axis=2)
        save_image(folder / str(part[i]) / frame["Image"][i], pixels, quality=90)
    frame = frame.sort_values("Image")
    train, answers = frame[part[frame.index] == "train"], frame[part[frame.index] == "test"].copy()
    answers.loc[~answers["Id"].isin(set(train["Id"])), "Id"] = "new_whale"
    train.to_csv(folder / "train.csv", index=False)
    answers.assign(Id=WHALE_SAMPLE).to_csv(folder / "sample_submission.csv", index=False)
    return answers


IMET_ATTRIBUTES = {
    "country": ["china", "egypt", "france", "germany", "greece", "italy", "japan", "united states"],
    "culture": ["american", "chinese", "egyptian", "french", "german", "greek", "italian", "japanese"],
    "dimension": ["large", "medium", "small"],
    "medium": ["bronze", "ceramic", "glass", "gold", "oil on canvas", "paper", "silver", "terracotta", "wood"],
    "tags": ["birds", "boats", "dogs", "flowers", "horses", "landscapes", "men", "portraits", "trees", "women"]}
IMET_MEDIUM_COLOURS = [[140, 90, 40], [200, 200, 185], [120, 190, 210], [230, 190, 40], [150, 60, 90],
                       [235, 225, 190], [190, 190, 200], [190, 100, 60], [110, 70, 40]]
IMET_TAG_COLOURS = [[255, 0, 0], [0, 200, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255], [0, 255, 255],
                    [0, 0, 0], [255, 255, 255], [255, 128, 0], [128, 0, 255]]


def artworks(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """imet-2020-fgvc7: museum photos `train/<32 hex>.png` and `test/<id>.png` of varying sizes; train.csv (id,
    attribute_ids: space-separated attribute numbers, unordered), labels.csv (attribute_id, attribute_name
    `country::...`, `culture::...`, `dimension::...`, `medium::...`, `tags::...`); 15% of the rows held out.
    The sample says `0 1 2` for every id. grade.py's micro F1 counts only attributes some answer has (a predicted
    attribute no answer has is dropped, not a false positive). The culture tints the background, the country
    follows the culture half the time, the dimension is the object's size, the medium its colour, each tag a
    mark at its own place on the border."""
    names = [f"{kind}::{name}" for kind, values in IMET_ATTRIBUTES.items() for name in values]
    first = {kind: names.index(f"{kind}::{values[0]}") for kind, values in IMET_ATTRIBUTES.items()}
    country_of_culture = [7, 0, 1, 2, 3, 4, 5, 6]
    spots = [(f, 0.03) for f in (0.2, 0.35, 0.5, 0.65, 0.8)] + [(0.03, f) for f in (0.2, 0.35, 0.5, 0.65, 0.8)]
    n, n_train = 900, 765
    ids, rows = hex_ids(rng, n, 32), []
    for i in range(n):
        height, width = int(rng.integers(40, 65)), int(rng.integers(40, 65))
        culture = int(rng.integers(0, 8)) if rng.random() < 0.9 else -1
        tint = 60 + 30 * np.array([(culture + 1) % 3, (culture + 1) // 3, 0])  # grey when there is none
        pixels = tint * rng.uniform(0.8, 1.2) + rng.normal(0, 10, (height, width, 3))
        attributes = [] if culture < 0 else [first["culture"] + culture]
        if culture >= 0 and rng.random() < 0.5:
            attributes.append(first["country"] + country_of_culture[culture])
        size = int(rng.integers(0, 3))  # large, medium, small
        attributes.append(first["dimension"] + size)
        media = rng.choice(9, int(rng.integers(1, 3)), replace=False)
        attributes += [first["medium"] + int(m) for m in media]
        yy, xx = np.mgrid[:height, :width]
        radius = (0.42, 0.3, 0.18)[size] * min(height, width)
        body = (yy - height / 2) ** 2 + (xx - width / 2) ** 2 < radius ** 2
        for j, medium in enumerate(media):  # a second medium takes the right half
            pixels[body & (xx >= width / 2) if j else body] = IMET_MEDIUM_COLOURS[medium]
        for tag in np.flatnonzero(rng.random(10) < 0.15):
            attributes.append(first["tags"] + int(tag))
            top, left = (int(f * side + rng.integers(-1, 2)) for f, side in zip(spots[tag], (height, width)))
            pixels[max(top, 0):top + 5, max(left, 0):left + 5] = IMET_TAG_COLOURS[tag]
        rows.append(" ".join(str(a) for a in rng.permutation(attributes)))
        save_image(folder / ("train" if i < n_train else "test") / f"{ids[i]}.png", pixels)
    frame = pd.DataFrame({"id": ids, "attribute_ids": rows})
    frame.iloc[:n_train].to_csv(folder / "train.csv", index=False)
    frame.iloc[n_train:].assign(attribute_ids="0 1 2").to_csv(folder / "sample_submission.csv", index=False)
    labels = pd.DataFrame({"attribute_id": range(len(names)), "attribute_name": names})
    labels.to_csv(folder / "labels.csv", index=False)
    return frame.iloc[n_train:]


def _radar(rng: np.random.Generator, iceberg: bool, angle: float, side: int) -> tuple[np.ndarray, np.ndarray]:
    """HH and HV backscatter in dB around one object: a ship a bright narrow streak, strong in HV too, an
    iceberg a wider round blob, dimmer in HV; the sea darker at a steeper angle. Their brightness overlaps."""
    yy, xx = np.mgrid[:side, :side]
    sea = -20 - 0.3 * (angle - 30) + rng.normal(0, 1.5)
    band_1, band_2 = sea + rng.normal(0, 1.8, (side, side)), sea - 6 + rng.normal(0, 1.8, (side, side))
    cy, cx = side / 2 + rng.normal(0, 1.5, 2)
    if iceberg:
        shape = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(1.2, 3) ** 2))
        hh, hv = rng.uniform(6, 16), rng.uniform(3, 10)
    else:
        theta = rng.uniform(0, np.pi)
        along, across = (xx - cx) * np.cos(theta) + (yy - cy) * np.sin(theta), \
            (yy - cy) * np.cos(theta) - (xx - cx) * np.sin(theta)
        shape = np.exp(-(along / rng.uniform(1.5, 3.5)) ** 2 - (across / rng.uniform(0.8, 1.6)) ** 2)
        hh, hv = rng.uniform(8, 20), rng.uniform(6, 16)
    return band_1 + hh * shape, band_2 + hv * shape


def icebergs(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """statoil-iceberg-classifier-challenge: train.json.7z, test.json.7z and sample_submission.csv.7z and nothing
    else (MLE-bench keeps the plain sample in private/); each JSON file a list of records (id: 8 hex, band_1,
    band_2: flat lists of dB floats row by row, inc_angle: a number or the string "na", is_iceberg 0/1 in train
    only). The test records come from the old train, so they have "na" angles too; as in the real data only
    ships lack an angle. The sample says 0.5; log loss. Bands here are 25x25, not 75x75."""
    n, n_train, side = 800, 640, 25
    iceberg = (rng.random(n) < 0.47).astype(int)
    records = []
    for i, name in enumerate(hex_ids(rng, n, 8)):
        angle = rng.uniform(30, 46)
        band_1, band_2 = _radar(rng, bool(iceberg[i]), angle, side)
        records.append({"id": name, "band_1": [round(float(v), 6) for v in band_1.ravel()],
                        "band_2": [round(float(v), 6) for v in band_2.ravel()],
                        "inc_angle": "na" if not iceberg[i] and rng.random() < 0.16 else round(float(angle), 4),
                        "is_iceberg": int(iceberg[i])})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.json").write_text(json.dumps(records[:n_train]))
    (folder / "test.json").write_text(json.dumps([{k: r[k] for k in ("id", "band_1", "band_2", "inc_angle")}
                                                  for r in records[n_train:]]))
    answers = pd.DataFrame({"id": [r["id"] for r in records[n_train:]], "is_iceberg": iceberg[n_train:]})
    answers.assign(is_iceberg=0.5).to_csv(folder / "sample_submission.csv", index=False)
    for name in ("train.json", "test.json", "sample_submission.csv"):
        _seven_zip(folder / name)
    return answers


COMMANDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
AUXILIARY = ["bed", "bird", "cat", "dog", "happy", "house"]
NOISES = ["doing_the_dishes", "dude_miaowing", "exercise_bike", "pink_noise", "running_tap", "white_noise"]


def _noise(rng: np.random.Generator, kind: str, t: np.ndarray, rate: int) -> np.ndarray:
    """One of `_background_noise_`'s long recordings, roughly."""
    white = rng.normal(0, 0.3, t.size)
    if kind == "pink_noise":
        pink = np.fft.irfft(np.fft.rfft(white) / np.sqrt(np.arange(1, t.size // 2 + 2)), t.size)
        return 0.3 * pink / pink.std()
    if kind == "running_tap":
        return white - np.convolve(white, np.ones(8) / 8, mode="same")
    if kind == "exercise_bike":
        return 0.2 * white + 0.5 * np.sin(2 * np.pi * 90 * t) * (np.sin(2 * np.pi * 1.2 * t) > 0.6)
    if kind == "doing_the_dishes":
        clinks = np.zeros(t.size)
        for start in rng.integers(0, t.size - rate // 10, 40):
            clinks[start:start + rate // 10] += np.sin(2 * np.pi * rng.uniform(2000, 3500) * t[:rate // 10]) * \
                np.exp(-t[:rate // 10] * 40)
        return 0.1 * white + 0.6 * clinks
    if kind == "dude_miaowing":
        cries = np.zeros(t.size)
        for start in rng.integers(0, t.size - rate, 8):
            f = np.linspace(500, 900, rate) * (1 + 0.3 * np.sin(np.linspace(0, np.pi, rate)))
            cries[start:start + rate] += 0.5 * np.sin(2 * np.pi * np.cumsum(f) / rate) * np.hanning(rate)
        return 0.1 * white + cries
    return white


def commands(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """tensorflow-speech-recognition-challenge: one-second clips `train/audio/<word>/<speaker>_nohash_<n>.wav`
    (names repeat across word folders), long recordings in `train/audio/_background_noise_/`, test clips
    `test/audio/clip_<8 digits>.wav`; the sample (fname, label) says `silence`. The description scores ten
    commands plus `unknown` and `silence`, but prepare.py splits the train folders' wavs (background noise
    included) and writes each test clip's folder name as its answer: the answers hold `bed`, `cat`, ...,
    maybe `_background_noise_`, never `unknown` or `silence`; accuracy. Here 8 kHz; a word is two tones of its
    own, pitched by the speaker."""
    rate, per_word = 8000, 60
    words = COMMANDS + AUXILIARY
    pairs = [(a, b) for a in range(7) for b in range(7) if a != b and (a < b) == (a + b) % 2]  # no pair twice
    tones = {w: pairs[k] for w, k in zip(words, rng.choice(len(pairs), len(words), replace=False))}
    frequencies = 260 * 1.39 ** np.arange(7)
    speakers = hex_ids(rng, 50, 8)
    t = np.arange(rate) / rate
    clips = []  # (label, name, signal)
    for word in words:
        said: dict[str, int] = {}
        for _ in range(per_word):
            speaker = speakers[int(rng.integers(0, len(speakers)))]
            pitch = 1 + 0.06 * (int(speaker, 16) % 7 - 3) / 3 + rng.normal(0, 0.01)
            audio = rng.normal(0, rng.uniform(0.005, 0.05), rate)
            at = rng.uniform(0.05, 0.4)
            for tone in tones[word]:
                length = rng.uniform(0.15, 0.25)
                inside = (t >= at) & (t < at + length)
                f = frequencies[tone] * pitch
                wave_ = np.sin(2 * np.pi * f * t[inside]) + 0.4 * np.sin(4 * np.pi * f * t[inside])
                audio[inside] += rng.uniform(0.2, 0.5) * wave_ * np.hanning(int(inside.sum()))
                at += length + rng.uniform(0.0, 0.05)
            if rng.random() < 0.05:  # some clips are shorter than a second
                audio = audio[:int(rate * rng.uniform(0.6, 0.95))]
            clips.append((word, f"{speaker}_nohash_{said.setdefault(speaker, 0)}.wav", audio))
            said[speaker] += 1
    long_t = np.arange(8 * rate) / rate
    clips += [("_background_noise_", f"{kind}.wav", _noise(rng, kind, long_t, rate)) for kind in NOISES]
    clips.sort(key=lambda clip: f"{clip[0]}_{clip[1]}")
    order = rng.permutation(len(clips))
    n_test = int(np.ceil(0.15 * len(clips)))
    for i in order[n_test:]:
        label, name, audio = clips[i]
        save_wav(folder / "train" / "audio" / label / name, audio, rate)
    answers = []
    for k, i in enumerate(order[:n_test]):
        label, _, audio = clips[i]
        save_wav(folder / "test" / "audio" / f"clip_{k:08d}.wav", audio, rate)
        answers.append({"fname": f"clip_{k:08d}.wav", "label": label})
    answers = pd.DataFrame(answers)
    answers.assign(label="silence").to_csv(folder / "sample_submission.csv", index=False)
    return answers


def _cadence(rng: np.random.Generator, needle: bool, shape: tuple[int, int]) -> np.ndarray:
    """Six panels (on target, off, on, off, on, off) of a spectrogram snippet: noise over a spectrum of its own,
    interference in every panel now and then, and for a needle a drifting line in some on-target panels;
    each panel standardised, float16."""
    times, channels = shape
    spectrum = 1 + 0.5 * np.convolve(rng.random(channels + 8), np.ones(9) / 9, mode="valid")
    panels = rng.chisquare(8, (6, times, channels)) / 8 * spectrum
    if rng.random() < 0.4:  # a fixed-frequency transmitter, seen whichever way the telescope points
        panels[:, :, int(rng.integers(0, channels))] += rng.uniform(1, 4)
    if rng.random() < 0.2:  # a broadband burst in one panel
        panels[int(rng.integers(0, 6)), int(rng.integers(0, times))] += rng.uniform(1, 3)
    if needle:
        start, drift, strength = rng.uniform(4, channels - 4), rng.uniform(-0.12, 0.12), rng.uniform(2, 6)
        shown = [p for p in (0, 2, 4) if rng.random() < 0.85] or [0]
        for p in shown:
            for row in range(times):
                channel = int(round(start + drift * (p * times + row))) % channels
                panels[p, row, channel] += strength
                panels[p, row, (channel + 1) % channels] += strength / 2
    panels = (panels - panels.mean(axis=(1, 2), keepdims=True)) / panels.std(axis=(1, 2), keepdims=True)
    return panels.astype(np.float16)


def seti(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """seti-breakthrough-listen: cadence snippets `train/<first character of id>/<15 hex>.npy`, float16 arrays of
    (6 panels, time, frequency), labels in train_labels.csv (id, target), test arrays `test/<c>/<id>.npy`, and the
    pre-relaunch data copied as it was (`old_leaky_data/`: train_labels_old.csv, test_labels_old.csv, 12-hex ids
    in train_old/ and test_old/, labels for both); the sample says 0.5; AUC. Arrays here are (6, 28, 32), not
    (6, 273, 256). A needle is a drifting line only in the on-target panels 1, 3 and 5."""
    n, n_train, shape = 1000, 800, (28, 32)
    ids = hex_ids(rng, n, 15)
    target = (rng.random(n) < 0.12).astype(int)
    for i, name in enumerate(ids):
        path = folder / ("train" if i < n_train else "test") / name[0] / f"{name}.npy"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, _cadence(rng, bool(target[i]), shape))
    old = folder / "old_leaky_data"
    for part, count in (("train", 150), ("test", 50)):
        old_ids, old_target = hex_ids(rng, count, 12), (rng.random(count) < 0.12).astype(int)
        for name, y in zip(old_ids, old_target):
            (old / f"{part}_old" / name[0]).mkdir(parents=True, exist_ok=True)
            np.save(old / f"{part}_old" / name[0] / f"{name}.npy", _cadence(rng, bool(y), shape))
        pd.DataFrame({"id": old_ids, "target": old_target}).sort_values("id").to_csv(
            old / f"{part}_labels_old.csv", index=False)
    frame = pd.DataFrame({"id": ids, "target": target})
    frame.iloc[:n_train].to_csv(folder / "train_labels.csv", index=False)
    frame.iloc[n_train:].assign(target=0.5).to_csv(folder / "sample_submission.csv", index=False)
    return frame.iloc[n_train:]


PAWPULARITY_FLAGS = {"Subject Focus": 0.03, "Eyes": 0.77, "Face": 0.9, "Near": 0.86, "Action": 0.01,
                     "Accessory": 0.07, "Group": 0.13, "Collage": 0.05, "Human": 0.17, "Occlusion": 0.17,
                     "Info": 0.06, "Blur": 0.07}


def pawpularity(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """petfinder-pawpularity-score: pet photos `train/<32 hex>.jpg` and `test/<Id>.jpg` of varying sizes; train.csv
    (Id, twelve 0/1 photo flags with `Subject Focus` first, Pawpularity 1-100), test.csv the same without the
    score, private/test.csv the test rows with it; the sample's Pawpularity is random in [1, 100] with two
    decimals; RMSE. The score follows a warm bright coat and a near, sharp, open-eyed pet; the flags are drawn
    (a second pet, a human, bars, a caption, blur, ...)."""
    n, n_train = 1000, 850
    ids = hex_ids(rng, n, 32)
    flags = {name: (rng.random(n) < p).astype(int) for name, p in PAWPULARITY_FLAGS.items()}
    appeal = rng.gamma(2, 0.7, n) - 1.4  # skewed right, as the real scores are
    score = (30 + 13 * appeal + 6 * flags["Near"] + 4 * flags["Eyes"] - 8 * flags["Blur"] + 3 * flags["Group"]
             - 3 * flags["Occlusion"] + rng.normal(0, 6, n))
    score = np.clip(np.round(score), 1, 100).astype(int)
    for i, name in enumerate(ids):
        height, width = int(rng.integers(48, 65)), int(rng.integers(48, 65))
        yy, xx = np.mgrid[:height, :width]
        plain = flags["Subject Focus"][i]
        pixels = rng.uniform(60, 200, 3) + rng.normal(0, 6 if plain else 25, (height, width, 3))
        coat = np.array([150, 110, 80]) + 30 * np.clip(appeal[i], -2, 3) * np.array([1.0, 0.6, 0.1])
        size = (0.32 if flags["Near"][i] else 0.18) * min(height, width)
        for dx in ([-0.2, 0.2] if flags["Group"][i] else [0.0]):
            cy, cx = height * 0.55, width * (0.5 + dx)
            pixels[((yy - cy) / size) ** 2 + ((xx - cx) / (1.3 * size)) ** 2 < 1] = coat
            hy = cy - 0.9 * size
            if flags["Face"][i]:
                pixels[(yy - hy) ** 2 + (xx - cx) ** 2 < (0.55 * size) ** 2] = coat * 1.05
            if flags["Eyes"][i]:
                for ex in (-0.22, 0.22):
                    pixels[(yy - hy) ** 2 + (xx - cx - ex * size) ** 2 < (0.1 * size + 0.6) ** 2] = 15
        if flags["Human"][i]:
            pixels[:, :max(4, width // 6)] = [225, 180, 150]
        if flags["Accessory"][i]:
            pixels[height - 10:height - 5, 4:9] = [230, 30, 30]
        if flags["Occlusion"][i]:
            pixels[:, ::8] = 90
        if flags["Collage"][i]:
            pixels[:, width // 2 - 1:width // 2 + 1] = 255
        if flags["Info"][i]:
            pixels[:6] = 250
            pixels[2:4, 3:width - 3:3] = 0
        if flags["Blur"][i]:
            for axis in (0, 1):
                pixels = (np.roll(pixels, 1, axis) + pixels + np.roll(pixels, -1, axis)) / 3
        if flags["Action"][i]:
            pixels = np.roll(pixels, int(rng.integers(3, 8)), axis=1)
        save_image(folder / ("train" if i < n_train else "test") / f"{name}.jpg", pixels, quality=90)
    frame = pd.DataFrame({"Id": ids, **flags, "Pawpularity": score})
    frame.iloc[:n_train].to_csv(folder / "train.csv", index=False)
    test = frame.iloc[n_train:]
    test.drop(columns="Pawpularity").to_csv(folder / "test.csv", index=False)
    test[["Id"]].assign(Pawpularity=rng.uniform(1, 100, len(test)).round(2)).to_csv(folder / "sample_submission.csv",
                                                                                      index=False)
    return test[["Id", "Pawpularity"]]


LAYOUTS = {
    "whale-categorization-playground": ("images; 5 ranked ids, new_whale for the unseen", "map@5", humpbacks),
    "imet-2020-fgvc7": ("png images; space-separated attribute sets", "f1_micro_label_sets", artworks),
    "statoil-iceberg-classifier-challenge": ("7z-archived JSON of flat float bands; 'na' angles", "logloss",
                                             icebergs),
    "tensorflow-speech-recognition-challenge": ("wavs in label folders; raw folder names as answers", "accuracy",
                                                commands),
    "seti-breakthrough-listen": ("float16 .npy per id in first-character folders", "auc", seti),
    "petfinder-pawpularity-score": ("images beside 12 photo flags; a 1-100 score", "rmse", pawpularity),
}
