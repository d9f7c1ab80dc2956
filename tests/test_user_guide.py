"""What the README promises a new user, tried as one: the CLI in child processes, one real run on the demo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent import __version__
from tests.conftest import DEMO, ROOT, agent_command


def test_version_and_verbose_after_the_subcommand() -> None:
    result = agent_command("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"kagglewright {__version__}"
    assert agent_command("runs", "-v", env={"AGENT_RUNS_ROOT": "/nonexistent"}).returncode == 0


def test_compete_help_shows_its_defaults() -> None:
    text = " ".join(agent_command("compete", "--help", env={"COLUMNS": "200"}).stdout.split())
    for default in ("[default: (600.0)]", "[default: (900.0)]", "70% of this machine's memory", "--config",
                    "--description"):
        assert default in text, default


@pytest.mark.parametrize("where", ["file", "environment"])
def test_an_unknown_setting_is_an_error_naming_the_closest_one(tmp_path: Path, where: str) -> None:
    config = tmp_path / "agent.toml"
    config.write_text("time_buget = 60\n" if where == "file" else "time_budget = 60\n")
    env = {"AGENT_NODE_TIMEOT": "5"} if where == "environment" else {}
    result = agent_command("compete", str(DEMO), "--config", str(config), env=env, cwd=tmp_path)
    assert result.returncode == 2
    expected = ("unknown setting 'time_buget'; did you mean 'time_budget'?" if where == "file"
                else "unknown setting 'AGENT_NODE_TIMEOT'; did you mean 'AGENT_NODE_TIMEOUT'?")
    assert expected in result.stderr and "Traceback" not in result.stderr
    missing = agent_command("compete", str(DEMO), "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert missing.returncode == 2 and "no such config file" in missing.stderr


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """One short run on the demo with a config file, a description of its own and -v after the subcommand."""
    home = tmp_path_factory.mktemp("user")
    (home / "agent.toml").write_text("folds = 3\n")
    (home / "goal.md").write_text("Predict who survived. Evaluation: accuracy of the Survived labels.\n")
    env = {"AGENT_RUNS_ROOT": str(home / "runs")}
    result = agent_command("compete", str(DEMO), "--time-budget", "120", "--max-nodes", "3", "--no-submit", "--description",
                           str(home / "goal.md"), "-v", env=env, cwd=home)
    assert result.returncode == 0, result.stderr
    assert "INFO" in result.stderr, "-v after the subcommand logs decisions"
    return Path(result.stdout.strip().splitlines()[-1]).parent, env


@pytest.mark.slow
def test_the_run_used_the_config_and_the_description_and_said_why_it_stopped(finished_run) -> None:
    run, _ = finished_run
    assert json.loads((run / "config.json").read_text())["settings"]["folds"] == 3
    assert json.loads((run / "spec.json").read_text())["description"].startswith("Predict who survived.")
    assert "stopping: " in (run / "agent.log").read_text()


@pytest.mark.slow
def test_runs_lists_it_and_review_and_report_take_latest(finished_run) -> None:
    run, env = finished_run
    listing = agent_command("runs", "titanic", env={**env, "COLUMNS": "200"})
    assert listing.returncode == 0 and run.name in listing.stdout and "finished" in listing.stdout
    assert "120 s" in listing.stdout
    review = agent_command("review", "latest", "--json", env=env)
    assert review.returncode == 0, review.stderr
    facts = json.loads(review.stdout)
    assert facts["run"] == str(run) and facts["best"] is not None
    assert [n["id"] for n in facts["nodes"]][0] == "0001"
    assert {"gain", "gain_se", "gain_vs", "gain_vs_kind", "fold_scores", "recipe"} <= set(facts["nodes"][0])
    tree = agent_command("review", "titanic/latest", env={**env, "COLUMNS": "200"})
    assert tree.returncode == 0 and facts["best"] in tree.stdout
    assert agent_command("report", "latest", env=env).stdout.strip() == str(run / "report.html")
    nothing = agent_command("review", "latest", env={"AGENT_RUNS_ROOT": str(run.parent / "none")})
    assert nothing.returncode == 2 and "no runs there" in nothing.stderr


@pytest.mark.slow
def test_standalone_runs_from_a_moved_run_folder_and_says_when_the_package_is_missing(finished_run, tmp_path) -> None:
    run, _ = finished_run
    moved = tmp_path / "elsewhere" / "my-run"
    shutil.copytree(run, moved)
    out = tmp_path / "out"
    out.mkdir()
    rerun = subprocess.run([sys.executable, str(moved / "best" / "standalone.py")], cwd=out, capture_output=True,
                           text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "wrote submission.csv" in rerun.stdout
    # Boosting stops at a time limit, so on a busy machine the rerun may grow other trees: same rows, not same values.
    assert len((out / "submission.csv").read_text().splitlines()) == len((run / "submission.csv").read_text().splitlines())
    bare = subprocess.run([sys.executable, "-I", "-S", str(moved / "best" / "standalone.py")], cwd=out,
                          capture_output=True, text=True, timeout=60)
    assert bare.returncode == 1 and "Traceback" not in bare.stderr
    assert bare.stderr.strip() == ("standalone.py needs the kagglewright package: pip install kagglewright "
                                   "(or run it with the Python that made the run)")


def test_the_readme_is_a_short_guide_whose_config_example_is_valid(tmp_path: Path) -> None:
    import re
    import tomllib

    from agent.config import Settings

    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) < 10_000 and "make test" in readme and "../shared" not in readme
    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    assert f"pip install '{name}[text]'" in readme or f"{name}-" in readme
    example = re.search(r"```toml\n# agent.toml\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "agent.toml").write_text(example)
    settings = Settings.load(tmp_path / "agent.toml")
    assert settings.time_budget == 900 and settings.node_timeout == 300
