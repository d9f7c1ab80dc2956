"""A pretrained transformer fine-tuned to point at the answer's first and last token: span extraction,
as strong solutions to span competitions (tweet sentiment extraction, question answering) do it.

Why this shape:
- The row's other texts (a question) and categories (a sentiment) are the first segment and the
  source text the second, so the model reads the source in the light of what is asked.
- Two outputs per token (`pipelines.heads.SpanHead`); the answer is the best-scored start and end
  inside the source, at most MAX_ANSWER_TOKENS apart, widened to whole words (word-level metrics
  score whole words, and a tokenizer's pieces are not words).
- Fast tokenizers map tokens back to characters; the answer's characters give the target tokens.
  Rows whose answer is not found in their source, or is cut off with it, are not trained on.
- Sized to the fold's time by `pipelines.text_finetune.planned_trainer`: a GPU trains every block;
  a CPU trains the top blocks on the cached input of the lowest one.
This module imports torch and transformers; the agent's own process never imports it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from pipelines.embeddings import resolve_model
from pipelines.heads import SpanHead
from pipelines.text_finetune import (Tokens, TextTrainer, fold_steps, load_pretrained, planned_trainer,
                                     usable_seconds)

log = logging.getLogger(__name__)

MAX_ANSWER_TOKENS = 64


def span_questions(frame: pd.DataFrame, spec: Any) -> list[str] | None:
    """The first segment: the row's other texts (a question) and categories (`sentiment=positive`),
    or None when it has neither."""
    texts = [c for c in spec.text_columns if c in frame.columns and c != spec.source_column]
    categories = [c for c in spec.categorical_columns if c in frame.columns and c != spec.source_column]
    parts = [frame[c].fillna("").astype(str) for c in texts] + \
        [f"{c}=" + frame[c].fillna("").astype(str) for c in categories]
    return [" ; ".join(values) for values in zip(*parts)] if parts else None


def char_span(source: str, answer: str) -> tuple[int, int] | None:
    """Where `answer` sits in `source` (first occurrence; else ignoring case), in characters; None if nowhere."""
    answer = answer.strip()
    if not answer:
        return None
    at = source.find(answer)
    if at < 0:
        at = source.lower().find(answer.lower())
    return None if at < 0 else (at, at + len(answer))


def whole_words(source: str, start: int, stop: int) -> str:
    """source[start:stop] widened to the whitespace-separated words it touches."""
    while start > 0 and not source[start - 1].isspace():
        start -= 1
    while stop < len(source) and not source[stop].isspace():
        stop += 1
    return source[start:stop].strip()


@dataclass
class SpanTokens(Tokens):
    """Tokens of (question, source) rows, with each token's characters in the source and the source's tokens."""

    characters: list[list[tuple[int, int]]] = field(default_factory=list)
    source_tokens: list[tuple[int, int]] = field(default_factory=list)  # first and last; (0, -1) when none


def encode(tokenizer: Any, questions: list[str] | None, sources: list[str], max_length: int | None) -> SpanTokens:
    """Token ids of every row, the source cut to fit `max_length` (None: uncut)."""
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{type(tokenizer).__name__} is not a fast tokenizer; span extraction needs character offsets")
    cut = ("only_second" if questions is not None else True) if max_length else False
    common = dict(padding=False, return_attention_mask=False, return_offsets_mapping=True, max_length=max_length,
                  truncation=cut)
    encoded = tokenizer(questions, sources, **common) if questions is not None else tokenizer(sources, **common)
    segment = 0 if questions is None else 1
    tokens = SpanTokens(encoded["input_ids"], encoded.get("token_type_ids"), tokenizer.pad_token_id or 0)
    for i in range(len(sources)):
        inside = [t for t, s in enumerate(encoded.sequence_ids(i)) if s == segment]
        tokens.source_tokens.append((inside[0], inside[-1]) if inside else (0, -1))
        tokens.characters.append([tuple(o) for o in encoded["offset_mapping"][i]])
    return tokens


def token_targets(tokens: SpanTokens, sources: list[str], answers: list[str]) -> np.ndarray:
    """(start, end) token of each row's answer; (-1, -1) where the answer is not in the source or was cut off."""
    out = np.full((len(answers), 2), -1, dtype=np.int64)
    for r, (source, answer) in enumerate(zip(sources, answers)):
        found = char_span(source, answer)
        first, last = tokens.source_tokens[r]
        if found is None or last < first:
            continue
        inside = range(first, last + 1)
        starts = [t for t in inside if tokens.characters[r][t][1] > found[0]]
        ends = [t for t in inside if tokens.characters[r][t][0] < found[1]]
        if starts and ends and starts[0] <= ends[-1] and tokens.characters[r][starts[0]][0] < found[1]:
            out[r] = starts[0], ends[-1]
    return out


def best_span(start: np.ndarray, end: np.ndarray) -> tuple[int, int]:
    """The (i, j) with i <= j < i + MAX_ANSWER_TOKENS maximising start[i] + end[j]."""
    scores = start[:, None] + end[None, :]
    i, j = np.indices(scores.shape)
    scores[(j < i) | (j >= i + MAX_ANSWER_TOKENS)] = -np.inf
    return tuple(int(v) for v in np.unravel_index(np.argmax(scores), scores.shape))


def predict_spans(trainer: TextTrainer, model: torch.nn.Module, rows: np.ndarray, sources: list[str]) -> list[str]:
    """Each row's answer: its best-scored span of source tokens, as whole words of the source."""
    tokens: SpanTokens = trainer.tokens
    answers: dict[int, str] = {}
    for batch, outputs in trainer.outputs(model, rows):
        logits = outputs.float().cpu().numpy()
        for k, r in enumerate(batch):
            first, last = tokens.source_tokens[r]
            if last < first:
                answers[r] = sources[r].strip()
                continue
            i, j = best_span(logits[k, first:last + 1, 0], logits[k, first:last + 1, 1])
            answers[r] = whole_words(sources[r], tokens.characters[r][first + i][0], tokens.characters[r][first + j][1])
    return [answers[r] for r in rows]


def fit_predict_spans(train: pd.DataFrame, test: pd.DataFrame, ctx: Any, *, max_epochs: int = 3, lr: float = 2e-4,
                      weight_decay: float = 0.01, safety: float = 0.85) -> list[str]:
    """One fine-tuned span extractor fitted on `train` (rows with their answers); each `test` row's answer.

    The shapes' contract for one fold (`pipelines.shapes.strings`): its time is what `ctx.fit_deadline`
    leaves (else the candidate's), of which training uses `safety`.
    """
    started = time.monotonic()
    spec = ctx.spec
    source, target = spec.source_column, spec.target_columns[0]
    frame = pd.concat([train.drop(columns=[target]), test.drop(columns=[target], errors="ignore")], ignore_index=True)
    sources = frame[source].fillna("").astype(str).tolist()
    questions = span_questions(frame, spec)
    name = resolve_model()
    tokenizer, encoder = load_pretrained(name)
    n_train = len(train)
    answers = train[target].fillna("").astype(str).tolist()

    def tokenize_at(max_length: int | None) -> SpanTokens:
        return encode(tokenizer, questions, sources, max_length)

    def seconds_left() -> float:
        deadline = ctx.fit_deadline if ctx.fit_deadline is not None else ctx.deadline
        return math.inf if deadline is None else max(0.0, deadline - ctx.clock())

    rows = np.flatnonzero(token_targets(tokenize_at(None), sources[:n_train], answers)[:, 0] >= 0)
    if not len(rows):
        raise ValueError(f"no answer in `{target}` is found in its `{source}` text: not spans to extract")

    trainer, seconds_per_step, _, threads = planned_trainer(
        tokenize_at, encoder, name, SpanHead(), torch.zeros(n_train, 2, dtype=torch.long), [rows],
        [len(frame) - n_train], ctx, seconds_left, lr=lr, weight_decay=weight_decay, safety=safety)
    # The tokens the plan kept may cut some answers off: those rows are left out of training too.
    targets = token_targets(trainer.tokens, sources[:n_train], answers)
    rows = np.flatnonzero(targets[:, 0] >= 0)
    if not len(rows):
        raise ValueError(f"no answer in `{target}` lies within the {trainer.plan.max_length} tokens the time allows")
    trainer.target = torch.as_tensor(targets, device=trainer.device)
    share = usable_seconds(seconds_left(), safety)
    steps = fold_steps(share * 0.9, seconds_per_step, len(rows), max_epochs)  # a tenth for the predictions
    model, stats = trainer.fit(rows, steps, time.monotonic() + max(share, 1.0))
    predicted = predict_spans(trainer, model, np.arange(n_train, len(frame)), sources)
    log.info("span fine-tune: %d steps (%.2f epochs, top %d blocks of %d, %d tokens, %d threads) in %.1fs",
             stats.steps, stats.steps / math.ceil(len(rows) / trainer.plan.batch_size), trainer.plan.trained_blocks,
             trainer.plan.n_layers, trainer.plan.max_length, threads, time.monotonic() - started)
    return predicted
