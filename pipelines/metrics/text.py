"""Metrics on strings: one string per item for the truth and one for the prediction.

A string is a span of text, a sequence (characters, or tokens separated by whitespace), a set
of labels or a ranked list of ids separated by spaces, as the competition's submission writes
it. ``Metric`` turns missing values into ``""`` before these see them, as MLE-bench's graders
fill pandas' NaN for an empty cell.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from Levenshtein import distance

Strings = Sequence[str]


def jaccard_word(y_true: Strings, y_pred: Strings) -> float:
    """Mean over items of the Jaccard index of the two lower-cased sets of whitespace words.

    Two empty strings score 0 (scikit-learn's ``jaccard_score(average="samples")``, which the
    chaii grader uses; the tweet grader divides by zero there and gives no score).
    """
    scores = []
    for truth, pred in zip(y_true, y_pred):
        a, b = set(truth.lower().split()), set(pred.lower().split())
        union = len(a | b)
        scores.append(len(a & b) / union if union else 0.0)
    return float(np.mean(scores))


def levenshtein_mean(y_true: Strings, y_pred: Strings) -> float:
    """Mean character edit distance (insertions, deletions, substitutions each cost 1)."""
    return float(np.mean([distance(t, p) for t, p in zip(y_true, y_pred)]))


def levenshtein_per_token(y_true: Strings, y_pred: Strings) -> float:
    """Total token edit distance over the total number of true tokens (gesture recognition).

    Tokens are whitespace-separated; it is an error rate that can exceed 1.
    """
    true_tokens = [t.split() for t in y_true]
    total = sum(len(t) for t in true_tokens)
    if total == 0:
        raise ValueError("levenshtein_per_token is undefined when y_true has no token")
    return sum(distance(t, p.split()) for t, p in zip(true_tokens, y_pred)) / total


def kendall_tau_orderings(y_true: Strings, y_pred: Strings) -> float:
    """Kendall tau between true and predicted orders of ids, pooled over items (AI4Code).

    Each item is a space-separated order of the same ids. The score is 1 - 4 x (inversions of
    all items together) / (sum over items of n(n - 1)), so long items weigh more.
    """
    inversions, most = 0, 0
    for truth, pred in zip(y_true, y_pred):
        true_ids, pred_ids = truth.split(), pred.split()
        position = {cell: i for i, cell in enumerate(true_ids)}
        if len(pred_ids) != len(true_ids) or set(pred_ids) != set(position):
            raise ValueError("each predicted order must hold exactly the true order's ids")
        inversions += _inversions(np.array([position[cell] for cell in pred_ids]))
        most += len(true_ids) * (len(true_ids) - 1)
    if most == 0:
        raise ValueError("kendall_tau_orderings needs an item with at least two ids")
    return 1 - 4 * inversions / most


def _inversions(ranks: np.ndarray) -> int:
    """Pairs out of order, by merge sort (n log n)."""
    if len(ranks) < 2:
        return 0
    middle = len(ranks) // 2
    left, right = np.sort(ranks[:middle]), np.sort(ranks[middle:])
    across = int(np.sum(len(left) - np.searchsorted(left, right, side="right")))
    return _inversions(ranks[:middle]) + _inversions(ranks[middle:]) + across


def map_at_k(k: int):
    """MAP@k: each item's average precision of its first k predicted ids, averaged over items.

    The truth is a space-separated set of relevant ids, the prediction a space-separated ranked
    list. A relevant id scores the precision at its rank the first time it appears (repeats
    count nothing); the sum is divided by min(number relevant, k); an item with no relevant id
    scores 0 (benhamner's ``apk``, which MLE-bench's graders use).
    """

    def mean_average_precision(y_true: Strings, y_pred: Strings) -> float:
        scores = []
        for truth, pred in zip(y_true, y_pred):
            relevant, ranked = set(truth.split()), pred.split()[:k]
            hits, total, seen = 0, 0.0, set()
            for rank, item in enumerate(ranked, start=1):
                if item in relevant and item not in seen:
                    hits += 1
                    total += hits / rank
                seen.add(item)
            scores.append(total / min(len(relevant), k) if relevant else 0.0)
        return float(np.mean(scores))

    return mean_average_precision


def f1_micro_label_sets(y_true: Strings, y_pred: Strings) -> float:
    """Micro F1 over space-separated label sets (keyword and attribute tagging).

    Only labels that occur in the truth are counted: a predicted label no true row has is
    dropped, as scikit-learn's ``MultiLabelBinarizer(classes=truth's labels)`` drops it in
    MLE-bench's graders. 0 when nothing is true and nothing (known) is predicted.
    """
    true_sets = [set(t.split()) for t in y_true]
    known = set().union(*true_sets)
    pred_sets = [set(p.split()) & known for p in y_pred]
    tp = sum(len(t & p) for t, p in zip(true_sets, pred_sets))
    denominator = sum(len(t) for t in true_sets) + sum(len(p) for p in pred_sets)
    return 2 * tp / denominator if denominator else 0.0


def answer_match(y_true: Strings, y_pred: Strings) -> float:
    """Share of items answered right, where the truth is the space-separated set of acceptable
    answers (empty: there is no answer) and the prediction one answer or "" (TensorFlow 2 QA).

    An item is right when the prediction is one of the acceptable answers, or when both are
    empty. This is what MLE-bench's micro F1 over its 0/1 rows reduces to: micro-averaged F1
    over both classes equals accuracy.
    """
    right = [(p.strip() in set(t.split())) if p.strip() else not t.split()
             for t, p in zip(y_true, y_pred)]
    return float(np.mean(right))
