"""`<run>/report.html`: one self-contained page a person reads to see what a run did and why.

Everything is inline (CSS, plots as base64 PNG), so the file can be mailed, archived or opened
on an offline machine; the only links are relative ones into the run folder (node logs). Every
text that came from a run (titles, plans, code, errors) is HTML-escaped: candidate code is
untrusted. Plots are in agent/report_plots.py.
"""

from __future__ import annotations

import difflib
import json
import logging
import time
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from agent import report_plots as plots
from agent.gains import gain_of
from agent.journal import Journal, Node
from agent.node_files import submitted_node
from agent.review import open_run
from agent.run_folder import RunFolder, write_atomic
from competitions.registry import get_competition, medal_thresholds, read_leaderboard
from pipelines.rundata import RunData
from pipelines.spec import CompetitionSpec
from pipelines.targets import as_labels, encode_target

log = logging.getLogger(__name__)

LOG_METRICS = {"rmsle", "mcrmsle", "rmse_log"}
LOG_TAIL_LINES = 30

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0 auto;
       max-width: 1200px; padding: 1.5em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; } td, th { padding: 3px 8px; text-align: left; vertical-align: top; }
table.facts th { color: #555; font-weight: 600; white-space: nowrap; }
table.tree { width: 100%; font-size: 13px; } table.tree tr:nth-child(even) { background: #f6f6f6; }
table.tree th { border-bottom: 2px solid #ccc; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } figure img { max-width: 100%; } figcaption { color: #555; font-size: 13px; }
pre { background: #f7f7f7; border: 1px solid #e3e3e3; padding: 8px; overflow-x: auto; font-size: 12px; }
pre.plan { white-space: pre-wrap; background: none; border: none; font: inherit; padding: 0; }
pre.error { background: #fff3f3; border-color: #f3c0c0; white-space: pre-wrap; }
.add { color: #116611; background: #eaffea; display: block; } .del { color: #aa1111; background: #ffecec; display: block; }
.hunk { color: #6f42c1; display: block; }
details { margin: 0.3em 0; } details.node { border: 1px solid #ddd; border-radius: 4px; padding: 0.3em 0.7em; }
details.node > summary { cursor: pointer; } details.node[open] > summary { margin-bottom: 0.5em; }
.ok { color: #11772b; } .failed { color: #b0171f; } .running { color: #a66b00; }
.step { display: inline-block; padding: 0 6px; border-radius: 3px; color: white; font-size: 12px; }
.note { color: #777; font-style: italic; } .best { color: #b8860b; font-weight: bold; }
"""


def write_report(run_dir: Path) -> Path:
    """Render the run's report and write it to `<run>/report.html` (atomically: a reader never sees half a page)."""
    page = render_report(run_dir)
    path = RunFolder(run_dir).path / "report.html"
    write_atomic(path, page)
    return path


def render_report(run_dir: Path) -> str:
    """The whole page as a string; raises InputError when `run_dir` is not a run folder."""
    run, journal, spec = open_run(run_dir)
    best = submitted_node(run, journal, spec.greater_is_better)
    nodes = list(journal)
    sessions = _read_json(run.path / "state.json").get("sessions", [])
    start = sessions[0][0] if sessions else min((n.started_at for n in nodes), default=time.time())
    end = max([s[1] for s in sessions] + [n.started_at + (n.seconds or 0.0) for n in nodes] + [start])
    cutoffs, cutoffs_source = _cutoffs(run, spec)
    body = [
        f"<h1>{escape(spec.slug)}</h1>",
        _header(run, journal, spec, best),
        "<h2>Search</h2>",
        _figure(plots.progress(nodes, spec.greater_is_better, start, end, [s[0] for s in sessions], cutoffs),
                "Best CV score so far over wall time; each point is a node when it finished, coloured by its step. "
                "Crosses on the bottom edge are failed nodes; dotted lines mark resumed sessions."
                + (f" Dashed lines: the leaderboard's medal and median cut-offs ({cutoffs_source})." if cutoffs else ""),
                "no node has finished yet"),
        _figure(plots.fold_spread(nodes),
                "Fold scores per node (box and points) and the out-of-fold score (diamond): the box width is "
                "how noisy a node's CV score is.", "no node has fold scores yet"),
        _what_helped(journal, spec),
        f"<h2>Best node{f' {escape(best.id)}' if best else ''}: out-of-fold diagnostics</h2>",
        _diagnostics(run, best),
        _importance(run, journal, spec),
        _tuning(run, journal),
        "<h2>Node tree</h2>",
        _tree(journal, best, spec.greater_is_better),
        "<h2>Nodes</h2>",
        *(_node_details(run, node, best, start) for node in nodes),
        _profile(run),
        f'<p class="note">Written {time.strftime("%Y-%m-%d %H:%M:%S")} from {escape(str(run.path))}. '
        f"Refresh with <code>agent report {escape(str(run.path))}</code>.</p>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(spec.slug)} · run report</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


# --- header ------------------------------------------------------------------------------------


def _header(run: RunFolder, journal: Journal, spec: CompetitionSpec, best: Node | None) -> str:
    profile = _read_json(run.path / "profile.json")
    settings = _read_json(run.path / "config.json").get("settings", {})
    nodes = list(journal)
    direction = "higher is better" if spec.greater_is_better else "lower is better"
    rows = profile.get("rows", {})
    folds_path = run.path / "data" / "folds.npy"
    n_folds = len(set(np.load(folds_path).tolist()) - {-1}) if folds_path.exists() else None
    facts: list[tuple[str, str]] = [
        ("task", f"{spec.task} ({spec.modality}), target {', '.join(spec.target_columns)}"),
        ("metric", f"{spec.metric} ({direction})"),
    ]
    if rows:
        facts.append(("rows", f"{rows['train']:,} train / {rows['test']:,} test"
                              + (f", {n_folds}-fold CV" if n_folds else "")))
    if best is not None:
        spread = f" (folds {np.mean(best.fold_scores):.6g} ± {np.std(best.fold_scores):.3g})" if best.fold_scores else ""
        facts.append(("best CV score", f'<b>{_num(best.score)}</b>{spread} · node <a href="#node-{escape(best.id)}">'
                                       f"{escape(best.id)}</a> {escape(best.step)} {escape(best.title)}"))
    else:
        facts.append(("best CV score", '<span class="failed">no valid node</span>'))
    public = [n for n in nodes if n.public_score is not None]
    if public:
        facts.append(("public leaderboard", ", ".join(f"<b>{_num(n.public_score)}</b> (node {escape(n.id)}, "
                                                      f"CV {_num(n.score)})" for n in public)))
    budget = settings.get("time_budget")
    facts.append(("time used", _duration(run.seconds_used()) + (f" of {_duration(budget)}" if budget else "")))
    counts = {status: sum(n.status == status for n in nodes) for status in ("ok", "failed", "running")}
    steps = {}
    for node in nodes:
        steps[node.step] = steps.get(node.step, 0) + 1
    facts.append(("nodes", f"{len(nodes)}: <span class=\"ok\">{counts['ok']} ok</span>, "
                           f"<span class=\"failed\">{counts['failed']} failed</span>"
                           + (f", <span class=\"running\">{counts['running']} running</span>" if counts["running"] else "")
                           + " · " + ", ".join(f"{n} {escape(s)}" for s, n in steps.items())))
    tokens_in, tokens_out = sum(n.tokens_in for n in nodes), sum(n.tokens_out for n in nodes)
    cost = sum(n.cost_usd for n in nodes)
    if tokens_in or tokens_out or cost:
        facts.append(("LLM", f"{tokens_in:,} tokens in, {tokens_out:,} out · ${cost:.4f}"))
    facts.append(("submission", escape(str(run.submission_path)) if run.submission_path.exists()
                  else '<span class="note">none yet</span>'))
    return '<table class="facts">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts) + "</table>"


# --- plots -------------------------------------------------------------------------------------


def _figure(png: str | None, caption: str, missing: str) -> str:
    if png is None:
        return f'<p class="note">{escape(missing)}</p>'
    return (f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{png}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _cutoffs(run: RunFolder, spec: CompetitionSpec) -> tuple[dict[str, float] | None, str]:
    """The leaderboard's medal and median cut-offs: a leaderboard.csv beside the competition's data,
    else the registry's (computed from MLE-Dojo's copies of the Kaggle leaderboards)."""
    source = _read_json(run.path / "config.json").get("source")
    for folder in ([Path(source), Path(source).parent] if source else []):
        board = folder / "leaderboard.csv"
        if board.is_file():
            try:
                t = medal_thresholds(read_leaderboard(board))
            except Exception as exc:  # a damaged leaderboard must not cost the report
                log.warning("report: leaderboard %s unreadable (%s)", board, exc)
                break
            return {"gold": t.gold, "silver": t.silver, "bronze": t.bronze, "median": t.median}, str(board)
    info = get_competition(spec.slug)
    if info is not None and info.thresholds is not None:
        t = info.thresholds
        return ({"gold": t.gold, "silver": t.silver, "bronze": t.bronze, "median": t.median},
                "the registry, from MLE-Dojo's copies of the Kaggle leaderboards")
    return None, ""


def _what_helped(journal: Journal, spec: CompetitionSpec) -> str:
    rows = []
    for node in journal:
        gain = gain_of(node, journal, spec.greater_is_better)
        if gain is not None:
            label = f"{node.id} {node.step}: {node.title[:40]}" + (" (vs best member)" if node.step == "ensemble" else "")
            rows.append((label, gain.value, gain.se))
    if not rows:
        return '<p class="note">What helped: no node has been compared with a scored parent yet.</p>'
    png = plots.gains(rows)
    if png is None:
        return '<p class="note">What helped: no step changed the CV score.</p>'
    return _figure(png, "What helped: each node's CV gain over its parent (an ensemble's over its best member), "
                        "green better, red worse; the bars' whiskers are the paired standard error over folds, so a "
                        "gain inside them may be noise.", "")


def _importance(run: RunFolder, journal: Journal, spec: CompetitionSpec) -> str:
    """Feature importance of the best tree model (the best node that left importance.json)."""
    trees = journal.ranked(spec.greater_is_better, (n for n in journal if (run.node_dir(n.id) / "importance.json").exists()))
    if not trees:
        return ""
    node = trees[0]
    try:
        importance = json.loads((run.node_dir(node.id) / "importance.json").read_text())
    except (OSError, json.JSONDecodeError):
        return f'<p class="note">node {escape(node.id)}: importance.json unreadable</p>'
    used = node.facts.get("trees") or []
    trees_text = f"; trees used per fold: {', '.join(str(t) for t in used)}" if used else ""
    return (f"<h2>Best tree model: node {escape(node.id)} {escape(node.title)}</h2>"
            + _figure(plots.feature_importance(importance),
                      f"The {min(30, len(importance))} most important of its {len(importance)} input columns "
                      f"(share of the model's importance, mean over folds){trees_text}.",
                      "the model gave every column zero importance"))


def _tuning(run: RunFolder, journal: Journal) -> str:
    """One block per Optuna study of the run: optimisation history and parameter importances."""
    import re

    # Each tuning node keeps its study in its own folder; runs made before that kept them in the run's.
    dbs = [db for db in [run.path / "optuna.db", *sorted(run.path.glob("nodes/*/optuna.db"))] if db.is_file()]
    if not dbs:
        return ""
    import optuna

    studies = []
    for db in dbs:
        storage = f"sqlite:///{db}"
        try:
            studies += [(name, storage) for name in sorted(optuna.get_all_study_names(storage=storage))]
        except Exception as exc:  # a damaged study file must not cost the report
            return f'<h2>Tuning</h2><p class="note">{escape(db.name)} unreadable: {escape(str(exc))}</p>'
    parts = []
    for name, storage in studies:
        study = optuna.load_study(study_name=name, storage=storage)
        finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
        match = re.match(r"node-(\d{4})", name)
        node = journal.nodes.get(match.group(1)) if match else None
        title = f"study {escape(name)}" + (f": node {escape(node.id)} {escape(node.title)}" if node else "")
        if not finished:
            parts.append(f"<h3>{title}</h3><p class=\"note\">no finished trial ({len(study.trials)} started)</p>")
            continue
        history, importances = plots.optuna_plots(study)
        parts.append(f"<h3>{title}</h3><p>{len(study.trials)} trials: {len(finished)} finished, {pruned} pruned; "
                     f"best value {_num(study.best_value)} with <code>{escape(json.dumps(study.best_params))}</code>"
                     "</p>")
        parts.append(_figure(history, "Optuna's optimisation history: each trial's score and the best so far.",
                             "no history to draw"))
        parts.append(_figure(importances, "Optuna's parameter importances (fANOVA): how much of the score's "
                                          "variation each tuned parameter explains.",
                             "too few distinct finished trials to rank the parameters"))
    return "<h2>Tuning</h2>" + "".join(parts) if parts else ""


def _diagnostics(run: RunFolder, node: Node | None) -> str:
    """The best node's out-of-fold predictions against the truth, in the form that suits the task."""
    if node is None:
        return '<p class="note">no valid node yet</p>'
    oof_path = run.node_dir(node.id) / "oof.npy"
    if not oof_path.exists():
        return f'<p class="note">node {escape(node.id)} left no oof.npy</p>'
    if not RunData.exists(run.path):
        return '<p class="note">the run folder holds no prepared data (data/, spec.json)</p>'
    data = RunData.load(run.path)
    spec = data.spec
    if spec.answer_shape != "rows":
        return f'<p class="note">the answers are of shape {escape(spec.answer_shape)}: no per-row diagnostics</p>'
    oof = np.load(oof_path, allow_pickle=False)
    y = encode_target(data.train, spec)
    if len(oof) != len(y):
        return f'<p class="note">oof.npy has {len(oof)} rows but train has {len(y)}</p>'
    if spec.task == "binary" and oof.ndim == 2 and oof.shape[1] == 2:
        oof = oof[:, 1]
    rows = (data.folds >= 0) & np.isfinite(oof.reshape(len(oof), -1)).all(axis=1)
    if not rows.any():
        return f'<p class="note">node {escape(node.id)} has no finite out-of-fold predictions</p>'
    y, oof = y[rows], oof[rows]
    rule = node.facts.get("threshold")  # the decision rule the node's submission used, fitted out of fold
    if spec.task == "binary":
        threshold = float(rule) if isinstance(rule, (int, float)) else 0.5
        png = plots.binary_diagnostics(y, oof, spec.classes, threshold)
        what = (f"ROC, calibration and confusion matrix (at the node's threshold {threshold:.3g}"
                + (", fitted out of fold" if rule is not None else "") + f"; positive class {spec.classes[1]!r})")
    elif spec.task == "multiclass":
        png = plots.multiclass_diagnostics(y, oof, spec.classes, as_labels(oof, spec, rule))
        what = ("confusion matrix at the node's decision rule ("
                + ("fitted " + ("cut points" if isinstance(rule, dict) else "class weights") if rule is not None
                   else "the most likely class") + ") and calibration of the most likely class")
    elif spec.task == "multilabel":
        png = plots.multilabel_diagnostics(y, oof, spec.classes or spec.target_columns)
        what = "AUC of each label, worst first"
    else:
        log_scale = spec.metric in LOG_METRICS
        png = plots.regression_diagnostics(y, oof, spec.target_columns, log_scale)
        what = "predicted against actual" + (" (log axes, as the metric sees them)" if log_scale else "") + \
               " and residuals"
    return _figure(png, f"Out-of-fold predictions of node {node.id} on {int(rows.sum()):,} validated rows: {what}.", "")


# --- node tree and node details ----------------------------------------------------------------


def _tree(journal: Journal, best: Node | None, greater_is_better: bool) -> str:
    """Nodes depth-first from each draft, children under their first parent (an ensemble names the others)."""
    children: dict[str | None, list[Node]] = {}
    for node in journal:
        home = next((p for p in node.parents if p in journal.nodes), None)
        children.setdefault(home, []).append(node)
    show_public = any(n.public_score is not None for n in journal)
    head = ["node", "step", "title", "status", "score", "gain", *(["public"] if show_public else []),
            "time", "peak MB", "error"]
    rows = []

    def visit(node: Node, depth: int, seen: set[str]) -> None:
        seen.add(node.id)
        others = node.parents[1:]
        title = ("↳ " if depth else "") + node.title + (f"  (+ {', '.join(others)})" if others else "")
        star = ' <span class="best">★</span>' if best is not None and node.id == best.id else ""
        gain = gain_of(node, journal, greater_is_better)
        error = node.error or ""
        text = [
            f'<a href="#node-{escape(node.id)}">{escape(node.id)}</a>{star}',
            _step_badge(node.step),
            f'<span style="padding-left:{1.2 * depth:.1f}em">{escape(title)}</span>',
            f'<span class="{node.status}">{node.status}</span>',
        ]
        numbers = [
            _num(node.score),
            (f"{gain.value:+.4g}" + (f" ± {gain.se:.2g}" if gain.se is not None else "")) if gain else "",
            *([_num(node.public_score)] if show_public else []),
            _duration(node.seconds) if node.seconds is not None else "",
            f"{node.peak_memory_mb:,.0f}" if node.peak_memory_mb is not None else "",
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in text)
                    + "".join(f'<td class="num">{c}</td>' for c in numbers)
                    + f'<td><span title="{escape(error)}">{escape(_shorten(error, 90))}</span></td></tr>')
        for child in children.get(node.id, []):
            if child.id not in seen:
                visit(child, depth + 1, seen)

    seen: set[str] = set()
    for root in children.get(None, []):
        visit(root, 0, seen)
    if not rows:
        return '<p class="note">no nodes yet</p>'
    return ('<table class="tree"><tr>' + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(rows)
            + "</table>")


def _node_details(run: RunFolder, node: Node, best: Node | None, run_start: float) -> str:
    star = ' <span class="best">★ best</span>' if best is not None and node.id == best.id else ""
    score = f" · {_num(node.score)}" if node.score is not None else ""
    summary = (f"<b>{escape(node.id)}</b> {_step_badge(node.step)} {escape(node.title)} · "
               f'<span class="{node.status}">{node.status}</span>{score}{star}')
    parents = ", ".join(f'<a href="#node-{escape(p)}">{escape(p)}</a>' for p in node.parents) or "none (draft)"
    facts = [("parents", parents), ("engineer", escape(node.engineer)),
             ("started", f"{time.strftime('%H:%M:%S', time.localtime(node.started_at))}, "
                         f"{_duration(max(0.0, node.started_at - run_start))} into the run")]
    if node.seconds is not None:
        facts.append(("took", _duration(node.seconds)))
    if node.peak_memory_mb is not None:
        facts.append(("peak memory", f"{node.peak_memory_mb:,.0f} MB"))
    if node.fold_scores:
        facts.append(("fold scores", ", ".join(_num(s) for s in node.fold_scores)))
    if node.public_score is not None:
        facts.append(("public score", _num(node.public_score)))
    if node.tokens_in or node.tokens_out or node.cost_usd:
        facts.append(("LLM", f"{node.tokens_in:,} tokens in, {node.tokens_out:,} out · ${node.cost_usd:.4f}"))
    if node.params:
        facts.append(("params", f"<code>{escape(json.dumps(node.params, default=str))}</code>"))
    if node.facts:
        facts.append(("facts", f"<code>{escape(json.dumps(node.facts, default=str))}</code>"))
    node_dir = run.node_dir(node.id)
    if (node_dir / "log.txt").exists():
        relative = f"nodes/{node.id}/log.txt"
        facts.append(("log", f'<a href="{escape(relative)}">{escape(relative)}</a>'))
    parts = [f'<details class="node" id="node-{escape(node.id)}"><summary>{summary}</summary>',
             '<table class="facts">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts) + "</table>",
             f'<pre class="plan">{escape(node.plan or "(no plan)")}</pre>']
    if node.error:
        parts.append(f'<pre class="error">{escape(node.error)}</pre>')
    if node.status == "failed" and (node_dir / "log.txt").exists():
        tail = (node_dir / "log.txt").read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        parts.append(f"<details><summary>log, last {len(tail)} lines</summary><pre>{escape(chr(10).join(tail))}</pre>"
                     "</details>")
    code = run.code(node.id)
    if len(node.parents) == 1:
        parts.append(f"<details><summary>diff against node {escape(node.parent)}</summary>"
                     f"{_diff(run.code(node.parent), code, node.parent, node.id)}</details>")
    parts.append(f"<details><summary>code ({len(code.splitlines())} lines)</summary><pre>{escape(code)}</pre></details>"
                 if code else '<p class="note">no solution.py</p>')
    parts.append("</details>")
    return "\n".join(parts)


def _diff(before: str, after: str, before_id: str, after_id: str) -> str:
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), f"node {before_id}",
                                      f"node {after_id}", lineterm=""))
    if not lines:
        return '<p class="note">same code as the parent (only the parameters or the job differ)</p>'
    styled = []
    for line in lines:
        kind = ("hunk" if line.startswith("@@") else "add" if line.startswith("+") and not line.startswith("+++")
                else "del" if line.startswith("-") and not line.startswith("---") else "")
        styled.append(f'<span class="{kind}">{escape(line)}</span>' if kind else escape(line) + "\n")
    return "<pre>" + "".join(styled) + "</pre>"


def _profile(run: RunFolder) -> str:
    path = run.path / "profile.md"
    if not path.exists():
        return ""
    return f"<h2>Data</h2><details><summary>profile.md</summary><pre>{escape(path.read_text())}</pre></details>"


# --- small formatting helpers ------------------------------------------------------------------


def _step_badge(step: str) -> str:
    return f'<span class="step" style="background:{plots.STEP_COLOURS.get(step, "#777")}">{escape(step)}</span>'


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _duration(seconds: float) -> str:
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m {seconds % 60:02.0f}s"
    return f"{seconds // 3600:.0f}h {seconds % 3600 // 60:02.0f}m"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
