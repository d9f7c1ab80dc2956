"""Task results: one JSON record per finished task, and the files made from all of them —
``results.csv`` for analysis and ``submissions.jsonl`` for MLE-bench's own grader.

The records under ``tasks/`` are the truth; the other files are rebuilt from them whenever a
task finishes, so they are complete and consistent at any moment.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.run_folder import write_atomic
from competitions.registry import get_competition

if TYPE_CHECKING:
    from agent.bench.plan import Task

# Every record has these keys, in this order (the columns of results.csv): MLE-bench's report keys
# (agent.grading.GradeReport.to_dict) and the task's own.
RECORD_FIELDS = (
    "task", "competition_id", "seed", "status", "exit_code", "error", "resumed",
    "score", "gold_threshold", "silver_threshold", "bronze_threshold", "median_threshold", "any_medal",
    "gold_medal", "silver_medal", "bronze_medal", "above_median", "submission_exists", "valid_submission",
    "is_lower_better", "created_at", "submission_path",
    "metric", "direction", "medal", "percentile", "thresholds_source", "grade_errors", "cv_score",
    "time_budget", "wall_seconds", "agent_seconds", "cpu_seconds", "cpus", "gpus", "gpu_ids", "device", "host",
    "nodes", "tokens_in", "tokens_out", "cost_usd",
    "run_dir", "log_path", "finished_at",
)


def new_record(task: Task, **fields: Any) -> dict[str, Any]:
    """A result record for ``task``: the given facts, None for the rest."""
    unknown = set(fields) - set(RECORD_FIELDS)
    if unknown:
        raise ValueError(f"not record fields: {sorted(unknown)}")
    record = dict.fromkeys(RECORD_FIELDS)
    record.update(task=task.name, competition_id=task.competition_id, seed=task.seed, time_budget=task.time_budget,
                  run_dir=str(task.run_dir), submission_path=str(task.submission_path), log_path=str(task.log_path),
                  valid_submission=False, submission_exists=False, any_medal=False, gold_medal=False,
                  silver_medal=False, bronze_medal=False, above_median=False, grade_errors=[])
    record.update(fields)
    record["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return record


def save_record(task: Task, record: dict[str, Any]) -> None:
    task.record_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(task.record_path, json.dumps(record, indent=2))


def load_records(out: Path) -> list[dict[str, Any]]:
    """Every finished task's record, by competition then seed."""
    records = [json.loads(p.read_text()) for p in sorted((Path(out) / "tasks").glob("*.json"))]
    return sorted(records, key=lambda r: (r["competition_id"], r["seed"]))


def results_csv(records: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RECORD_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({**record, "grade_errors": "; ".join(record.get("grade_errors") or [])})
    return buffer.getvalue()


def submissions_jsonl(records: list[dict[str, Any]]) -> str:
    """One ``{"competition_id", "submission_path"}`` line per task of a competition MLE-bench
    knows, for ``mlebench grade --submission submissions.jsonl``. Tasks without a submission are
    kept: MLE-bench grades a missing file as invalid, as we do."""
    lines = [json.dumps({"competition_id": r["competition_id"], "submission_path": r["submission_path"]})
             for r in records if get_competition(r["competition_id"]) is not None]
    return "".join(line + "\n" for line in lines)


def write_tables(out: Path, records: list[dict[str, Any]]) -> None:
    write_atomic(Path(out) / "results.csv", results_csv(records))
    write_atomic(Path(out) / "submissions.jsonl", submissions_jsonl(records))
