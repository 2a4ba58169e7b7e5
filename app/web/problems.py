"""The one HTTP problem type: a request the server answers with an error status.

Raised anywhere in `web/` and `api/`; the step routes turn it into an error fragment
(with "Start again" or "Try again"), the JSON API into `{"error": code, "message": …}`.
"""

from __future__ import annotations


class HttpProblem(Exception):
    """`status` (401, 403, 404, 409, 410, 422, 429, 503…), a stable `code` for programs and
    a `message` for people; `retry_after` seconds when trying again later will help."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
