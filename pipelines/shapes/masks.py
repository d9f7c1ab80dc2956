"""Answers that are a mask per item (an image): reading them, validating candidates on held-out items,
and writing the submission as the sample asks for it (run-length strings).

The harness holds out training items, has the candidate predict a probability per pixel for them
exactly as for the test items, and turns probabilities into masks by a rule it fits itself on the
held-out items: a probability cut and a smallest mask area (fewer foreground pixels than that make
an empty mask, which most mask metrics reward when the true mask is empty). The rule's score is
cross-fitted (fitted on one half of the held-out items, scored on the other, and the other way
round), so it stays comparable with a fixed rule. The candidate never sees a held-out mask.

Contract of a mask solution (built-in or LLM-written):
- `features(train, test, ctx)` returns input arrays (n, C, H, W) for the rows given (the items'
  images: `read_images(frame, ctx)`, perhaps with more channels); it never sees a mask;
- `model(params, ctx)` returns an estimator: `fit(X, y)` with `y` the 0/1 masks (n, H, W) and
  `predict(X)` returning per-pixel probabilities (n, H, W);
- or `fit_predict(train, test, folds, ctx)` returning (oof, test) probabilities, oof (n, H, W)
  with NaN for items never held out.
"""

from __future__ import annotations

import logging
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from PIL import Image

from pipelines import rle
from pipelines.files import ANSWER_FOLDER_WORDS, IMAGE_SUFFIXES, FileCatalog, file_paths
from pipelines.image_files import DEEP_MODES, image_size, open_image, read_array_record
from pipelines.metrics import Metric, get_metric
from pipelines.metrics.masks import Mask, as_mask
from pipelines.spec import CompetitionSpec

if TYPE_CHECKING:
    from pipelines.context import Context

log = logging.getLogger(__name__)

CUTS = np.round(np.arange(0.3, 0.71, 0.05), 2)
TRAIN_PIXELS = 200_000_000  # of the training images at their size: 0.8 GB a channel as float32
MIN_TRAIN_ITEMS = 500  # kept however large the images
ORDER_MARGIN = 1.25  # how much more contrast one pixel order's masks must show to overrule a description
MAX_PLANE_VALUES = 8  # categories of a row given to a mask network as constant planes
MIN_AREA_SHARES = (0.0, 0.001, 0.0025, 0.005, 0.01, 0.02)  # of the image's pixels
FIT_SHARE = 0.7  # of the time left as a fold starts, for its fit: the rest predicts, scores and writes, and a
# node well within its limit leaves the run time for a second one that continues its training


class MaskSolutionError(Exception):
    """A mask solution broke the contract (wrong shapes, values outside [0, 1])."""


# --- reading ---------------------------------------------------------------------------------------

def is_rle_column(values: pd.Series) -> bool:
    """Whether a column holds run-length strings: every value empty or `start length` pairs with
    increasing starts, and some with several pairs (a lone "1 1" could be a placeholder)."""
    present = values.dropna().astype(str).str.strip()
    present = present[present != ""]
    if present.empty:
        return False
    sample = present.sample(min(len(present), 200), random_state=0)
    try:
        lengths = [len(rle.runs(v)[0]) for v in sample]
    except ValueError:
        return False
    return max(lengths) >= 2


def image_path_column(spec: CompetitionSpec) -> str:
    if not spec.image_columns:
        raise MaskSolutionError("a mask answer needs a column naming each item's image; none was found")
    return spec.image_columns[0]


@lru_cache(maxsize=1 << 16)
def image_shape(path: str) -> tuple[int, int]:
    """(height, width) from the file's header."""
    return image_size(path)


def item_shapes(frame: pd.DataFrame, spec: CompetitionSpec) -> list[tuple[int, int]]:
    """Each row's image (height, width): the spec's `image_size` when all images share it, else each file's."""
    if spec.image_size is not None and not spec.mixed_image_sizes:
        return [tuple(spec.image_size)] * len(frame)
    return [image_shape(p) for p in file_paths(frame, image_path_column(spec))]


def size_census(paths: list[str]) -> tuple[tuple[int, int], bool] | None:
    """The (height, width) most of these images share, and whether any has another size (files that are no
    images aside)."""
    shapes = pd.Series([shape for p in paths if p and (shape := _shape_or_none(p)) is not None])
    return (shapes.mode()[0], shapes.nunique() > 1) if len(shapes) else None


def _shape_or_none(path: str) -> tuple[int, int] | None:
    try:
        return image_shape(path)
    except (OSError, ValueError):
        return None


def _resized(array: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    """An image (H, W[, 3]) or 0/1 mask at (height, width) `size`, in its own dtype."""
    if array.shape[:2] == tuple(size):
        return array
    how = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    if array.ndim == 3 and array.dtype == np.uint8 and array.shape[2] in (3, 4):
        return np.asarray(Image.fromarray(array).resize(size[::-1], how))
    if array.ndim == 3:  # a record's channels, in their own units
        return np.stack([_resized(array[:, :, c], size, nearest) for c in range(array.shape[2])], axis=-1)
    resized = np.asarray(Image.fromarray(array.astype(np.float32), mode="F").resize(size[::-1], how))
    return np.rint(resized).astype(array.dtype) if np.issubdtype(array.dtype, np.integer) else resized


GRAY_MODES = {"1", "L", "LA", "P", "I", "I;16", "I;16B", "I;16L", "F"}


def image_channels(path: str) -> int:
    """1 for a grayscale image, also one stored as RGB with three equal bands (tgs-salt's); else 3; a record's
    own number of channels."""
    if Path(path).is_dir():
        return read_array_record(path).shape[2]
    with open_image(path) as image:
        if image.mode in GRAY_MODES:
            return 1
        rgb = np.asarray(image.convert("RGB"))
    return 1 if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all() else 3


def _read(path: str, channels: int) -> np.ndarray:
    if Path(path).is_dir():
        return read_array_record(path)
    with open_image(path) as image:
        if channels == 1 and image.mode in DEEP_MODES:
            return np.asarray(image)  # more than 8 bits: kept as they are (models standardise their inputs)
        return np.asarray(image.convert("L" if channels == 1 else "RGB"))


def read_images(frame: pd.DataFrame, ctx: Context) -> np.ndarray:
    """The rows' images as one array (n, C, H, W), uint8 unless they hold more than 8 bits (float32 for records
    of arrays): one channel when the first image is grayscale; an image of another size than the spec's is
    resized to it."""
    paths = list(file_paths(frame, image_path_column(ctx.spec)))
    if not paths:
        raise MaskSolutionError("no images to read")
    channels = image_channels(paths[0])
    size = ctx.spec.image_size

    def one(path: str) -> np.ndarray:
        image = _read(path, channels)
        return image if size is None else _resized(image, size)

    with ThreadPoolExecutor(max_workers=max(2, ctx.n_jobs)) as pool:
        arrays = list(pool.map(one, paths))
    if len({a.shape for a in arrays}) > 1:
        raise MaskSolutionError("the images differ in size; read_images needs one size (resize them in features())")
    stacked = np.stack(arrays)
    return stacked[:, None] if stacked.ndim == 3 else stacked.transpose(0, 3, 1, 2)


def with_row_categories(X_train: np.ndarray, X_test: np.ndarray, train: pd.DataFrame, test: pd.DataFrame,
                        ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """The images with a constant 0/1 plane per value of each category the rows have beside their image
    (2 to MAX_PLANE_VALUES values in train, none new in test): when each row asks for one class's mask
    of an image shared by several rows, the class must reach the network."""
    planes: list[tuple[np.ndarray, np.ndarray]] = []
    for column in ctx.spec.categorical_columns:
        values = sorted(train[column].dropna().astype(str).unique())
        if not 2 <= len(values) <= MAX_PLANE_VALUES or not test[column].astype(str).isin(values).all():
            continue
        planes += [((train[column].astype(str) == v).to_numpy(), (test[column].astype(str) == v).to_numpy())
                   for v in values]
    if not planes:
        return X_train, X_test

    def stacked(X: np.ndarray, marks: list[np.ndarray]) -> np.ndarray:
        onehot = np.stack(marks, axis=1).astype(X.dtype)[:, :, None, None]
        return np.concatenate([X, np.broadcast_to(onehot, (len(X), len(marks), *X.shape[2:]))], axis=1)

    return stacked(X_train, [p[0] for p in planes]), stacked(X_test, [p[1] for p in planes])


def _read_mask(path: str) -> np.ndarray:
    """Foreground where any band is nonzero, whatever the file's bit depth."""
    with open_image(path) as image:
        pixels = np.asarray(image)
    return (pixels.any(axis=-1) if pixels.ndim == 3 else pixels > 0).astype(np.uint8)


def mask_files(image_paths: list[str]) -> list[str] | None:
    """Each image's mask file: the same file name in a folder beside the image's whose name says masks
    (`train/images/x.png` -> `train/masks/x.png`); None unless every image has one."""
    found = []
    folders: dict[Path, list[Path]] = {}
    for path in image_paths:
        if not path:
            return None
        image = Path(path)
        siblings = folders.setdefault(image.parent, [
            d for d in sorted(image.parent.parent.iterdir()) if d.is_dir() and d != image.parent
            and set(re.split(r"[^a-z0-9]+", d.name.lower())) & ANSWER_FOLDER_WORDS - {"cleaned"}])
        match = next((c for d in siblings for c in [d / image.name, *(d / (image.stem + s) for s in IMAGE_SUFFIXES)]
                      if c.is_file()), None)
        if match is None:
            return None
        found.append(str(match))
    return found


def load_masks(frame: pd.DataFrame, spec: CompetitionSpec) -> np.ndarray:
    """The rows' true masks as uint8 0/1 (n, H, W): decoded from the target's run-length strings,
    or read from the mask files beside the images when the table has none; at the spec's image size."""
    shapes = item_shapes(frame, spec)
    size = spec.image_size or shapes[0]
    if has_rle_target(frame, spec):
        target = spec.target_columns[0]
        values = frame[target].where(frame[target].notna(), "").astype(str)
        found = [rle.decode(v, s, spec.mask_order).astype(np.uint8) for v, s in zip(values, shapes)]
    else:
        paths = mask_files(list(file_paths(frame, image_path_column(spec))))
        if paths is None:
            raise MaskSolutionError(f"no run-length column {spec.target_columns} and no mask files beside the images")
        found = [_read_mask(p) for p in paths]
    return np.stack([_resized(m, size, nearest=True) for m in found])


def order_from_images(runs: list[str], paths: list[str]) -> str | None:
    """The pixel order ("C" or "F") under which these run-length masks sit on what their images show, or
    None when neither order stands out. Descriptions can be wrong about it (uw-madison's says down the
    columns first; its masks run along the rows), and masks decoded in the wrong order teach a network
    shapes its images do not have. The pixels inside the right mask differ from those around it."""
    contrast: dict[str, list[float]] = {"C": [], "F": []}
    for value, path in zip(runs, paths):
        if not isinstance(value, str) or not value.strip() or not path:
            continue
        image = _read(path, 1).astype(np.float32)
        image = image.mean(axis=-1) if image.ndim == 3 else image
        for order in contrast:
            try:
                mask = rle.decode(value, image.shape[:2], order)
            except ValueError:  # runs past this image's pixels: not its mask
                continue
            if 0 < mask.sum() < mask.size:
                contrast[order].append(abs(image[mask].mean() - image[~mask].mean()) / (image.std() + 1e-6))
    if min(len(c) for c in contrast.values()) < 5:
        return None
    c_order, f_order = np.mean(contrast["C"]), np.mean(contrast["F"])
    return "C" if c_order > ORDER_MARGIN * f_order else "F" if f_order > ORDER_MARGIN * c_order else None


def train_item_cap(spec: CompetitionSpec, train: pd.DataFrame, catalog: FileCatalog) -> int:
    """The most training items whose images fit the memory a mask network is given (0: no cap): as many float32
    planes as a record of arrays has channels; an 8-bit image's colours take less than one."""
    if spec.image_size is None:
        return 0
    found = catalog.find(train[spec.image_columns[0]].iloc[0], "train") if spec.image_columns and len(train) else None
    first = catalog.folder / found.member if found is not None and found.archive is None else None
    channels = image_channels(str(first)) if first is not None and first.is_dir() else 1
    return max(MIN_TRAIN_ITEMS, TRAIN_PIXELS // (int(np.prod(spec.image_size)) * channels))


def has_rle_target(frame: pd.DataFrame, spec: CompetitionSpec) -> bool:
    return bool(spec.target_columns) and spec.target_columns[0] in frame.columns \
        and is_rle_column(frame[spec.target_columns[0]])


def mask_areas(frame: pd.DataFrame, spec: CompetitionSpec) -> np.ndarray:
    """Foreground pixels per row, from the run-length strings without decoding them (for stratified folds)."""
    values = frame[spec.target_columns[0]]
    return np.array([int((e - s).sum()) for s, e in map(rle.runs, values.where(values.notna(), ""))])


def coverage_strata(frame: pd.DataFrame, spec: CompetitionSpec) -> np.ndarray:
    """Empty masks in one stratum, the others in quintiles of their area: held-out items like the rest
    (one stratum when the masks are files, not run-length strings)."""
    if not has_rle_target(frame, spec):
        return np.zeros(len(frame), dtype=np.int64)
    areas = mask_areas(frame, spec)
    strata = np.zeros(len(areas), dtype=np.int64)
    full = areas > 0
    if full.sum() >= 5:
        strata[full] = 1 + np.searchsorted(np.quantile(areas[full], [0.2, 0.4, 0.6, 0.8]), areas[full], side="right")
    return strata


def profile_facts(frame: pd.DataFrame, spec: CompetitionSpec) -> dict[str, Any]:
    """What an engineer looks at first in masks: how many are empty, how much of the image the others cover."""
    areas = mask_areas(frame, spec) if has_rle_target(frame, spec) \
        else load_masks(frame, spec).reshape(len(frame), -1).sum(axis=1)
    pixels = spec.image_size[0] * spec.image_size[1] if spec.image_size else None
    full = areas[areas > 0]
    facts: dict[str, Any] = {"answer_shape": "mask", "image_size": spec.image_size, "empty_share": round(float(np.mean(areas == 0)), 4)}
    if pixels and len(full):
        facts["coverage_of_non_empty"] = {q: round(float(np.quantile(full, v)) / pixels, 4)
                                          for q, v in (("p10", 0.1), ("median", 0.5), ("p90", 0.9))}
    return facts


# --- from probabilities to masks ------------------------------------------------------------------

def above(proba: np.ndarray, cut: float) -> np.ndarray:
    """Pixels above the cut, compared in float32 whatever the array's type: a node scores its float32
    probabilities, the agent re-scores them as stored (float16), and a cut cast to float16 would move."""
    return np.nan_to_num(np.asarray(proba, dtype=np.float32), nan=0.0) > np.float32(cut)


def apply_rule(proba: np.ndarray, rule: dict[str, float] | None) -> np.ndarray:
    """0/1 masks from probabilities: above the cut, and empty when fewer pixels than the rule's minimum."""
    rule = rule or {"cut": 0.5, "min_area": 0.0}
    masks = above(proba, rule["cut"]).astype(np.uint8)
    areas = masks.reshape(len(masks), -1).sum(axis=1)
    masks[areas < rule["min_area"]] = 0
    return masks


def rule_score(y: np.ndarray, proba: np.ndarray, rule: dict[str, float], metric: Metric) -> float:
    return metric(list(y), list(apply_rule(proba, rule)))


def best_rule(y: np.ndarray, proba: np.ndarray, metric: Metric) -> dict[str, float]:
    """The cut and smallest area that score best on these items (ties: the earlier, plainer rule).

    Runs are found once per item for the truth and once per cut for the prediction (a smallest area
    only empties masks), so the search costs what a dozen scorings cost, not one per rule."""
    sign = 1.0 if metric.greater_is_better else -1.0
    pixels = int(np.prod(y.shape[1:]))
    truth = [as_mask(m, None, metric.rle_order) for m in y > 0]
    empty = Mask(np.zeros(0, np.int64), np.zeros(0, np.int64), y.shape[1:], metric.rle_order)
    scores: dict[tuple[float, float], float] = {}
    for cut in CUTS:
        masks = above(proba, cut)
        predicted = [as_mask(m, None, metric.rle_order) for m in masks]
        areas = masks.reshape(len(masks), -1).sum(axis=1)
        for share in MIN_AREA_SHARES:
            min_area = float(math.ceil(share * pixels))
            kept = [p if a >= min_area else empty for p, a in zip(predicted, areas)]
            scores[float(cut), min_area] = sign * metric(truth, kept)
    cut, min_area = max(sorted(scores, key=lambda r: (r[1], r[0])), key=scores.get)
    return {"cut": cut, "min_area": min_area}


def decide_rule(y: np.ndarray, proba: np.ndarray, metric: Metric, seed: int = 0) -> tuple[dict[str, float], float]:
    """The rule fitted on every held-out item, and its honest score: each half scored by the rule
    fitted on the other half."""
    order = np.random.default_rng(seed).permutation(len(y))
    halves = [order[: len(y) // 2], order[len(y) // 2:]]
    if min(map(len, halves)) < 2:
        rule = best_rule(y, proba, metric)
        return rule, rule_score(y, proba, rule, metric)
    masks = np.zeros_like(y)
    for fit, score_on in (halves, halves[::-1]):
        masks[score_on] = apply_rule(proba[score_on], best_rule(y[fit], proba[fit], metric))
    return best_rule(y, proba, metric), metric(list(y), list(masks))


# --- validation ---------------------------------------------------------------------------------

def _checked(name: str, values: Any, shape: tuple[int, ...], allow_nan: bool = False) -> np.ndarray:
    values = np.asarray(values, dtype=np.float32)
    if values.shape != shape:
        raise MaskSolutionError(f"{name} has shape {values.shape}, expected {shape} (a probability per pixel)")
    finite = values[~np.isnan(values)] if allow_nan else values
    if not allow_nan and np.isnan(values).any():
        raise MaskSolutionError(f"{name} holds NaN")
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        raise MaskSolutionError(f"{name} holds values outside [0, 1]; predict probabilities")
    return values


def _inputs(solution: ModuleType, train: pd.DataFrame, test: pd.DataFrame, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    X_train, X_test = solution.features(train.reset_index(drop=True), test.reset_index(drop=True), ctx)
    for X, n, name in ((X_train, len(train), "train"), (X_test, len(test), "test")):
        if not hasattr(X, "shape") or len(X) != n:
            raise MaskSolutionError(f"features() returned {getattr(X, 'shape', type(X).__name__)} for {name}; "
                                    f"expected an array with {n} items first")
    return X_train, X_test


def cross_validate(solution: ModuleType, train: pd.DataFrame, test: pd.DataFrame, folds: np.ndarray, ctx: Context,
                   params: dict[str, Any] | None = None):
    """Out-of-fold and test probabilities of a mask solution on the run's held-out items, scored by the
    competition's metric through the fitted rule (`facts["threshold"]`, which the submission applies)."""
    from pipelines.harness import CVResult, fit_facts  # the harness dispatches here: import at call time

    started = time.perf_counter()
    metric = get_metric(ctx.spec.metric)
    y = load_masks(train, ctx.spec)
    test = test.drop(columns=ctx.spec.target_columns, errors="ignore")
    shape = y.shape[1:]
    params = {**getattr(solution, "PARAMS", {}), **(params or {})}
    facts: dict[str, Any] = {}
    if callable(getattr(solution, "fit_predict", None)):
        returned = solution.fit_predict(train, test, folds, ctx)
        if not isinstance(returned, tuple) or len(returned) not in (2, 3):
            raise MaskSolutionError("fit_predict returns (oof, test_pred) or (oof, test_pred, facts)")
        oof = _checked("oof", returned[0], y.shape, allow_nan=True)
        test_pred = _checked("test", returned[1], (len(test), *shape))
        facts.update(dict(returned[2]) if len(returned) == 3 else {})
    else:
        oof = np.full(y.shape, np.nan, dtype=np.float32)
        test_pred = np.zeros((len(test), *shape), dtype=np.float32)
        fold_ids = sorted(set(folds[folds >= 0].tolist()))
        fits = []
        X_train, X_test = _inputs(solution, train, test, ctx)
        for i, k in enumerate(fold_ids):
            fit_rows, valid_rows = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
            seconds = FIT_SHARE * ctx.seconds_left() / (len(fold_ids) - i)
            fold_ctx = ctx if math.isinf(seconds) else replace(ctx, fit_deadline=ctx.clock() + seconds)
            estimator = solution.model(dict(params), fold_ctx)
            estimator.fit(X_train[fit_rows], y[fit_rows])
            oof[valid_rows] = _checked("predict() on held-out items", estimator.predict(X_train[valid_rows]),
                                       (len(valid_rows), *shape))
            test_pred += _checked("predict() on test", estimator.predict(X_test), test_pred.shape) / len(fold_ids)
            fits.append(fit_facts(estimator))
        if any(fits):
            facts["fits"] = fits
    # Half precision halves what a node keeps on disk; the score is of what is kept, so it can be re-checked.
    oof, test_pred = oof.astype(np.float16).astype(np.float32), test_pred.astype(np.float16)
    held_out = ~np.isnan(oof.reshape(len(oof), -1)).any(axis=1)
    if not held_out.any():
        raise MaskSolutionError("no item was held out and predicted")
    rule, score = decide_rule(y[held_out], oof[held_out], metric, ctx.seed)
    fold_scores = [metric(list(y[folds == k]), list(apply_rule(oof[folds == k], rule)))
                   for k in sorted(set(folds[held_out & (folds >= 0)].tolist()))]
    facts.update(threshold=rule, score_at_half=rule_score(y[held_out], oof[held_out], {"cut": 0.5, "min_area": 0},
                                                           metric))
    return CVResult(oof=oof.astype(np.float16), test=test_pred, fold_scores=fold_scores, score=score, params=params,
                    seconds=time.perf_counter() - started, facts=facts)


# --- submission ---------------------------------------------------------------------------------

def submission_frame(ids: pd.Series, proba: np.ndarray, spec: CompetitionSpec, rule: dict[str, float] | None,
                     shapes: list[tuple[int, int]] | None = None) -> pd.DataFrame:
    """One run-length string per test item (empty for an empty mask), in the sample's column; each mask
    at its item's own (height, width) in `shapes` when the images differ in size."""
    masks = apply_rule(np.asarray(proba), rule)
    if shapes is not None:
        masks = [_resized(m, s, nearest=True) for m, s in zip(masks, shapes)]
    return pd.DataFrame({spec.id_column: ids.to_numpy(),
                         spec.submission_columns[0]: [rle.encode(m, spec.mask_order) or spec.empty_mask
                                                      for m in masks]})


def empty_submission(ids: pd.Series, spec: CompetitionSpec) -> pd.DataFrame:
    """Every test item's mask empty: what a run submits before any candidate has finished."""
    return pd.DataFrame({spec.id_column: ids.to_numpy(), spec.submission_columns[0]: [spec.empty_mask] * len(ids)})


def submission_problems(submission: pd.DataFrame, spec: CompetitionSpec) -> list[str]:
    """Why the answer column would be rejected: strings that are not valid run-length encodings, or
    runs past the image's last pixel when the image size is known."""
    column = spec.submission_columns[0]
    pixels = None if spec.image_size is None or spec.mixed_image_sizes else spec.image_size[0] * spec.image_size[1]
    bad = []
    for item, value in zip(submission[spec.id_column], submission[column]):
        try:
            _, ends = rle.runs("" if value is None or (isinstance(value, float) and math.isnan(value)) else value)
        except ValueError as exc:
            bad.append(f"{item}: {exc}")
            continue
        if pixels is not None and len(ends) and ends[-1] > pixels:
            bad.append(f"{item}: runs past pixel {pixels}")
    return [f"column {column!r} has {len(bad)} invalid run-length masks, e.g. {bad[0]}"] if bad else []
