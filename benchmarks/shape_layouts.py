"""Miniatures of competitions whose answers are not a label or number per row: a span of the input
text (tweet-sentiment-extraction), a value per position of a sequence (stanford-covid-vaccine). Same
file names, columns and submission shape as MLE-bench's prepare.py writes; generated rows whose
signal is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from layout_kit import hex_ids

FILLER = ("i the a to my is it and so was at for on just day going now today work home got this that with "
          "you me be have in of are about what all out when").split()
POSITIVE = "good great love happy nice awesome best fun thanks lovely".split()
NEGATIVE = "bad sad hate miss sick sorry tired awful worst hurts".split()


def _tweet(rng: np.random.Generator, sentiment: str) -> tuple[str, str]:
    """A text of filler words around a run of 1-3 words of its sentiment, and the span a person would select:
    that run (sometimes with a word beside it), or the whole text for neutral tweets and a few others."""
    words = list(rng.choice(FILLER, int(rng.integers(4, 18))))
    if sentiment == "neutral":
        return " ".join(words), " ".join(words)
    lexicon = POSITIVE if sentiment == "positive" else NEGATIVE
    run = list(rng.choice(lexicon, int(rng.integers(1, 4))))
    at = int(rng.integers(0, len(words) + 1))
    words[at:at] = run
    if rng.random() < 0.15:
        return " ".join(words), " ".join(words)
    start, stop = at - int(rng.random() < 0.2), at + len(run) + int(rng.random() < 0.2)
    return " ".join(words), " ".join(words[max(start, 0):stop])


def tweets(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """tweet-sentiment-extraction: train.csv (textID, text, selected_text, sentiment), test.csv without
    selected_text, sample_submission.csv (textID, selected_text empty); word Jaccard."""
    n, n_train = 3000, 2700
    sentiments = rng.choice(["neutral", "positive", "negative"], n, p=[0.41, 0.31, 0.28])
    pairs = [_tweet(rng, s) for s in sentiments]
    frame = pd.DataFrame({"textID": hex_ids(rng, n, 10), "text": [p[0] for p in pairs],
                          "selected_text": [p[1] for p in pairs], "sentiment": sentiments})
    folder.mkdir(parents=True, exist_ok=True)
    frame.iloc[:n_train].to_csv(folder / "train.csv", index=False)
    test = frame.iloc[n_train:]
    test.drop(columns=["selected_text"]).to_csv(folder / "test.csv", index=False)
    test[["textID"]].assign(selected_text="").to_csv(folder / "sample_submission.csv", index=False)
    return test[["textID", "selected_text"]]


DEGRADATION = ["reactivity", "deg_Mg_pH10", "deg_pH10", "deg_Mg_50C", "deg_50C"]


def _molecule(rng: np.random.Generator, length: int) -> tuple[str, str, str]:
    """A sequence of bases, a dot-bracket structure of a few stems, and its loop types (S paired, H hairpin,
    E ends)."""
    sequence = "".join(rng.choice(list("ACGU"), length))
    structure = ["."] * length
    at = int(rng.integers(2, 8))
    while at + 14 < length - 2:
        stem, loop = int(rng.integers(3, 7)), int(rng.integers(3, 7))
        if at + 2 * stem + loop >= length - 2:
            break
        structure[at:at + stem] = "(" * stem
        structure[at + stem + loop:at + 2 * stem + loop] = ")" * stem
        at += 2 * stem + loop + int(rng.integers(1, 6))
    structure = "".join(structure)
    loops = "".join("S" if c in "()" else "E" for c in structure)
    return sequence, structure, loops


def _degradation(rng: np.random.Generator, sequence: str, structure: str) -> np.ndarray:
    """Five per-position rates: unpaired bases degrade, A and G more, and a base after an unpaired one a little."""
    unpaired = np.array([c == "." for c in structure], dtype=float)
    purine = np.array([c in "AG" for c in sequence], dtype=float)
    base = 0.2 + 0.8 * unpaired * (0.6 + 0.6 * purine) + 0.2 * np.r_[0.0, unpaired[:-1]]
    scales = np.array([1.0, 1.1, 0.9, 1.3, 1.0])[:, None]
    return np.clip(base[None, :] * scales + rng.normal(0, 0.15, (5, len(sequence))), 0, None)


def molecules(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """stanford-covid-vaccine: train.json / test.json as JSON lines, one record per molecule (id, sequence,
    structure, predicted_loop_type, seq_length 68, seq_scored 48, the five rates as lists of the scored
    positions in train, with their *_error lists, signal_to_noise, SN_filter); sample_submission.csv has a
    row per `<id>_<position>` of every position, zeros. MCRMSE. The answers mark the unscored positions -1
    (MLE-bench's keep=False), the rows `agent grade` leaves out."""
    n, n_train, length, scored = 260, 200, 68, 48
    records = []
    for i in range(n):
        sequence, structure, loops = _molecule(rng, length)
        rates = _degradation(rng, sequence, structure)
        record = {"index": i, "id": f"id_{rng.bytes(5).hex()[:9]}", "sequence": sequence, "structure": structure,
                  "predicted_loop_type": loops, "signal_to_noise": float(rng.uniform(0.5, 10)),
                  "SN_filter": int(rng.random() < 0.8), "seq_length": length, "seq_scored": scored}
        for name, values in zip(DEGRADATION, rates):
            record[name] = [round(float(v), 4) for v in values[:scored]]
            record[f"{name}_error"] = [round(float(v), 4) for v in rng.uniform(0.05, 0.3, scored)]
        records.append(record)
    frame = pd.DataFrame(records)
    folder.mkdir(parents=True, exist_ok=True)
    frame.iloc[:n_train].to_json(folder / "train.json", orient="records", lines=True)
    test = frame.iloc[n_train:]
    inputs = ["index", "id", "sequence", "structure", "predicted_loop_type", "seq_length", "seq_scored"]
    test[inputs].assign(index=range(len(test))).to_json(folder / "test.json", orient="records", lines=True)
    answers = []
    for _, row in test.iterrows():
        for j in range(length):
            answers.append({"id_seqpos": f"{row['id']}_{j}",
                            **{c: str(row[c][j]) if j < scored else "-1" for c in DEGRADATION}})
    answers = pd.DataFrame(answers)
    answers.assign(**{c: 0.0 for c in DEGRADATION}).to_csv(folder / "sample_submission.csv", index=False)
    return answers


LAYOUTS = {
    "tweet-sentiment-extraction": ("a span of the text per row; word Jaccard", "jaccard_word", tweets),
    "stanford-covid-vaccine": ("JSON items; a row per <id>_<position>", "mcrmse", molecules),
}
