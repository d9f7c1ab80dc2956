"""`agent review`: the run's nodes as a tree, and any node's plan, code, log and diff against its parent.

An ensemble sits at the top of the tree with all its members named, since it belongs to none of
them alone, and its gain is over its best member. Every gain comes with its paired standard error.
"""

from __future__ import annotations

import difflib
import json

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.tree import Tree

from agent.gains import gain_of
from agent.journal import Journal, Node
from agent.node_files import submitted_node
from agent.llm.usage import USAGE_FILE, usage_line
from agent.run_folder import RunFolder
from pipelines.errors import InputError
from pipelines.spec import CompetitionSpec


def open_run(path) -> tuple[RunFolder, Journal, CompetitionSpec]:
    run = RunFolder(path)
    if not run.journal_path.exists() or not (run.path / "spec.json").exists():
        raise InputError("not a run folder (no journal.jsonl / spec.json)", path)
    spec = CompetitionSpec.model_validate(json.loads((run.path / "spec.json").read_text()))
    return run, Journal(run.journal_path), spec


def _label(node: Node, best: Node | None, journal: Journal, greater_is_better: bool) -> str:
    colour = {"ok": "green", "failed": "red", "running": "yellow"}[node.status]
    score = f"{node.score:.5f}" if node.score is not None else "-"
    gain = gain_of(node, journal, greater_is_better)
    gain_text = f" [dim]({gain.text()})[/]" if gain else ""
    members = f" [dim]members {', '.join(node.parents)}[/]" if node.step == "ensemble" else ""
    public = f" [cyan]public {node.public_score}[/]" if node.public_score is not None else ""
    star = " [bold yellow]★ best[/]" if best is not None and node.id == best.id else ""
    took = f" {node.seconds:.0f}s" if node.seconds is not None else ""
    cost = f" ${node.cost_usd:.3f}" if node.cost_usd else ""
    error = f" [red]{node.error}[/]" if node.error else ""
    by = f" [dim]by {node.engineer}[/]" if node.engineer != "builtin" else ""
    return (f"[bold]{node.id}[/] {node.step}{by} [italic]{node.title}[/]{members} [{colour}]{node.status}[/] "
            f"{score}{gain_text}{public}{took}{cost}{star}{error}")


def show_tree(console: Console, run: RunFolder, journal: Journal, spec: CompetitionSpec) -> None:
    best = submitted_node(run, journal, spec.greater_is_better)
    tokens = sum(n.tokens_in + n.tokens_out for n in journal)
    cost = sum(n.cost_usd for n in journal)
    root = Tree(f"[bold]{spec.slug}[/] · {spec.metric} ({spec.direction}) · {len(journal)} nodes · "
                f"best {best.score:.5f} (node {best.id})" if best else f"[bold]{spec.slug}[/] · no valid node")
    branches: dict[str, Tree] = {}
    for node in journal:
        parent = branches.get(node.parent) if node.parent and node.step != "ensemble" else None
        branches[node.id] = (parent or root).add(_label(node, best, journal, spec.greater_is_better))
    console.print(root)
    usage_file = run.path / USAGE_FILE
    if usage_file.exists():
        console.print(usage_line(json.loads(usage_file.read_text())), highlight=False)
    elif tokens:
        console.print(f"LLM tokens {tokens:,} · cost ${cost:.4f}")
    console.print(f"submission: {run.submission_path if run.submission_path.exists() else 'none yet'}")


def run_as_dict(run: RunFolder, journal: Journal, spec: CompetitionSpec) -> dict:
    """What `review --json` prints: the run and every node with its gain and that gain's standard error."""
    best = submitted_node(run, journal, spec.greater_is_better)
    nodes = []
    for node in journal:
        gain = gain_of(node, journal, spec.greater_is_better)
        nodes.append({**node.model_dump(include={"id", "parents", "step", "engineer", "title", "status", "score",
                                                 "fold_scores", "public_score", "seconds", "peak_memory_mb",
                                                 "error", "params"}),
                      "recipe": node.recipe,
                      "gain": gain.value if gain else None, "gain_se": gain.se if gain else None,
                      "gain_vs": gain.against if gain else None, "gain_vs_kind": gain.versus if gain else None})
    return {"run": str(run.path), "competition": spec.slug, "metric": spec.metric, "direction": spec.direction,
            "best": best.id if best else None, "best_score": best.score if best else None,
            "submission": str(run.submission_path) if run.submission_path.exists() else None, "nodes": nodes}


def _diff_base(journal: Journal, node: Node) -> tuple[Node | None, str]:
    """What a node's diff is taken against: its parent; for an ensemble, the ensemble before it."""
    if node.step == "ensemble":
        earlier = [n for n in journal if n.step == "ensemble" and int(n.id) < int(node.id)]
        return (earlier[-1], "the previous ensemble") if earlier else (None, "the first ensemble")
    if node.parent:
        return journal.get(node.parent), "its parent"
    return None, "a draft has no parent"


def show_node(console: Console, run: RunFolder, journal: Journal, spec: CompetitionSpec, node_id: str,
              diff: bool) -> None:
    if node_id not in journal.nodes:
        raise InputError(f"no node {node_id!r} (nodes are {', '.join(journal.nodes)})", run.path)
    node = journal.get(node_id)
    console.print(Panel(node.plan or "(no plan)", title=f"node {node.id} · {node.step} · {node.title}"))
    facts = {"status": node.status, "score": node.score, "fold_scores": node.fold_scores, "seconds": node.seconds,
             "peak_memory_mb": node.peak_memory_mb, "params": node.params, "parents": node.parents,
             "error": node.error, "engineer": node.engineer, **node.facts}
    if (gain := gain_of(node, journal, spec.greater_is_better)) is not None:
        facts["gain"] = gain.text()
    if node.tokens_in or node.tokens_out:
        facts.update(tokens_in=node.tokens_in, tokens_out=node.tokens_out, cost_usd=round(node.cost_usd, 6))
    node_dir = run.node_dir(node.id)
    if node_dir.exists():
        facts["files"] = sorted(p.name for p in node_dir.iterdir() if not p.name.startswith("."))
    console.print_json(json.dumps({k: v for k, v in facts.items() if v not in (None, [], {})}, default=str))
    if node.step == "ensemble":
        members = [journal.nodes[i] for i in node.parents if i in journal.nodes]
        console.print("members: " + "; ".join(f"{m.id} {m.title} {m.score:.5f}" if m.ok else f"{m.id} {m.title} -"
                                             for m in members), highlight=False)
    code = run.code(node.id)
    if diff:
        base, what = _diff_base(journal, node)
        if base is None:
            console.print(f"[dim]{what}: nothing to compare with[/]")
        else:
            console.print(f"[dim]against node {base.id}, {what}[/]")
            if node.step == "ensemble":
                added, dropped = sorted(set(node.parents) - set(base.parents)), sorted(set(base.parents) - set(node.parents))
                console.print(f"members added: {', '.join(added) or 'none'}; dropped: {', '.join(dropped) or 'none'}")
            if node.params != base.params:
                params = difflib.unified_diff(json.dumps(base.params, indent=1, sort_keys=True, default=str).splitlines(),
                                              json.dumps(node.params, indent=1, sort_keys=True, default=str).splitlines(),
                                              f"params of {base.id}", f"params of {node.id}", lineterm="")
                console.print(Syntax("\n".join(params), "diff", theme="ansi_dark"))
            lines = difflib.unified_diff(run.code(base.id).splitlines(), code.splitlines(),
                                         f"node {base.id}", f"node {node.id}", lineterm="")
            console.print(Syntax("\n".join(lines) or "(same code)", "diff", theme="ansi_dark"))
    else:
        console.print(Syntax(code, "python", line_numbers=True, theme="ansi_dark"))
    log_path = run.node_dir(node.id) / "log.txt"
    if node.status == "failed" and log_path.exists():
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        console.print(Panel("\n".join(tail), title="log (last lines)", style="red"))


def run_facts(run: RunFolder, stale_seconds: float = 120.0) -> dict[str, str]:
    """One line of `agent runs`. A run with a node still marked running is running while its
    heartbeat is fresh, else interrupted (it resumes with --resume)."""
    import time

    config = json.loads((run.path / "config.json").read_text())
    journal = Journal(run.journal_path)
    spec_path = run.path / "spec.json"
    greater = CompetitionSpec.model_validate_json(spec_path.read_text()).greater_is_better if spec_path.exists() else True
    best = submitted_node(run, journal, greater)
    sessions = run._state()[0].get("sessions", [])
    last_beat = sessions[-1][1] if sessions else run.started_at
    if any(n.status == "running" for n in journal) or not (run.path / "summary.json").exists():
        status = "running" if time.time() - last_beat < stale_seconds else "interrupted"
    else:
        status = "finished" if best is not None else "no valid node"
    budget = config.get("settings", {}).get("time_budget")
    return {"started": time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started_at)),
            "budget": f"{budget:g} s" if budget else "", "best_score": f"{best.score:.5f}" if best else "-",
            "nodes": str(len(journal)), "status": status}
