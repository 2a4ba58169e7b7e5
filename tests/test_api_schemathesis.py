"""schemathesis generates requests from /openapi.json and sends them to a live server:
no answer is a 500 or shows a traceback, and the session used stays usable."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from app.secret_keys import create_secret_key
from app.web.protocol import KEY_HEADER, SESSION_HEADER
from tests.conftest import LiveServer

EXAMPLES_PER_OPERATION = 40
SECRET_KEY = "sk_test_schemathesis_0123456789"


@pytest.fixture(autouse=True)
def generous_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hundreds of generated requests in a minute from one address and one session.
    for name in ("SESSIONS_PER_IP", "STEPS_PER_SESSION", "STEPS_PER_IP", "CONFIRMS_PER_SESSION"):
        monkeypatch.setenv(f"RATE_LIMIT_{name}", "100000")


def generate_and_send(base_url: str, openapi: dict[str, Any], headers: dict[str, str]) -> list[str]:
    """Every operation, EXAMPLES_PER_OPERATION generated cases each; the problems found."""
    schema = schemathesis.openapi.from_dict(openapi)
    problems: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6, [op.label for op in operations]
    for operation in operations:

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def send(case: schemathesis.Case) -> None:
            # Valid credentials, so the generated query and body reach validation and beyond.
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            if response.status_code >= 500 or "Traceback" in response.text:
                problems.append(f"{case.method} {case.formatted_path} {case.query} {case.body!r} -> {response.status_code} {response.text[:200]}")

        send()
    return problems


async def test_generated_api_requests_never_get_a_500(live_server: LiveServer, instant: datetime) -> None:
    await create_secret_key(live_server.database, "demo-plumbing", instant, SECRET_KEY)
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        openapi = (await http.get("/openapi.json")).json()
        origin = {KEY_HEADER: "pk_test_demo", "Origin": "http://localhost:8000"}
        started = await http.post("/sessions", data={"page_url": "http://localhost:8000/"}, headers=origin)
        token = started.headers[SESSION_HEADER]
        headers = origin | {SESSION_HEADER: token, "Authorization": f"Bearer {SECRET_KEY}"}

        problems = await asyncio.to_thread(generate_and_send, live_server.url, openapi, headers)
        assert problems == []

        still = await http.get("/session/step", headers=origin | {SESSION_HEADER: token})
        assert still.status_code == 200 and 'data-step="' in still.text
