"""Rerun a saved candidate by hand: `python nodes/0003/standalone.py` writes its submission.csv again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.context import Context
from pipelines.device import detect_device
from pipelines.harness import cross_validate, load_solution
from pipelines.rundata import RunData
from pipelines.submission import write_submission
from pipelines.targets import submission_frame


def reproduce(solution_file: str, run_dir: str, params: dict[str, Any], seed: int = 0,
              out: str = "submission.csv", refit: bool = False) -> float:
    """Cross-validate the solution on the run's data and folds, write the submission, return the CV score."""
    data = RunData.load(Path(run_dir))
    ctx = Context(spec=data.spec, seed=seed, device=detect_device(), n_jobs=2, workdir=Path.cwd(),
                  cache_dir=Path(run_dir) / "cache")
    result = cross_validate(load_solution(Path(solution_file)), data.train, data.test, data.folds, ctx, params, refit)
    frame = submission_frame(data.test[data.spec.id_column], result.test, data.spec, result.extra.get("threshold"))
    write_submission(frame, data.sample, data.spec, Path(out))
    print(f"{data.spec.metric} {result.score:.5f} (folds {', '.join(f'{s:.4f}' for s in result.fold_scores)}); wrote {out}")
    return result.score
