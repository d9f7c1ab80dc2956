"""All settings in one typed place: defaults here, then `agent.toml`, then AGENT_* variables, then flags."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


def _default_memory_mb() -> int:
    return int(psutil.virtual_memory().total / 2**20 * 0.7)


class Settings(BaseSettings):
    """Effective settings of a run; saved as `config.json` in the run folder so `--resume` reuses them."""

    model_config = SettingsConfigDict(env_prefix="AGENT_", toml_file="agent.toml", extra="ignore")

    # where things live
    runs_root: Path = Path("data/runs")
    competitions_root: Path = Path("data/competitions")

    # budget and limits
    time_budget: float = Field(600.0, gt=0, description="seconds for the whole run")
    node_timeout: float = Field(900.0, gt=0, description="seconds one candidate may run")
    memory_mb: int = Field(default_factory=_default_memory_mb, description="resident memory one candidate may use")
    n_jobs: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)

    # validation
    folds: int = Field(5, ge=2)
    seed: int = 0

    kaggle_poll_seconds: float = Field(10.0, gt=0, description="how often to ask Kaggle for a new submission's score")

    # search policy
    num_drafts: int = Field(5, ge=1, description="diverse first solutions before improving")
    debug_prob: float = Field(0.5, ge=0, le=1, description="chance of debugging a failed leaf instead of improving")
    max_debug_depth: int = Field(2, ge=0)
    tune_share: float = Field(0.25, ge=0, le=1, description="share of the budget kept for Optuna tuning")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)
