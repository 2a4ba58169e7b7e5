"""What the event socket's and beacon's tests share: a visitor with a session, and its id."""

from __future__ import annotations

import pytest

from tests.visitor import Visitor, quart_sender

ORIGIN = {"Origin": "http://localhost:8000"}


@pytest.fixture
async def visitor(client) -> Visitor:  # type: ignore[no-untyped-def]
    """A visitor whose widget has opened a session (its first page in `visitor.page`)."""
    visitor = Visitor(quart_sender(client))
    visitor.page = await visitor.start()  # type: ignore[attr-defined]
    return visitor


def session_id(visitor: Visitor) -> str:
    return visitor.page.headers["x-scheduler-session-id"]  # type: ignore[attr-defined]
