"""From task records to what a researcher reads: per-competition and overall rows, a markdown
summary, a terminal table and plots.

The headline, as MLE-bench reports it: the any-medal rate over a suite, computed per seed and
given as mean ± standard error over seeds. Competitions without medal cut-offs cannot medal;
they are left out of medal rates (and said to be) rather than counted as misses.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from agent.bench.results import load_records, write_tables
from agent.grading import REGISTRY_SOURCE
from agent.run_folder import write_atomic
from pipelines.errors import InputError

Record = dict[str, Any]


def mean_se(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and standard error of the mean (None for the error below two values)."""
    if not values:
        return None, None
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else None
    return statistics.fmean(values), se


@dataclass
class Row:
    name: str
    metric: str
    runs: int
    seeds: int
    valid_rate: float
    any_medal: float | None  # None: no medal cut-offs
    any_medal_se: float | None
    gold: int
    silver: int
    bronze: int
    above_median: float | None
    median_percentile: float | None
    median_score: float | None
    wall_seconds: float  # mean per run
    cpu_seconds: float
    cpus: str
    gpus: str
    tokens: int
    cost_usd: float


def _span(values: list[Any]) -> str:
    seen = sorted({v for v in values if v is not None})
    return "-".join(str(v) for v in (seen[:1] + seen[-1:] if len(seen) > 1 else seen)) or "?"


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _row(name: str, records: list[Record], medal_rates: list[float] | None, metric: str) -> Row:
    """``medal_rates``: the values whose mean ± SE is the any-medal rate (None: cannot medal)."""
    medalled = [r for r in records if r["gold_threshold"] is not None] if medal_rates is not None else []
    any_medal, se = mean_se(medal_rates) if medal_rates else (None, None)
    return Row(
        name=name, metric=metric, runs=len(records), seeds=len({r["seed"] for r in records}),
        valid_rate=sum(bool(r["valid_submission"]) for r in records) / len(records),
        any_medal=any_medal, any_medal_se=se,
        gold=sum(r["medal"] == "gold" for r in records), silver=sum(r["medal"] == "silver" for r in records),
        bronze=sum(r["medal"] == "bronze" for r in records),
        above_median=sum(bool(r["above_median"]) for r in medalled) / len(medalled) if medalled else None,
        median_percentile=_median([r["percentile"] for r in records]),
        median_score=_median([r["score"] for r in records]) if metric != "(mixed)" else None,
        wall_seconds=statistics.fmean(r["wall_seconds"] or 0.0 for r in records),
        cpu_seconds=sum(r["cpu_seconds"] or 0.0 for r in records),
        cpus=_span([r["cpus"] for r in records]), gpus=_span([r["gpus"] for r in records]),
        tokens=sum((r["tokens_in"] or 0) + (r["tokens_out"] or 0) for r in records),
        cost_usd=sum(r["cost_usd"] or 0.0 for r in records),
    )


def competition_rows(records: list[Record]) -> list[Row]:
    by_competition: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_competition[record["competition_id"]].append(record)
    rows = []
    for cid, group in sorted(by_competition.items()):
        can_medal = any(r["gold_threshold"] is not None for r in group)
        rates = [float(r["any_medal"]) for r in group] if can_medal else None
        metric = next((r["metric"] for r in group if r["metric"]), "?")
        rows.append(_row(cid, group, rates, metric))
    return rows


def overall_row(records: list[Record]) -> Row:
    """Any-medal rate per seed over the competitions that can medal, then mean ± SE over seeds."""
    by_seed: dict[int, list[float]] = defaultdict(list)
    for record in records:
        if record["gold_threshold"] is not None:
            by_seed[record["seed"]].append(float(record["any_medal"]))
    rates = [statistics.fmean(v) for _, v in sorted(by_seed.items())] or None
    return _row("overall", records, rates, "(mixed)")


# ---------------------------------------------------------------- text


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _medal_text(row: Row) -> str:
    if row.any_medal is None:
        return "n/a (no cut-offs)"
    return f"{100 * row.any_medal:.1f}%" + (f" ± {100 * row.any_medal_se:.1f}" if row.any_medal_se is not None else "")


def _num(value: float | None, digits: int = 5) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.2f} h"


COLUMNS = ("competition", "metric", "runs", "valid", "any medal (± SE over seeds)", "gold", "silver", "bronze",
           "above median", "median percentile", "median score", "wall / run", "CPU time", "cpus / task",
           "gpus / task", "LLM tokens", "LLM cost")


def _cells(row: Row) -> list[str]:
    return [row.name, row.metric, f"{row.runs} ({row.seeds} seed{'s' if row.seeds != 1 else ''})",
            _pct(row.valid_rate), _medal_text(row), str(row.gold), str(row.silver), str(row.bronze),
            _pct(row.above_median), _num(row.median_percentile, 4), _num(row.median_score),
            _duration(row.wall_seconds), _duration(row.cpu_seconds), row.cpus, row.gpus, f"{row.tokens:,}",
            f"${row.cost_usd:.2f}"]


def _markdown_table(header: list[str] | tuple[str, ...], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _checks_table(checks: dict[str, dict]) -> str:
    rows = []
    for cid, check in sorted(checks.items()):
        t = check.get("thresholds")
        cutoffs = f"{t['gold']:.6g} / {t['silver']:.6g} / {t['bronze']:.6g} / {t['median']:.6g}" if t else "none"
        medal = check.get("perfect_medal")
        perfect = _num(check.get("perfect_score")) + (f" ({medal})" if medal else "")
        rows.append([cid, f"{check['metric']} ({check['direction']})", cutoffs, _num(check.get("sample_score")),
                     perfect, "ok" if check["ok"] else f"**FAILED**: {check['problem']}"])
    return _markdown_table(["competition", "metric", "gold / silver / bronze / median", "sample submission",
                            "perfect submission", "check"], rows)


def _tasks_table(records: list[Record]) -> str:
    rows = [[r["task"], r["status"] + (" (resumed)" if r["resumed"] else ""), "yes" if r["valid_submission"] else "no",
             _num(r["score"]), _num(r["cv_score"]), r["medal"] or "—", _num(r["percentile"], 4),
             f"{(r['wall_seconds'] or 0):.0f} s", str(r["nodes"] if r["nodes"] is not None else "—"),
             (r["error"] or "; ".join(r["grade_errors"] or []) or "")[:160]] for r in records]
    return _markdown_table(["task", "status", "valid", "score", "CV score", "medal", "percentile", "wall", "nodes",
                            "error"], rows)


def summary_markdown(records: list[Record], bench: dict[str, Any], title: str) -> str:
    planned = len(bench.get("planned") or []) or len(records)
    sessions = bench.get("sessions") or []
    wall = sum(end - start for start, end in sessions)
    parts = [f"# Bench: {title}", ""]
    parts.append(f"{len(records)} of {planned} tasks finished; time budget {bench.get('time_budget', 0):g} s per "
                 f"task; bench wall time {_duration(wall)} over {len(sessions)} session(s).")
    if records:
        overall = overall_row(records)
        medal_competitions = sorted({r["competition_id"] for r in records if r["gold_threshold"] is not None})
        parts += ["", f"**Any medal: {_medal_text(overall)}** (per seed over the {len(medal_competitions)} "
                  f"competition(s) with medal cut-offs, mean ± standard error over {overall.seeds} seed(s)); "
                  f"valid submissions: {_pct(overall.valid_rate)}."]
        if any(r["thresholds_source"] == REGISTRY_SOURCE for r in records):
            parts += ["", "Percentiles graded against the registry's cut-offs are lower bounds (the share of "
                      "the leaderboard below the best cut-off reached); a leaderboard file makes them exact."]
        parts += ["", "## Per competition", "",
                  _markdown_table(COLUMNS, [_cells(r) for r in competition_rows(records)] + [_cells(overall)])]
    if bench.get("grading_checks"):
        parts += ["", "## Grading check", "",
                  "The sample submission and a perfect one (the private answers) graded before the runs; "
                  "a perfect submission must win gold wherever there are medal cut-offs.", "",
                  _checks_table(bench["grading_checks"])]
    if records:
        parts += ["", "## Tasks", "", _tasks_table(records)]
    return "\n".join(parts) + "\n"


def print_table(console: Console, records: list[Record]) -> None:
    """The per-competition table, narrowed to fit a terminal (summary.md has every column)."""
    table = Table(title="bench results", caption="any medal ± SE over seeds; g/s/b: medals; pct: median "
                  "leaderboard percentile; min/run: wall minutes per run", header_style="bold",
                  box=box.SIMPLE_HEAD, collapse_padding=True)
    rows = competition_rows(records)
    # The numbers keep their width; a long competition name gives way (cut short with "…").
    table.add_column("competition", overflow="ellipsis", max_width=32)
    for column in ("runs", "valid", "any medal", "g/s/b", "pct", "score", "min/run", "cost"):
        table.add_column(column, no_wrap=True)
    for row, style in [(r, None) for r in rows] + [(overall_row(records), "bold")]:
        table.add_row(row.name, str(row.runs), _pct(row.valid_rate), _medal_text(row).replace(" (no cut-offs)", ""),
                      f"{row.gold}/{row.silver}/{row.bronze}", _num(row.median_percentile, 4),
                      _num(row.median_score), f"{row.wall_seconds / 60:.1f}", f"${row.cost_usd:.2f}", style=style)
    console.print(table)


# ---------------------------------------------------------------- plots

OUTCOME_COLOURS = {"gold": "#d4af37", "silver": "#a8a9ad", "bronze": "#cd7f32", "valid, no medal": "#7aa6c2",
                   "valid, no cut-offs": "#c9d6df", "invalid": "#d9534f"}


def _outcome(record: Record) -> str:
    if not record["valid_submission"]:
        return "invalid"
    if record["gold_threshold"] is None:
        return "valid, no cut-offs"
    return record["medal"] or "valid, no medal"


def write_plots(records: list[Record], folder: Path) -> list[Path]:
    """outcomes.png (medal or validity of every run, per competition), percentile.png (where each
    run lands on the leaderboard) and time.png (wall time of each run against its budget)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    competitions = sorted({r["competition_id"] for r in records})
    written = []

    fig, ax = plt.subplots(figsize=(8, 0.5 * len(competitions) + 1.5))
    left = [0] * len(competitions)
    for outcome, colour in OUTCOME_COLOURS.items():
        counts = [sum(_outcome(r) == outcome for r in records if r["competition_id"] == c) for c in competitions]
        ax.barh(competitions, counts, left=left, color=colour, label=outcome)
        left = [a + b for a, b in zip(left, counts)]
    ax.set_xlabel("runs")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Outcome of each run")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    written.append(_save(fig, folder / "outcomes.png"))

    ranked = [c for c in competitions if any(r["percentile"] is not None for r in records if r["competition_id"] == c)]
    if ranked:
        fig, ax = plt.subplots(figsize=(8, 0.5 * len(ranked) + 1.5))
        for y, cid in enumerate(ranked):
            values = [r["percentile"] for r in records if r["competition_id"] == cid and r["percentile"] is not None]
            ax.scatter(values, [y] * len(values), color="#2c7fb8", alpha=0.7)
            ax.scatter([statistics.median(values)], [y], marker="|", s=400, color="black")
        ax.axvline(50, color="grey", linestyle=":", label="median team")
        ax.set_yticks(range(len(ranked)), ranked)
        ax.set_xlim(0, 100)
        ax.set_xlabel("leaderboard percentile (share of teams beaten)")
        ax.set_title("Where each run lands (bar: median over seeds)")
        written.append(_save(fig, folder / "percentile.png"))

    fig, ax = plt.subplots(figsize=(8, 0.3 * len(records) + 1.5))
    names = [r["task"] for r in records]
    ax.barh(names, [(r["wall_seconds"] or 0) / 60 for r in records],
            color=[OUTCOME_COLOURS[_outcome(r)] for r in records])
    budgets = {r["time_budget"] for r in records}
    for budget in budgets:
        ax.axvline(budget / 60, color="black", linestyle="--", label="time budget")
    ax.set_xlabel("wall time (minutes)")
    ax.set_title("Wall time of each run")
    ax.invert_yaxis()
    written.append(_save(fig, folder / "time.png"))
    return written


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


# ---------------------------------------------------------------- entry point


def read_bench(out: Path) -> dict[str, Any]:
    path = Path(out) / "bench.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def write_report(out: Path, plots: bool = True) -> list[Record]:
    """Rebuild results.csv, submissions.jsonl and summary.md (and the plots) from the task records."""
    out = Path(out)
    if not (out / "tasks").is_dir() and not (out / "bench.json").is_file():
        raise InputError("not a bench folder (no tasks/ or bench.json)", out)
    records = load_records(out)
    write_tables(out, records)
    write_atomic(out / "summary.md", summary_markdown(records, read_bench(out), out.name))
    if plots and records:
        write_plots(records, out / "plots")
    return records
