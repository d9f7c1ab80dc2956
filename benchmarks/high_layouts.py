"""Miniatures of MLE-bench competitions of many linked files: EEG recordings beside their spectrograms, labelled
by expert vote counts (hms), and a shop's transactions with its article and customer tables, to be turned into
twelve ranked articles per customer (h-and-m), and camera-trap frames in zips beside their metadata table, split
by whole camera locations (iwildcam-2019).

Each generator writes what the competition's `prepare.py` gives an agent (file names, folders, columns, dtypes,
id formats, the sample submission and its placeholder values) filled with generated data whose signal is known,
and returns the answers in the columns the competition's `grade.py` reads. Kept small enough for
`agent compete --time-budget 60` on two cores: the recordings are seconds long where the real ones last
minutes, the shop sells a few hundred articles to a few hundred customers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from layout_kit import hex_ids, save_image
from medium_image_layouts import _camera_view


def _distinct(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """`n` distinct integers in [low, high), in random order (a range too wide to permute)."""
    drawn: set[int] = set()
    while len(drawn) < n:
        drawn.update(int(v) for v in rng.integers(low, high, n - len(drawn)))
    return rng.permutation(sorted(drawn))


# --- hms-harmful-brain-activity-classification ----------------------------------------------------------

VOTES = ["seizure_vote", "lpd_vote", "gpd_vote", "lrda_vote", "grda_vote", "other_vote"]
CONSENSUS = ["Seizure", "LPD", "GPD", "LRDA", "GRDA", "Other"]
EEG_CHANNELS = "Fp1 F3 C3 P3 F7 T3 T5 O1 Fz Cz Pz Fp2 F4 C4 P4 F8 T4 T6 O2 EKG".split()
SCALP = {  # the 10-20 positions, x to the right, y to the nose
    "Fp1": (-0.3, 0.95), "Fp2": (0.3, 0.95), "F7": (-0.8, 0.6), "F3": (-0.4, 0.5), "Fz": (0.0, 0.45),
    "F4": (0.4, 0.5), "F8": (0.8, 0.6), "T3": (-1.0, 0.0), "C3": (-0.5, 0.0), "Cz": (0.0, 0.0), "C4": (0.5, 0.0),
    "T4": (1.0, 0.0), "T5": (-0.8, -0.6), "P3": (-0.4, -0.5), "Pz": (0.0, -0.45), "P4": (0.4, -0.5),
    "T6": (0.8, -0.6), "O1": (-0.3, -0.95), "O2": (0.3, -0.95)}
CHAINS = {"LL": "Fp1 F7 T3 T5 O1", "RL": "Fp2 F8 T4 T6 O2", "LP": "Fp1 F3 C3 P3 O1", "RP": "Fp2 F4 C4 P4 O2"}
SPECTRUM_STEPS = (3, 8, 13, 18, 23, 28, 38, 51, 67, 102)  # of the real 3..102, times 0.1953125 Hz
RATE, EEG_WINDOW, SPECTROGRAM_WINDOW = 200, 3, 20  # Hz; seconds (the real 50 s and 600 s)


def _field(focus: tuple[float, float], width: float) -> np.ndarray:
    """How strongly each of the 20 channels sees activity centred at `focus` on the scalp (EKG none)."""
    return np.array([np.exp(-((SCALP[c][0] - focus[0]) ** 2 + (SCALP[c][1] - focus[1]) ** 2) / (2 * width ** 2))
                     if c in SCALP else 0.0 for c in EEG_CHANNELS])


def _background(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    """(n, 20) µV: 1/f noise per channel over a shared part, a posterior alpha rhythm, an EKG with its beats,
    eye blinks on Fp1/Fp2 and bursts of muscle noise on the temporal channels."""
    spectrum = np.fft.rfft(rng.normal(size=(n, 21)), axis=0) / np.sqrt(1 + np.fft.rfftfreq(n, 1 / RATE))[:, None]
    noise = np.fft.irfft(spectrum, n, axis=0)
    noise = noise / noise.std(axis=0) * 12 * scale
    signal = noise[:, :20] + 0.5 * noise[:, 20:]
    t = np.arange(n) / RATE
    alpha = np.sin(2 * np.pi * rng.uniform(8.5, 10.5) * t + rng.uniform(0, 2 * np.pi)) * 8 * scale
    signal += alpha[:, None] * _field((0.0, -0.9), 0.4)[None, :]
    beats = np.arange(rng.uniform(0, 1), t[-1], 60 / rng.uniform(60, 100))
    ekg = sum(np.exp(-((t - b) / 0.012) ** 2) * 400 for b in beats) + rng.normal(0, 15, n)
    signal[:, EEG_CHANNELS.index("EKG")] = ekg
    for blink in rng.uniform(0, t[-1], rng.poisson(0.1 * t[-1])):
        bump = np.exp(-((t - blink) / 0.12) ** 2) * rng.uniform(80, 200)
        signal[:, EEG_CHANNELS.index("Fp1")] += bump
        signal[:, EEG_CHANNELS.index("Fp2")] += bump * rng.uniform(0.8, 1.2)
    for burst in rng.uniform(0, t[-1], rng.poisson(0.05 * t[-1])):
        inside = np.abs(t - burst) < rng.uniform(0.2, 0.8)
        for c in ("T3", "T4", "F7", "F8"):
            signal[inside, EEG_CHANNELS.index(c)] += rng.normal(0, 30, inside.sum())
    return signal


def _pattern(rng: np.random.Generator, kind: int, n: int, strength: float) -> np.ndarray:
    """(n, 20) µV of one pattern: 0 seizure (an evolving 3-6 Hz spiky rhythm over one hemisphere and beyond),
    1 LPD (sharp discharges each 0.4-1 s over the left hemisphere), 2 GPD (the same over both), 3 LRDA (a
    1.5-2.5 Hz rhythm over the left), 4 GRDA (over both, frontal most), 5 other (nothing)."""
    t = np.arange(n) / RATE
    if kind == 5:
        return np.zeros((n, len(EEG_CHANNELS)))
    if kind == 0:
        start, end = rng.uniform(4.5, 6.5), rng.uniform(2.5, 3.5)
        phase = 2 * np.pi * np.cumsum(np.linspace(start, end, n)) / RATE + rng.uniform(0, 2 * np.pi)
        wave = (np.sin(phase) + 0.5 * np.sin(2 * phase)) * 70
        field = _field((rng.choice([-0.5, 0.5]), rng.uniform(-0.3, 0.4)), 0.8)
    elif kind in (1, 2):
        period, wave = rng.uniform(0.4, 1.0), np.zeros(n)
        for at in np.arange(rng.uniform(0, period), t[-1] + 0.1, period):
            wave += -np.exp(-((t - at) / 0.02) ** 2) * 150 + np.exp(-((t - at - 0.07) / 0.05) ** 2) * 60
        field = _field((-0.7, 0.1), 0.5) if kind == 1 else _field((0.0, 0.3), 0.6)
    else:
        wave = np.sin(2 * np.pi * rng.uniform(1.5, 2.5) * t + rng.uniform(0, 2 * np.pi)) * 60
        field = _field((-0.7, 0.1), 0.5) if kind == 3 else _field((0.0, 0.5), 0.6)
    taper = np.clip(np.minimum(t, t[-1] - t) / 0.2, 0, 1)
    return (strength * wave * taper)[:, None] * field[None, :]


def _spectrogram(signal: np.ndarray) -> pd.DataFrame:
    """The four chains' mean bipolar power in 2-s rows (time 1, 3, 5, ...), at the real grid's frequencies
    SPECTRUM_STEPS (columns `LL_0.59`, ...), float32 as the real files."""
    rows, size = len(signal) // (2 * RATE), 2 * RATE
    wanted = np.array(SPECTRUM_STEPS) * 0.1953125
    low, share = np.floor(wanted / 0.5).astype(int), (wanted / 0.5) % 1  # the FFT's bins are 0.5 Hz apart
    columns = {"time": (2 * np.arange(rows) + 1).astype(np.float32)}
    for region, chain in CHAINS.items():
        names = chain.split()
        power = np.zeros((rows, size // 2 + 1))
        for a, b in zip(names, names[1:]):
            diff = signal[:rows * size, EEG_CHANNELS.index(a)] - signal[:rows * size, EEG_CHANNELS.index(b)]
            power += np.abs(np.fft.rfft(diff.reshape(rows, size) * np.hanning(size), axis=1)) ** 2 / size / 4
        values = power[:, low] * (1 - share) + power[:, low + 1] * share
        for k, step in enumerate(SPECTRUM_STEPS):
            columns[f"{region}_{round(step * 0.1953125, 2):g}"] = values[:, k].astype(np.float32)
    return pd.DataFrame(columns)


def brain_activity(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """hms-harmful-brain-activity-classification: train.csv (eeg_id, eeg_sub_id, eeg_label_offset_seconds,
    spectrogram_id, spectrogram_sub_id, spectrogram_label_offset_seconds, label_id, patient_id,
    expert_consensus, seizure_vote, lpd_vote, gpd_vote, lrda_vote, grda_vote, other_vote): a row per labelled
    window, several per eeg_id at growing offsets (floats, `6.0`), the sub-ids counted per EEG and per
    spectrogram, the votes COUNTS of 1-20 experts, the consensus their most voted class (`Seizure`, `LPD`,
    `GPD`, `LRDA`, `GRDA`, `Other`). A spectrogram (one patient's recording) holds one to three EEGs. prepare.py
    holds out 10% of the spectrogram_ids (train_test_split of `spectrogram_id.unique()`, random_state 0; here
    20%, so that about 30 EEGs are scored), so a test patient is often a train patient too. test.csv
    (spectrogram_id, eeg_id, patient_id) keeps a row per held-out label row, eeg_ids repeated, and so does
    sample_submission.csv (eeg_id and the six vote columns at 1/6); the answers are those rows of train.csv,
    all 15 columns, with their vote counts (private/test.csv, in the same order), which grade.py divides by
    their sums; KL divergence. train_eegs/ and test_eegs/<eeg_id>.parquet: the whole consolidated EEG (20
    float32 columns Fp1 ... O2, EKG at 200 Hz; the test ones, copied from the raw train_eegs, as long as the
    train ones, not the 50 s description.md promises), train_spectrograms/ and
    test_spectrograms/<spectrogram_id>.parquet (time 1, 3, 5, ... then LL_, RL_, LP_, RP_ power columns
    `LL_0.59` ... `LL_19.92`, float32), example_figures/Sample01.pdf ... Sample20.pdf. Here a label window is
    3 s of EEG and 20 s of spectrogram (the real 50 s and 600 s, centred alike), offsets step 1 s, so an EEG
    file lasts 3-6 s; the spectrograms keep 10 of the 100 frequencies per chain, computed from the recording
    the EEGs are cut from; a few EEGs hold a run of NaN, a few spectrograms two empty rows. The class shows in
    the signal with a strength that sets how many experts see it: idealized patterns, proto patterns split
    with `Other`, edge cases split between two patterns; each patient leans to one or two classes. The
    example figures are one tiny trace each."""
    from PIL import Image
    from sklearn.model_selection import train_test_split

    n_patients, n_spectrograms = 40, 90
    patients = _distinct(rng, n_patients, 56, 65495)
    leaning = {p: rng.choice(6, int(rng.integers(1, 3)), replace=False) for p in patients}
    spectrogram_ids = _distinct(rng, n_spectrograms, 350000, 2147483647)
    n_eegs = rng.choice([1, 2, 3], n_spectrograms, p=[0.6, 0.3, 0.1])
    eeg_ids = iter(_distinct(rng, int(n_eegs.sum()), 560000, 4294967295))
    label_ids = iter(_distinct(rng, 2000, 330000, 4294967295))
    eegs, files = [], {}
    for spectrogram_id, count in zip(spectrogram_ids, n_eegs):
        patient = patients[int(rng.integers(0, n_patients))]
        scale, cursor, segments = rng.uniform(0.7, 1.4), rng.integers(9, 14) + 0.5, []
        for _ in range(count):
            kind = int(rng.choice(leaning[patient])) if rng.random() < 0.7 else int(rng.choice(6, p=[
                0.2, 0.14, 0.16, 0.16, 0.17, 0.17]))
            chance, mix = np.full(6, 0.02), []
            case = rng.choice(["idealized", "proto", "edge"], p=[0.55, 0.25, 0.2])
            if kind == 5:
                chance[5] += rng.uniform(0.7, 1.0)
            elif case == "idealized":
                mix = [(kind, rng.uniform(0.7, 1.0))]
                chance[kind] += mix[0][1]
                chance[5] += 0.3 * (1 - mix[0][1])
            elif case == "proto":
                mix = [(kind, rng.uniform(0.3, 0.55))]
                chance[kind] += mix[0][1]
                chance[5] += 0.9 * (1 - mix[0][1])
            else:
                second = int(rng.choice([k for k in range(5) if k != kind]))
                mix = [(kind, rng.uniform(0.5, 0.8)), (second, rng.uniform(0.35, 0.6))]
                chance[kind] += mix[0][1]
                chance[second] += mix[1][1]
            windows = int(rng.choice([1, 2, 3, 4], p=[0.55, 0.25, 0.15, 0.05]))
            length = windows - 1 + EEG_WINDOW
            segments.append({"eeg_id": int(next(eeg_ids)), "start": cursor, "length": length, "mix": mix,
                             "windows": windows, "chance": chance / chance.sum(),
                             "experts": 3 if rng.random() < 0.4 else int(rng.integers(1, 21))})
            cursor += length + int(rng.integers(2, 8))
        total = int(np.ceil((cursor + SPECTROGRAM_WINDOW / 2) / 2) * 2)
        signal = _background(rng, total * RATE, scale)
        for segment in segments:
            begin, n = int(segment["start"] * RATE), segment["length"] * RATE
            for kind, strength in segment["mix"]:
                signal[begin:begin + n] += scale * _pattern(rng, kind, n, strength)
        spectrogram = _spectrogram(signal)
        if rng.random() < 0.05:  # a stretch the real files leave empty
            spectrogram.iloc[0:2, 1:] = np.nan
        files["spectrograms", spectrogram_id] = spectrogram
        spectrogram_sub = 0
        for segment in segments:
            begin = int(segment["start"] * RATE)
            eeg = pd.DataFrame(signal[begin:begin + segment["length"] * RATE].astype(np.float32),
                               columns=EEG_CHANNELS)
            if rng.random() < 0.03:
                at = int(rng.integers(0, len(eeg) - 40))
                eeg.iloc[at:at + 40] = np.nan
            files["eegs", segment["eeg_id"]] = eeg
            votes = rng.multinomial(segment["experts"], segment["chance"])
            for sub in range(segment["windows"]):
                if sub and rng.random() < 0.3:  # the experts saw the next window a little differently
                    votes = rng.multinomial(segment["experts"], segment["chance"])
                row = {"eeg_id": segment["eeg_id"], "eeg_sub_id": sub, "eeg_label_offset_seconds": float(sub),
                       "spectrogram_id": int(spectrogram_id), "spectrogram_sub_id": spectrogram_sub,
                       "spectrogram_label_offset_seconds":
                           segment["start"] + sub + EEG_WINDOW / 2 - SPECTROGRAM_WINDOW / 2,
                       "label_id": int(next(label_ids)), "patient_id": int(patient),
                       "expert_consensus": CONSENSUS[int(np.argmax(votes))]}
                eegs.append({**row, **dict(zip(VOTES, (int(v) for v in votes)))})
                spectrogram_sub += 1
    frame = pd.DataFrame(eegs)
    order = rng.permutation(frame["eeg_id"].unique())  # the real rows come an EEG at a time, not sorted
    frame = frame.set_index("eeg_id").loc[order].reset_index()
    train_spectrograms, test_spectrograms = train_test_split(frame["spectrogram_id"].unique(), test_size=0.2,
                                                             random_state=0)  # the real 0.1
    train = frame[frame["spectrogram_id"].isin(train_spectrograms)]
    test = frame[frame["spectrogram_id"].isin(test_spectrograms)]
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test[["spectrogram_id", "eeg_id", "patient_id"]].to_csv(folder / "test.csv", index=False)
    test[["eeg_id"]].assign(**{c: 1 / len(VOTES) for c in VOTES}).to_csv(folder / "sample_submission.csv",
                                                                         index=False)
    for part, table in (("train", train), ("test", test)):
        for kind, column in (("eegs", "eeg_id"), ("spectrograms", "spectrogram_id")):
            (folder / f"{part}_{kind}").mkdir(exist_ok=True)
            for item in table[column].unique():
                files[kind, item].to_parquet(folder / f"{part}_{kind}" / f"{item}.parquet", index=False,
                                          use_dictionary=False)  # smaller for noisy floats, read alike
    (folder / "example_figures").mkdir(exist_ok=True)
    for k in range(1, 21):  # the overview's example cases; here a trace of each class on a blank page
        trace = np.full((60, 120), 255, dtype=np.uint8)
        wave = _pattern(rng, (k - 1) % 5, 240, 1.0)[::2, EEG_CHANNELS.index("C3")]
        trace[np.clip(30 - wave / 5, 0, 59).astype(int), np.arange(120)] = 0
        Image.fromarray(trace).save(folder / "example_figures" / f"Sample{k:02d}.pdf")
    return test.reset_index(drop=True)


# --- h-and-m-personalized-fashion-recommendations -------------------------------------------------------

PRODUCT_TYPES = [  # product_type_no, name, product_group_name, garment_group_no, name, season, price (SEK)
    (253, "Vest top", "Garments Upper body", 1002, "Jersey Basic", "summer", 9.99),
    (255, "T-shirt", "Garments Upper body", 1002, "Jersey Basic", "all", 12.99),
    (252, "Sweater", "Garments Upper body", 1003, "Knitwear", "autumn", 29.99),
    (245, "Hoodie", "Garments Upper body", 1005, "Jersey Fancy", "autumn", 24.99),
    (264, "Jacket", "Garments Upper body", 1007, "Outdoor", "autumn", 49.99),
    (272, "Trousers", "Garments Lower body", 1009, "Trousers", "all", 29.99),
    (274, "Shorts", "Garments Lower body", 1025, "Shorts", "summer", 17.99),
    (275, "Skirt", "Garments Lower body", 1012, "Skirts", "summer", 19.99),
    (265, "Dress", "Garments Full body", 1013, "Dresses Ladies", "summer", 29.99),
    (59, "Swimwear bottom", "Swimwear", 1018, "Swimwear", "summer", 12.99),
    (306, "Bra", "Underwear", 1017, "Under-, Nightwear", "all", 17.99),
    (302, "Socks", "Socks & Tights", 1021, "Socks and Tights", "all", 5.99),
    (87, "Boots", "Shoes", 1020, "Shoes", "autumn", 39.99),
    (67, "Belt", "Accessories", 1019, "Accessories", "all", 9.99),
]
INDEXES = [  # index_code, index_name, index_group_no, index_group_name, section_no, section_name
    ("A", "Ladieswear", 1, "Ladieswear", 16, "Womens Everyday Basics"),
    ("B", "Lingeries/Tights", 1, "Ladieswear", 61, "Womens Lingerie"),
    ("D", "Divided", 2, "Divided", 53, "Divided Collection"),
    ("F", "Menswear", 3, "Menswear", 21, "Contemporary Casual"),
    ("H", "Children Sizes 92-140", 4, "Baby/Children", 77, "Kids Girl"),
    ("S", "Sport", 26, "Sport", 5, "Ladies H&M Sport"),
]
AGE_TASTE = {"young": [0.2, 0.1, 0.5, 0.05, 0.0, 0.15], "middle": [0.35, 0.15, 0.05, 0.1, 0.3, 0.05],
             "older": [0.45, 0.2, 0.0, 0.3, 0.05, 0.0]}  # per INDEXES
COLOURS = [  # colour_group_code, name, perceived_colour_value_id, name, perceived_colour_master_id, name, RGB
    (9, "Black", 4, "Dark", 5, "Black", (20, 20, 20)), (10, "White", 3, "Light", 9, "White", (240, 240, 240)),
    (73, "Dark Blue", 4, "Dark", 2, "Blue", (30, 40, 100)), (7, "Grey", 2, "Medium Dusty", 12, "Grey", (128, 128, 128)),
    (12, "Light Beige", 1, "Dusty Light", 11, "Beige", (225, 210, 180)),
    (51, "Light Pink", 1, "Dusty Light", 4, "Pink", (240, 190, 200)),
    (42, "Red", 5, "Bright", 18, "Red", (200, 30, 40)), (93, "Dark Green", 4, "Dark", 19, "Green", (30, 80, 40)),
    (71, "Light Blue", 3, "Light", 2, "Blue", (160, 200, 235)),
]
APPEARANCES = [(1010016, "Solid"), (1010017, "Stripe"), (1010001, "All over pattern"), (1010010, "Melange"),
               (1010004, "Check")]
PRODUCT_NAMES = ("Tilda Jade Luna Ellie Mona Timmy Bobby Kim Sara Rey Nora Lisa Alva Penny Oslo Bergen Malmo Nice "
                 "Basic Slim Relaxed Wide Soft Cropped").split()
FABRICS = ["cotton jersey", "rib-knit fabric", "soft sweatshirt fabric", "woven fabric", "stretch denim", "mesh"]
FEATURES = ["narrow shoulder straps", "a round neckline", "side pockets", "an elasticated waist", "long sleeves",
            "a concealed zip", "a wide hem"]


def fashion(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """h-and-m-personalized-fashion-recommendations: articles.csv (25 columns: article_id as 10 digits with its
    leading 0, `0108775015`, the first 7 its product_code `0108775`, colour_group_code 2 digits `09`, product
    type, group, appearance, colour, department, index, section and garment group numbers and names,
    detail_desc, sometimes empty), customers.csv (customer_id 64 hex, FN and Active `1.0` or empty,
    club_member_status, fashion_news_frequency, age an integer or empty, postal_code 64 hex, one very common;
    sorted by customer_id), transactions_train.csv (t_dat `2020-09-22`, customer_id, article_id, price a
    fraction such as 0.0508474576271186, sales_channel_id 1 or 2; sorted by day, a row per item bought, repeats
    for several of one) and images/<first 3 digits>/<article_id>.jpg for most articles, all copied from the raw
    files except the transactions: prepare.py reads them with pandas, moves every row from the last day minus 7
    days on (8 days) to the answers and writes the rest back, so there article_id is an integer WITHOUT its
    leading 0 (`108775015`). The answers (customer_id, prediction: the article ids bought, as those integers,
    space-joined, repeats kept) hold only the customers who bought in that week, some with no earlier purchase;
    sample_submission.csv, Kaggle's own, asks for every customer of customers.csv with the same twelve ids, the
    best sellers, with their leading 0s. MAP@12, the ids compared as text. Here 420 customers, about 300 articles
    (150 products of 1-4 colours), about 3,500 transactions from 2020-05-01; an article sells from its launch and
    fades, summer types (shorts, swimwear) peak in July and autumn ones rise in September, each age group
    prefers its indexes (Divided for the young), customers buy again what they bought or its other colours and
    keep to a sales channel. The images are 20 x 30 jpgs in the article's colour (the real ones 1166 x 1750);
    8% of the articles have none."""
    first_day, days = pd.Timestamp("2020-05-01"), 145  # to 2020-09-22, the real last day
    n_products = 150
    codes = _distinct(rng, n_products, 108775, 959462)
    articles, traits = [], []
    for p, code in enumerate(codes):
        kind = PRODUCT_TYPES[int(rng.integers(0, len(PRODUCT_TYPES)))]
        index = INDEXES[1] if kind[2] in ("Underwear", "Socks & Tights") and rng.random() < 0.8 else \
            INDEXES[int(rng.choice(len(INDEXES), p=[0.3, 0.05, 0.25, 0.15, 0.15, 0.1]))]
        name = f"{rng.choice(PRODUCT_NAMES)} {kind[1].lower() if rng.random() < 0.5 else rng.choice(PRODUCT_NAMES)}"
        appearance = APPEARANCES[int(rng.choice(len(APPEARANCES), p=[0.55, 0.15, 0.15, 0.1, 0.05]))]
        department = 1000 + 100 * INDEXES.index(index) + PRODUCT_TYPES.index(kind) * 7 + int(rng.integers(0, 3))
        description = (f"{kind[1]} in {rng.choice(FABRICS)} with {rng.choice(FEATURES)}."
                       if rng.random() < 0.97 else None)
        for variant, colour in enumerate(rng.choice(len(COLOURS), int(rng.choice([1, 2, 3, 4], p=[0.4, 0.3, 0.2, 0.1])),
                                                    replace=False)):
            colour = COLOURS[colour]
            articles.append({
                "article_id": f"{code:07d}{int(rng.integers(1, 4)) + 3 * variant:03d}", "product_code": f"{code:07d}",
                "prod_name": name, "product_type_no": kind[0], "product_type_name": kind[1],
                "product_group_name": kind[2], "graphical_appearance_no": appearance[0],
                "graphical_appearance_name": appearance[1], "colour_group_code": f"{colour[0]:02d}",
                "colour_group_name": colour[1], "perceived_colour_value_id": colour[2],
                "perceived_colour_value_name": colour[3], "perceived_colour_master_id": colour[4],
                "perceived_colour_master_name": colour[5], "department_no": department,
                "department_name": kind[4], "index_code": index[0], "index_name": index[1],
                "index_group_no": index[2], "index_group_name": index[3], "section_no": index[4],
                "section_name": index[5], "garment_group_no": kind[3], "garment_group_name": kind[4],
                "detail_desc": description})
            traits.append((articles[-1]["article_id"], p, PRODUCT_TYPES.index(kind), INDEXES.index(index),
                               colour[6], appearance[1]))
    articles = pd.DataFrame(articles).sort_values("article_id", ignore_index=True)
    info = pd.DataFrame(traits, columns=["article_id", "product", "type", "index", "rgb", "look"]).sort_values(
        "article_id", ignore_index=True)  # the same order as articles.csv
    ids = articles["article_id"].to_numpy()
    n_articles = len(ids)
    # popularity by day: each article sells from its launch and fades; its type's season scales it
    launch = rng.uniform(-100, days - 5, n_articles)
    fade = rng.uniform(20, 90, n_articles)
    base = rng.lognormal(0, 0.6, n_articles)
    day = np.arange(days)[:, None]
    popularity = np.where(day >= launch, base * np.exp(-(day - launch) / fade), 0.0)
    season = {"summer": np.interp(np.arange(days), [0, 60, 80, 144], [0.6, 1.8, 1.8, 0.4]),
              "autumn": np.interp(np.arange(days), [0, 100, 144], [0.4, 0.6, 2.2]),
              "all": np.ones(days)}
    kinds = info["type"].to_numpy()
    popularity *= np.stack([season[PRODUCT_TYPES[k][5]] for k in kinds], axis=1)

    n_customers = 420
    customers = sorted(hex_ids(rng, n_customers, 64))
    age = np.where(rng.random(n_customers) < 0.55, rng.normal(25, 4, n_customers), rng.normal(50, 10, n_customers))
    age = np.clip(np.round(age), 16, 99).astype(int)
    group = np.where(age < 28, "young", np.where(age < 46, "middle", "older"))
    fn = rng.random(n_customers) < 0.35
    common_postcode = hex_ids(rng, 1, 64)[0]
    customer_table = pd.DataFrame({
        "customer_id": customers, "FN": np.where(fn, 1.0, np.nan),
        "Active": np.where(fn & (rng.random(n_customers) < 0.95), 1.0, np.nan),
        "club_member_status": rng.choice(["ACTIVE", "PRE-CREATE", "LEFT CLUB", None], n_customers,
                                         p=[0.925, 0.065, 0.002, 0.008]),
        "fashion_news_frequency": np.where(fn, rng.choice(["Regularly", "Monthly"], n_customers, p=[0.98, 0.02]),
                                           rng.choice(["NONE", None], n_customers, p=[0.98, 0.02])),
        "age": pd.array(np.where(rng.random(n_customers) < 0.01, -1, age), dtype="Int64"),
        "postal_code": [common_postcode if rng.random() < 0.08 else code for code in hex_ids(rng, n_customers, 64)]})
    customer_table.loc[customer_table["age"] == -1, "age"] = pd.NA
    folder.mkdir(parents=True, exist_ok=True)
    customer_table.to_csv(folder / "customers.csv", index=False)

    taste = np.array([AGE_TASTE[g] for g in group])[:, info["index"].to_numpy()] + 0.02  # (customers, articles)
    same_product = info["product"].to_numpy()
    price_sek = np.array([PRODUCT_TYPES[k][6] for k in kinds]) * rng.choice([0.7, 1.0, 1.0, 1.4], n_articles)
    online = rng.beta(1.5, 1.5, n_customers)
    rows = []
    for c in range(n_customers):
        if rng.random() < 0.08:
            continue  # in customers.csv, never bought
        joined = 0 if rng.random() > 0.06 else days - 8  # a few first buy in the last week
        visits = np.sort(rng.integers(joined, days, rng.poisson(rng.lognormal(1.1, 0.6)) + 1))
        bought: list[int] = []
        for d in visits:
            channel = 2 if rng.random() < online[c] else 1
            for _ in range(1 + rng.poisson(1.0)):
                if bought and rng.random() < 0.3:
                    a = bought[int(rng.integers(0, len(bought)))]  # again
                elif bought and rng.random() < 0.15:
                    a = int(rng.choice(np.flatnonzero(same_product == same_product[bought[-1]])))  # another colour
                else:
                    weight = popularity[d] * taste[c]
                    a = int(rng.choice(n_articles, p=weight / weight.sum()))
                bought.append(a)
                price = round(price_sek[a] * (0.6 if d - launch[a] > 60 and rng.random() < 0.5 else 1.0), 2) / 590
                for _ in range(2 if rng.random() < 0.04 else 1):
                    rows.append({"t_dat": (first_day + pd.Timedelta(days=int(d))).strftime("%Y-%m-%d"),
                                 "customer_id": customers[c], "article_id": ids[a], "price": price,
                                 "sales_channel_id": channel})
    transactions = pd.DataFrame(rows).sort_values(["t_dat", "customer_id"], kind="stable", ignore_index=True)
    best = transactions["article_id"].value_counts().index[:12]  # Kaggle's sample: the best sellers
    when = pd.to_datetime(transactions["t_dat"])
    last_week = when >= when.max() - pd.Timedelta(days=7)
    transactions["article_id"] = transactions["article_id"].astype(int)  # as prepare.py's read_csv leaves them
    transactions[~last_week].to_csv(folder / "transactions_train.csv", index=False)
    answers = (transactions[last_week].groupby("customer_id")["article_id"]
               .apply(lambda x: " ".join(x.astype(str))).reset_index().rename(columns={"article_id": "prediction"}))
    articles.to_csv(folder / "articles.csv", index=False)
    pd.DataFrame({"customer_id": customers, "prediction": " ".join(best)}).to_csv(folder / "sample_submission.csv",
                                                                                 index=False)
    for k, article in enumerate(ids):
        if rng.random() < 0.08:
            continue
        pixels = np.ones((30, 20, 3)) * np.array(info["rgb"].iat[k]) + rng.normal(0, 8, (30, 20, 3))
        if info["look"].iat[k] == "Stripe":
            pixels[::4] = 255 - pixels[::4]
        save_image(folder / "images" / article[:3] / f"{article}.jpg", pixels, quality=85)
    return answers


# --- iwildcam-2019-fgvc6 ----------------------------------------------------------------------------------

CCT_SPECIES = {  # 2019 category id: (name, drawn as this WILD_SPECIES body, at this scale, seen in groups, weight)
    19: ("opossum", 372, 0.5, False, 14), 13: ("raccoon", 10, 0.8, True, 9), 1: ("deer", 14, 1.0, True, 6),
    16: ("bobcat", 6, 0.7, False, 5), 8: ("rabbit", 3, 0.8, False, 4), 11: ("coyote", 8, 0.6, False, 3),
    17: ("cat", 72, 0.9, False, 3), 3: ("squirrel", 4, 0.6, False, 2)}
CCT_ID_SUFFIX, CCT_SEQ_SUFFIX = "-23d2-11e8-a6a3-ec086b02610b", "-dca9047ef277"


def iwildcam_2019(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """iwildcam-2019-fgvc6: train.csv (category_id, date_captured `2011-05-13 23:43:18`, file_name `<id>.jpg`,
    frame_num from 1, id like `5998cfa4-23d2-11e8-a6a3-ec086b02610b` (only the first 8 hex vary), location an
    integer, rights_holder `Justin Brown` or `Erin Boydston`, seq_id like `6f084ccc-5567-11e8-bc84-dca9047ef277`,
    seq_num_frames, width, height, 1024 x 747 in the real ones), the Caltech Camera Traps rows of the raw train.csv
    in its unsorted order; category_id is 0 for empty (two thirds of the real frames) or one of the 22 ids of
    description.md's list (1 deer, 3 squirrel, 4 rodent, 8 rabbit, 10 fox, 11 coyote, 13 raccoon, 14 skunk,
    16 bobcat, 17 cat, 18 dog, 19 opossum, 22 mountain lion occur). prepare.py holds out whole locations
    (train_test_split of `location.unique()`, test_size 0.1, random_state 8): test.csv the same rows without
    category_id, train_images.zip and test_images.zip (shutil.make_archive of folders of `<id>.jpg`, the members
    at the zip's root). sample_submission.csv is written with index=True: a nameless first column holding the
    rows' positions in the raw train.csv (`0`, `4`, ...), then Id (capitalised, where test.csv has `id`) and
    Category 0. Macro F1 over the classes in answers or submission (answers: Id, Category). Here 25 locations
    with 64x48 frames in sequences of one to three, each location with its own background, rights holder and
    two to four of eight species (each its own colour, size and build), 40% of the sequences empty; frames
    taken between 21:00 and 05:00 are grey night shots."""
    height, width = 48, 64
    locations = sorted(int(v) for v in rng.choice(np.arange(0, 140), 25, replace=False))
    weights = np.array([s[4] for s in CCT_SPECIES.values()], dtype=float)
    rows, pixels_of = [], {}
    for location in locations:
        scene = {"horizon": int(rng.integers(14, 26)), "plants": rng.uniform(60, 140, 3) * [0.9, 1.0, 0.7],
                 "ground": rng.uniform(90, 170, 3) * [1.1, 1.0, 0.8],
                 "trunks": list(rng.integers(0, width - 3, int(rng.integers(0, 3))))}
        fauna = [int(c) for c in rng.choice(list(CCT_SPECIES), int(rng.integers(2, 5)), replace=False,
                                            p=weights / weights.sum())]
        holder = "Erin Boydston" if rng.random() < 0.5 else "Justin Brown"
        start = pd.Timestamp(f"{int(rng.integers(2011, 2016))}-{int(rng.integers(1, 13)):02d}-01")
        for _ in range(int(rng.integers(4, 12))):
            category = 0 if rng.random() < 0.4 else fauna[int(rng.integers(0, len(fauna)))]
            _, drawn, scale, herd, _ = CCT_SPECIES.get(category, (None, 0, 1.0, False, 0))
            animals = [] if not category else [
                (drawn, rng.uniform(0.55, 0.8) * height, rng.uniform(0.2, 0.8) * width, scale * rng.uniform(0.85, 1.15),
                 rng.choice([-1, 1])) for _ in range(int(rng.integers(1, 3)) if herd else 1)]
            frames = int(rng.choice([1, 2, 3], p=[0.25, 0.05, 0.7]))
            seq_id = f"{rng.bytes(4).hex()}-5567-11e8-{rng.bytes(2).hex()}{CCT_SEQ_SUFFIX}"
            when = start + pd.Timedelta(seconds=int(rng.integers(0, 300 * 86400)))
            night = not 5 <= when.hour < 21
            for frame in range(frames):
                image_id = rng.bytes(4).hex() + CCT_ID_SUFFIX
                pixels_of[image_id], _ = _camera_view(rng, scene, animals, night, height, width)
                animals = [(c, cy, cx + f * rng.uniform(2, 5), s, f) for c, cy, cx, s, f in animals]  # moving on
                rows.append({"category_id": category,
                             "date_captured": (when + pd.Timedelta(seconds=frame)).strftime("%Y-%m-%d %H:%M:%S"),
                             "file_name": f"{image_id}.jpg", "frame_num": frame + 1, "id": image_id,
                             "location": location, "rights_holder": holder, "seq_id": seq_id,
                             "seq_num_frames": frames, "width": width, "height": height})
    raw = pd.DataFrame(rows).sample(frac=1.0, random_state=int(rng.integers(0, 2 ** 31)), ignore_index=True)
    shuffled = [int(v) for v in rng.permutation(locations)]
    held = set(shuffled[:int(np.ceil(0.1 * len(shuffled)))])
    test_rows = raw["location"].isin(held)
    folder.mkdir(parents=True, exist_ok=True)
    raw[~test_rows].to_csv(folder / "train.csv", index=False)
    raw[test_rows].drop(columns=["category_id"]).to_csv(folder / "test.csv", index=False)
    sample = raw.loc[test_rows, ["id"]].rename(columns={"id": "Id"}).assign(Category=0)
    sample.to_csv(folder / "sample_submission.csv", index=True)  # keeps the raw row numbers, as prepare.py does
    for part, chosen in (("train_images", ~test_rows), ("test_images", test_rows)):
        for image_id in raw.loc[chosen, "id"]:
            save_image(folder / part / f"{image_id}.jpg", pixels_of[image_id], quality=90)
        shutil.make_archive(str(folder / part), "zip", folder / part)
        shutil.rmtree(folder / part)
    answers = raw.loc[test_rows, ["id", "category_id"]].rename(columns={"id": "Id", "category_id": "Category"})
    return answers.reset_index(drop=True)


LAYOUTS = {
    "hms-harmful-brain-activity-classification": ("EEG and spectrogram parquets; vote counts; eeg_id repeats",
                                                  "kl_divergence", brain_activity),
    "h-and-m-personalized-fashion-recommendations": ("transactions; 12 ranked articles; answers only for buyers",
                                                     "map@12", fashion),
    "iwildcam-2019-fgvc6": ("camera-trap frames; whole locations held out; sample written with its index",
                            "f1_macro", iwildcam_2019),
}
