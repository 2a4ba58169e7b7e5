"""Webhooks for the company's own systems: an owner adds an endpoint in the console; each
booking and lead event reaches a real receiver that verifies the Standard Webhooks
signature with the library; failures are retried (nothing lost, never doubled); three
days of failures disable the endpoint and email the owners; secrets rotate without a
message the receiver can't verify; private and own addresses are refused."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from quart import Quart

from app.bookings.notices import mail_templates
from app.db import Database
from app.demo.mailbox import Mailbox
from app.flows.models import OrganizationConfig
from app.web.services import services_of
from app.webhooks.alerts import DisabledAlert
from app.webhooks.deliveries import WebhookDrainer
from tests.conftest import demo_config
from tests.test_console import OWNER, page, sign_in
from tests.visitor import Visitor, quart_sender
from tests.webhook_receiver import Receiver

STAFF = "staff@demo-plumbing.example"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def allow_private() -> bool:
    return True


@pytest.fixture
def settings_overrides(mailbox: Mailbox, allow_private: bool) -> dict[str, object]:
    return {"smtp_url": mailbox.url, "mail_poll_seconds": 0.2, "webhook_poll_seconds": 0.2, "webhook_allow_private": allow_private}


@pytest.fixture
def organization() -> OrganizationConfig:
    data = demo_config().model_dump()
    data["people"] = [{"email": OWNER, "role": "owner", "notify": []}, {"email": STAFF, "role": "staff"}]
    return OrganizationConfig.model_validate(data)


async def add_endpoint(client, receiver: Receiver, events: list[str] | None = None) -> str:  # type: ignore[no-untyped-def]
    """Add the receiver as an endpoint in the console; its path. The receiver learns the secret."""
    chosen = events or ["booking.created", "booking.confirmed", "booking.cancelled", "lead.created"]
    form = urlencode([("url", receiver.hook_url), ("description", "The CRM"), *[("events", e) for e in chosen]])
    response = await client.post("/console/webhooks", data=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 303, await response.get_data(as_text=True)
    path = response.headers["Location"].split("?")[0]
    _, shown = await page(client, path)
    receiver.secrets = re.findall(r"(whsec_[A-Za-z0-9+/=]+)", shown)
    assert len(receiver.secrets) == 1
    return path


async def arrived(receiver: Receiver, count: int, seconds: float = 10.0) -> list[dict]:  # type: ignore[type-arg]
    for _ in range(int(seconds / 0.05)):
        if len(receiver.accepted) >= count:
            break
        await asyncio.sleep(0.05)
    return receiver.accepted


def drainer(app: Quart, **changes: object) -> WebhookDrainer:
    services = services_of(app)
    return WebhookDrainer(services.db, services.clock, 60, True, **changes)  # type: ignore[arg-type]


async def test_bookings_and_leads_reach_the_companys_system_signed(app: Quart, client, mailbox: Mailbox, receiver: Receiver, visitor: Visitor, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client, mailbox)
    path = await add_endpoint(client, receiver)
    assert (await client.post(path + "/test")).status_code == 303
    [test] = await arrived(receiver, 1)
    assert test["payload"]["type"] == "webhook.test" and test["id"].startswith("msg_")

    await visitor.walk_to("Summary", today)
    assert (await visitor.submit("Summary")).step == "Confirmation"
    await visitor.submit("Summary")  # a second confirm (double click): no second event
    messages = await arrived(receiver, 3)
    kinds = sorted(m["payload"]["type"] for m in messages[1:])
    assert kinds == ["booking.confirmed", "booking.created"]
    data = messages[1]["payload"]["data"]
    booking = await db.bookings.find_one({})
    assert data["reference"] == booking["_id"] and data["customer"]["last_name"] == "Lovelace"
    assert data["window"]["date"] == booking["date"] and data["service"]["name"] == "Leak repair"
    assert receiver.refused == []

    other = Visitor(quart_sender(client))
    await other.start()
    await other.submit("ZipCode", zip_code="10001")
    await other.submit("ZipCode", intent="lead", lead_phone="(512) 555-0111", lead_email="")
    lead = (await arrived(receiver, 4))[3]["payload"]
    assert lead["type"] == "lead.created" and lead["data"]["phone"] == "+15125550111"
    await asyncio.sleep(0.5)
    assert len(receiver.accepted) == 4  # each once

    status, shown = await page(client, path)
    assert status == 200 and shown.count("Delivered") >= 4 and "booking.created" in shown


async def test_a_failing_receiver_gets_each_message_again_until_it_answers(app: Quart, client, mailbox: Mailbox, receiver: Receiver, db: Database, time_travel) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client, mailbox)
    path = await add_endpoint(client, receiver)
    services_of(app).running.webhooks.stop()  # type: ignore[union-attr]  # this test drains by hand
    receiver.fail_next("/hooks", status=500, times=1)
    receiver.fail_next("/hooks", hang_seconds=3, times=1)
    await client.post(path + "/test")
    sender = drainer(app, timeout=0.5)
    assert await sender.drain_once() == 1  # 500
    assert await sender.drain_once() == 0  # backing off
    time_travel.shift(timedelta(seconds=6))
    assert await sender.drain_once() == 1  # no answer within 0.5 s
    time_travel.shift(timedelta(seconds=11))
    assert await sender.drain_once() == 1
    [message] = await arrived(receiver, 1)
    delivery = await db.webhook_deliveries.find_one({})
    assert delivery["state"] == "delivered" and delivery["attempts"] == 3 and message["id"] == delivery["_id"]
    tries = await db.webhook_attempts.find({}).sort("at", 1).to_list()
    assert [t["status"] for t in tries] == [500, None, 204] and "no answer" in tries[1]["error"]
    _, shown = await page(client, path)
    assert "Delivered" in shown and "3 tries" in shown

    # Resend: the same message, the same id.
    assert (await client.post(f"{path}/deliveries/{delivery['_id']}/resend")).status_code == 303
    assert await sender.drain_once() == 1
    assert [m["id"] for m in await arrived(receiver, 2)] == [delivery["_id"]] * 2
    await sender.close()


async def test_three_days_of_failure_disable_the_endpoint_and_tell_the_owners(app: Quart, client, mailbox: Mailbox, receiver: Receiver, db: Database, time_travel) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client, mailbox)
    path = await add_endpoint(client, receiver)
    services_of(app).running.webhooks.stop()  # type: ignore[union-attr]
    receiver.fail_next("/hooks", status=503, times=1000)
    await client.post(path + "/test")
    services = services_of(app)
    sender = drainer(app, on_disabled=DisabledAlert(db, mail_templates(), "http://scheduler.test", services.wake_mail))
    for _ in range(40):
        await sender.drain_once()
        time_travel.shift(timedelta(hours=3))
    delivery = await db.webhook_deliveries.find_one({})
    assert delivery["state"] == "failed" and "gave up" in delivery["last_error"]
    endpoint = await db.webhook_endpoints.find_one({})
    assert not endpoint["enabled"] and "failed for 3 days" in endpoint["disabled_reason"]
    found = [m for m in await mailbox.wait_for(2) if m.to == OWNER and m.subject.startswith("Webhook disabled")]
    assert len(found) == 1 and "/console/webhooks/" in found[0].text
    await sign_in(client, mailbox)  # days have passed: the console session has lapsed
    _, shown = await page(client, path)
    assert "Disabled" in shown and "Enable" in shown
    await sender.close()


async def test_a_rotated_secret_signs_with_both_for_a_day(app: Quart, client, mailbox: Mailbox, receiver: Receiver, time_travel) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client, mailbox)
    path = await add_endpoint(client, receiver)
    old = receiver.secrets[0]
    assert (await client.post(path + "/rotate")).status_code == 303
    _, shown = await page(client, path)
    [new] = [s for s in re.findall(r"(whsec_[A-Za-z0-9+/=]+)", shown) if s != old]
    await client.post(path + "/test")
    [first] = await arrived(receiver, 1)  # the receiver still has only the old secret: verified
    assert first["signatures"] == 2
    receiver.secrets = [new]
    time_travel.shift(timedelta(hours=25))
    await client.post(path + "/test")
    second = (await arrived(receiver, 2))[1]
    assert second["signatures"] == 1 and receiver.refused == []


@pytest.mark.parametrize("allow_private", [False])
async def test_private_and_own_addresses_and_strangers_are_refused(app: Quart, client, mailbox: Mailbox, db: Database, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client, mailbox)
    for url, says in (
        (receiver.hook_url, "https://"), ("https://127.0.0.1/hooks", "private"), ("https://localhost:8443/x", "private"),
        ("https://10.1.2.3/", "private"), ("https://169.254.169.254/latest/meta-data", "private"), ("https://[::1]/", "private"),
        ("https://[::ffff:192.168.0.1]/", "private"), ("javascript:alert(1)", "https://"), ("https://user:pw@8.8.8.8/", "credentials"),
        ("", "full https://"), ("https://" + "a" * 3000 + ".com", "full https://"), ("https://no-such-host.invalid/", "can't be found"),
        ("https://localhost:80/hooks", "this scheduler itself"),
    ):
        response = await client.post("/console/webhooks", form={"url": url, "events": "booking.created"})
        text = await response.get_data(as_text=True)
        assert response.status_code == 422 and says in text.replace("&#39;", "'"), (url, text[-600:])
    response = await client.post("/console/webhooks", form={"url": "https://8.8.8.8/hook", "events": "$where"})
    assert response.status_code == 422 and "at least one event" in await response.get_data(as_text=True)
    assert await db.webhook_endpoints.count_documents({}) == 0

    # Staff don't manage webhooks; nobody reaches another company's endpoint.
    await db.webhook_endpoints.insert_one({"_id": "ep_other", "organization_id": "other-co", "url": "https://8.8.8.8/", "events": ["booking.created"], "secret": "whsec_AAAA", "created_at": None})
    assert (await client.get("/console/webhooks/ep_other")).status_code == 404
    assert (await client.post("/console/webhooks/ep_other/rotate")).status_code == 404
    await client.post("/console/sign-out")
    await sign_in(client, mailbox, STAFF)
    assert (await client.get("/console/webhooks")).status_code == 403
    assert "Webhooks" not in (await page(client, "/console/bookings"))[1]


async def test_a_booking_the_office_marks_handled_is_confirmed_to_the_companys_system(client, mailbox: Mailbox, receiver: Receiver, db: Database) -> None:  # type: ignore[no-untyped-def]
    from tests.test_console import booking, store

    await sign_in(client, mailbox)
    await add_endpoint(client, receiver, events=["booking.confirmed"])
    await store(db, booking("WB-HANDLD", status="needs_attention"))
    assert (await client.post("/console/bookings/WB-HANDLD/handled", form={"note": "Booked by phone"})).status_code == 303
    [message] = await arrived(receiver, 1)
    assert message["payload"]["type"] == "booking.confirmed" and message["payload"]["data"]["reference"] == "WB-HANDLD"
    assert message["payload"]["data"]["status"] == "confirmed"


async def test_events_about_one_booking_are_stored_once_per_endpoint_however_often_emitted(db: Database, instant) -> None:  # type: ignore[no-untyped-def]
    """Created and confirmed go out together (one read of the endpoints, one write); each
    endpoint gets only what it asked for; emitting again (a retried confirm) stores nothing."""
    from app.webhooks import deliveries
    from app.webhooks.endpoints import create_endpoint

    everything = await create_endpoint(db, "demo-plumbing", "http://127.0.0.1:9/a", ["booking.created", "booking.confirmed"],
                                       "", OWNER, instant, allow_private=True)
    confirmed_only = await create_endpoint(db, "demo-plumbing", "http://127.0.0.1:9/b", ["booking.confirmed"],
                                           "", OWNER, instant, allow_private=True)
    events = ["booking.created", "booking.confirmed"]
    assert await deliveries.emit(db, "demo-plumbing", events, {"reference": "WB-2345AB"}, "WB-2345AB:1", instant) == 3
    assert await deliveries.emit(db, "demo-plumbing", events, {"reference": "WB-2345AB"}, "WB-2345AB:1", instant) == 0
    stored = sorted([(d["endpoint_id"], d["event_type"]) async for d in db.webhook_deliveries.find({})])
    assert stored == sorted([(everything.id, "booking.created"), (everything.id, "booking.confirmed"), (confirmed_only.id, "booking.confirmed")])
    # The booking's next version is news again.
    assert await deliveries.emit(db, "demo-plumbing", ["booking.confirmed"], {"reference": "WB-2345AB"}, "WB-2345AB:2", instant) == 2
    assert await deliveries.emit(db, "other-company", events, {}, "WB-2345AB:1", instant) == 0
