"""The run report: one self-contained HTML page with plots, the node tree and every node's code."""

from __future__ import annotations

import base64
import logging
import re
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from rich.console import Console

from agent import report_plots as plots
from agent.compete import compete, prepare_run
from agent.config import Settings
from agent.journal import Journal, Node
from agent.report import render_report, write_report
from agent.run_folder import RunFolder
from pipelines.rundata import RunData
from pipelines.targets import encode_target
from tests.browser import find_browser, visit
from tests.conftest import agent_command

PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
HOSTILE = 'print("</pre><script>alert(1)</script>")'


def pngs(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in PNG.findall(html)]


def assert_self_contained(html: str) -> None:
    """Nothing fetched from elsewhere: no remote src/href, no external script or stylesheet."""
    assert not re.search(r'(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', html, re.IGNORECASE)
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()


def oof_for(y: np.ndarray, task: str, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Predictions that are right more often than not, in the harness's raw layout for the task."""
    if task == "binary":
        return np.clip(0.25 + 0.5 * y + rng.normal(scale=0.2, size=len(y)), 0, 1)
    if task == "multiclass":
        proba = rng.dirichlet(np.ones(n_classes), size=len(y))
        proba[np.arange(len(y)), y] += 1.0
        return proba / proba.sum(axis=1, keepdims=True)
    return y * np.exp(rng.normal(scale=0.1, size=len(y)))


def hand_made_run(root: Path, make_comp, task: str = "binary") -> RunFolder:
    """A real prepared run folder (spec, data, folds) with a journal written by hand.

    Holds every shape the report must draw: a failed draft and its debug, an improve with a
    gain, a tune with the same code, an ensemble of three parents (the best, with a public
    score), a node still running, and code, plan and title that try to inject HTML.
    """
    source = make_comp(f"toy-{task}", task=task)
    run = RunFolder(root / f"run-{task}")
    settings = Settings(folds=3, runs_root=root / "runs", competitions_root=root / "comps")
    data = prepare_run(source, f"toy-{task}", run, settings, {})
    run.save_config({"slug": data.spec.slug, "source": str(source), "settings": settings.model_dump(mode="json")})
    pd.DataFrame({"score": np.linspace(0.9, 0.5, 40)}).to_csv(source / "leaderboard.csv", index=False)
    y = encode_target(data.train, data.spec)
    rng = np.random.default_rng(0)
    journal = Journal(run.journal_path)
    t0 = time.time() - 900
    base = "def features(train, test, ctx):\n    return train, test\n\ndef model(params, ctx):\n    return None\n"
    hostile = base + HOSTILE + "\n"

    def add(node_id: str, step: str, parents: list[str], status: str, score: float | None, code: str,
            minute: float, **extra) -> None:
        node_dir = run.node_dir(node_id)
        node_dir.mkdir(parents=True, exist_ok=True)
        (node_dir / "solution.py").write_text(code)
        (node_dir / "log.txt").write_text(f"log of node {node_id}\n" + ("Traceback ...\nZeroDivisionError: division by zero\n"
                                                                        if status == "failed" else "done\n"))
        if status == "ok":
            np.save(node_dir / "oof.npy", oof_for(y, data.spec.task, data.spec.n_classes, rng))
            extra.setdefault("fold_scores", [score - 0.01, score, score + 0.02])
        journal.record(Node(id=node_id, parents=parents, step=step, status=status, score=score,
                            title=extra.pop("title", f"{step} {node_id}"), plan=extra.pop("plan", f"plan of {node_id}"),
                            started_at=t0 + 60 * minute, seconds=None if status == "running" else 42.0,
                            peak_memory_mb=None if status == "running" else 300.0, **extra))

    add("0001", "draft", [], "ok", 0.80, base, 0)
    add("0002", "draft", [], "failed", None, base.replace("None", "1 / 0"), 1, error="ZeroDivisionError: division by zero")
    add("0003", "improve", ["0001"], "ok", 0.84, hostile, 2, gain=0.04, tokens_in=1200, tokens_out=340,
        cost_usd=0.0123, title="<b>bold</b> improve", plan="add <script>evil()</script> features & more")
    add("0004", "debug", ["0002"], "ok", 0.78, base, 3)
    add("0005", "tune", ["0003"], "ok", 0.85, hostile, 5, gain=0.01, facts={"trials": 12},
        params={"learning_rate": 0.03})
    add("0006", "ensemble", ["0003", "0004", "0005"], "ok", 0.86, base, 7, public_score=0.855,
        facts={"weights": [0.5, 0.2, 0.3], **({"threshold": 0.61} if task == "binary" else {})})
    add("0007", "improve", ["0006"], "running", None, base + "# more\n", 8)
    (run.node_dir("0003") / "importance.json").write_text('{"x1": 0.6, "x2": 0.3, "colour": 0.1}')
    journal.record(journal.get("0003").model_copy(update={"facts": {**journal.get("0003").facts, "trees": [41, 37, 44]}}))
    study = optuna.create_study(study_name="node-0005-lightgbm_tabular", storage=run.optuna_storage,
                                direction="maximize")
    study.optimize(lambda t: 1 - (t.suggest_float("learning_rate", 0.01, 0.3, log=True) - 0.05) ** 2
                   - 0.001 * t.suggest_int("num_leaves", 4, 64), n_trials=8)
    return run


def test_report_of_a_hand_made_run(tmp_path: Path, make_comp) -> None:
    run = hand_made_run(tmp_path, make_comp)
    path = write_report(run.path)
    html = path.read_text()
    assert path == run.path / "report.html"
    assert_self_contained(html)
    for node_id in ("0001", "0002", "0003", "0004", "0005", "0006", "0007"):
        assert f'id="node-{node_id}"' in html and f'href="#node-{node_id}"' in html
    # progress, fold spread, gains, the best node's out-of-fold diagnostics, the best tree model's importances,
    # and Optuna's history and parameter importances of the tuned node
    images = pngs(html)
    assert len(images) == 7 and all(image.startswith(b"\x89PNG\r\n\x1a\n") for image in images)
    assert "Out-of-fold predictions of node 0006" in html and "ROC" in html
    assert "at the node&#x27;s threshold 0.61, fitted out of fold" in html
    assert "leaderboard&#x27;s medal and median cut-offs" in html and "leaderboard.csv" in html
    assert "paired standard error over folds" in html
    assert "Best tree model: node 0003" in html and "trees used per fold: 41, 37, 44" in html
    tuning = html[html.index("<h2>Tuning</h2>"):]
    assert "study node-0005-lightgbm_tabular: node 0005" in tuning and "8 trials: 8 finished" in tuning
    assert "optimisation history" in tuning and "parameter importances" in tuning
    # escaping: candidate code, plans and titles are shown, never interpreted
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;evil()&lt;/script&gt; features &amp; more" in html
    assert "&lt;b&gt;bold&lt;/b&gt; improve" in html and "<b>bold</b>" not in html
    # header facts
    assert "accuracy (higher is better)" in html
    assert "0.855" in html and "public leaderboard" in html
    assert "1,200 tokens in, 340 out" in html and "$0.0123" in html
    assert "1 running" in html and "1 failed" in html
    # the tree: the ensemble sits under its first parent and names the others; the failed draft shows its error
    tree = html[html.index('<table class="tree">'):html.index("</table>", html.index('<table class="tree">'))]
    order = re.findall(r'<tr><td><a href="#node-(\d{4})"', tree)
    assert order == ["0001", "0003", "0005", "0006", "0007", "0002", "0004"]
    assert "(+ 0004, 0005)" in tree and "ZeroDivisionError" in tree
    # node details: diff against the parent, log link and tail, tuned node with the same code
    details = html[html.index('id="node-0003"'):html.index('id="node-0004"')]
    assert "diff against node 0001" in details and '<span class="add">+' in details
    assert 'href="nodes/0002/log.txt"' in html
    failed = html[html.index('id="node-0002"'):html.index('id="node-0003"')]
    assert "log, last" in failed and "division by zero" in failed
    tuned = html[html.index('id="node-0005"'):html.index('id="node-0006"')]
    assert "same code as the parent" in tuned and "learning_rate" in tuned
    ensemble = html[html.index('id="node-0006"'):html.index('id="node-0007"')]
    assert "diff against" not in ensemble


@pytest.mark.parametrize("task, expected", [("multiclass", "confusion matrix"), ("regression", "predicted against actual")])
def test_diagnostics_suit_the_task(tmp_path: Path, make_comp, task: str, expected: str) -> None:
    run = hand_made_run(tmp_path, make_comp, task)
    html = render_report(run.path)
    assert_self_contained(html)
    best = Journal(run.journal_path).best(RunData.load(run.path).spec.greater_is_better)
    assert f"Out-of-fold predictions of node {best.id}" in html and expected in html
    assert len(pngs(html)) == 7


def test_report_of_a_run_without_valid_nodes(tmp_path: Path, make_comp) -> None:
    run = hand_made_run(tmp_path, make_comp)
    journal = Journal(run.journal_path)
    for node in list(journal):
        journal.record(node.model_copy(update={"status": "failed", "score": None, "error": "boom"}))
    html = render_report(run.path)
    assert "no valid node" in html
    assert len(pngs(html)) == 3  # the progress plot, with failed nodes only, and the tuning study's two
    assert "Best tree model" not in html and "What helped: no node has been compared" in html
    assert all(f'id="node-{n.id}"' in html for n in journal)


def test_a_damaged_oof_file_is_reported_not_raised(tmp_path: Path, make_comp) -> None:
    run = hand_made_run(tmp_path, make_comp)
    np.save(run.node_dir("0006") / "oof.npy", np.zeros(5))
    html = render_report(run.path)
    assert "oof.npy has 5 rows but train has 300" in html


def test_cli_report(tmp_path: Path, make_comp) -> None:
    run = hand_made_run(tmp_path, make_comp)
    done = agent_command("report", str(run.path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("report.html") and (run.path / "report.html").exists()
    runs = agent_command("report", str(tmp_path))  # the folder holding the run, not the run
    assert runs.returncode == 2 and "a folder of runs, not a run" in runs.stderr and "latest" in runs.stderr
    assert agent_command("report", str(tmp_path / "latest")).stdout.strip() == str(run.path / "report.html")
    bad = agent_command("report", str(run.path / "nodes"))
    assert bad.returncode == 2 and "error:" in bad.stderr and "not a run folder" in bad.stderr


def test_a_failing_report_does_not_fail_the_run(tmp_path: Path, make_comp, monkeypatch, caplog) -> None:
    def broken(run_dir):
        raise RuntimeError("report bug")

    monkeypatch.setattr("agent.report.write_report", broken)
    settings = Settings(time_budget=1, runs_root=tmp_path / "runs", competitions_root=tmp_path / "comps")
    with caplog.at_level(logging.WARNING):
        outcome = compete(make_comp(), settings, run_dir=tmp_path / "run", console=Console(quiet=True))
    assert outcome.best is None and (outcome.run.path / "summary.json").exists()
    assert "could not write the report" in caplog.text and "report bug" in caplog.text


@pytest.mark.slow
def test_a_real_run_leaves_a_report(tmp_path: Path, make_comp) -> None:
    settings = Settings(time_budget=120, max_nodes=4, folds=3, n_jobs=1, runs_root=tmp_path / "runs",
                        competitions_root=tmp_path / "comps")
    outcome = compete(make_comp(), settings, run_dir=tmp_path / "run", console=Console(quiet=True))
    html = (outcome.run.path / "report.html").read_text()
    assert_self_contained(html)
    journal = Journal(outcome.run.journal_path)
    assert outcome.best is not None and len(journal) >= 1
    assert all(f'id="node-{n.id}"' in html for n in journal)
    assert f"Out-of-fold predictions of node {outcome.best.id}" in html
    assert len(pngs(html)) >= 3  # progress, fold spread, diagnostics (gains only once a step improved on a parent)
    assert "lightgbm" in html and "def features" in html


def is_png(text: str | None) -> bool:
    return text is not None and base64.b64decode(text).startswith(b"\x89PNG")


def test_diagnostics_draw_awkward_shapes() -> None:
    """What real runs produce now and then: many classes, one-class labels, scores, logs, several targets."""
    rng = np.random.default_rng(1)
    n = 400
    many = rng.integers(0, 25, n)
    assert is_png(plots.multiclass_diagnostics(many, rng.dirichlet(np.ones(25), n), [f"class {i}" for i in range(25)]))
    labels = rng.integers(0, 2, (n, 3))
    labels[:, 1] = 0  # a label never positive: its AUC is undefined
    assert is_png(plots.multilabel_diagnostics(labels, rng.uniform(size=(n, 3)), ["a", "b", "c"]))
    y = rng.integers(0, 2, n)
    assert is_png(plots.binary_diagnostics(y, rng.normal(size=n) + y, ["no", "yes"]))  # margins, not probabilities
    assert is_png(plots.binary_diagnostics(np.zeros(n, dtype=int), rng.uniform(size=n), ["no", "yes"]))
    targets = np.exp(rng.normal(size=(n, 2)))
    assert is_png(plots.regression_diagnostics(targets, targets * 1.1, ["t1", "t2"], log_scale=True))
    big = np.exp(rng.normal(size=plots.SCATTER_LIMIT + 1))
    assert is_png(plots.regression_diagnostics(big, big * 0.9, ["y"], log_scale=False))


def test_search_plots_need_something_to_draw() -> None:
    running = Node(id="0001", step="draft")
    assert plots.progress([running], True, running.started_at, running.started_at + 10) is None
    assert plots.fold_spread([running]) is None and plots.gains([]) is None
    assert plots.gains([("0002 improve: same", 0.0, 0.01)]) is None, "no chart when nothing changed"
    assert is_png(plots.gains([("0002 improve: better", 0.01, 0.004), ("0003 improve: worse", -0.02, None)]))


@pytest.mark.skipif(find_browser() is None, reason="no Chromium installed (e.g. apt-get install chromium)")
def test_the_report_in_a_real_browser_renders_offline_without_errors(tmp_path: Path, make_comp) -> None:
    browser = find_browser()
    page = write_report(hand_made_run(tmp_path, make_comp).path)
    seen = visit(browser, page)
    assert seen.title == "toy-binary · run report" and seen.headings >= 6
    assert seen.images == 7 and seen.broken_images == 0, "every plot decoded and drawn"
    assert seen.errors == []
    assert seen.requests[0] == page.resolve().as_uri()
    assert all(url.startswith(("file:", "data:")) for url in seen.requests), seen.requests
    # The check itself sees what it must catch: a console error, a broken image, a request to elsewhere.
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script></body></html>')
    caught = visit(browser, bad)
    assert "boom" in caught.errors and caught.broken_images == 1
    assert "http://127.0.0.1:9/x.png" in caught.requests
