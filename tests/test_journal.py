"""The journal: durable snapshots, torn lines skipped, ranking in the metric's direction."""

from __future__ import annotations

import logging
from pathlib import Path

from agent.journal import Journal, Node, oriented


def test_the_last_snapshot_of_a_node_wins_after_a_reload(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.record(Node(id="0001", step="draft", title="lightgbm_tabular"))
    journal.record(journal.get("0001").model_copy(update={"status": "ok", "score": 0.8, "gain": None}))
    again = Journal(tmp_path / "journal.jsonl")
    assert len(again) == 1 and again.get("0001").ok and again.get("0001").score == 0.8
    assert again.get("0001").recipe == "lightgbm_tabular"  # no recipe given: the title
    assert journal.new_id() == "0002"


def test_a_torn_line_is_skipped_with_a_warning_and_never_swallows_the_next_record(tmp_path: Path, caplog) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.record(Node(id="0001", step="draft", status="ok", score=0.5))
    line = Node(id="0002", step="draft").model_dump_json()
    with open(path, "a") as f:
        f.write(line[: len(line) // 2])  # a kill in the middle of a write
    Journal(path).record(Node(id="0003", step="draft", status="ok", score=0.6))
    with caplog.at_level(logging.WARNING):
        reloaded = Journal(path)
    assert list(reloaded.nodes) == ["0001", "0003"]
    assert "skipping unreadable line 2" in caplog.text


def test_ranking_follows_the_metrics_direction_and_prefers_the_earlier_node_on_a_tie(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    for node_id, score in (("0001", 0.3), ("0002", 0.1), ("0003", 0.1), ("0004", None)):
        journal.record(Node(id=node_id, step="draft", status="ok" if score else "failed", score=score))
    assert [n.id for n in journal.ranked(greater_is_better=False)] == ["0002", "0003", "0001"]
    assert [n.id for n in journal.ranked(greater_is_better=True)] == ["0001", "0002", "0003"]
    assert journal.best(greater_is_better=False).id == "0002"
    assert oriented(0.1, False) > oriented(0.3, False)
    assert Journal(tmp_path / "none.jsonl").best(True) is None
