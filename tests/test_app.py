"""The application factory, its settings and the health checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import create_app
from app.clock import clock_starting_at
from app.embedded_db import free_port
from app.settings import ConfigurationError, load_settings


async def test_healthz_and_readyz(client) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/healthz")).status_code == 200
    response = await client.get("/readyz")
    assert response.status_code == 200 and (await response.get_json())["status"] == "ready"


async def test_healthz_is_answered_before_any_hook_or_the_database(app) -> None:  # type: ignore[no-untyped-def]
    @app.before_request
    async def busy() -> None:
        raise RuntimeError("every other request goes through the hooks")

    client = app.test_client()
    response = await client.get("/healthz")
    assert response.status_code == 200 and await response.get_json() == {"status": "ok"}
    assert (await client.head("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 500


async def test_readyz_fails_while_the_database_is_down() -> None:
    settings = load_settings(environment="test", mongodb_uri=f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=300")
    app = create_app(settings)
    async with app.test_app():
        client = app.test_client()
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert (await response.get_json())["reason"] == "the database does not answer"


def test_bad_settings_name_each_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSION_TTL_MINUTES", "1")
    monkeypatch.setenv("PUBLIC_BASE_URL", "ftp://nope/")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert "SESSION_TTL_MINUTES" in message and "PUBLIC_BASE_URL" in message


def test_missing_database_setting_is_explained() -> None:
    with pytest.raises(ConfigurationError, match="MONGODB_URI is not set"):
        load_settings(mongodb_uri=None).require_database()


def test_a_chosen_clock_is_honoured_only_in_tests() -> None:
    """TEST_CLOCK_START lets a test's server agree on "now"; no other process may be given a time."""
    for environment in ("development", "production"):
        with pytest.raises(ConfigurationError, match="TEST_CLOCK_START is honoured only when ENVIRONMENT=test"):
            load_settings(environment=environment, test_clock_start="2027-06-09T13:30:00-05:00")
    with pytest.raises(ConfigurationError, match="TEST_CLOCK_START: .*UTC offset"):
        load_settings(environment="test", test_clock_start="2027-06-09T13:30:00")
    start = load_settings(environment="test", test_clock_start="2027-06-09T13:30:00-05:00").test_clock_start
    clock = clock_starting_at(start)
    assert start is not None and timedelta(0) <= clock() - start < timedelta(seconds=5)


async def test_demo_page_is_served(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/")
    text = await response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="book-now"' in text and 'data-key="pk_test_demo"' in text
    assert '<script src="/cdn/scheduler.js" data-key="pk_test_demo" async></script>' in text

