"""All settings in one typed place: defaults here, then `agent.toml`, then AGENT_* variables, then flags."""

from __future__ import annotations

import difflib
import os
import tomllib
from contextvars import ContextVar
from pathlib import Path

import psutil
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from pipelines.errors import InputError

DEFAULT_CONFIG = Path("agent.toml")
ENV_PREFIX = "AGENT_"
# AGENT_* variables read outside Settings (by candidate processes and the Kaggle client), not typos.
OTHER_VARIABLES = {"AGENT_KILL_AT", "AGENT_WRITE_POINTS", "AGENT_KAGGLE_ENDPOINT", "AGENT_IMAGE_BACKBONE", "AGENT_TEXT_MODEL"}
_config_file: ContextVar[Path] = ContextVar("config_file", default=DEFAULT_CONFIG)


MIN_MEMORY_MB = 256  # a candidate's Python with the harness imported (numpy, pandas, sklearn, lightgbm) takes ~200 MB
MAX_FOLDS = 20


def _default_memory_mb() -> int:
    return int(psutil.virtual_memory().total / 2**20 * 0.7)


class Settings(BaseSettings):
    """Effective settings of a run; saved as `config.json` in the run folder so `--resume` reuses them."""

    model_config = SettingsConfigDict(env_prefix="AGENT_", toml_file="agent.toml", extra="ignore", allow_inf_nan=False)

    # where things live
    runs_root: Path = Path("data/runs")
    competitions_root: Path = Path("data/competitions")

    # budget and limits
    time_budget: float = Field(600.0, gt=0, description="seconds for the whole run")
    node_timeout: float = Field(900.0, gt=0, description="seconds one candidate may run")
    memory_mb: int = Field(default_factory=_default_memory_mb, ge=MIN_MEMORY_MB,
                           description="resident memory (MB) one candidate may use")
    n_jobs: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    max_nodes: int | None = Field(None, ge=1, description="stop after this many candidates (unset: as many as the "
                                  "budget allows)")
    node_disk_mb: int = Field(4096, ge=16, description="MB one candidate's folder and temp folder may hold")

    # validation
    folds: int | None = Field(None, ge=2, le=MAX_FOLDS, description="cross-validation folds; unset: 5, or 3 for more than "
                              "50,000 training rows, where every fold's prediction of the test rows is costly "
                              "and three folds already estimate the score closely")
    seed: int = Field(0, ge=0, lt=2**32, description="numpy's and LightGBM's seeds take 32 bits")
    max_train_rows: int | None = Field(None, ge=0, description="train on a uniform sample of at most this many rows "
                                       "(0: all rows; unset: as many as the time budget and the table's width allow); "
                                       "the test rows are always all predicted")
    refit: bool = Field(False, description="predict the test rows with one model fitted on every training row "
                        "(one more fit per candidate), not the average of the fold models; always on for "
                        "time-ordered folds")

    kaggle_poll_seconds: float = Field(10.0, gt=0, description="how often to ask Kaggle for a new submission's score")

    # search policy
    num_drafts: int = Field(5, ge=1, description="diverse first solutions before improving")
    debug_prob: float = Field(0.5, ge=0, le=1, description="chance of debugging a failed leaf instead of improving")
    max_debug_depth: int = Field(2, ge=0)
    tune_share: float = Field(0.25, ge=0, le=1, description="share of the budget kept for Optuna tuning")

    # the LLM engineer (off unless `llm` names a model); see README "LLM set-up"
    llm: str | None = Field(None, description="provider:model for langchain's init_chat_model, e.g. openai:gpt-5-mini")
    llm_base_url: str | None = Field(None, description="an OpenAI-compatible server, a remote Ollama, a proxy")
    llm_max_cost: float | None = Field(None, gt=0, description="USD the LLM part may spend; then built-in only")
    llm_max_calls: int | None = Field(None, ge=1, description="LLM calls the run may make; then built-in only")
    llm_timeout: float = Field(300.0, gt=0, description="seconds one LLM call may take")
    llm_max_retries: int = Field(6, ge=0, description="retries of a call on rate limits, timeouts and 5xx")
    llm_retry_wait: float = Field(2.0, ge=0, description="first back-off in seconds; doubles per retry, at most 60")
    llm_temperature: float | None = Field(None, ge=0, description="unset: the provider's default")
    llm_max_tokens: int | None = Field(None, ge=256, description="longest reply; unset: the provider's default")
    llm_reply_attempts: int = Field(2, ge=1, description="asks per step when a reply holds no code")
    llm_builtin_drafts: int = Field(0, ge=0, description="built-in drafts that finish before the LLM is first asked "
                                    "(it works beside the built-in search, which drafts as offline either way)")
    llm_prices: dict[str, list[float]] = Field(
        default_factory=dict,
        description="USD per million tokens by model name, [input, output] or [input, output, cached input]; "
                    "adds to and overrides the built-in table",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=_config_file.get())

    @classmethod
    def load(cls, config: Path | None = None, **flags: object) -> Settings:
        """Settings from `config` (default ./agent.toml, when present), AGENT_* variables and `flags`;
        a key that is not a setting, in the file or the environment, is an error naming the closest one."""
        path = Path(config) if config is not None else DEFAULT_CONFIG
        if config is not None and not path.is_file():
            raise InputError("no such config file", path)
        if path.is_file():
            try:
                keys = tomllib.loads(path.read_text())
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise InputError(f"not valid TOML ({exc})", path) from None
            for key in keys:
                _check_key(key, key, path)
        for name in os.environ:
            if name.upper().startswith(ENV_PREFIX) and name.upper() not in OTHER_VARIABLES:
                _check_key(name[len(ENV_PREFIX):].lower(), name, "environment")
        token = _config_file.set(path)
        try:
            return cls(**{k: v for k, v in flags.items() if v is not None})
        except ValidationError as exc:
            problem = exc.errors()[0]
            if problem["loc"] and problem["loc"][0] in flags:
                raise  # the caller names the flag
            raise InputError(problem["msg"], ".".join(str(part) for part in problem["loc"]) or path) from None
        finally:
            _config_file.reset(token)


def _check_key(key: str, shown: str, where: Path | str) -> None:
    if key in Settings.model_fields:
        return
    close = difflib.get_close_matches(key, list(Settings.model_fields), n=1)
    hint = f"; did you mean {(ENV_PREFIX + close[0].upper()) if shown != key else close[0]!r}?" if close else ""
    raise InputError(f"unknown setting {shown!r}{hint}", where)
