"""The prepared data of a run, as the parent writes it once and every candidate process reads it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.spec import CompetitionSpec


@dataclass
class RunData:
    """Spec, tables and the fold assignment shared by all candidates of a run.

    Every candidate sees the same folds, so their out-of-fold predictions can be ensembled.
    Tables are pickled rather than re-parsed so each candidate process starts in milliseconds
    and sees exactly the dtypes the profile was made from.
    """

    spec: CompetitionSpec
    train: pd.DataFrame
    test: pd.DataFrame
    sample: pd.DataFrame
    folds: np.ndarray

    def save(self, run_dir: Path) -> None:
        data_dir = Path(run_dir) / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        (Path(run_dir) / "spec.json").write_text(self.spec.model_dump_json(indent=2))
        self.train.to_pickle(data_dir / "train.pkl")
        self.test.to_pickle(data_dir / "test.pkl")
        self.sample.to_pickle(data_dir / "sample_submission.pkl")
        np.save(data_dir / "folds.npy", self.folds)

    @classmethod
    def load(cls, run_dir: Path) -> RunData:
        data_dir = Path(run_dir) / "data"
        return cls(
            spec=CompetitionSpec.model_validate(json.loads((Path(run_dir) / "spec.json").read_text())),
            train=pd.read_pickle(data_dir / "train.pkl"),
            test=pd.read_pickle(data_dir / "test.pkl"),
            sample=pd.read_pickle(data_dir / "sample_submission.pkl"),
            folds=np.load(data_dir / "folds.npy"),
        )

    @staticmethod
    def exists(run_dir: Path) -> bool:
        return (Path(run_dir) / "data" / "folds.npy").exists() and (Path(run_dir) / "spec.json").exists()
