"""`agent bench --ray-address`: the tasks run as Ray tasks on a Ray instance that the test starts,
and the bench connects to it as a separate driver, as it would to a cluster."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import ROOT, agent_command
from tests.test_bench import alive, make_bench_competition, make_spaceship

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_cluster():
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "RAY_AUTH_MODE")}
    os.environ["PYTHONPATH"] = str(ROOT)  # the workers import agent.bench from this checkout
    os.environ["RAY_AUTH_MODE"] = "disabled"
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield context.address_info["gcs_address"]
    ray.shutdown()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def bench_args(data, out, address, budget="20"):
    return ["bench", "--data-dir", str(data), "--competitions", "spaceship-titanic,broken", "--time-budget", budget,
            "--workers", "2", "--cpus-per-task", "1", "--ray-address", address, "--out", str(out)]


@pytest.mark.slow
def test_bench_on_ray(tmp_path, ray_cluster):
    data = tmp_path / "data"
    make_spaceship(data)
    make_bench_competition(data, "broken", broken=True)
    out = tmp_path / "bench"
    result = agent_command(*bench_args(data, out, ray_cluster), cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "on Ray" in result.stdout
    records = {p.stem: json.loads(p.read_text()) for p in (out / "tasks").glob("*.json")}
    assert sorted(records) == ["broken-seed0", "spaceship-titanic-seed0"]
    good, bad = records["spaceship-titanic-seed0"], records["broken-seed0"]
    assert good["status"] == "ok" and good["medal"] == "gold" and good["cpus"] == 1 and good["gpus"] == 0
    assert bad["status"] == "failed" and bad["valid_submission"] and not bad["any_medal"]  # the sample submission, as a fallback
    assert (out / "summary.md").is_file() and (out / "submissions.jsonl").read_text().count("\n") == 1


@pytest.mark.slow
def test_stopping_a_ray_bench_cancels_its_runs(tmp_path, ray_cluster):
    """SIGTERM (ray.init installs a handler of its own) ends the bench like Ctrl-C: the runs on the
    workers are killed with their candidates, and nothing is recorded for them."""
    data = tmp_path / "data"
    make_spaceship(data)
    make_bench_competition(data, "broken", broken=True)
    out = tmp_path / "bench"
    bench = subprocess.Popen([sys.executable, "-m", "agent.cli", *bench_args(data, out, ray_cluster, "60")],
                             cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    node = out / "runs" / "spaceship-titanic" / "seed0" / "nodes" / "0001" / "job.json"
    deadline = time.monotonic() + 90
    while not node.exists() and time.monotonic() < deadline and bench.poll() is None:
        time.sleep(0.2)
    assert node.exists(), "no candidate started"
    runs = [p.pid for p in psutil.process_iter(["cmdline"])
            if "compete" in (p.info["cmdline"] or []) and str(out) in " ".join(p.info["cmdline"])]
    assert runs
    bench.send_signal(signal.SIGTERM)
    output, _ = bench.communicate(timeout=90)
    assert bench.returncode == 130, output
    time.sleep(1)
    assert not alive(runs)
    assert not (out / "tasks" / "spaceship-titanic-seed0.json").exists()
    sessions = (out / "logs" / "spaceship-titanic-seed0.sessions.jsonl").read_text()
    assert '"ended": "interrupted"' in sessions


def test_an_unreachable_ray_address_is_a_one_line_error(tmp_path):
    """ray.init retries a dead address for minutes; the bench says so at once and runs nothing."""
    data = tmp_path / "data"
    make_bench_competition(data, "broken", broken=True)
    with socket.socket() as probe:  # a port that nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = time.monotonic()
    result = agent_command("bench", "--data-dir", str(data), "--competitions", "broken", "--ray-address",
                           f"127.0.0.1:{port}", "--out", str(tmp_path / "bench"), cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and time.monotonic() - start < 30
    assert result.stderr.strip().startswith("error:") and f"cannot reach Ray at 127.0.0.1:{port}" in result.stderr
    assert not (tmp_path / "bench" / "runs").exists()
