"""Miniatures of MLE-bench competitions of many linked files: EEG recordings beside their spectrograms, labelled
by expert vote counts (hms), a shop's transactions with its article and customer tables, to be turned into
twelve ranked articles per customer (h-and-m), camera-trap frames in zips beside their metadata table, split
by whole camera locations (iwildcam-2019), and folders of DICOM slices: CT studies scored per vertebra in melted
rows (rsna-2022-cervical-spine), mammograms scored per breast (rsna-breast-cancer) and four MR series per
brain tumour case (rsna-miccai-brain-tumor).

Each generator writes what the competition's `prepare.py` gives an agent (file names, folders, columns, dtypes,
id formats, the sample submission and its placeholder values) filled with generated data whose signal is known,
and returns the answers in the columns the competition's `grade.py` reads. Kept small enough for
`agent compete --time-budget 60` on two cores: the recordings are seconds long where the real ones last
minutes, the shop sells a few hundred articles to a few hundred customers, a scan holds a dozen 32 x 32 slices
where the real ones hold hundreds of 512 x 512.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from layout_kit import hex_ids, save_dicom, save_image
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


# --- rsna-2022-cervical-spine-fracture-detection --------------------------------------------------------

VERTEBRAE = [f"C{k}" for k in range(1, 8)]
FRACTURE_SHARE = np.array([0.07, 0.14, 0.04, 0.05, 0.08, 0.14, 0.19])  # of the real studies, per vertebra
NIFTI_HEADER = "<i10s18sih1sB8h3f4h8f3fhBB4f2i80s24s2h6f12f16s4s"  # NIfTI-1's 348 bytes


def _save_nifti(path: Path, volume: np.ndarray, spacing: tuple[float, float, float]) -> None:
    """A uint8 (x, y, z) volume as an uncompressed NIfTI-1 file, its voxels `spacing` mm apart."""
    import struct

    sx, sy, sz = spacing
    header = struct.pack(
        NIFTI_HEADER, 348, b"", b"", 0, 0, b"r", 0, 3, *volume.shape, 1, 1, 1, 1, 0.0, 0.0, 0.0,
        0, 2, 8, 0, 1.0, sx, sy, sz, 0.0, 0.0, 0.0, 0.0, 352.0, 1.0, 0.0, 0, 0, 2, 0.0, 0.0, 0.0, 0.0, 0, 0,
        b"", b"", 1, 1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        sx, 0.0, 0.0, 0.0, 0.0, sy, 0.0, 0.0, 0.0, 0.0, sz, 0.0, b"", b"n+1\0")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + bytes(4) + volume.astype(np.uint8).tobytes(order="F"))


def _neck_slice(rng: np.random.Generator, study: dict, level: int, broken: bool,
                size: int = 32) -> tuple[np.ndarray, np.ndarray, tuple[float, ...] | None]:
    """One axial CT slice in Hounsfield units + 1024 (air 24, soft tissue ~1064, bone 1200-2100): the neck, its
    airway, at `level` 1-7 a cervical vertebra (C1 a ring, then a body growing downwards, its arch and spinal
    canal), 0 the skull base, 8 T1. A broken vertebra shows a crack through its body and a displaced fragment.
    Returns the pixels, the vertebra's label mask (its level on its bone) and the fracture's box (x, y, w, h)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    cx, cy, rx, ry, density = study["cx"], study["cy"], study["rx"], study["ry"], study["density"]
    hu = np.full((size, size), -1000.0)
    hu[((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 < 1] = 40.0
    hu[(xx - cx) ** 2 + (yy - cy + 0.45 * ry) ** 2 < 2.2 ** 2] = -950.0  # the airway
    labels, box = np.zeros((size, size), dtype=np.uint8), None
    if level == 0:
        bone = np.abs(np.hypot((xx - cx) / rx, (yy - cy) / ry) - 0.75) < 0.1
        hu[bone] = 1400 * density
    else:
        radius = 2.6 + 0.3 * level
        by = cy + 0.1 * ry
        canal_y = by + radius + 1.8
        centre = np.hypot(xx - cx, yy - by)
        canal = np.hypot(xx - cx, yy - canal_y)
        arch = (canal > 1.8) & (canal < 3.0) & (yy > canal_y - 1.5)
        body = (centre < radius - 0.8) if level > 1 else np.zeros_like(arch)
        rim = (np.abs(centre - radius + 0.4) < 0.6) if level > 1 else (np.abs(centre - radius) < 0.8)
        hu[body], hu[rim | arch] = 320 * density, 950 * density
        hu[canal <= 1.8] = 10.0
        labels[body | rim | arch] = level
        if broken:
            angle = rng.uniform(0, np.pi)
            crack = (np.abs((xx - cx) * np.sin(angle) - (yy - by) * np.cos(angle)) < 0.75) & (centre < radius + 0.3)
            hu[crack] = rng.uniform(20, 120)
            end = (cx + (radius + 1.2) * np.cos(angle), by + (radius + 1.2) * np.sin(angle))
            hu[np.hypot(xx - end[0], yy - end[1]) < 1.1] = 1100 * density  # the displaced fragment
            ys, xs = np.nonzero(crack)
            box = (xs.min() - 0.5 + rng.uniform(-0.3, 0.3), ys.min() - 0.5 + rng.uniform(-0.3, 0.3),
                   xs.max() - xs.min() + 1.0 + rng.uniform(0, 0.6), ys.max() - ys.min() + 1.0 + rng.uniform(0, 0.6))
    hu += rng.normal(0, 25, hu.shape)
    return np.clip(hu + 1024, 0, 4095), labels, box


def cervical_spine(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """rsna-2022-cervical-spine-fracture-detection: train.csv (StudyInstanceUID `1.2.826.0.1.3680043.6200`,
    patient_overall, C1 ... C7, all 0/1; patient_overall is any of C1-C7), train_images/ and
    test_images/<StudyInstanceUID>/<slice_number>.dcm (a CT study of 200-700 axial 512 x 512 slices, 1.dcm
    the head end in some studies, the chest end in others; some JPEG compressed), train_bounding_boxes.csv
    (StudyInstanceUID, x, y, width, height as floats, slice_number: a box per slice where a fracture shows,
    only for fractured studies), segmentations/<StudyInstanceUID>.nii (vertebra labels 1-7 for C1-C7, 8-19 for
    T1-T12, stored sagittal: `seg[:, ::-1, ::-1].transpose(2, 1, 0)` lines it up with the slices). prepare.py
    keeps only 10% of the studies for train (the bounding-box and segmentation subsets and their overlap
    scaled alike, all in train) and holds out the other 90%, their images copied to test_images; the answers
    melt the held-out rows into a row per study and target (all the studies' patient_overall, then all their
    C1, ...), row_id `<StudyInstanceUID>_C1`; test.csv (StudyInstanceUID, prediction_type, row_id) and
    sample_submission.csv (row_id, fractured 0.5) follow that order. The answers (StudyInstanceUID,
    prediction_type, fractured, row_id) are unmelted by grade.py into eight columns per study for the weighted
    log loss (patient_overall weighs 7, or 14 when fractured; each vertebra 1, or 2). Here 180 studies, 20% in
    train (the real 10% would leave 18), each 10-16 slices of 32 x 32 stored values (uint16, RescaleIntercept
    -1024, ImagePositionPatient's z 3 mm apart, 30% of the studies numbered from the chest end), a slice or
    two per vertebra from the skull base to T1; a fracture is a crack and a loose fragment on its vertebra's
    slices. Half the patients have brittle bones, fainter on the scan and fractured three times as often.
    Boxes for 5 fractured train studies and segmentations for 3 (one of them boxed too), the volumes 32 x 32
    x slices and labelled on the bone, T1 as 8."""
    n_studies, n_train, size = 180, 36, 32
    uids = [f"1.2.826.0.1.3680043.{v}" for v in _distinct(rng, n_studies, 1000, 32800)]
    rows, studies = [], {}
    for uid in uids:
        brittle = rng.random() < 0.5
        broken = rng.random(7) < FRACTURE_SHARE * (1.6 if brittle else 0.5)
        rows.append({"StudyInstanceUID": uid, "patient_overall": int(broken.any()),
                     **{c: int(b) for c, b in zip(VERTEBRAE, broken)}})
        levels = [0] * int(rng.integers(0, 2)) + [v for v in range(1, 8) for _ in range(int(rng.integers(1, 3)))]
        studies[uid] = {"broken": broken, "levels": levels + [8] * int(rng.integers(1, 3)),
                        "reversed": rng.random() < 0.3, "z0": rng.uniform(-120, 40),
                        "cx": size / 2 + rng.uniform(-2, 2), "cy": size / 2 + rng.uniform(-2, 2),
                        "rx": rng.uniform(10, 13), "ry": rng.uniform(8, 11),
                        "density": rng.uniform(0.55, 0.8) if brittle else rng.uniform(0.8, 1.1)}
    frame = pd.DataFrame(rows)
    in_train = set(rng.choice(uids, n_train, replace=False))
    train = frame[frame["StudyInstanceUID"].isin(in_train)]
    fractured = [u for u in train["StudyInstanceUID"] if studies[u]["broken"].any()]
    boxed = set(rng.choice(fractured, 5, replace=False))
    segmented = {rng.choice(sorted(boxed))} | set(rng.choice(sorted(in_train - boxed), 2, replace=False))
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    answers = frame[~frame["StudyInstanceUID"].isin(in_train)].melt(
        id_vars="StudyInstanceUID", var_name="prediction_type", value_name="fractured")
    answers["row_id"] = answers["StudyInstanceUID"] + "_" + answers["prediction_type"]
    answers[["row_id"]].assign(fractured=0.5).to_csv(folder / "sample_submission.csv", index=False)
    answers.drop(columns=["fractured"]).to_csv(folder / "test.csv", index=False)
    boxes = []
    for uid in uids:
        study, part = studies[uid], "train_images" if uid in in_train else "test_images"
        levels = study["levels"][::-1] if study["reversed"] else study["levels"]
        step = 3.0 if study["reversed"] else -3.0
        stack = np.zeros((len(levels), size, size), dtype=np.uint8)
        for k, level in enumerate(levels):
            broken = 1 <= level <= 7 and bool(study["broken"][level - 1])
            pixels, stack[k], box = _neck_slice(rng, study, level, broken, size)
            save_dicom(folder / part / uid / f"{k + 1}.dcm", pixels, StudyInstanceUID=uid, InstanceNumber=k + 1,
                       ImagePositionPatient=[-40.0, -40.0, round(study["z0"] + k * step, 1)], PixelSpacing=[2.5, 2.5],
                       SliceThickness=3.0)
            if box and uid in boxed:
                boxes.append({"StudyInstanceUID": uid, **dict(zip(["x", "y", "width", "height"],
                                                                  (round(v, 5) for v in box))), "slice_number": k + 1})
        if uid in segmented:
            _save_nifti(folder / "segmentations" / f"{uid}.nii", stack.transpose(2, 1, 0)[:, ::-1, ::-1],
                        (2.5, 2.5, 3.0))
    pd.DataFrame(boxes, columns=["StudyInstanceUID", "x", "y", "width", "height", "slice_number"]).to_csv(
        folder / "train_bounding_boxes.csv", index=False)
    return answers.reset_index(drop=True)


# --- rsna-breast-cancer-detection -----------------------------------------------------------------------

MAMMO_MACHINES = {1: [49, 48, 29], 2: [21, 93, 216, 170]}  # machine_ids by site_id
MAMMO_SIZES = {49: (64, 52), 48: (64, 52), 29: (64, 48), 21: (60, 48), 93: (64, 48), 216: (56, 44), 170: (64, 48)}
MAMMO_INVERTED = {29, 21}  # machines whose files are MONOCHROME1
EXTRA_VIEWS = ["MLO", "CC", "AT", "LM", "ML", "LMO"]


def _mammogram(rng: np.random.Generator, breast: dict, view: str, shape: tuple[int, int]) -> np.ndarray:
    """One view of a breast, 12-bit values (background 0): a half ellipse from the chest wall on the side
    `breast["wall"]` names, fattier or denser tissue by its density, the pectoral muscle's corner in the views
    other than CC, an implant's bright oval, and a bright mass where a visible cancer (or a benign lump) sits,
    at about the same place in every view."""
    height, width = shape
    yy, xx = np.mgrid[0:height, 0:width].astype(float)
    depth = (xx if breast["wall"] == "left" else width - 1 - xx) / (width * breast["reach"])
    across = (yy - height * (0.45 if view == "CC" else 0.55)) / (height * (0.42 if view == "CC" else 0.5))
    inside = depth ** 2 + across ** 2 < 1
    smooth = np.fft.irfft2(np.fft.rfft2(rng.normal(size=shape)) / (1 + np.hypot(
        *np.meshgrid(np.fft.rfftfreq(width) * width, np.fft.fftfreq(height) * height))) ** 1.5, s=shape)
    tissue = breast["base"] + breast["texture"] * smooth / smooth.std() * np.clip(1 - depth, 0, 1)
    values = np.where(inside, tissue, 0.0)
    if view != "CC":  # the pectoral muscle, a bright corner at the chest wall's top
        values[inside & (depth / 0.3 + yy / (0.4 * height) < 1)] = breast["base"] + 900
    if breast["implant"]:
        values[((depth - 0.35) / 0.3) ** 2 + (across / 0.45) ** 2 < 1] = 3700
    if breast["lump"]:
        spot_depth, spot_across, radius, brightness = breast["lump"]
        near = np.hypot((depth - spot_depth) * width * breast["reach"], (across - spot_across) * height * 0.45)
        values += np.where(inside, brightness * np.exp(-(near / radius) ** 2), 0.0)
    values += np.where(inside, rng.normal(0, 40, shape), rng.uniform(0, 6, shape))
    return np.clip(values, 0, 4095)


def breast_cancer(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """rsna-breast-cancer-detection: train.csv (site_id 1 or 2, patient_id, image_id, laterality L/R, view CC/MLO
    and a few AT, LM, ML, LMO, age as a float `61.0`, sometimes empty, cancer, biopsy, invasive, BIRADS 0/1/2
    as floats and empty for site 2, implant, density A-D and empty for site 2, machine_id,
    difficult_negative_case True/False), a row per image sorted by patient then image_id, usually four images a
    patient (CC and MLO of each breast), sometimes more; about 2% of the breasts have cancer, and those are
    biopsied (biopsy and invasive leak the label in train). train_images/ and test_images/<patient_id>/
    <image_id>.dcm: mammograms of 2000-5000 pixels a side, many JPEG 2000 compressed, some MONOCHROME1 (0 is
    white). prepare.py holds out 10% of the patients (train_test_split of `patient_id.unique()`, random_state
    42; here 20%, so that about 60 breasts are scored), test.csv keeps site_id, patient_id, image_id,
    laterality, view, age, implant, machine_id and adds prediction_id `<patient_id>_<laterality>`, shared by a
    breast's images; the answers (prediction_id, cancer) hold one row per breast, sorted by prediction_id,
    sample_submission.csv the same ids with cancer = train's mean cancer rate; probabilistic F1 of the
    clipped probabilities. Here 150 patients, about 12% of their breasts with cancer (at least 3 scored),
    more often when older or denser; 85% of the cancers show as a bright mass in every view of the breast,
    10% of the healthy breasts have a fainter benign lump. The images are small uncompressed 16-bit files
    whose size depends on the machine (44-52 x 56-64), two machines' MONOCHROME1, the breast against the left
    or right edge."""
    from sklearn.model_selection import train_test_split

    patients = np.sort(_distinct(rng, 150, 10006, 65535))
    _, held = train_test_split(patients, test_size=0.2, random_state=42)  # the real 0.1
    held = set(held)
    site = rng.choice([1, 2], len(patients), p=[0.45, 0.55])
    age = np.clip(np.round(rng.normal(58, 10, len(patients))), 26, 89)
    density = np.where(site == 1, rng.choice(list("ABCD"), len(patients), p=[0.1, 0.42, 0.42, 0.06]), None)
    dense = np.array([d in ("C", "D") or (d is None and rng.random() < 0.45) for d in density])
    while True:  # redrawn until the held-out breasts hold a few cancers, so that pF1 is defined and not luck
        chance = 1 / (1 + np.exp(-(-2.6 + 0.07 * (age - 58) + 0.7 * dense)))
        cancer = rng.random((len(patients), 2)) < chance[:, None]
        if sum(cancer[k].sum() for k, p in enumerate(patients) if p in held) >= 3:
            break
    image_ids = iter(_distinct(rng, 1000, 10000, 2147483647))
    rows, breasts = [], {}
    for k, patient in enumerate(patients):
        machine = int(rng.choice(MAMMO_MACHINES[site[k]]))
        implant = int(rng.random() < 0.03)
        age_k = np.nan if rng.random() < 0.01 else float(age[k])
        images = []
        for side, laterality in enumerate("LR"):
            sick = bool(cancer[k, side])
            lump = None
            if (sick and rng.random() < 0.85) or (not sick and rng.random() < 0.1):
                lump = (rng.uniform(0.3, 0.7), rng.uniform(-0.5, 0.5), rng.uniform(2.5, 4.0) if sick else 1.5,
                        rng.uniform(900, 1400) if sick else rng.uniform(400, 700))
            wall = ("right" if laterality == "L" else "left") if rng.random() < 0.8 else (
                "left" if laterality == "L" else "right")
            breasts[patient, laterality] = {
                "wall": wall, "reach": rng.uniform(0.7, 0.95), "implant": implant, "lump": lump,
                "base": rng.uniform(1700, 2300) if dense[k] else rng.uniform(1100, 1600),
                "texture": 260 if dense[k] else 140}
            biopsy = int(sick or rng.random() < 0.03)
            birads = np.nan if site[k] == 2 else 0.0 if sick else float(rng.choice([0, 1, 2], p=[0.25, 0.63, 0.12]))
            label = {"cancer": int(sick), "biopsy": biopsy, "invasive": int(sick and rng.random() < 0.7),
                     "BIRADS": birads, "implant": implant, "density": density[k], "machine_id": machine,
                     "difficult_negative_case": bool(not sick and (biopsy or rng.random() < 0.1))}
            views = ["CC", "MLO"] + ([str(rng.choice(EXTRA_VIEWS))] if rng.random() < 0.08 else [])
            images += [(int(next(image_ids)), laterality, view, label) for view in views]
        for image_id, laterality, view, label in sorted(images, key=lambda item: item[0]):
            rows.append({"site_id": int(site[k]), "patient_id": int(patient), "image_id": image_id,
                         "laterality": laterality, "view": view, "age": age_k, "cancer": label["cancer"],
                         "biopsy": label["biopsy"], "invasive": label["invasive"], "BIRADS": label["BIRADS"],
                         "implant": label["implant"], "density": label["density"], "machine_id": label["machine_id"],
                         "difficult_negative_case": label["difficult_negative_case"]})
    frame = pd.DataFrame(rows)
    test_rows = frame["patient_id"].isin(held)
    train = frame[~test_rows]
    test = frame.loc[test_rows, ["site_id", "patient_id", "image_id", "laterality", "view", "age", "implant",
                                 "machine_id", "cancer"]].copy()
    test["prediction_id"] = test["patient_id"].astype(str) + "_" + test["laterality"]
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.drop(columns=["cancer"]).to_csv(folder / "test.csv", index=False)
    answers = test[["prediction_id", "cancer"]].groupby("prediction_id").first().reset_index()
    answers.assign(cancer=train["cancer"].mean()).to_csv(folder / "sample_submission.csv", index=False)
    for row in frame.itertuples():
        machine = row.machine_id
        pixels = _mammogram(rng, breasts[row.patient_id, row.laterality], row.view, MAMMO_SIZES[machine])
        inverted = machine in MAMMO_INVERTED
        part = "test_images" if row.patient_id in held else "train_images"
        save_dicom(folder / part / str(row.patient_id) / f"{row.image_id}.dcm", 4095 - pixels if inverted else pixels,
                   modality="MG", intercept=None, photometric="MONOCHROME1" if inverted else "MONOCHROME2",
                   PatientID=str(row.patient_id), WindowCenter=2047, WindowWidth=4096)
    return answers


# --- rsna-miccai-brain-tumor-radiogenomic-classification -----------------------------------------------

MRI_SEQUENCES = {  # folder: intensities of brain, CSF, oedema, enhancing tumour, necrotic core
    "FLAIR": (400, 120, 950, 800, 500), "T1w": (620, 220, 450, 420, 300),
    "T1wCE": (620, 220, 480, 1300, 260), "T2w": (500, 1500, 1150, 1000, 1400)}
MRI_FLAWED = {"00109": "FLAIR", "00123": "T1w", "00709": "FLAIR"}  # the cases description.md warns of


def _brain_slice(case: dict, sequence: str, z: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """An axial MR slice at height `z` (-1 crown ... 1 skull base): skull, brain with its ventricles and the
    tumour's oedema, enhancing rim and necrotic core, in `sequence`'s contrast times the series' own scale."""
    brain, csf, oedema, rim, core = MRI_SEQUENCES[sequence]
    yy, xx = (np.mgrid[0:size, 0:size] + 0.5) / size * 2 - 1
    head = np.sqrt(max(1 - z ** 2, 0.05))
    r = np.hypot(xx / 0.8, yy / 0.92) / head
    values = np.where(r < 0.92, brain, np.where(r < 1.0, 0.35 * brain, 0.0))
    ventricles = (np.abs(np.abs(xx) - 0.12) < 0.08) & (np.abs(yy) < 0.35) & (abs(z) < 0.5)
    values[ventricles] = csf
    tx, ty, tz, radius = case["tumour"]
    cut = radius ** 2 - (z - tz) ** 2
    if cut > 0:
        d = np.hypot(xx - tx, yy - ty)
        inner = np.sqrt(cut)
        values[(d < inner * case["oedema"]) & (r < 0.92)] = oedema
        values[d < inner] = rim
        values[d < inner * case["necrosis"]] = core
    values = values * case["scale"][sequence] + rng.normal(0, 15, values.shape)
    return np.clip(np.where(r < 1.0, values, rng.uniform(0, 8, values.shape)), 0, 65535)


def brain_tumour(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """rsna-miccai-brain-tumor-radiogenomic-classification: train_labels.csv (BraTS21ID, the case's five-digit
    folder name `00012` read and written as a string, MGMT_value 0/1, about half 1), train/ and
    test/<BraTS21ID>/{FLAIR,T1w,T1wCE,T2w}/Image-<n>.dcm, n from 1 (a series of 20-600 MR slices, 256-512 px
    a side, axial, sagittal or coronal, the files' numbers not always in space order, blank slices at the
    ends; three train cases, 00109, 00123 and 00709, have a broken series). prepare.py splits the 585 labelled
    cases (train_test_split, test_size 0.1, random_state 0; here 0.2, so that 22 are scored) and copies the
    held-out ones' folders to test/; train_labels.csv keeps the split's shuffled order, sample_submission.csv
    (BraTS21ID, MGMT_value 0.5) the held-out rows in theirs, and the answers (BraTS21ID, MGMT_value) too;
    AUC. Here 110 cases (ids from 00000 to 01010, the three broken ones among them, a blank series each),
    4-8 axial slices per series, 32, 48 or 64 px square, sizes and intensity scales differing between the
    series of one case; ImagePositionPatient gives each slice's height, the numbering runs down or up. The
    tumour is bright on FLAIR and T2w, dark on T1w, a bright rim on T1wCE; a methylated tumour (MGMT 1) is
    smaller, with less oedema and mostly without a necrotic core."""
    from sklearn.model_selection import train_test_split

    n_cases = 110
    others = [v for v in range(1011) if f"{v:05d}" not in MRI_FLAWED]
    ids = [f"{v:05d}" for v in sorted([*rng.choice(others, n_cases - len(MRI_FLAWED), replace=False),
                                        *(int(v) for v in MRI_FLAWED)])]
    while True:
        labels = pd.DataFrame({"BraTS21ID": ids, "MGMT_value": (rng.random(n_cases) < 0.52).astype(int)})
        train, test = train_test_split(labels, test_size=0.2, random_state=0)  # the real 0.1
        if test["MGMT_value"].nunique() == 2:
            break
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train_labels.csv", index=False)
    test.assign(MGMT_value=0.5).to_csv(folder / "sample_submission.csv", index=False)
    held = set(test["BraTS21ID"])
    for case_id, methylated in zip(labels["BraTS21ID"], labels["MGMT_value"]):
        case = {"tumour": (rng.uniform(-0.4, 0.4), rng.uniform(-0.4, 0.4), rng.uniform(-0.3, 0.3),
                           rng.uniform(0.16, 0.32) if methylated else rng.uniform(0.22, 0.4)),
                "oedema": rng.uniform(1.1, 1.6) if methylated else rng.uniform(1.3, 1.9),
                "necrosis": (rng.uniform(0.4, 0.7) if rng.random() < (0.25 if methylated else 0.8) else 0.0),
                "scale": {s: rng.uniform(0.5, 2.5) for s in MRI_SEQUENCES}}
        for sequence in MRI_SEQUENCES:
            n, size = int(rng.integers(4, 9)), int(rng.choice([32, 48, 64], p=[0.5, 0.3, 0.2]))
            heights = np.linspace(-0.6, 0.6, n) + rng.uniform(-0.1, 0.1)
            downward = rng.random() < 0.5
            for k, z in enumerate(heights[::-1] if downward else heights):
                pixels = _brain_slice(case, sequence, float(z), size, rng)
                if MRI_FLAWED.get(case_id) == sequence or (k in (0, n - 1) and rng.random() < 0.2):
                    pixels = np.zeros_like(pixels)  # a blank slice, or the whole broken series
                part = "test" if case_id in held else "train"
                save_dicom(folder / part / case_id / sequence / f"Image-{k + 1}.dcm", pixels, modality="MR",
                           intercept=None, PatientID=case_id, SeriesDescription=sequence, InstanceNumber=k + 1,
                           ImagePositionPatient=[-120.0, -120.0, round(float(z) * 75, 2)],
                           PixelSpacing=[240 / size, 240 / size], SliceThickness=round(150 / n, 2))
    return test.reset_index(drop=True)


LAYOUTS = {
    "hms-harmful-brain-activity-classification": ("EEG and spectrogram parquets; vote counts; eeg_id repeats",
                                                  "kl_divergence", brain_activity),
    "h-and-m-personalized-fashion-recommendations": ("transactions; 12 ranked articles; answers only for buyers",
                                                     "map@12", fashion),
    "iwildcam-2019-fgvc6": ("camera-trap frames; whole locations held out; sample written with its index",
                            "f1_macro", iwildcam_2019),
    "rsna-2022-cervical-spine-fracture-detection": ("CT slice folders per study; 8 targets melted into row_ids",
                                                    "weighted_multilabel_logloss", cervical_spine),
    "rsna-breast-cancer-detection": ("mammogram DICOMs, several per breast; one prediction per breast",
                                     "probabilistic_f1", breast_cancer),
    "rsna-miccai-brain-tumor-radiogenomic-classification": ("four MR series of DICOM slices per case; zero-padded ids",
                                                            "auc", brain_tumour),
}
