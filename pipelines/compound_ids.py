"""Ids that join an item and a part: `<item>_<part>`, one row per part of each item.

Understanding Clouds names its rows `0011165.jpg_Fish` (an image and a cloud type), RSNA's intracranial
haemorrhage `ID_12cadc6af_epidural` (a scan and a haemorrhage type), rsna-2022-cervical's sample
`<study>_C1` (a study and a vertebra). Nothing can be learned from such an id as a whole, and its item
(the file it names, the row of another table) and its part (the class a row asks about) are inputs.
Two columns are added to every table that has the id: `<id>__item` and `<id>__part`.
"""

from __future__ import annotations

import logging

import pandas as pd

log = logging.getLogger(__name__)

MAX_PARTS = 32  # more distinct parts are not a class list
MAX_PART_WORDS = 3  # "_"-separated words a part may have
MIN_TAG_SHARE = 0.05  # of the ids, that a tag naming the kind of item (`_image`, `_study`) must end
ITEM, PART = "__item", "__part"


def compound_id_parts(ids: pd.Series) -> tuple[pd.Series, pd.Series] | None:
    """(items, parts) when every id is `<item>_<part>` with 2 to MAX_PARTS distinct parts that are not
    numbers (`<item>_<position>` is a sequence), the items coming with several parts, or each id tagged with
    the kind of item it is (see `_tagged`); else None.

    A part may hold "_" itself (`<study>_patient_overall` beside `<study>_C1`, Bengali's
    `Test_0_grapheme_root`): an item is a prefix seen with at least two different endings, and each id
    is split after the longest such prefix."""
    text = ids.dropna().astype(str)
    if text.empty or not text.str.contains("_", regex=False).all() or text.str.fullmatch(r".*_\d+").all():
        return None  # cheap answers first: a million `<sentence>_<token>` ids are a sequence's
    splits = []  # (prefix, ending) of every id, ending after its last k "_" (missing with fewer "_")
    for k in range(1, MAX_PART_WORDS + 1):
        found = text.str.extract(rf"^(.*)_([^_]*(?:_[^_]*){{{k - 1}}})$")
        splits.append((found[0], found[1]))
    pairs = pd.concat([pd.DataFrame({"prefix": p, "ending": e}) for p, e in splits]).dropna()
    endings = pairs.groupby("prefix")["ending"].nunique()
    known = set(endings.index[endings >= 2])
    if not known:  # items seen with one part each (siim-covid19's `<image>_image` beside `<study>_study`)
        return _tagged(text)
    items = pd.Series(None, index=text.index, dtype=object)
    for prefix, _ in splits:  # the longest known prefix: the fewest words in the part
        found = prefix.isin(known) & items.isna()
        items[found] = prefix[found]
    if items.isna().any() or items.nunique() < 2:
        return None
    parts = pd.Series([t[len(i) + 1:] for t, i in zip(text, items)], index=text.index)
    if not 2 <= parts.nunique() <= MAX_PARTS or parts.str.fullmatch(r"\d+").any():
        return None
    return items, parts


def _tagged(text: pd.Series) -> tuple[pd.Series, pd.Series] | None:
    """(items, parts) when every id ends in `_<tag>`, a word among 2 to MAX_PARTS that each end at least
    MIN_TAG_SHARE of the ids, and no item comes twice with one tag; else None."""
    split = text.str.rsplit("_", n=1)
    items, parts = split.str[0], split.str[-1]
    counts = parts.value_counts()
    if not 2 <= len(counts) <= MAX_PARTS or counts.min() < max(2, MIN_TAG_SHARE * len(text)) \
            or not parts.str.fullmatch(r"[A-Za-z]+").all() or (items + "_" + parts).duplicated().any():
        return None
    return items, parts


def _with_parts(ids: pd.Series, parts: set[str]) -> tuple[pd.Series, pd.Series] | None:
    """(items, parts) of ids that each end in `_<part>` for a part of `parts` (the longest that fits)."""
    text = ids.astype(str)
    found = pd.Series(None, index=text.index, dtype=object)
    for part in sorted(parts, key=len, reverse=True):
        ends = text.str.endswith("_" + part) & found.isna()
        found[ends] = part
    if found.isna().any():
        return None
    return pd.Series([t[:-len(p) - 1] for t, p in zip(text, found)], index=text.index), found


def unseen_parts(train: pd.DataFrame, test: pd.DataFrame, id_column: str) -> list[str]:
    """Parts of test's compound ids that no train row has (siim-covid19's study rows, where train holds images):
    nothing is learned of them, so their rows keep the sample's answers."""
    column = id_column + PART
    if column not in test.columns or column not in train.columns:
        return []
    unseen = sorted(set(test[column]) - set(train[column]))
    if unseen:
        log.warning("test rows of part(s) %s have no training row: they keep the sample's answers", unseen)
    return unseen


def with_compound_id_parts(train: pd.DataFrame, test: pd.DataFrame,
                           id_column: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test with `<id>__item` and `<id>__part` beside a compound id column (as they are else).
    Train need not have the id (a row per item, a column per part): test's parts may then name its columns."""
    found = compound_id_parts(test[id_column]) if id_column in test.columns else None
    if found is None:
        return train, test
    log.info("ids %r join an item and one of %d parts (%s, ...): both become columns", id_column,
             found[1].nunique(), ", ".join(sorted(found[1].unique())[:4]))
    out = []
    for frame in (train, test):
        if id_column in frame.columns and (parts := compound_id_parts(frame[id_column])
                                           or _with_parts(frame[id_column], set(found[1]))) is not None:
            frame = frame.assign(**{id_column + ITEM: parts[0], id_column + PART: parts[1]})
        out.append(frame)
    return out[0], out[1]
