"""The metrics of MLE-bench's bespoke competitions, each against a worked example.

Every expected value is derived by hand in the comment beside it, or computed by an
independent implementation (scikit-learn, scipy, a plain dynamic program written here);
"MLE-bench's grade.py gives" marks a value computed once by running that competition's
grade.py on the same input.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import kendalltau
from sklearn import metrics as skm

from pipelines import rle
from pipelines.metrics import get_metric

RNG = np.random.default_rng(7)


def score(name: str, y_true, y_pred, **kw) -> float:
    return get_metric(name)(y_true, y_pred, **kw)


def mask(shape: tuple[int, int], *cells: tuple[int, int]) -> np.ndarray:
    m = np.zeros(shape, dtype=bool)
    for r, c in cells:
        m[r, c] = True
    return m


# ---------------------------------------------------------------- RLE


def test_rle_is_column_major_and_one_indexed():
    m = np.array([[0, 1, 0],
                  [0, 1, 1],
                  [0, 0, 1]])
    # column-major 1-indexed: column 1 is pixels 1-3, column 2 is 4-6 (rows 1-2 set -> 4, 5),
    # column 3 is 7-9 (rows 2-3 set -> 8, 9)
    assert rle.encode(m) == "4 2 8 2"
    assert (rle.decode("4 2 8 2", (3, 3)) == m.astype(bool)).all()
    # row-major: row 1 is 1-3 (pixel 2), row 2 is 4-6 (5, 6), row 3 is 7-9 (9)
    assert rle.encode(m, order="C") == "2 1 5 2 9 1"
    assert (rle.decode("2 1 5 2 9 1", (3, 3), order="C") == m.astype(bool)).all()
    assert rle.encode(np.zeros((2, 2))) == ""
    assert not rle.decode("", (2, 2)).any() and not rle.decode("-", (2, 2)).any()


def test_rle_round_trip_on_random_masks():
    for shape in [(1, 1), (7, 5), (101, 101), (3, 40)]:
        for density in (0.0, 0.1, 0.5, 1.0):
            m = RNG.random(shape) < density
            for order in ("F", "C"):
                text = rle.encode(m, order)
                assert (rle.decode(text, shape, order) == m).all()
                starts, ends = rle.runs(text)
                assert int((ends - starts).sum()) == int(m.sum())


@pytest.mark.parametrize("text, problem", [
    ("1 2 3", "pairs"), ("a 2", "integers"), ("5 2 1 2", "sorted"), ("1 3 2 2", "overlap"),
    ("0 2", "positive"), ("3 0", "positive"),
])
def test_bad_rle_is_refused_naming_the_problem(text, problem):
    with pytest.raises(ValueError, match=problem):
        rle.runs(text)


def test_rle_past_the_image_is_refused():
    with pytest.raises(ValueError, match="past the last pixel"):
        rle.decode("8 3", (3, 3))  # pixels 8, 9, 10 of a 9-pixel image


# ---------------------------------------------------------------- masks


def test_mean_precision_iou_tgs_rules():
    shape = (5, 5)
    empty = np.zeros(shape, dtype=bool)
    ten = np.zeros(shape, dtype=bool)
    ten[:2, :] = True                          # 10 true pixels
    guess = np.zeros(shape, dtype=bool)
    guess[0, :] = True
    guess[1, :2] = True
    guess[4, 4] = True                         # 7 of them + 1 outside: IoU 7 / 11 = 0.636
    big = np.zeros(shape, dtype=bool)
    big[:3, :] = True
    big[3, 0] = True                           # 16 of 25 pixels
    y_true = [empty, empty, ten, big]
    y_pred = [empty, ten, guess, empty]
    # 1 (both empty); 0 (false salt); 0.636 beats 0.50, 0.55, 0.60 of ten thresholds -> 0.3;
    # an empty guess of a 16/25 mask gets IoU 0.64 under MLE-bench's grader -> 0.3 as well
    assert score("mean_precision_iou", y_true, y_pred) == pytest.approx((1 + 0 + 0.3 + 0.3) / 4)
    # MLE-bench's grade.py gives 0.4 for the same four masks.
    as_text = [rle.encode(m) for m in y_pred]
    assert score("mean_precision_iou", [rle.encode(m) for m in y_true], as_text,
                 shapes=shape) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="image shape"):
        score("mean_precision_iou", [rle.encode(big)], [""])
    assert score("mean_precision_iou", [ten], [ten]) == 1.0


def test_dice_mean_global_and_fbeta():
    shape = (3, 3)
    four = mask(shape, (0, 0), (0, 1), (1, 0), (1, 1))
    two_in = mask(shape, (0, 0), (1, 1))
    empty = np.zeros(shape, dtype=bool)
    two = mask(shape, (2, 0), (2, 1))
    two_else = mask(shape, (0, 2), (1, 2))
    y_true, y_pred = [four, empty, two], [two_in, empty, two_else]
    # per item: 2*2/(4+2) = 2/3; both empty = 1; disjoint = 0 -> mean 5/9
    assert score("dice", y_true, y_pred) == pytest.approx(5 / 9)
    # pooled: 2 * 2 / (6 + 0 + 4)
    assert score("dice_global", y_true, y_pred) == pytest.approx(0.4)
    assert score("dice_global", [empty], [empty]) == 1.0
    half = mask(shape, (0, 0), (1, 1), (2, 2), (2, 0))  # 2 of four + 2 outside: P = R = 1/2
    # F0.5 per item: P = R = 1/2 -> 1/2; both empty -> 0 (sklearn's zero_division);
    # P = 1, R = 1/2 -> 1.25 * 0.5 / (0.25 + 0.5) = 5/6; mean (1/2 + 0 + 5/6) / 3 = 4/9
    assert score("f0.5_mean", [four, empty, four], [half, empty, two_in]) == pytest.approx(4 / 9)
    for t, p in [(four, half), (four, two_in), (two, two_else)]:
        assert score("f0.5_mean", [t], [p]) == pytest.approx(
            skm.fbeta_score(t.ravel(), p.ravel(), beta=0.5, zero_division=0))


def test_mask_metrics_on_rle_strings_equal_arrays():
    shapes = [(20, 30)] * 6
    truth = [RNG.random(s) < d for s, d in zip(shapes, (0, 0.2, 0.5, 0.9, 0.3, 0.0))]
    preds = [RNG.random(s) < d for s, d in zip(shapes, (0, 0.3, 0.5, 0.8, 0.0, 0.1))]
    for name in ("dice", "dice_global", "mean_precision_iou"):
        metric = get_metric(name)
        as_text = metric([rle.encode(m) for m in truth], [rle.encode(m) for m in preds],
                         shapes=shapes)
        assert metric(truth, preds) == pytest.approx(as_text), name
    # Dice on runs against the pixel formula
    inter = sum((t & p).sum() for t, p in zip(truth, preds))
    total = sum(t.sum() + p.sum() for t, p in zip(truth, preds))
    assert score("dice_global", truth, preds) == pytest.approx(2 * inter / total)


def test_mask_shapes_must_fit():
    with pytest.raises(ValueError, match="past the last pixel"):
        score("dice", ["1 10"], ["1 2"], shapes=(3, 3))
    with pytest.raises(ValueError, match="shapes has 1 entries for 2"):
        score("dice", ["1 1", "1 1"], ["1 1", "1 1"], shapes=[(3, 3)])


# ---------------------------------------------------------------- strings


def test_jaccard_word():
    truth = ["The cat sat", "Good DAY", "", "same words same"]
    pred = ["cat sat down", "good", "", "words same"]
    # {the, cat, sat} vs {cat, sat, down}: 2/4; {good, day} vs {good}: 1/2; both empty: 0;
    # sets are equal: 1 -> mean (0.5 + 0.5 + 0 + 1) / 4
    assert score("jaccard_word", truth, pred) == pytest.approx(0.5)
    assert score("jaccard_word", ["a b"], [None]) == 0.0  # a missing prediction is ""


def edit_distance(a, b) -> int:
    """Textbook dynamic program, the reference for the library used by the metric."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def test_levenshtein_mean_and_per_token():
    # kitten -> sitting: 3; flaw -> lawn: 2; "" -> abc: 3
    assert score("levenshtein_mean", ["kitten", "flaw", ""], ["sitting", "lawn", "abc"]) == (
        pytest.approx(8 / 3))
    words = ["".join(RNG.choice(list("abcd"), RNG.integers(0, 12))) for _ in range(40)]
    guesses = ["".join(RNG.choice(list("abcd"), RNG.integers(0, 12))) for _ in range(40)]
    expected = np.mean([edit_distance(a, b) for a, b in zip(words, guesses)])
    assert score("levenshtein_mean", words, guesses) == pytest.approx(expected)
    # tokens: "1 2 3" -> "1 3" one deletion; "4 5" -> "4 5 6" one insertion; "12" -> "21" one
    # substitution (two as characters); 3 edits over 6 true tokens
    truth, pred = ["1 2 3", "4 5", "12"], ["1 3", "4 5 6", "21"]
    assert score("levenshtein_per_token", truth, pred) == pytest.approx(3 / 6)


def test_kendall_tau_orderings():
    # one swapped pair of 4 ids: 1 - 4 * 1 / 12 = 2/3, scipy's tau for one item
    assert score("kendall_tau", ["a b c d"], ["b a c d"]) == pytest.approx(2 / 3)
    assert kendalltau([0, 1, 2, 3], [1, 0, 2, 3])[0] == pytest.approx(2 / 3)
    # pooled over items: (1 + 1) inversions over 12 + 2 -> 1 - 8 / 14
    assert score("kendall_tau", ["a b c d", "x y"], ["b a c d", "y x"]) == pytest.approx(3 / 7)
    ids = [f"c{i}" for i in range(30)]
    shuffled = list(RNG.permutation(ids))
    expected = kendalltau(np.arange(30), [ids.index(c) for c in shuffled])[0]
    assert score("kendall_tau", [" ".join(ids)], [" ".join(shuffled)]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="same|exactly"):
        score("kendall_tau", ["a b c"], ["a b d"])


def test_map_at_k():
    truth = ["a", "a b", "w", "a"]
    pred = ["b a c", "a x b", "x y z u v w", "a a"]
    # hit at rank 2: 1/2; hits at 1 and 3: (1 + 2/3) / 2 = 5/6; w at rank 6 is past k=5: 0;
    # the repeated "a" counts once: 1 -> mean (1/2 + 5/6 + 0 + 1) / 4 = 7/12
    assert score("map@5", truth, pred) == pytest.approx(7 / 12)
    # with k = 12 the third item scores 1/6: (1/2 + 5/6 + 1/6 + 1) / 4 = 5/8
    assert score("map@12", truth, pred) == pytest.approx(5 / 8)
    # more relevant ids than k: divided by k
    assert score("map@5", ["a b c d e f g"], ["a b c d e"]) == 1.0


def test_f1_micro_label_sets_drops_unknown_labels():
    # tp = 2 (a, c), 3 true labels, 2 known predicted labels (z is no true row's): 4 / 5
    assert score("f1_micro_label_sets", ["a b", "c"], ["a", "c z"]) == pytest.approx(0.8)
    # MLE-bench's imet grade.py gives 0.8 on the same rows.
    t = [" ".join(RNG.choice(list("abcdef"), RNG.integers(1, 4), replace=False)) for _ in range(30)]
    p = [" ".join(RNG.choice(list("abcdef"), RNG.integers(0, 4), replace=False)) for _ in range(30)]
    labels = list("abcdef")
    def indicator(rows):
        return np.array([[c in r.split() for c in labels] for r in rows])

    expected = skm.f1_score(indicator(t), indicator(p), average="micro")
    assert score("f1_micro_label_sets", t, p) == pytest.approx(expected)


def test_answer_match():
    # "YES" is acceptable; nothing predicted where there is no answer; "" where 5:9 was wanted
    assert score("answer_match", ["12:20 YES", "", "5:9"], ["YES", "", ""]) == pytest.approx(2 / 3)
    assert score("answer_match", [""], ["3:4"]) == 0.0


# ---------------------------------------------------------------- numbers


def test_gini_normalized():
    # sorted by prediction: actual 1 0 1 0 -> (cumsum 1+1+2+2)/2 - 5/2 = 1/2, /4 = 1/8;
    # perfect order 1 1 0 0 -> 7/2 - 5/2 = 1, /4 = 1/4; ratio 1/2 (= 2 * AUC 0.75 - 1)
    assert score("gini_normalized", [1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1]) == pytest.approx(0.5)
    # continuous: order 2 3 1 -> 13/6 - 2 = 1/6; perfect 3 2 1 -> 14/6 - 2 = 1/3; ratio 1/2
    assert score("gini_normalized", [3, 1, 2], [0.2, 0.1, 0.3]) == pytest.approx(0.5)
    y = RNG.integers(0, 2, 300)
    s = RNG.random(300) + 0.3 * y
    assert score("gini", y, s) == pytest.approx(2 * skm.roc_auc_score(y, s) - 1)


def test_weighted_auc_alaska():
    # ROC points (0,0) (0,.5) (.5,.5) (.5,1) (1,1); TPR 0.4 inserted at FPR 0.
    # band [0, .4] x2: area right of the curve .4; band [.4, 1] x1: .5*.1 + .5*.6 = .35;
    # (2 * .4 + .35) / (2 * .4 + .6) = 1.15 / 1.4
    y, s = [1, 1, 0, 0], [0.9, 0.3, 0.5, 0.1]
    assert score("weighted_auc", y, s) == pytest.approx(1.15 / 1.4)
    assert score("weighted_auc", [0, 1], [0.2, 0.8]) == pytest.approx(1.0)
    # MLE-bench's alaska2 grade.py gives 0.82143 for the first case.


def test_probabilistic_f1():
    # ctp = 0.8 + 0.2 = 1, cfp = 0.4: P = 5/7, R = 1/2 -> 2PR / (P + R) = 10/17
    assert score("probabilistic_f1", [1, 0, 1], [0.8, 0.4, 0.2]) == pytest.approx(10 / 17)
    assert score("probabilistic_f1", [1, 0], [0.0, 1.0]) == 0.0
    # hard 0/1 predictions make it the ordinary F1
    t, p = RNG.integers(0, 2, 100), RNG.integers(0, 2, 100)
    assert score("probabilistic_f1", t, p.astype(float)) == pytest.approx(skm.f1_score(t, p))


def test_weighted_multilabel_logloss():
    # losses ln 2, ln 2, -ln 0.9 with weights 14 (positive summary), 1, 2 (positive) over 17
    expected = (14 * math.log(2) + math.log(2) - 2 * math.log(0.9)) / 17
    assert score("weighted_multilabel_logloss", [[1, 0, 1]], [[0.5, 0.5, 0.9]]) == (
        pytest.approx(expected))


def test_kl_divergence_normalises_votes():
    # votes 3 1 0 -> .75 .25 0: .75 ln(.75/.5) + .25 ln(.25/.5), the 0 cell adds 0;
    # votes 0 0 2 -> 0 0 1: ln(1/.6); mean of the two rows
    expected = (0.75 * math.log(1.5) + 0.25 * math.log(0.5) + math.log(1 / 0.6)) / 2
    y_true = [[3, 1, 0], [0, 0, 2]]
    y_pred = [[0.5, 0.5, 0.0], [0.2, 0.2, 0.6]]
    assert score("kl_divergence", y_true, y_pred) == pytest.approx(expected)


def test_lwlrap():
    # row 1: positives ranked 1st (precision 1) and 3rd (2/3); row 2: ranked 2nd (1/2);
    # every positive label weighs the same: (1 + 2/3 + 1/2) / 3 = 13/18; the empty row is skipped
    y = [[1, 0, 1], [0, 1, 0], [0, 0, 0]]
    s = [[0.9, 0.8, 0.1], [0.3, 0.2, 0.1], [0.5, 0.4, 0.3]]
    assert score("lwlrap", y, s) == pytest.approx(13 / 18)


def test_mean_angular_error():
    # the x axis (azimuth 0, zenith pi/2) against the y axis: pi/2; identical: 0 -> mean pi/4
    y_true = [[0.0, math.pi / 2], [1.0, 0.3]]
    y_pred = [[math.pi / 2, math.pi / 2], [1.0, 0.3]]
    assert score("mean_angular_error", y_true, y_pred) == pytest.approx(math.pi / 4, abs=1e-7)


def test_laplace_log_likelihood():
    # row 1: error 100, sigma 100; row 2: error capped at 1000, sigma floored at 70
    row1 = -math.sqrt(2) * 100 / 100 - math.log(math.sqrt(2) * 100)
    row2 = -math.sqrt(2) * 1000 / 70 - math.log(math.sqrt(2) * 70)
    y_pred = [[2100, 100], [4000, 10]]
    assert score("laplace_log_likelihood", [2000, 2000], y_pred) == pytest.approx((row1 + row2) / 2)


def test_mean_log_mae_by_group():
    # group a: errors 1, 3 -> MAE 2; group b: error 0.5 -> (ln 2 + ln 0.5) / 2 = 0
    metric = get_metric("mean_log_mae_by_group")
    assert metric([0, 0, 0], [1, 3, 0.5], groups=["a", "a", "b"]) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="groups="):
        metric([0, 0], [1, 2])


def test_mean_p50_p95_haversine_by_trip():
    d = 6_371_000 * math.pi / 180  # one degree of longitude on the equator
    y_true = [[0, 0], [0, 0], [0, 0]]
    y_pred = [[0, 1], [0, 0], [0, 1]]
    # trip a: one error d -> p50 = p95 = d; trip b: errors 0, d -> p50 d/2, p95 0.95 d
    expected = (d + (0.5 + 0.95) / 2 * d) / 2
    got = score("mean_p50_p95_haversine_m", y_true, y_pred, groups=["a", "b", "b"])
    assert got == pytest.approx(expected)


def test_jigsaw_bias_auc():
    # (toxic, identity, score): predictions are cut at 0.5 first -> 1 1 1 0 0 0.
    y_true = [[1, 1], [0, 1], [1, 0], [0, 0], [1, 1], [0, 0]]
    y_pred = [0.9, 0.6, 0.7, 0.2, 0.3, 0.1]
    # overall: positives 1 1 0 vs negatives 1 0 0 -> (2.5 + 2.5 + 1) / 9 = 2/3;
    # subgroup (rows 1, 2, 5): positives 1 0 vs negative 1 -> 1/4;
    # BPSN (rows 2, 3): 1 vs 1 -> 1/2; BNSP (rows 1, 5, 4, 6): positives 1 0 vs 0 0 -> 3/4;
    # one identity, so each power mean is its one AUC: 0.25 * (2/3 + 1/4 + 1/2 + 3/4) = 13/24
    assert score("jigsaw_bias_auc", y_true, y_pred) == pytest.approx(13 / 24)
    # MLE-bench's grade.py (identity_columns=["male"]) gives 0.54167 on the same rows.


def test_f1_points_in_boxes():
    truth = ["U+0041 10 10 20 20 U+0042 50 50 10 10", "", "U+0044 0 0 5 5", "U+0045 0 0 4 4"]
    pred = ["U+0041 15 15 U+0041 20 20 U+0042 70 70", "U+0043 1 1", "", "U+0045 4 2"]
    # page 1: box A takes (15, 15), box B has none inside -> tp 1, fn 1, fp 2 (unused points);
    # page 2: fp 1; page 3: fn 1; page 4: x = 4 is on the box's edge, not inside -> fn 1, fp 1.
    # tp 1, fp 4, fn 3: P = 1/5, R = 1/4 -> F1 = 2 / 9
    assert score("f1_points_in_boxes", truth, pred) == pytest.approx(2 / 9)
    with pytest.raises(ValueError, match="groups of 3"):
        score("f1_points_in_boxes", ["U+0041 0 0 4 4"], ["U+0041 1"])


def test_dice_hausdorff_stacks_slices_into_volumes():
    shape = (4, 4)
    corner, empty = mask(shape, (0, 0)), np.zeros(shape, dtype=bool)
    slices = ["case1_day1_slice_0001", "case1_day1_slice_0001", "case1_day1_slice_0002",
              "case2_day1_slice_0001"]
    y_true = [corner, empty, empty, empty]
    y_pred = [corner, empty, corner, empty]
    # Dice per row: 1, skipped (both empty), 0, skipped -> 0.5.
    # Volume case1_day1 (2 x 4 x 4): truth {(0,0,0)}, prediction {(0,0,0), (1,0,0)}; scaled by
    # the shape, (1,0,0) is (0.5, 0, 0): Hausdorff 0.5, over the diagonal sqrt(3).
    # Volume case2_day1 is empty on both sides: skipped.
    expected = 0.4 * 0.5 + 0.6 * (1 - 0.5 / math.sqrt(3))
    got = score("dice_hausdorff", y_true, y_pred, groups=slices)
    assert got == pytest.approx(expected)
    # the same masks as RLE strings, with their shape
    as_rle = [rle.encode(m) for m in y_pred]
    assert score("dice_hausdorff", [rle.encode(m) for m in y_true], as_rle, groups=slices,
                 shapes=shape) == pytest.approx(expected)
    # a prediction with over ten times the true pixels costs the whole distance
    full = np.ones(shape, dtype=bool)
    assert score("dice_hausdorff", [corner], [full], groups=slices[:1]) == pytest.approx(
        0.4 * (2 / 17) + 0.6 * 0)


def test_map_boxes_iou50():
    truth = ["opacity 1 0 0 10 10", "none 1 0 0 1 1", "opacity 1 0 0 10 10"]
    pred = ["opacity 0.9 0 0 10 10 opacity 0.8 20 20 30 30", "none 0.7 0 0 1 1", ""]
    # none: (0, 0) for item 1, a hit at 0.7, (0, 0) for item 3 -> the one positive ranks first: 1.
    # opacity: hit 0.9, miss 0.8, (0, 0) for item 2, an unmatched true box (1, 0):
    # AP = 0.5 x 1 (at 0.9) + 0 (at 0.8) + 0.5 x 0.5 (at 0) = 0.75 -> mean (1 + 0.75) / 2
    assert score("map_boxes_iou50", truth, pred) == pytest.approx(0.875)
    # MLE-bench's siim-covid19 grade.py gives 0.875 on the same rows.
    # IoU exactly 0.5 is no hit: the only pair left is the unmatched box (1, 0) and the miss
    half = score("map_boxes_iou50", ["opacity 1 0 0 10 10", "none 1 0 0 1 1"],
                 ["opacity 0.9 0 0 10 5", "none 0.6 0 0 1 1"])
    y, s = [0, 1, 0], [0.9, 0.0, 0.0]  # opacity's pairs: miss 0.9, true box 0, item 2's (0, 0)
    assert half == pytest.approx((skm.average_precision_score(y, s) + 1.0) / 2)


def test_map_boxes_iou40_as_coco_reads_the_boxes():
    # the truth: image a holds a class-0 and a class-3 box, b nothing found (14), c a class-0 box
    truth = ["0 1 10 10 50 60 3 1 100 20 140 90", "14 1 0 0 1 1", "0 1 30 40 70 80"]
    pred = ["0 0.9 12 8 52 58 3 0.4 60 20 100 90 14 0.2 0 0 1 1", "14 0.8 0 0 1 1 0 0.7 10 10 50 60",
            "0 0.6 31 44 70 83 0 0.3 0 0 20 20 14 0.1 0 0 1 1"]
    # boxes read as x y width height: class 0 ranks hit, miss, hit, miss (IoUs 0.81, 0.85), precision at 101
    # recall points 1 up to recall 0.5 and 2/3 after; class 3's IoU is 1/3, below 0.4: AP 0; 14 ranks its hit first
    expected = ((51 + 50 * 2 / 3) / 101 + 0 + 1) / 3
    assert score("map@iou0.4", truth, pred) == pytest.approx(expected)
    # MLE-bench's vinbigdata grade.py (pycocotools) gives 0.61166 on the same rows (its truth boxes numbered from 1)
    assert expected == pytest.approx(0.61166, abs=1e-5)
    # x_max and y_max read as width and height: a box that misses as corners (IoU 0.22) hits (IoU 0.86)
    assert score("map@iou0.4", ["0 1 100 100 110 110"], ["0 0.9 104 104 114 114"]) == 1.0
    assert score("map@iou0.4", ["0 1 100 100 110 110"], ["0 0.9 160 160 170 170"]) == 0.0


def test_logloss_mean_columnwise():
    # column 1: -(ln 0.8 + ln 0.6) / 2; column 2: -(ln 0.5 + ln 0.9) / 2; mean of the two
    y, p = [[1, 0], [0, 1]], [[0.8, 0.5], [0.4, 0.9]]
    expected = (-(math.log(0.8) + math.log(0.6)) / 2 - (math.log(0.5) + math.log(0.9)) / 2) / 2
    assert score("Mean Columnwise Log Loss", y, p) == pytest.approx(expected)
    t, s = RNG.integers(0, 2, (50, 3)), RNG.random((50, 3))
    reference = np.mean([skm.log_loss(t[:, c], s[:, c]) for c in range(3)])
    assert score("logloss_mean_columnwise", t, s) == pytest.approx(reference)


def test_probability_maps_are_not_masks():
    with pytest.raises(ValueError, match="threshold probabilities"):
        score("dice", [np.ones((2, 2))], [np.full((2, 2), 0.3)])
    assert score("dice", [np.ones((2, 2), dtype=np.uint8)], [np.ones((2, 2))]) == 1.0
