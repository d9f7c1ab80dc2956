"""`agent bench`: MLE-bench-style benchmarking — many (competition, seed) runs of `agent compete`,
in parallel and resumable, graded with medals and summarised."""

from agent.bench.plan import Task, competition_ids, locate_competitions
from agent.bench.report import write_report
from agent.bench.run import BenchOptions, run_bench

__all__ = ["BenchOptions", "Task", "competition_ids", "locate_competitions", "run_bench", "write_report"]
