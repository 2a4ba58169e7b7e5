"""Input an adversary sent the JSON API and the company's page that answered 500:
dates at the end of the calendar, JSON nested past the parser's recursion limit. Each
is now a 4xx that names the problem."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.db import Database
from app.secret_keys import create_secret_key

KEY = {"X-Scheduler-Key": "pk_test_demo", "Origin": "http://localhost:8000"}
SECRET = "sk_test_hostile"


@pytest.fixture
async def secret(db: Database, instant: datetime) -> str:
    await create_secret_key(db, "demo-plumbing", instant, SECRET)
    return SECRET


@pytest.mark.parametrize("query", ["end=9999-12-31", "start=9999-12-31&end=9999-12-31", "start=0001-01-01", "start=0001-01-01&end=0001-01-02"])
async def test_funnel_dates_at_the_ends_of_the_calendar_are_a_422(client, secret: str, query: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/funnel?{query}", headers={"Authorization": f"Bearer {secret}"})
    body = await response.get_json()
    assert response.status_code == 422 and "out of range" in body["message"], body


DEEP = ["[" * 60_000, '{"k":' * 8000 + "1" + "}" * 8000, '{"url": ' + "[" * 5000 + "]" * 5000 + "}"]


@pytest.mark.parametrize("body", DEEP)
@pytest.mark.parametrize("path", ["/booking-flow-routers/resolve", "/bookings"])
async def test_deeply_nested_json_is_a_400(client, path: str, body: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(path, data=body, headers=KEY | {"Content-Type": "application/json"})
    answer = await response.get_json()
    assert response.status_code == 400 and answer["error"] == "invalid_json" and "nested" in answer["message"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=40,
)


def wrap(value: Any, depth: int) -> Any:
    for n in range(depth):
        value = [value] if n % 2 else {"$k\u0000": value}
    return value


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.dictionaries(st.text(max_size=12), json_values, max_size=5), depth=st.integers(0, 3000))
async def test_generated_bodies_never_get_a_500_at_the_json_api(client, body: dict[str, Any], depth: int) -> None:  # type: ignore[no-untyped-def]
    text = json.dumps(body | {"url": wrap(body.get("url", "https://plumber.test/"), depth)}) if depth < 400 else (
        '{"url": ' + "[" * depth + "]" * depth + "}"
    )
    for path in ("/booking-flow-routers/resolve", "/bookings"):
        response = await client.post(path, data=text, headers=KEY | {"Content-Type": "application/json"})
        assert response.status_code < 500, (path, response.status_code, await response.get_data(as_text=True))
        assert (await response.get_json())["error"] if response.status_code >= 400 else True
