"""A pretrained transformer fine-tuned on the competition's texts, one model per fold, sized to the
node's time.

Why this shape:
- Sentence embeddings used as fixed features reach only so far; strong solutions to text
  classification, text regression and phrase matching fine-tune the transformer itself. Two
  columns drawn from one vocabulary (an anchor and its target) are encoded together on a GPU, as a
  cross-encoder, so attention compares them word by word. A CPU encodes them apart, as two towers of
  one encoder whose head starts at the pretrained sentence similarity: in the few steps a CPU
  affords, that start is worth more than attention across the pair (us-patent, 2 cores, about 250 s:
  cross-encoder Pearson 0.57-0.59, two towers 0.63).
- The model is the one `pipelines.embeddings.resolve_model` names (AGENT_TEXT_MODEL, a local folder
  or a Hugging Face name; else the bundled all-MiniLM-L6-v2), mean-pooled under a linear head with
  one output per class, label or target (`pipelines.heads.TaskHead`).
- Texts are tokenised once; training batches are drawn from rows of similar length, so little of
  a batch is padding.
- Time decides the size. Sequences cover 95% of the texts. A GPU trains every block. A CPU trains
  the top blocks only, as many as leave time for an epoch per fold, or MIN_ROWS_SEEN rows of a large
  fold (shorter sequences when even the top block does not fit, since a text cut short loses more
  than a block left frozen; a clear error at once when nothing fits): the input of the lowest
  trained block is computed once for every row and cached, so epochs and the folds' predictions run
  only the trained blocks. bfloat16 where the device computes it. A timed probe gives the pace;
  every fold trains the same number of steps.
This module imports torch and transformers; the agent's own process never imports it.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import logging
import math
import time
from dataclasses import asdict, dataclass
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from pipelines.embeddings import cpu_precision, resolve_model, torch_device
from pipelines.features import joined_text, text_with_fields
from pipelines.folds import training_rows
from pipelines.heads import FitStats, StepClock, TaskHead
from pipelines.spec import CompetitionSpec

log = logging.getLogger(__name__)

MAX_TOKENS = {"cpu": 128, "cuda": 256}  # a CPU's step cost grows with length; 95% of most texts fit
MIN_TOKENS = 16
TRAIN_COST = 6.0  # a row's training step through a block, in forward passes of it (2 CPU cores, MiniLM, measured)
BATCH_SIZE = 32
HEAD_LR_FACTOR = 5.0  # the new head starts from random weights, the encoder from pretrained ones
LAYER_DECAY = 0.8  # each block below the top learns this much slower: lower blocks hold the general language
MIN_EPOCHS = 1  # planned for; the steps then fill the time up to max_epochs (tweets: 2 epochs F1 0.80, 1: 0.79)
MIN_ROWS_SEEN = 4096  # a larger fold may plan less than an epoch: a pretrained model learns from fewer rows
WARMUP = 0.1
PROBE_STEPS = 5
CALIBRATION_ROWS = 256  # pairs whose cosines set a two-tower head's starting scale
MIN_COSINE_SPREAD = 0.1  # cosines closer than this (an encoder that never learnt similarity) are not magnified
SORT_POOL = 50  # batches per pool sorted by length: similar lengths in a batch, still random across pools


@dataclass(frozen=True)
class TextPlan:
    """How one text model is trained: device, precision, sequence length and the top blocks trained."""

    model: str
    device: str
    precision: str  # "bf16" or "fp32"
    max_length: int
    batch_size: int
    n_layers: int
    trained_blocks: int
    towers: bool = False  # a pair's texts encoded apart (TwoTowerNet), not together


def texts_of(frame: pd.DataFrame, spec: CompetitionSpec) -> tuple[pd.Series, pd.Series | None]:
    """The model's input per row. Paired phrase columns that hold all the row's free text (an anchor and
    its target) are two segments, the second carrying the row's categories; otherwise every text column
    and category is one text (a pair beside a long text, such as a title and a URL, is only a part of it)."""
    if spec.column_pairs and set(spec.text_columns) <= set(spec.column_pairs[0]):
        first, second = spec.column_pairs[0]
        others = spec.model_copy(update={"text_columns": [], "categorical_columns": [
            c for c in spec.categorical_columns if c not in (first, second)]})
        rest = text_with_fields(frame, others).str.strip()
        return (joined_text(frame, [first]).reset_index(drop=True),
                (joined_text(frame, [second]) + " ; " + rest).str.rstrip(" ;").reset_index(drop=True))
    return text_with_fields(frame, spec).reset_index(drop=True), None


def sequence_length(lengths: np.ndarray, device: str) -> int:
    """Tokens kept per text: enough for 95% of them, within what the device trains at a useful pace."""
    return int(np.clip(np.percentile(lengths, 95), MIN_TOKENS, MAX_TOKENS[device]))


class FineTuneTooSlow(RuntimeError):
    """Not even the shortest sequences through the top block fit the time left: fail at once, not at the limit."""


def planned_rows(fit: int) -> int:
    """Rows one fold's training is planned to see: MIN_EPOCHS of its `fit` rows, at most MIN_ROWS_SEEN."""
    return min(MIN_EPOCHS * fit, MIN_ROWS_SEEN)


def choose_size(token_seconds: float, lengths: np.ndarray, n_layers: int, fold_rows: list[tuple[int, int]],
                seconds: float, longest: int) -> tuple[int, int]:
    """Tokens per text and top blocks to train on a CPU: the longest sequences (from `longest`, halving),
    then the most blocks, for which caching the input of the lowest trained block (a forward pass of
    the blocks below over every row), `planned_rows` per fold and the folds' predictions fit `seconds`.
    `token_seconds` is one block's forward pass of one token; `lengths` are every row's full token
    counts; `fold_rows` is (rows trained, rows predicted) per fold."""
    length = longest
    while True:
        per_row = float(np.minimum(lengths, length).mean()) * token_seconds
        for trained in range(n_layers, 0, -1):
            cache = (n_layers - trained) * len(lengths) if trained < n_layers else 0
            folds = sum(TRAIN_COST * planned_rows(fit) + predict for fit, predict in fold_rows) * trained
            if (cache + folds) * per_row <= seconds:
                return length, trained
        if length <= MIN_TOKENS:
            needed = (n_layers - 1) * len(lengths) + sum(TRAIN_COST * planned_rows(fit) + p for fit, p in fold_rows)
            raise FineTuneTooSlow(f"fine-tuning would take about {needed * per_row:.0f}s even at {length} tokens "
                                  f"and the top block only; {seconds:.0f}s are left")
        length = max(MIN_TOKENS, length // 2)


def usable_seconds(left: float, safety: float) -> float:
    """What training may take of `left` seconds: `safety` of it, less a reserve for writing the results
    (5 s, less for a short node)."""
    return safety * left - min(5.0, 0.1 * left)


def autocast(device: torch.device, precision: str):
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def encoder_blocks(model: nn.Module) -> tuple[str, nn.ModuleList]:
    """The transformer's stack of blocks (BERT's encoder.layer, DistilBERT's transformer.layer, ...):
    the longest ModuleList in the model, with its name."""
    lists = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.ModuleList)]
    if not lists:
        raise ValueError(f"{type(model).__name__} has no stack of layers to fine-tune")
    return max(lists, key=lambda item: len(item[1]))


class _Captured(Exception):
    """Stops a forward pass once the input of the first trained block is known."""

    def __init__(self, hidden: torch.Tensor) -> None:
        self.hidden = hidden


def _hidden_of(args: tuple, kwargs: dict) -> torch.Tensor:
    return args[0] if args else kwargs["hidden_states"]


class TextNet(nn.Module):
    """A pretrained encoder from block `start` up, mean-pooled over the real tokens, under a linear head
    (or with `per_token`, the head on every token).

    The blocks below `start` are left out; their output for a batch (the cached input of block `start`)
    is handed to `forward` and swapped in for the embeddings' output, while the encoder itself still
    turns the attention mask into whatever form its blocks take."""

    def __init__(self, encoder: nn.Module, n_outputs: int, start: int = 0, dropout: float = 0.1,
                 per_token: bool = False) -> None:
        super().__init__()
        name, blocks = encoder_blocks(encoder)
        if start:
            parent, _, attribute = name.rpartition(".")
            setattr(encoder.get_submodule(parent), attribute, nn.ModuleList(list(blocks)[start:]))
            blocks = encoder_blocks(encoder)[1]
            blocks[0].register_forward_pre_hook(self._swap_in, with_kwargs=True)
        in_blocks = {id(p) for p in blocks.parameters()}
        for p in encoder.parameters():  # the embeddings: most of a small model's weights, and its dense
            if id(p) not in in_blocks:  # gradient and optimizer step cost more than a block's on a CPU
                p.requires_grad_(False)
        self.encoder, self.start, self.per_token = encoder, start, per_token
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, n_outputs)
        self._hidden: torch.Tensor | None = None

    def _swap_in(self, module: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        hidden = self._hidden.to(_hidden_of(args, kwargs).dtype)
        return ((hidden, *args[1:]), kwargs) if args else (args, {**kwargs, "hidden_states": hidden})

    def states(self, batch: dict[str, torch.Tensor], hidden: torch.Tensor | None = None) -> torch.Tensor:
        """The top block's output per token."""
        self._hidden = hidden
        try:
            return self.encoder(**batch).last_hidden_state
        finally:
            self._hidden = None

    def pooled(self, batch: dict[str, torch.Tensor], hidden: torch.Tensor | None = None) -> torch.Tensor:
        """The top block's states averaged over the real tokens."""
        out = self.states(batch, hidden)
        mask = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
        return (out * mask).sum(1) / mask.sum(1).clamp(min=1)

    def forward(self, batch: dict[str, torch.Tensor], hidden: torch.Tensor | None = None) -> torch.Tensor:
        if self.per_token:  # outputs per token (a span's start and end), none at the padding
            out = self.states(batch, hidden)
            return self.head(self.dropout(out.float())).masked_fill(batch["attention_mask"].unsqueeze(-1) == 0, -1e4)
        return self.head(self.dropout(self.pooled(batch, hidden).float()))


class TwoTowerNet(TextNet):
    """Each text of a pair encoded alone by the same encoder and mean-pooled to a unit vector (u, v), under
    a linear head on u*v and |u-v|. The head starts as the cosine of u and v scaled to the target's
    spread (`start_at_similarity`): the pretrained model's sense of alike, which training then adapts."""

    def __init__(self, encoder: nn.Module, n_outputs: int, start: int = 0, dropout: float = 0.1) -> None:
        super().__init__(encoder, n_outputs, start, dropout)
        self.head = nn.Linear(2 * encoder.config.hidden_size, n_outputs)

    def unit(self, batch: dict[str, torch.Tensor], hidden: torch.Tensor | None) -> torch.Tensor:
        return F.normalize(self.pooled(batch, hidden).float(), dim=-1)

    def forward(self, first: tuple, second: tuple) -> torch.Tensor:
        u, v = self.unit(*first), self.unit(*second)
        return self.head(self.dropout(torch.cat([u * v, (u - v).abs()], dim=-1)))

    @torch.no_grad()
    def start_at_similarity(self, first: tuple, second: tuple) -> None:
        """Every output starts as (cosine - its mean) / its spread over these rows' pairs: standardised, as a
        regression target is, and a useful logit for a binary one."""
        was_training = self.training
        self.eval()
        cosine = (self.unit(*first) * self.unit(*second)).sum(-1)
        scale = 1.0 / max(float(cosine.std()), MIN_COSINE_SPREAD) if len(cosine) > 1 else 1.0
        width = self.head.in_features // 2
        self.head.weight.zero_()
        self.head.weight[:, :width] = scale  # u*v summed is the cosine of unit vectors
        self.head.bias.fill_(-scale * float(cosine.mean()))
        self.train(was_training)


@dataclass
class Tokens:
    """Every row's token ids (train rows, then test rows), padded per batch; with the cached input of
    the first trained block once `cache_hidden` has run."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]] | None
    pad_id: int
    hidden: torch.Tensor | None = None  # float16 (tokens of all rows, width), rows one after another
    offsets: np.ndarray | None = None

    @property
    def sides(self) -> list[Tokens]:
        """The texts each row is encoded as, one pass each: itself."""
        return [self]

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(ids) for ids in self.input_ids), dtype=np.int64, count=len(self.input_ids))

    def batch(self, rows: np.ndarray, device: torch.device) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """Inputs of `rows` padded to the longest: token ids and mask, and the cached hidden states."""
        width = max(len(self.input_ids[r]) for r in rows)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        types = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            n = len(self.input_ids[r])
            ids[i, :n], mask[i, :n] = self.input_ids[r], 1
            if self.token_type_ids is not None:
                types[i, :n] = self.token_type_ids[r]
        out = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        if self.token_type_ids is not None:
            out["token_type_ids"] = torch.from_numpy(types)
        hidden = None
        if self.hidden is not None:
            hidden = torch.zeros(len(rows), width, self.hidden.shape[1])
            for i, r in enumerate(rows):
                hidden[i, :len(self.input_ids[r])] = self.hidden[self.offsets[r]:self.offsets[r + 1]]
            hidden = hidden.to(device, non_blocking=True)
        return {k: v.to(device, non_blocking=True) for k, v in out.items()}, hidden

    @torch.no_grad()
    def cache_hidden(self, encoder: nn.Module, start: int, device: torch.device, batch_size: int,
                     precision: str = "fp32") -> None:
        """Run every row through the blocks below `start` once and keep the input of block `start`."""
        block = encoder_blocks(encoder)[1][start]

        def capture(module: nn.Module, args: tuple, kwargs: dict) -> None:
            raise _Captured(_hidden_of(args, kwargs))

        handle = block.register_forward_pre_hook(capture, with_kwargs=True)
        encoder.eval()
        lengths = self.lengths
        self.offsets = np.concatenate([[0], np.cumsum(lengths)])
        self.hidden = torch.empty(int(self.offsets[-1]), encoder.config.hidden_size, dtype=torch.float16)
        order = np.argsort(lengths, kind="stable")
        try:
            for b in range(0, len(order), batch_size):
                rows = order[b:b + batch_size]
                inputs, _ = self.batch(rows, device)
                try:
                    with autocast(device, precision):
                        encoder(**inputs)
                except _Captured as captured:
                    states = captured.hidden.float().cpu()
                for i, r in enumerate(rows):
                    self.hidden[self.offsets[r]:self.offsets[r + 1]] = states[i, :lengths[r]]
        finally:
            handle.remove()


@dataclass
class TokenPairs:
    """Each row's two texts tokenised apart, for TwoTowerNet: a batch is the batches of both sides."""

    first: Tokens
    second: Tokens

    @property
    def sides(self) -> list[Tokens]:
        return [self.first, self.second]

    @property
    def lengths(self) -> np.ndarray:
        return self.first.lengths + self.second.lengths

    @property
    def hidden(self) -> torch.Tensor | None:
        return self.first.hidden

    @hidden.setter
    def hidden(self, value: None) -> None:
        self.first.hidden = self.second.hidden = value

    def batch(self, rows: np.ndarray, device: torch.device) -> tuple[tuple, tuple]:
        return self.first.batch(rows, device), self.second.batch(rows, device)

    def cache_hidden(self, *args: Any, **kwargs: Any) -> None:
        for side in self.sides:
            side.cache_hidden(*args, **kwargs)


def tokenize(tokenizer: Any, first: Sequence[str], second: Sequence[str] | None, max_length: int | None) -> Tokens:
    """Token ids of every text (or pair), cut to `max_length` (the longer segment first)."""
    encoded = tokenizer(list(first), list(second) if second is not None else None,
                        truncation="longest_first" if max_length else False, max_length=max_length,
                        padding=False, return_attention_mask=False)
    return Tokens(encoded["input_ids"], encoded.get("token_type_ids"), tokenizer.pad_token_id or 0)


def length_batches(rows: np.ndarray, lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`rows` shuffled into batches of similar lengths, the batches in random order."""
    order = rows[rng.permutation(len(rows))]
    batches = []
    pool = batch_size * SORT_POOL
    for start in range(0, len(order), pool):
        chunk = order[start:start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[b:b + batch_size] for b in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


class TextTrainer:
    """Fits and predicts one fine-tuned model per fold with the settings of a `TextPlan`."""

    def __init__(self, plan: TextPlan, encoder: nn.Module, tokens: Tokens, head: TaskHead, target: torch.Tensor, *,
                 lr: float, weight_decay: float, seed: int) -> None:
        self.plan, self.encoder, self.tokens, self.head = plan, encoder, tokens, head
        self.device = torch.device(plan.device)
        self.target = target.to(self.device)  # the encoded target of every train row
        self.lengths = tokens.lengths
        self.lr, self.weight_decay, self.seed = lr, weight_decay, seed

    @property
    def start(self) -> int:
        """The lowest trained block."""
        return self.plan.n_layers - self.plan.trained_blocks

    def new_model(self) -> TextNet:
        if self.plan.towers:
            return TwoTowerNet(copy.deepcopy(self.encoder), self.head.n_outputs, self.start).to(self.device)
        return TextNet(copy.deepcopy(self.encoder), self.head.n_outputs, self.start,
                       per_token=self.head.per_token).to(self.device)

    def _autocast(self):
        return autocast(self.device, self.plan.precision)

    def fit(self, rows: np.ndarray, max_steps: int, deadline: float) -> tuple[TextNet, FitStats]:
        """A model trained on train rows `rows` for `max_steps` (linear warm-up, then linear decay),
        stopped early at `deadline` (time.monotonic())."""
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        model = self.new_model()
        if self.plan.towers:
            with self._autocast():
                model.start_at_similarity(*self.tokens.batch(rows[:CALIBRATION_ROWS], self.device))
        blocks = encoder_blocks(model.encoder)[1]
        groups = [{"params": list(block.parameters()), "lr": self.lr * LAYER_DECAY ** (len(blocks) - 1 - i)}
                  for i, block in enumerate(blocks)]
        groups.append({"params": list(model.head.parameters()), "lr": self.lr * HEAD_LR_FACTOR})
        optimizer = torch.optim.AdamW(groups, weight_decay=self.weight_decay)
        total, warmup = max(2, max_steps), max(1, int(WARMUP * max_steps))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
        model.train()
        clock, epoch = StepClock(total, deadline), 0
        while clock.running():
            epoch += 1
            for batch in length_batches(rows, self.lengths, self.plan.batch_size, rng):
                with self._autocast():
                    loss = self.head.loss(model(*self.tokens.batch(batch, self.device)),
                                          self.target[torch.as_tensor(batch, device=self.device)])
                if clock.optimizer_step(loss, optimizer, schedule):
                    break
        return model, clock.stats(epoch)

    @torch.no_grad()
    def outputs(self, model: TextNet, rows: np.ndarray) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
        """The model's outputs for `rows` (indices into train rows, then test rows), batch by batch with
        the rows of each, shortest texts batched together."""
        model.eval()
        order = rows[np.argsort(self.lengths[rows], kind="stable")]
        size = 2 * self.plan.batch_size
        for b in range(0, len(order), size):
            batch = order[b:b + size]
            with self._autocast():
                yield batch, model(*self.tokens.batch(batch, self.device))

    def predict(self, model: TextNet, rows: np.ndarray) -> np.ndarray:
        """Raw predictions for `rows`, in their order."""
        out = np.empty((len(rows), *self.head.raw_shape(1)[1:]), dtype=np.float64)
        position = {r: i for i, r in enumerate(rows)}
        for batch, outputs in self.outputs(model, rows):
            raw = self.head.to_raw(outputs).float().cpu().numpy()
            out[[position[r] for r in batch]] = raw.reshape(len(batch), *out.shape[1:])
        return self.head.finish(out)


@torch.no_grad()
def probe_pace(encoder: nn.Module, tokens: Tokens | TokenPairs, rows: np.ndarray, device: torch.device,
               precision: str, n_jobs: int, batch_size: int) -> tuple[int, float]:
    """Seconds of one block's forward pass of one token, timed on a few batches of `rows`; on a CPU with
    several cores also the faster of one thread and `n_jobs` (on a busy machine threads wait for each
    other). A pair's two texts are timed as the two passes they take. Returns the threads kept (0 on a GPU)
    and the seconds."""
    encoder.eval()
    sample = np.random.default_rng(0).choice(rows, min(len(rows), batch_size * PROBE_STEPS), replace=False)
    sample = sample[np.argsort(tokens.lengths[sample], kind="stable")]  # batched by length, as every pass is
    batches = [sample[b:b + batch_size] for b in range(0, len(sample), batch_size)]
    with autocast(device, precision):
        encoder(**tokens.sides[0].batch(batches[0], device)[0])  # untimed: the first pass loads kernels
        timings = {}
        for threads in dict.fromkeys([n_jobs, 1] if n_jobs > 1 else [n_jobs]):
            if threads:
                torch.set_num_threads(threads)
            start = time.monotonic()
            for batch, side in itertools.product(batches, tokens.sides):
                encoder(**side.batch(batch, device)[0])
            if device.type == "cuda":
                torch.cuda.synchronize()
            timings[threads] = time.monotonic() - start
    threads = min(timings, key=timings.get)
    if threads:
        torch.set_num_threads(threads)
    n_tokens = sum(int(tokens.lengths[batch].sum()) for batch in batches)
    return threads, timings[threads] / n_tokens / len(encoder_blocks(encoder)[1])


def cache_agrees(trainer: TextTrainer, rows: np.ndarray) -> bool:
    """Whether the top blocks fed the cached states give the whole encoder's states for the real tokens (the
    cache is swapped into the encoder's own forward pass, which a transformers version might not allow)."""
    model = trainer.new_model().eval()
    inputs, hidden = trainer.tokens.sides[0].batch(rows, trainer.device)
    with torch.no_grad(), autocast(trainer.device, trainer.plan.precision):
        cached = model.states(inputs, hidden).float()
        whole = copy.deepcopy(trainer.encoder).eval()(**inputs).last_hidden_state.float()
    real = inputs["attention_mask"].bool()
    return bool((cached[real] - whole[real]).abs().max() <= 1e-2 * whole[real].abs().max())


def load_pretrained(name: str) -> tuple[Any, nn.Module]:
    """The tokenizer and encoder of a local folder or hub name, quietly (no progress bars in a node's log)."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return transformers.AutoTokenizer.from_pretrained(name), transformers.AutoModel.from_pretrained(name)


def planned_trainer(tokenize_at: Callable[[int | None], Tokens | TokenPairs], encoder: nn.Module, name: str,
                    head: Any, target: torch.Tensor, fit_rows: list[np.ndarray], predicted: list[int], ctx: Any,
                    seconds_left: Callable[[], float], *, lr: float, weight_decay: float,
                    safety: float) -> tuple[TextTrainer, float, float, int]:
    """A trainer sized to the time `seconds_left()` gives, its blocks' inputs cached on a CPU: what a
    fine-tune of any head needs before its folds train. `tokenize_at(max_length)` gives the rows'
    tokens (train rows, then the rest; None: uncut); `fit_rows` are each fit's training rows and
    `predicted` the rows each fit then predicts. Returns the trainer, the seconds of one of its
    training steps, of one token's forward pass through one block, and the threads kept."""
    device = torch_device(ctx.device)
    lengths = tokenize_at(None).lengths
    longest = sequence_length(lengths[:len(target)], device)
    tokens = tokenize_at(longest)
    precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp32") if device == "cuda" else \
        ("bf16" if cpu_precision() == "bfloat16" else "fp32")
    encoder.to(device)
    threads, token_seconds = probe_pace(encoder, tokens, fit_rows[0], torch.device(device), precision,
                                        ctx.n_jobs if device == "cpu" else 0, BATCH_SIZE)
    n_layers = len(encoder_blocks(encoder)[1])
    usable = usable_seconds(seconds_left(), safety)
    max_length, trained = (longest, n_layers) if device == "cuda" else choose_size(
        token_seconds, lengths, n_layers, [(len(r), p) for r, p in zip(fit_rows, predicted)], usable, longest)
    if max_length < longest:
        tokens = tokenize_at(max_length)
    plan = TextPlan(model=name, device=device, max_length=max_length, batch_size=BATCH_SIZE, n_layers=n_layers,
                    precision=precision, trained_blocks=trained, towers=isinstance(tokens, TokenPairs))
    trainer = TextTrainer(plan, encoder, tokens, head, target, lr=lr, weight_decay=weight_decay, seed=ctx.seed)
    if trainer.start:
        tokens.cache_hidden(encoder, trainer.start, trainer.device, 2 * BATCH_SIZE, precision)
        if not cache_agrees(trainer, fit_rows[0][:8]):
            log.warning("the cached states of block %d do not reproduce the whole encoder; training every block",
                        trainer.start)
            tokens.hidden = None
            trainer.plan = dataclasses.replace(plan, trained_blocks=n_layers)
    seconds_per_step = trainer.fit(fit_rows[0], PROBE_STEPS + 2, math.inf)[1].seconds_per_step
    return trainer, seconds_per_step, token_seconds, threads


def fold_steps(share: float, seconds_per_step: float, n_rows: int, max_epochs: int) -> int:
    """Optimizer steps that fit `share` seconds, at most `max_epochs` over `n_rows`: steps, not whole
    epochs, so a short budget is not rounded down to one epoch."""
    return max(2, int(min(share / seconds_per_step, max_epochs * math.ceil(n_rows / BATCH_SIZE))))


def cross_fit_text(train_text: tuple[pd.Series, pd.Series | None], test_text: tuple[pd.Series, pd.Series | None],
                   y: np.ndarray, folds: np.ndarray, ctx: Any, *, max_epochs: int = 3, lr: float = 2e-4,
                   weight_decay: float = 0.01, safety: float = 0.85) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Out-of-fold and fold-averaged test predictions of a fine-tuned transformer, and facts about the training.

    `train_text` and `test_text` are (first segment, second segment or None) per row (`texts_of`);
    `y` is the encoded target of the train rows; `folds[i]` is row i's validation fold (-1: only
    ever trained on). Training uses `safety` of the time left.
    """
    started = time.monotonic()
    name = resolve_model()
    tokenizer, encoder = load_pretrained(name)
    first = pd.concat([train_text[0], test_text[0]], ignore_index=True).fillna("").astype(str)
    second = None if train_text[1] is None else pd.concat([train_text[1], test_text[1]], ignore_index=True).fillna("").astype(str)
    n_train, n_all = len(train_text[0]), len(first)
    towers = second is not None and torch_device(ctx.device) == "cpu"

    def tokenize_at(max_length: int | None) -> Tokens | TokenPairs:
        if towers:
            return TokenPairs(*(tokenize(tokenizer, side, None, max_length) for side in (first, second)))
        return tokenize(tokenizer, first, second, max_length)

    fold_ids = sorted(set(folds[folds >= 0].tolist()))
    fit_rows = [training_rows(folds, k, ctx.spec) for k in fold_ids]
    predicted = [int((folds == k).sum()) + n_all - n_train for k in fold_ids]
    head = TaskHead.for_target(ctx.spec.task, y, ctx.spec.n_classes)
    trainer, seconds_per_step, token_seconds, threads = planned_trainer(
        tokenize_at, encoder, name, head,
        head.target_tensor(y), fit_rows, predicted, ctx, ctx.seconds_left, lr=lr, weight_decay=weight_decay,
        safety=safety)
    plan, tokens = trainer.plan, trainer.tokens
    predict_seconds = float(tokens.lengths.mean()) * plan.trained_blocks * token_seconds  # per row
    setup_seconds = round(time.monotonic() - started, 1)

    test_rows = np.arange(n_train, n_all)
    oof = np.full(head.raw_shape(n_train), np.nan)
    test_pred = np.zeros(head.raw_shape(len(test_rows)))
    fitted: list[FitStats] = []
    steps = math.inf
    for i, (k, rows) in enumerate(zip(fold_ids, fit_rows)):
        valid_rows = np.flatnonzero(folds == k)
        share = usable_seconds(ctx.seconds_left(), safety) / (len(fold_ids) - i) - predicted[i] * predict_seconds
        # Every fold trains as long as the first (less only when running late), so the out-of-fold
        # score measures one model rather than a mix of short and long ones.
        steps = min(steps, fold_steps(share, seconds_per_step, len(rows), max_epochs))
        model, stats = trainer.fit(rows, steps, time.monotonic() + max(share, 1.0) * 1.1)
        seconds_per_step = stats.seconds_per_step  # the next fold is planned with this fold's pace
        oof[valid_rows] = trainer.predict(model, valid_rows)
        test_pred += trainer.predict(model, test_rows) / len(fold_ids)
        fitted.append(stats)
        log.info("fold %s: %d of %d steps (top %d blocks of %d) in %.1fs", k, stats.steps, steps,
                 plan.trained_blocks, plan.n_layers, stats.seconds)
        del model

    facts = {**asdict(plan), "threads": threads, "setup_seconds": setup_seconds,
             "epochs": [round(s.steps / math.ceil(len(r) / plan.batch_size), 2) for s, r in zip(fitted, fit_rows)],
             "steps": [s.steps for s in fitted], "seconds": round(time.monotonic() - started, 1)}
    return oof, test_pred, facts
