"""Before spending hours of compute, make sure each competition can be graded, and graded right:
the sample submission must be valid, and a perfect submission built from the answers must be
valid and win gold wherever the competition has medal cut-offs."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from agent.grading import grade_submission, perfect_submission
from pipelines.errors import InputError


def _sample_submission(competition_dir: Path) -> Path | None:
    for public in (competition_dir / "prepared" / "public", competition_dir / "public"):
        path = public / "sample_submission.csv"
        if path.is_file():
            return path
    return None


def check_grading(competition_dir: Path, leaderboard: Path | None = None) -> dict[str, Any]:
    """Grade the sample submission and the perfect one; raises InputError when the competition
    cannot be graded at all (no answers, a metric we cannot compute, a broken leaderboard)."""
    competition_dir = Path(competition_dir)
    sample_path = _sample_submission(competition_dir)
    sample = grade_submission(competition_dir, sample_path, leaderboard) if sample_path else None
    try:
        frame = perfect_submission(competition_dir)
    except InputError as exc:
        frame, problem = None, str(exc)
    perfect = None
    if frame is not None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "perfect.csv"
            frame.to_csv(path, index=False)
            perfect = grade_submission(competition_dir, path, leaderboard)
        problem = "; ".join(perfect.errors) or None
    report = perfect or sample
    if report is None:
        raise InputError(f"cannot check grading: no sample submission and no perfect one ({problem})",
                         competition_dir)
    has_medals = report.thresholds is not None
    ok = perfect is not None and perfect.valid and (perfect.medal == "gold" or not has_medals)
    return {
        "metric": report.metric, "direction": report.direction, "thresholds": report.thresholds,
        "sample_score": sample.score if sample else None,
        "sample_errors": sample.errors if sample else ["no sample_submission.csv"],
        "perfect_score": perfect.score if perfect else None,
        "perfect_medal": perfect.medal if perfect else None,
        "ok": ok, "problem": None if ok else (problem or f"a perfect submission got {perfect.medal}, not gold"),
    }
