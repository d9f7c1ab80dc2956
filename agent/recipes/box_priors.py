"""Boxes where each class's boxes usually are, scored per image: each class's training boxes (relative to
their image's size) are clustered into a few typical boxes; LightGBM on a coarse grey thumbnail of the image
(and the table's columns) gives the chance that the image holds a box of the class, and each typical box is
answered at that chance times its share of the class's boxes. A class whose every box is the whole image (no
finding) is answered as one whole-image box at its own chance. Seconds per fold; no detector is trained."""

import numpy as np
import pandas as pd

from pipelines.features import join_blocks, tabular
from pipelines.files import file_paths
from pipelines.image_files import cached_images
from pipelines.models import GBDT
from pipelines.shapes.boxes import WHOLE_IMAGE, BoxClasses, item_sizes, parse, written

SHARP_THUMBNAILS = False  # 32 px thumbnails instead of 16: small findings show, at four times the features
MORE_TYPICAL_BOXES = False  # up to 6 typical boxes per class instead of 3: more places found, each less sure

THUMBNAIL_SIDE = 32 if SHARP_THUMBNAILS else 16
TYPICAL_BOXES = 6 if MORE_TYPICAL_BOXES else 3  # per class, at most
FINDINGS_PER_TYPICAL_BOX = 5  # a class with fewer findings than this per typical box gets fewer boxes
MIN_POSITIVES = 5  # images holding a class, below which its chance is its share of training images
PARAMS = {"learning_rate": 0.05, "num_leaves": 15, "min_child_samples": 10, "colsample_bytree": 0.5}
# LightGBM runs on one thread: a class's model is small, and waking a second sleeping OpenMP thread for each
# of its trees made the node 2.4 times slower (45 s against 19 s for vinbigdata's miniature's five folds).

def _images(frame, ctx):
    """Thumbnail pixels and (height, width) per row, from the row's image (zeros when it has none)."""
    if not ctx.spec.image_columns:
        return pd.DataFrame(index=range(len(frame))), np.ones((len(frame), 2))
    paths = file_paths(frame, ctx.spec.image_columns[0]).tolist()
    pixels = cached_images(paths, THUMBNAIL_SIDE, 1, ctx.n_jobs).reshape(len(paths), -1)
    sizes = item_sizes(paths)
    columns = [f"thumb_{i}" for i in range(pixels.shape[1])]
    X = pd.DataFrame(pixels.astype(np.float32), columns=columns).assign(height=sizes[:, 0], width=sizes[:, 1])
    return X, sizes


def _typical_boxes(relative):
    """Up to TYPICAL_BOXES cluster centres of relative boxes (x0, y0, x1, y1), with each one's share."""
    from sklearn.cluster import KMeans

    k = int(min(TYPICAL_BOXES, max(1, len(relative) // FINDINGS_PER_TYPICAL_BOX)))
    if k == 1:
        return np.median(relative, axis=0, keepdims=True), np.ones(1)
    fitted = KMeans(k, n_init=4, random_state=0).fit(relative)
    return fitted.cluster_centers_, np.bincount(fitted.labels_, minlength=k) / len(relative)


def _chance(X, present, X_test, ctx):
    if present.sum() < MIN_POSITIVES or present.sum() > len(present) - MIN_POSITIVES:
        return np.full(len(X_test), present.mean())
    model = GBDT("lightgbm", classifier=True, params=PARAMS, n_estimators=300, early_stopping_rounds=30,
                 n_jobs=1, seed=ctx.seed, deadline=ctx.fit_deadline)
    return model.fit(X, present.astype(int)).predict_proba(X_test)[:, 1]


def fit_predict(train, test, ctx):
    target = ctx.spec.target_columns[0]
    truth = [parse(text) for text in train[target]]
    (X, sizes), (X_test, test_sizes) = _images(train, ctx), _images(test, ctx)
    X, X_test = join_blocks(X, X_test, tabular(train.drop(columns=[target]), test, ctx.spec))
    answers = [[] for _ in range(len(test))]
    classes = BoxClasses.of(truth)
    for label in classes.placed + classes.whole:
        present = np.array([any(box[0] == label for box in boxes) for boxes in truth])
        chance = _chance(X, present, X_test, ctx)
        if label in classes.whole:
            for i, p in enumerate(chance):
                answers[i].append((label, float(p), *WHOLE_IMAGE))
            continue
        placed = [(i, box[2:]) for i, boxes in enumerate(truth) for box in boxes if box[0] == label]
        rows, corners = np.array([i for i, _ in placed]), np.array([c for _, c in placed], dtype=float)
        scale = np.c_[sizes[rows, 1], sizes[rows, 0], sizes[rows, 1], sizes[rows, 0]]
        centres, shares = _typical_boxes(corners / scale)
        for i, p in enumerate(chance):
            height, width = test_sizes[i]
            for centre, share in zip(centres, shares):
                x0, y0, x1, y1 = centre * [width, height, width, height]
                answers[i].append((label, float(p * share), x0, y0, x1, y1))
    return [written(boxes) for boxes in answers]
