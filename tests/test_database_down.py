"""The database stops answering mid-session: the widget says to try again, the API says 503,
and once it is back the visitor carries on with everything saved before."""

from __future__ import annotations

from pathlib import Path

from app import create_app
from app.embedded_db import start_embedded_mongo
from app.flows.repository import save_organization
from app.settings import load_settings
from app.web.protocol import KEY_HEADER
from app.web.services import services_of
from tests.conftest import demo_config
from tests.visitor import Visitor, quart_sender


async def test_a_database_outage_mid_session_asks_to_try_again_and_loses_nothing(tmp_path: Path) -> None:
    mongo = start_embedded_mongo(tmp_path / "mongo")
    port = mongo.port
    uri = f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=400"
    app = create_app(load_settings(environment="test", mongodb_uri=uri, mongodb_database="outage"))
    try:
        async with app.test_app():
            await save_organization(services_of(app).db, demo_config())
            client = app.test_client()
            visitor = Visitor(quart_sender(client))
            await visitor.start()
            assert (await visitor.submit("ZipCode", zip_code="78701")).step == "ServiceSelection"

            mongo.stop()
            page = await visitor.submit("ServiceSelection", answer="plumbing")
            assert page.status == 503 and page.step == "Problem"
            assert page.notice == "We can't reach our booking system right now. Please try again in a minute."
            assert ">Try again<" in page.text and page.headers["retry-after"] == "30"
            response = await client.get(  # the organization is cached; the calendar is read
                "/scheduler/month-availability?month=2030-06", headers={KEY_HEADER: "pk_test_demo", "Origin": "http://localhost:8000"}
            )
            assert response.status_code == 503 and (await response.get_json())["error"] == "service_unavailable"
            assert (await client.get("/readyz")).status_code == 503

            mongo = start_embedded_mongo(tmp_path / "mongo", port=port)
            page = await visitor.current()
            assert page.status == 200 and page.step == "ServiceSelection"
            assert (await visitor.submit("ServiceSelection", answer="plumbing")).status == 200
            await visitor.back()
            assert (await visitor.back()).value_of("zip_code") == "78701"
    finally:
        mongo.stop()
