"""Miniatures of the MLE-bench dev competitions: photos in 7z archives or in label folders, windows of speech
frames in .npy arrays, and the parsed phrases of movie reviews in zipped TSV files.

Each generator writes what the competition's `prepare.py` gives an agent (file names, nested folders, archives,
columns, id rules, the sample submission's shape and placeholder values) filled with generated items whose
signal a model can learn, and returns the answers in the shape the competition's `grade.py` reads them.
Kept small: a few hundred items, images of at most 64x64, so each runs within `agent compete --time-budget 60`
on two cores.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from layout_kit import hex_ids, save_image, zip_away
from medium_image_layouts import _blotches, _ellipse, _spots


def _smooth(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Soft noise in [0, 1]: a cells x cells grid of random values stretched bilinearly over the image."""
    from PIL import Image

    coarse = Image.fromarray(rng.random((cells, cells)).astype(np.float32))
    return np.asarray(coarse.resize((width, height), Image.BILINEAR))


def _seven_zip_folder(folder: Path) -> None:
    """Replace a folder by `<name>.7z` holding its files as `<name>/<file>`."""
    import py7zr

    with py7zr.SevenZipFile(folder.with_name(folder.name + ".7z"), "w") as archive:
        archive.writeall(folder, folder.name)
    shutil.rmtree(folder)


HYDRANGEA = [[115, 140, 215], [165, 135, 205], [225, 215, 232], [190, 160, 215]]  # blue, lilac, white, mauve


def _forest(rng: np.random.Generator, invasive: bool, height: int, width: int) -> np.ndarray:
    """Undergrowth of a Brazilian forest: green canopy of two grains, pale sky gaps, trunks, now and then small
    yellow or white flowers; with hydrangea, one to four round heads of pale florets, some small, shaded or
    half hidden behind leaves."""
    dark = np.array([30, 60, 25]) * rng.uniform(0.8, 1.2, 3)
    bright = np.array([95, 140, 60]) * rng.uniform(0.8, 1.2, 3)
    mix = 0.6 * _smooth(rng, height, width, 6) + 0.4 * _smooth(rng, height, width, 16)
    pixels = dark + mix[..., None] * (bright - dark)
    if rng.random() < 0.45:  # sky through the canopy: pale and at times as round as a flower head
        sky = _smooth(rng, height, width, 5) * np.linspace(1.3, 0.3, height)[:, None] > 0.85
        pixels[sky] = np.array([200, 210, 225]) * rng.uniform(0.85, 1.05)
    for x in rng.integers(0, width - 3, int(rng.integers(0, 4))):
        pixels[:, x:x + int(rng.integers(1, 4))] = np.array([75, 60, 45]) * rng.uniform(0.7, 1.3)
    if rng.random() < 0.25:  # other flowering plants
        _spots(rng, pixels, np.ones((height, width), dtype=bool), int(rng.integers(2, 8)),
               [[230, 210, 60], [235, 235, 225]][int(rng.integers(2))], 1.2)
    for _ in range(int(rng.integers(1, 5)) if invasive else 0):
        radius = rng.uniform(2.5, 7) if rng.random() > 0.15 else rng.uniform(1, 2)
        head = _ellipse(height, width, rng.uniform(0, height), rng.uniform(0, width), radius * rng.uniform(0.8, 1.2),
                        radius, rng.uniform(0, np.pi))
        colour = np.array(HYDRANGEA[int(rng.integers(len(HYDRANGEA)))]) * rng.uniform(0.6, 1.05)
        pixels[head] = colour * rng.uniform(0.78, 1.05, (int(head.sum()), 1))  # florets, each lit its own way
        if rng.random() < 0.4:  # leaves in front of the head
            hidden = head & _blotches(rng, height, width, 8, 0.4)
            pixels[hidden] = dark + 0.5 * (bright - dark)
    return pixels * rng.uniform(0.6, 1.25) + rng.normal(0, 12, pixels.shape)


def hydrangeas(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """invasive-species-monitoring: forest photos named by number (`1.jpg` ... `2295.jpg`, 1154x866 in the real
    data), invasive 1 where hydrangea shows (63%); prepare.py holds out a random 20% of the old train and ships
    train.7z and test.7z, train_labels.csv.zip (name, invasive) and sample_submission.csv.zip (invasive 0.5);
    AUC (answers: name, invasive). prepare.py's `py7zr.write(public / "train")` stores only a directory entry
    named by the folder's absolute path and no image (openai/mle-bench#122); the miniature writes the archives as
    the fix (`writeall`) would, under a relative `train/` and `test/`. Here 64x48: hydrangea heads are round
    clusters of pale blue, lilac or white florets among green leaves."""
    n, height, width = 700, 48, 64
    names = rng.permutation(np.arange(1, n + 1))  # train_test_split shuffles the old train's rows 1, 2, ...
    invasive = (rng.random(n) < 0.63).astype(int)
    n_test = int(np.ceil(0.2 * n))
    for i, (name, label) in enumerate(zip(names, invasive)):
        save_image(folder / ("test" if i < n_test else "train") / f"{name}.jpg",
                   _forest(rng, bool(label), height, width), quality=90)
    frame = pd.DataFrame({"name": names, "invasive": invasive})
    answers = frame.iloc[:n_test]
    frame.iloc[n_test:].to_csv(folder / "train_labels.csv", index=False)
    answers.assign(invasive=0.5).to_csv(folder / "sample_submission.csv", index=False)
    for part in ("train", "test"):
        _seven_zip_folder(folder / part)
    for table in ("train_labels.csv", "sample_submission.csv"):
        zip_away(folder / table)
    return answers


def phonemes(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """ml2021spring-hw2: framewise phoneme classification of TIMIT. `timit_11/timit_11/train_11.npy` (float32,
    a row per frame: 11 frames of 39 MFCC features, the frame and five either side, frame by frame),
    `train_label_11.npy` (the centre frame's phoneme as a string '0'-'38') and `test_11.npy`; prepare.py holds
    out a random 26.8% of the old train's frames, so test rows are neighbours of train rows. sampleSubmission.csv
    (Id 0, 1, ... in test row order, ClassId 0); accuracy (answers: Id, ClassId). Here about 700 frames of
    utterances 60-120 frames long: a phoneme holds 3-11 frames and fixes the mean of 13 static features, smoothed
    across its edges; deltas and accelerations follow from them, and each utterance is normalised on its own."""
    n_phones, n_mfcc, total, context = 39, 13, 650, 5
    shares = rng.permutation(1 / np.arange(1, n_phones + 1) ** 0.7)
    shares /= shares.sum()
    silence = int(np.argmax(shares))
    means = rng.normal(0, 1, (n_phones, n_mfcc))
    windows, labels = [], []
    while sum(len(track) for track in labels) < total:
        length = int(rng.integers(60, 121))
        track, phone = [], silence
        while len(track) < length:
            track += [phone] * int(rng.integers(3, 12))
            phone = int(rng.choice(n_phones, p=shares))
        track = np.array(track[:length - 4] + [silence] * 4)  # every utterance ends in silence
        static = np.pad(means[track] + rng.normal(0, 1.7, (length, n_mfcc)), ((1, 1), (0, 0)), mode="edge")
        static = (static[:-2] + 2 * static[1:-1] + static[2:]) / 4
        delta = np.gradient(static, axis=0)
        frames = np.hstack([static, delta, np.gradient(delta, axis=0)])
        frames = (frames - frames.mean(axis=0)) / frames.std(axis=0)
        padded = np.pad(frames, ((context, context), (0, 0)), mode="edge")  # the first and last frames repeat
        windows.append(np.stack([padded[t:t + 2 * context + 1].ravel() for t in range(length)]))
        labels.append(track)
    order = rng.permutation(sum(len(track) for track in labels))
    features = np.vstack(windows).astype(np.float32)[order]
    classes = np.concatenate(labels).astype("<U2")[order]  # the real labels are strings too
    n_test = int(np.ceil(0.268 * len(order)))
    root = folder / "timit_11" / "timit_11"
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / "train_11.npy", features[n_test:])
    np.save(root / "train_label_11.npy", classes[n_test:])
    np.save(root / "test_11.npy", features[:n_test])
    answers = pd.DataFrame({"Id": range(n_test), "ClassId": classes[:n_test]})
    answers.assign(ClassId=0).to_csv(folder / "sampleSubmission.csv", index=False)
    return answers


REVIEW_WORDS = {2: "brilliant masterful wonderful hilarious gorgeous".split(),
                1: "charming funny touching smart engaging warm".split(),
                0: "long familiar quiet french new big".split(),
                -1: "dull predictable clumsy thin slow bland".split(),
                -2: "awful unwatchable tedious dreadful pointless".split()}
POLARITY = {word: value for value, words in REVIEW_WORDS.items() for word in words}
REVIEW_NOUNS = "film movie story director cast script performances ending plot characters comedy drama".split()
REVIEW_CLAUSES = ["the {n} is {m}{a}", "a {a} {n}", "it 's a {m}{a} {n} with {a} {n}", "{a} and {a}",
                  "the {n} of this {n} feels {m}{a}", "{m}{a} , {a} {n}"]


def _review_clause(rng: np.random.Generator, mood: float) -> str:
    """A clause whose adjectives lean to `mood` (-2 to 2), a third of them neutral, some negated or intensified."""
    def adjective() -> str:
        value = 0 if rng.random() < 0.35 else int(np.clip(np.round(mood + rng.normal(0, 0.8)), -2, 2))
        return REVIEW_WORDS[value][int(rng.integers(len(REVIEW_WORDS[value])))]

    fill = {"{n}": lambda: str(rng.choice(REVIEW_NOUNS)), "{a}": adjective,
            "{m}{a}": lambda: str(rng.choice(["", "", "very ", "not ", "rather "])) + adjective()}
    template = REVIEW_CLAUSES[int(rng.integers(len(REVIEW_CLAUSES)))]
    return " ".join(fill[part]() if part in fill else part for part in template.split())


def _phrase_sentiment(tokens: list[str], rng: np.random.Generator) -> int:
    """0-4 from the phrase's words: `not` turns the next word's polarity round, `very` adds half again; a phrase
    of several words is now and then judged a step off, as annotators do."""
    score = 0.0
    for before, word in zip(["", *tokens], tokens):  # lower case: the sentence's first word is capitalised
        score += POLARITY.get(word.lower(), 0) * {"not": -1.0, "very": 1.5}.get(before.lower(), 1.0)
    label = int(np.digitize(score, [-1.75, -0.5, 0.5, 1.75]))
    if len(tokens) > 1 and rng.random() < 0.15:
        label = int(np.clip(label + rng.choice([-1, 1]), 0, 4))
    return label


def phrases(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """movie-review-sentiment-analysis-kernels-only: Rotten Tomatoes sentences parsed into nested phrases, a row
    per phrase (PhraseId numbered through each sentence's parse tree in order, SentenceId, Phrase tokenised with
    spaces before punctuation and `'s`, Sentiment 0-4); a phrase repeated anywhere is kept once. prepare.py holds
    out a random 30% of the old train's phrases, so a test phrase's sentence and sub-phrases are mostly in
    train: train.tsv.zip and test.tsv.zip (tab-separated, test without Sentiment), sampleSubmission.csv
    (PhraseId, Sentiment 2); accuracy (answers: PhraseId, Sentiment; private/answers.csv also keeps SentenceId
    and Phrase). Here about 650 phrases of short review sentences, each cut in two at random, recursively; a
    phrase's sentiment follows its adjectives, negations and intensifiers."""
    rows: list[tuple[int, int, str, int]] = []
    seen: set[str] = set()
    sentence = 0
    while len(rows) < 650:
        sentence += 1
        mood = rng.uniform(-2, 2)
        clauses = [_review_clause(rng, mood) for _ in range(int(rng.integers(1, 4)))]
        text = " ".join(f"{c} {rng.choice([',', 'and', ', but', ';'])}" for c in clauses[:-1]) + f" {clauses[-1]} ."
        tokens = text.strip().split()
        tokens[0] = tokens[0].capitalize()
        spans = [(0, len(tokens))]
        while spans:  # pre-order through a random binary parse, as the real PhraseIds run
            start, end = spans.pop()
            phrase = " ".join(tokens[start:end])
            if phrase not in seen:
                seen.add(phrase)
                rows.append((len(rows) + 1, sentence, phrase, _phrase_sentiment(tokens[start:end], rng)))
            if end - start > 1:
                cut = int(rng.integers(start + 1, end))
                spans += [(cut, end), (start, cut)]
    frame = pd.DataFrame(rows, columns=["PhraseId", "SentenceId", "Phrase", "Sentiment"])
    frame = frame.iloc[rng.permutation(len(frame))]
    n_test = int(np.ceil(0.3 * len(frame)))
    answers, train = frame.iloc[:n_test], frame.iloc[n_test:]
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.tsv", index=False, sep="\t")
    answers.drop(columns="Sentiment").to_csv(folder / "test.tsv", index=False, sep="\t")
    answers[["PhraseId"]].assign(Sentiment=2).to_csv(folder / "sampleSubmission.csv", index=False)
    for table in ("train.tsv", "test.tsv"):
        zip_away(folder / table)
    return answers[["PhraseId", "Sentiment"]]


PADDY_LABELS = {"normal": 1764, "blast": 1738, "hispa": 1594, "dead_heart": 1442, "tungro": 1088, "brown_spot": 965,
                "downy_mildew": 620, "bacterial_leaf_blight": 479, "bacterial_leaf_streak": 380,
                "bacterial_panicle_blight": 337}  # images per label in the real train.csv
PADDY_VARIETIES = {"ADT45": 6992, "KarnatakaPonni": 988, "Ponni": 657, "AtchayaPonni": 461, "Zonal": 399,
                   "AndraPonni": 377, "Onthanel": 351, "IR20": 114, "RR": 36, "Surya": 32}  # images per variety
PADDY_AGES = [45, 47, 50, 55, 57, 60, 62, 65, 66, 67, 68, 70, 72, 73, 75, 77, 80, 82]  # days, as train.csv has them


def _panicle(rng: np.random.Generator, pixels: np.ndarray, colour, blight: float) -> None:
    """A drooping head of grain near the top; with `blight` (0-1) that share of its grains turned dark."""
    height, width = pixels.shape[:2]
    cx, bend = width * rng.uniform(0.2, 0.8), rng.choice([-1, 1]) * rng.uniform(2, 5)
    for j in range(int(rng.integers(6, 11))):
        grain = _ellipse(height, width, 2 + 2.2 * j, cx + bend * np.sin(0.3 * j), 1.4, 0.9)
        dark = rng.random() < blight
        pixels[grain] = np.array([90, 70, 50] if dark else colour) * rng.uniform(0.85, 1.1)


def _paddy(rng: np.random.Generator, label: str, age: int, height: int, width: int) -> np.ndarray:
    """A close-up of rice plants: blades rising from mud, water or weeds, the last one near the middle and broad;
    the label's symptoms on them, at a severity that is at times mild; past 68 days a panicle may hang at the
    top, blighted ones dark."""
    ground = [[95, 90, 75], [125, 105, 80], [70, 100, 55]][int(rng.integers(3))]
    pixels = np.array(ground) * rng.uniform(0.8, 1.2) + 40 * (_smooth(rng, height, width, 5)[..., None] - 0.5)
    yy, xx = np.mgrid[:height, :width] + 0.5
    blades, along = [], np.zeros((height, width))
    count = int(rng.integers(3, 7))
    for k in range(count):
        main = k == count - 1
        x0 = width * (rng.uniform(0.35, 0.65) if main else rng.uniform(0, 1))
        top = height * rng.uniform(0, 0.15 if main else 0.5)
        centre = x0 + rng.normal(0, 0.25) * (height - yy)
        tip = np.clip((height - yy) / (height - top), 0, None)  # 0 at the base, 1 at the tip
        half = rng.uniform(3, 4.5) if main else rng.uniform(1.2, 2.5)
        blade = (np.abs(xx - centre) < half * np.clip((1 - tip) * 4, 0, 1)) & (yy >= top)  # tapering to the tip
        green = np.array([70, 135, 50]) * rng.uniform(0.85, 1.15)
        pixels[blade] = green
        pixels[blade & (np.abs(xx - centre) < 0.5)] = green * 1.2  # the midrib
        along[blade] = tip[blade]
        blades.append(blade)
    leaf = np.any(blades, axis=0)
    places = np.argwhere(leaf)
    severity = rng.uniform(0.3, 1) if rng.random() > 0.15 else rng.uniform(0.05, 0.3)
    if label == "blast":  # spindle-shaped lesions, grey centres in brown rims
        for cy, cx in places[rng.integers(0, len(places), 1 + int(5 * severity))]:
            ry, rx = rng.uniform(2, 3.5), rng.uniform(0.8, 1.3)
            pixels[leaf & _ellipse(height, width, cy + 0.5, cx + 0.5, ry, rx)] = [125, 75, 40]
            pixels[leaf & _ellipse(height, width, cy + 0.5, cx + 0.5, 0.55 * ry, 0.5 * rx)] = [190, 185, 165]
    elif label == "brown_spot":
        _spots(rng, pixels, leaf, 3 + int(12 * severity), [125, 75, 35], 0.9)
    elif label == "bacterial_leaf_blight":  # straw-coloured from the tips down, with a wavy margin
        pixels[leaf & (along > 1 - 0.6 * severity + 0.05 * np.sin(1.7 * xx))] = [215, 200, 135]
    elif label == "bacterial_leaf_streak":  # thin translucent streaks along the veins
        for cy, cx in places[rng.integers(0, len(places), 2 + int(4 * severity))]:
            streak = leaf & (np.abs(xx - cx - 0.5) < 0.6) & (yy > cy) & (yy < cy + rng.uniform(6, 18))
            pixels[streak] = 0.4 * pixels[streak] + 0.6 * np.array([200, 180, 80])
    elif label == "dead_heart":  # the central shoot dried out
        pixels[blades[-1] & (along > 0.9 - severity)] = np.array([180, 155, 100]) * rng.uniform(0.85, 1.1)
    elif label == "downy_mildew":  # pale, chlorotic leaves with whitish patches
        pixels[leaf] = (1 - 0.7 * severity) * pixels[leaf] + 0.7 * severity * np.array([165, 180, 95])
        pixels[leaf & _blotches(rng, height, width, 8, 0.15 * severity)] = [215, 220, 195]
    elif label == "hispa":  # white scraping marks and a few dark beetles
        for cy, cx in places[rng.integers(0, len(places), 3 + int(8 * severity))]:
            pixels[leaf & (np.abs(xx - cx - 0.5) < 0.5) & (yy > cy) & (yy < cy + rng.uniform(3, 6))] = [225, 225, 205]
        _spots(rng, pixels, leaf, int(rng.integers(0, 3)), [25, 25, 30], 0.8)
    elif label == "tungro":  # yellow-orange from the tips
        share = np.clip(along * severity * 1.6, 0, 1)[leaf][:, None]
        pixels[leaf] = (1 - share) * pixels[leaf] + share * np.array([215, 165, 55])
    if label == "bacterial_panicle_blight":
        _panicle(rng, pixels, [205, 185, 95], 0.2 + 0.7 * severity)
    elif age >= 68 and rng.random() < 0.3:
        _panicle(rng, pixels, [205, 185, 95], 0.0)
    if rng.random() < 0.2:  # splashed mud, not a disease
        _spots(rng, pixels, leaf, int(rng.integers(2, 6)), [110, 90, 60], 0.6)
    return pixels * rng.uniform(0.75, 1.2) + rng.normal(0, 8, pixels.shape)


def paddy_leaves(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """paddy-disease-classification: rice leaf photos `train_images/<label>/<number>.jpg` (480x640 in the real
    data; numbers from 100000) for ten labels (nine diseases and normal), train.csv (image_id with its `.jpg`,
    label, variety, age in days); prepare.py holds out a random 25% of the old train, their images flat in
    `test_images/`. The sample's label is empty; accuracy (answers: image_id, label; private/test.csv also keeps
    variety and age). Here 48x64: blast grey spindles in brown rims, brown spot small brown dots, leaf blight
    straw tips with wavy margins, leaf streak thin yellow streaks, panicle blight dark grains, dead heart a dried
    central shoot, downy mildew pale leaves, hispa white scrapes and beetles, tungro orange tips; panicle blight
    comes late (68 days on), variety carries nothing."""
    n, height, width = 700, 64, 48
    shares = np.array(list(PADDY_LABELS.values()), dtype=float)
    labels = [str(label) for label in rng.choice(list(PADDY_LABELS), n, p=shares / shares.sum())]
    kinds = np.array(list(PADDY_VARIETIES.values()), dtype=float)
    varieties = rng.choice(list(PADDY_VARIETIES), n, p=kinds / kinds.sum())
    late = [age for age in PADDY_AGES if age >= 68]
    ages = [int(rng.choice(late if label == "bacterial_panicle_blight" else PADDY_AGES)) for label in labels]
    ids = [f"{100000 + k}.jpg" for k in rng.permutation(n)]
    n_train = int(0.75 * n)
    for i, (name, label, age) in enumerate(zip(ids, labels, ages)):
        part = folder / "train_images" / label if i < n_train else folder / "test_images"
        save_image(part / name, _paddy(rng, label, age, height, width), quality=90)
    frame = pd.DataFrame({"image_id": ids, "label": labels, "variety": varieties, "age": ages})
    frame.iloc[:n_train].to_csv(folder / "train.csv", index=False)
    answers = frame.iloc[n_train:][["image_id", "label"]]
    answers.assign(label="").to_csv(folder / "sample_submission.csv", index=False)
    return answers


SEEDLINGS = {"Black-grass": 263, "Charlock": 390, "Cleavers": 287, "Common Chickweed": 611, "Common wheat": 221,
             "Fat Hen": 475, "Loose Silky-bent": 654, "Maize": 221, "Scentless Mayweed": 516, "Shepherds Purse": 231,
             "Small-flowered Cranesbill": 496, "Sugar beet": 385}  # images per species in the real train folders
SEEDLING_FORMS = {  # colour, leaves (fewest, most), length and half-width as shares of the plant's size, arrangement
    "Black-grass": ([45, 95, 40], (1, 3), 0.42, 0.012, "blades"),
    "Charlock": ([60, 150, 55], (2, 4), 0.22, 0.1, "whorl"),
    "Cleavers": ([75, 135, 55], (6, 8), 0.16, 0.03, "whorl"),
    "Common Chickweed": ([115, 175, 65], (5, 9), 0.09, 0.04, "scatter"),
    "Common wheat": ([110, 150, 85], (1, 2), 0.48, 0.025, "blades"),
    "Fat Hen": ([115, 140, 105], (2, 4), 0.18, 0.08, "whorl"),
    "Loose Silky-bent": ([95, 140, 65], (3, 6), 0.36, 0.01, "blades"),
    "Maize": ([80, 150, 50], (2, 3), 0.4, 0.045, "blades"),
    "Scentless Mayweed": ([90, 145, 70], (10, 20), 0.07, 0.012, "scatter"),
    "Shepherds Purse": ([85, 125, 60], (5, 8), 0.18, 0.035, "whorl"),
    "Small-flowered Cranesbill": ([95, 150, 70], (2, 4), 0.18, 0.09, "whorl"),
    "Sugar beet": ([55, 125, 45], (2, 4), 0.25, 0.07, "pair"),
}


def _leaf(side: int, cy: float, cx: float, angle: float, length: float, half_width: float,
          start: float = 0.0) -> np.ndarray:
    """The pixels of a leaf `length` long pointing out of (cy, cx) along `angle`, its base `start` away."""
    reach = start + length / 2
    return _ellipse(side, side, cy + reach * np.sin(angle), cx + reach * np.cos(angle), max(half_width, 0.6),
                    length / 2, angle)


def _seedling(rng: np.random.Generator, species: str, side: int) -> np.ndarray:
    """A seedling seen from above on gravelly soil, now and then beside the tray's black and white marker: its
    species fixes the leaves' colour, number, shape and arrangement; its size follows the growth stage."""
    pixels = np.array([120, 105, 90]) * rng.uniform(0.7, 1.2) + 30 * (_smooth(rng, side, side, 8)[..., None] - 0.5)
    _spots(rng, pixels, np.ones((side, side), dtype=bool), int(rng.integers(10, 30)), [165, 160, 150], 0.8)
    if rng.random() < 0.25:
        pixels[-int(side * rng.uniform(0.08, 0.15)):] = np.where(np.arange(side) % 4 < 2, 20, 230)[:, None]
    colour, (fewest, most), length, half, form = SEEDLING_FORMS[species]
    size = side * rng.uniform(0.6, 1.2)
    length, half = length * size, half * size
    cy, cx = side * rng.uniform(0.35, 0.65, 2)
    count, turn = int(rng.integers(fewest, most + 1)), rng.uniform(0, 2 * np.pi)
    plant = np.zeros((side, side), dtype=bool)
    for k in range(count):
        scale = rng.uniform(0.7, 1.2)
        if form == "blades":
            angle, start, y, x = rng.uniform(0, 2 * np.pi), 0.0, cy, cx
        elif form == "scatter":  # small leaves on short stems all around
            angle, start = rng.uniform(0, 2 * np.pi), 0.0
            y, x = cy + rng.normal(0, 0.12 * size), cx + rng.normal(0, 0.12 * size)
        else:  # whorl or pair: evenly round the centre; a beet's true leaves come smaller, across its cotyledons
            angle = turn + (np.pi * (k % 2) + np.pi / 2 * (k // 2) if form == "pair" else 2 * np.pi * k / count)
            start, y, x = 0.04 * size, cy, cx
            scale *= 0.6 if form == "pair" and k >= 2 else 1.0
        blade = _leaf(side, y, x, angle + rng.normal(0, 0.15), length * scale, half * scale, start)
        if species == "Shepherds Purse":  # lobes along each side
            for at, sign in ((0.4, 1), (0.7, -1)):
                d = start + at * length * scale
                blade |= _leaf(side, y + d * np.sin(angle), x + d * np.cos(angle), angle + sign * 0.8,
                               0.3 * length * scale, half * scale)
        if species == "Small-flowered Cranesbill":  # notches round the rim
            for offset in (-0.5, 0.0, 0.5):
                d = start + length * scale
                blade &= ~_ellipse(side, side, y + d * np.sin(angle + offset), x + d * np.cos(angle + offset),
                                   0.2 * length * scale, 0.2 * length * scale)
        plant |= blade
    pixels[plant] = np.array(colour) * rng.uniform(0.85, 1.15) + rng.normal(0, 6, (int(plant.sum()), 3))
    if species == "Fat Hen":  # mealy white dusting
        _spots(rng, pixels, plant, int(rng.integers(5, 12)), [200, 210, 195], 0.6)
    if species in ("Sugar beet", "Small-flowered Cranesbill"):  # a red stem at the centre
        pixels[_ellipse(side, side, cy, cx, 1.6, 1.6)] = [160, 55, 60]
    return pixels + rng.normal(0, 8, pixels.shape)


def seedlings(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """plant-seedlings-classification: seedling photos `train/<species>/<9 hex>.png` for twelve species, square and
    of sizes from about 50 to over 1000 pixels in the real data; prepare.py holds out a random 14% of the old
    train, their images flat in `test/`, and writes no table besides sample_submission.csv (file, species
    `Sugar beet`): the species is only in the folder names, and the train.csv and test.csv that the description
    names do not exist. Micro F1 (answers: file, species). Here squares of 40-64 pixels: grasses in thin blades
    differing in colour, count and width; broad leaves round, lobed, notched, whorled or scattered, Fat Hen
    mealy, Sugar beet and Cranesbill with a red centre; plant size varies with the growth stage."""
    n = 850
    shares = np.array(list(SEEDLINGS.values()), dtype=float)
    species = [str(kind) for kind in rng.choice(list(SEEDLINGS), n, p=shares / shares.sum())]
    files = [f"{h}.png" for h in hex_ids(rng, n, 9)]
    n_test = int(np.ceil(0.14 * n))
    for i, (name, kind) in enumerate(zip(files, species)):
        part = folder / "test" if i < n_test else folder / "train" / kind
        save_image(part / name, _seedling(rng, kind, int(rng.integers(40, 65))))
    answers = pd.DataFrame({"file": files[:n_test], "species": species[:n_test]})
    answers.assign(species="Sugar beet").to_csv(folder / "sample_submission.csv", index=False)
    return answers


LAYOUTS = {
    "invasive-species-monitoring": ("numbered images in 7z archives; zipped tables", "auc", hydrangeas),
    "ml2021spring-hw2": ("nested .npy frame windows; string labels; 39 classes", "accuracy", phonemes),
    "movie-review-sentiment-analysis-kernels-only": ("zipped TSV of nested phrases; grades 0-4", "accuracy", phrases),
    "paddy-disease-classification": ("images in label folders; variety, age; empty sample labels", "accuracy",
                                     paddy_leaves),
    "plant-seedlings-classification": ("png images only in species folders; no tables", "f1_micro", seedlings),
}
