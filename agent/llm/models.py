"""From "provider:model" to a langchain chat model, with one-line errors for what a user can fix."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from agent.config import Settings
from pipelines.errors import InputError

# Provider -> the pip package langchain needs for it, and this project's extra that installs it.
PACKAGES = {"openai": ("langchain-openai", "openai"), "anthropic": ("langchain-anthropic", "anthropic"),
            "ollama": ("langchain-ollama", "ollama")}

# Ollama's default context (2-4k tokens) silently cuts our prompts; code-writing needs room.
OLLAMA_CONTEXT_TOKENS = 32768

EXAMPLES = "openai:gpt-5-mini, anthropic:claude-sonnet-4-6 or ollama:qwen2.5-coder:32b"


@dataclass(frozen=True)
class ModelName:
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


def parse_model_name(text: str) -> ModelName:
    """`ollama:qwen2.5-coder:32b` -> ollama / qwen2.5-coder:32b (split at the first colon)."""
    provider, sep, model = text.strip().partition(":")
    if not sep or not provider or not model:
        raise InputError(f"name the model as provider:model, e.g. {EXAMPLES} (got {text!r})", "--llm")
    return ModelName(provider.lower().replace("-", "_"), model)


def _model_kwargs(name: ModelName, settings: Settings) -> dict:
    """Provider clients' own retries are off: the client here retries, counting and logging each try."""
    kwargs: dict = {}
    if name.provider == "ollama":
        kwargs.update(client_kwargs={"timeout": settings.llm_timeout}, num_ctx=OLLAMA_CONTEXT_TOKENS)
        if settings.llm_max_tokens:
            kwargs["num_predict"] = settings.llm_max_tokens
    else:
        kwargs.update(timeout=settings.llm_timeout, max_retries=0)
        if settings.llm_max_tokens:
            kwargs["max_tokens"] = settings.llm_max_tokens
    if settings.llm_base_url:
        kwargs["base_url"] = settings.llm_base_url
        if name.provider == "openai" and not os.environ.get("OPENAI_API_KEY"):
            kwargs["api_key"] = "unused"  # local OpenAI-compatible servers (vLLM, llama.cpp) take any key
    if settings.llm_temperature is not None:
        kwargs["temperature"] = settings.llm_temperature
    return kwargs


def make_chat_model(settings: Settings) -> tuple[BaseChatModel, ModelName]:
    """The chat model named by `settings.llm`, ready to call."""
    from langchain.chat_models import init_chat_model

    if not settings.llm:
        raise InputError("no LLM named; pass --llm provider:model", "--llm")
    name = parse_model_name(settings.llm)
    try:
        model = init_chat_model(name.model, model_provider=name.provider, **_model_kwargs(name, settings))
    except ImportError as exc:
        raise InputError(_missing_package(name.provider, str(exc)), "--llm") from None
    except ValueError as exc:
        if "provider" in str(exc).lower():
            raise InputError(f"unknown provider {name.provider!r}; write provider:model, e.g. {EXAMPLES}",
                             "--llm") from None
        raise InputError(f"{name}: {_first_line(exc)}", "--llm") from None
    except Exception as exc:  # provider clients check credentials when built (e.g. a missing OPENAI_API_KEY)
        raise InputError(f"{name}: {_first_line(exc)}", "--llm") from None
    return model, name


def _missing_package(provider: str, message: str) -> str:
    package, extra = PACKAGES.get(provider, (None, None))
    if package is None:
        found = re.search(r"requires the ([\w.-]+) package", message)
        package = found.group(1) if found else f"langchain-{provider.replace('_', '-')}"
    hint = f" (or pip install 'kagglewright[{extra}]')" if extra else ""
    return f"the {provider} provider needs the {package} package: pip install {package}{hint}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
