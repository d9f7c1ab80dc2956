"""Feature building blocks that solutions import. Each fits on `train` only and transforms both.

Functions take and return DataFrames (or sparse matrices for text), so a solution reads as a
short list of decisions: which columns, which encoding. Blocks that only count values (counts,
group sizes, group means) use the inputs of train and test together, as Kagglers do: that uses
no target, and the harness's `test` holds the validation rows without their target.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from pipelines.spec import CompetitionSpec
from pipelines.tables import parse_datetimes

# A categorical with more distinct values than this is not given to models as a category:
# trees overfit and slow down on it; its parts, tokens, counts and target statistics are used instead.
MAX_CATEGORY_LEVELS = 50
MAX_GROUP_CELLS = 100_000_000  # values that the group blocks may derive over train and test rows together

_DELIMITERS = r"[/_|:;]"
_WORD = re.compile(r"[a-z0-9]+")


def join_blocks(X: pd.DataFrame, X_test: pd.DataFrame, block: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """New (X, X_test) with a block's columns added (the inputs are left unchanged); the block's
    rows are taken in the frames' order, whatever its index, and dtypes (categories) are kept."""
    extra, extra_test = block
    return (pd.concat([X, extra.set_index(X.index)], axis=1),
            pd.concat([X_test, extra_test.set_index(X_test.index)], axis=1))


def _empty(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame(index=train.index), pd.DataFrame(index=test.index)


def _as_text(values: pd.Series) -> pd.Series:
    """Values as strings with missing kept missing (so 'nan' is never a level)."""
    return values.astype(object).map(lambda v: None if pd.isna(v) else str(v))


# --- numbers and categories ----------------------------------------------------------------------

def numbers(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Numeric columns as float64 (text that does not parse becomes NaN); single-precision ones, as arrays of
    measurements come, stay so: a wide table's test rows would take twice the memory."""
    single = [c for c in columns if train[c].dtype == np.float32 and test[c].dtype == np.float32]

    def to_float(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({c: frame[c] if c in single else pd.to_numeric(frame[c], errors="coerce").astype("float64")
                             for c in columns}, index=frame.index)

    return to_float(train), to_float(test)


def categories(train: pd.Series, test: pd.Series, min_count: int = 1) -> tuple[pd.Series, pd.Series]:
    """Pandas categoricals with the categories seen in train (at least `min_count` times); others become NaN."""
    train_text, test_text = _as_text(train), _as_text(test)
    counts = train_text.value_counts()
    levels = sorted(counts[counts >= min_count].index)
    dtype = pd.CategoricalDtype(levels)
    known = lambda s: s.where(s.isin(levels))  # noqa: E731  (unseen and rare values become missing)
    return known(train_text).astype(dtype), known(test_text).astype(dtype)


def is_high_cardinality(values: pd.Series) -> bool:
    return values.nunique(dropna=True) > MAX_CATEGORY_LEVELS


def low_cardinality_categories(train: pd.DataFrame, test: pd.DataFrame, columns: list[str],
                               min_count: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Native categoricals for the columns with few levels; rare levels become missing."""
    X, X_test = _empty(train, test)
    for col in columns:
        if not is_high_cardinality(train[col]):
            a, b = categories(train[col], test[col], min_count)
            if len(a.cat.categories) > 1:
                X[col], X_test[col] = a, b
    return X, X_test


def count_encoding(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How often each value occurs in train and test together: group sizes (shared tickets, families)."""
    X, X_test = _empty(train, test)
    for col in columns:
        both = pd.concat([_as_text(train[col]), _as_text(test[col])], ignore_index=True)
        counts = both.value_counts()
        X[f"{col}_count"] = _as_text(train[col]).map(counts).astype("float64").to_numpy()
        X_test[f"{col}_count"] = _as_text(test[col]).map(counts).astype("float64").to_numpy()
    return X, X_test


def missing_indicators(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """1.0 where a value is missing, for columns with missing values in train; plus missing values per row."""
    X, X_test = _empty(train, test)
    for col in columns:
        if train[col].isna().any():
            X[f"{col}_missing"] = train[col].isna().astype("float64")
            X_test[f"{col}_missing"] = test[col].isna().astype("float64")
    if columns:
        X["row_missing"] = train[columns].isna().sum(axis=1).astype("float64")
        X_test["row_missing"] = test[columns].isna().sum(axis=1).astype("float64")
    return X, X_test


def row_statistics(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sum, mean, spread and zero count across the numeric columns of a row (totals trees cannot add up)."""
    X, X_test = _empty(train, test)
    if len(columns) < 2:
        return X, X_test
    for out, frame in ((X, train), (X_test, test)):
        values = frame[columns].apply(pd.to_numeric, errors="coerce")
        out["row_sum"] = values.sum(axis=1)
        out["row_mean"] = values.mean(axis=1)
        out["row_std"] = values.std(axis=1)
        out["row_zeros"] = (values == 0).sum(axis=1).astype("float64")
    return X, X_test


# --- strings with structure: codes, names, tickets ----------------------------------------------

def _consistent_parts(values: pd.Series) -> int:
    """The number of delimiter-separated parts most values have, when nearly all have it; else 0."""
    present = values.dropna().astype(str)
    if present.empty:
        return 0
    n_parts = present.str.split(_DELIMITERS).str.len()
    typical = int(n_parts.mode().iloc[0])
    return typical if typical >= 2 and (n_parts == typical).mean() >= 0.95 else 0


def string_parts(train: pd.Series, test: pd.Series, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`B/0/P` -> deck, number, side: each part as a number, a category, or a count when it has many levels."""
    X, X_test = pd.DataFrame(index=train.index), pd.DataFrame(index=test.index)
    n = _consistent_parts(train)
    for i in range(n):
        part = lambda s: _as_text(s).str.split(_DELIMITERS).str[i]  # noqa: E731
        a, b = part(train), part(test)
        column = f"{name}_part{i}"
        as_number = pd.to_numeric(a, errors="coerce")
        if as_number.notna().sum() >= 0.95 * a.notna().sum():
            X[column], X_test[column] = as_number.astype("float64"), pd.to_numeric(b, errors="coerce").astype("float64")
        elif is_high_cardinality(a):
            counts = pd.concat([a, b]).value_counts()
            X[column + "_count"], X_test[column + "_count"] = a.map(counts).astype("float64"), b.map(counts).astype("float64")
        else:
            X[column], X_test[column] = categories(a, b, min_count=3)
    return X, X_test


def _code_length(values: pd.Series, longest: int = 20, alphabet: int = 40) -> int:
    """The length nearly all values share when they are codes of letters and digits from a small
    alphabet (`ABBCADEBAA`, a gene, a seat code); else 0."""
    present = values.dropna().astype(str)
    if present.empty or present.str.contains(r"\s", regex=True).any():
        return 0
    lengths = present.str.len()
    typical = int(lengths.mode().iloc[0])
    if not 2 <= typical <= longest or (lengths == typical).mean() < 0.95:
        return 0
    return typical if len(set("".join(present.head(5000)))) <= alphabet else 0


def code_characters(train: pd.Series, test: pd.Series, name: str, length: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A fixed-length code read character by character: each position as a category, and how many
    distinct characters the code uses. What a code means is in its letters, not in the whole string,
    which is nearly always unique."""
    a, b = _as_text(train), _as_text(test)
    X, X_test = pd.DataFrame(index=train.index), pd.DataFrame(index=test.index)
    for i in range(length):
        X[f"{name}_char{i}"], X_test[f"{name}_char{i}"] = categories(a.str[i], b.str[i], min_count=3)
    distinct = lambda s: s.map(lambda v: float(len(set(v))) if isinstance(v, str) else np.nan)  # noqa: E731
    X[f"{name}_distinct_chars"], X_test[f"{name}_distinct_chars"] = distinct(a), distinct(b)
    return X, X_test


def frequent_tokens(train: pd.Series, test: pd.Series, name: str, min_share: float = 0.02,
                    max_share: float = 0.6, max_tokens: int = 20) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Indicators of the words that recur in a free-form string (titles in names, prefixes of codes)."""
    tokens_of = lambda s: s.fillna("").astype(str).str.lower().map(lambda t: set(_WORD.findall(t)))  # noqa: E731
    a, b = tokens_of(train), tokens_of(test)
    share = pd.Series([t for row in a for t in row]).value_counts() / max(len(a), 1)
    keep = share[(share >= min_share) & (share <= max_share)].index[:max_tokens]
    X, X_test = pd.DataFrame(index=train.index), pd.DataFrame(index=test.index)
    for token in keep:
        X[f"{name}_has_{token}"] = a.map(lambda row: token in row).astype("float64")
        X_test[f"{name}_has_{token}"] = b.map(lambda row: token in row).astype("float64")
    return X, X_test


def high_cardinality(train: pd.Series, test: pd.Series, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a model can use of a column with many distinct values.

    Structured codes (`B/0/P`) are split into their parts, fixed-length codes (`ABBCADEBAA`) into
    their characters; free-form strings give their recurring words, the number they contain, their
    first character when short, and how often their first and last words occur (surnames, ticket
    prefixes).
    """
    if _consistent_parts(train):
        return string_parts(train, test, name)
    if length := _code_length(train):
        return code_characters(train, test, name, length)
    X, X_test = frequent_tokens(train, test, name)
    a, b = _as_text(train), _as_text(test)
    if a.str.contains(r"\d", na=False).mean() >= 0.5:
        number = lambda s: pd.to_numeric(s.str.extract(r"(\d+)\D*$", expand=False), errors="coerce")  # noqa: E731
        X[f"{name}_number"], X_test[f"{name}_number"] = number(a).astype("float64"), number(b).astype("float64")
    words = a.dropna().str.split().str.len()
    if len(words) and words.mean() <= 1.5:
        first = lambda s: s.str[:1]  # noqa: E731
        if 1 < first(a).nunique() <= 30:
            X[f"{name}_first_char"], X_test[f"{name}_first_char"] = categories(first(a), first(b), min_count=3)
    elif len(words) and words.mean() >= 2:
        for which, pick in (("first", 0), ("last", -1)):
            word = lambda s: s.str.split().str[pick]  # noqa: E731
            counts = pd.concat([word(a), word(b)]).value_counts()
            X[f"{name}_{which}_word_count"] = word(a).map(counts).astype("float64")
            X_test[f"{name}_{which}_word_count"] = word(b).map(counts).astype("float64")
    return X, X_test


def composite_id_group(train: pd.Series, test: pd.Series, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ids like `0042_01` name a group (a booking, a session): its size and the row's place in it.

    Empty when the id has no repeated leading part, or test's ids are not made the same way (herbarium-2022's
    train ids `<species>__<n>` beside test ids `17`: the group would be the class itself).
    """
    if _consistent_parts(train) < 2 or _consistent_parts(test) != _consistent_parts(train):
        return pd.DataFrame(index=train.index), pd.DataFrame(index=test.index)
    lead = lambda s: _as_text(s).str.split(_DELIMITERS).str[0]  # noqa: E731
    a, b = lead(train), lead(test)
    counts = pd.concat([a, b]).value_counts()
    if (counts > 1).sum() < 0.05 * len(counts):
        return pd.DataFrame(index=train.index), pd.DataFrame(index=test.index)
    X, X_test = pd.DataFrame(index=train.index), pd.DataFrame(index=test.index)
    X[f"{name}_group_size"], X_test[f"{name}_group_size"] = a.map(counts).astype("float64"), b.map(counts).astype("float64")
    tail = lambda s: pd.to_numeric(_as_text(s).str.split(_DELIMITERS).str[-1], errors="coerce")  # noqa: E731
    X[f"{name}_in_group"], X_test[f"{name}_in_group"] = tail(train).astype("float64"), tail(test).astype("float64")
    return X, X_test


def group_statistics(train: pd.DataFrame, test: pd.DataFrame, key: str,
                     columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Size of the row's group and the group's mean of each numeric column, over train and test inputs."""
    both = pd.concat([train[[key] + columns], test[[key] + columns]], ignore_index=True)
    both[columns] = both[columns].apply(pd.to_numeric, errors="coerce")
    groups = both.groupby(_as_text(both[key]), dropna=True)
    stats = pd.concat([groups[columns].mean().add_prefix(f"{key}_mean_"), groups.size().rename(f"{key}_size")], axis=1)
    lookup = lambda f: stats.reindex(_as_text(f[key]).to_numpy()).reset_index(drop=True)  # noqa: E731
    return lookup(train).astype("float64"), lookup(test).astype("float64")


def _adjacent_groups(keys: pd.Series) -> bool:
    """Whether each group's rows sit together, as the steps of a sequence do (a breath, a session)."""
    return keys.ne(keys.shift()).sum() == keys.nunique(dropna=False)


def group_sequence(train: pd.DataFrame, test: pd.DataFrame, key: str,
                   columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Where each row stands in its group's sequence, in file order: its position from the start and the
    end, and per numeric column the running sum and the change from the previous row and to the next.
    A pressure that integrates a flow is a running sum, which no tree can add up from single rows.

    Empty when a group's rows are not adjacent in the files, so they are no sequence.
    """
    keys_train, keys_test = _as_text(train[key]), _as_text(test[key])
    if not (_adjacent_groups(keys_train) and _adjacent_groups(keys_test)):
        return _empty(train, test)
    keys = pd.concat([keys_train, keys_test], ignore_index=True)
    values = pd.concat([train[columns], test[columns]], ignore_index=True).apply(pd.to_numeric, errors="coerce")
    steps = values.groupby(keys, sort=False)
    blocks = {f"{key}_position": keys.groupby(keys, sort=False).cumcount(),
              f"{key}_position_from_end": keys.groupby(keys, sort=False).cumcount(ascending=False)}
    for col in columns:
        blocks[f"{col}_running_sum"] = steps[col].cumsum()
        blocks[f"{col}_change"] = values[col] - steps[col].shift(1)
        blocks[f"{col}_next_change"] = steps[col].shift(-1) - values[col]
    out = pd.DataFrame(blocks).astype("float64")  # built at once: a column at a time fragments the frame
    return out.iloc[: len(train)].set_axis(train.index), out.iloc[len(train):].set_axis(test.index)


def target_encoding(train: pd.DataFrame, test: pd.DataFrame, columns: list[str], y: np.ndarray,
                    smoothing: float = 10.0, n_splits: int = 5, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Smoothed target mean per value; out-of-fold on train so a row never sees its own target.

    `y` is a vector (binary, regression) or a matrix with one column per class or label; a class
    vector of a multiclass task should be passed one-hot.
    """
    from sklearn.model_selection import KFold

    Y = np.asarray(y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    prior = Y.mean(axis=0)
    names = [""] if Y.shape[1] == 1 else [f"_{j}" for j in range(Y.shape[1])]

    def encode(keys_fit: pd.Series, Y_fit: np.ndarray, keys: pd.Series) -> np.ndarray:
        frame = pd.DataFrame(Y_fit, columns=range(Y_fit.shape[1]))
        frame["key"] = keys_fit.to_numpy()
        grouped = frame.groupby("key", dropna=True)
        n = grouped.size().to_numpy()[:, None]
        smoothed = (grouped.sum().to_numpy() + smoothing * prior) / (n + smoothing)
        table = pd.DataFrame(smoothed, index=grouped.size().index)
        return table.reindex(keys.to_numpy()).fillna(dict(enumerate(prior))).to_numpy()

    X, X_test = _empty(train, test)
    splits = list(KFold(n_splits=min(n_splits, len(train)), shuffle=True, random_state=seed).split(train))
    for col in columns:
        keys, keys_test = _as_text(train[col]), _as_text(test[col])
        inner = np.zeros((len(train), Y.shape[1]))
        for fit_rows, enc_rows in splits:
            inner[enc_rows] = encode(keys.iloc[fit_rows], Y[fit_rows], keys.iloc[enc_rows])
        outer = encode(keys, Y, keys_test)
        for j, suffix in enumerate(names):
            X[f"{col}_target{suffix}"] = inner[:, j]
            X_test[f"{col}_target{suffix}"] = outer[:, j]
    return X, X_test


def one_hot_target(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Class codes as a 0/1 matrix (what target_encoding needs for a multiclass task)."""
    return np.eye(n_classes)[np.asarray(y, dtype=int)]


# --- dates and text --------------------------------------------------------------------------------

def datetime_parts(values: pd.Series, name: str) -> pd.DataFrame:
    """Year, month, day, weekday, hour and a day count: what trees can split on."""
    when = parse_datetimes(values)
    parts = pd.DataFrame(index=values.index)
    parts[f"{name}_year"] = when.dt.year
    parts[f"{name}_month"] = when.dt.month
    parts[f"{name}_day"] = when.dt.day
    parts[f"{name}_weekday"] = when.dt.day_of_week
    parts[f"{name}_hour"] = when.dt.hour
    parts[f"{name}_days"] = (when - pd.Timestamp("2000-01-01")).dt.days
    return parts.astype("float64")


def text_stats(values: pd.Series, name: str) -> pd.DataFrame:
    """Length, word count, and shares of capitals, digits and punctuation; links, mentions and tags."""
    text = values.fillna("").astype(str)
    length = text.str.len().astype(float)
    stats = pd.DataFrame(index=values.index)
    stats[f"{name}_chars"] = length
    stats[f"{name}_words"] = text.str.split().str.len().astype(float)
    safe = length.replace(0, 1)
    stats[f"{name}_upper"] = text.str.count(r"[A-Z]") / safe
    stats[f"{name}_digits"] = text.str.count(r"\d") / safe
    stats[f"{name}_punct"] = text.str.count(r"[^\w\s]") / safe
    stats[f"{name}_links"] = text.str.count(r"https?://").astype(float)
    stats[f"{name}_mentions"] = text.str.count(r"(?:^|\s)[@#]\w").astype(float)
    return stats


def coordinate_points(columns: list[str]) -> list[tuple[str, str]]:
    """(latitude, longitude) column pairs named alike: `pickup_latitude` / `pickup_longitude`, `lat2` / `lon2`."""
    points = []
    for lat in columns:
        name = lat.lower()
        if "lat" not in name:
            continue
        partners = {name.replace("latitude", "longitude"), name.replace("lat", "lon"), name.replace("lat", "lng")}
        lon = next((c for c in columns if c != lat and c.lower() in partners), None)
        if lon is not None:
            points.append((lat, lon))
    return points


def coordinate_distances(train: pd.DataFrame, test: pd.DataFrame, columns: list[str],
                         max_pairs: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Great-circle distance and the north and east offsets between each two points a row gives (a
    trip's pickup and dropoff): a fare or a duration follows the distance, which trees cannot compute
    from four coordinates."""
    points = coordinate_points(columns)
    X, X_test = _empty(train, test)
    pairs = [(p, q) for i, p in enumerate(points) for q in points[i + 1:]][:max_pairs]
    for (lat1, lon1), (lat2, lon2) in pairs:
        name = f"{lat1}_{lat2}"
        for out, frame in ((X, train), (X_test, test)):
            a, b, c, d = (np.radians(pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64))
                          for col in (lat1, lon1, lat2, lon2))
            h = np.sin((c - a) / 2) ** 2 + np.cos(a) * np.cos(c) * np.sin((d - b) / 2) ** 2
            out[f"{name}_km"] = 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))
            out[f"{name}_north_km"] = 6371.0 * (c - a)
            out[f"{name}_east_km"] = 6371.0 * (d - b) * np.cos((a + c) / 2)
    return X, X_test


# --- pairs of string columns ----------------------------------------------------------------------

def _word_sets(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.lower().map(lambda v: frozenset(_WORD.findall(v)))


def _char_grams(values: pd.Series, n: int = 3, longest: int = 1000) -> pd.Series:
    """Each value's set of character n-grams (of its first `longest` characters, which bounds the cost)."""
    text = values.fillna("").astype(str).str.lower().str[:longest]
    return text.map(lambda v: frozenset(v[i:i + n] for i in range(max(len(v) - n + 1, 1))))


def _jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def comparable_pairs(train: pd.DataFrame, columns: list[str], min_overlap: float = 0.5, min_words: float = 1.5,
                     max_length_ratio: float = 3.0, max_pairs: int = 3, sample: int = 2000) -> list[tuple[str, str]]:
    """Pairs of phrase or text columns that hold two values of one kind: an anchor and its target, a
    question and its duplicate, two answers to one prompt. They share most of their vocabulary and
    are about as long. Whether their values match is what such a competition asks, and no model sees
    it from either column alone. Single-word codes (`Gd`, `TA`) are left out, and so are a title and
    the text it heads (shared words, but one is much longer: two parts of one document)."""
    head = train.head(sample)
    vocab, length = {}, {}
    for col in columns:
        words = head[col].fillna("").astype(str).str.lower().map(_WORD.findall)
        if len(words) and words.map(len).mean() >= min_words:
            vocab[col], length[col] = frozenset(w for row in words for w in row), words.map(len).mean()
    scored = []
    names = list(vocab)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            shared = len(vocab[a] & vocab[b]) / max(min(len(vocab[a]), len(vocab[b])), 1)
            if shared >= min_overlap and max(length[a], length[b]) <= max_length_ratio * min(length[a], length[b]):
                scored.append((shared, a, b))
    return [(a, b) for _, a, b in sorted(scored, reverse=True)[:max_pairs]]


def pair_similarity(train: pd.DataFrame, test: pd.DataFrame, pairs: list[tuple[str, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How alike two columns' values are, row by row: shared words, word and character-trigram
    Jaccard, and whether they are equal."""
    def block(frame: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=frame.index)
        for a, b in pairs:
            wa, wb = _word_sets(frame[a]), _word_sets(frame[b])
            ca, cb = _char_grams(frame[a]), _char_grams(frame[b])
            out[f"{a}_{b}_shared_words"] = [float(len(x & y)) for x, y in zip(wa, wb)]
            out[f"{a}_{b}_word_jaccard"] = [_jaccard(x, y) for x, y in zip(wa, wb)]
            out[f"{a}_{b}_char_jaccard"] = [_jaccard(x, y) for x, y in zip(ca, cb)]
            out[f"{a}_{b}_same"] = (frame[a].astype(str).str.lower() == frame[b].astype(str).str.lower()).astype("float64")
        return out
    return block(train), block(test)


def pair_meaning(train: pd.DataFrame, test: pd.DataFrame, pairs: list[tuple[str, str]],
                 ctx: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cosine similarity of each pair's sentence embeddings: alike in meaning where the words differ
    (`abatement` and `reduction`), which no count of shared words sees. Needs the `text` extra."""
    from pipelines.embeddings import encode_in_time, text_embeddings

    columns = list(dict.fromkeys(c for pair in pairs for c in pair))
    encode_in_time(pd.concat([pd.concat([train[c], test[c]]) for c in columns], ignore_index=True), ctx,
                   what="the paired columns")

    def block(frame: pd.DataFrame) -> pd.DataFrame:
        unit = {c: _unit(text_embeddings(frame[c], ctx)) for c in columns}
        return pd.DataFrame({f"{a}_{b}_meaning": np.einsum("ij,ij->i", unit[a], unit[b]).astype("float64")
                             for a, b in pairs}, index=frame.index)
    return block(train), block(test)


def pair_neighbours(train: pd.DataFrame, test: pd.DataFrame, pairs: list[tuple[str, str]], y: np.ndarray,
                    ctx: Any, n_splits: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The targets of the rows that share this row's repeating side of a pair (an anchor) and whose
    other side is nearest in meaning: the nearest one's, the mean of the nearest three, a mean weighted
    by similarity, and the nearest similarity. How an anchor's known matches were scored is the best
    guide to a new one. Out-of-fold on train, as target encoding is; needs the `text` extra."""
    from sklearn.model_selection import KFold

    from pipelines.embeddings import encode_in_time, text_embeddings

    Y = np.asarray(y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    columns = list(dict.fromkeys(c for pair in pairs for c in pair))
    encode_in_time(pd.concat([pd.concat([train[c], test[c]]) for c in columns], ignore_index=True), ctx,
                   what="the paired columns")
    X, X_test = _empty(train, test)
    splits = list(KFold(n_splits=min(n_splits, len(train)), shuffle=True, random_state=ctx.seed).split(train))
    for a, b in pairs:
        key, other = (a, b) if train[a].nunique() <= train[b].nunique() else (b, a)
        if train[key].nunique() > len(train) / 2:  # neither side repeats: no anchor has known matches
            continue
        keys, keys_test = _as_text(train[key]).to_numpy(), _as_text(test[key]).to_numpy()
        vectors, vectors_test = (_unit(text_embeddings(frame[other], ctx)) for frame in (train, test))
        inner = np.full((len(train), 4, Y.shape[1]), np.nan)
        for fit_rows, rows in splits:
            inner[rows] = _nearest_targets(keys[fit_rows], vectors[fit_rows], Y[fit_rows], keys[rows], vectors[rows])
        outer = _nearest_targets(keys, vectors, Y, keys_test, vectors_test)
        for i, name in enumerate(("nearest", "nearest3", "weighted", "similarity")):
            for j in range(Y.shape[1] if name != "similarity" else 1):
                column = f"{key}_{other}_{name}" + (f"_{j}" if Y.shape[1] > 1 and name != "similarity" else "")
                X[column], X_test[column] = inner[:, i, j], outer[:, i, j]
    return X, X_test


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _nearest_targets(keys_fit: np.ndarray, vectors_fit: np.ndarray, Y_fit: np.ndarray, keys: np.ndarray,
                     vectors: np.ndarray, temperature: float = 10.0) -> np.ndarray:
    """(rows, 4, targets): per row, from the fit rows with its key, the targets of the nearest, the
    nearest three and all weighted by similarity, and (in every target's place) the top similarity."""
    out = np.full((len(keys), 4, Y_fit.shape[1]), np.nan)
    fit_groups = pd.Series(np.arange(len(keys_fit))).groupby(keys_fit).indices
    for key, rows in pd.Series(np.arange(len(keys))).groupby(keys).indices.items():
        fit = fit_groups.get(key)
        if fit is None:
            continue
        similarity = vectors[rows] @ vectors_fit[fit].T
        order = np.argsort(-similarity, axis=1)
        targets = Y_fit[fit][order]  # (rows, fit, targets), nearest first
        ranked = np.take_along_axis(similarity, order, axis=1)
        weights = np.exp(temperature * (ranked - ranked[:, :1]))[:, :, None]
        out[rows, 0] = targets[:, 0]
        out[rows, 1] = targets[:, :3].mean(axis=1)
        out[rows, 2] = (weights * targets).sum(axis=1) / weights.sum(axis=1)
        out[rows, 3] = ranked[:, :1]
    return out


AUXILIARY_FIT_ROWS = 20_000  # rows each auxiliary model learns from, so a big table's first draft keeps its time
AUXILIARY_MODEL = {"n_estimators": 200, "learning_rate": 0.05, "num_leaves": 15, "min_child_samples": 20,
                   "colsample_bytree": 0.5, "subsample": 0.8, "subsample_freq": 1, "verbose": -1}


def auxiliary_predictions(train: pd.DataFrame, test: pd.DataFrame, X: pd.DataFrame, X_test: pd.DataFrame,
                          columns: list[str], ctx: Any, n_splits: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predictions of each auxiliary column (a label train has and test lacks) from the features `X`:
    out-of-fold on train, so a row's own label never reaches its input; from all train rows on test.

    Kept in `ctx.cache_dir` by content, so the other recipes and their variants on the same fold
    reuse them instead of fitting the same small LightGBMs again."""
    settings = (columns, ctx.seed, n_splits, AUXILIARY_FIT_ROWS, sorted(AUXILIARY_MODEL.items()))
    digest = hashlib.sha1(repr(settings).encode())
    for frame in (train[columns], X, X_test):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        digest.update(repr(list(frame.columns)).encode())
    path = Path(ctx.cache_dir) / "auxiliary" / f"{digest.hexdigest()[:20]}.npz" if ctx.cache_dir else None
    if path is not None and path.exists():
        with np.load(path) as saved:
            inner, outer = saved["inner"], saved["outer"]
    else:
        inner, outer = _fit_auxiliary(train, X, X_test, columns, ctx, n_splits)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.npz")
            np.savez(partial, inner=inner, outer=outer)
            os.replace(partial, path)
    names = [f"{col}_predicted" for col in columns]
    return (pd.DataFrame(inner, columns=names, index=train.index),
            pd.DataFrame(outer, columns=names, index=test.index))


def _fit_auxiliary(train: pd.DataFrame, X: pd.DataFrame, X_test: pd.DataFrame, columns: list[str], ctx: Any,
                   n_splits: int) -> tuple[np.ndarray, np.ndarray]:
    """The fits run side by side on one thread each: models this small spend more time waking a
    second thread per tree than using it."""
    from concurrent.futures import ThreadPoolExecutor

    import lightgbm as lgb
    from sklearn.model_selection import KFold

    splits = list(KFold(n_splits=min(n_splits, len(train)), shuffle=True, random_state=ctx.seed).split(train))
    splits.append((np.arange(len(train)), None))  # all rows, for the test rows
    params = {**AUXILIARY_MODEL, "n_jobs": 1, "random_state": ctx.seed}
    inner, outer = np.full((len(train), len(columns)), np.nan), np.full((len(X_test), len(columns)), np.nan)
    labels = [pd.to_numeric(train[col], errors="coerce").to_numpy(dtype=np.float64) for col in columns]

    def fit_predict(j: int, fit: np.ndarray, rows: np.ndarray | None) -> None:
        y = labels[j]
        fit = fit[~np.isnan(y[fit])]
        if len(fit) > AUXILIARY_FIT_ROWS:
            fit = np.sort(np.random.default_rng(ctx.seed + j).choice(fit, AUXILIARY_FIT_ROWS, replace=False))
        levels = np.unique(y[fit])
        if len(levels) < 2:
            return
        frame = X_test if rows is None else X.iloc[rows]
        if set(levels) <= {0.0, 1.0}:
            predicted = lgb.LGBMClassifier(**params).fit(X.iloc[fit], y[fit].astype(int)).predict_proba(frame)[:, 1]
        else:
            predicted = lgb.LGBMRegressor(**params).fit(X.iloc[fit], y[fit]).predict(frame)
        if rows is None:
            outer[:, j] = predicted
        else:
            inner[rows, j] = predicted

    with ThreadPoolExecutor(max(1, ctx.n_jobs)) as pool:
        list(pool.map(lambda job: fit_predict(*job), [(j, fit, rows) for j in range(len(columns))
                                                      for fit, rows in splits]))
    return inner, outer


def tabular(train: pd.DataFrame, test: pd.DataFrame, spec: CompetitionSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every usable column in a form GBDTs take.

    Numbers as they are, and distances between the places a row gives; categoricals with few levels
    natively, columns with many levels through their parts, words, counts; date parts; text
    statistics; how alike paired phrase or text columns are; and group sizes read from composite ids.
    """
    X, X_test = numbers(train, test, spec.numeric_columns)
    X, X_test = join_blocks(X, X_test, coordinate_distances(train, test, spec.numeric_columns))
    X, X_test = join_blocks(X, X_test, low_cardinality_categories(train, test, spec.categorical_columns))
    for col in spec.categorical_columns:
        if is_high_cardinality(train[col]):
            X, X_test = join_blocks(X, X_test, count_encoding(train, test, [col]))
            X, X_test = join_blocks(X, X_test, high_cardinality(train[col], test[col], col))
    for col in spec.datetime_columns:
        X, X_test = join_blocks(X, X_test, (datetime_parts(train[col], col), datetime_parts(test[col], col)))
    for col in spec.text_columns:
        X, X_test = join_blocks(X, X_test, (text_stats(train[col], col), text_stats(test[col], col)))
    if spec.column_pairs:
        X, X_test = join_blocks(X, X_test, pair_similarity(train, test, spec.column_pairs))
    if spec.id_column in train.columns and spec.id_column in test.columns:
        X, X_test = join_blocks(X, X_test, composite_id_group(train[spec.id_column], test[spec.id_column], spec.id_column))
    return X, X_test


def has_code_levels(levels: int, rows: int) -> bool:
    """Whether a column of whole numbers with `levels` distinct values over `rows` rows looks like a
    code: at least 20 values, most of them repeated."""
    return 20 <= levels <= rows / 2


def integer_codes(train: pd.DataFrame, columns: list[str]) -> list[str]:
    """The numeric columns that look like codes (of a manager, a resource, a postcode): whole numbers
    whose levels `has_code_levels`. A tree splits them by their order, which means nothing; how often
    each occurs and its target mean are what carry information."""
    codes = []
    for col in columns:
        values = pd.to_numeric(train[col], errors="coerce").dropna()
        if has_code_levels(values.nunique(), len(values)) and (values == np.round(values)).all():
            codes.append(col)
    return codes


def tabular_plus(train: pd.DataFrame, test: pd.DataFrame, ctx: Any, *, counts: bool = False, target: bool = False,
                 missing: bool = False, row_stats: bool = False, group_stats: bool = False,
                 sequence: bool = False, codes: bool = False, meaning: bool = False,
                 neighbours: bool = False, auxiliary: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`tabular` plus the optional blocks a GBDT recipe switches on: count and out-of-fold target
    encodings of the categoricals (and, with `codes`, of the whole-number columns that look like
    codes), missing-value flags, row statistics of the numbers, and statistics of the row's group
    (with `sequence`, also its place in the group's sequence) over the competition's group column,
    (with `meaning`) how alike in meaning the values of paired columns are, (with `neighbours`)
    the targets of an anchor's known matches nearest in meaning, and (with `auxiliary`) predictions of
    the labels train has beside the target."""
    spec = ctx.spec
    X, X_test = tabular(train, test, spec)
    # From the basic features only, so every variant of every recipe shares them (and their cache).
    predicted = (auxiliary_predictions(train, test, X, X_test, spec.auxiliary_columns, ctx)
                 if auxiliary and spec.auxiliary_columns else None)
    if counts:  # columns with many levels are counted by `tabular` already
        low = [c for c in spec.categorical_columns if f"{c}_count" not in X.columns]
        X, X_test = join_blocks(X, X_test, count_encoding(train, test, low))
    code_columns = integer_codes(train, spec.numeric_columns) if codes else []
    if code_columns:
        X, X_test = join_blocks(X, X_test, count_encoding(train, test, code_columns))
    encoded = (spec.categorical_columns if target else []) + code_columns
    if encoded:
        y = ctx.target(train)
        y = one_hot_target(y, ctx.n_classes) if ctx.task == "multiclass" else y
        X, X_test = join_blocks(X, X_test, target_encoding(train, test, encoded, y, seed=ctx.seed))
    if missing:
        X, X_test = join_blocks(X, X_test, missing_indicators(train, test, spec.feature_columns))
    if row_stats:
        X, X_test = join_blocks(X, X_test, row_statistics(train, test, spec.numeric_columns))
    if (group_stats or sequence) and spec.group_column:
        numeric = [c for c in spec.numeric_columns if c != spec.group_column]
        inputs = most_telling(train, numeric, ctx.target(train), MAX_GROUP_CELLS // (len(train) + len(test)) // 4)
    if group_stats and spec.group_column:
        X, X_test = join_blocks(X, X_test, group_statistics(train, test, spec.group_column, inputs))
    if sequence and spec.group_column:
        X, X_test = join_blocks(X, X_test, group_sequence(train, test, spec.group_column, inputs))
    if meaning and spec.column_pairs:
        X, X_test = join_blocks(X, X_test, pair_meaning(train, test, spec.column_pairs, ctx))
    if neighbours and spec.column_pairs:
        y = ctx.target(train)
        y = one_hot_target(y, ctx.n_classes) if ctx.task == "multiclass" else y
        X, X_test = join_blocks(X, X_test, pair_neighbours(train, test, spec.column_pairs, y, ctx))
    if predicted is not None:
        X, X_test = join_blocks(X, X_test, predicted)
    return X, X_test


def most_telling(train: pd.DataFrame, columns: list[str], y: np.ndarray, at_most: int) -> list[str]:
    """At most `at_most` of the numeric columns, those whose ranks follow the target's most closely, in their
    own order: a block derived column by column (a group's means, a sequence's running sums) from two hundred
    joined columns and a million test rows would not fit in memory."""
    if len(columns) <= at_most:
        return columns
    target = np.asarray(y, dtype=np.float64)
    target = target if target.ndim == 1 else target.argmax(axis=1)  # one-hot classes: their codes
    ranks = train[columns].apply(pd.to_numeric, errors="coerce").rank()
    strength = ranks.corrwith(pd.Series(target, index=train.index).rank()).abs().fillna(0)
    kept = set(strength.sort_values(ascending=False, kind="stable").index[:max(at_most, 1)])
    return [c for c in columns if c in kept]


def skewed_log(train: pd.DataFrame, test: pd.DataFrame, skew_limit: float = 0.75) -> tuple[pd.DataFrame, pd.DataFrame]:
    """log1p of non-negative, right-skewed columns beside the columns themselves, so a linear model
    can follow either shape whichever side of `skew_limit` a fold's skew falls."""
    X, X_test = train.copy(), test.copy()
    for col in train.columns:
        values = train[col]
        if values.min() >= 0 and values.skew() > skew_limit:
            X[f"{col}_log"], X_test[f"{col}_log"] = np.log1p(values), np.log1p(test[col].clip(lower=0))
    return X, X_test


def numeric_matrix(train: pd.DataFrame, test: pd.DataFrame, spec: CompetitionSpec,
                   log_skewed: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Scaled numbers plus one-hot categoricals, missing values imputed and flagged: for linear and kernel models.

    Columns with many levels contribute their derived numbers (parts, words, counts), as in `tabular`.
    """
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, X_test = tabular(train, test, spec)
    is_cat = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    num = X.drop(columns=is_cat).astype("float64")
    # The test rows (often many more than the rows trained on) in single precision: half the memory.
    num_test = X_test.drop(columns=is_cat).astype("float32")
    parts_train: list[np.ndarray] = []
    parts_test: list[np.ndarray] = []
    if num.shape[1]:
        usable = num.columns[num.notna().any()]
        num, num_test = num[usable], num_test[usable]
        if log_skewed:
            num, num_test = skewed_log(num, num_test)
        medians = num.median()
        flagged = num.columns[num.isna().any()]  # a missing-value flag varies in train only there
        a = num.fillna(medians).to_numpy()
        scaler = StandardScaler().fit(a)
        b = scaler.transform(num_test.fillna(medians.astype("float32")).to_numpy(np.float32))
        parts_train += [scaler.transform(a), num[flagged].isna().to_numpy(float)]
        parts_test += [np.clip(b, -10, 10, out=b), num_test[flagged].isna().to_numpy(np.float32)]
    if is_cat:
        enc = OneHotEncoder(handle_unknown="ignore", min_frequency=3, sparse_output=False, dtype=np.float32)
        as_str = lambda f: f[is_cat].astype(object).where(f[is_cat].notna(), "missing").astype(str)  # noqa: E731
        parts_train.append(enc.fit_transform(as_str(X)))
        parts_test.append(enc.transform(as_str(X_test)))
    if not parts_train:
        return np.zeros((len(train), 1)), np.zeros((len(test), 1))
    return np.hstack(parts_train), np.hstack(parts_test)


def joined_text(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """All text columns of a row in one string (column names kept as markers)."""
    if not columns:
        return pd.Series([""] * len(frame), index=frame.index)
    parts = [frame[c].fillna("").astype(str) for c in columns]
    out = parts[0]
    for col, part in zip(columns[1:], parts[1:]):
        out = out + f" [{col}] " + part
    return out


def text_with_fields(frame: pd.DataFrame, spec: CompetitionSpec) -> pd.Series:
    """The text columns plus every categorical value as one marked token (`keyword=fire`, spaces and
    punctuation as `_`), for bag-of-words models; a Series of strings."""
    text = joined_text(frame, spec.text_columns)
    for col in spec.categorical_columns:
        value = frame[col].fillna("").astype(str).str.lower().str.replace(r"\W+", "_", regex=True)
        text = text + " " + (f"{col}=" + value).where(value != "", "")
    return text


def normalize_text(text: pd.Series) -> pd.Series:
    """Web text made comparable: HTML entities decoded, links and user names replaced by a marker,
    hashtags split from their word, letters repeated for emphasis squeezed (`sooooo` -> `soo`)."""
    import html

    # As Python strings: pandas' pyarrow-backed strings use RE2, which has no backreferences (pandas
    # 3.0 raises on the last pattern) and whose \w matches ASCII letters only.
    text = text.fillna("").astype(str).map(html.unescape).astype(object)
    text = text.str.replace(r"https?://\S+|www\.\S+", " xxurl ", regex=True)
    text = text.str.replace(r"@\w+", " xxuser ", regex=True)
    text = text.str.replace(r"#(\w+)", r" xxtag \1 ", regex=True)
    return text.str.replace(r"(\w)\1{2,}", r"\1\1", regex=True)


def tfidf(train_text: pd.Series, test_text: pd.Series, analyzer: str = "word", ngram_range: tuple[int, int] = (1, 2),
          min_df: int = 2, max_features: int | None = 200_000, sublinear_tf: bool = True) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """TF-IDF fitted on the training texts only."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = {"token_pattern": r"(?u)\b\w[\w=]+\b"} if analyzer == "word" else {}  # keeps `field=value` tokens whole
    vectorizer = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, min_df=min_df,
                                 max_features=max_features, sublinear_tf=sublinear_tf, strip_accents="unicode",
                                 lowercase=True, dtype=np.float32, **words)
    return vectorizer.fit_transform(train_text), vectorizer.transform(test_text)


def text_tfidf(train: pd.DataFrame, test: pd.DataFrame, spec: CompetitionSpec, *, normalize: bool = True,
               chars: bool = False, word_ngrams: tuple[int, int] = (1, 2)) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Word n-gram TF-IDF of `text_with_fields` (web text normalised with `normalize`, character 2-5 grams
    beside it with `chars`): the inputs of the bag-of-words linear recipes."""
    text, text_test = text_with_fields(train, spec), text_with_fields(test, spec)
    if normalize:
        text, text_test = normalize_text(text), normalize_text(text_test)
    X, X_test = tfidf(text, text_test, analyzer="word", ngram_range=word_ngrams)
    if chars:
        C, C_test = tfidf(text, text_test, analyzer="char_wb", ngram_range=(2, 5), max_features=100_000)
        X, X_test = sp.hstack([X, C]).tocsr(), sp.hstack([X_test, C_test]).tocsr()
    return X, X_test


def word_counts(train_text: pd.Series, test_text: pd.Series, ngram_range: tuple[int, int] = (1, 2),
                min_df: int = 2) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Binary word n-gram counts (for multinomial naive Bayes), fitted on the training texts only."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(ngram_range=ngram_range, min_df=min_df, binary=True, strip_accents="unicode",
                                 token_pattern=r"(?u)\b\w[\w=]+\b", dtype=np.float32)
    return vectorizer.fit_transform(train_text), vectorizer.transform(test_text)
