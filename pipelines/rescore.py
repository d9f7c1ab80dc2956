"""A node's score recomputed from its out-of-fold predictions, for every answer shape.

result.json is written in the candidate's own process, so the agent never takes its score on
trust: it loads `oof.npy`, scores it with the run's metric on the run's folds as the harness did,
and compares. Each shape scores its own way (rows through a fitted threshold, strings as they
are, masks through the fitted rule), so the check dispatches like the harness does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pipelines.context import Context
from pipelines.metrics import get_metric
from pipelines.rundata import RunData
from pipelines.shapes import STRING_SHAPES


def claimed_and_earned(data: RunData, oof: np.ndarray, result: dict[str, Any], seed: int) -> list[tuple[float, float]]:
    """(score the node claims, score its predictions earn) for each score result.json states."""
    spec, metric = data.spec, get_metric(data.spec.metric)
    facts = result.get("facts", {})
    if spec.answer_shape == "mask":
        from pipelines.shapes.masks import decide_rule, load_masks

        y = load_masks(data.train, spec)
        if oof.shape != y.shape:
            raise ValueError(f"shape {oof.shape}, expected {y.shape}")
        held_out = ~np.isnan(oof.reshape(len(oof), -1)).any(axis=1)
        return [(result["score"], decide_rule(y[held_out], oof[held_out], metric, seed)[1])]
    if spec.answer_shape in STRING_SHAPES:
        from pipelines.shapes.strings import answers

        validated = data.folds >= 0
        return [(result["score"], float(metric(answers(data.train, spec)[validated], oof.astype(str)[validated])))]
    from pipelines.harness import oof_score
    from pipelines.targets import encode_target
    from pipelines.thresholds import decide_threshold

    if oof.dtype.kind not in "fiub":
        raise ValueError(f"dtype {oof.dtype} is not numeric")
    oof = np.asarray(oof, dtype=np.float64)
    y = encode_target(data.train, spec)
    plain = oof_score(y, oof, data.folds, Context(spec=spec), metric)
    if "threshold" not in facts:
        return [(result["score"], plain)]
    thresholded = decide_threshold(y, oof, data.folds, spec, metric, plain)[1]
    return [(facts.get("score_without_threshold", result["score"]), plain), (result["score"], thresholded)]


def unearned_score(data: RunData, oof_path, result: dict[str, Any], seed: int) -> str | None:
    """Why the node's stated score is not what its out-of-fold predictions earn, or None when it is."""
    try:
        oof = np.load(oof_path, mmap_mode="r", allow_pickle=False)
        if oof.shape[:1] != (len(data.train),):
            return f"its out-of-fold predictions have shape {oof.shape}, expected {len(data.train)} rows"
        pairs = claimed_and_earned(data, np.array(oof), result, seed)
    except Exception as exc:  # noqa: BLE001 - whatever the files hold, the node fails, not the agent
        return f"its out-of-fold predictions could not be scored: {exc}"[:500]
    for said, computed in pairs:
        if not math.isclose(said, computed, rel_tol=1e-6, abs_tol=1e-9):
            return f"its reported score {said:.6g} is not what its out-of-fold predictions earn ({computed:.6g})"
    return None
