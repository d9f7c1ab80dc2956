"""Hostile candidates in the real sandbox (agent.sandbox with its Confinement, as the search runs every
node): each attack's forbidden acts must all be refused, and from outside nothing may have changed,
leaked, connected or survived. The same attacks run through `agent compete` in
benchmarks/hostile_candidates.py and, a few of them, in tests/test_sandbox.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agent import landlock
from agent.sandbox import Confinement, not_enforced, reclaim, run_sandboxed
from tests.hostile import ATTACKS, ROOT, World, fingerprint, script, wait_for_survivors

pytestmark = pytest.mark.skipif(bool(not_enforced()), reason=f"the kernel leaves open: {not_enforced()}")

MAX_LOG_BYTES = 6 << 20


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = World(tmp_path_factory.mktemp("world"), max_processes=400)
    world.competition.mkdir(parents=True)
    (world.competition / "train.csv").write_text("id,label\n1,a\n")
    world.write_answers([1, 2, 3], "id", "label")
    run = world.root / "run"
    (run / "data").mkdir(parents=True)
    (run / "data" / "train.pkl").write_bytes(b"prepared")
    (run / "spec.json").write_text("{}")
    (run / "config.json").write_text(json.dumps({"source": str(world.competition)}))
    (run / "submission.csv").write_text("id,label\n1,a\n")
    (run / "best").mkdir()
    (run / "best" / "submission.csv").write_text("id,label\n1,a\n")
    (run / "journal.jsonl").write_text("")
    (run / "nodes" / world.sibling).mkdir(parents=True)
    (run / "nodes" / world.sibling / "solution.py").write_text("# a sibling's code\n")
    world.run = run
    yield world
    world.close()


def protected(world: World) -> list[Path]:
    run = world.run
    return [run / "submission.csv", run / "best" / "submission.csv", run / "journal.jsonl", run / "config.json",
            run / "spec.json", run / "data" / "train.pkl", ROOT / "agent" / "search.py", ROOT / "pipelines" / "harness.py"]


# Without a PID namespace (kernels that refuse unprivileged user namespaces), Landlock's scoping and the
# supervisor's sweep must hold on their own. (Not "kill-everything" or the fork bomb: were they to get
# through here, they would hit the whole machine.)
WITHOUT_NAMESPACES = ["signal-agent", "setsid-daemon", "ptrace-agent", "tcp-connect", "udp-send", "answers-by-path",
                      "abstract-unix-socket", "symlink-tricks"]
CASES = [pytest.param(a, True, id=a.name) for a in ATTACKS if not a.clean] + \
    [pytest.param(a, False, id=f"{a.name}-without-namespaces") for a in ATTACKS if a.name in WITHOUT_NAMESPACES]


@pytest.mark.parametrize(("attack", "namespaces"), CASES)
def test_the_sandbox_contains(attack, namespaces: bool, world: World, monkeypatch) -> None:
    for name, value in world.environment().items():
        monkeypatch.setenv(name, value)
    run = world.run
    node = run / "nodes" / f"{attack.name}-{namespaces}"
    node.mkdir()
    job = json.dumps({"run_dir": str(run)}).encode()
    (node / "job.json").write_bytes(job)
    before = fingerprint(protected(world))
    confinement = Confinement(read=[run / "data", run / "spec.json"], write=[node], disk_mb=world.disk_mb,
                              processes=world.max_processes, namespaces=namespaces)
    result = run_sandboxed([sys.executable, "-c", script(attack, world)], cwd=node, log_path=node / "log.txt",
                           timeout=120, memory_mb=4000, confinement=confinement)
    survivors = wait_for_survivors(world)
    reclaim(node, {"job.json": job}, ("oof.npy",))
    log = (node / "log.txt").read_text(errors="replace")
    lines = [line for line in log.splitlines() if line.startswith("OUTCOME ")]
    outcome = json.loads(lines[-1][len("OUTCOME "):]) if lines else []

    assert not [o for o in outcome if ": DONE" in o], outcome
    assert survivors == []
    assert fingerprint(protected(world)) == before
    assert world.received == []
    assert world.leaks(run) == []
    assert world.outside_writes() == []
    assert not any(p.is_symlink() for p in node.rglob("*")) and not (node / "oof.npy").is_dir()
    assert (node / "log.txt").stat().st_size < MAX_LOG_BYTES
    if attack.ends == "file":  # Python ignores SIGXFSZ, so the write fails with EFBIG instead of the process dying
        assert not result.ok and "File too large" in log and (node / "big.bin").stat().st_size <= world.disk_mb << 20
    elif attack.ends == "disk":
        assert result.disk_full
    elif attack.name == "fork-bomb":
        assert not result.ok or outcome == []  # bounded by the process cap, or by memory when that comes first
    else:
        assert result.ok, log[-2000:]
        assert outcome or "attempt(" not in attack.body


def test_the_huge_output_is_cut_in_the_middle(world: World) -> None:
    node = world.run / "nodes" / "talker"
    node.mkdir()
    code = "import sys\nprint('first line')\nsys.stdout.write('x' * (50 << 20))\nprint('\\nlast line')\n"
    result = run_sandboxed([sys.executable, "-c", code], cwd=node, log_path=node / "log.txt", timeout=60,
                           memory_mb=4000, confinement=Confinement(write=[node], log_head_bytes=1 << 20,
                                                                   log_tail_bytes=1 << 16))
    log = (node / "log.txt").read_text()
    assert result.ok and len(log) < (1 << 20) + (1 << 16) + 200
    assert log.startswith("first line") and log.rstrip().endswith("last line") and "bytes of output left out" in log


def test_what_the_kernel_offers_is_what_is_enforced() -> None:
    assert landlock.abi_version() >= 6
    assert landlock.not_enforced(3) == ["TCP connect and bind (Landlock ABI < 4)",
                                        "signals to the agent and abstract unix sockets (Landlock ABI < 6)"]


def test_files_beside_a_private_folder_are_granted_one_by_one(tmp_path) -> None:
    import pandas as pd

    from agent.run_folder import RunFolder
    from agent.node_files import prepared_inputs

    images, public = tmp_path / "comp" / "images", tmp_path / "comp"
    images.mkdir(parents=True)
    (public / "private").mkdir()
    paths = [images / "a.png", public / "b.png"]
    for p in paths:
        p.write_bytes(b"png")
    frame = pd.DataFrame({"image__path": [str(p) for p in paths]})
    data = type("Data", (), {"train": frame, "test": frame})()
    granted = prepared_inputs(RunFolder(tmp_path / "run"), data)
    assert images in granted and public / "b.png" in granted and public not in granted
