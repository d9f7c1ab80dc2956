"""Untrusted candidates: hangs, memory hogs and credential thieves become failed nodes, never a crashed run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from rich.console import Console

from agent.compete import compete
from agent.config import Settings
from agent.engineers.base import Ask, Proposal
from agent.journal import Journal
from agent import sandbox
from agent.sandbox import clean_env, run_sandboxed
from pipelines.spec import CompetitionSpec
from pipelines.submission import submission_problems
from tests.conftest import DEMO
from tests.hostile import ATTACKS, Attack, World, solution, wait_for_survivors

ATTACK = {a.name: a for a in ATTACKS}


def run_code(tmp_path: Path, code: str, timeout: float = 10, memory_mb: int = 2000, env=None):
    log = tmp_path / "log.txt"
    return run_sandboxed([sys.executable, "-c", code], cwd=tmp_path, log_path=log, timeout=timeout,
                         memory_mb=memory_mb, env=env), log


def test_temp_folders_of_killed_agents_are_removed_by_the_next(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    orphan = tmp_path / f"agent-node-{ended.pid}-abc"
    (orphan / "home").mkdir(parents=True)
    (orphan / "home" / "checkpoint.pt").write_bytes(b"x" * 1000)
    alive = tmp_path / f"agent-node-{os.getppid()}-def"  # an agent still running: its folder stays
    alive.mkdir()
    sandbox._remove_orphan_temps.cache_clear()
    mine = sandbox.node_temp()
    assert not orphan.exists() and alive.exists()
    assert mine.parent == tmp_path and mine.name.startswith(f"agent-node-{os.getpid()}-")


def test_a_candidate_that_sleeps_forever_is_killed(tmp_path: Path) -> None:
    start = time.monotonic()
    result, _ = run_code(tmp_path, "import time\nwhile True: time.sleep(1)", timeout=2)
    assert result.timed_out and not result.ok
    assert time.monotonic() - start < 8


def test_grandchildren_are_killed_too(tmp_path: Path) -> None:
    code = ("import subprocess, sys, time\n"
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
            "open('child.pid', 'w').write(str(p.pid))\n"
            "time.sleep(300)")
    result, _ = run_code(tmp_path, code, timeout=3)
    assert result.timed_out
    pid = int((tmp_path / "child.pid").read_text())
    time.sleep(0.3)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_a_candidate_that_allocates_50_gb_fails_cleanly(tmp_path: Path) -> None:
    result, log = run_code(tmp_path, "import numpy as np\nx = np.ones(50 * 2**30, dtype=np.uint8)\nprint(x.sum())",
                           memory_mb=1500)
    assert result.out_of_memory and not result.ok
    assert result.peak_rss_mb < 5000


def test_memory_is_watched_when_the_address_space_is_not_capped(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    code = "import numpy as np, time\nx = np.ones(3 * 2**30, dtype=np.uint8)\ntime.sleep(30)"
    result = run_sandboxed([sys.executable, "-c", code], cwd=tmp_path, log_path=log, timeout=60, memory_mb=800,
                           limit_address_space=False)
    assert result.out_of_memory and not result.ok


def test_credentials_are_not_in_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KAGGLE_KEY", "secret-kaggle-key")
    monkeypatch.setenv("KAGGLE_USERNAME", "alice")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-secret")
    monkeypatch.setenv("HARMLESS_SETTING", "kept")
    code = "import os, json\nprint(json.dumps({k: v for k, v in os.environ.items()}))"
    result, log = run_code(tmp_path, code, env=clean_env(home=tmp_path))
    assert result.ok
    text = log.read_text()
    for secret in ("secret-kaggle-key", "sk-secret", "ghp-secret", "KAGGLE_USERNAME"):
        assert secret not in text
    assert "kept" in text


class ScriptedEngineer:
    """Proposes the given solutions as drafts, one per ask, then nothing."""

    name = "scripted"

    def __init__(self, codes: list[tuple[str, str]]) -> None:
        self.codes = list(codes)

    def propose(self, ask: Ask, brief, journal, run) -> Proposal | None:
        if ask.kind != "draft" or not self.codes:
            return None
        title, code = self.codes.pop(0)
        return Proposal(title=title, plan=title, code=code)


GOOD = (Path(__file__).resolve().parent.parent / "agent" / "recipes" / "lightgbm_tabular.py").read_text()
SLEEPER = "import time\ndef features(train, test, ctx):\n    time.sleep(10**6)\ndef model(params, ctx):\n    pass\n"
HOG = ("import numpy as np\ndef features(train, test, ctx):\n    hog = np.ones(50 * 2**30, dtype=np.uint8)\n"
       "    return hog, hog\ndef model(params, ctx):\n    pass\n")
THIEF = ("import os\ndef features(train, test, ctx):\n    raise RuntimeError('stolen: ' + os.environ.get('KAGGLE_KEY', 'nothing'))\n"
         "def model(params, ctx):\n    pass\n")
CRASH = "def features(train, test, ctx):\n    return 1 / 0\ndef model(params, ctx):\n    pass\n"


# One node that tries these in turn (each alone: tests/test_attacks.py), and one that lies about its score.
HOSTILE = ["answers-via-config", "overwrite-submission", "symlink-tricks", "setsid-daemon", "signal-agent"]


def test_bad_candidates_become_failed_nodes_and_the_run_goes_on(tmp_path: Path, monkeypatch) -> None:
    world = World(tmp_path / "world")
    shutil.copytree(DEMO, world.competition)
    world.write_answers(pd.read_csv(DEMO / "test.csv")["PassengerId"].tolist(), "PassengerId", "Survived")
    for name, value in world.environment().items():
        monkeypatch.setenv(name, value)
    combined = Attack("hostile", "\n".join(a.body for a in ATTACKS if a.name in HOSTILE), "all of them")
    attacks = [("hostile", solution(combined, world)), ("lying-result", solution(ATTACK["lying-result"], world))]
    engineer = ScriptedEngineer([("sleeper", SLEEPER), ("hog", HOG), ("thief", THIEF), ("crash", CRASH), ("good", GOOD),
                                 *attacks])
    settings = Settings(time_budget=200, node_timeout=12, memory_mb=1500, num_drafts=5 + len(attacks), tune_share=0.0,
                        runs_root=tmp_path / "runs")
    try:
        outcome = compete(world.competition, settings, run_dir=tmp_path / "run", engineer=engineer,
                          console=Console(quiet=True))
    finally:
        world.close()
    run = outcome.run.path
    nodes = {n.title: n for n in Journal(outcome.run.journal_path)}
    assert nodes["sleeper"].status == "failed" and "timed out" in nodes["sleeper"].error
    assert nodes["hog"].status == "failed" and "memory" in nodes["hog"].error.lower()
    assert nodes["thief"].status == "failed" and "stolen: nothing" in nodes["thief"].error
    assert nodes["crash"].status == "failed" and "ZeroDivisionError" in nodes["crash"].error
    for name, _ in attacks:
        assert nodes[name].status == "failed", name
        assert ": DONE" not in nodes[name].error, nodes[name].error
    assert "attack over" in nodes["hostile"].error and "read the run's config.json: blocked" in nodes["hostile"].error
    assert "is not what its out-of-fold predictions earn" in nodes["lying-result"].error
    assert nodes["good"].ok and outcome.best.title == "good"
    assert wait_for_survivors(world) == []
    time.sleep(2.5)  # the daemon's moment to rewrite the submission, had it survived
    submission = pd.read_csv(outcome.run.submission_path)
    spec = CompetitionSpec.model_validate_json((run / "spec.json").read_text())
    assert submission_problems(submission, pd.read_csv(DEMO / "sample_submission.csv"), spec) == []
    assert (run / "best" / "submission.csv").read_bytes() == outcome.run.submission_path.read_bytes()
    assert (run / "nodes" / nodes["good"].id / "submission.csv").read_bytes() == outcome.run.submission_path.read_bytes()
    assert world.received == [] and world.leaks(run) == []
    assert not [p for p in run.rglob("*") if p.is_symlink()]


def test_a_node_file_is_read_within_its_bound_however_large_the_bound(tmp_path: Path) -> None:
    from agent.sandbox import read_node_file

    path = tmp_path / "submission.csv"
    path.write_text("id,pressure\n1,0.5\n")
    # a 4M-row test allows a submission of tens of gigabytes: the read must not reserve them
    assert read_node_file(path, 10**13) == b"id,pressure\n1,0.5\n"
