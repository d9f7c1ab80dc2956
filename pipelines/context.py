"""The `ctx` every solution receives: the spec plus what the machine and the run decided."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.spec import CompetitionSpec
from pipelines.targets import encode_target


@dataclass
class Context:
    """Read-only facts a solution needs; solutions never read files or pick seeds themselves.

    `device` is "cuda" when a GPU is usable, else "cpu"; `n_jobs` is the number of cores the
    candidate may use; `workdir` is the candidate's own folder for scratch files; `cache_dir` is
    a folder shared by the run's candidates that one engineer wrote, for row-wise transforms worth
    computing once (embeddings), by default under `workdir`; `deadline` is the `time.monotonic()`
    by which the candidate is killed (None: no limit), so a solution can size its work (a network's
    epochs) or leave out an optional slow block that would not fit; `fit_deadline` is when the
    model being fitted should be done, the harness's share of that time for one fold, so boosted
    trees stop growing then rather than let the slowest fold kill the whole candidate. Both
    deadlines are read on `clock` (time.monotonic; a test may move a clock of its own instead of
    waiting).
    """

    spec: CompetitionSpec
    seed: int = 0
    device: str = "cpu"
    n_jobs: int = 1
    workdir: Path = field(default_factory=Path.cwd)
    cache_dir: Path | None = None
    deadline: float | None = None
    fit_deadline: float | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.cache_dir is None:
            self.cache_dir = Path(self.workdir) / "cache"

    def seconds_left(self) -> float:
        """Seconds until the candidate is killed; infinite when it runs without a limit."""
        return math.inf if self.deadline is None else max(0.0, self.deadline - self.clock())

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        """The encoded target of `frame` (class codes, 0/1 matrix, or floats)."""
        return encode_target(frame, self.spec)

    @property
    def task(self) -> str:
        return self.spec.task

    @property
    def n_classes(self) -> int:
        return self.spec.n_classes

    @property
    def is_classification(self) -> bool:
        return self.spec.is_classification
