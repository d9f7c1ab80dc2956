"""The pieces a span selector is built from: candidate word windows of a text, what each window is
worth as the answer (its word Jaccard with the true span), and features that let a model rank them.

A span answer is a run of consecutive words of its source text (tweet-sentiment-extraction's
`selected_text` of `text`). Every window of up to `max_words` words is a candidate, and so is the
whole text, which is often the answer outright (neutral tweets). Words are compared lower-cased and
without surrounding punctuation, as a word-level metric sees them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pandas as pd

PUNCTUATION = re.compile(r"^\W+|\W+$")
SMOOTHING = 5.0  # occurrences a word's in-answer rate is shrunk towards the overall rate by


def tokens(text: str) -> list[str]:
    return str(text).split()


def normal(word: str) -> str:
    return PUNCTUATION.sub("", word.lower())


def candidates(texts: Sequence[str], max_words: int) -> pd.DataFrame:
    """One row per candidate: `row` (position of its text), `start`, `stop` (word positions, stop
    exclusive) and `n` (the text's words). The whole text is always a candidate."""
    row, start, stop, n_words = [], [], [], []
    for r, text in enumerate(texts):
        n = len(tokens(text))
        pairs = [(i, j) for i in range(n) for j in range(i + 1, min(n, i + max_words) + 1)]
        if n == 0 or n > max_words:
            pairs.append((0, n))
        row += [r] * len(pairs)
        start += [p[0] for p in pairs]
        stop += [p[1] for p in pairs]
        n_words += [n] * len(pairs)
    return pd.DataFrame({"row": row, "start": start, "stop": stop, "n": n_words})


def span_text(text: str, start: int, stop: int) -> str:
    """The candidate's words; the whole text as it is when the window covers it (or it has no words)."""
    words = tokens(text)
    if start == 0 and stop >= len(words):
        return str(text).strip() or str(text)
    return " ".join(words[start:stop])


def window_jaccard(texts: Sequence[str], answers: Sequence[str], cands: pd.DataFrame) -> np.ndarray:
    """Each candidate's word Jaccard with its row's true answer: the target a ranker learns."""
    words = [[w.lower() for w in tokens(t)] for t in texts]
    truth = [set(str(a).lower().split()) for a in answers]
    out = np.empty(len(cands))
    for k, (r, i, j) in enumerate(zip(cands["row"].to_numpy(), cands["start"].to_numpy(), cands["stop"].to_numpy())):
        window = set(words[r][i:j])
        union = len(window | truth[r])
        out[k] = len(window & truth[r]) / union if union else 0.0
    return out


class WordRates:
    """How often a word of the text is inside the answer, per condition (the row's categorical
    values, e.g. its sentiment): the polarity a span selector leans on. Shrunk towards the
    condition's overall rate, so a word seen twice says little."""

    def fit(self, texts: Sequence[str], answers: Sequence[str], conditions: Sequence[str]) -> WordRates:
        inside, seen = defaultdict(float), defaultdict(float)
        totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for text, answer, condition in zip(texts, answers, conditions):
            chosen = {normal(w) for w in tokens(answer)}
            for word in {normal(w) for w in tokens(text)}:
                hit = float(word in chosen)
                inside[condition, word] += hit
                seen[condition, word] += 1
                totals[condition][0] += hit
                totals[condition][1] += 1
        self.overall_ = {c: a / max(b, 1.0) for c, (a, b) in totals.items()}
        self.rates_ = {key: (inside[key] + SMOOTHING * self.overall_[key[0]]) / (seen[key] + SMOOTHING) for key in seen}
        return self

    def of(self, text: str, condition: str) -> np.ndarray:
        prior = self.overall_.get(condition, 0.5)
        return np.array([self.rates_.get((condition, normal(w)), prior) for w in tokens(text)], dtype=float)


def window_features(texts: Sequence[str], conditions: Sequence[str], cands: pd.DataFrame, rates: WordRates,
                    neighbours: bool = False) -> pd.DataFrame:
    """Position, length and word-rate features of each candidate (see the module doc)."""
    n = cands["n"].to_numpy(dtype=float)
    start, stop = cands["start"].to_numpy(), cands["stop"].to_numpy()
    length = stop - start
    inside_sum, inside_max, inside_min, before, after = (np.zeros(len(cands)) for _ in range(5))
    total = np.zeros(len(cands))
    for r, rows in cands.groupby("row").indices.items():
        word_rates = rates.of(texts[r], conditions[r])
        if not len(word_rates):
            continue
        cumulative = np.concatenate([[0.0], np.cumsum(word_rates)])
        i, j = start[rows], stop[rows]
        inside_sum[rows] = cumulative[j] - cumulative[i]
        total[rows] = cumulative[-1]
        inside_max[rows] = [word_rates[a:b].max() for a, b in zip(i, j)]
        inside_min[rows] = [word_rates[a:b].min() for a, b in zip(i, j)]
        if neighbours:
            padded = np.concatenate([[-1.0], word_rates, [-1.0]])
            before[rows], after[rows] = padded[i], padded[j + 1]
    frame = pd.DataFrame({
        "n": n, "start": start / np.maximum(n, 1), "stop": stop / np.maximum(n, 1), "length": length,
        "share": length / np.maximum(n, 1), "whole": (length == n).astype(float),
        "rate_mean": inside_sum / np.maximum(length, 1), "rate_sum": inside_sum, "rate_max": inside_max,
        "rate_min": inside_min, "rate_outside": (total - inside_sum) / np.maximum(n - length, 1),
    })
    if neighbours:
        frame["rate_before"], frame["rate_after"] = before, after
    return frame
