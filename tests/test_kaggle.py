"""The Kaggle layer against a fake server speaking Kaggle's wire format, through the real `kaggle` client."""

from __future__ import annotations

import io
import json
import logging
import socket
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.kaggle import (
    KaggleError,
    download_competition,
    get_competition,
    list_submissions,
    map_kaggle_metric,
    submission_message,
    submit,
    validate_submission_file,
)
from agent.kaggle import errors as kaggle_errors
from agent.kaggle.download import MARKER
from pipelines.errors import InputError
from tests.fake_kaggle import FakeCompetition, FakeKaggle

TRAIN = b"PassengerId,Pclass,Sex,Survived\n1,3,male,0\n2,1,female,1\n3,3,female,1\n"
TEST = b"PassengerId,Pclass,Sex\n4,1,male\n5,3,female\n"
SAMPLE = b"PassengerId,Survived\n4,0\n5,0\n"


def zipped(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def only_localhost(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail any attempt to resolve a host other than this machine: no test may reach kaggle.com."""
    resolve = socket.getaddrinfo
    refused: list[str] = []

    def local_only(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost"):
            refused.append(str(host))
            raise OSError(f"test tried to reach {host}")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    yield refused
    assert not refused, f"tests must not leave this machine: {refused}"


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A running fake Kaggle with one competition, and an environment holding only fake credentials."""
    server = FakeKaggle()
    server.add(
        FakeCompetition(
            slug="titanic",
            title="Titanic - Machine Learning from Disaster",
            # Kaggle ships big tables as nested zips inside the competition zip.
            files={"train.csv.zip": zipped("train.csv", TRAIN), "test.csv": TEST, "gender_submission.csv": SAMPLE},
        )
    )
    url = server.start()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_API_ENVIRONMENT", "VERBOSE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    monkeypatch.setenv("KAGGLE_USERNAME", server.username)
    monkeypatch.setenv("KAGGLE_KEY", server.key)
    monkeypatch.setenv("AGENT_KAGGLE_ENDPOINT", url)
    monkeypatch.setattr(kaggle_errors, "RATE_LIMIT_BACKOFF", (0.0, 0.0, 0.0))
    yield server
    server.stop()


@pytest.fixture
def prediction(tmp_path: Path) -> Path:
    path = tmp_path / "run" / "submission.csv"
    path.parent.mkdir()
    path.write_bytes(b"PassengerId,Survived\n4,0\n5,1\n")
    return path


def test_download_unzips_nested_tables_once_and_force_refreshes(fake: FakeKaggle, tmp_path: Path) -> None:
    root = tmp_path / "data" / "competitions"
    folder = download_competition("titanic", root=root)

    assert folder == root / "titanic"
    assert (folder / "train.csv").read_bytes() == TRAIN
    assert (folder / "test.csv").read_bytes() == TEST
    assert not list(folder.rglob("*.zip"))
    marker = json.loads((folder / MARKER).read_text())
    assert marker["files"] == ["gender_submission.csv", "test.csv", "train.csv.zip"]
    assert not list(root.glob(".*partial"))
    assert fake.methods() == ["ListDataFiles", "DownloadDataFiles"]

    assert download_competition("titanic", root=root) == folder
    assert fake.methods().count("DownloadDataFiles") == 1, "a cached download must not touch the network"

    fake.competitions["titanic"].files["test.csv"] = TEST + b"6,2,male\n"
    download_competition("titanic", root=root, force=True)
    assert fake.methods().count("DownloadDataFiles") == 2
    assert (folder / "test.csv").read_bytes().endswith(b"6,2,male\n")


def test_interrupted_download_is_redone(fake: FakeKaggle, tmp_path: Path) -> None:
    root = tmp_path / "competitions"
    fake.fail("DownloadDataFiles", 500)
    with pytest.raises(KaggleError, match="server error"):
        download_competition("titanic", root=root)
    assert not (root / "titanic").exists()

    (root / ".titanic.partial").mkdir()  # what a killed process leaves behind
    (root / ".titanic.partial" / "titanic.zip").write_bytes(b"PK\x03\x04trunc")
    folder = download_competition("titanic", root=root)
    assert (folder / "train.csv").read_bytes() == TRAIN
    assert not (root / ".titanic.partial").exists()


def test_download_refuses_to_overwrite_files_it_did_not_download(fake: FakeKaggle, tmp_path: Path) -> None:
    (tmp_path / "titanic").mkdir()
    (tmp_path / "titanic" / "mine.csv").write_text("a\n1\n")
    with pytest.raises(KaggleError, match="--force"):
        download_competition("titanic", root=tmp_path)
    assert fake.calls == []
    download_competition("titanic", root=tmp_path, force=True)
    assert not (tmp_path / "titanic" / "mine.csv").exists()


def test_download_descends_into_a_single_wrapping_folder(fake: FakeKaggle, tmp_path: Path) -> None:
    fake.add(FakeCompetition("wrapped", "Wrapped", files={"wrapped/train.csv": TRAIN, "wrapped/test.csv": TEST}))
    folder = download_competition("wrapped", root=tmp_path)
    assert folder == tmp_path / "wrapped" / "wrapped"
    assert (folder / "train.csv").is_file()


def test_competition_metadata_and_metric_mapping(fake: FakeKaggle) -> None:
    competition = get_competition("titanic")
    assert competition.title == "Titanic - Machine Learning from Disaster"
    assert competition.evaluation_metric == "Categorization Accuracy"
    assert competition.metric == "accuracy"
    assert competition.deadline is not None and competition.deadline.year == 2030
    assert competition.deadline.tzinfo is not None
    assert competition.max_daily_submissions == 5
    assert not competition.closed and not competition.kernels_only and competition.user_has_entered
    assert competition.upload_blocker() is None


def test_competition_found_through_the_listing_when_get_competition_is_missing(fake: FakeKaggle) -> None:
    fake.has_get_competition = False
    fake.competitions["titanic"].evaluation_metric = "Area Under Receiver Operating Characteristic Curve"
    competition = get_competition("titanic")
    assert competition.metric == "auc"
    assert fake.methods() == ["GetCompetition", "ListCompetitions"]


def test_unknown_metric_is_kept_raw_and_mapped_to_none(fake: FakeKaggle) -> None:
    fake.competitions["titanic"].evaluation_metric = "Mean Average Precision @ 5"
    competition = get_competition("titanic")
    assert competition.evaluation_metric == "Mean Average Precision @ 5"
    assert competition.metric is None


@pytest.mark.parametrize(
    ("kaggle_name", "ours"),
    [
        ("Categorization Accuracy", "accuracy"),
        ("CategorizationAccuracy", "accuracy"),
        ("Area Under Receiver Operating Characteristic Curve", "auc"),
        ("AUC", "auc"),
        ("Mean Columnwise Area Under Receiver Operating Characteristic Curve", "auc_mean_columnwise"),
        ("Log Loss", "logloss"),
        ("Multi Class Log Loss", "logloss_multiclass"),
        ("MulticlassLoss", "logloss_multiclass"),
        ("Root Mean Squared Error", "rmse"),
        ("Root Mean Squared Logarithmic Error", "rmsle"),
        ("RMSLE", "rmsle"),
        ("Mean Absolute Error", "mae"),
        ("Coefficient of Determination", "r2"),
        ("F1 Score", "f1"),
        ("Macro F1 Score", "f1_macro"),
        ("Micro-averaged F1", "f1_micro"),
        ("Quadratic Weighted Kappa", "qwk"),
        ("Matthews Correlation Coefficient", "mcc"),
        ("Mean Columnwise Root Mean Squared Error", "mcrmse"),
        ("Mean Columnwise Root Mean Squared Logarithmic Error", "mcrmsle"),
        ("Pearson Correlation Coefficient", "pearson"),
        ("Mean Columnwise Spearman's Correlation Coefficient", "spearman_mean_columnwise"),
        ("Classification Error", "top1_error"),
        ("rmse_log", "rmse_log"),
        ("Mean F Score", None),
        ("MAP@3", None),
        ("Dice Coefficient", None),
        ("", None),
        (None, None),
    ],
)
def test_map_kaggle_metric(kaggle_name: str | None, ours: str | None) -> None:
    assert map_kaggle_metric(kaggle_name) == ours


def test_submit_uploads_in_three_steps_and_polls_to_a_score(fake: FakeKaggle, prediction: Path) -> None:
    fake.polls_before_score = 2
    message = submission_message("20261112-0930", "n17", 0.80123, "accuracy")
    result = submit("titanic", prediction, message, poll_seconds=0.01, timeout=10)

    assert result.status == "COMPLETE"
    assert result.public_score == pytest.approx(0.78468)
    assert result.ref in fake.submissions
    assert "0.78468" in result.message
    submitted = fake.submissions[result.ref]
    assert submitted["content"] == prediction.read_bytes()
    assert submitted["description"] == "agent run 20261112-0930 node n17: CV accuracy 0.80123"
    methods = fake.methods()
    three_steps = ["StartSubmissionUpload", "PUT", "CreateSubmission"]
    assert methods[:6] == ["GetCompetition", "GetSubmissionLimits", *three_steps, "GetSubmission"]
    assert methods.count("GetSubmission") == 3
    start = next(body for method, body in fake.calls if method == "StartSubmissionUpload")
    assert start == {
        "competitionName": "titanic",
        "contentLength": prediction.stat().st_size,
        "lastModifiedEpochSeconds": int(prediction.stat().st_mtime),
        "fileName": "submission.csv",
    }
    assert prediction.exists(), "the submission stays in the run folder"


def test_listing_my_submissions(fake: FakeKaggle, prediction: Path) -> None:
    first = submit("titanic", prediction, "first", poll_seconds=0.01, timeout=10)
    fake.polls_before_score = 99
    second = submit("titanic", prediction, "second", poll_seconds=0.01, timeout=0.05)
    assert second.status == "PENDING" and second.public_score is None
    assert "agent submissions titanic" in second.message

    rows = list_submissions("titanic")
    assert [row.ref for row in rows] == [second.ref, first.ref]
    assert [row.description for row in rows] == ["second", "first"]
    assert rows[1].status == "COMPLETE" and rows[1].public_score == pytest.approx(0.78468)
    assert rows[1].private_score is None
    assert rows[0].status == "PENDING" and rows[0].public_score is None
    assert rows[0].date is not None


def test_scoring_error_is_reported_not_raised(fake: FakeKaggle, prediction: Path) -> None:
    fake.scoring_error = "Submission must have 418 rows"
    result = submit("titanic", prediction, "m", poll_seconds=0.01, timeout=10)
    assert result.status == "ERROR"
    assert result.public_score is None
    assert "418 rows" in result.message


def test_silently_failing_upload_is_detected(fake: FakeKaggle, prediction: Path) -> None:
    fake.upload_status = 500
    with pytest.raises(KaggleError, match="upload of submission.csv to titanic failed") as caught:
        submit("titanic", prediction, "m", poll_seconds=0.01, timeout=10)
    assert "agent submit" in str(caught.value)
    assert "CreateSubmission" not in fake.methods()
    assert fake.submissions == {}
    assert prediction.exists()


def test_daily_limit_stops_before_uploading(fake: FakeKaggle, prediction: Path) -> None:
    fake.competitions["titanic"].submitted_today = 5
    with pytest.raises(KaggleError, match=r"daily submission limit of titanic is reached \(5 of 5 today\)"):
        submit("titanic", prediction, "m")
    assert "StartSubmissionUpload" not in fake.methods()


def test_not_joined_competition_points_to_the_rules(fake: FakeKaggle, prediction: Path) -> None:
    fake.competitions["titanic"].user_has_entered = False
    with pytest.raises(KaggleError, match="kaggle.com/competitions/titanic/rules"):
        submit("titanic", prediction, "m")
    assert "StartSubmissionUpload" not in fake.methods()


def test_code_competition_is_explained_before_uploading(fake: FakeKaggle, prediction: Path) -> None:
    fake.competitions["titanic"].kernels_only = True
    assert "code competition" in (get_competition("titanic").upload_blocker() or "")
    with pytest.raises(KaggleError, match="code competition.*notebook"):
        submit("titanic", prediction, "m")
    assert "GetSubmissionLimits" not in fake.methods()


def test_disabled_submissions_stop_before_uploading(fake: FakeKaggle, prediction: Path) -> None:
    fake.competitions["titanic"].submissions_disabled = True
    with pytest.raises(KaggleError, match="does not accept submissions"):
        submit("titanic", prediction, "m")
    assert "StartSubmissionUpload" not in fake.methods()


def test_late_submission_is_sent_with_a_warning(
    fake: FakeKaggle, prediction: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.competitions["titanic"].deadline = "2020-01-01T00:00:00Z"
    with caplog.at_level(logging.WARNING):
        result = submit("titanic", prediction, "m", poll_seconds=0.01, timeout=10)
    assert result.status == "COMPLETE"
    assert "late submission" in caplog.text


def test_invalid_file_is_refused_before_any_call(fake: FakeKaggle, tmp_path: Path) -> None:
    bad = tmp_path / "submission.csv"
    bad.write_text("PassengerId,Survived\n")
    with pytest.raises(InputError, match="no rows"):
        submit("titanic", bad, "m")
    assert fake.calls == []


def test_validate_against_the_sample_submission(tmp_path: Path) -> None:
    sample = tmp_path / "sample.csv"
    sample.write_bytes(SAMPLE)
    good = tmp_path / "good.csv"
    good.write_text("PassengerId,Survived\n5,1\n4,0\n")
    validate_submission_file(good, sample)

    cases = {
        "PassengerId,Target\n4,0\n5,1\n": "columns",
        "PassengerId,Survived\n4,0\n": "1 rows",
        "PassengerId,Survived\n4,0\n6,1\n": "ids",
        "PassengerId,Survived\n4,0\n5,\n": "missing values",
    }
    for content, problem in cases.items():
        good.write_text(content)
        with pytest.raises(InputError, match=problem):
            validate_submission_file(good, sample)
    with pytest.raises(InputError, match="no such submission file"):
        validate_submission_file(tmp_path / "absent.csv")

    # Rows named by a column other than the first (detecting-insults' Comment after the Insult).
    sample.write_text("Insult,Comment\n0,you fool\n0,nice one\n")
    good.write_text("Insult,Comment\n0.9,you fool\n0.1,nice one\n")
    validate_submission_file(good, sample, id_column="Comment")
    with pytest.raises(InputError, match="ids in column 'Insult'"):
        validate_submission_file(good, sample)


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [
        ("GetCompetition", 401, r"rejected the credentials \(HTTP 401\).*kaggle\.json"),
        ("ListDataFiles", 403, r"accept the competition rules at https://www\.kaggle\.com/competitions/titanic/rules"),
        ("GetCompetition", 404, r"no Kaggle competition named 'titanic' \(HTTP 404\)"),
        ("GetCompetition", 503, r"server error \(HTTP 503\)"),
        ("GetCompetition", 400, r"HTTP 400 while trying to read the details of titanic: injected HTTP 400"),
    ],
)
@pytest.mark.parametrize("in_body", [False, True], ids=["status", "json-code"])
def test_http_errors_become_one_line_messages(
    fake: FakeKaggle, tmp_path: Path, method: str, status: int, expected: str, in_body: bool
) -> None:
    fake.errors_in_body = in_body
    if status == 404:
        fake.has_get_competition = True
        fake.fail("ListCompetitions", 404)
    fake.fail(method, status)
    action = get_competition if method == "GetCompetition" else (lambda slug: download_competition(slug, tmp_path))
    with pytest.raises(KaggleError, match=expected) as caught:
        action("titanic")
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("kaggle: ")


def test_unknown_competition(fake: FakeKaggle) -> None:
    with pytest.raises(KaggleError, match="no Kaggle competition named 'no-such-thing'"):
        get_competition("no-such-thing")


def test_wrong_key_is_a_401_message(fake: FakeKaggle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGGLE_KEY", "wrong")
    with pytest.raises(KaggleError, match="HTTP 401"):
        get_competition("titanic")


def test_rate_limit_is_retried_then_succeeds(fake: FakeKaggle) -> None:
    fake.fail("GetCompetition", 429, 429)
    assert get_competition("titanic").metric == "accuracy"
    assert fake.methods().count("GetCompetition") == 3


def test_rate_limit_stops_after_the_back_off(fake: FakeKaggle, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.retry_after = "0"
    fake.fail("GetCompetition", *[429] * 10)
    with pytest.raises(KaggleError, match=r"rate-limiting.*stopped after 4 tries"):
        get_competition("titanic")
    assert fake.methods().count("GetCompetition") == 4


def test_network_down(fake: FakeKaggle, tmp_path: Path) -> None:
    fake.stop()
    with pytest.raises(KaggleError, match=r"cannot reach 127\.0\.0\.1:\d+ to .*network"):
        get_competition("titanic")
    with pytest.raises(KaggleError, match="cannot reach"):
        download_competition("titanic", root=tmp_path)


def test_missing_credentials_say_where_to_put_them(fake: FakeKaggle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    with pytest.raises(KaggleError) as caught:
        get_competition("titanic")
    message = str(caught.value)
    assert "no Kaggle credentials found" in message
    assert "~/.kaggle/kaggle.json" in message and "KAGGLE_USERNAME" in message and "KAGGLE_API_TOKEN" in message
    assert "\n" not in message
    assert fake.calls == []


def test_credentials_from_kaggle_json(fake: FakeKaggle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    config = tmp_path / "kaggle-config"
    config.mkdir()
    (config / "kaggle.json").write_text(json.dumps({"username": fake.username, "key": fake.key}))
    (config / "kaggle.json").chmod(0o600)
    assert get_competition("titanic").metric == "accuracy"

    (config / "kaggle.json").write_text("{not json")
    with pytest.raises(KaggleError, match="kaggle.json is not valid JSON"):
        get_competition("titanic")


def test_credentials_from_api_token(fake: FakeKaggle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    monkeypatch.setenv("KAGGLE_API_TOKEN", fake.token)
    assert get_competition("titanic").title.startswith("Titanic")
    assert "IntrospectToken" in fake.methods()

    monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT_revoked")
    with pytest.raises(KaggleError, match="did not accept the credentials from KAGGLE_API_TOKEN"):
        get_competition("titanic")


def test_credentials_never_appear_in_output_or_files(
    fake: FakeKaggle, prediction: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        download_competition("titanic", root=tmp_path / "data")
        submit("titanic", prediction, "m", poll_seconds=0.01, timeout=10)
        fake.upload_status = 500
        with pytest.raises(KaggleError):
            submit("titanic", prediction, "m", poll_seconds=0.01, timeout=10)
    out, err = capfd.readouterr()
    for text in (caplog.text, out, err):
        assert fake.key not in text
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert fake.key.encode() not in path.read_bytes()


def test_cli_download_and_submissions(fake: FakeKaggle, prediction: Path, tmp_path: Path, monkeypatch) -> None:
    from agent.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["download", "titanic"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "competitions" / "titanic" / "train.csv").is_file()
    assert runner.invoke(app, ["download", "titanic"]).exit_code == 0
    assert fake.methods().count("DownloadDataFiles") == 1
    assert runner.invoke(app, ["download", "titanic", "--force"]).exit_code == 0
    assert fake.methods().count("DownloadDataFiles") == 2

    submit("titanic", prediction, "agent run r1 node n2: CV accuracy 0.8", poll_seconds=0.01, timeout=10)
    result = runner.invoke(app, ["submissions", "titanic"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "agent run r1 node n2" in result.output and "0.78468" in result.output and "COMPLETE" in result.output

    fake.fail("ListSubmissions", 403)
    result = runner.invoke(app, ["submissions", "titanic"])
    assert result.exit_code == 2
    assert "rules" in result.output


def test_without_the_endpoint_variable_the_client_talks_to_kaggle(
    fake: FakeKaggle, monkeypatch: pytest.MonkeyPatch, only_localhost: list[str]
) -> None:
    monkeypatch.delenv("AGENT_KAGGLE_ENDPOINT")
    with pytest.raises(KaggleError, match="cannot reach api.kaggle.com"):
        get_competition("titanic")
    assert set(only_localhost) == {"api.kaggle.com"}
    only_localhost.clear()  # the guard refused it, as intended


def test_endpoint_must_be_a_base_url(fake: FakeKaggle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_KAGGLE_ENDPOINT", "127.0.0.1:8765")
    with pytest.raises(KaggleError, match="AGENT_KAGGLE_ENDPOINT.*not a base URL"):
        get_competition("titanic")


def test_damaged_archive_is_reported_and_nothing_is_cached(fake: FakeKaggle, tmp_path: Path) -> None:
    fake.add(FakeCompetition("broken", "Broken", files={"train.csv.zip": b"not a zip at all"}))
    with pytest.raises(KaggleError, match="damaged; run the download again"):
        download_competition("broken", root=tmp_path)
    assert not (tmp_path / "broken").exists()
    assert not (tmp_path / ".broken.partial").exists()
