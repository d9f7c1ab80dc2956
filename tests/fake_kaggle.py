"""A fake Kaggle API server on 127.0.0.1 that speaks the wire format of the real `kaggle` client.

The shapes follow kagglesdk 0.1.x: every call is `POST /api/v1/<Service>/<Method>` with a
camelCase JSON body, fields left at their default omitted, enums by name, datetimes as ISO
strings with a Z. Downloads answer 302 to a file URL this server also serves; a submission is
`StartSubmissionUpload` -> `PUT createUrl` -> `CreateSubmission`. Errors are JSON bodies
`{"code": ..., "message": ...}` with the same HTTP status.

Knobs for tests: `fail(method, *statuses)` answers the next calls of a method with those
statuses; `upload_status` makes the PUT fail; `polls_before_score`, `public_score` and
`scoring_error` script the scoring; `has_get_competition=False` behaves like a server that
only offers the listing. `calls` records every (method, body) received.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SERVICE = "competitions.CompetitionApiService"


@dataclass
class FakeCompetition:
    slug: str
    title: str
    files: dict[str, bytes]  # the members of the competition's zip, as Kaggle lists them
    evaluation_metric: str | None = "Categorization Accuracy"
    deadline: str = "2030-01-01T23:59:00Z"
    max_daily_submissions: int = 5
    submissions_disabled: bool = False
    kernels_only: bool = False
    user_has_entered: bool = True
    submitted_today: int = 0

    def as_api(self) -> dict[str, Any]:
        """ApiCompetition as JSON, defaults (0, false, empty) left out as the real server does."""
        fields = {
            "ref": f"https://www.kaggle.com/competitions/{self.slug}",
            "title": self.title,
            "url": f"https://www.kaggle.com/competitions/{self.slug}",
            "category": "Getting Started",
            "reward": "Knowledge",
            "deadline": self.deadline,
            "teamCount": 1234,
            "evaluationMetric": self.evaluation_metric,
            "maxDailySubmissions": self.max_daily_submissions,
            "userHasEntered": self.user_has_entered,
            "submissionsDisabled": self.submissions_disabled,
            "isKernelsSubmissionsOnly": self.kernels_only,
        }
        return {name: value for name, value in fields.items() if value not in (None, 0, False, "")}

    def archive(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
            for name, content in self.files.items():
                zipped.writestr(name, content)
        return buffer.getvalue()


@dataclass
class FakeKaggle:
    username: str = "alice"
    key: str = "fake-key-0123456789"
    token: str = "KGAT_fake_token_0123456789"
    competitions: dict[str, FakeCompetition] = field(default_factory=dict)
    has_get_competition: bool = True
    upload_status: int = 200
    polls_before_score: int = 1
    public_score: str = "0.78468"
    scoring_error: str | None = None
    retry_after: str | None = None  # Retry-After header sent with injected 429s
    errors_in_body: bool = False  # answer injected errors with HTTP 200 and the code in the JSON body
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    submissions: dict[int, dict[str, Any]] = field(default_factory=dict)
    _failures: dict[str, list[int]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, competition: FakeCompetition) -> FakeCompetition:
        self.competitions[competition.slug] = competition
        return competition

    def fail(self, method: str, *statuses: int) -> None:
        """Answer the next len(statuses) calls of `method` with these HTTP statuses."""
        self._failures.setdefault(method, []).extend(statuses)

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- the API -----------------------------------------------------------------------------

    def handle(self, method: str, body: dict[str, Any], authorization: str | None) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append((method, body))
            queued = self._failures.get(method)
            if queued:
                status = queued.pop(0)
                return status, {"code": status, "message": f"injected HTTP {status}"}
        if method == "IntrospectToken":
            return 200, ({"active": True, "username": self.username} if body.get("token") == self.token else {})
        if not self._authorized(authorization):
            return 401, {"code": 401, "message": "Unauthenticated"}
        handler = getattr(self, f"_{method}", None)
        if handler is None or (method == "GetCompetition" and not self.has_get_competition):
            return 404, {"code": 404, "message": f"no method {method}"}
        slug = body.get("competitionName")
        if slug is not None and slug not in self.competitions:
            return 404, {"code": 404, "message": "Competition not found"}
        with self._lock:
            return handler(body)

    def _authorized(self, authorization: str | None) -> bool:
        basic = base64.b64encode(f"{self.username}:{self.key}".encode()).decode()
        return authorization in (f"Basic {basic}", f"Bearer {self.token}")

    def _GetCompetition(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, self.competitions[body["competitionName"]].as_api()

    def _ListCompetitions(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        search = body.get("search", "")
        found = [c.as_api() for slug, c in self.competitions.items() if search in slug]
        return 200, {"competitions": found}

    def _ListDataFiles(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        competition = self.competitions[body["competitionName"]]
        names = sorted(competition.files)
        start = int(body.get("pageToken") or 0)
        size = int(body.get("pageSize") or 20)
        page = [
            {"name": name, "totalBytes": len(competition.files[name]), "creationDate": "2026-01-05T10:00:00.000Z"}
            for name in names[start : start + size]
        ]
        answer: dict[str, Any] = {"files": page}
        if start + size < len(names):
            answer["nextPageToken"] = str(start + size)
        return 200, answer

    def _DownloadDataFiles(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 302, {"location": f"{self.url}/files/{body['competitionName']}.zip"}

    def _GetSubmissionLimits(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        competition = self.competitions[body["competitionName"]]
        if not competition.user_has_entered:
            return 200, {}  # not on a team: every count is zero
        today = competition.submitted_today + sum(
            1 for s in self.submissions.values() if s["competition"] == competition.slug
        )
        limits = {
            "numToday": today,
            "numTotal": today,
            "numAllowedNow": max(0, competition.max_daily_submissions - today),
        }
        return 200, {name: value for name, value in limits.items() if value}

    def _StartSubmissionUpload(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        token = f"blob-{len(self.calls)}"
        return 200, {"token": token, "createUrl": f"{self.url}/upload/{token}"}

    def _CreateSubmission(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        token = body.get("blobFileTokens", "")
        if token not in self.uploads:
            return 400, {"code": 400, "message": f"unknown blob token {token!r}"}
        competition = self.competitions[body["competitionName"]]
        ref = 50_000 + len(self.submissions) + 1
        self.submissions[ref] = {
            "competition": competition.slug,
            "description": body.get("submissionDescription", ""),
            "content": self.uploads[token],
            "polls": 0,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
        return 200, {"message": f"Successfully submitted to {competition.title}", "ref": ref}

    def _GetSubmission(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        ref = int(body.get("ref", 0))
        if ref not in self.submissions:
            return 404, {"code": 404, "message": "Submission not found"}
        submission = self.submissions[ref]
        submission["polls"] += 1
        if submission["polls"] > self.polls_before_score and "outcome" not in submission:
            submission["outcome"] = (
                {"status": "ERROR", "errorDescription": self.scoring_error}
                if self.scoring_error
                else {"status": "COMPLETE", "publicScore": self.public_score, "privateScore": ""}
            )
        return 200, self._api_submission(ref)

    def _ListSubmissions(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        refs = [ref for ref, s in self.submissions.items() if s["competition"] == body["competitionName"]]
        return 200, {"submissions": [self._api_submission(ref) for ref in sorted(refs, reverse=True)]}

    def _api_submission(self, ref: int) -> dict[str, Any]:
        submission = self.submissions[ref]
        answer: dict[str, Any] = {
            "ref": ref,
            "date": submission["date"],
            "description": submission["description"],
            "fileName": "submission.csv",
            "submittedBy": self.username,
            "totalBytes": len(submission["content"]),
        }
        answer.update(submission.get("outcome", {}))
        return answer  # PENDING is the enum's default, so the wire leaves it out


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeKaggle
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["api", "v1"]:
            self._send_json(404, {"code": 404, "message": f"no route {self.path}"})
            return
        body = json.loads(self._read_body() or b"{}")
        status, answer = self.server_fake.handle(parts[3], body, self.headers.get("Authorization"))
        if status == 302:
            self.send_response(302)
            self.send_header("Location", answer["location"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if status >= 400 and self.server_fake.errors_in_body:
            status = 200
        self._send_json(status, answer)

    def do_GET(self) -> None:
        name = self.path.split("?")[0].removeprefix("/files/").removesuffix(".zip")
        competition = self.server_fake.competitions.get(name)
        if not self.path.startswith("/files/") or competition is None:
            self._send_json(404, {"code": 404, "message": "no such file"})
            return
        content = competition.archive()
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Last-Modified", formatdate(usegmt=True))
        self.end_headers()
        self.wfile.write(content)

    def do_PUT(self) -> None:
        token = self.path.removeprefix("/upload/")
        content = self._read_body()
        fake = self.server_fake
        with fake._lock:
            fake.calls.append(("PUT", {"token": token, "bytes": len(content)}))
            if fake.upload_status in (200, 201):
                fake.uploads[token] = content
        self.send_response(fake.upload_status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send_json(self, status: int, answer: dict[str, Any]) -> None:
        content = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        if status == 429 and self.server_fake.retry_after is not None:
            self.send_header("Retry-After", self.server_fake.retry_after)
        self.end_headers()
        self.wfile.write(content)
