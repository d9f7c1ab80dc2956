"""Gains and their paired standard errors, as review and the report show them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from agent.gains import gain_of, rechecked_tune_score
from agent.journal import Journal, Node


def journal_of(tmp_path: Path) -> Journal:
    journal = Journal(tmp_path / "journal.jsonl")
    for node in (
        Node(id="0001", step="draft", status="ok", score=0.80, fold_scores=[0.78, 0.80, 0.82]),
        Node(id="0002", step="draft", status="ok", score=0.83, fold_scores=[0.82, 0.84, 0.83]),
        Node(id="0003", step="improve", parents=["0001"], status="ok", score=0.81, fold_scores=[0.80, 0.80, 0.83]),
        Node(id="0004", step="ensemble", parents=["0001", "0002", "0003"], status="ok", score=0.835,
             fold_scores=[0.83, 0.84, 0.835]),
        Node(id="0005", step="improve", parents=["0002"], status="failed"),
    ):
        journal.record(node)
    return journal


def test_an_improvement_is_compared_with_its_parent_fold_by_fold(tmp_path: Path) -> None:
    gain = gain_of(journal_of(tmp_path).get("0003"), journal_of(tmp_path), greater_is_better=True)
    differences = np.array([0.02, 0.0, 0.01])
    assert gain.value == pytest.approx(0.01) and gain.against == "0001" and gain.versus == "parent"
    assert gain.se == pytest.approx(differences.std(ddof=1) / math.sqrt(3))
    assert gain.text() == f"+0.01000 ± {gain.se:.5f} vs parent 0001"


def test_an_ensemble_is_compared_with_its_best_member_and_direction_counts(tmp_path: Path) -> None:
    journal = journal_of(tmp_path)
    gain = gain_of(journal.get("0004"), journal, greater_is_better=True)
    assert gain.against == "0002" and gain.versus == "best member" and gain.value == pytest.approx(0.005)
    lower = gain_of(journal.get("0004"), journal, greater_is_better=False)  # for an error, 0001 is the best member
    assert lower.against == "0001" and lower.value == pytest.approx(-0.035)
    assert gain_of(journal.get("0005"), journal, True) is None and gain_of(journal.get("0001"), journal, True) is None


def test_a_tuned_score_is_held_to_its_parent_plus_the_gain_on_fresh_folds() -> None:
    # accuracy: tuning folds say 0.84, but on fresh folds the tuned parameters gained only 0.002
    assert rechecked_tune_score(0.84, 0.80, 0.002, True) == pytest.approx(0.802)
    assert rechecked_tune_score(0.81, 0.80, 0.02, True) == pytest.approx(0.81)  # never raised above its own
    # rmse: lower is better, and a negative fresh gain puts the tuned node below its parent
    assert rechecked_tune_score(0.10, 0.12, -0.01, False) == pytest.approx(0.13)
