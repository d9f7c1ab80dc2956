"""Generate miniature competitions in the layouts of real MLE-bench ones, run `agent compete` on each, and
score the submission against the hidden answers.

Usage:
    python benchmarks/unseen_layouts.py [--out DIR] [--budget 60] [--only ventilator ...]

Each layout copies what makes a real competition unusual (its files, ids, targets, metric), filled
with generated rows whose signal is known, so a failure to read the layout, a dishonest validation
or a missing feature shows as a score far from the reachable one. The agent sees only the
competition folder; the answers stay beside it. Columns: score (the competition's metric on the
held-out rows), sample (the same metric for the sample submission's placeholder values), cv (the
agent's own estimate), seconds (wall time of the command), best (the node that made the submission).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from agent.grading import grade_submission
from competitions.registry import suite
from layout_kit import WORDS, sentence, split, zip_away
from detection_layouts import LAYOUTS as DETECTION_LAYOUTS
from dev_layouts import LAYOUTS as DEV_LAYOUTS
from high_layouts import LAYOUTS as HIGH_LAYOUTS
from high_rest_layouts import LAYOUTS as HIGH_REST_LAYOUTS
from lite_layouts import LAYOUTS as LITE_LAYOUTS
from medium_image_layouts import LAYOUTS as MEDIUM_IMAGE_LAYOUTS
from medium_media_layouts import LAYOUTS as MEDIUM_MEDIA_LAYOUTS
from medium_mixed_layouts import LAYOUTS as MEDIUM_MIXED_LAYOUTS
from medium_rest_layouts import LAYOUTS as MEDIUM_REST_LAYOUTS
from medium_table_layouts import LAYOUTS as MEDIUM_TABLE_LAYOUTS
from shape_layouts import LAYOUTS as SHAPE_LAYOUTS
from pipelines.errors import InputError
from pipelines.metrics import get_metric

# --- the layouts -------------------------------------------------------------------------------

def lmsys(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """lmsys-chatbot-arena: the class is one of three 0/1 columns (winner_model_a/b/tie); log loss."""
    n = 3000
    length_a, length_b = rng.integers(5, 60, n), rng.integers(5, 60, n)
    logits = np.c_[0.04 * (length_a - length_b), -0.04 * (length_a - length_b), np.full(n, -0.3)]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    winner = (p.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1)
    frame = pd.DataFrame({"id": rng.permutation(10**7)[:n], "prompt": [json.dumps([sentence(rng, 8)]) for _ in range(n)],
                          "response_a": [json.dumps([sentence(rng, int(k))]) for k in length_a],
                          "response_b": [json.dumps([sentence(rng, int(k))]) for k in length_b]})
    targets = ["winner_model_a", "winner_model_b", "winner_tie"]
    for j, column in enumerate(targets):
        frame[column] = (winner == j).astype(int)
    return split(frame, 2400, folder, "id", targets, {c: 1 / 3 for c in targets})


def essays(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """learning-agency-lab-automated-essay-scoring-2: a score 1-6 from the text; quadratic kappa."""
    n = 2500
    quality = rng.normal(size=n)
    texts = [sentence(rng, max(10, int(80 + 40 * q + rng.integers(0, 30))), lean=0.3 * q) for q in quality]
    score = np.clip(np.round(3.2 + 1.1 * quality + rng.normal(0, 0.5, n)), 1, 6).astype(int)
    frame = pd.DataFrame({"essay_id": [f"e{i:05d}" for i in rng.permutation(n)], "full_text": texts, "score": score})
    return split(frame, 2000, folder, "essay_id", ["score"], {"score": 3})


def ventilator(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """ventilator-pressure-prediction: 80 time steps per breath, test breaths unseen; the pressure
    integrates the inflow. MAE."""
    breaths = []
    for b in range(360):
        R, C = rng.choice([5, 20, 50]), rng.choice([10, 20, 50])
        t = np.cumsum(np.r_[0, rng.uniform(0.031, 0.035, 79)])
        u_out = (t > 1.0).astype(int)
        u_in = np.where(u_out == 1, rng.uniform(0, 5, 80), np.clip(rng.normal(10, 8) + np.cumsum(rng.normal(0, 2, 80)), 0, 100))
        volume = np.cumsum(u_in * np.r_[0, np.diff(t)] * (1 - u_out))
        pressure = 5 + volume / C * 3 + R * u_in / 40 * (1 - u_out) + rng.normal(0, 0.2, 80)
        breaths.append(pd.DataFrame({"breath_id": b + 1, "R": R, "C": C, "time_step": t, "u_in": u_in, "u_out": u_out,
                                     "pressure": pressure}))
    frame = pd.concat(breaths, ignore_index=True)
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return split(frame, 300 * 80, folder, "id", ["pressure"], {"pressure": 0.0})


def code_letters(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """tabular-playground-series-may-2022: a 10-letter code (f_27) whose letters carry signal; AUC."""
    n = 24000
    frame = pd.DataFrame({**{f"f_{i:02d}": rng.normal(size=n) for i in range(7)},
                          **{f"f_{i:02d}": rng.poisson(2.5, n) for i in range(7, 19)},
                          **{f"f_{i:02d}": rng.normal(0, 2, n) for i in range(19, 27)}})
    letters = rng.choice(list("ABCDEFGH"), size=(n, 10), p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05])
    frame["f_27"] = ["".join(row) for row in letters]
    frame["f_28"], frame["f_29"], frame["f_30"] = rng.normal(0, 240, n), rng.integers(0, 2, n), rng.integers(0, 3, n)
    distinct = np.array([len(set(row)) for row in letters])
    logit = (0.8 * frame["f_00"] * frame["f_01"] + 0.7 * (letters[:, 3] == "A") - 0.6 * (letters[:, 7] == "B")
             + 0.4 * (distinct - 5) + 0.3 * frame["f_30"] + 0.15 * (frame["f_08"] - 2.5) + 0.3 * frame["f_21"] * frame["f_29"] - 0.5)
    frame["target"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame.insert(0, "id", np.arange(n))
    return split(frame, 20000, folder, "id", ["target"], {"target": 0.5})


def forest_cover(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """tabular-playground-series-dec-2021: seven cover types from elevation, distances and 44 one-hot
    area and soil columns; accuracy. Seven classes of trees need many boosting rounds."""
    n = 30000
    elevation = rng.uniform(1800, 3900, n)
    wilderness, soil = rng.integers(0, 4, n), rng.integers(0, 40, n)
    frame = pd.DataFrame({"Id": np.arange(n), "Elevation": elevation.round(), "Aspect": rng.integers(0, 360, n),
                          "Slope": rng.integers(0, 50, n),
                          **{f"{name}_Distance_To_{to}": rng.integers(0, 3000, n)
                             for name, to in (("Horizontal", "Hydrology"), ("Vertical", "Hydrology"),
                                              ("Horizontal", "Roadways"), ("Horizontal", "Fire_Points"))},
                          **{f"Hillshade_{t}": rng.integers(0, 255, n) for t in ("9am", "Noon", "3pm")},
                          **{f"Wilderness_Area{i + 1}": (wilderness == i).astype(int) for i in range(4)},
                          **{f"Soil_Type{i + 1}": (soil == i).astype(int) for i in range(40)}})
    score = (elevation - 1800) / 300 + 0.8 * (wilderness == 2) - 0.6 * (soil % 5 == 0) \
        + frame["Horizontal_Distance_To_Roadways"] / 2000 + rng.normal(0, 0.5, n)
    frame["Cover_Type"] = np.clip(score, 0, 6.99).astype(int) + 1
    return split(frame, 24000, folder, "Id", ["Cover_Type"], {"Cover_Type": 2})


def taxi(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """new-york-city-taxi-fare-prediction: timestamps in UTC, the fare follows the distance between
    two coordinate pairs; the training table is labels.csv (beside GCP-Coupons-Instructions.rtf); RMSE."""
    n = 30000
    when = pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365 * 24 * 3600, n), unit="s")
    lat, lon = 40.75 + rng.normal(0, 0.04, n), -73.98 + rng.normal(0, 0.04, n)
    lat2, lon2 = lat + rng.normal(0, 0.03, n), lon + rng.normal(0, 0.03, n)
    km = np.hypot((lat2 - lat) * 111, (lon2 - lon) * 84)
    fare = 2.5 + 1.8 * km + 0.5 * when.hour.isin([17, 18, 19]) + rng.normal(0, 0.8, n)
    stamps = when.strftime("%Y-%m-%d %H:%M:%S")
    frame = pd.DataFrame({"key": [f"{s}.000000{i % 9 + 1}" for i, s in enumerate(stamps)], "fare_amount": fare.round(2),
                          "pickup_datetime": stamps + " UTC", "pickup_longitude": lon, "pickup_latitude": lat,
                          "dropoff_longitude": lon2, "dropoff_latitude": lat2, "passenger_count": rng.integers(1, 6, n)})
    answers = split(frame, 25000, folder, "key", ["fare_amount"], {"fare_amount": 11.35}, train_name="labels.csv")
    (folder / "GCP-Coupons-Instructions.rtf").write_text("{\\rtf1\\ansi Google Cloud Platform coupons: see the forum.}\n")
    return answers


def volcano(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """predict-volcanic-eruptions-ingv-oe: each row's sensor readings in a table of its own
    (`train/<segment_id>.csv`); the signal grows as the eruption nears. MAE."""
    ids, time_to_eruption = rng.choice(10**9, 500, replace=False), rng.uniform(1e5, 4e7, 500).astype(int)
    for i, (segment, t) in enumerate(zip(ids, time_to_eruption)):
        signal = rng.normal(0, 100 + 2e5 / (t / 1e5 + 1), (3000, 4)) * rng.uniform(0.5, 1.5, 4)
        signal[rng.random(signal.shape) < 0.01] = np.nan
        (folder / ("train" if i < 400 else "test")).mkdir(parents=True, exist_ok=True)
        pd.DataFrame(signal.round(0), columns=[f"sensor_{k}" for k in range(1, 5)]).to_csv(
            folder / ("train" if i < 400 else "test") / f"{segment}.csv", index=False)
    frame = pd.DataFrame({"segment_id": ids, "time_to_eruption": time_to_eruption})
    frame.iloc[:400].to_csv(folder / "train.csv", index=False)
    frame.iloc[400:].assign(time_to_eruption=0).to_csv(folder / "sample_submission.csv", index=False)
    return frame.iloc[400:]


def insults(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """detecting-insults-in-social-commentary: no id column; the sample is Insult, Date, Comment, and a few
    comments occur twice in test, so rows are matched by their order. AUC."""
    n = 3000
    insult = rng.random(n) < 0.27
    words = lambda: " ".join(rng.choice(WORDS, rng.integers(3, 25)))  # noqa: E731
    comments = [f'"{words()}{" you " + rng.choice(["idiot", "fool"]) if bad and rng.random() < 0.8 else ""}\\n"'
                for bad in insult]
    dates = [f"2012{rng.integers(1, 13):02d}{rng.integers(1, 28):02d}{rng.integers(0, 24):02d}0000Z"
             if rng.random() < 0.8 else "" for _ in range(n)]
    frame = pd.DataFrame({"Insult": insult.astype(int), "Date": dates, "Comment": comments})
    frame = frame.drop_duplicates("Comment").reset_index(drop=True)
    folder.mkdir(parents=True, exist_ok=True)
    frame.iloc[:2400].to_csv(folder / "train.csv", index=False)
    test = pd.concat([frame.iloc[2400:], frame.iloc[2400:2410]], ignore_index=True)
    test[["Date", "Comment"]].to_csv(folder / "test.csv", index=False)
    test.assign(Insult=0).to_csv(folder / "sample_submission_null.csv", index=False)
    return test[["Insult", "Date", "Comment"]].assign(Usage="PrivateTest")  # as test_with_solutions.csv


def pizza(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """random-acts-of-pizza: JSON records (train.json, and the same in train.zip) with the real fields: the
    requester's history at the request, and in train only what was known later (`*_at_retrieval`, the
    flair, the edited text). AUC."""
    records = []
    for i in range(2000):
        karma, age = int(rng.integers(0, 5000)), float(rng.exponential(300))
        posts_raop = int(rng.poisson(0.3))
        got = bool(rng.random() < 1 / (1 + np.exp(-(-1.4 + 0.0003 * karma + 0.5 * (i % 3 == 0) + 0.6 * posts_raop
                                                      + 0.001 * age))))
        subreddits = ["pizza", "AskReddit", "funny", "food"][: i % 3 + int(rng.integers(0, 2))]
        request = {"giver_username_if_known": "N/A", "request_id": f"t3_{i:05x}",
                   "request_text_edit_aware": sentence(rng, int(rng.integers(10, 80))) + (" jobless rent" if i % 3 == 0 else ""),
                   "request_title": "[Request] " + sentence(rng, 6),
                   "requester_account_age_in_days_at_request": round(age, 4),
                   "requester_days_since_first_post_on_raop_at_request": round(float(rng.exponential(20)) * (posts_raop > 0), 4),
                   "requester_number_of_comments_at_request": int(rng.poisson(60)),
                   "requester_number_of_comments_in_raop_at_request": int(rng.poisson(0.5)),
                   "requester_number_of_posts_at_request": int(rng.poisson(20)),
                   "requester_number_of_posts_on_raop_at_request": posts_raop,
                   "requester_number_of_subreddits_at_request": len(subreddits),
                   "requester_subreddits_at_request": subreddits,
                   "requester_upvotes_minus_downvotes_at_request": karma,
                   "requester_upvotes_plus_downvotes_at_request": karma + 2 * int(rng.integers(0, 2000)),
                   "requester_username": f"user{rng.integers(10**6)}",
                   "unix_timestamp_of_request": 1.3e9 + i * 3600.0, "unix_timestamp_of_request_utc": 1.3e9 + i * 3600.0 - 28800}
        later = {"number_of_downvotes_of_request_at_retrieval": int(rng.poisson(2)),
                 "number_of_upvotes_of_request_at_retrieval": int(rng.poisson(4)), "post_was_edited": bool(rng.random() < 0.1),
                 "request_number_of_comments_at_retrieval": int(rng.poisson(1 + 4 * got)),
                 "request_text": request["request_text_edit_aware"],
                 "requester_account_age_in_days_at_retrieval": round(age + 500, 4),
                 "requester_received_pizza": got, "requester_user_flair": "shroom" if got else None}
        records.append((request, later))
    train = [{**request, **later} for request, later in records[:1600]]
    test = [request for request, _ in records[1600:]]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.json").write_text(json.dumps([dict(sorted(r.items())) for r in train], indent=4))
    (folder / "test.json").write_text(json.dumps(test, indent=4))
    for name in ("train", "test"):  # prepare.py ships each file twice: plain and as <name>.zip
        shutil.copy(folder / f"{name}.json", folder / f"{name}.copy")
        zip_away(folder / f"{name}.json", folder / f"{name}.zip")
        (folder / f"{name}.copy").rename(folder / f"{name}.json")
    ids = [r["request_id"] for r in test]
    pd.DataFrame({"request_id": ids, "requester_received_pizza": 0}).to_csv(folder / "sampleSubmission.csv", index=False)
    return pd.DataFrame({"request_id": ids, "requester_received_pizza": [int(later["requester_received_pizza"])
                                                                         for _, later in records[1600:]]})


def toxicity(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """jigsaw-unintended-bias-in-toxicity-classification: the target is a toxicity share beside
    annotations test lacks, the sample asks for `prediction`; AUC of toxic (share >= 0.5) comments."""
    n = 3000
    rude, kind = ["idiot", "fool", "stupid", "awful"], ["nice", "thanks", "great", "kind", "lovely", "good"]
    counts = rng.integers(0, 9, n)
    texts = [" ".join(rng.permutation(list(rng.choice(rude, k)) + list(rng.choice(kind, 8 - k)))) for k in counts]
    share = np.clip(counts / 8 + rng.normal(0, 0.15, n), 0, 1).round(3)
    frame = pd.DataFrame({"id": np.arange(n), "target": share, "comment_text": texts,
                          "severe_toxicity": (share / 3).round(3), "obscene": (share / 4).round(3),
                          "male": rng.random(n) < 0.2, "likes": rng.integers(0, 5, n)})
    folder.mkdir(parents=True, exist_ok=True)
    frame.iloc[:2400].to_csv(folder / "train.csv", index=False)
    frame.iloc[2400:][["id", "comment_text"]].to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"id": frame["id"].iloc[2400:], "prediction": 0.0}).to_csv(folder / "sample_submission.csv", index=False)
    return pd.DataFrame({"id": frame["id"].iloc[2400:], "prediction": (share[2400:] >= 0.5).astype(int)})


def conductors(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """nomad2018-predict-transparent-conductors: two targets from the composition and lattice, with
    each row's atom positions in a file of its own (`train/<id>/geometry.xyz`); mean column-wise RMSLE."""
    n = 2400
    al = rng.dirichlet([1, 1, 1], n)
    lattice = rng.uniform(3, 25, (n, 3))
    frame = pd.DataFrame({"id": np.arange(1, n + 1), "spacegroup": rng.choice([12, 33, 167, 194, 206, 227], n),
                          "number_of_total_atoms": rng.choice([10, 20, 30, 40, 60, 80], n),
                          "percent_atom_al": al[:, 0].round(4), "percent_atom_ga": al[:, 1].round(4),
                          "percent_atom_in": al[:, 2].round(4),
                          **{f"lattice_vector_{k}_ang": lattice[:, k - 1].round(4) for k in (1, 2, 3)},
                          **{f"lattice_angle_{a}_degree": rng.normal(90, 5, n).round(3) for a in ("alpha", "beta", "gamma")}})
    formation = np.clip(0.05 + 0.25 * al[:, 0] * al[:, 2] + 0.002 * (frame.spacegroup % 7) + rng.normal(0, 0.02, n), 0, None)
    bandgap = np.clip(1.0 + 3.5 * al[:, 0] - 1.0 * al[:, 2] + 0.02 * lattice[:, 0] / 10 + rng.normal(0, 0.15, n), 0, None)
    frame["formation_energy_ev_natom"], frame["bandgap_energy_ev"] = formation.round(4), bandgap.round(4)
    for i, row in frame.iterrows():
        part = "train" if i < 2000 else "test"
        atoms = rng.uniform(0, 10, (int(row.number_of_total_atoms), 3))
        lines = ["#=======================================================", "#Created using the Atomic Simulation Environment (ASE)",
                 *(f"lattice_vector {row[f'lattice_vector_{k}_ang']:.4f} 0.0 0.0 " for k in (1, 2, 3)),
                 *(f"atom {x:.6f} {y:.6f} {z:.6f} {rng.choice(['Al', 'Ga', 'In', 'O'])}" for x, y, z in atoms)]
        (folder / part / str(row.id)).mkdir(parents=True, exist_ok=True)
        (folder / part / str(row.id) / "geometry.xyz").write_text("\n".join(lines) + "\n")
    targets = ["formation_energy_ev_natom", "bandgap_energy_ev"]
    return split(frame, 2000, folder, "id", targets, {"formation_energy_ev_natom": 0.1779, "bandgap_energy_ev": 1.8892})


SYNONYMS = [tuple(pair.split("/")) for pair in """car/automobile big/large small/tiny fast/quick begin/start
    buy/purchase help/assist show/display hide/conceal rich/wealthy smart/intelligent angry/furious happy/glad
    shut/close stone/rock road/street house/home film/movie gift/present error/mistake answer/reply ask/inquire
    brave/courageous calm/peaceful cold/chilly dirty/filthy easy/simple end/finish famous/renowned fix/repair
    funny/humorous give/donate hard/difficult hate/detest hurry/rush idea/notion job/occupation kid/child
    leave/depart little/petite look/glance loud/noisy mend/patch near/nearby odd/strange old/ancient part/portion
    polite/courteous pretty/beautiful quiet/silent rare/scarce right/correct sick/ill shout/yell sleep/slumber
    speak/talk stop/halt story/tale strong/powerful sure/certain tired/weary trip/journey true/factual
    ugly/hideous use/employ vacant/empty wrong/incorrect yearly/annual boat/ship doctor/physician
    garbage/trash jump/leap kill/slay enormous/huge maybe/perhaps money/cash""".split()]


def phrases(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """us-patent-phrase-to-phrase-matching: how alike an anchor and a target phrase are, within a patent
    class (`context`), scored 0-1 in steps of 0.25; Pearson correlation. A target keeps some of the
    anchor's words, or says the same in synonyms (no word shared), or is unrelated."""
    n = 4000
    rows = []
    for i in range(n):
        picked = rng.choice(len(SYNONYMS), 2, replace=False)
        anchor = [SYNONYMS[k][0] for k in picked]
        others = [SYNONYMS[k][0] for k in rng.choice(len(SYNONYMS), 2)]
        kind = rng.integers(4)  # 0 unrelated, 1 one word kept, 2 one synonym, 3 two synonyms
        target = (others if kind == 0 else [anchor[0], others[1]] if kind == 1
                  else [SYNONYMS[picked[0]][1], others[1]] if kind == 2 else [SYNONYMS[k][1] for k in picked])
        score = min(1.0, [0.0, 0.5, 0.5, 1.0][kind] + 0.25 * (rng.random() < 0.15))
        rows.append({"id": rng.bytes(7).hex() + f"{i:04x}", "anchor": " ".join(anchor), "target": " ".join(target),
                     "context": f"{'ABCDEFGH'[rng.integers(8)]}{rng.integers(1, 70):02d}", "score": score})
    return split(pd.DataFrame(rows), 3200, folder, "id", ["score"], {"score": 0.0})


def plants(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """plant-pathology-2020-fgvc7: leaf photographs (`images/Train_0.jpg`, `images/Test_0.jpg`), four 0/1
    columns of which one is set; the mean of the columns' AUCs."""
    from PIL import Image

    n, n_train = 600, 480
    classes = ["healthy", "multiple_diseases", "rust", "scab"]
    label = rng.choice(4, n, p=[0.3, 0.1, 0.3, 0.3])
    rust, scab = np.isin(label, [1, 2]), np.isin(label, [1, 3])
    (folder / "images").mkdir(parents=True, exist_ok=True)
    names = [f"Train_{i}" if i < n_train else f"Test_{i - n_train}" for i in range(n)]
    for i, name in enumerate(names):  # a leaf under changing light; rust leaves orange spots, scab grey ones
        pixels = rng.normal(0, 30, (48, 64, 3)) + np.array([60, 140, 50]) * rng.uniform(0.6, 1.4)
        for ill, colour in ((rust[i], [190, 110, 40]), (scab[i], [100, 100, 95])):
            spots = rng.random((48, 64)) < (rng.uniform(0.005, 0.04) if ill else 0.003)
            pixels[spots] = colour
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / "images" / f"{name}.jpg", quality=90)
    frame = pd.DataFrame({"image_id": names, **{c: (label == j).astype(int) for j, c in enumerate(classes)}})
    folder.mkdir(parents=True, exist_ok=True)
    frame.iloc[:n_train].to_csv(folder / "train.csv", index=False)
    frame.iloc[n_train:][["image_id"]].to_csv(folder / "test.csv", index=False)
    frame.iloc[n_train:].assign(**{c: 0.25 for c in classes}).to_csv(folder / "sample_submission.csv", index=False)
    return frame.iloc[n_train:]


def breeds(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """dog-breed-identification: the labels are in `labels.csv` (id, breed), the images in `train/<id>.jpg`
    and `test/<id>.jpg`, and the sample asks for one probability column per breed; multiclass log loss."""
    from PIL import Image

    breeds_ = ["beagle", "boxer", "chihuahua", "collie", "pug", "whippet"]
    n, n_train = 600, 480
    label = rng.integers(0, len(breeds_), n)
    ids = [rng.bytes(8).hex() + f"{i:04x}" for i in range(n)]
    for i, (name, k) in enumerate(zip(ids, label)):
        part = "train" if i < n_train else "test"
        (folder / part).mkdir(parents=True, exist_ok=True)
        shade = (60 + 12 * np.array([k % 3, k // 3, (k * 2) % 5])) * rng.uniform(0.75, 1.25)  # coat colour, light
        pixels = rng.normal(0, 30, (56, 56, 3)) + shade
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / part / f"{name}.jpg", quality=90)
    pd.DataFrame({"id": ids[:n_train], "breed": [breeds_[k] for k in label[:n_train]]}).to_csv(folder / "labels.csv", index=False)
    pd.DataFrame({"id": ids[n_train:], **{b: 1 / len(breeds_) for b in breeds_}}).to_csv(
        folder / "sample_submission.csv", index=False)
    return pd.DataFrame({"id": ids[n_train:], **{b: (label[n_train:] == j).astype(int) for j, b in enumerate(breeds_)}})


LAYOUTS: dict[str, tuple[str, str, Callable[[Path, np.random.Generator], pd.DataFrame]]] = {
    "lmsys-chatbot-arena": ("one 0/1 column per class", "logloss_multiclass", lmsys),
    "learning-agency-lab-automated-essay-scoring-2": ("ordinal score, kappa", "qwk", essays),
    "ventilator-pressure-prediction": ("sequences in unseen groups", "mae", ventilator),
    "tabular-playground-series-may-2022": ("a fixed-length letter code", "auc", code_letters),
    "tabular-playground-series-dec-2021": ("seven classes, many rounds", "accuracy", forest_cover),
    "new-york-city-taxi-fare-prediction": ("UTC timestamps, coordinates", "rmse", taxi),
    "predict-volcanic-eruptions-ingv-oe": ("a table per row", "mae", volcano),
    "detecting-insults-in-social-commentary": ("no id; carried columns", "auc", insults),
    "random-acts-of-pizza": ("JSON; train-only fields", "auc", pizza),
    "jigsaw-unintended-bias-in-toxicity-classification": ("target among train-only annotations", "auc", toxicity),
    "nomad2018-predict-transparent-conductors": ("two targets; a file per row", "mcrmsle", conductors),
    "us-patent-phrase-to-phrase-matching": ("phrase pairs; Pearson", "pearson", phrases),
    "plant-pathology-2020-fgvc7": ("images; four 0/1 columns", "auc_mean_columnwise", plants),
    "dog-breed-identification": ("labels.csv; a column per class", "logloss_multiclass", breeds),
}
UNSEEN = (*LAYOUTS, *SHAPE_LAYOUTS)


LAYOUTS.update(LITE_LAYOUTS)
LAYOUTS.update(SHAPE_LAYOUTS)
LAYOUTS.update(MEDIUM_MEDIA_LAYOUTS)
LAYOUTS.update(MEDIUM_IMAGE_LAYOUTS)
LAYOUTS.update(MEDIUM_MIXED_LAYOUTS)
LAYOUTS.update(MEDIUM_TABLE_LAYOUTS)
LAYOUTS.update(HIGH_LAYOUTS)
LAYOUTS.update(MEDIUM_REST_LAYOUTS)
LAYOUTS.update(HIGH_REST_LAYOUTS)
LAYOUTS.update(DEV_LAYOUTS)
LAYOUTS.update(DETECTION_LAYOUTS)


def suite_layouts(name: str) -> list[str]:
    """`unseen`: the layouts this script was written for; `lite` (or any MLE-bench split): those of its
    competitions that have a layout here (the others are named on stderr)."""
    if name == "unseen":
        return list(UNSEEN)
    wanted = suite(name)
    if missing := [slug for slug in wanted if slug not in LAYOUTS]:
        print(f"no layout for {len(missing)} of {len(wanted)}: {', '.join(missing)}", file=sys.stderr)
    return [slug for slug in wanted if slug in LAYOUTS]


def score_file(submission: Path, answers: pd.DataFrame, metric_name: str) -> float:
    """The metric on the rows of `answers` (its first column names them), matched by that column."""
    key, targets = answers.columns[0], list(answers.columns[1:])
    predicted = pd.read_csv(submission)
    merged = answers.merge(predicted, on=key, how="left", suffixes=("", "_predicted"), validate="one_to_one")
    y_pred = merged[[f"{c}_predicted" for c in targets]].to_numpy(dtype=float)
    y_true = merged[targets].to_numpy(dtype=float)
    if len(targets) == 1:
        y_true, y_pred = y_true[:, 0], y_pred[:, 0]
    return get_metric(metric_name)(y_true, y_pred)


def grade(layout: Path, submission: Path, metric_name: str) -> tuple[bool | None, float | None, str]:
    """(valid, score, why not) by the project's `agent grade`; where it cannot grade the layout at all, by
    matching the answers' first column (valid then unknown)."""
    try:
        report = grade_submission(layout, submission)
    except InputError as exc:
        problem: str | None = str(exc)
    else:  # a metric needing more than these answers hold (jigsaw's identity columns) is scored by the layout's
        problem = "; ".join(report.errors) if any("could not be computed" in e for e in report.errors) else None
        if problem is None:
            return report.valid, report.score, "; ".join(report.errors)
    answers = pd.read_csv(layout / "private" / "answers.csv")
    try:
        return None, score_file(submission, answers, metric_name), f"agent grade: {problem}"
    except Exception as fallback:  # noqa: BLE001 - a benchmark row, not a crash
        return None, None, f"agent grade: {problem}; fallback: {fallback}"


def sample_copy(public: Path, into: Path) -> Path | None:
    """The sample submission as a plain CSV (some competitions ship it only zipped, or keep it private);
    None when it is only in an archive pandas cannot read (7z)."""
    found = sorted(p for folder in (public, public.parent / "private") for p in folder.iterdir()
                   if "sample" in p.name.lower() and p.name.lower().endswith((".csv", ".csv.zip")))
    if not found:
        return None
    into.mkdir(parents=True, exist_ok=True)
    pd.read_csv(found[0], dtype=str, keep_default_na=False).to_csv(into / "sample.csv", index=False)
    return into / "sample.csv"


def better(score: float | None, baseline: float | None, metric_name: str) -> bool | None:
    if score is None or baseline is None:
        return None
    return score < baseline if not get_metric(metric_name).greater_is_better else score > baseline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/unseen-layouts"))
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--suite", default="unseen", help="unseen (default), lite or another MLE-bench split")
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args(argv)
    rows = []
    for slug in suite_layouts(args.suite):
        what, metric_name, make = LAYOUTS[slug]
        if args.only and not any(o in slug for o in args.only):
            continue
        layout, run = args.out / slug, args.out / "runs" / slug
        public, answers_file = layout / "public", layout / "private" / "answers.csv"
        if not answers_file.exists():  # a layout half written by an interrupted run is written again
            shutil.rmtree(layout, ignore_errors=True)
            answers = make(public, np.random.default_rng(0))
            answers_file.parent.mkdir(parents=True, exist_ok=True)  # a layout may keep its sample there
            answers.to_csv(answers_file, index=False)
        shutil.rmtree(run, ignore_errors=True)  # a run folder left from before would be refused, its old file scored
        command = [sys.executable, "-m", "agent.cli", "compete", str(public), "--time-budget", str(args.budget),
                   "--no-submit", "--run-dir", str(run)]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        (run.parent / f"{slug}.log").write_text(done.stdout + done.stderr)
        summary = json.loads((run / "summary.json").read_text()) if (run / "summary.json").exists() else {}
        best = summary.get("best") or {}
        submission = run / "submission.csv"
        valid, score, why = grade(layout, submission, metric_name) if submission.exists() else (False, None, "no submission")
        sample = sample_copy(public, run / "baseline")
        _, baseline, _ = grade(layout, sample, metric_name) if sample else (None, None, "")
        last_line = (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
        rows.append({"layout": slug, "tests": what, "metric": metric_name, "valid": valid,
                     "score": None if score is None else round(score, 4),
                     "baseline": None if baseline is None else round(baseline, 4),
                     "better": better(score, baseline, metric_name), "cv": best.get("score"), "seconds": round(seconds, 1),
                     "best": best.get("title"), "rc": done.returncode,
                     "why": "; ".join(w for w in (why, last_line[0][:300] if done.returncode else "") if w)})
        print(json.dumps(rows[-1]), flush=True)
    print("| " + " | ".join(rows[0]) + " |" if rows else "no layout matched")
    print("|" + " --- |" * len(rows[0]) if rows else "")
    for row in rows:
        print("| " + " | ".join(str(v) for v in row.values()) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
