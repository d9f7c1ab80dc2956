"""Miniatures of MLE-bench medium competitions whose inputs are photos, labelled in tables or COCO-style JSON.

Each generator writes what the competition's `prepare.py` gives an agent (file names, nested folders, JSON
metadata, columns, id rules, the sample submission's shape and placeholder values) filled with generated
images whose signal a model can learn, and returns the answers in the shape the competition's `grade.py`
reads them. Kept small: a few hundred images of at most 64x64 each, so each runs within
`agent compete --time-budget 60` on two cores. Where the real files carry a format no library here writes
(TFRecord), the miniature leaves them out and says so.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

from layout_kit import hex_ids, save_image


def _ellipse(height: int, width: int, cy: float, cx: float, ry: float, rx: float, angle: float = 0.0) -> np.ndarray:
    """The pixels of a (height, width) image inside an ellipse of radii (ry, rx) around (cy, cx), turned by
    `angle` radians."""
    yy, xx = np.mgrid[:height, :width] + 0.5
    u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    v = (yy - cy) * np.cos(angle) - (xx - cx) * np.sin(angle)
    return (u / rx) ** 2 + (v / ry) ** 2 < 1


def _spots(rng: np.random.Generator, pixels: np.ndarray, inside: np.ndarray, count: int, colour, radius: float,
           rim=None) -> None:
    """Paint `count` round spots of `colour` centred on random pixels of the mask `inside` and kept within it;
    with a `rim` colour each spot is a ring of it around a `colour` centre."""
    places = np.argwhere(inside)
    for cy, cx in places[rng.integers(0, len(places), count)] if len(places) else []:
        r = radius * rng.uniform(0.7, 1.3)
        spot = _ellipse(*inside.shape, cy + 0.5, cx + 0.5, r, r) & inside
        pixels[spot] = colour
        if rim is not None:
            pixels[spot & ~_ellipse(*inside.shape, cy + 0.5, cx + 0.5, 0.5 * r, 0.5 * r)] = rim


def _blotches(rng: np.random.Generator, height: int, width: int, cells: int, share: float) -> np.ndarray:
    """A mask of soft irregular patches covering about `share` of the image: coarse noise, scaled up."""
    coarse = rng.random((cells, cells))
    fine = np.kron(coarse, np.ones((height // cells + 1, width // cells + 1)))[:height, :width]
    fine = (fine + np.roll(fine, 2, 0) + np.roll(fine, 2, 1)) / 3
    return fine > np.quantile(fine, 1 - share)


APPLE_LABELS = {  # the real train.csv's twelve label sets, as written there, and their shares
    "scab": 4826, "healthy": 4624, "frog_eye_leaf_spot": 3181, "rust": 1860, "complex": 1602, "powdery_mildew": 1184,
    "scab frog_eye_leaf_spot": 686, "scab frog_eye_leaf_spot complex": 200, "frog_eye_leaf_spot complex": 165,
    "rust frog_eye_leaf_spot": 120, "rust complex": 97, "powdery_mildew complex": 87}


def apple_leaves(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """plant-pathology-2021-fgvc8: apple leaf photos `train_images/<16 hex>.jpg` and `test_images/<image>.jpg`
    (4000x2672 in the real data), train.csv (image with its `.jpg`, labels: a space-separated disease set among
    healthy, scab, frog_eye_leaf_spot, rust, powdery_mildew and complex, twelve sets in all); prepare.py holds out
    a random 20% of the old train. The sample says `healthy` for every image; micro F1 over the label sets
    (answers: image, labels). Here 64x43: scab dark olive blotches, frog eye brown rings with pale centres, rust
    orange spots, powdery mildew whitish patches, complex a yellowed, browned leaf with dead edges."""
    n, height, width = 700, 43, 64
    shares = np.array(list(APPLE_LABELS.values()), dtype=float)
    labels = rng.choice(list(APPLE_LABELS), n, p=shares / shares.sum())
    images = [f"{h}.jpg" for h in hex_ids(rng, n, 16)]
    n_test = int(np.ceil(0.2 * n))
    for i, (name, label) in enumerate(zip(images, labels)):
        diseases = label.split()
        top, bottom = rng.uniform(40, 200, 3), rng.uniform(40, 160, 3)  # sky, soil, grass, hands: anything
        pixels = np.linspace(top, bottom, height)[:, None, :] + rng.normal(0, 14, (height, width, 3))
        leaf = _ellipse(height, width, height / 2 + rng.normal(0, 2), width / 2 + rng.normal(0, 3),
                        rng.uniform(13, 18), rng.uniform(23, 29), rng.normal(0, 0.25))
        green = np.array([150, 145, 60] if "complex" in diseases else [70, 135, 50]) * rng.uniform(0.8, 1.15)
        pixels[leaf] = green + rng.normal(0, 6, (int(leaf.sum()), 3))
        rows, cols = np.nonzero(leaf)
        midrib = np.abs(rows - rows.mean() - (cols - cols.mean()) * np.polyfit(cols, rows, 1)[0]) < 0.6
        pixels[rows[midrib], cols[midrib]] = green * 1.3
        if "complex" in diseases:  # necrotic margins and scattered dead specks
            pixels[leaf & ~_ellipse(height, width, rows.mean(), cols.mean(), 11, 21, 0)] = [100, 70, 35]
            _spots(rng, pixels, leaf, int(rng.integers(4, 9)), [80, 55, 30], 1.2)
        if "scab" in diseases:
            _spots(rng, pixels, leaf, int(rng.integers(4, 9)), [55, 60, 30], 2.6)
        if "frog_eye_leaf_spot" in diseases:
            _spots(rng, pixels, leaf, int(rng.integers(3, 7)), [205, 180, 130], 2.4, rim=[120, 45, 25])
        if "rust" in diseases:
            _spots(rng, pixels, leaf, int(rng.integers(3, 8)), [240, 135, 20], 1.8)
        if "powdery_mildew" in diseases:
            dusty = leaf & _blotches(rng, height, width, 6, 0.3)
            pixels[dusty] = 0.35 * pixels[dusty] + 0.65 * np.array([225, 230, 220])
        save_image(folder / ("test_images" if i < n_test else "train_images") / name, pixels, quality=90)
    frame = pd.DataFrame({"image": images, "labels": labels})
    answers, train = frame.iloc[:n_test], frame.iloc[n_test:]
    train.to_csv(folder / "train.csv", index=False)
    answers.assign(labels="healthy").to_csv(folder / "sample_submission.csv", index=False)
    return answers


HOTEL_SAMPLE = "36363 53586 18807 64314 60181"


def hotel_rooms(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """hotel-id-2021-fgvc8: room photos `train_images/<chain>/<16 hex>.jpg`, one folder per hotel chain (0: no
    chain or unknown), of varying sizes; train.csv (image with its `.jpg`, chain, hotel_id, timestamp);
    prepare.py holds out a random 10% of the old train and puts those images flat in `test_images/`, so a test
    image's chain is not given. The sample ranks `36363 53586 18807 64314 60181` for every image; MAP@5 (answers
    in private/test.csv, which keeps chain and timestamp; grade.py reads image, hotel_id). A chain fixes the
    bed's linen and headboard and where the bed stands, a hotel its wall, carpet and picture; the five sample
    hotels are among the 55, with 3 to 13 photos like the rest."""
    sample = [int(h) for h in HOTEL_SAMPLE.split()]
    hotels = sample + [int(h) for h in rng.choice(np.setdiff1d(np.arange(1, 110000), sample), 50, replace=False)]
    chain_names = [0, *sorted(int(c) for c in rng.choice(np.arange(1, 88), 6, replace=False))]
    chain_of = [int(c) for c in rng.choice(chain_names, len(hotels), p=[0.3] + [0.7 / 6] * 6)]
    styles = {c: (rng.uniform(60, 250, 3), rng.uniform(30, 180, 3), rng.random() < 0.5) for c in chain_names[1:]}
    beds = [styles[c] if c else (rng.uniform(60, 250, 3), rng.uniform(30, 180, 3), rng.random() < 0.5)
            for c in chain_of]  # linen, headboard, bed on the left
    rooms = [(rng.uniform(80, 240, 3), rng.uniform(30, 160, 3), rng.uniform(0, 255, 3)) for _ in hotels]
    counts = rng.integers(3, 14, len(hotels))
    rows = [k for k, count in enumerate(counts) for _ in range(count)]
    rows = [rows[i] for i in rng.permutation(len(rows))]
    images = [f"{h}.jpg" for h in hex_ids(rng, len(rows), 16)]
    n_test = int(np.ceil(0.1 * len(rows)))
    for i, k in enumerate(rows):
        chain = chain_of[k]
        linen, headboard, left = beds[k]
        wall, carpet, picture = rooms[k]
        height, width = int(rng.integers(48, 65)), int(rng.integers(48, 65))
        light = rng.uniform(0.75, 1.2)
        horizon = int(height * rng.uniform(0.5, 0.65))
        pixels = np.empty((height, width, 3))
        pixels[:horizon], pixels[horizon:] = wall, carpet
        x0 = int(width * (0.08 if left else 0.42) + rng.integers(-4, 5))
        x1, y0 = x0 + int(width * rng.uniform(0.45, 0.55)), horizon - int(height * rng.uniform(0.02, 0.08))
        pixels[y0 - int(height * 0.14):y0, max(x0, 0):x1] = headboard
        pixels[y0:min(y0 + int(height * 0.3), height), max(x0, 0):x1] = linen
        px = int(width * (0.7 if left else 0.12)) + int(rng.integers(-3, 4))
        pixels[int(height * 0.12):int(height * 0.3), max(px, 0):px + int(width * 0.18)] = picture
        pixels = pixels * light + rng.normal(0, 8, pixels.shape)
        if rng.random() < 0.3:  # taken from the other side of the room
            pixels = pixels[:, ::-1]
        part = folder / "test_images" if i < n_test else folder / "train_images" / str(chain)
        save_image(part / images[i], pixels, quality=90)
    seconds = rng.integers(0, 5 * 365 * 86400, len(rows))
    stamps = (pd.Timestamp("2016-01-01") + pd.to_timedelta(seconds, unit="s")).strftime("%Y-%m-%d %H:%M:%S")
    frame = pd.DataFrame({"image": images, "chain": [chain_of[k] for k in rows],
                          "hotel_id": [hotels[k] for k in rows], "timestamp": stamps})
    frame.iloc[n_test:].to_csv(folder / "train.csv", index=False)
    answers = frame.iloc[:n_test][["image", "hotel_id"]]
    answers.assign(hotel_id=HOTEL_SAMPLE).to_csv(folder / "sample_submission.csv", index=False)
    return answers


HERBARIUM_FAMILIES = {"Asteraceae": ["Solidago", "Symphyotrichum"], "Fabaceae": ["Astragalus", "Lupinus"],
                      "Lamiaceae": ["Salvia", "Stachys"], "Rosaceae": ["Potentilla", "Rubus"]}
HERBARIUM_LEAVES = [[60, 100, 40], [135, 115, 50], [40, 70, 95], [145, 85, 60], [65, 50, 30], [40, 105, 90],
                    [110, 70, 35], [105, 135, 90]]  # a dried leaf colour per genus
HERBARIUM_FLOWERS = {"alba": [245, 245, 235], "rubra": [200, 30, 30], "lutea": [235, 210, 40],
                     "purpurea": [120, 40, 140], "caerulea": [50, 80, 200], "aurantiaca": [240, 130, 30],
                     "rosea": [240, 140, 180], "nigra": [25, 20, 25]}  # a flower colour per species of a genus
HERBARIUM_REGIONS = ["Eastern North America", "Western North America", "Mexico", "Central America", "Caribbean",
                     "Northern South America", "Brazil", "Southern South America"]


def _specimen(rng: np.random.Generator, family: int, leaf, flower, height: int, width: int) -> np.ndarray:
    """A pressed plant on a cream sheet: a stem, leaves along it shaped by the family, flowers at the top, a
    blurred label and a barcode in the bottom corner."""
    pixels = np.array([232, 226, 208]) * rng.uniform(0.9, 1.03) + rng.normal(0, 5, (height, width, 3))
    x, top = width * rng.uniform(0.35, 0.55), height * rng.uniform(0.12, 0.2)
    bend = rng.normal(0, 0.08)
    for y in range(int(top), int(height * 0.9)):
        pixels[y, int(x + bend * (y - top)):int(x + bend * (y - top)) + 1] = [70, 60, 35]
    ry, rx = [(1.6, 6), (3, 4.5), (3.5, 3.5), (2.5, 5)][family]
    for j, y in enumerate(np.linspace(top + 6, height * 0.82, int(rng.integers(4, 7)))):
        side = 1 if j % 2 else -1
        cx = x + bend * (y - top) + side * (rx + 0.5)
        angle = side * rng.uniform(0.2, 0.6)
        blade = _ellipse(height, width, y, cx, ry, rx, angle)
        if family == 3:  # lobed: a second, smaller blade beside the first
            blade |= _ellipse(height, width, y - 2.5, cx + side * 2, ry * 0.8, rx * 0.7, -angle)
        pixels[blade] = np.array(leaf) * rng.uniform(0.85, 1.15)
    for _ in range(int(rng.integers(2, 5))):
        fy, fx = top + rng.normal(0, 2), x + rng.normal(0, 3)
        pixels[_ellipse(height, width, fy, fx, 2.2, 2.2)] = flower
    label = (slice(int(height * 0.84), height - 2), slice(int(width * 0.5), width - 2))
    pixels[label] = 200 + rng.normal(0, 25, pixels[label].shape[:2])[..., None]  # text blurred away
    pixels[height - 9:height - 7, 2:int(width * 0.4)] = rng.choice([0, 240], int(width * 0.4) - 2)[None, :, None]
    return pixels


def herbarium(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """herbarium-2020-fgvc7: everything under `nybg2020/`: `train/metadata.json` in COCO form (annotations:
    category_id, id, image_id, region_id; categories: family, genus, id, name; images: file_name, height, id,
    license, width; info; licenses; regions) with images at `train/images/<category // 100 as 3 digits>/
    <category % 100 as 2 digits>/<image id>.jpg`; `test/metadata.json` with only images, info and licenses, test
    images renumbered 0, 1, ... in shuffled order, their ids written as strings, at `test/images/<index // 1000
    as 3 digits>/<index>.jpg`. prepare.py splits each species 80/20 (one image: all train; two to four: the
    last one to test), lists train images species by species, writes both files with sorted keys and indent 4.
    sample_submission.csv (Id, Predicted) says 0; macro F1 (answers: Id, Predicted = category_id). Here a
    family shapes the leaves, a genus colours them, a species its flowers; sheets 64 pixels high."""
    families = list(HERBARIUM_FAMILIES)
    genera = [(f, g) for f, names in enumerate(HERBARIUM_FAMILIES.values()) for g in names]
    ids = [0, *sorted(int(c) for c in rng.choice(np.arange(1, 32093), len(genera) * len(HERBARIUM_FLOWERS) - 1,
                                                 replace=False))]
    species = [(g, e) for g in range(len(genera)) for e in HERBARIUM_FLOWERS]  # (genus, epithet) per category
    order = rng.permutation(len(species))
    categories = [{"family": families[genera[g][0]], "genus": genera[g][1], "id": ids[k],
                   "name": f"{genera[g][1]} {epithet} L."} for k, (g, epithet) in zip(order, species)]
    categories.sort(key=lambda c: c["id"])
    counts = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15], len(categories),
                        p=[0.08, 0.08, 0.1, 0.1, 0.12, 0.12, 0.1, 0.1, 0.08, 0.07, 0.05])
    raw = [k for k in range(len(categories)) for _ in range(counts[k])]
    image_ids = 1 + rng.choice(10**6 - 1, len(raw), replace=False)
    train_meta = {"annotations": [], "categories": categories, "images": [], "licenses": [
        {"id": 1, "name": "Attribution-NonCommercial-ShareAlike 4.0 International",
         "url": "https://creativecommons.org/licenses/by-nc-sa/4.0/"}],
        "info": {"contributor": "New York Botanical Garden", "date_created": "2020-02-10 00:00:00",
                 "description": "Herbarium 2020 FGVC7 (a generated miniature)", "url": "https://www.nybg.org/",
                 "version": "1.0", "year": 2020},
        "regions": [{"id": r, "name": name} for r, name in enumerate(HERBARIUM_REGIONS)]}
    by_category: dict[int, list[int]] = {}
    for i in np.argsort(image_ids):  # the raw file lists images by id; prepare.py groups them by species
        by_category.setdefault(raw[i], []).append(int(image_ids[i]))
    test, nested = [], folder / "nybg2020"
    for k, items in by_category.items():
        if len(items) >= 5:
            items = [items[i] for i in rng.permutation(len(items))]
            cut = len(items) - int(np.ceil(0.2 * len(items)))
        else:
            cut = len(items) - (len(items) > 1)
        category = categories[k]
        genus = next(i for i, (_, g) in enumerate(genera) if g == category["genus"])
        for j, image_id in enumerate(items):
            height, width = 64, int(rng.integers(40, 49))
            pixels = _specimen(rng, genera[genus][0], HERBARIUM_LEAVES[genus],
                               HERBARIUM_FLOWERS[category["name"].split()[1]], height, width)
            entry = {"file_name": f"images/{category['id'] // 100:03d}/{category['id'] % 100:02d}/{image_id}.jpg",
                     "height": height, "id": image_id, "license": 1, "width": width}
            if j >= cut:
                test.append((category, entry, pixels))
                continue
            train_meta["images"].append(entry)
            train_meta["annotations"].append({"category_id": category["id"], "id": image_id, "image_id": image_id,
                                              "region_id": int(rng.integers(0, len(HERBARIUM_REGIONS)))})
            save_image(nested / "train" / entry["file_name"], pixels, quality=90)
    return _herbarium_test(rng, nested, folder, train_meta, test)


def _herbarium_test(rng: np.random.Generator, root: Path, folder: Path, train_meta: dict, test: list) -> pd.DataFrame:
    """The herbaria's (2020, 2021) test half: images renumbered 0, 1, ... in shuffled order under `root/test/`,
    both metadata files, the sample saying 0; returns the answers."""
    test_meta = {"images": [], "info": train_meta["info"], "licenses": train_meta["licenses"]}
    answers = []
    for index, i in enumerate(rng.permutation(len(test))):
        category, entry, pixels = test[i]
        entry = {**entry, "file_name": f"images/{index // 1000:03d}/{index}.jpg", "id": str(index)}
        test_meta["images"].append(entry)
        save_image(root / "test" / entry["file_name"], pixels, quality=90)
        answers.append({"Id": index, "Predicted": category["id"]})
    for part, meta in (("train", train_meta), ("test", test_meta)):
        (root / part / "metadata.json").write_text(json.dumps(meta, indent=4, sort_keys=True))
    answers = pd.DataFrame(answers)
    answers.assign(Predicted=0).to_csv(folder / "sample_submission.csv", index=False)
    return answers


HERBARIUM_ORDERS = {"Asteraceae": "Asterales", "Fabaceae": "Fabales", "Lamiaceae": "Lamiales", "Rosaceae": "Rosales"}
HERBARIUM_2021_INSTITUTIONS = ["New York Botanical Garden", "Bishop Museum", "Naturalis Biodiversity Center",
                               "Queensland Herbarium", "Auckland War Memorial Museum"]
HERBARIUM_2022_INSTITUTIONS = ["NY", "MO", "F", "US", "BRIT", "TEX", "MICH", "DUKE"]  # collectionCode


def _herbarium_species(rng: np.random.Generator, n: int) -> list[tuple[int, int, str]]:
    """`n` distinct species of the miniature herbaria, in random order: (family index, genus index, epithet), the
    genus indexing the flat list of HERBARIUM_FAMILIES' genera and HERBARIUM_LEAVES."""
    genera = [f for f, names in enumerate(HERBARIUM_FAMILIES.values()) for _ in names]
    pairs = [(genera[g], g, epithet) for g in range(len(genera)) for epithet in HERBARIUM_FLOWERS]
    return [pairs[i] for i in rng.choice(len(pairs), n, replace=False)]


def herbarium_2021(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """herbarium-2021-fgvc8: as herbarium-2020-fgvc7 but straight in the public folder (no `nybg2020/`):
    `train/metadata.json` in COCO form (annotations: category_id, id, image_id, institution_id; categories: family,
    id, name, order; images: file_name, height, id, license, width; info; licenses; institutions: id, name) with
    images at `train/images/<category // 100 as 3 digits>/<category % 100 as 2 digits>/<image id>.jpg`;
    `test/metadata.json` with only images, info and licenses, test images renumbered 0, 1, ... in shuffled order,
    their ids written as strings, at `test/images/<index // 1000 as 3 digits>/<index>.jpg`. prepare.py splits each
    species 80/20 (one image: all train; two to four: the last one to test; the real species have three images or
    more), lists train images species by species, writes both files with sorted keys and indent 4.
    sample_submission.csv (Id, Predicted) says 0; macro F1 (answers: Id, Predicted = category_id). Here 36 species
    with 3 to 24 sheets each, ids drawn from the real 0-64499: a family shapes the leaves, a genus colours them, a
    species its flowers; each species comes mostly from one of five institutions; sheets 64 pixels high."""
    families, genera = list(HERBARIUM_FAMILIES), [g for names in HERBARIUM_FAMILIES.values() for g in names]
    species = _herbarium_species(rng, 36)
    ids = sorted(int(c) for c in rng.choice(64500, len(species), replace=False))
    categories = [{"family": families[f], "id": ids[k], "name": f"{genera[g]} {epithet} L.",
                   "order": HERBARIUM_ORDERS[families[f]]} for k, (f, g, epithet) in enumerate(species)]
    counts = rng.choice([3, 3, 4, 4, 5, 6, 7, 9, 12, 16, 24], len(species))
    home = rng.integers(0, len(HERBARIUM_2021_INSTITUTIONS), len(species))
    raw = [k for k in range(len(species)) for _ in range(counts[k])]
    image_ids = rng.choice(2257759, len(raw), replace=False)
    train_meta = {"annotations": [], "categories": categories, "images": [], "licenses": [
        {"id": 0, "name": "Attribution-NonCommercial-ShareAlike 4.0 International",
         "url": "https://creativecommons.org/licenses/by-nc-sa/4.0/"}],
        "info": {"contributor": ", ".join(HERBARIUM_2021_INSTITUTIONS), "date_created": "2021-03-02 00:00:00",
                 "description": "Herbarium 2021: Half-Earth Challenge - FGVC8 (a generated miniature)",
                 "url": "https://github.com/visipedia/herbarium_comp", "version": "1.0", "year": 2021},
        "institutions": [{"id": i, "name": name} for i, name in enumerate(HERBARIUM_2021_INSTITUTIONS)]}
    by_category: dict[int, list[int]] = {}
    for i in np.argsort(image_ids):  # the raw file lists images by id; prepare.py groups them by species
        by_category.setdefault(raw[i], []).append(int(image_ids[i]))
    test = []
    for k, items in by_category.items():
        if len(items) >= 5:  # train_test_split(test_size=0.2) shuffles and holds out ceil(0.2 n)
            items = [items[i] for i in rng.permutation(len(items))]
            cut = len(items) - int(np.ceil(0.2 * len(items)))
        else:
            cut = len(items) - (len(items) > 1)
        category, (family, genus, epithet) = categories[k], species[k]
        for j, image_id in enumerate(items):
            height, width = 64, int(rng.integers(40, 49))
            pixels = _specimen(rng, family, HERBARIUM_LEAVES[genus], HERBARIUM_FLOWERS[epithet], height, width)
            entry = {"file_name": f"images/{category['id'] // 100:03d}/{category['id'] % 100:02d}/{image_id}.jpg",
                     "height": height, "id": image_id, "license": 0, "width": width}
            if j >= cut:
                test.append((category, entry, pixels))
                continue
            institution = int(home[k] if rng.random() < 0.75 else rng.integers(0, len(HERBARIUM_2021_INSTITUTIONS)))
            train_meta["images"].append(entry)
            train_meta["annotations"].append({"category_id": category["id"], "id": image_id, "image_id": image_id,
                                              "institution_id": institution})
            save_image(folder / "train" / entry["file_name"], pixels, quality=90)
    return _herbarium_test(rng, folder, folder, train_meta, test)


def herbarium_2022(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """herbarium-2022-fgvc9: `train_metadata.json` (annotations: category_id, genus_id, image_id, institution_id;
    categories: authors, category_id, family, genus, scientificName, species; genera: genus, genus_id; images:
    file_name, image_id, license; distances: distance, genus_id_x < genus_id_y for every pair of genera;
    institutions: collectionCode, institution_id; licenses: id, name, url; no info) with images at
    `train_images/<category // 100 as 3 digits>/<category % 100 as 2 digits>/<image id>.jpg`, train image ids
    renumbered within their species as `<category as 5 digits>__<1-based index as 3 digits>` (e.g. `15504__037`,
    file_name `155/04/15504__037.jpg`, relative to `train_images/`); `test_metadata.json` is a bare JSON list of
    image records (file_name, image_id, license), test images renumbered 0, 1, ... in shuffled order, image_id
    written as a string, file_name `<index // 1000 as 3 digits>/test-<index as 6 digits>.jpg` relative to
    `test_images/`. prepare.py splits every species 80/20 with train_test_split (each has two images or more, so
    both sides get one), lists train images species by species, writes both files with sorted keys and indent 4.
    sample_submission.csv (Id, Predicted) says 42; macro F1 (answers: Id, Predicted = category_id). Here 32
    species with 3 to 20 sheets each (the real training set is capped at 80 a species), ids drawn from the real
    0-15504: a family shapes the leaves, a genus colours them, a species its flowers (epithets repeat across
    genera, as in the real data); genera of one family are closer in `distances`; sheets 64 pixels high."""
    families, genera = list(HERBARIUM_FAMILIES), [g for names in HERBARIUM_FAMILIES.values() for g in names]
    family_of = [f for f, names in enumerate(HERBARIUM_FAMILIES.values()) for _ in names]
    genus_ids = [int(v) for v in rng.choice(np.arange(1, 2565), len(genera), replace=False)]
    species = sorted(_herbarium_species(rng, 32), key=lambda s: (s[1], s[2]))
    ids = [int(c) for c in rng.choice(15505, len(species), replace=False)]
    categories = [{"authors": "L.", "category_id": ids[k], "family": families[f], "genus": genera[g],
                   "scientificName": f"{genera[g]} {epithet} L.", "species": epithet}
                  for k, (f, g, epithet) in enumerate(species)]
    licenses = [{"id": 0, "name": "Public Domain Dedication",
                 "url": "http://creativecommons.org/publicdomain/zero/1.0/"},
                {"id": 1, "name": "Attribution License", "url": "http://creativecommons.org/licenses/by/4.0/"},
                {"id": 2, "name": "Attribution-NonCommercial License",
                 "url": "http://creativecommons.org/licenses/by-nc/4.0/"}]
    distances = [{"distance": round(float(rng.uniform(0.15, 0.4) if family_of[a] == family_of[b]
                                          else rng.uniform(0.6, 1.0)), 6),
                  "genus_id_x": min(genus_ids[a], genus_ids[b]), "genus_id_y": max(genus_ids[a], genus_ids[b])}
                 for a in range(len(genera)) for b in range(a + 1, len(genera))]
    train_meta = {"annotations": [], "categories": sorted(categories, key=lambda c: c["category_id"]),
                  "distances": distances, "genera": sorted(({"genus": g, "genus_id": i} for g, i in
                                                             zip(genera, genus_ids)), key=lambda g: g["genus_id"]),
                  "images": [], "institutions": [{"collectionCode": code, "institution_id": i}
                                                 for i, code in enumerate(HERBARIUM_2022_INSTITUTIONS)],
                  "licenses": licenses}
    counts = np.minimum(rng.choice([3, 4, 5, 6, 8, 10, 12, 16, 20, 30], len(species)), 20)
    home = rng.integers(0, len(HERBARIUM_2022_INSTITUTIONS), len(species))
    test = []
    for k in sorted(range(len(species)), key=lambda k: ids[k]):  # the raw file lists images species by species
        category, (family, genus, epithet), n = categories[k], species[k], int(counts[k])
        cut = n - int(np.ceil(0.2 * n))  # train_test_split(test_size=0.2) on the shuffled species
        subdir = f"{category['category_id'] // 100:03d}/{category['category_id'] % 100:02d}"
        for j in range(n):
            pixels = _specimen(rng, family, HERBARIUM_LEAVES[genus], HERBARIUM_FLOWERS[epithet], 64,
                               int(rng.integers(40, 49)))
            annotation = {"category_id": category["category_id"], "genus_id": genus_ids[genus],
                          "institution_id": int(home[k] if rng.random() < 0.75 else
                                                rng.integers(0, len(HERBARIUM_2022_INSTITUTIONS)))}
            license_id = int(rng.integers(0, len(licenses)))
            if j >= cut:
                test.append((annotation, license_id, pixels))
                continue
            image_id = f"{category['category_id']:05d}__{j + 1:03d}"
            train_meta["annotations"].append({**annotation, "image_id": image_id})
            train_meta["images"].append({"file_name": f"{subdir}/{image_id}.jpg", "image_id": image_id,
                                         "license": license_id})
            save_image(folder / "train_images" / subdir / f"{image_id}.jpg", pixels, quality=90)
    test_images, answers = [], []
    for index, i in enumerate(rng.permutation(len(test))):
        annotation, license_id, pixels = test[i]
        entry = {"file_name": f"{index // 1000:03d}/test-{index:06d}.jpg", "image_id": str(index),
                 "license": license_id}
        test_images.append(entry)
        save_image(folder / "test_images" / entry["file_name"], pixels, quality=90)
        answers.append({"Id": index, "Predicted": annotation["category_id"]})
    (folder / "train_metadata.json").write_text(json.dumps(train_meta, indent=4, sort_keys=True))
    (folder / "test_metadata.json").write_text(json.dumps(test_images, indent=4, sort_keys=True))
    answers = pd.DataFrame(answers)
    answers.assign(Predicted=42).to_csv(folder / "sample_submission.csv", index=False)
    return answers


INAT_GENERA = [  # iconic folder, kingdom, phylum, class, order, family, genus, miniature species: 2019's six folders
    ("Amphibians", "Animalia", "Chordata", "Amphibia", "Anura", "Ranidae", "Lithobates", 1),
    ("Birds", "Animalia", "Chordata", "Aves", "Passeriformes", "Parulidae", "Setophaga", 3),
    ("Fungi", "Fungi", "Basidiomycota", "Agaricomycetes", "Agaricales", "Amanitaceae", "Amanita", 1),
    ("Insects", "Animalia", "Arthropoda", "Insecta", "Lepidoptera", "Papilionidae", "Papilio", 3),
    ("Plants", "Plantae", "Tracheophyta", "Magnoliopsida", "Asterales", "Asteraceae", "Helianthus", 3),
    ("Plants", "Plantae", "Tracheophyta", "Magnoliopsida", "Lamiales", "Plantaginaceae", "Penstemon", 3),
    ("Reptiles", "Animalia", "Chordata", "Reptilia", "Squamata", "Phrynosomatidae", "Sceloporus", 2)]
INAT_BLOCKS = {"Amphibians": (0, 10), "Birds": (10, 136), "Fungi": (136, 148), "Insects": (148, 289),
               "Plants": (289, 971), "Reptiles": (971, 1010)}  # category ids of each folder among the real 1010
INAT_COLOURS = [[205, 45, 40], [240, 205, 45], [70, 90, 210]]  # a species' colour within its genus
INAT_SCENES = {"Amphibians": [60, 85, 50], "Birds": [150, 190, 230], "Fungi": [95, 75, 50], "Insects": [105, 150, 75],
               "Plants": [70, 115, 50], "Reptiles": [150, 135, 115]}  # the usual background of each folder


def _observation(rng: np.random.Generator, folder: str, genus: int, colour, height: int, width: int) -> np.ndarray:
    """A naturalist's snapshot: the folder's usual background, blotched, with one organism drawn near the centre
    in the species' colour: a flower (the genus: eight thin or five broad petals), a butterfly, a bird, a
    mushroom, a frog or a lizard."""
    pixels = np.array(INAT_SCENES[folder]) * rng.uniform(0.8, 1.15) + rng.normal(0, 8, (height, width, 3))
    pixels[_blotches(rng, height, width, 6, 0.35)] *= 0.75
    s = min(height, width) / 48 * rng.uniform(0.8, 1.15)
    cy, cx = height / 2 + rng.normal(0, 2.5), width / 2 + rng.normal(0, 2.5)
    facing = rng.choice([-1, 1])
    colour = np.array(colour) * rng.uniform(0.85, 1.1)
    if folder == "Plants":
        petals, length, breadth, heart = ((8, 9, 2.2, [90, 55, 25]), (5, 8, 4.5, [245, 235, 200]))[genus]
        turn = rng.uniform(0, np.pi)
        for p in range(petals):
            a = turn + 2 * np.pi * p / petals
            pixels[_ellipse(height, width, cy + np.sin(a) * length * s * 0.6, cx + np.cos(a) * length * s * 0.6,
                            breadth * s, length * s * 0.6, a)] = colour
        pixels[_ellipse(height, width, cy, cx, 3.5 * s, 3.5 * s)] = heart
    elif folder == "Insects":
        for side in (-1, 1):
            upper = _ellipse(height, width, cy - 4 * s, cx + side * 7 * s, 6 * s, 7.5 * s, side * 0.5)
            lower = _ellipse(height, width, cy + 5 * s, cx + side * 5 * s, 4.5 * s, 5 * s, -side * 0.4)
            pixels[upper | lower] = colour
            _spots(rng, pixels, upper, 2, [245, 245, 240], 1.3 * s)
        pixels[_ellipse(height, width, cy, cx, 10 * s, 1.6 * s)] = [30, 25, 20]
    elif folder == "Birds":
        pixels[height - int(10 * s):height - int(7 * s), :] = [95, 70, 45]  # a branch
        pixels[_ellipse(height, width, cy + 4 * s, cx - facing * 12 * s, 2 * s, 6 * s, -facing * 0.4)] \
            = colour * 0.6  # tail
        pixels[_ellipse(height, width, cy, cx, 7 * s, 10 * s)] = colour
        pixels[_ellipse(height, width, cy - 7 * s, cx + facing * 8 * s, 4.5 * s, 4.5 * s)] = colour
        pixels[_ellipse(height, width, cy + 1 * s, cx - facing * 2 * s, 4 * s, 7 * s, facing * 0.3)] = colour * 0.55
        pixels[_ellipse(height, width, cy - 7 * s, cx + facing * 13.5 * s, 1.2 * s, 2.5 * s)] = [230, 150, 40]
        pixels[_ellipse(height, width, cy - 8 * s, cx + facing * 9.5 * s, 0.9 * s, 0.9 * s)] = [10, 10, 10]
    elif folder == "Fungi":
        pixels[_ellipse(height, width, cy + 7 * s, cx, 8 * s, 2.6 * s)] = [235, 228, 210]  # stem
        cap = _ellipse(height, width, cy, cx, 9 * s, 13 * s) & (np.arange(height) < cy + 1)[:, None]
        pixels[cap] = colour
        _spots(rng, pixels, cap, int(rng.integers(4, 8)), [245, 245, 235], 1.4 * s)
    elif folder == "Amphibians":
        body = _ellipse(height, width, cy + 2 * s, cx, 8 * s, 11 * s)
        pixels[body] = colour
        _spots(rng, pixels, body, int(rng.integers(4, 8)), colour * 0.4, 1.5 * s)
        for side in (-1, 1):
            pixels[_ellipse(height, width, cy - 5 * s, cx + side * 5 * s, 2.6 * s, 2.6 * s)] = colour
            pixels[_ellipse(height, width, cy - 5.5 * s, cx + side * 5 * s, 1.2 * s, 1.2 * s)] = [15, 15, 10]
            pixels[_ellipse(height, width, cy + 8 * s, cx + side * 11 * s, 2.5 * s, 5 * s, side * 0.3)] = colour
    else:  # Reptiles: a lizard lying on a slant
        angle = rng.uniform(-0.5, 0.5)
        along = np.array([np.sin(angle), np.cos(angle)]) * facing
        for leg in (-5, 5):
            for side in (-1, 1):
                ly, lx = np.array([cy, cx]) + along * leg * s + np.array([along[1], -along[0]]) * side * 4 * s
                pixels[_ellipse(height, width, ly, lx, 1.2 * s, 3 * s, angle + side * 1.2)] = colour * 0.7
        pixels[_ellipse(height, width, *(np.array([cy, cx]) - along * 15 * s), 1.2 * s, 8 * s, angle)] = colour * 0.8
        body = _ellipse(height, width, cy, cx, 3.5 * s, 10 * s, angle)
        pixels[body] = colour
        pixels[body & _ellipse(height, width, cy, cx, 1 * s, 10 * s, angle)] = colour * 0.45  # a dorsal stripe
        pixels[_ellipse(height, width, *(np.array([cy, cx]) + along * 11 * s), 2.8 * s, 3.5 * s, angle)] = colour
    return pixels


def inaturalist(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """inaturalist-2019-fgvc6: train2019.json (COCO: annotations: category_id, id, image_id; categories: class,
    family, genus, id, kingdom, name, order, phylum; images: file_name, height, id, license, rights_holder, width;
    info; licenses), val2019.json copied unchanged from the raw data (three images a species, ids after the train
    ones) and test2019.json (images, info, licenses). Train images keep their raw ids and file_name
    `train_val2019/<iconic folder: Amphibians, Birds, Fungi, Insects, Plants, Reptiles>/<category id>/<32 hex>.jpg`;
    prepare.py holds out 12% of each species (ceil(0.12 n) by train_test_split; one image: all train; two to four:
    the last one), the test images keeping their raw ids (so within the train ids' range), shuffled, file_name
    `test2019/<32 hex>.jpg`. Only train images are shipped (the val2019.json images are not, though its file_names
    point into train_val2019/), packed into `train_val2019.tar.gz` and `test2019.tar.gz`: plain uncompressed tars
    despite the name, members named relative to the packed folder (`Plants/400/<hex>.jpg`, `<hex>.jpg`), files
    only, the folders removed. train2019.json and test2019.json have sorted keys and indent 4.
    kaggle_sample_submission.csv (id, predicted) holds random.Random(42).randint(0, 1009) drawn afresh for every
    row, i.e. 654 throughout; top-1 error (answers: id, predicted = category_id). Here 16 species in 7 genera of
    the six folders, category ids in each folder's real range, names obfuscated to the id; 6 to 44 photos each, the
    largest side 64 pixels, the other 40 to 64: a folder sets the background and the organism drawn, a genus its
    shape, a species its colour."""
    species = []  # (genus index, index of the species within its genus)
    for genus, (*_, n) in enumerate(INAT_GENERA):
        species += [(genus, j) for j in range(n)]
    by_group: dict[str, list[int]] = {}
    for k, (genus, _) in enumerate(species):
        by_group.setdefault(INAT_GENERA[genus][0], []).append(k)
    ids = [0] * len(species)
    for group, members in by_group.items():
        for k, c in zip(members, sorted(rng.choice(np.arange(*INAT_BLOCKS[group]), len(members), replace=False))):
            ids[k] = int(c)
    categories = [{"class": g[3], "family": g[5], "genus": g[6], "id": ids[k], "kingdom": g[1], "name": str(ids[k]),
                   "order": g[4], "phylum": g[2]} for k, (genus, _) in enumerate(species) for g in [INAT_GENERA[genus]]]
    categories.sort(key=lambda c: c["id"])
    counts = rng.choice([6, 7, 8, 10, 12, 14, 18, 24, 32, 44], len(species),
                        p=[0.16, 0.14, 0.13, 0.12, 0.1, 0.1, 0.09, 0.07, 0.05, 0.04])
    raw = list(rng.permutation([k for k in range(len(species)) for _ in range(counts[k])]))  # by raw image id
    names = hex_ids(rng, len(raw) + 3 * len(species), 32)
    licenses = [{"id": i, "name": name, "url": f"http://creativecommons.org/licenses/{code}/4.0/"}
                for i, (name, code) in enumerate([("Attribution-NonCommercial License", "by-nc"),
                                                  ("Attribution License", "by"),
                                                  ("Attribution-ShareAlike License", "by-sa")])]
    holders = ["Kenji Ota", "Alice Abela", "Marco Rossi", "Priya Natarajan", "Jonas Berg", "Lucia Mendez"]
    info = {"contributor": "iNaturalist", "date_created": "2019-03-07 00:00:00",
            "description": "iNaturalist 2019 Competition (a generated miniature)",
            "url": "https://github.com/visipedia/inat_comp", "version": "1.0", "year": 2019}

    def record(image_id: int, k: int, name: str) -> tuple[dict, dict]:
        side = int(rng.integers(40, 65))
        height, width = (64, side) if rng.random() < 0.5 else (side, 64)
        folder_name = INAT_GENERA[species[k][0]][0]
        image = {"file_name": f"train_val2019/{folder_name}/{ids[k]}/{name}.jpg", "height": height, "id": image_id,
                 "license": int(rng.integers(0, len(licenses))), "rights_holder": str(rng.choice(holders)),
                 "width": width}
        return image, {"category_id": ids[k], "id": image_id, "image_id": image_id}

    by_category: dict[int, list] = {}
    for image_id, k in enumerate(raw):  # prepare.py groups the raw list species by species
        by_category.setdefault(int(k), []).append(record(image_id, int(k), names[image_id]))
    val = [record(len(raw) + 3 * k + j, k, names[len(raw) + 3 * k + j]) for k in range(len(species)) for j in range(3)]
    train_meta = {"annotations": [], "categories": categories, "images": [], "info": info, "licenses": licenses}
    test = []
    for k, items in by_category.items():
        if len(items) >= 5:
            items = [items[i] for i in rng.permutation(len(items))]
            cut = len(items) - int(np.ceil(0.12 * len(items)))
        else:
            cut = len(items) - (len(items) > 1)
        genus, j = species[k]
        group = INAT_GENERA[genus][0]
        shape = [g for g in INAT_GENERA if g[0] == group].index(INAT_GENERA[genus])  # the genus within its folder
        for n, (image, annotation) in enumerate(items):
            pixels = _observation(rng, group, shape, INAT_COLOURS[j], image["height"], image["width"])
            if n >= cut:
                test.append((image, annotation, pixels))
                continue
            train_meta["images"].append(image)
            train_meta["annotations"].append(annotation)
            save_image(folder / image["file_name"], pixels, quality=90)
    test_meta = {"images": [], "info": info, "licenses": licenses}
    answers = []
    for i in rng.permutation(len(test)):
        image, annotation, pixels = test[i]
        image = {**image, "file_name": "test2019/" + image["file_name"].split("/")[-1]}
        test_meta["images"].append(image)
        save_image(folder / image["file_name"], pixels, quality=90)
        answers.append({"id": image["id"], "predicted": annotation["category_id"]})
    (folder / "train2019.json").write_text(json.dumps(train_meta, indent=4, sort_keys=True))
    (folder / "val2019.json").write_text(json.dumps({  # as shipped by the organisers, not rewritten by prepare.py
        "info": info, "images": [image for image, _ in val], "licenses": licenses, "categories": categories,
        "annotations": [annotation for _, annotation in val]}))
    (folder / "test2019.json").write_text(json.dumps(test_meta, indent=4, sort_keys=True))
    for part in ("test2019", "train_val2019"):  # prepare.py's add_to_tar: tarfile mode "w", no gzip
        with tarfile.open(folder / f"{part}.tar.gz", "w") as tar:
            for path in [p for p in (folder / part).rglob("*") if p.is_file()]:
                tar.add(path, arcname=str(path.relative_to(folder / part)))
        shutil.rmtree(folder / part)
    answers = pd.DataFrame(answers)
    answers.assign(predicted=654).to_csv(folder / "kaggle_sample_submission.csv", index=False)
    return answers


WILD_SPECIES = {  # category id: (name, body colour, body radii (ry, rx), leg length, seen in groups)
    2: ("tayassu pecari", [55, 45, 40], (4, 7), 3, True), 3: ("dasyprocta punctata", [190, 110, 40], (3, 5), 2, False),
    4: ("cuniculus paca", [120, 75, 40], (3.5, 6), 2, False), 6: ("puma concolor", [190, 150, 100], (4, 10), 5, False),
    8: ("tapirus terrestris", [70, 70, 75], (7, 12), 5, False), 10: ("pecari tajacu", [120, 115, 105], (4, 7), 3, True),
    14: ("mazama americana", [160, 80, 45], (4, 8), 7, False),
    71: ("meleagris ocellata", [60, 90, 130], (4, 3), 5, False), 72: ("crax rubra", [20, 20, 25], (4, 4), 4, False),
    372: ("bos taurus", [235, 235, 230], (8, 13), 6, False)}
WILD_UNSEEN = {1: "crax alector", 5: "eira barbara", 7: "nasua nasua", 9: "tamandua mexicana", 11: "leopardus pardalis",
               12: "procyon lotor", 13: "didelphis marsupialis"}  # categories listed that no image has
WILD_SUFFIX = "-21bc-11ea-a13a-137349068a90"


def _camera_view(rng: np.random.Generator, scene: dict, animals: list, night: bool, height: int, width: int):
    """One frame of a fixed camera: its location's ground, undergrowth and trunks, the animals, in colour by
    day or as a grey infrared picture with a bright centre at night. Returns pixels and the animals' boxes."""
    pixels = np.empty((height, width, 3))
    pixels[:scene["horizon"]], pixels[scene["horizon"]:] = scene["plants"], scene["ground"]
    for x in scene["trunks"]:
        pixels[:scene["horizon"] + 4, x:x + 3] = [60, 45, 35]
    pixels = pixels * rng.uniform(0.85, 1.15) + rng.normal(0, 9, pixels.shape)
    boxes = []
    for category, cy, cx, scale, facing in animals:
        _, colour, (ry, rx), legs, _ = WILD_SPECIES[category]
        ry, rx, legs = ry * scale, rx * scale, legs * scale
        body = _ellipse(height, width, cy, cx, ry, rx)
        head = _ellipse(height, width, cy - 0.6 * ry, cx + facing * (rx + 0.3 * ry), 0.55 * ry, 0.55 * ry)
        pixels[body | head] = np.array(colour) * rng.uniform(0.85, 1.1)
        for leg in (-0.6, 0.6):
            x = max(int(cx + leg * rx), 0)
            pixels[int(cy + 0.7 * ry):int(cy + ry + legs), x:x + 2] = colour
        if category == 4:  # a paca's white flank spots
            _spots(rng, pixels, body, 5, [235, 230, 215], 0.8)
        if category == 10:  # a collared peccary's pale collar
            pixels[body & (np.abs(np.arange(width) - cx - facing * 0.6 * rx) < 1.2)[None, :]] = [200, 195, 180]
        if category == 372:  # black patches on a white cow
            pixels[body & _blotches(rng, height, width, 8, 0.5)] = [25, 25, 25]
        top, bottom = max(cy - 1.15 * ry, 0), min(cy + ry + legs, height)
        left = max(cx - rx - (0.85 * ry if facing < 0 else 0), 0)
        right = min(cx + rx + (0.85 * ry if facing > 0 else 0), width)
        if right - left > 2:  # an animal walking out of the frame is still labelled, no longer detected
            boxes.append([left / width, top / height, (right - left) / width, (bottom - top) / height])
    if night:
        yy, xx = np.mgrid[:height, :width]
        flash = 1.3 - 0.8 * np.hypot((yy - height / 2) / height, (xx - width / 2) / width)
        pixels = (pixels.mean(axis=2) * 0.8 * flash)[..., None].repeat(3, axis=2)
    return pixels, boxes


def camera_traps(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """iwildcam-2020-fgvc7: camera-trap photos `train/<id>.jpg` and `test/<id>.jpg` (ids like
    `8b31d3be-21bc-11ea-a13a-137349068a90`); iwildcam2020_train_annotations.json (annotations: count, image_id,
    id, category_id; images: seq_num_frames, location, datetime, id, frame_num, seq_id, width, height, file_name;
    categories: count, id, name, `empty` being 0; info), iwildcam2020_test_information.json (images, the old test
    file's categories and info) and iwildcam2020_megadetector_results.json copied whole from the raw data
    (images: detections of category `1` animal or `2` person with relative [x, y, w, h] boxes and conf, id,
    max_detection_conf; also for raw test images that are not here). prepare.py holds out whole locations until
    test / (all + test) reaches 0.22. The sample (Id, Category) holds np.random.seed(0)'s randint(0, 676);
    accuracy (answers: Id, Category). Here 64x48 frames in bursts of one to three, each location with its own
    background and its own few species, a species its own colour, size and build; a third are grey night
    shots."""
    categories = {0: "empty", **{c: s[0] for c, s in WILD_SPECIES.items()}, **WILD_UNSEEN}
    height, width = 48, 64
    locations = sorted(int(v) for v in rng.choice(np.arange(1, 573), 22, replace=False))
    images, annotations, detections = [], [], []
    pixels_of = {}
    for location in locations:
        scene = {"horizon": int(rng.integers(14, 26)), "plants": rng.uniform(30, 110, 3) * [0.7, 1.2, 0.6],
                 "ground": rng.uniform(70, 150, 3) * [1.1, 0.95, 0.7],
                 "trunks": list(rng.integers(0, width - 3, int(rng.integers(0, 4))))}
        fauna = [int(c) for c in rng.choice(list(WILD_SPECIES), int(rng.integers(3, 6)), replace=False)]
        start = pd.Timestamp(f"{int(rng.integers(2012, 2017))}-{int(rng.integers(1, 13)):02d}-01")
        for _ in range(int(rng.integers(5, 14))):
            category = 0 if rng.random() < 0.35 else fauna[int(rng.integers(0, len(fauna)))]
            herd = category and WILD_SPECIES[category][4]
            animals = [] if not category else [
                (category, rng.uniform(0.55, 0.8) * height, rng.uniform(0.2, 0.8) * width, rng.uniform(0.8, 1.2),
                 rng.choice([-1, 1])) for _ in range(int(rng.integers(1, 4)) if herd else 1)]
            frames, seq_id = int(rng.choice([1, 2, 3], p=[0.3, 0.2, 0.5])), rng.bytes(16).hex()
            seq_id = f"{seq_id[:8]}-{seq_id[8:12]}-11e8-{seq_id[12:16]}-{seq_id[16:28]}"
            when = start + pd.Timedelta(seconds=int(rng.integers(0, 200 * 86400)))
            night = not 5 <= when.hour < 21
            for frame in range(frames):
                image_id = rng.bytes(4).hex() + WILD_SUFFIX
                pixels, boxes = _camera_view(rng, scene, animals, night, height, width)
                animals = [(c, cy, cx + f * rng.uniform(2, 5), s, f) for c, cy, cx, s, f in animals]  # moving on
                images.append({"seq_num_frames": frames, "location": location,
                               "datetime": (when + pd.Timedelta(seconds=frame)).strftime("%Y-%m-%d %H:%M:%S.000"),
                               "id": image_id, "frame_num": frame + 1, "seq_id": seq_id, "width": width,
                               "height": height, "file_name": f"{image_id}.jpg"})
                annotations.append({"count": len(animals), "image_id": image_id,
                                    "id": rng.bytes(4).hex() + WILD_SUFFIX, "category_id": category})
                found = [{"category": "1", "bbox": [round(v, 4) for v in box],
                          "conf": round(float(rng.uniform(0.3, 0.9) if night else rng.uniform(0.8, 1.0)), 3)}
                         for box in boxes]
                found += [{"category": "1", "bbox": [round(float(v), 4) for v in rng.uniform(0, 0.5, 4)],
                           "conf": round(float(rng.uniform(0.0, 0.25)), 3)} for _ in range(int(rng.integers(0, 3)))]
                detections.append({"detections": found, "id": image_id,
                                   "max_detection_conf": max((d["conf"] for d in found), default=0.0)})
                pixels_of[image_id] = pixels
    detections += [{"detections": [], "id": rng.bytes(4).hex() + WILD_SUFFIX, "max_detection_conf": 0.0}
                   for _ in range(60)]  # the raw test set's images, which MLE-bench does not ship
    per_location = pd.Series([image["location"] for image in images]).value_counts()
    shuffled = [int(v) for v in rng.permutation(locations)]
    cut = len(shuffled) - int(np.ceil(0.22 * len(shuffled)))
    train_locations, test_locations = shuffled[:cut], shuffled[cut:]

    def share() -> float:
        held = sum(per_location[v] for v in test_locations)
        return held / (len(images) + held)

    while share() < 0.22:
        test_locations.append(train_locations.pop())
    while share() > 0.22:
        train_locations.append(test_locations.pop())
    held = {image["id"] for image in images if image["location"] in test_locations}
    raw_counts = pd.Series([a["category_id"] for a in annotations]).value_counts()
    info = {"year": 2020, "version": "1.0", "description": "iWildCam 2020 (a generated miniature)",
            "contributor": "Wildlife Conservation Society", "date_created": "2020-01-28"}
    train_json = {"annotations": [a for a in annotations if a["image_id"] not in held],
                  "images": [image for image in images if image["id"] not in held],
                  "categories": [{"count": int(raw_counts.get(c, 0)), "id": c, "name": name}
                                 for c, name in sorted(categories.items())], "info": info}
    test_json = {"images": [image for image in images if image["id"] in held],
                 "categories": [{"id": c, "name": name} for c, name in sorted(categories.items())], "info": info}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "iwildcam2020_train_annotations.json").write_text(json.dumps(train_json))
    (folder / "iwildcam2020_test_information.json").write_text(json.dumps(test_json))
    (folder / "iwildcam2020_megadetector_results.json").write_text(json.dumps(
        {"images": detections, "detection_categories": {"1": "animal", "2": "person"},
         "info": {"detector": "megadetector_v3", "detection_completion_time": "2020-01-10 10:52:43"}}))
    for image_id, pixels in pixels_of.items():
        save_image(folder / ("test" if image_id in held else "train") / f"{image_id}.jpg", pixels, quality=90)
    answers = pd.DataFrame([{"Id": a["image_id"], "Category": a["category_id"]} for a in annotations
                            if a["image_id"] in held])
    answers.assign(Category=np.random.RandomState(0).randint(0, 676, size=len(answers))).to_csv(
        folder / "sample_submission.csv", index=False)
    return answers


CASSAVA_DISEASES = {"0": "Cassava Bacterial Blight (CBB)", "1": "Cassava Brown Streak Disease (CBSD)",
                    "2": "Cassava Green Mottle (CGM)", "3": "Cassava Mosaic Disease (CMD)", "4": "Healthy"}
CASSAVA_SHARES = [1087, 2189, 2386, 13158, 2577]  # images per label in the real train.csv


def cassava(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """cassava-leaf-disease-classification: field photos `train_images/<number>.jpg` and `test_images/...` (800x600
    in the real data), train.csv (image_id with its `.jpg`, label 0-4), label_num_to_disease_map.json (label as a
    string to the disease's name). prepare.py holds out 10% of the sixteen train TFRecord files (two), so the
    test images are those two files' rows, and copies the TFRecords too (`train_tfrecords/ld_train00-<n>.tfrec`,
    `test_tfrecords/ld_test00-<n>.tfrec`): no library here writes TFRecords, so the miniature leaves both folders
    out. The sample says 4 (Healthy); accuracy (answers in private/test.csv: image_id, label). Here 64x48: a
    palmate leaf, mosaic (CMD) yellow patches on narrowed lobes, green mottle (CGM) pale specks, brown streak
    (CBSD) yellow veins, blight (CBB) brown angular spots and wilted tips, healthy plain green."""
    n, height, width = 640, 48, 64
    shares = np.array(CASSAVA_SHARES, dtype=float)
    labels = rng.choice(5, n, p=shares / shares.sum())
    ids = [f"{v}.jpg" for v in 10**6 + rng.choice(4_299_000_000, n, replace=False)]
    shard = rng.permutation(np.arange(n) % 16)  # which of the sixteen TFRecord files holds the image
    held = rng.choice(16, 2, replace=False)
    for name, label, part in zip(ids, labels, shard):
        pixels = rng.uniform(50, 140, 3) + rng.normal(0, 18, (height, width, 3))  # soil, weeds, other plants
        cy, cx = height * rng.uniform(0.7, 0.85), width * rng.uniform(0.4, 0.6)
        leaf = np.zeros((height, width), dtype=bool)
        veins = np.zeros((height, width), dtype=bool)
        lobes = int(rng.integers(5, 8))
        narrow = 0.6 if label == 3 else 1.0
        for angle in np.linspace(-1.2, 1.2, lobes) + rng.normal(0, 0.08, lobes) - np.pi / 2:
            length = rng.uniform(12, 18)
            my, mx = cy + np.sin(angle) * length, cx + np.cos(angle) * length
            leaf |= _ellipse(height, width, my, mx, rng.uniform(3, 4.5) * narrow, length, angle)
            veins |= _ellipse(height, width, my, mx, 0.6, length * 0.9, angle)
        veins &= leaf
        pixels[leaf] = np.array([60, 130, 45]) * rng.uniform(0.8, 1.15) + rng.normal(0, 5, (int(leaf.sum()), 3))
        if label == 3:  # mosaic
            mosaic = leaf & _blotches(rng, height, width, 10, 0.35)
            pixels[mosaic] = np.array([205, 200, 70]) + rng.normal(0, 8, (int(mosaic.sum()), 3))
        elif label == 2:  # green mottle
            _spots(rng, pixels, leaf, int(rng.integers(12, 22)), [160, 200, 95], 0.9)
        elif label == 1:  # brown streak: yellowing along the veins
            pixels[veins] = [195, 180, 60]
            _spots(rng, pixels, veins, int(rng.integers(3, 6)), [185, 170, 70], 1.4)
        elif label == 0:  # bacterial blight
            _spots(rng, pixels, leaf, int(rng.integers(4, 8)), [105, 70, 30], 1.6)
            pixels[leaf & ~_ellipse(height, width, cy, cx, 13, 13)] *= [1.3, 0.8, 0.6]
        else:
            pixels[veins] = [80, 160, 60]
        save_image(folder / ("test_images" if part in held else "train_images") / name, pixels, quality=90)
    frame = pd.DataFrame({"image_id": ids, "label": labels}).sort_values("image_id")  # as the raw train.csv
    test = frame["image_id"].isin([name for name, part in zip(ids, shard) if part in held])
    frame[~test].to_csv(folder / "train.csv", index=False)
    frame[test].assign(label=4).to_csv(folder / "sample_submission.csv", index=False)
    (folder / "label_num_to_disease_map.json").write_text(json.dumps(CASSAVA_DISEASES))
    return frame[test]


LAYOUTS = {
    "plant-pathology-2021-fgvc8": ("images; space-separated disease sets", "f1_micro_label_sets", apple_leaves),
    "hotel-id-2021-fgvc8": ("images in chain folders; 5 ranked hotel ids", "map@5", hotel_rooms),
    "herbarium-2020-fgvc7": ("nested images; COCO metadata.json; macro F1", "f1_macro", herbarium),
    "herbarium-2021-fgvc8": ("nested images; COCO metadata.json, institutions; macro F1", "f1_macro", herbarium_2021),
    "herbarium-2022-fgvc9": ("nested images; renumbered ids; test metadata a bare list", "f1_macro", herbarium_2022),
    "inaturalist-2019-fgvc6": ("COCO JSON; images in uncompressed .tar.gz; val files absent", "top1_error",
                               inaturalist),
    "iwildcam-2020-fgvc7": ("camera traps; COCO JSON, detections; unseen locations", "accuracy", camera_traps),
    "cassava-leaf-disease-classification": ("images; label map JSON; TFRecords left out", "accuracy", cassava),
}
