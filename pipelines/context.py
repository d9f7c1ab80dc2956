"""The `ctx` every solution receives: the spec plus what the machine and the run decided."""

from __future__ import annotations

import math
import time
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
    candidate may use; `workdir` is the candidate's own folder for scratch files; `time_limit` is
    the seconds the candidate's process may run (None: no limit), for solutions that can trade
    time for quality (epochs of a network), counted from `started`.
    """

    spec: CompetitionSpec
    seed: int = 0
    device: str = "cpu"
    n_jobs: int = 1
    workdir: Path = field(default_factory=Path.cwd)
    time_limit: float | None = None
    started: float = field(default_factory=time.monotonic)

    def seconds_left(self) -> float:
        """Seconds until the candidate is stopped (infinite without a limit)."""
        if self.time_limit is None:
            return math.inf
        return self.time_limit - (time.monotonic() - self.started)

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
