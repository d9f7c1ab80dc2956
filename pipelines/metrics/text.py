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
from sklearn.metrics import average_precision_score

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


def f1_points_in_boxes(y_true: Strings, y_pred: Strings) -> float:
    """Kuzushiji's F1 of labelled points against labelled boxes, pooled over pages.

    The truth of a page is ``label x y width height`` repeated, the prediction ``label x y``
    repeated. Each true box, in order, takes the first unused prediction of its label strictly
    inside it (a true positive) or counts a false negative; unused predictions are false
    positives.
    """
    tp = fp = fn = 0
    for truth, pred in zip(y_true, y_pred):
        boxes, points = _fields(truth, 5, "truth"), _fields(pred, 3, "prediction")
        labels, x, y = points[:, 0], points[:, 1].astype(float), points[:, 2].astype(float)
        unused = np.ones(len(points), dtype=bool)
        for label, *box in boxes:
            left, top, width, height = (float(v) for v in box)
            inside = ((x > left) & (x < left + width) & (y > top) & (y < top + height)
                      & (labels == label) & unused)
            if inside.any():
                tp += 1
                unused[np.argmax(inside)] = False
            else:
                fn += 1
        fp += int(unused.sum())
    if tp == 0:
        return 0.0
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return 2 * precision * recall / (precision + recall)


def _fields(text: str, width: int, what: str) -> np.ndarray:
    tokens = text.split()
    if len(tokens) % width:
        raise ValueError(f"a {what} string must be groups of {width} fields, got {len(tokens)}")
    return np.array(tokens, dtype=object).reshape(-1, width)


def map_boxes_iou50(y_true: Strings, y_pred: Strings) -> float:
    """SIIM-COVID's mean over classes of the average precision of boxes at IoU > 0.5.

    Each item is ``label confidence x_min y_min x_max y_max`` repeated (the truth's confidence
    is ignored). Per class and item, predictions in falling confidence each take the unmatched
    true box of that class with the highest IoU above 0.5 (a hit scored at its confidence) or
    count a miss; unmatched true boxes count as hits scored 0, and an item with neither adds
    one (negative, 0) pair, as MLE-bench's grader builds them. AP is scikit-learn's
    ``average_precision_score`` of those pairs; classes are those of the truth.
    """
    truths, preds, classes = _boxes_by_class(y_true, y_pred)
    aps = []
    for label in classes:
        hits: list[int] = []
        scores: list[float] = []
        for truth, pred in zip(truths, preds):
            gts = [box[2:] for box in truth if box[0] == label]
            matched = [False] * len(gts)
            mine = sorted((box for box in pred if box[0] == label), key=lambda b: -b[1])
            for _, confidence, *box in mine:
                ious = [0.0 if used else box_iou(box, gt) for gt, used in zip(gts, matched)]
                best = int(np.argmax(ious)) if ious else -1
                hit = best >= 0 and ious[best] > 0.5
                if hit:
                    matched[best] = True
                hits.append(int(hit))
                scores.append(confidence)
            misses = matched.count(False)
            if not mine and not misses:
                hits.append(0)
                scores.append(0.0)
            hits += [1] * misses
            scores += [0.0] * misses
        if all(hits):
            raise ValueError(f"AP of class {label!r} is undefined: every pair is a true box")
        aps.append(average_precision_score(hits, scores))
    return float(np.mean(aps))


def map_boxes_coco(iou_threshold: float):
    """COCO's box AP at one IoU threshold, averaged over the truth's classes (VinBigData's mAP@0.4).

    As pycocotools' ``COCOeval`` scores it with MLE-bench's grader: per class, each item's 100 most
    confident predictions take, in falling confidence, the unmatched true box of highest IoU at or above
    the threshold; the pooled hits give a precision made non-increasing and read at 101 recall points.
    An unmatched prediction of negative area is left out. Classes the truth lacks are not scored. The grader hands COCO ``x_min y_min x_max y_max`` where COCO
    reads ``x y width height``, so IoUs are of those boxes, as here. (It also numbers the truth's boxes from 0,
    and COCO takes a match to box 0 for none: its first true box is never found. Not copied: one box of many.)
    """
    recall_points = np.linspace(0.0, 1.0, 101)

    def mean_average_precision(y_true: Strings, y_pred: Strings) -> float:
        truths, preds, classes = _boxes_by_class(y_true, y_pred)
        aps = []
        for label in classes:
            scores: list[float] = []
            hits: list[int] = []
            n_true = 0
            for truth, pred in zip(truths, preds):
                gts = [_as_corners(box[2:]) for box in truth if box[0] == label]
                n_true += len(gts)
                matched = [False] * len(gts)
                mine = sorted((box for box in pred if box[0] == label), key=lambda b: -b[1])[:100]
                for _, confidence, *box in mine:
                    ious = [-1.0 if used else box_iou(_as_corners(box), gt) for gt, used in zip(gts, matched)]
                    best = int(np.argmax(ious)) if ious else -1
                    hit = best >= 0 and ious[best] >= min(iou_threshold, 1 - 1e-10)
                    if hit:
                        matched[best] = True
                    elif (box[2] - box[0]) * (box[3] - box[1]) < 0:
                        continue  # COCO ignores an unmatched prediction whose area is outside its range
                    hits.append(int(hit))
                    scores.append(confidence)
            order = np.argsort(-np.asarray(scores, dtype=float), kind="mergesort")
            tp = np.cumsum(np.asarray(hits, dtype=float)[order])
            precision = tp / np.arange(1, len(tp) + 1)
            precision = np.maximum.accumulate(precision[::-1])[::-1]
            found = np.searchsorted(tp / n_true, recall_points, side="left")
            aps.append(float(np.mean(np.where(found < len(tp), precision[np.minimum(found, len(tp) - 1)], 0.0)))
                       if len(tp) else 0.0)
        return float(np.mean(aps))

    return mean_average_precision


def _as_corners(box: Sequence[float]) -> tuple[float, float, float, float]:
    """COCO's corners of a box handed over as `x_min y_min x_max y_max` but read as `x y width height`."""
    x, y, width, height = box
    return x, y, x + width, y + height


def _boxes_by_class(y_true: Strings, y_pred: Strings) -> tuple[list[list[tuple]], list[list[tuple]], list[str]]:
    """Each item's true and predicted boxes, and the classes scored: those of the truth."""
    truths, preds = [parse_boxes(t) for t in y_true], [parse_boxes(p) for p in y_pred]
    classes = sorted({box[0] for item in truths for box in item})
    if not classes:
        raise ValueError("box mAP is undefined when the truth has no box")
    return truths, preds, classes


def parse_boxes(text: str) -> list[tuple]:
    """`label confidence x_min y_min x_max y_max` repeated, as (label, five floats) per box."""
    fields = _fields(text, 6, "box")
    try:
        return [(row[0], *(float(v) for v in row[1:])) for row in fields]
    except ValueError:
        raise ValueError("box fields after the label must be numbers") from None


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes given as corners (x_min, y_min, x_max, y_max)."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
