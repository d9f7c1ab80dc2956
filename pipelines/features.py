"""Feature building blocks that solutions import. Each fits on `train` only and transforms both.

Functions take and return DataFrames (or sparse matrices for text), so a solution reads as a
short list of decisions: which columns, which encoding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from pipelines.spec import CompetitionSpec


def categories(train: pd.Series, test: pd.Series, min_count: int = 1) -> tuple[pd.Series, pd.Series]:
    """Pandas categoricals with the categories seen in train (at least `min_count` times); others become NaN."""
    counts = train.astype(str).where(train.notna()).value_counts()
    levels = sorted(counts[counts >= min_count].index)
    dtype = pd.CategoricalDtype(levels)
    as_cat = lambda s: s.astype(str).where(s.notna()).astype(dtype)  # noqa: E731
    return as_cat(train), as_cat(test)


def datetime_parts(values: pd.Series, name: str) -> pd.DataFrame:
    """Year, month, day, weekday, hour and a day count: what trees can split on."""
    when = pd.to_datetime(values, errors="coerce", format="mixed")
    parts = pd.DataFrame(index=values.index)
    parts[f"{name}_year"] = when.dt.year
    parts[f"{name}_month"] = when.dt.month
    parts[f"{name}_day"] = when.dt.day
    parts[f"{name}_weekday"] = when.dt.weekday
    parts[f"{name}_hour"] = when.dt.hour
    parts[f"{name}_days"] = (when - pd.Timestamp("2000-01-01")).dt.days
    return parts.astype("float64")


def text_stats(values: pd.Series, name: str) -> pd.DataFrame:
    """Length, word count, and shares of capitals, digits and punctuation."""
    text = values.fillna("").astype(str)
    length = text.str.len().astype(float)
    stats = pd.DataFrame(index=values.index)
    stats[f"{name}_chars"] = length
    stats[f"{name}_words"] = text.str.split().str.len().astype(float)
    safe = length.replace(0, 1)
    stats[f"{name}_upper"] = text.str.count(r"[A-Z]") / safe
    stats[f"{name}_digits"] = text.str.count(r"\d") / safe
    stats[f"{name}_punct"] = text.str.count(r"[^\w\s]") / safe
    return stats


def tabular(train: pd.DataFrame, test: pd.DataFrame, spec: CompetitionSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every usable column in a form GBDTs take: numbers, categoricals, date parts, text statistics."""
    X, X_test = pd.DataFrame(index=train.index), pd.DataFrame(index=test.index)
    for col in spec.numeric_columns:
        X[col] = pd.to_numeric(train[col], errors="coerce")
        X_test[col] = pd.to_numeric(test[col], errors="coerce")
    for col in spec.categorical_columns:
        X[col], X_test[col] = categories(train[col], test[col])
    blocks = [(datetime_parts, spec.datetime_columns), (text_stats, spec.text_columns)]
    for make, columns in blocks:
        for col in columns:
            X = X.join(make(train[col], col))
            X_test = X_test.join(make(test[col], col))
    return X, X_test


def joined_text(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """All text columns of a row in one string (column names kept as markers)."""
    if not columns:
        return pd.Series([""] * len(frame), index=frame.index)
    parts = [frame[c].fillna("").astype(str) for c in columns]
    out = parts[0]
    for col, part in zip(columns[1:], parts[1:]):
        out = out + f" [{col}] " + part
    return out


def tfidf(train_text: pd.Series, test_text: pd.Series, analyzer: str = "word", ngram_range: tuple[int, int] = (1, 2),
          min_df: int = 2, max_features: int | None = 200_000, sublinear_tf: bool = True) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """TF-IDF fitted on the training texts only."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, min_df=min_df,
                                 max_features=max_features, sublinear_tf=sublinear_tf, strip_accents="unicode",
                                 lowercase=True, dtype=np.float32)
    return vectorizer.fit_transform(train_text), vectorizer.transform(test_text)


def numeric_matrix(train: pd.DataFrame, test: pd.DataFrame, spec: CompetitionSpec) -> tuple[np.ndarray, np.ndarray]:
    """Scaled numbers plus one-hot categoricals, missing values imputed: for linear and kernel models."""
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    num_cols = spec.numeric_columns
    parts_train, parts_test = [], []
    if num_cols:
        a = train[num_cols].apply(pd.to_numeric, errors="coerce")
        b = test[num_cols].apply(pd.to_numeric, errors="coerce")
        medians = a.median()
        missing_a, missing_b = a.isna().to_numpy(float), b.isna().to_numpy(float)
        a, b = a.fillna(medians).fillna(0), b.fillna(medians).fillna(0)
        scaler = StandardScaler().fit(a)
        keep = missing_a.std(axis=0) > 0
        parts_train += [scaler.transform(a), missing_a[:, keep]]
        parts_test += [scaler.transform(b), missing_b[:, keep]]
    if spec.categorical_columns:
        enc = OneHotEncoder(handle_unknown="ignore", min_frequency=5, sparse_output=False)
        cat = lambda f: f[spec.categorical_columns].astype(str)  # noqa: E731
        parts_train.append(enc.fit_transform(cat(train)))
        parts_test.append(enc.transform(cat(test)))
    if not parts_train:
        return np.zeros((len(train), 1)), np.zeros((len(test), 1))
    return np.hstack(parts_train), np.hstack(parts_test)
