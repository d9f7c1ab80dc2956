"""The Kaggle layer: sign in, read a competition, download its data, submit and read back scores.

Everything goes through the official `kaggle` client, imported only when a function here needs
it; AGENT_KAGGLE_ENDPOINT points it at another server (a fake one in tests, a proxy).
"""

from agent.kaggle.client import ENDPOINT_VARIABLE, kaggle_api
from agent.kaggle.competition import KaggleCompetition, get_competition
from agent.kaggle.download import download_competition
from agent.kaggle.errors import KaggleError
from agent.kaggle.metrics import map_kaggle_metric
from agent.kaggle.submissions import (
    Submission,
    SubmissionResult,
    list_submissions,
    submission_message,
    submit,
    validate_submission_file,
)

__all__ = [
    "ENDPOINT_VARIABLE",
    "KaggleCompetition",
    "KaggleError",
    "Submission",
    "SubmissionResult",
    "download_competition",
    "get_competition",
    "kaggle_api",
    "list_submissions",
    "map_kaggle_metric",
    "submission_message",
    "submit",
    "validate_submission_file",
]
