"""`agent review`: the run's nodes as a tree, and any node's plan, code, log and diff against its parent."""

from __future__ import annotations

import difflib
import json

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.tree import Tree

from agent.journal import Journal, Node
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


def _label(node: Node, best: Node | None) -> str:
    colour = {"ok": "green", "failed": "red", "running": "yellow"}[node.status]
    score = f"{node.score:.5f}" if node.score is not None else "-"
    gain = node.info.get("gain")
    gain_text = f" [dim]({gain:+.5f} vs parent)[/]" if isinstance(gain, (int, float)) else ""
    public = f" [cyan]public {node.public_score}[/]" if node.public_score is not None else ""
    star = " [bold yellow]★ best[/]" if best is not None and node.id == best.id else ""
    took = f" {node.seconds:.0f}s" if node.seconds is not None else ""
    cost = f" ${node.cost_usd:.3f}" if node.cost_usd else ""
    error = f" [red]{node.error}[/]" if node.error else ""
    by = f" [dim]by {node.engineer}[/]" if node.engineer != "builtin" else ""
    return (f"[bold]{node.id}[/] {node.step}{by} [italic]{node.title}[/] [{colour}]{node.status}[/] "
            f"{score}{gain_text}{public}{took}{cost}{star}{error}")


def show_tree(console: Console, run: RunFolder, journal: Journal, spec: CompetitionSpec) -> None:
    best = journal.best(spec.greater_is_better)
    tokens = sum(n.tokens_in + n.tokens_out for n in journal)
    cost = sum(n.cost_usd for n in journal)
    root = Tree(f"[bold]{spec.slug}[/] · {spec.metric} ({spec.direction}) · {len(journal)} nodes · "
                f"best {best.score:.5f} (node {best.id})" if best else f"[bold]{spec.slug}[/] · no valid node")
    branches: dict[str, Tree] = {}
    for node in journal:
        parent = branches.get(node.parent) if node.parent else None
        branches[node.id] = (parent or root).add(_label(node, best))
    console.print(root)
    usage_file = run.path / USAGE_FILE
    if usage_file.exists():
        console.print(usage_line(json.loads(usage_file.read_text())), highlight=False)
    elif tokens:
        console.print(f"LLM tokens {tokens:,} · cost ${cost:.4f}")
    console.print(f"submission: {run.submission_path if run.submission_path.exists() else 'none yet'}")


def show_node(console: Console, run: RunFolder, journal: Journal, node_id: str, diff: bool) -> None:
    if node_id not in journal.nodes:
        raise InputError(f"no node {node_id!r} (nodes are {', '.join(journal.nodes)})", run.path)
    node = journal.get(node_id)
    console.print(Panel(node.plan or "(no plan)", title=f"node {node.id} · {node.step} · {node.title}"))
    facts = {"status": node.status, "score": node.score, "fold_scores": node.fold_scores, "seconds": node.seconds,
             "peak_memory_mb": node.peak_memory_mb, "params": node.params, "parents": node.parents,
             "error": node.error, "engineer": node.engineer, **node.info}
    if node.tokens_in or node.tokens_out:
        facts.update(tokens_in=node.tokens_in, tokens_out=node.tokens_out, cost_usd=round(node.cost_usd, 6))
    node_dir = run.node_dir(node.id)
    if node_dir.exists():
        facts["files"] = sorted(p.name for p in node_dir.iterdir() if not p.name.startswith("."))
    console.print_json(json.dumps({k: v for k, v in facts.items() if v not in (None, [], {})}, default=str))
    code = run.code(node.id)
    if diff:
        if not node.parent:
            console.print("[dim]a draft has no parent to compare with[/]")
        else:
            lines = difflib.unified_diff(run.code(node.parent).splitlines(), code.splitlines(),
                                         f"node {node.parent}", f"node {node.id}", lineterm="")
            console.print(Syntax("\n".join(lines) or "(same code)", "diff", theme="ansi_dark"))
    else:
        console.print(Syntax(code, "python", line_numbers=True, theme="ansi_dark"))
    log_path = run.node_dir(node.id) / "log.txt"
    if node.status == "failed" and log_path.exists():
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        console.print(Panel("\n".join(tail), title="log (last lines)", style="red"))
