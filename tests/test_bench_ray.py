"""`agent bench --ray-address`: the tasks run as Ray tasks on a Ray instance that the test starts,
and the bench connects to it as a separate driver, as it would to a cluster."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, agent_command
from tests.test_bench import make_bench_competition, make_spaceship

ray = pytest.importorskip("ray")


@pytest.fixture
def ray_cluster(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the workers import agent.bench from this checkout
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield context.address_info["gcs_address"]
    ray.shutdown()


@pytest.mark.slow
def test_bench_on_ray(tmp_path, ray_cluster):
    data = tmp_path / "data"
    make_spaceship(data)
    make_bench_competition(data, "broken", broken=True)
    out = tmp_path / "bench"
    result = agent_command("bench", "--data-dir", str(data), "--competitions", "spaceship-titanic,broken",
                           "--time-budget", "20", "--workers", "2", "--cpus-per-task", "1",
                           "--ray-address", ray_cluster, "--out", str(out), cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "on Ray" in result.stdout
    records = {p.stem: json.loads(p.read_text()) for p in (out / "tasks").glob("*.json")}
    assert sorted(records) == ["broken-seed0", "spaceship-titanic-seed0"]
    good, bad = records["spaceship-titanic-seed0"], records["broken-seed0"]
    assert good["status"] == "ok" and good["medal"] == "gold" and good["cpus"] == 1 and good["gpus"] == 0
    assert bad["status"] == "failed" and not bad["valid"]
    assert (out / "summary.md").is_file() and (out / "submissions.jsonl").read_text().count("\n") == 1
