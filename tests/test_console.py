"""The company's console: its people sign in by a link emailed to them (the real SMTP
server of the tests), see their own organization's bookings only, filter, search and
export them, and act on a booking that needs attention.

Hostile input: forged, expired, reused and replayed links and cookies; another company's
references in every URL; cross-site form posts; redirects to other sites; search text
with regex and `$`; CSV cells that a spreadsheet would run as formulas.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from quart import Quart

from app.db import Database
from app.demo.mailbox import Mailbox
from app.domain.booking import Booking, ChosenService, ChosenWindow, Customer, VendorRecord
from app.flows.models import OrganizationConfig
from app.flows.repository import save_organization
from app.web.services import services_of
from tests.conftest import demo_config

OWNER = "owner@demo-plumbing.example"
STAFF = "Dispatch@Demo-Plumbing.example"
OUTSIDER = "boss@other-co.example"


@pytest.fixture
def settings_overrides(mailbox: Mailbox) -> dict[str, object]:
    return {"smtp_url": mailbox.url, "mail_poll_seconds": 0.2, "outbox_poll_seconds": 300}


@pytest.fixture
def organization() -> OrganizationConfig:
    data = demo_config().model_dump()
    data["people"] = [{"email": OWNER, "role": "owner", "name": "Olive Owner"}, {"email": STAFF, "role": "staff"}]
    return OrganizationConfig.model_validate(data)


@pytest.fixture
async def other_company(app: Quart) -> OrganizationConfig:
    """A second company on the same scheduler, with its own person and booking."""
    data = demo_config().model_dump()
    data |= {"slug": "other-co", "name": "Other Co", "publishable_key": "pk_test_other", "people": [{"email": OUTSIDER, "role": "owner"}]}
    other = OrganizationConfig.model_validate(data)
    await save_organization(services_of(app).db, other)
    return other


def booking(reference: str, organization_id: str = "demo-plumbing", status: str = "confirmed", first: str = "Ada",
            last: str = "Lovelace", phone: str = "+15125550123", email: str = "ada@example.com",
            created: datetime | None = None, day: date = date(2031, 3, 4), service: str = "drain-cleaning") -> Booking:
    return Booking(
        reference=reference, session_id=f"session-{reference}", organization_id=organization_id, flow_id="residential",
        status=status,  # type: ignore[arg-type]
        service=ChosenService(service, service.replace("-", " ").capitalize()),
        window=ChosenWindow(day, "0800-1100", "8 – 11 am", time(8), time(11)),
        customer=Customer(first, last, phone, email, "1 Main St", "Austin", "TX", "78701"),
        vendor=VendorRecord("local", error="the window was taken at the vendor" if status == "needs_attention" else None),
        created_at=created or datetime(2031, 3, 1, 15, 0, tzinfo=UTC), attribution={"utm_source": "google", "gclid": "abc"},
    )


async def store(db: Database, *bookings: Booking) -> None:
    for b in bookings:
        await db.bookings.insert_one(b.to_document())


def sign_in_mails(mailbox: Mailbox, email: str) -> list[str]:
    """The sign-in links mailed to `email` so far, newest first."""
    found = [m for m in mailbox.messages() if m.to == email.lower() and "/console/sign-in/" in m.text]
    return [link for m in found for link in re.findall(r"(http://\S+/console/sign-in/\S+)", m.text)]


async def ask_for_link(client, mailbox: Mailbox, email: str, count: int = 0) -> str:  # type: ignore[no-untyped-def]
    """Ask for a sign-in link for `email`; the path of the link in the email that answers."""
    before = len(sign_in_mails(mailbox, email))
    response = await client.post("/console/sign-in", form={"email": email})
    assert response.status_code == 200 and "on its way" in (await response.get_data(as_text=True))
    for _ in range(150):
        links = sign_in_mails(mailbox, email)
        if len(links) > before:
            return "/" + links[0].split("://", 1)[1].partition("/")[2]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no sign-in link for {email}")


async def sign_in(client, mailbox: Mailbox, email: str = OWNER, count: int = 1) -> None:  # type: ignore[no-untyped-def]
    link = await ask_for_link(client, mailbox, email, count)
    assert (await client.get(link)).status_code == 200
    response = await client.post(link, form={"next": "/console/bookings"})
    assert response.status_code == 303 and response.headers["Location"] == "/console/bookings"


async def page(client, path: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    response = await client.get(path)
    return response.status_code, await response.get_data(as_text=True)


async def test_a_person_signs_in_by_an_emailed_link_and_out_again(client, mailbox: Mailbox, db: Database) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/console/bookings")).headers["Location"].startswith("/console/sign-in?next=")
    # An address with no access gets the same answer, and no email.
    await client.post("/console/sign-in", form={"email": "stranger@example.com"})
    link = await ask_for_link(client, mailbox, STAFF.upper(), 1)
    [mail] = mailbox.messages()
    assert mail.to == STAFF.lower() and mail.subject == "Sign in to Demo Plumbing & Air"

    # Opening the link (a mail scanner does) shows a button and signs no one in.
    status, shown = await page(client, link)
    assert status == 200 and "Sign in to Demo Plumbing" in shown and STAFF.lower() in shown
    assert (await client.get("/console/bookings")).status_code == 302
    response = await client.post(link, form={"next": "https://evil.example/phish"})
    assert response.status_code == 303 and response.headers["Location"] == "/console/bookings"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie and "Secure" in cookie
    status, shown = await page(client, "/console/bookings")
    assert status == 200 and STAFF.lower() in shown and "No bookings yet" in shown

    # The link works once.
    status, shown = await page(client, link)
    assert status == 410 and "used already" in shown
    assert (await client.post(link)).status_code == 410

    # Signing out ends the session itself: the old cookie, replayed, is refused.
    replay = cookie.split(";")[0]
    assert (await client.post("/console/sign-out")).headers["Location"] == "/console/sign-in?signed_out=1"
    response = await client.get("/console/bookings", headers={"Cookie": replay})
    assert response.status_code == 302 and response.headers["Location"].startswith("/console/sign-in")


async def test_links_expire_forgeries_fail_and_people_removed_are_out(app: Quart, client, mailbox: Mailbox, db: Database, time_travel, organization: OrganizationConfig) -> None:  # type: ignore[no-untyped-def]
    link = await ask_for_link(client, mailbox, OWNER, 1)
    for forged in (link[:-3] + "AAA", "/console/sign-in/" + "x" * 5000, "/console/sign-in/%00%24where", link + "." + link[-20:]):
        status, shown = await page(client, forged)
        assert status in {404, 410} and "not valid" in shown, forged
    time_travel.shift(timedelta(minutes=16))
    status, shown = await page(client, link)
    assert status == 410 and "expired" in shown

    await sign_in(client, mailbox, OWNER, count=2)
    assert (await client.get("/console/bookings")).status_code == 200
    time_travel.shift(timedelta(days=4))  # unused for longer than 3 days
    assert (await client.get("/console/bookings")).status_code == 302

    await sign_in(client, mailbox, OWNER, count=3)
    data = organization.model_dump()
    data["people"] = [p for p in data["people"] if p["email"] != OWNER]
    await save_organization(db, OrganizationConfig.model_validate(data))
    assert (await client.get("/console/bookings")).status_code == 302  # taken off the list: out at once


async def test_the_inbox_filters_searches_pages_and_exports(client, mailbox: Mailbox, db: Database) -> None:  # type: ignore[no-untyped-def]
    base = datetime(2031, 3, 1, 15, 0, tzinfo=UTC)
    await store(
        db,
        booking("WB-AAA111", created=base),
        booking("WB-BBB222", status="needs_attention", first="Grace", last="Hopper", phone="+15125550199", email="grace@navy.example", created=base + timedelta(hours=1)),
        booking("WB-CCC333", status="cancelled", first="=HYPERLINK(\"http://evil\")", last="+1", email="@cmd@example.com", created=base + timedelta(hours=2), day=date(2031, 4, 1), service="leak-repair"),
        *[booking(f"WB-P{n:05d}", first="Many", last=f"Person{n}", created=base - timedelta(days=1, minutes=n)) for n in range(60)],
    )
    await sign_in(client, mailbox)
    status, shown = await page(client, "/console/bookings")
    assert status == 200 and "63 bookings" in shown and "page 1 of 2" in shown
    assert shown.index("WB-CCC333") < shown.index("WB-BBB222") < shown.index("WB-AAA111")  # newest first
    assert 'href="tel:+15125550199"' in shown  # click to call
    status, shown = await page(client, "/console/bookings?page=2")
    assert status == 200 and "WB-P00059" in shown and "WB-AAA111" not in shown

    async def references(query: str) -> set[str]:
        status, shown = await page(client, "/console/bookings?" + query)
        assert status == 200, (query, shown[:500])
        return set(re.findall(r'href="/console/bookings/(WB-[A-Z0-9]+)"', shown))

    assert await references("status=needs_attention") == {"WB-BBB222"}
    assert await references("q=grace") == {"WB-BBB222"}
    assert await references("q=512-555-0199") == {"WB-BBB222"}
    assert await references("q=wb-aaa111") == {"WB-AAA111"}
    assert await references("q=ada+lovelace") == {"WB-AAA111"}
    assert await references("service=leak-repair") == {"WB-CCC333"}
    assert await references("from=2031-03-05") == {"WB-CCC333"}
    for hostile in ("q=.*", "q=%24where", "q=(((", "q=" + "a" * 5000, "status[$ne]=x", "page=-5", "page=abc", "q=%00"):
        assert await references(hostile) <= {"WB-AAA111"} or hostile.startswith("status[") or hostile.startswith("page"), hostile
    status, shown = await page(client, "/console/bookings?from=yesterday&status=bogus")
    assert status == 422 and "Use a date like" in shown

    response = await client.get("/console/bookings.csv?status=cancelled")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(await response.get_data(as_text=True))))
    assert rows[0][:3] == ["reference", "status", "created"] and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["first_name"] == "'=HYPERLINK(\"http://evil\")" and row["last_name"] == "'+1" and row["email"] == "'@cmd@example.com"
    assert row["utm_source"] == "google" and row["gclid"] == "abc"


async def test_a_person_sees_only_their_own_organization(client, mailbox: Mailbox, db: Database, other_company: OrganizationConfig) -> None:  # type: ignore[no-untyped-def]
    await store(db, booking("WB-MINE01"), booking("WB-THEIRS", organization_id="other-co", status="needs_attention", first="Secret"))
    await sign_in(client, mailbox)
    _, shown = await page(client, "/console/bookings")
    assert "WB-MINE01" in shown and "WB-THEIRS" not in shown and "Secret" not in shown
    assert "WB-THEIRS" not in await (await client.get("/console/bookings.csv")).get_data(as_text=True)
    assert "0 bookings" in (await page(client, "/console/bookings?q=WB-THEIRS"))[1]
    for path in ("/console/bookings/WB-THEIRS",):
        assert (await client.get(path)).status_code == 404
    for action in ("try-again", "handled", "cancel"):
        assert (await client.post(f"/console/bookings/WB-THEIRS/{action}", form={})).status_code == 404
    assert (await db.bookings.find_one({"_id": "WB-THEIRS"}))["status"] == "needs_attention"
    # The other company's owner signs in to theirs, and sees only theirs.
    await client.post("/console/sign-out")
    await sign_in(client, mailbox, OUTSIDER, count=2)
    _, shown = await page(client, "/console/bookings")
    assert "WB-THEIRS" in shown and "WB-MINE01" not in shown
    assert (await client.get("/console/bookings/WB-MINE01")).status_code == 404


async def test_the_office_acts_on_a_booking_that_needs_attention(client, mailbox: Mailbox, db: Database) -> None:  # type: ignore[no-untyped-def]
    await store(db, booking("WB-RETRY1", status="needs_attention"), booking("WB-HANDLE", status="needs_attention"),
                booking("WB-CANCEL", status="needs_attention", email="cancel.me@example.com"), booking("WB-FINE01"))
    await db.bookings.update_one({"_id": "WB-CANCEL"}, {"$set": {"vendor.external_id": "the-calendar-has-it"}})  # cancelled there too
    await sign_in(client, mailbox)
    status, shown = await page(client, "/console/bookings/WB-RETRY1")
    assert status == 200 and "Needs attention" in shown and "the window was taken at the vendor" in shown
    assert "Google Ads click" in shown and "Try again" in shown

    response = await client.post("/console/bookings/WB-RETRY1/try-again")
    assert response.status_code == 303
    entry = await db.vendor_outbox.find_one({"_id": "booking:WB-RETRY1"})
    assert entry["state"] == "pending"
    assert (await db.bookings.find_one({"_id": "WB-RETRY1"}))["changes"][-1]["person"] == OWNER

    assert (await client.post("/console/bookings/WB-HANDLE/handled", form={"note": "Booked by phone"})).status_code == 303
    handled = await db.bookings.find_one({"_id": "WB-HANDLE"})
    assert handled["status"] == "confirmed" and handled["changes"][-1]["reason"] == "Booked by phone"
    status, shown = await page(client, "/console/bookings/WB-HANDLE")
    assert "Marked handled" in shown and OWNER in shown and "Try again" not in shown

    assert (await client.post("/console/bookings/WB-CANCEL/cancel", form={"reason": "No crew that day"})).status_code == 303
    assert (await db.bookings.find_one({"_id": "WB-CANCEL"}))["status"] == "cancelled"
    async def mail_to(address: str) -> list[str]:
        for count in range(2, 5):
            found = [m.subject for m in await mailbox.wait_for(count, seconds=3) if m.to == address]
            if found:
                return found
        return []

    [subject] = await mail_to("cancel.me@example.com")
    assert subject.startswith("Cancelled: ")

    # Only a booking that needs attention is acted on here; forms from other sites are refused.
    assert (await client.post("/console/bookings/WB-FINE01/cancel")).status_code == 409
    assert (await client.post("/console/bookings/WB-HANDLE/handled")).status_code == 409
    assert (await client.post("/console/bookings/WB-FINE01/cancel", headers={"Origin": "https://evil.example"})).status_code == 403
    assert (await db.bookings.find_one({"_id": "WB-FINE01"}))["status"] == "confirmed"


async def test_signed_out_posts_and_foreign_posts_change_nothing(client, db: Database) -> None:  # type: ignore[no-untyped-def]
    await store(db, booking("WB-NEEDS1", status="needs_attention"))
    assert (await client.post("/console/bookings/WB-NEEDS1/cancel")).status_code == 401
    assert (await client.post("/console/sign-in", form={"email": "a@b.example"}, headers={"Origin": "https://evil.example"})).status_code == 403
    assert (await client.post("/console/sign-in", form={"email": "not-an-address"})).status_code == 422
    assert (await db.bookings.find_one({"_id": "WB-NEEDS1"}))["status"] == "needs_attention"


async def test_every_console_url_refuses_another_companys_things(app: Quart, client, mailbox: Mailbox, db: Database, other_company: OrganizationConfig) -> None:  # type: ignore[no-untyped-def]
    """Every route of the console with a parameter, given the other company's booking, lead,
    endpoint or delivery: not found (or refused), and nothing of theirs changes."""
    await store(db, booking("WB-THEIRS", organization_id="other-co", status="needs_attention"))
    await db.leads.insert_one({"_id": "their-lead", "organization_id": "other-co", "reason": "out of area", "created_at": datetime(2031, 1, 1, tzinfo=UTC), "status": "new"})
    await db.webhook_endpoints.insert_one({"_id": "ep_theirs", "organization_id": "other-co", "url": "https://8.8.8.8/", "events": ["booking.created"], "secret": "whsec_AAAA", "enabled": True, "created_at": datetime(2031, 1, 1, tzinfo=UTC)})
    await db.webhook_deliveries.insert_one({"_id": "msg_theirs", "endpoint_id": "ep_theirs", "organization_id": "other-co", "state": "failed", "body": "{}", "created_at": 0.0, "due_at": 0.0})
    theirs = {"reference": "WB-THEIRS", "lead_id": "their-lead", "endpoint_id": "ep_theirs", "delivery_id": "msg_theirs"}
    before = {name: await getattr(db, name).find({}).to_list() for name in ("bookings", "leads", "webhook_endpoints", "webhook_deliveries")}
    await sign_in(client, mailbox)  # the owner of demo-plumbing
    tried = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/console/") or not rule.arguments or "token" in rule.arguments:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", theirs[name])
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            response = await client.open(path, method=method, form={"status": "dropped", "events": "lead.created", "reason": "x"} if method == "POST" else None)
            assert response.status_code in {403, 404}, (method, path, response.status_code)
            tried += 1
    assert tried >= 13  # bookings (page, 3 actions), a lead, webhooks (page and 7 actions)
    after = {name: await getattr(db, name).find({}).to_list() for name in before}
    assert after == before
