"""Live view of a run: the budget bar, the best score, and a line per candidate."""

from __future__ import annotations

import time

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from agent.journal import Node

STATUS_STYLE = {"running": "yellow", "ok": "green", "failed": "red"}


def node_line(node: Node) -> str:
    score = f"{node.score:.5f}" if node.score is not None else "-"
    took = f"{node.seconds:.1f}s" if node.seconds is not None else ""
    why = f"  {node.error}" if node.error else ""
    parents = ",".join(node.parents) or "-"
    return f"node {node.id} {node.step:<8} {node.title:<28} parent {parents:<9} {node.status:<7} {score:>9} {took:>7}{why}"


class Display:
    """A rich Live panel on a terminal; plain lines otherwise (CI logs, pipes)."""

    def __init__(self, console: Console, title: str, budget_seconds: float, used_seconds: float = 0.0) -> None:
        self.console = console
        self.title = title
        self.nodes: dict[str, Node] = {}
        self.best: Node | None = None
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(), console=console,
        )
        self.budget_task = self.progress.add_task(title, total=budget_seconds, completed=used_seconds, info="")
        self._start = time.monotonic() - used_seconds
        self.live = Live(self._render(), console=console, refresh_per_second=4, transient=False) if console.is_terminal else None

    def __enter__(self) -> Display:
        if self.live:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.live.update(self._render())
            self.live.stop()

    def _render(self) -> Group:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        for column in ("node", "step", "title", "parent", "status", "score", "time"):
            table.add_column(column)
        for node in list(self.nodes.values())[-12:]:
            style = STATUS_STYLE.get(node.status, "")
            best = " *" if self.best is not None and node.id == self.best.id else ""
            table.add_row(
                node.id, node.step, node.title[:32], ",".join(node.parents) or "-", f"[{style}]{node.status}[/]",
                (f"{node.score:.5f}" if node.score is not None else "-") + best,
                f"{node.seconds:.1f}s" if node.seconds is not None else "…",
            )
        return Group(self.progress, table)

    def tick(self) -> None:
        best = f"best {self.best.score:.5f} (node {self.best.id})" if self.best else "no valid candidate yet"
        self.progress.update(self.budget_task, completed=time.monotonic() - self._start, info=best)
        if self.live:
            self.live.update(self._render())

    def note(self, text: str) -> None:
        """A line above the live panel (or in the plain log): a decision the user should see."""
        self.console.print(f"[bold]{text}[/]" if self.live else text, highlight=False, soft_wrap=True)

    def update(self, node: Node, best: Node | None) -> None:
        self.nodes[node.id] = node
        self.best = best
        if not self.live and node.status != "running":
            self.console.print(node_line(node) + (" *best*" if best is not None and best.id == node.id else ""),
                               highlight=False, soft_wrap=True)
        self.tick()
