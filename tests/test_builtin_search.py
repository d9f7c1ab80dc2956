"""The built-in engineer and the search policy: which recipes, which edits, which step next; one real run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from agent.compete import compete
from agent.config import Settings
from agent.engineers.base import Ask, Brief
from agent.engineers.builtin import BuiltinEngineer, applicable_recipes, flip, recipe_code, switches, with_params
from agent.journal import Journal, Node
from agent.run_folder import RunFolder
from pipelines.rundata import RunData
from pipelines.submission import submission_problems
from tests.test_features import make_spec


def test_recipes_follow_the_data() -> None:
    tabular = make_spec(numeric_columns=["a"], categorical_columns=["b"])
    assert applicable_recipes(tabular, 700)[:2] == ["lightgbm_tabular", "linear_tabular"]
    assert "svm_tabular" in applicable_recipes(tabular, 700) and "svm_tabular" not in applicable_recipes(tabular, 50_000)
    text = make_spec(modality="text", text_columns=["t"], categorical_columns=["kw"])
    assert applicable_recipes(text, 6000)[:3] == ["tfidf_linear", "nbsvm_text", "text_stack"]
    few_rows = make_spec(task="multiclass", classes=list(range(20)), numeric_columns=["a"])
    assert applicable_recipes(few_rows, 900)[:3] == ["linear_tabular", "lightgbm_tabular", "small_multiclass_blend"]
    three_classes = make_spec(task="multiclass", classes=[0, 1, 2], numeric_columns=["a"])
    assert applicable_recipes(three_classes, 900)[:2] == ["lightgbm_tabular", "linear_tabular"]
    files = make_spec(modality="image", file_columns=["path"], numeric_columns=["a"])
    assert applicable_recipes(files, 900)[0] == "file_stats_lightgbm"
    multilabel = make_spec(task="multilabel", target_columns=["p", "q"], classes=["p", "q"], numeric_columns=["a"])
    assert not {"svm_tabular", "small_multiclass_blend"} & set(applicable_recipes(multilabel, 900))
    targets = [f"t{i}" for i in range(30)]
    many_targets = make_spec(task="regression", classes=[], target_columns=targets, submission_columns=targets,
                             submission_kind="value", text_columns=["q"], numeric_columns=["a"])
    assert applicable_recipes(many_targets, 5000)[:2] == ["linear_tabular", "lightgbm_tabular"]
    assert not {"xgboost_tabular", "catboost_tabular"} & set(applicable_recipes(many_targets, 5000))
    sparse_classes = make_spec(task="multiclass", classes=list(range(100)), numeric_columns=["a"])
    assert applicable_recipes(sparse_classes, 500)[0] == "class_prior"  # 5 rows a class: the bar comes first
    assert "class_prior" not in applicable_recipes(sparse_classes, 900)
    for name in {r for spec in (tabular, text, few_rows, files, sparse_classes) for r in applicable_recipes(spec, 500)}:
        compile(recipe_code(name), name, "exec")


def test_a_cpu_holds_the_fine_tune_back_from_the_first_round_of_drafts(tmp_path: Path, monkeypatch) -> None:
    from agent.engineers import builtin

    monkeypatch.setattr(builtin, "embeddings_available", lambda: True)
    monkeypatch.setattr(builtin, "detect_device", lambda: "cpu")
    run = RunFolder(tmp_path / "run")
    journal = Journal(run.journal_path)
    spec = make_spec(categorical_columns=["anchor", "target"], column_pairs=[("anchor", "target")])
    brief = Brief(spec=spec, profile={"rows": {"train": 30_000}}, profile_text="")
    engineer = BuiltinEngineer()
    recipes = applicable_recipes(spec, 30_000, "cpu")
    assert recipes[-1] == "text_finetune"
    for i, name in enumerate(recipes[:-1]):
        record(journal, run, Node(id=f"{i + 1:04d}", step="draft", title=name, status="ok", score=0.6, recipe=name))
    assert engineer.propose(Ask("draft", early=True), brief, journal, run) is None
    assert engineer.propose(Ask("draft"), brief, journal, run).recipe == "text_finetune"
    monkeypatch.setattr(builtin, "detect_device", lambda: "cuda")
    assert engineer.propose(Ask("draft", early=True), brief, journal, run).recipe == "text_finetune"


def test_with_less_time_than_drafts_took_only_a_network_sized_to_its_limit_is_drafted(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    journal = Journal(run.journal_path)
    spec = make_spec(file_columns=["id"], image_columns=["id"], modality="image")
    brief = Brief(spec=spec, profile={"rows": {"train": 200_000}}, profile_text="")
    engineer = BuiltinEngineer()
    assert engineer.propose(Ask("draft"), brief, journal, run).recipe == "file_stats_lightgbm"
    assert engineer.propose(Ask("draft", sized_only=True), brief, journal, run).recipe == "image_cnn"
    record(journal, run, Node(id="0001", step="draft", title="image_cnn", status="ok", score=0.9, recipe="image_cnn"))
    assert engineer.propose(Ask("draft", sized_only=True), brief, journal, run) is None


def test_switch_edits_are_one_line() -> None:
    code = recipe_code("lightgbm_tabular")
    names = [s.name for s in switches(code)]
    assert names[:6] == ["PAIR_MEANING", "PAIR_NEIGHBOURS", "GROUP_STATISTICS", "GROUP_SEQUENCE", "COUNT_ENCODING",
                         "TARGET_ENCODING"] and not any(s.value for s in switches(code))
    flipped = flip(code, "TARGET_ENCODING")
    changed = [(a, b) for a, b in zip(code.splitlines(), flipped.splitlines()) if a != b]
    assert len(changed) == 1 and changed[0][1].startswith("TARGET_ENCODING = True")
    tuned = with_params(code, {"learning_rate": 0.1, "num_leaves": 7})
    assert "PARAMS = {'learning_rate': 0.1, 'num_leaves': 7}" in tuned and "0.03" not in tuned.split("def ")[0]
    compile(tuned, "tuned", "exec")


def record(journal: Journal, run: RunFolder, node: Node, code: str = "") -> Node:
    run.node_dir(node.id).mkdir(parents=True, exist_ok=True)
    (run.node_dir(node.id) / "solution.py").write_text(code)
    journal.record(node)
    return node


def test_improvements_flip_untried_switches_that_can_matter(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    journal = Journal(run.journal_path)
    spec = make_spec(numeric_columns=["a", "b"], categorical_columns=["c"])
    columns = [{"name": "a", "missing": 0.0, "kind": "numeric", "dtype": "int64", "unique": 40},  # a code
               {"name": "b", "missing": 0.0, "kind": "numeric", "dtype": "float64", "unique": 500}]
    brief = Brief(spec=spec, profile={"rows": {"train": 500}, "columns": columns}, profile_text="")
    engineer = BuiltinEngineer()
    code = recipe_code("lightgbm_tabular")
    draft = record(journal, run, Node(id="0001", step="draft", title="lightgbm_tabular", status="ok", score=0.8,
                                      seconds=3, recipe="lightgbm_tabular"), code)
    titles = []
    while (proposal := engineer.propose(Ask("improve", draft), brief, journal, run)) is not None:
        titles.append(proposal.title)
        record(journal, run, Node(id=journal.new_id(), parents=["0001"], step="improve", title=proposal.title,
                                  recipe=proposal.recipe, facts=proposal.facts), proposal.code)
    # No missing values and no group column: those switches cannot change anything and are not tried.
    assert titles == ["lightgbm_tabular +count_encoding", "lightgbm_tabular +target_encoding",
                      "lightgbm_tabular +row_statistics", "lightgbm_tabular +integer_codes"]
    tuned = record(journal, run, Node(id=journal.new_id(), parents=["0001"], step="tune", title="tune", status="ok",
                                      score=0.81, params={"learning_rate": 0.2}, recipe="lightgbm_tabular"), code)
    proposal = engineer.propose(Ask("improve", tuned), brief, journal, run)
    assert "PARAMS = {'learning_rate': 0.2}" in proposal.code and proposal.facts["switch"] == "COUNT_ENCODING"
    assert engineer.propose(Ask("debug", draft), brief, journal, run) is None  # nothing on: no simpler variant


def test_a_network_that_gained_by_training_on_trains_on_again_before_other_edits(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    journal = Journal(run.journal_path)
    brief = Brief(spec=make_spec(answer_shape="mask"), profile={"rows": {"train": 500}}, profile_text="")
    engineer = BuiltinEngineer()
    code = recipe_code("unet_masks")
    draft = record(journal, run, Node(id="0001", step="draft", title="unet_masks", status="ok", score=0.70,
                                      recipe="unet_masks", sized_to_time=True), code)
    first = engineer.propose(Ask("improve", draft), brief, journal, run)  # nothing trained on yet: a switch
    assert first.facts == {"switch": "CONTINUE_TRAINING", "switch_on": True} and first.sized_to_time
    on = record(journal, run, Node(id="0002", parents=["0001"], step="improve", status="ok", score=0.72, gain=0.02,
                                   recipe="unet_masks", sized_to_time=True, facts=first.facts), first.code)
    again = engineer.propose(Ask("improve", on), brief, journal, run)
    assert again.code == first.code and again.facts == {"again": True} and "+0.0200" in again.plan
    record(journal, run, Node(id="0003", parents=["0002"], step="improve", status="ok", score=0.71, gain=-0.01,
                              recipe="unet_masks", facts=again.facts), again.code)
    assert engineer.propose(Ask("improve", on), brief, journal, run).facts["switch"] == "VERTICAL_FLIPS"  # once only
    assert engineer.propose(Ask("improve", journal.get("0003")), brief, journal, run).facts["switch"] \
        == "VERTICAL_FLIPS"  # training on lost: no more of it


def test_a_failed_recipe_is_fixed_by_its_core_with_every_block_off(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    journal = Journal(run.journal_path)
    brief = Brief(spec=make_spec(modality="text", text_columns=["t"]), profile={"rows": {"train": 500}}, profile_text="")
    engineer = BuiltinEngineer()
    code = recipe_code("text_stack")
    failed = record(journal, run, Node(id="0001", step="draft", title="text_stack", status="failed",
                                       error="timed out after 90 s", engineer="builtin", recipe="text_stack"), code)
    fix = engineer.propose(Ask("debug", failed), brief, journal, run)
    assert fix.recipe == "text_stack" and "timed out after 90 s" in fix.plan
    assert {s.name for s in switches(code) if s.value} == set(fix.facts["switched_off"]) != set()
    assert not any(s.value for s in switches(fix.code))
    compile(fix.code, "fix", "exec")
    record(journal, run, Node(id="0002", parents=["0001"], step="debug", title=fix.title, status="failed",
                              engineer="builtin", recipe="text_stack"), fix.code)
    assert engineer.propose(Ask("debug", journal.get("0002")), brief, journal, run) is None  # the core itself failed
    llm_node = record(journal, run, Node(id="0003", step="draft", title="mine", status="failed", engineer="llm"), code)
    assert engineer.propose(Ask("debug", llm_node), brief, journal, run) is None  # the LLM fixes its own


def test_group_blocks_are_on_from_the_first_draft_when_there_is_a_group_column(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    journal = Journal(run.journal_path)
    engineer = BuiltinEngineer()
    for group_column, expected in ((None, False), ("breath_id", True)):
        spec = make_spec(numeric_columns=["breath_id", "u_in"], group_column=group_column)
        brief = Brief(spec=spec, profile={"rows": {"train": 500}, "columns": []}, profile_text="")
        draft = engineer.propose(Ask("draft"), brief, journal, run)
        assert draft.title == "lightgbm_tabular"
        on = {s.name for s in switches(draft.code) if s.value}
        assert (on == {"GROUP_STATISTICS", "GROUP_SEQUENCE"}) is expected and (not on) is (not expected)
    record(journal, run, Node(id="0001", step="draft", title="lightgbm_tabular", status="ok", score=0.8, seconds=3,
                              recipe="lightgbm_tabular"), draft.code)
    titles = []
    while (proposal := engineer.propose(Ask("improve", journal.get("0001")), brief, journal, run)) is not None:
        titles.append(proposal.title)
        record(journal, run, Node(id=journal.new_id(), parents=["0001"], step="improve", title=proposal.title,
                                  recipe=proposal.recipe, facts=proposal.facts), proposal.code)
    assert titles[-2:] == ["lightgbm_tabular -group_statistics", "lightgbm_tabular -group_sequence"]  # removals last


def test_labels_train_has_beside_the_target_are_predicted_from_the_first_draft(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    engineer = BuiltinEngineer()
    for auxiliary in ([], ["casual", "registered"]):
        spec = make_spec(numeric_columns=["temp", "humidity"], auxiliary_columns=auxiliary)
        brief = Brief(spec=spec, profile={"rows": {"train": 500}, "columns": []}, profile_text="")
        draft = engineer.propose(Ask("draft"), brief, Journal(run.journal_path), run)
        assert {s.name for s in switches(draft.code) if s.value} == ({"AUXILIARY_TARGETS"} if auxiliary else set())


@pytest.mark.slow
def test_a_short_run_drafts_ensembles_and_improves_with_recorded_gains(make_comp, tmp_path: Path) -> None:
    folder = make_comp(task="multiclass", n_train=300, n_test=80)
    settings = Settings(time_budget=300, max_nodes=5, num_drafts=3, n_jobs=2, folds=3, runs_root=tmp_path / "runs",
                        competitions_root=tmp_path / "comps")
    outcome = compete(folder, settings, run_dir=tmp_path / "run", console=Console(quiet=True))
    journal = Journal(outcome.run.journal_path)
    steps = [n.step for n in journal]
    assert steps[:4] == ["draft", "draft", "draft", "ensemble"] and "improve" in steps, \
        [(n.step, n.title, n.seconds) for n in journal]
    assert [n.recipe for n in journal if n.step == "draft"][:3] == ["lightgbm_tabular", "small_multiclass_blend",
                                                                         "linear_tabular"]
    assert all(n.ok for n in journal), [n.error for n in journal if not n.ok]
    assert all(n.gain is not None for n in journal if n.step in ("improve", "ensemble"))
    ensemble = next(n for n in journal if n.step == "ensemble")
    assert len(ensemble.parents) == 3 and ensemble.facts["method"] in ("greedy", "stack")
    best = journal.best(greater_is_better=True)
    assert best.score > 0.8
    data = RunData.load(outcome.run.path)
    assert submission_problems(pd.read_csv(outcome.run.submission_path), data.sample, data.spec) == []
    job = json.loads((outcome.run.node_dir("0001") / "job.json").read_text())
    assert 0 < job["time_limit"] <= 300  # each candidate is told how long it may run


def test_the_class_prior_predicts_one_row_for_all_and_says_so(tmp_path: Path) -> None:
    import numpy as np

    from pipelines.context import Context
    from pipelines.harness import cross_validate, load_solution
    from pipelines.run import save_result
    from tests.test_harness import RECIPES

    spec = make_spec(task="multiclass", classes=["a", "b", "c"], numeric_columns=["x"], metric="logloss_multiclass",
                     direction="minimize", submission_kind="proba", submission_columns=["a", "b", "c"])
    train = pd.DataFrame({"id": range(60), "x": np.arange(60.0), "y": ["a"] * 30 + ["b"] * 20 + ["c"] * 10})
    test = pd.DataFrame({"id": range(60, 70), "x": np.arange(10.0)})
    folds = np.arange(60) % 3
    result = cross_validate(load_solution(RECIPES / "class_prior.py"), train, test, folds, Context(spec=spec))
    assert result.oof[0] == pytest.approx([0.5, 1 / 3, 1 / 6], abs=0.05)  # the shares of the other folds' rows
    sample = pd.DataFrame({"id": test["id"], "a": 0.3, "b": 0.3, "c": 0.4})
    saved = save_result(tmp_path, RunData(spec=spec, train=train, test=test, sample=sample, folds=folds), result)
    assert saved["facts"]["constant_predictions"] is True


def test_the_small_multiclass_blend_holds_where_a_class_has_one_row(tmp_path: Path) -> None:
    """herbarium's species with one training image: quadratic discriminants cannot be fitted, the rest can."""
    import numpy as np

    from pipelines.context import Context
    from pipelines.harness import cross_validate, load_solution
    from tests.test_harness import RECIPES

    classes = ["a", "b", "c", "d"]
    spec = make_spec(task="multiclass", classes=classes, numeric_columns=["x", "z"], metric="accuracy",
                     submission_kind="label")
    rng = np.random.default_rng(0)
    labels = ["a"] * 20 + ["b"] * 20 + ["c"] * 19 + ["d"]
    codes = np.array([classes.index(v) for v in labels], dtype=float)
    train = pd.DataFrame({"id": range(60), "x": codes + rng.normal(0, 0.2, 60), "z": rng.normal(size=60), "y": labels})
    test = pd.DataFrame({"id": range(60, 64), "x": np.arange(4.0), "z": np.zeros(4)})
    folds = np.arange(60) % 3
    blend = load_solution(RECIPES / "small_multiclass_blend.py")
    result = cross_validate(blend, train, test, folds, Context(spec=spec))
    assert set(result.facts["members"]) == {"logistic", "lda", "knn"} and result.score > 0.8
