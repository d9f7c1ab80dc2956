"""One run of `agent compete`: acquire, understand, search, submit; `compete()` reads in that order."""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console

from agent.checks import check_format, check_trainable, check_width
from agent.column_roles import row_groups
from agent.competition_files import find_files, find_sample, load_tables
from agent.config import Settings
from agent.display import Display
from agent.engineers.base import Brief, Engineer
from agent.engineers.mixed import make_engineer
from agent.journal import Journal, Node
from agent.node_files import submitted_node
from agent.llm.usage import USAGE_FILE, usage_line
from agent.profile import profile, profile_markdown
from agent.run_folder import RunFolder, new_run_id, write_atomic, write_point
from agent.sandbox import not_enforced
from agent.search import Search
from agent.timing import Budget
from agent.understand import build_spec
from competitions.registry import get_competition, load_spec_overrides
from pipelines.compound_ids import unseen_parts, with_compound_id_parts
from pipelines.errors import InputError
from pipelines.files import FileCatalog, attach_file_paths
from pipelines.folds import clean_train, describe_folds, make_folds
from pipelines.metrics import get_metric
from pipelines.number_lists import expand_number_lists
from pipelines.rundata import RunData
from pipelines.shapes.event_logs import event_log
from pipelines.shapes import masks
from pipelines.shapes.forecasts import forecast_grid
from pipelines.shapes.boxes import box_rows
from pipelines.shapes.named_columns import named_columns
from pipelines.shapes.sequences import sequence_items
from pipelines.tables import read_table, sample_rows

log = logging.getLogger(__name__)

ROWS_PER_BUDGET_SECOND = 300
MIN_SAMPLED_ROWS = 20_000
LARGE_DATA_ROWS = 50_000


def slug_of(folder: Path) -> str:
    """`.../spaceship-titanic/prepared/public` -> `spaceship-titanic`."""
    parts = [p for p in Path(folder).resolve().parts if p not in ("public", "prepared")]
    return parts[-1]


def registry_layer(slug: str) -> dict[str, Any]:
    """Metric and direction from the MLE-bench registry, when it knows the competition and we know the metric."""
    info = get_competition(slug)
    if info is None:
        return {}
    try:
        metric = get_metric(info.metric).name
    except KeyError:
        return {}
    return {"metric": metric, "direction": "minimize" if info.lower_is_better else "maximize"}


def train_row_cap(settings: Settings, n_columns: int | None = None) -> int:
    """The most training rows a run uses (0: all), so a GBDT draft takes about a quarter of the budget:
    --max-train-rows, else ROWS_PER_BUDGET_SECOND a budget second at ten columns (the default width) and
    two cores, scaled down for wider tables and up for more cores."""
    if settings.max_train_rows is not None:
        return settings.max_train_rows
    scale = settings.time_budget * max(1, settings.n_jobs) / 2 * 10 / max(10, n_columns or 10)
    return max(MIN_SAMPLED_ROWS, int(ROWS_PER_BUDGET_SECOND * scale))


def default_folds(n_rows: int) -> int:
    """5 folds; 3 above LARGE_DATA_ROWS rows, where each fold's model and test prediction is costly
    and a third of the rows already gives a close estimate."""
    return 3 if n_rows > LARGE_DATA_ROWS else 5


def prepare_run(source: Path, slug: str, run: RunFolder, settings: Settings, flags: dict[str, Any],
                extra_layers: list[tuple[str, dict[str, Any]]] = (), description: Path | None = None) -> RunData:
    """Read the public files, decide the spec, fix the folds, and write it all into the run folder.

    `description` (the goal and evaluation the engineer reads) replaces the folder's description.md."""
    files = find_files(source, extract_to=unpacked_folder(settings, slug))
    for table in (files.train, files.test):
        check_width(table, settings.time_budget)
    if description is not None:
        files = replace(files, description=Path(description))
    # Sampled while read at the cap for a narrow table, then to the cap for this table's width.
    train, test, sample = load_tables(files, train_row_cap(settings), settings.seed)
    parts_layer: dict[str, Any] = {}
    if files.layout is None:  # `<item>_<part>` ids: their item and part as columns
        train, test = with_compound_id_parts(train, test, sample.columns[0])
        parts_layer = {"placeholder_parts": unseen_parts(train, test, sample.columns[0]) or None}
    layout_layer: dict[str, Any] = {}
    if (items := sequence_items(train, test, sample)) is not None:  # a row per position of each item
        train, test, layout_layer = items.explode(train), items.explode(test), items.spec_layer()
    elif (grid := forecast_grid(train, test, sample)) is not None:  # a row per time of each test item
        answers = list(sample.columns[1:])
        train, test, layout_layer = grid.train_rows(train, answers), grid.test_rows(test, sample, answers), \
            grid.spec_layer()
    elif (events := event_log(train, test, sample, _text(files.description))) is not None:  # a row per id
        train, test, layout_layer = events.train_rows(train), events.test_rows(train, test), events.spec_layer()
    elif (named := named_columns(train, test, sample)) is not None:  # test names which train column it asks
        train, layout_layer = named.melt(train), named.spec_layer()
    elif (boxed := box_rows(train, test, sample)) is not None:  # a row per box, answered as a string per item
        train, layout_layer = boxed.strings(train), boxed.spec_layer()
    elif files.layout is not None:  # a row per pixel of each image, per class of each item...
        layout_layer = files.layout.spec_layer()
    train, test = expand_number_lists(train, test, keep=set(sample.columns))
    rows_in_file = train.attrs.get("rows_in_file", len(train))
    if 0 < (cap := train_row_cap(settings, train.shape[1])) < len(train):
        intact = len(train) == rows_in_file or train.attrs.get("sampled_by")  # a draw by row already cut groups
        train = sample_rows(train, cap, settings.seed, row_groups(train, test, set(sample.columns)) if intact else None)
    by = train.attrs.get("sampled_by")
    if len(train) < rows_in_file:
        log.warning("%s: %d rows; the run trains on a sample of %d%s (--max-train-rows; 0 keeps every row)",
                    files.train, rows_in_file, len(train), f", whole groups of {by!r}" if by else "")
    layers = [("flag", flags), ("yaml", load_spec_overrides(slug)), ("layout", layout_layer | parts_layer),
              *extra_layers,
              ("registry", registry_layer(slug))]
    catalog = FileCatalog(files.folder)
    spec = build_spec(slug, files, train, test, sample, layers, catalog)
    train = clean_train(train, spec)
    if spec.answer_shape == "mask" and len(train) > (cap := masks.train_item_cap(spec, train, catalog)) > 0:
        log.warning("%s: %d training images; the run trains on a uniform sample of %d, as many as memory holds",
                    files.train, len(train), cap)
        train = sample_rows(train, cap, settings.seed)
    check_format(spec, sample)
    check_trainable(train, spec, settings.folds)
    train, test = attach_file_paths(train, test, spec.file_columns, catalog, settings.competitions_root / slug / "files")
    data = RunData(spec=spec, train=train, test=test, sample=sample,
                   folds=make_folds(train, spec, settings.folds or default_folds(len(train)), settings.seed))
    run.create()
    write_point("data")
    data.save(run.path)
    facts = profile(spec, train, test)
    if len(train) < rows_in_file:
        facts["rows"] |= {"train_in_file": rows_in_file, **({"whole_groups_of": by} if by else {})}
    write_atomic(run.path / "profile.json", json.dumps(facts, indent=2, default=str))
    write_atomic(run.path / "profile.md", profile_markdown(facts))
    return data


def _text(path: Path | None) -> str:
    return path.read_text(errors="replace") if path is not None else ""


def unpacked_folder(settings: Settings, slug: str) -> Path:
    """Where a competition's archives are unpacked: once per competition, for all its runs."""
    return settings.competitions_root / slug / "extracted"


def write_sample_fallback(source: Path, slug: str, run: RunFolder, settings: Settings) -> Path | None:
    """The competition's sample submission copied to the run's submission, for a competition whose
    files the agent cannot make sense of; None when the sample itself cannot be found or read.

    It is the organisers' own valid file, so it scores something (for some competitions, such as
    text normalisation, where it repeats the input, a lot), and a benchmark counts it as valid.
    """
    try:
        sample_path = find_sample(source, extract_to=unpacked_folder(settings, slug))
        sample = read_table(sample_path)
    except (InputError, OSError):
        return None
    if sample.empty:
        return None
    run.path.mkdir(parents=True, exist_ok=True)
    if sample_path.suffix.lower() == ".csv":
        shutil.copyfile(sample_path, run.submission_path)  # byte for byte: ids like "007" stay as they are
    else:
        sample.to_csv(run.submission_path, index=False)
    return run.submission_path


# Settings fields whose command-line flag is not the field's name.
FLAG_NAMES = {"llm_max_cost": "--max-cost", "llm_max_calls": "--max-llm-calls"}


def settings_from_flags(chosen: dict[str, Any], config: Path | None = None) -> Settings:
    """Settings from `config` and the flags given; a flag's value out of range is an InputError naming the flag."""
    try:
        return Settings.load(config, **chosen)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = str(problem["loc"][0]) if problem["loc"] else "settings"
        flag = FLAG_NAMES.get(field, "--" + field.replace("_", "-")) if field in chosen else f"setting {field}"
        raise InputError(f"{problem['msg']}, not {problem.get('input')!r}", flag) from None


def leave_sample(source: str, run_dir: Path | None, console: Console) -> None:
    """The sample submission as the submission of a run refused before it began (a bad flag), where
    the run would have written its own; nothing for a Kaggle slug (no download for a refused run)
    or a folder that already holds a run."""
    if not Path(source).is_dir():
        return
    try:
        settings = Settings()
    except ValidationError:  # agent.toml or AGENT_* variables are what is wrong: the default places
        settings = Settings.model_construct()
    slug = slug_of(Path(source))
    run = RunFolder(run_dir or settings.runs_root / slug / new_run_id())
    if run.prepared or (run.path.exists() and any(run.path.iterdir())):
        return
    if (fallback := write_sample_fallback(Path(source), slug, run, settings)) is not None:
        console.print(f"the run is refused; the competition's sample submission is copied to {fallback} as a "
                      "fallback", highlight=False, soft_wrap=True)


@dataclass
class RunOutcome:
    run: RunFolder
    best: Node | None


def acquire(source: str, settings: Settings, force: bool, console: Console) -> tuple[Path, list[tuple[str, dict[str, Any]]], bool]:
    """A local folder as it is, or a Kaggle slug downloaded (cached) with Kaggle's metadata as a spec layer.

    Returns the folder, the extra spec layers, and whether the source is a Kaggle competition.
    """
    path = Path(source)
    if path.exists():
        return path, [], False
    if "/" in source or "\\" in source:
        raise InputError("no such competition folder", source)
    from agent.kaggle import download_competition, get_competition

    competition = get_competition(source)
    if competition.metric is None:
        log.warning("Kaggle's metric %r is not one we know; inferring it from the data", competition.evaluation_metric)
    if blocker := competition.upload_blocker():
        console.print(f"[yellow]note:[/] {blocker}; the run still writes its submission locally")
    folder = download_competition(source, root=settings.competitions_root, force=force)
    console.print(f"{source}: data in {folder}")
    layer = {"metric": competition.metric} if competition.metric else {}
    return folder, [("kaggle", layer)], True


def submit_best(run: RunFolder, console: Console, poll_seconds: float = 10.0) -> Node | None:
    """Upload the run's best submission to Kaggle and record the public score on its node.

    A failed upload leaves everything in place; `agent submit <run>` tries again.
    """
    from agent.kaggle import submission_message, submit

    journal = Journal(run.journal_path)
    spec = RunData.load(run.path).spec
    best = submitted_node(run, journal, spec.greater_is_better)
    if best is None or not run.submission_path.exists():
        raise InputError("the run has no valid submission to upload", run.path)
    message = submission_message(run.path.name, best.id, best.score, spec.metric)
    result = submit(spec.slug, run.submission_path, message, sample_submission=spec.sample_submission_file,
                    id_column=spec.id_column, poll_seconds=poll_seconds)
    node = best.model_copy(update={"public_score": result.public_score,
                                   "facts": {**best.facts, "kaggle_ref": result.ref, "kaggle_status": result.status}})
    journal.record(node)
    gap = f" (CV {best.score:.5f})" if result.public_score is not None else ""
    console.print(f"Kaggle: submission {result.ref} {result.status}, public score {result.public_score}{gap}")
    write_summary(run, spec.greater_is_better)
    write_report_softly(run, console)
    return node


def compete(source: str | Path, settings: Settings, *, flags: dict[str, Any] | None = None, run_dir: Path | None = None,
            resume: bool = False, submit: bool | None = None, force: bool = False, engineer: Engineer | None = None,
            console: Console | None = None, started_at: float | None = None,
            description: Path | None = None) -> RunOutcome:
    """One run, top to bottom: acquire the files, understand them, search, and submit the best.

    `submit` None uploads only what came from Kaggle; a failed upload keeps the local submission.
    `started_at` is when this session began (the CLI passes its process's start): starting Python
    and preparing the data count against the budget too. `description` (the goal and evaluation
    the engineer reads) replaces the folder's description.md.
    """
    started = started_at or time.time()
    console = console or Console()
    folder, kaggle_layers, from_kaggle = acquire(str(source), settings, force, console)
    run, settings, flags = open_run(folder, settings, flags or {}, run_dir, resume, console)
    engineer = engineer or make_engineer(settings)  # a wrong --llm fails before any work
    with run.session(started):
        _log_to_file(run)
        if run.prepared:
            console.print(f"resuming run {run.path} ({len(Journal(run.journal_path))} nodes so far)")
            data = RunData.load(run.path)
        else:
            data = start_run(folder, run, settings, flags, kaggle_layers, console, description)
        best = search(run, data, settings, engineer, console)
    if best is not None and (submit if submit is not None else from_kaggle):
        try:
            submit_best(run, console, settings.kaggle_poll_seconds)
        except InputError as exc:
            Console(stderr=True).print(f"[red]upload failed:[/] {exc}; the submission is kept, send it later with "
                          f"`agent submit {run.path}`", highlight=False, soft_wrap=True)
    return RunOutcome(run, best)


def open_run(folder: Path, settings: Settings, flags: dict[str, Any], run_dir: Path | None, resume: bool,
             console: Console) -> tuple[RunFolder, Settings, dict[str, Any]]:
    """The run folder, with the settings and spec flags it runs under.

    Resuming takes the saved settings and flags, overridden by those given again; a folder killed
    before its data was prepared is prepared again. A new start refuses a folder holding a run,
    and clears one that never got that far.
    """
    slug = slug_of(folder)
    if not resume:
        run = RunFolder(run_dir or settings.runs_root / slug / new_run_id())
        if run.prepared:
            raise InputError("run folder already holds a run; use --resume to continue it", run.path)
        run.clear_unprepared()
        return run, settings, flags
    run = RunFolder(run_dir) if run_dir else RunFolder.latest(settings.runs_root, slug)
    if run is None:
        raise InputError("no run to resume (start one without --resume)", settings.runs_root / slug)
    saved = run.load_config()
    if not saved:
        console.print(f"{run.path} holds no run yet: starting it", highlight=False, soft_wrap=True)
        run.clear_unprepared(keep_time=True)
        return run, settings, flags
    settings = Settings.model_validate({**saved["settings"], **settings.model_dump(exclude_unset=True)})
    return run, settings, {**saved.get("flags", {}), **flags}


def start_run(folder: Path, run: RunFolder, settings: Settings, flags: dict[str, Any],
              extra_layers: list[tuple[str, dict[str, Any]]], console: Console,
              description: Path | None = None) -> RunData:
    """The run's prepared data, between config.json written with `prepared` false and set true: a
    kill in between leaves a folder that the next start or resume prepares again. When the files or
    flags cannot make a run, the sample submission is left as the run's submission and the problem
    reaches the user as one line (InputError)."""
    slug = slug_of(folder)
    run.save_config({"source": str(Path(folder).resolve()), "slug": slug, "prepared": False,
                     "settings": settings.model_dump(mode="json"), "flags": flags})
    try:
        try:
            data = prepare_run(folder, slug, run, settings, flags, extra_layers, description)
        except (InputError, KeyboardInterrupt):
            raise
        except Exception as exc:  # files no check foresaw: still one line, and the sample left behind
            log.info("preparing %s failed", folder, exc_info=True)
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            raise InputError(f"cannot make a run of these files ({type(exc).__name__}: {first}; the traceback is "
                             f"in {run.path / 'agent.log'})", folder) from exc
    except InputError:
        if (fallback := write_sample_fallback(folder, slug, run, settings)) is not None:
            console.print(f"the competition's files could not be read; its sample submission is copied to "
                          f"{fallback} as a fallback", highlight=False, soft_wrap=True)
        raise
    run.mark_prepared()
    console.print(f"run folder {run.path}")
    return data


def search(run: RunFolder, data: RunData, settings: Settings, engineer: Engineer, console: Console) -> Node | None:
    """The search within what is left of the budget; the summary and report are written however it ends."""
    spec = data.spec
    console.print(
        f"{spec.slug}: {spec.task} ({spec.modality}), target {spec.target_columns}, metric {spec.metric} "
        f"({spec.direction}), {len(data.train)} train / {len(data.test)} test rows, submission as {spec.submission_kind}"
    )
    if gaps := not_enforced():
        console.print(f"[yellow]sandbox:[/] not enforced on this machine: {'; '.join(gaps)}", highlight=False)
        log.warning("sandbox: not enforced on this machine: %s", "; ".join(gaps))
    brief = read_brief(run, data)
    budget = Budget(settings.time_budget, run.seconds_used())
    if settings.llm:
        start = f"after {settings.llm_builtin_drafts} built-in draft(s)" if settings.llm_builtin_drafts else "at once"
        console.print(f"engineer: built-in, with {settings.llm} beside it {start}; {_llm_limits(settings)}")
    try:
        with Display(console, spec.slug, settings.time_budget, run.seconds_used()) as display:
            best = Search(run, data, brief, engineer, settings, budget, display).run_loop()
    finally:
        summary = write_summary(run, spec.greater_is_better)
    if summary.get("llm"):
        console.print(usage_line(summary["llm"]), highlight=False)
    write_report_softly(run, console)
    return best


def read_brief(run: RunFolder, data: RunData) -> Brief:
    """What the engineer is told about a prepared run: the spec, the data profile and the folds."""
    facts = json.loads((run.path / "profile.json").read_text())
    return Brief(spec=data.spec, profile=facts, profile_text=(run.path / "profile.md").read_text(),
                 folds=describe_folds(data.folds, data.spec))


def _llm_limits(settings: Settings) -> str:
    limits = [f"max ${settings.llm_max_cost:g}" if settings.llm_max_cost else "no cost limit",
              f"max {settings.llm_max_calls} calls" if settings.llm_max_calls else "no call limit"]
    return ", ".join(limits)


def write_report_softly(run: RunFolder, console: Console) -> None:
    """The report is for people; neither a bug in it nor a broken matplotlib may cost a finished run."""
    try:
        from agent.report import write_report

        console.print(f"report: {write_report(run.path)}", highlight=False, soft_wrap=True)
    except Exception:
        log.warning("could not write the report of %s", run.path, exc_info=True)


def write_summary(run: RunFolder, greater_is_better: bool) -> dict[str, Any]:
    """summary.json: the best node and every node's headline numbers, for people and scripts."""
    journal = Journal(run.journal_path)
    best = submitted_node(run, journal, greater_is_better)
    summary = {
        "best": best.model_dump(include={"id", "title", "score", "step"}) if best else None,
        "submission": str(run.submission_path) if run.submission_path.exists() else None,
        "nodes": len(journal),
        "ok": sum(n.ok for n in journal),
        "failed": sum(n.status == "failed" for n in journal),
        "seconds_used": round(run.seconds_used(), 1),
        "tokens_in": sum(n.tokens_in for n in journal),
        "tokens_out": sum(n.tokens_out for n in journal),
        "cost_usd": round(sum(n.cost_usd for n in journal), 4),
        "public_score": best.public_score if best else None,
        "llm": _read_json(run.path / USAGE_FILE),
        "candidates": [n.model_dump(include={"id", "parents", "step", "engineer", "title", "status", "score",
                                             "public_score", "seconds", "peak_memory_mb", "tokens_in", "tokens_out",
                                             "cost_usd", "error"}) for n in journal],
    }
    write_atomic(run.path / "summary.json", json.dumps(summary, indent=2))
    return summary


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _log_to_file(run: RunFolder) -> None:
    """A grep-able log of the run's decisions, next to the journal."""
    root = logging.getLogger()
    path = str(run.path / "agent.log")
    if any(getattr(h, "baseFilename", None) == path for h in root.handlers):
        return
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
