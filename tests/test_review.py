"""`agent review` on a hand-made run: ensembles with all their members, gains against the right node, meaningful diffs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import agent_command
from tests.test_report import hand_made_run


def test_review_shows_ensembles_whole_and_diffs_what_changed(tmp_path: Path, make_comp) -> None:
    run = hand_made_run(tmp_path, make_comp)
    wide = {"COLUMNS": "250"}
    tree = agent_command("review", str(run.path), env=wide).stdout
    ensemble = next(line for line in tree.splitlines() if " 0006 " in line)
    assert ensemble.startswith(("├── 0006", "└── 0006")), "an ensemble sits at the top, under none of its members"
    assert "members 0003, 0004, 0005" in ensemble and "vs best member 0005" in ensemble and " ± " in ensemble
    assert "vs parent 0001" in next(line for line in tree.splitlines() if " 0003 " in line)

    shown = agent_command("review", str(run.path), "--node", "6", "--diff", env=wide).stdout
    assert "the first ensemble: nothing to compare with" in shown
    assert "members: 0003 <b>bold</b> improve 0.84000; 0004 debug 0004 0.78000; 0005 tune 0005 0.85000" in shown
    tuned = agent_command("review", str(run.path), "--node", "5", "--diff", env=wide).stdout
    assert "against node 0003, its parent" in tuned and '+ "learning_rate": 0.03' in tuned

    facts = json.loads(agent_command("review", str(run.path), "--json").stdout)
    by_id = {n["id"]: n for n in facts["nodes"]}
    assert by_id["0006"]["gain_vs"] == "0005" and by_id["0006"]["gain_vs_kind"] == "best member"
    assert by_id["0003"]["gain"] == 0.04 and by_id["0003"]["gain_se"] == 0.0  # fold scores moved in step
    assert by_id["0002"]["gain"] is None and facts["best"] == "0006"
