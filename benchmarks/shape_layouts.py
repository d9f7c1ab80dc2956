"""Miniatures of competitions whose answers are not a label or number per row: a span of the input
text (tweet-sentiment-extraction). Same file names, columns and submission shape as MLE-bench's
prepare.py writes; generated rows whose signal is known."""

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


LAYOUTS = {
    "tweet-sentiment-extraction": ("a span of the text per row; word Jaccard", "jaccard_word", tweets),
}
