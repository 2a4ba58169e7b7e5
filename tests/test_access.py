"""Who may use the widget: publishable keys, allowed origins, session tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.db import Database
from app.flows.repository import save_organization
from app.web.origins import origin_allowed
from tests.conftest import demo_config
from tests.visitor import Visitor, quart_sender


async def test_unknown_key_gets_401_fragment(client) -> None:  # type: ignore[no-untyped-def]
    page = await Visitor(quart_sender(client), key="pk_nobody_here").start()
    assert page.status == 401 and page.step == "Problem" and page.contains("This publishable key is not known.")


async def test_missing_key_gets_401(client) -> None:  # type: ignore[no-untyped-def]
    page = await Visitor(quart_sender(client), key="").start()
    assert page.status == 401 and 'data-problem="missing_key"' in page.text


async def test_foreign_origin_gets_403_without_cors_headers(client) -> None:  # type: ignore[no-untyped-def]
    page = await Visitor(quart_sender(client), origin="https://evil.example").start()
    assert page.status == 403 and page.contains("may not be used from https://evil.example")
    assert "access-control-allow-origin" not in page.headers


async def test_errors_to_an_allowed_origin_carry_cors_headers(client) -> None:  # type: ignore[no-untyped-def]
    visitor = Visitor(quart_sender(client), origin="http://localhost:8000")
    visitor.token = "expired-or-unknown"
    page = await visitor.submit("ZipCode", zip_code="78701")
    assert page.status == 410 and page.headers["access-control-allow-origin"] == "http://localhost:8000"


async def test_preflight_from_an_origin_no_organization_allows_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.options(
        "/sessions", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 403 and "Access-Control-Allow-Origin" not in response.headers


async def test_allowed_origin_gets_cors_headers(client) -> None:  # type: ignore[no-untyped-def]
    page = await Visitor(quart_sender(client), origin="http://localhost:8000").start()
    assert page.status == 200
    assert page.headers["access-control-allow-origin"] == "http://localhost:8000"
    assert "X-Scheduler-Session" in page.headers["access-control-expose-headers"]


async def test_preflight_lists_the_headers_htmx_sends(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.options(
        "/session/steps/ZipCode",
        headers={"Origin": "http://localhost:8000", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:8000"
    allowed = response.headers["Access-Control-Allow-Headers"]
    for header in ("HX-Request", "HX-Current-URL", "HX-Target", "X-Scheduler-Key", "X-Scheduler-Session"):
        assert header in allowed


async def test_step_without_token_asks_to_start_again(visitor: Visitor) -> None:
    page = await visitor.submit("ZipCode", zip_code="78701")
    assert page.status == 401 and "data-wrkbelt-restart" in page.text


async def test_unknown_token_is_treated_as_expired(visitor: Visitor) -> None:
    visitor.token = "not-a-real-token"
    page = await visitor.submit("ZipCode", zip_code="78701")
    assert page.status == 410 and page.contains("This booking session has expired.")


async def test_expired_session_cannot_continue(visitor: Visitor, db: Database, instant: datetime) -> None:
    await visitor.start()
    doc = await db.sessions.find_one({})
    doc["expires_at"] = instant - timedelta(seconds=1)
    await db.sessions.replace_one({"_id": doc["_id"]}, doc)
    page = await visitor.submit("ZipCode", zip_code="78701")
    assert page.status == 410 and "data-wrkbelt-restart" in page.text


async def test_token_of_another_organization_is_refused(visitor: Visitor, db: Database, client) -> None:  # type: ignore[no-untyped-def]
    other = demo_config().model_dump()
    other.update(slug="other-co", name="Other Co", publishable_key="pk_test_other")
    from app.flows.models import OrganizationConfig

    await save_organization(db, OrganizationConfig.model_validate(other))
    await visitor.start()
    visitor.key = "pk_test_other"
    page = await visitor.submit("ZipCode", zip_code="78701")
    assert page.status == 403 and page.contains("belongs to another company")


async def test_only_the_token_hash_is_stored(visitor: Visitor, db: Database) -> None:
    await visitor.start()
    doc = await db.sessions.find_one({})
    assert visitor.token not in str(doc)


async def test_oversized_body_gets_413(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/sessions", data=b"page_url=" + b"x" * 70_000, headers={"X-Scheduler-Key": "pk_test_demo", "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:8000", True),
        ("http://127.0.0.1:5000", True),
        ("https://localhost:8000", False),
        ("https://shop.acme.com", True),
        ("https://acme.com", False),
        ("https://shop.acme.com.evil.net", False),
        ("https://www.plumber.test", True),
        ("https://www.plumber.test:8443", False),
        ("null", False),
    ],
)
def test_origin_patterns(origin: str, allowed: bool) -> None:
    patterns = ["http://localhost:*", "http://127.0.0.1:*", "https://*.acme.com", "https://www.plumber.test"]
    assert origin_allowed(origin, patterns) is allowed
