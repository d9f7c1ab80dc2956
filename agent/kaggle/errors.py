"""Kaggle failures as one-line messages a user can act on, and the retry policy for rate limits.

The `kaggle` client raises `requests` exceptions with long multi-line texts (or prints help and
exits); every call into it goes through `call()` so that the user sees one line that says what
to do next.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import requests

from pipelines.errors import InputError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds to wait before each retry of a call answered with HTTP 429; one retry per entry.
RATE_LIMIT_BACKOFF: tuple[float, ...] = (2.0, 8.0, 30.0)
MAX_RETRY_AFTER_SECONDS = 120.0

WHERE = "kaggle"


class KaggleError(InputError):
    """A Kaggle problem the user can fix: credentials, rules, slug, limits, network."""

    def __init__(self, problem: str, where: str = WHERE) -> None:
        super().__init__(problem, where)


def competition_url(slug: str, page: str = "") -> str:
    return f"https://www.kaggle.com/competitions/{slug}" + (f"/{page}" if page else "")


def call(fn: Callable[..., T], *args: object, slug: str, what: str, **kwargs: object) -> T:
    """Run one `kaggle` client call; retry HTTP 429 with back-off, turn any failure into a KaggleError.

    `what` names the action for the message ("download the data of titanic").
    """
    for attempt in range(len(RATE_LIMIT_BACKOFF) + 1):
        try:
            return fn(*args, **kwargs)
        except requests.HTTPError as error:
            status = http_status(error)
            if status != 429 or attempt == len(RATE_LIMIT_BACKOFF):
                raise http_error(error, slug=slug, what=what) from None
            delay = _retry_after(error)
            delay = RATE_LIMIT_BACKOFF[attempt] if delay is None else delay
            log.warning("Kaggle rate-limits requests (HTTP 429); retrying to %s in %.0f s", what, delay)
            time.sleep(delay)
        except (requests.ConnectionError, requests.Timeout) as error:
            log.debug("connection to Kaggle failed: %s", error)
            raise network_error(error, what=what) from None
    raise AssertionError("unreachable")


def http_error(error: requests.HTTPError, *, slug: str, what: str) -> KaggleError:
    """The one-line message for an HTTP error answered by Kaggle."""
    status = http_status(error)
    log.debug("Kaggle answered HTTP %s while trying to %s: %s", status, what, error)
    if status == 401:
        return KaggleError(
            f"Kaggle rejected the credentials (HTTP 401) while trying to {what}: check the username and key "
            "in ~/.kaggle/kaggle.json (or KAGGLE_USERNAME/KAGGLE_KEY, KAGGLE_API_TOKEN), or create a new "
            "token at https://www.kaggle.com/settings/api"
        )
    if status == 403:
        return KaggleError(
            f"Kaggle refused to {what} (HTTP 403): accept the competition rules at "
            f"{competition_url(slug, 'rules')} with the account of these credentials, then retry"
        )
    if status == 404:
        return KaggleError(
            f"no Kaggle competition named '{slug}' (HTTP 404) while trying to {what}: check the slug, "
            f"the last part of {competition_url(slug)}"
        )
    if status == 429:
        return KaggleError(
            f"Kaggle keeps rate-limiting requests (HTTP 429) while trying to {what}; stopped after "
            f"{len(RATE_LIMIT_BACKOFF) + 1} tries: wait a few minutes and run the command again"
        )
    if status is not None and status >= 500:
        return KaggleError(f"Kaggle had a server error (HTTP {status}) while trying to {what}: try again later")
    detail = _server_message(error)
    return KaggleError(f"Kaggle answered HTTP {status} while trying to {what}" + (f": {detail}" if detail else ""))


def network_error(error: requests.RequestException, *, what: str) -> KaggleError:
    """The one-line message when no answer came back at all."""
    url = getattr(error.request, "url", None) or ""
    host = urlsplit(url).netloc or "Kaggle"
    return KaggleError(
        f"cannot reach {host} to {what}: check the network connection "
        "(and HTTPS_PROXY or AGENT_KAGGLE_ENDPOINT if you use a proxy)"
    )


def http_status(error: requests.HTTPError) -> int | None:
    """The HTTP status, or the `code` of a JSON error body, which the client raises even under HTTP 200."""
    response = error.response
    if response is None:
        return None
    if response.status_code < 400:
        try:
            code = response.json().get("code")
        except (ValueError, AttributeError):
            code = None
        if isinstance(code, int):
            return code
    return response.status_code


def _retry_after(error: requests.HTTPError) -> float | None:
    value = error.response.headers.get("Retry-After") if error.response is not None else None
    try:
        return min(float(value), MAX_RETRY_AFTER_SECONDS) if value is not None else None
    except ValueError:  # an HTTP date; the back-off schedule is good enough
        return None


def _server_message(error: requests.HTTPError) -> str:
    """Kaggle's own explanation from a JSON error body, first line only."""
    try:
        message = str(error.response.json().get("message", ""))
    except (ValueError, AttributeError):
        return ""
    return message.strip().splitlines()[0][:200] if message.strip() else ""
