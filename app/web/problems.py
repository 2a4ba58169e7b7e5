"""The one HTTP problem type: a request the server answers with an error status.

Raised anywhere in `web/` and `api/`; the step routes turn it into an error fragment
(with "Start again" or "Try again"), the JSON API into `{"error": code, "message": …}`.
"""

from __future__ import annotations

from app.i18n import N_

# Said by every route that finds the database away: what the visitor entered is kept.
DATABASE_PROBLEM = N_("We can't reach our booking system right now. Please try again in a minute.")


class HttpProblem(Exception):
    """`status` (401, 403, 404, 409, 410, 422, 429, 503…), a stable `code` for programs and
    a `message` for people; `retry_after` seconds when trying again later will help."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
