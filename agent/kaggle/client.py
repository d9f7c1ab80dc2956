"""The signed-in `kaggle` client: credentials checked first, the package imported lazily, endpoint overridable.

`import kaggle` signs in at import time and, without credentials, prints a page of help and
swallows the exit; so the credentials are looked up here first and a missing one becomes a
one-line message. Credentials are only ever described by where they came from, never echoed.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from agent.kaggle.errors import KaggleError, call

if TYPE_CHECKING:
    from kaggle.api.kaggle_api_extended import KaggleApi

log = logging.getLogger(__name__)

ENDPOINT_VARIABLE = "AGENT_KAGGLE_ENDPOINT"
WHERE_TO_PUT_CREDENTIALS = (
    "create an API token at https://www.kaggle.com/settings/api and put it in ~/.kaggle/kaggle.json "
    "(or set KAGGLE_USERNAME and KAGGLE_KEY, or KAGGLE_API_TOKEN)"
)


def endpoint_override() -> str | None:
    """The base URL from AGENT_KAGGLE_ENDPOINT (a fake server in tests, a proxy for users), or None for Kaggle."""
    value = os.environ.get(ENDPOINT_VARIABLE, "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise KaggleError(f"{ENDPOINT_VARIABLE}={value!r} is not a base URL such as http://127.0.0.1:8765")
    return value.rstrip("/")


def config_dir() -> Path:
    """The folder holding kaggle.json, found the way the kaggle client finds it."""
    explicit = os.environ.get("KAGGLE_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    legacy = Path.home() / ".kaggle"
    if legacy.exists() or not sys.platform.startswith("linux"):
        return legacy
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kaggle"


def credentials_source() -> str:
    """Where the credentials will come from, in the client's order of preference; KaggleError when nowhere.

    The answer names an environment variable or a file, never a secret.
    """
    token = os.environ.get("KAGGLE_API_TOKEN", "").strip()
    if token:
        return "KAGGLE_API_TOKEN"
    for name in ("access_token", "access_token.txt"):
        path = Path.home() / ".kaggle" / name
        if path.is_file() and path.read_text().strip():
            return str(path)

    settings_file = config_dir() / "kaggle.json"
    settings = _read_kaggle_json(settings_file)
    username = os.environ.get("KAGGLE_USERNAME") or settings.get("username")
    key = os.environ.get("KAGGLE_KEY") or settings.get("key")
    if username and key:
        from_env = "KAGGLE_USERNAME" in os.environ and "KAGGLE_KEY" in os.environ
        return "KAGGLE_USERNAME/KAGGLE_KEY" if from_env else str(settings_file)

    oauth = Path.home() / ".kaggle" / "credentials.json"
    if oauth.is_file():
        return str(oauth)
    if settings_file.is_file():
        raise KaggleError(f"{settings_file} lacks 'username' or 'key': {WHERE_TO_PUT_CREDENTIALS}")
    raise KaggleError(f"no Kaggle credentials found: {WHERE_TO_PUT_CREDENTIALS}")


def kaggle_api() -> KaggleApi:
    """A signed-in KaggleApi talking to Kaggle, or to AGENT_KAGGLE_ENDPOINT when that is set."""
    endpoint = endpoint_override()
    source = credentials_source()
    api = _kaggle_api_class(endpoint)()
    # KaggleApi decides these once, when the module is imported; decide them per call instead, so
    # that the current environment counts. Leaving out "--verbose" also keeps the client from
    # printing request headers, which carry the credentials.
    api.config_dir = str(config_dir())
    api.config = str(Path(api.config_dir) / "kaggle.json")
    api.args = ["--local"] if endpoint else []

    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            call(api.authenticate, slug="", what="check the credentials")
    except SystemExit:  # the client prints its help and exits when it rejects every credential
        raise KaggleError(f"Kaggle did not accept the credentials from {source}: {WHERE_TO_PUT_CREDENTIALS}") from None
    if printed.getvalue().strip():  # e.g. a warning that kaggle.json is readable by others
        log.warning("kaggle: %s", " ".join(printed.getvalue().split()))
    log.debug("signed in to %s with credentials from %s", endpoint or "Kaggle", source)
    return api


def _read_kaggle_json(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        settings = json.loads(path.read_text() or "{}")
    except json.JSONDecodeError:
        raise KaggleError(f"{path} is not valid JSON: {WHERE_TO_PUT_CREDENTIALS}") from None
    return settings if isinstance(settings, dict) else {}


def _kaggle_api_class(endpoint: str | None) -> type[KaggleApi]:
    """Import the client, pointing kagglesdk's LOCAL environment at `endpoint` when one is set.

    KaggleApi switches to the LOCAL entry of kagglesdk's endpoint table when its args hold
    "--local" (which `kaggle_api` sets); replacing that entry is the one hook the client offers.
    """
    try:
        from kagglesdk.kaggle_env import KaggleEnv, _env_to_endpoint

        if endpoint:
            _env_to_endpoint[KaggleEnv.LOCAL] = endpoint
        with _importing_towards(endpoint), contextlib.redirect_stdout(io.StringIO()):
            import kaggle  # noqa: F401  (signs in at import; its output is not for our user)
        from kaggle.api.kaggle_api_extended import KaggleApi
    except ImportError as error:
        raise KaggleError(f"the kaggle client is not installed ({error}): pip install kaggle six") from None
    return KaggleApi


@contextlib.contextmanager
def _importing_towards(endpoint: str | None) -> Iterator[None]:
    """While `kaggle` is first imported, make its sign-in (a token check is a network call) use `endpoint`."""
    if not endpoint or "kaggle" in sys.modules:
        yield
        return
    previous = os.environ.get("KAGGLE_API_ENVIRONMENT")
    os.environ["KAGGLE_API_ENVIRONMENT"] = "LOCALHOST"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["KAGGLE_API_ENVIRONMENT"]
        else:
            os.environ["KAGGLE_API_ENVIRONMENT"] = previous
