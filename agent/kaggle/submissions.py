"""Upload a prediction file to a competition, wait for its public score, and list past submissions.

Every check that can fail without spending a submission (file, code competition, closed
submissions, daily limit) runs before the upload. The file itself is never moved or deleted,
so a failed upload loses nothing: `agent submit <run>` sends it again later.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import requests

from agent.kaggle.client import kaggle_api
from agent.kaggle.competition import KaggleCompetition, fetch_competition
from agent.kaggle.errors import KaggleError, call, competition_url, http_status
from pipelines.errors import InputError

if TYPE_CHECKING:
    from kaggle.api.kaggle_api_extended import KaggleApi

log = logging.getLogger(__name__)

COMPLETE, ERROR, PENDING = "COMPLETE", "ERROR", "PENDING"


@dataclass(frozen=True)
class SubmissionResult:
    """What became of one upload: scored (COMPLETE), rejected by the scorer (ERROR) or still PENDING."""

    ref: int
    status: str
    public_score: float | None
    message: str


@dataclass(frozen=True)
class Submission:
    """One row of a competition's list of my submissions."""

    ref: int
    date: datetime | None
    description: str
    file_name: str
    status: str
    public_score: float | None
    private_score: float | None
    error: str | None


def submission_message(run: str, node: str, cv_score: float | None, metric: str | None = None) -> str:
    """The description shown on Kaggle, naming where the file came from and its CV score."""
    cv = "n/a" if cv_score is None else f"{cv_score:.6g}"
    return f"agent run {run} node {node}: CV {metric + ' ' if metric else ''}{cv}"


def submit(
    slug: str,
    file: Path,
    message: str,
    *,
    sample_submission: Path | None = None,
    id_column: str | None = None,
    poll_seconds: float = 10.0,
    timeout: float = 900.0,
) -> SubmissionResult:
    """Upload `file` to `slug` with description `message`, then wait up to `timeout` seconds for its score.

    Raises KaggleError before uploading when the competition cannot take the file now, and when
    the upload fails; returns a PENDING result when scoring outlasts `timeout`.
    """
    file = Path(file)
    validate_submission_file(file, sample_submission, id_column)
    api = kaggle_api()
    competition = fetch_competition(api, slug)
    _check_can_submit(api, competition, file)

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # the client prints upload errors instead of raising them
        what = f"submit {file.name} to {slug}"
        response = call(api.competition_submit, str(file), message, slug, quiet=True, slug=slug, what=what)
    if not response.ref or response.message == api.COMPETITION_SUBMIT_UPLOAD_FAILED_MESSAGE:
        log.debug("kaggle client output during the failed upload: %s", printed.getvalue().strip())
        raise KaggleError(
            f"the upload of {file.name} to {slug} failed ({response.message or 'no submission was created'}); "
            "the file is kept: send it again later with `agent submit <run>`",
            where=file,
        )
    log.info("submitted %s to %s as submission %d; waiting for its score", file.name, slug, response.ref)
    return _wait_for_score(api, slug, response.ref, response.message, poll_seconds=poll_seconds, timeout=timeout)


def list_submissions(slug: str) -> list[Submission]:
    """My submissions to `slug`, newest first (Kaggle's first page)."""
    api = kaggle_api()
    found = call(api.competition_submissions, slug, slug=slug, what=f"list the submissions to {slug}") or []
    return [_submission(entry) for entry in found if entry is not None]


def validate_submission_file(file: Path, sample_submission: Path | None = None, id_column: str | None = None) -> None:
    """Refuse a file Kaggle would reject (or score as garbage) before spending a submission on it.

    With `sample_submission`, a CSV must have its columns, its number of rows and its ids (in
    `id_column`, by default the first column).
    """
    if not file.is_file():
        raise InputError("no such submission file", file)
    if file.stat().st_size == 0:
        raise InputError("the submission file is empty", file)
    if file.suffix.lower() != ".csv":
        return  # Kaggle also takes .zip/.gz/.7z archives; their content is the scorer's to judge
    try:
        submission = pd.read_csv(file)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"not a readable CSV file ({error})", file) from None
    if submission.empty:
        raise InputError("the submission has a header but no rows", file)
    if sample_submission is None:
        return
    sample = pd.read_csv(sample_submission)
    if list(submission.columns) != list(sample.columns):
        raise InputError(f"columns {list(submission.columns)} differ from the sample's {list(sample.columns)}", file)
    if len(submission) != len(sample):
        raise InputError(f"{len(submission)} rows where the sample submission has {len(sample)}", file)
    id_column = id_column or sample.columns[0]
    if set(submission[id_column].astype(str)) != set(sample[id_column].astype(str)):
        raise InputError(f"the ids in column {id_column!r} differ from the sample submission's", file)
    if submission.isna().any().any():
        raise InputError("the submission has missing values", file)


def _check_can_submit(api: KaggleApi, competition: KaggleCompetition, file: Path) -> None:
    slug = competition.slug
    blocker = competition.upload_blocker()
    if blocker:
        raise KaggleError(f"{blocker}; the prediction file is kept", where=file)
    limits = call(
        api.competition_get_submission_limits, slug, slug=slug, what=f"read the submission limits of {slug}"
    )
    if limits.num_allowed_now <= 0:
        if limits.limited_by_total:
            problem = f"the lifetime submission limit of {slug} is reached ({limits.num_total} submissions)"
        elif not competition.user_has_entered:
            problem = f"you have not joined {slug}: accept its rules at {competition_url(slug, 'rules')}"
        else:
            problem = (
                f"the daily submission limit of {slug} is reached ({limits.num_today} of "
                f"{competition.max_daily_submissions} today); it resets at midnight UTC"
            )
        raise KaggleError(f"{problem}; the file is kept: send it later with `agent submit <run>`", where=file)
    if competition.closed:
        log.warning("%s closed on %s: Kaggle scores a late submission but does not rank it", slug, competition.deadline)


def _wait_for_score(
    api: KaggleApi, slug: str, ref: int, message: str, *, poll_seconds: float, timeout: float
) -> SubmissionResult:
    give_up = time.monotonic() + timeout
    while True:
        found = call(_get_submission, api, ref, slug=slug, what=f"read the status of submission {ref}")
        if found is not None and found.status.name == COMPLETE:
            score = _score(found.public_score)
            shown = "is hidden" if score is None else f"{score:.6g}"
            return SubmissionResult(ref, COMPLETE, score, f"{message or 'submitted'}; public score {shown}")
        if found is not None and found.status.name == ERROR:
            reason = (found.error_description or "").strip() or "no reason given"
            return SubmissionResult(ref, ERROR, None, f"Kaggle could not score submission {ref}: {reason}")
        if time.monotonic() + poll_seconds > give_up:
            waited = f"submission {ref} was still being scored after {timeout:.0f} s; see `agent submissions {slug}`"
            return SubmissionResult(ref, PENDING, None, waited)
        time.sleep(poll_seconds)


def _get_submission(api: KaggleApi, ref: int) -> Any:
    """The ApiSubmission, or None while Kaggle does not know it yet (it answers 404 just after creation)."""
    try:
        return api.get_submission(ref)
    except requests.HTTPError as error:
        if http_status(error) == 404:
            return None
        raise


def _submission(entry: Any) -> Submission:
    return Submission(
        ref=entry.ref,
        date=entry.date,
        description=entry.description or "",
        file_name=entry.file_name or "",
        status=entry.status.name,
        public_score=_score(entry.public_score),
        private_score=_score(entry.private_score),
        error=entry.error_description or None,
    )


def _score(text: str | None) -> float | None:
    """Kaggle sends scores as strings, empty while hidden."""
    try:
        score = float(text) if text else None
    except ValueError:
        return None
    return score if score is not None and math.isfinite(score) else None
