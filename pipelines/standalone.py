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


def run_folder_of(solution_file: str | Path) -> Path:
    """The run folder holding `solution_file` (<run>/nodes/<id>/ or <run>/best/), however it was moved."""
    for folder in Path(solution_file).resolve().parents:
        if RunData.exists(folder):
            return folder
    raise SystemExit(f"{solution_file}: not inside a run folder (no spec.json and data/ above it)")


def reproduce(solution_file: str, params: dict[str, Any], seed: int = 0, out: str = "submission.csv",
              refit: bool = False, run_dir: str | Path | None = None) -> float:
    """Cross-validate the solution on the run's data and folds, write the submission, return the CV score."""
    run_dir = Path(run_dir) if run_dir is not None else run_folder_of(solution_file)
    data = RunData.load(run_dir)
    ctx = Context(spec=data.spec, seed=seed, device=detect_device(), n_jobs=2, workdir=Path.cwd(),
                  cache_dir=Path(run_dir) / "cache")
    result = cross_validate(load_solution(Path(solution_file)), data.train, data.test, data.folds, ctx, params, refit)
    frame = submission_frame(data.test[data.spec.id_column], result.test, data.spec, result.facts.get("threshold"),
                             data.test)
    write_submission(frame, data.sample, data.spec, Path(out))
    print(f"{data.spec.metric} {result.score:.5f} (folds {', '.join(f'{s:.4f}' for s in result.fold_scores)}); wrote {out}")
    return result.score
