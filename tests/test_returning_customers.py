"""Returning customers: a phone number or email the company already has offers "Welcome back"
and the addresses on file, masked, to book at. Whoever types a number learns only that it
is known and the street names of its addresses — never a house number, a city, a ZIP or a
name, not in the widget, the summary, the confirmation email or the calendar file — and
look-ups are few per session and per address."""

from __future__ import annotations

from datetime import date

import pytest

from app.db import Database
from app.demo.mailbox import Mailbox
from tests.visitor import CUSTOMER, Page, Visitor

ADDRESS_WORDS = ("100 Congress", "Austin", "78701", "Ada", "Lovelace", "Suite")


@pytest.fixture
def settings_overrides(mailbox: Mailbox) -> dict[str, object]:
    return {"smtp_url": mailbox.url, "mail_poll_seconds": 0.2}


async def look_up(visitor: Visitor, phone: str = "", email: str = "") -> Page:
    return await visitor._send("POST", "/session/returning", {"phone": phone, "email": email}, visitor._headers())


async def booked_before(visitor: Visitor, today: date) -> None:
    await visitor.walk_to("Summary", today)
    assert (await visitor.submit("Summary")).step == "Confirmation"


def reveals(text: str) -> list[str]:
    return [word for word in ADDRESS_WORDS if word in text]


async def test_a_returning_customer_books_at_an_address_on_file_and_sees_it_masked(
    visitor: Visitor, db: Database, mailbox: Mailbox, today: date,
) -> None:
    await booked_before(visitor, today)
    again = Visitor(visitor._send)
    await again.walk_to("Customer", today)
    offered = await look_up(again, phone="512-555-0142")
    assert offered.status == 200 and "Welcome back!" in offered.text
    assert "•••• Congress Ave" in offered.text and reveals(offered.text) == []

    page = await again.submit(
        "Customer", first_name="Grace", last_name="Hopper", phone="(512) 555-0142", email="grace@example.com",
        street="", unit="", city="", state="", zip_code="", known_place="p1",
    )
    assert page.step == "Summary", page.errors
    assert "•••• Congress Ave" in page.text and reveals(page.text.replace("Austin time", "")) == []
    page = await again.submit("Summary")
    assert page.step == "Confirmation" and reveals(page.text.replace("Austin time", "")) == []

    booking = await db.bookings.find_one({"customer.first_name": "Grace"})
    assert booking is not None
    assert (booking["customer"]["street"], booking["customer"]["city"], booking["customer"]["on_file"]) == ("100 Congress Ave", "Austin", True)
    assert booking["known_place"]["source"] == "bookings"
    # Her confirmation email (the address typed may be anyone's) and its calendar file show the masked street only.
    mail = next(m for m in await mailbox.wait_for(2) if m.to == "grace@example.com")
    assert "•••• Congress Ave" in mail.text and reveals(mail.text.replace("Austin time", "")) == []
    calendar = next(part for part in mail.message.walk() if part.get_content_type() == "text/calendar").get_content()
    assert "LOCATION:•••• Congress Ave" in calendar and "100 Congress" not in calendar


async def test_back_on_the_step_the_form_holds_only_what_was_typed(visitor: Visitor, today: date) -> None:
    await booked_before(visitor, today)
    again = Visitor(visitor._send)
    await again.walk_to("Customer", today)
    await look_up(again, email="ADA@example.com")
    page = await again.submit("Customer", **(CUSTOMER | {"street": "", "city": "", "state": "", "zip_code": "", "first_name": "Grace", "known_place": "p1"}))
    assert page.step == "Summary"
    page = await again.back()
    assert page.step == "Customer"
    assert page.value_of("street") in ("", None) and "100 Congress" not in page.text
    assert 'value="p1" checked' in page.text and "•••• Congress Ave" in page.text


async def test_a_stranger_learns_nothing(visitor: Visitor, today: date) -> None:
    await booked_before(visitor, today)
    stranger = Visitor(visitor._send)
    await stranger.walk_to("Customer", today)
    for phone, email in (("(512) 555-0199", ""), ("", "someone@example.com"), ("not a phone", "not an email"), ("$where", "{\"$ne\": 1}")):
        answer = await look_up(stranger, phone=phone, email=email)
        assert answer.status == 200 and answer.text.strip() == ""


async def test_only_addresses_in_the_zip_code_given_are_offered(visitor: Visitor, today: date) -> None:
    await booked_before(visitor, today)
    elsewhere = Visitor(visitor._send)
    page = await elsewhere.start()
    page = await elsewhere.submit("ZipCode", zip_code="78702")
    assert page.step == "ServiceSelection"
    page = await elsewhere.walk_to("Customer", today, first_page=page)
    assert (await look_up(elsewhere, phone="5125550142")).text.strip() == ""


async def test_a_forged_or_stale_choice_is_refused(visitor: Visitor, today: date) -> None:
    await booked_before(visitor, today)
    again = Visitor(visitor._send)
    await again.walk_to("Customer", today)
    blank = {"street": "", "city": "", "state": "", "zip_code": ""}
    for forged in ("p9", "$where", "p1\x00", "x" * 5000):
        page = await again.submit("Customer", **(CUSTOMER | blank | {"known_place": forged}))
        assert page.status == 200 and page.step == "Customer"
        assert page.errors.get("known_place") == "Choose one of the addresses again, or type the address."
    await look_up(again, phone="5125550142")
    # Looked up with one number, submitted with another: the choice does not carry over.
    page = await again.submit("Customer", **(CUSTOMER | blank | {"phone": "(512) 555-0100", "email": "x@example.com", "known_place": "p1"}))
    assert page.errors.get("known_place") == "Choose one of the addresses again, or type the address."


async def test_look_ups_are_few_per_session_and_per_address(visitor: Visitor, today: date) -> None:
    await booked_before(visitor, today)
    again = Visitor(visitor._send)
    await again.walk_to("Customer", today)
    answers = [await look_up(again, phone="5125550142") for _ in range(6)]
    assert all("Welcome back!" in a.text for a in answers[:5])
    assert answers[5].status == 200 and answers[5].text.strip() == ""  # the same nothing as a stranger gets
    # A new session from the same address starts no new count beyond the address's.
    offered = 5
    for _ in range(4):
        other = Visitor(visitor._send)
        await other.walk_to("Customer", today)
        for _ in range(5):
            offered += "Welcome back!" in (await look_up(other, phone="5125550142")).text
    assert offered == 20
