"""Fine-tuned transformers: sizing to the time, the cached lower blocks, and the recipe under the harness.

A tiny BERT made here with `save_pretrained` (random weights, a vocabulary of the test texts' words)
stands in for the pretrained model, so nothing needs the network; it still runs through the real
transformers classes, tokenizer and training loop.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from agent.engineers import builtin
from agent.engineers.builtin import applicable_recipes
from pipelines.context import Context
from pipelines.embeddings import embeddings_available
from pipelines.harness import cross_validate, load_solution
from pipelines.metrics import get_metric
from tests.test_embeddings import RECIPES, TOPICS, text_competition
from tests.test_shapes import FILLER, NEGATIVE, POSITIVE, spec_of, tweets
from tests.test_features import make_spec

pytestmark = pytest.mark.skipif(not embeddings_available(), reason="needs the `text` extra (torch, transformers)")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    """A three-block BERT with 32-wide states, saved like any pretrained model folder."""
    import torch
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    words = sorted({w for texts in TOPICS.values() for text in texts for w in text.split()}
                   | {"omg", "just", "heard", "wow", "today", "breaking", "lol", "news", "kw", "a", "b", "fire", "sea"}
                   | {*FILLER, *POSITIVE, *NEGATIVE, "sentiment", "neutral", "positive", "negative"})
    # A vocabulary file and the tokenizer's class: what every transformers version builds a BERT tokenizer from.
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ":", ",", "!", "#", "=", ";",
                                                 *words]) + "\n")
    (folder / "tokenizer_config.json").write_text('{"tokenizer_class": "BertTokenizer", "do_lower_case": true}')
    config = BertConfig(vocab_size=len(words) + 11, hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    torch.manual_seed(0)  # the same random weights in every session: what the tests learn from them is fixed
    BertModel(config).save_pretrained(folder)
    return str(folder)


@pytest.fixture
def tiny(tiny_model, monkeypatch) -> str:
    monkeypatch.setenv("AGENT_TEXT_MODEL", tiny_model)
    return tiny_model


def _solution(**params):
    solution = load_solution(RECIPES / "text_finetune.py")
    solution.PARAMS = {**solution.PARAMS, **params}
    return solution


def test_the_recipe_learns_a_text_task_under_the_harness(tiny) -> None:
    spec, train, test, folds = text_competition(n=200)
    ctx = Context(spec=spec, n_jobs=1)  # no time limit: the steps planned do not depend on the machine's pace
    result = cross_validate(_solution(max_epochs=15, lr=3e-3), train, test, folds, ctx)
    facts = result.facts
    assert facts["model"] == tiny and facts["device"] == "cpu" and facts["n_layers"] == 3
    assert facts["trained_blocks"] == 3 and facts["epochs"] == [15.0] * 5  # no limit: every block, every epoch
    assert result.oof.shape == (200,) and result.test.shape == (40,) and np.isfinite(result.test).all()
    assert result.score > 0.85  # the label is the topic, which the texts' words give away (guessing: F1 about 0.5)


def test_short_time_trains_the_top_blocks_on_cached_states_and_every_fold_alike(tiny, monkeypatch) -> None:
    from pipelines import text_finetune

    monkeypatch.setattr(text_finetune, "choose_size", lambda *args: (args[-1], 1))  # as a CPU short of time decides
    spec, train, test, folds = text_competition(n=200)
    ctx = Context(spec=spec, n_jobs=1)  # no time limit: the steps planned do not depend on the machine's pace
    result = cross_validate(_solution(max_epochs=15, lr=3e-3), train, test, folds, ctx)
    assert result.facts["trained_blocks"] == 1 and len(set(result.facts["steps"])) == 1
    assert result.score > 0.8


def test_the_top_blocks_fed_the_cache_predict_what_the_whole_encoder_predicts(tiny) -> None:
    import torch

    from pipelines import text_finetune as tf
    from pipelines.heads import TaskHead

    spec, train, test, _ = text_competition(n=40)
    tokenizer, encoder = tf.load_pretrained(tiny)
    first, second = tf.texts_of(train, spec)
    tokens = tf.tokenize(tokenizer, first, second, 32)
    y = train["y"].to_numpy()
    head = TaskHead.for_target("binary", y, 2)
    plan = tf.TextPlan(model=tiny, device="cpu", precision="fp32", max_length=32, batch_size=8, n_layers=3,
                       trained_blocks=1)
    trainer = tf.TextTrainer(plan, encoder, tokens, head, head.target_tensor(y), lr=1e-3, weight_decay=0.0, seed=0)
    tokens.cache_hidden(encoder, trainer.start, torch.device("cpu"), batch_size=16)
    assert tokens.hidden.shape == (int(tokens.lengths.sum()), 32)
    rows = np.arange(40)
    assert tf.cache_agrees(trainer, rows)
    model = trainer.new_model()
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(name.startswith(("encoder.encoder.layer.0.", "head.")) for name in trainable)
    assert len(tf.encoder_blocks(model.encoder)[1]) == 1  # the two lower blocks are not even run


def test_when_the_cache_cannot_stand_in_for_the_lower_blocks_every_block_trains(tiny, monkeypatch) -> None:
    from pipelines import text_finetune as tf

    monkeypatch.setattr(tf, "choose_size", lambda *args: (args[-1], 1))
    monkeypatch.setattr(tf.TextNet, "_swap_in", lambda self, module, args, kwargs: None)  # a version that ignores it
    spec, train, test, folds = text_competition(n=100)
    ctx = Context(spec=spec, n_jobs=1)  # no time limit: the steps planned do not depend on the machine's pace
    result = cross_validate(_solution(max_epochs=2), train, test, folds, ctx)
    assert result.facts["trained_blocks"] == 3 and np.isfinite(result.oof).all()


def test_pairs_are_read_as_two_segments_and_several_targets_are_fitted_at_once(tiny) -> None:
    rng = np.random.default_rng(0)
    words = ["fire", "flood", "storm", "cake", "concert", "phone"]
    n = 150
    frame = pd.DataFrame({"id": range(n + 30), "anchor": rng.choice(words, n + 30), "target": rng.choice(words, n + 30),
                          "kw": rng.choice(["a", "b"], n + 30)})
    frame["same"] = (frame["anchor"] == frame["target"]).astype(float)
    frame["kw_b"] = (frame["kw"] == "b").astype(float)
    spec = make_spec(modality="text", task="regression", classes=[], target_columns=["same", "kw_b"],
                     submission_columns=["same", "kw_b"], submission_kind="value", metric="rmse", direction="minimize",
                     categorical_columns=["anchor", "target", "kw"], column_pairs=[("anchor", "target")])
    from pipelines.text_finetune import texts_of

    first, second = texts_of(frame.iloc[:2], spec)
    assert first.tolist() == frame["anchor"][:2].tolist()
    assert second.tolist() == [f"{t} ; kw={k}" for t, k in zip(frame["target"][:2], frame["kw"][:2])]
    with_text = spec.model_copy(update={"text_columns": ["note"]})  # free text beside the pair: one text
    assert texts_of(frame.iloc[:2].assign(note="x"), with_text)[1] is None
    train, test = frame.iloc[:n].reset_index(drop=True), frame.iloc[n:].drop(columns=["same", "kw_b"])
    ctx = Context(spec=spec, n_jobs=1)  # no time limit: the steps planned do not depend on the machine's pace
    result = cross_validate(_solution(max_epochs=20, lr=3e-3), train, test, np.arange(n) % 3, ctx)
    assert result.oof.shape == (n, 2) and result.test.shape == (30, 2)
    assert result.facts["towers"]  # a CPU encodes the pair's texts apart
    baseline = np.sqrt(((train[["same", "kw_b"]] - train[["same", "kw_b"]].mean()) ** 2).to_numpy().mean())
    assert result.score < baseline  # better than predicting the means


def test_two_towers_start_at_the_pretrained_similarity_scaled_to_the_targets_spread(tiny) -> None:
    import torch

    from pipelines import text_finetune as tf

    tokenizer, encoder = tf.load_pretrained(tiny)
    first, second = ["fire", "storm", "cake", "phone", "flood"], ["fire", "flood", "concert", "cake", "sea"]
    tokens = tf.TokenPairs(tf.tokenize(tokenizer, first, None, 16), tf.tokenize(tokenizer, second, None, 16))
    model = tf.TwoTowerNet(encoder, n_outputs=2).eval()
    batch = tokens.batch(np.arange(5), torch.device("cpu"))
    model.start_at_similarity(*batch)
    with torch.no_grad():
        u, v = model.unit(*batch[0]), model.unit(*batch[1])
        cosine = (u * v).sum(-1)
        out = model(*batch)
    expected = (cosine - cosine.mean()) / max(float(cosine.std()), tf.MIN_COSINE_SPREAD)
    assert torch.allclose(out, expected[:, None].expand(5, 2), atol=1e-4)
    assert torch.allclose(torch.stack([u.norm(dim=-1), v.norm(dim=-1)]), torch.ones(2, 5), atol=1e-4)


def test_a_cpu_keeps_long_sequences_then_trains_the_most_top_blocks_that_leave_an_epoch_per_fold() -> None:
    from pipelines.text_finetune import MIN_EPOCHS, TRAIN_COST, FineTuneTooSlow, choose_size

    lengths = np.full(1500, 40)
    folds = [(800, 1200)] * 5
    per_block = sum(TRAIN_COST * MIN_EPOCHS * fit + predict for fit, predict in folds)  # rows through one block
    token = 0.001 / 40  # a row through a block: 1 ms
    assert choose_size(token, lengths, 6, folds, 6 * per_block * 0.001, 64) == (64, 6)  # no cache needed
    two_blocks = (2 * per_block + 4 * 1500) * 0.001
    assert choose_size(token, lengths, 6, folds, two_blocks, 64) == (64, 2)
    assert choose_size(token, lengths, 6, folds, two_blocks - 0.01, 64) == (64, 1)
    # Shorter sequences before giving up: at 20 tokens a row costs half as much.
    assert choose_size(token, lengths, 6, folds, (per_block + 5 * 1500) * 0.001 / 2, 40) == (20, 1)
    with pytest.raises(FineTuneTooSlow, match="even at 16 tokens and the top block only; 1s are left"):
        choose_size(token, lengths, 6, folds, 1.0, 64)


def test_a_large_fold_plans_a_share_of_an_epoch_and_fills_the_time_with_steps() -> None:
    from pipelines.text_finetune import MIN_ROWS_SEEN, TRAIN_COST, choose_size, fold_steps

    many = 10 * MIN_ROWS_SEEN
    lengths, folds = np.full(many, 40), [(many, 1000)] * 5
    token = 0.001 / 40
    per_block = sum(TRAIN_COST * MIN_ROWS_SEEN + predict for _, predict in folds)  # not TRAIN_COST * many
    assert choose_size(token, lengths, 6, folds, 6 * per_block * 0.001, 64) == (64, 6)
    assert fold_steps(1e6, 0.1, many, max_epochs=3) == 3 * many // 32  # the steps still go up to max_epochs


def test_the_recipe_fails_at_once_when_no_size_fits_the_time(tiny) -> None:
    spec, train, test, folds = text_competition(n=200)
    ctx = Context(spec=spec, n_jobs=1, deadline=time.monotonic() - 1)  # no time left at all
    with pytest.raises(RuntimeError, match="fine-tuning would take about"):
        cross_validate(_solution(), train, test, folds, ctx)


def test_length_batches_cover_every_row_once_with_similar_lengths_together() -> None:
    from pipelines.text_finetune import length_batches

    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 200, size=5000)
    rows = np.arange(0, 5000, 2)
    batches = length_batches(rows, lengths, 32, rng)
    assert sorted(np.concatenate(batches).tolist()) == rows.tolist()
    spread = np.mean([np.ptp(lengths[b]) for b in batches if len(b) == 32])
    assert spread < 0.25 * np.ptp(lengths)


def test_the_fine_tune_is_drafted_first_on_a_gpu_and_last_on_a_cpu(monkeypatch) -> None:
    text = make_spec(modality="text", text_columns=["t"], categorical_columns=["kw"])
    mixed = make_spec(modality="mixed", text_columns=["t"], numeric_columns=["a"])
    phrases = make_spec(categorical_columns=["anchor", "target"], column_pairs=[("anchor", "target")])
    assert applicable_recipes(phrases, 6000, "cuda")[0] == "text_finetune"
    tabular = make_spec(numeric_columns=["a"])
    monkeypatch.setattr(builtin, "embeddings_available", lambda: True)
    for spec in (text, mixed):
        assert applicable_recipes(spec, 6000, "cuda")[0] == "text_finetune"
        assert applicable_recipes(spec, 6000, "cpu")[-1] == "text_finetune"
    assert "text_finetune" not in applicable_recipes(tabular, 6000, "cuda")
    monkeypatch.setattr(builtin, "embeddings_available", lambda: False)
    assert "text_finetune" not in applicable_recipes(text, 6000, "cuda")
    compile(builtin.recipe_code("text_finetune"), "text_finetune", "exec")


def test_span_answers_map_to_tokens_and_back_to_whole_words(tiny) -> None:
    from pipelines.span_finetune import char_span, encode, token_targets, whole_words
    from pipelines.text_finetune import load_pretrained

    tokenizer = load_pretrained(tiny)[0]
    sources = ["i love my day", "So SAD today", "just work", ""]
    answers = ["love my", "sad", "home", "x"]  # found; found ignoring case; not in the source; no source
    tokens = encode(tokenizer, ["sentiment=positive", "sentiment=negative", "sentiment=neutral", "sentiment=neutral"],
                    sources, None)
    targets = token_targets(tokens, sources, answers)
    for r in (0, 1):
        first, last = tokens.source_tokens[r]
        assert tokenizer.decode(tokens.input_ids[r][first:last + 1]) == sources[r].lower()  # the question is not in it
        (a, _), (_, b) = tokens.characters[r][targets[r, 0]], tokens.characters[r][targets[r, 1]]
        assert sources[r][a:b].lower() == answers[r].lower()
    assert targets[2:].tolist() == [[-1, -1], [-1, -1]]
    assert char_span("a b a b", " a b ") == (0, 3) and whole_words("it was lovely", 8, 11) == "lovely"


def test_the_span_recipe_learns_under_the_shapes_harness(tiny, tmp_path) -> None:
    """Sentiment words are the answer, the whole text for neutral rows: the model must read the question."""
    folder = tmp_path / "tweets"
    tweets(folder, n=400, n_test=50)
    spec = spec_of(folder / "public")
    train = pd.read_csv(folder / "public" / "train.csv")
    test = pd.read_csv(folder / "public" / "test.csv")
    folds = np.arange(len(train)) % 3
    solution = load_solution(RECIPES / "span_finetune.py")
    solution.PARAMS = {**solution.PARAMS, "max_epochs": 20, "lr": 3e-3}
    result = cross_validate(solution, train, test, folds, Context(spec=spec, n_jobs=1))  # no limit: every block
    whole_text = get_metric("jaccard_word")(train["selected_text"], train["text"])
    assert len(result.test) == 50 and all(isinstance(a, str) and a for a in result.test)
    assert all(a in t for a, t in zip(result.oof, train["text"]))  # every answer is a run of the source's words
    assert result.score > whole_text + 0.2, (result.score, whole_text)


def test_the_span_fine_tune_is_drafted_after_the_selector_on_a_cpu(monkeypatch) -> None:
    spec = make_spec(answer_shape="span", task="text", source_column="t", text_columns=["t"], classes=[])
    monkeypatch.setattr(builtin, "embeddings_available", lambda: True)
    assert applicable_recipes(spec, 6000, "cpu") == ["span_selector", "span_finetune"]
    assert applicable_recipes(spec, 6000, "cuda") == ["span_finetune", "span_selector"]
    monkeypatch.setattr(builtin, "embeddings_available", lambda: False)
    assert applicable_recipes(spec, 6000, "cuda") == ["span_selector"]
    compile(builtin.recipe_code("span_finetune"), "span_finetune", "exec")
