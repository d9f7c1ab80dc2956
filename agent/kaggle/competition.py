"""What Kaggle says about a competition: its metric, deadline, submission rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import requests

from agent.kaggle.client import kaggle_api
from agent.kaggle.errors import call, competition_url, http_status
from agent.kaggle.metrics import map_kaggle_metric

if TYPE_CHECKING:
    from kaggle.api.kaggle_api_extended import KaggleApi


@dataclass(frozen=True)
class KaggleCompetition:
    slug: str
    title: str
    evaluation_metric: str | None  # Kaggle's own name for the metric
    metric: str | None  # our canonical name for it, None when unknown
    deadline: datetime | None  # UTC
    max_daily_submissions: int
    submissions_disabled: bool
    kernels_only: bool
    user_has_entered: bool

    @property
    def url(self) -> str:
        return competition_url(self.slug)

    @property
    def closed(self) -> bool:
        """Past the deadline: Kaggle still scores late submissions but does not rank them."""
        return self.deadline is not None and self.deadline < datetime.now(timezone.utc)

    def upload_blocker(self) -> str | None:
        """Why a prediction file cannot be uploaded to this competition, or None when it can.

        Worth asking before a run starts: a code competition only takes submissions made by a
        notebook running on Kaggle.
        """
        if self.kernels_only:
            return (
                f"{self.slug} is a code competition: Kaggle only scores submissions made by a notebook "
                f"running on Kaggle, not uploaded files; run the solution in a notebook at {self.url}/code "
                "and submit from there"
            )
        if self.submissions_disabled:
            return f"{self.slug} does not accept submissions at the moment (see {self.url})"
        return None


def get_competition(slug: str) -> KaggleCompetition:
    """The competition's details, with Kaggle's evaluation metric mapped to our name."""
    return fetch_competition(kaggle_api(), slug)


def fetch_competition(api: KaggleApi, slug: str) -> KaggleCompetition:
    found = call(_api_competition, api, slug, slug=slug, what=f"read the details of {slug}")
    metric = found.evaluation_metric or None
    return KaggleCompetition(
        slug=slug,
        title=found.title or slug,
        evaluation_metric=metric,
        metric=map_kaggle_metric(metric),
        deadline=_utc(found.deadline),
        max_daily_submissions=found.max_daily_submissions,
        submissions_disabled=found.submissions_disabled,
        kernels_only=found.is_kernels_submissions_only,
        user_has_entered=found.user_has_entered,
    )


def _api_competition(api: KaggleApi, slug: str) -> Any:
    """The ApiCompetition for `slug`: GetCompetition, else a search of the listing (the kaggle CLI's own way)."""
    from kagglesdk.competitions.types.competition_api_service import ApiGetCompetitionRequest

    request = ApiGetCompetitionRequest()
    request.competition_name = slug
    try:
        with api.build_kaggle_client() as client:
            return client.competitions.competition_api_client.get_competition(request)
    except requests.HTTPError as error:
        if http_status(error) != 404:
            raise
        not_found = error
    for competition in api.competitions_list(search=slug).competitions:
        if competition.ref.rstrip("/").rsplit("/", 1)[-1] == slug:
            return competition
    raise not_found


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
