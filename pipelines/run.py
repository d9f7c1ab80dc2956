"""Entry point of a candidate's child process: `python -m pipelines.run <node_dir>`.

Reads `<node_dir>/job.json`, runs the solution in `<node_dir>/solution.py` under the harness,
and writes `result.json`, `oof.npy`, `test.npy` and `submission.csv` into the node folder.
The parent process never imports candidate code; it only reads these files.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from pipelines.context import Context
from pipelines.folds import make_folds
from pipelines.harness import CVResult, cross_validate, load_solution, tune
from pipelines.rundata import RunData
from pipelines.submission import write_submission
from pipelines.targets import submission_frame


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _json_safe(params: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(params, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


def save_result(node_dir: Path, data: RunData, result: CVResult) -> dict[str, Any]:
    """Write predictions and the validated submission; return what goes into result.json."""
    np.save(node_dir / "oof.npy", result.oof)
    np.save(node_dir / "test.npy", result.test)
    if _constant_per_fold(np.asarray(result.oof), data.folds):
        result.facts["constant_predictions"] = True  # one row repeated: nothing for an ensemble to weigh
    ids = data.test[data.spec.id_column]
    submission = submission_frame(ids, result.test, data.spec, result.facts.get("threshold"), data.test)
    write_submission(submission, data.sample, data.spec, node_dir / "submission.csv")
    if result.importance is not None:  # for the report: what the tree model split on
        (node_dir / "importance.json").write_text(json.dumps(result.importance))
    return {
        "status": "ok",
        "score": result.score,
        "fold_scores": result.fold_scores,
        "params": _json_safe(result.params),
        "seconds": result.seconds,
        "n_features": result.n_features,
        "facts": _json_safe(result.facts),
    }


def _constant_per_fold(oof: np.ndarray, folds: np.ndarray) -> bool:
    """Whether each fold's model predicted the same for all of its rows (a prior, fitted per fold)."""
    if oof.dtype.kind != "f" or len(oof) != len(folds) or not (folds >= 0).any():
        return False
    return all(np.ptp(oof[folds == k], axis=0).max(initial=0.0) <= 1e-12 for k in np.unique(folds[folds >= 0]))


def _deadline(time_limit: float | None) -> float | None:
    """The monotonic time at which the sandbox kills this process, counted from the process's start."""
    if time_limit is None:
        return None
    # /proc/self, not os.getpid(): in the sandbox's PID namespace this process is 1 there, another number in /proc
    started = psutil.Process(int(os.readlink("/proc/self"))).create_time() if os.path.exists("/proc/self") \
        else psutil.Process().create_time()
    return time.monotonic() + time_limit - (time.time() - started)


def _fresh_folds(data: RunData, seed: int) -> np.ndarray | None:
    """Another split of the rows, for re-checking what tuning found; None where folds have one split only
    (time order, groups)."""
    folds = make_folds(data.train, data.spec, len(set(data.folds[data.folds >= 0].tolist())), seed + 1)
    return None if np.array_equal(folds, data.folds) else folds


def run_job(node_dir: Path) -> dict[str, Any]:
    job = json.loads((node_dir / "job.json").read_text())
    data = RunData.load(Path(job["run_dir"]))
    ctx = Context(
        spec=data.spec, seed=job.get("seed", 0), device=job.get("device", "cpu"),
        n_jobs=job.get("n_jobs", 1), workdir=node_dir,
        cache_dir=Path(job.get("cache_dir") or Path(job["run_dir"]) / "cache"),
        deadline=_deadline(job.get("time_limit")),
    )
    solution = load_solution(node_dir / "solution.py")
    if job.get("mode") == "tune":
        result, _ = tune(
            solution, data.train, data.test, data.folds, ctx,
            timeout=job["tune_seconds"], storage=job.get("storage"), study_name=job.get("study_name", "tune"),
            refit=job.get("refit", False), fresh_folds=_fresh_folds(data, ctx.seed),
        )
    else:
        result = cross_validate(solution, data.train, data.test, data.folds, ctx, job.get("params"),
                                refit=job.get("refit", False))
    return save_result(node_dir, data, result)


def main(argv: list[str] | None = None) -> int:
    node_dir = Path((argv if argv is not None else sys.argv[1:])[0]).resolve()
    os.chdir(node_dir)
    try:
        outcome = run_job(node_dir)
        code = 0
    except BaseException as exc:  # the candidate is untrusted: every failure becomes a failed node
        traceback.print_exc()
        lines = traceback.format_exception_only(type(exc), exc)
        outcome = {"status": "failed", "error": lines[-1].strip() if lines else type(exc).__name__}
        code = 1
    outcome["peak_rss_mb"] = _peak_rss_mb()
    tmp = node_dir / "result.json.tmp"
    tmp.write_text(json.dumps(outcome, indent=2))
    tmp.replace(node_dir / "result.json")
    return code


if __name__ == "__main__":
    sys.exit(main())
