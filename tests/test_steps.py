"""The booking flow as a visitor walks it: every step, Back, validation and confirmation."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.db import Database
from tests.visitor import CUSTOMER, DETAILS, Visitor, quart_sender


@pytest.mark.dates
async def test_whole_flow_ends_with_a_confirmed_booking(visitor: Visitor, db: Database, today: date) -> None:
    page = await visitor.start(page_url="http://localhost:8000/?utm_source=google&gclid=abc&email=x@y.z")
    assert page.status == 200 and page.step == "ZipCode"
    assert page.heading == "Where do you need service?"
    assert 'for="wb-zip_code">ZIP code<' in page.text
    assert visitor.token and len(visitor.token) >= 40

    page = await visitor.walk_to("Summary", today, first_page=page)
    assert page.contains("Leak repair") and page.contains("Ada Lovelace") and page.contains("(512) 555-0142")
    assert ">Confirm booking<" in page.text

    page = await visitor.submit("Summary")
    assert page.step == "Confirmation"
    booking = await db.bookings.find_one({})
    assert booking is not None and page.contains(booking["_id"])
    assert booking["service"]["id"] == "leak-repair"
    assert booking["customer"]["phone"] == "+15125550142"
    assert booking["details"]["description"] == "The kitchen sink drips"
    assert booking["attribution"] == {"utm_source": "google", "gclid": "abc", "page": "http://localhost:8000/"}
    session = await db.sessions.find_one({})
    assert session["status"] == "booked" and session["booking_reference"] == booking["_id"]
    assert session["completed_steps"] == ["ZipCode", "ServiceSelection", "AdditionalDetails", "Timeslot", "Customer", "Summary"]


async def test_every_step_names_its_buttons_continue_and_back(visitor: Visitor) -> None:
    page = await visitor.start()
    assert ">Continue<" in page.text and ">Back<" not in page.text
    page = await visitor.submit("ZipCode", zip_code="78701")
    assert ">Continue<" in page.text and ">Back<" in page.text
    assert page.text.count("data-step-heading") == 1


async def test_zip_code_validation_message_is_tied_to_the_field(visitor: Visitor) -> None:
    await visitor.start()
    page = await visitor.submit("ZipCode", zip_code="12ab")
    assert page.status == 200 and page.step == "ZipCode"
    assert page.errors == {"zip_code": "Enter a 5-digit ZIP code."}
    assert 'aria-describedby="wb-error-zip_code"' in page.text and 'aria-invalid="true"' in page.text
    assert page.value_of("zip_code") == "12ab"


async def test_zip_outside_the_area_explains_and_takes_a_lead(visitor: Visitor, db: Database) -> None:
    await visitor.start()
    page = await visitor.submit("ZipCode", zip_code="10001")
    assert page.status == 200 and page.step == "ZipCode"
    assert page.contains("We don't serve 10001 yet")
    assert page.text.replace("&#39;", "'").count("don't serve") == 1  # said once (#18 item 12)
    page = await visitor.submit("ZipCode", intent="lead", lead_phone="", lead_email="")
    assert page.errors == {"lead_phone": "Leave a phone number or an email address so we can reach you."}
    page = await visitor.submit("ZipCode", intent="lead", lead_phone="12", lead_email="not-an-email")
    assert set(page.errors) == {"lead_phone", "lead_email"}
    page = await visitor.submit("ZipCode", intent="lead", lead_phone="", lead_email="Neighbour@Example.com")
    assert page.contains("Thanks — we'll be in touch.")
    lead = await db.leads.find_one({})
    assert lead["zip_code"] == "10001" and lead["email"] == "Neighbour@example.com"
    assert (await db.sessions.find_one({}))["status"] == "out_of_area"
    page = await visitor.submit("ZipCode", zip_code="78701")
    assert page.step == "ServiceSelection"


async def test_service_selection_walks_the_graph_and_back_walks_back(visitor: Visitor) -> None:
    await visitor.start()
    page = await visitor.submit("ZipCode", zip_code="78701")
    assert page.contains("What kind of service do you need?") and page.checked("answer") is None
    page = await visitor.submit("ServiceSelection")
    assert page.status == 200 and page.errors == {"answer": "Choose one of the options."}
    page = await visitor.submit("ServiceSelection", answer="heating-cooling")
    assert page.contains("Which system needs attention?")
    page = await visitor.submit("ServiceSelection", answer="ac")
    assert page.contains("What is the air conditioner doing?")
    page = await visitor.back()
    assert page.step == "ServiceSelection" and page.contains("Which system needs attention?")
    assert page.checked("answer") == "ac"
    page = await visitor.back()
    assert page.contains("What kind of service do you need?") and page.checked("answer") == "heating-cooling"
    page = await visitor.back()
    assert page.step == "ZipCode" and page.value_of("zip_code") == "78701"


async def test_back_restores_what_was_entered_on_each_step(visitor: Visitor, today: date) -> None:
    page = await visitor.walk_to("Summary", today)
    page = await visitor.back()
    assert page.step == "Customer" and page.value_of("first_name") == "Ada" and page.value_of("email") == "ada@example.com"
    page = await visitor.back()
    assert page.step == "Timeslot" and page.checked("window") is not None
    assert 'data-direction="back"' in page.text
    page = await visitor.back()
    assert page.step == "AdditionalDetails" and page.contains("The kitchen sink drips")
    assert '<option value="House" selected>House</option>' in page.text
    page = await visitor.back()
    assert page.step == "ServiceSelection" and page.contains("Where is the leak?") and page.checked("answer") == "inside"


async def test_additional_details_messages(visitor: Visitor, today: date) -> None:
    await visitor.walk_to("AdditionalDetails", today)
    page = await visitor.submit("AdditionalDetails", **{"detail-property-type": "Castle"})
    assert page.status == 200
    assert page.errors == {
        "detail-description": "Please fill this in.",
        "detail-property-type": "Choose one of the options for property type.",
    }
    page = await visitor.submit("AdditionalDetails", **(DETAILS | {"detail-description": "x" * 1001}))
    assert page.errors == {"detail-description": "Describe the problem must be at most 1000 characters (it has 1001)."}


async def test_customer_messages_name_each_field(visitor: Visitor, today: date) -> None:
    await visitor.walk_to("Customer", today)
    page = await visitor.submit("Customer", phone="555", email="ada@", state="Texas", zip_code="10001")
    assert page.status == 200
    assert page.errors == {
        "first_name": "Enter your first name.",
        "last_name": "Enter your last name.",
        "street": "Enter the street address.",
        "city": "Enter the city.",
        "phone": "Enter a 10-digit US phone number, like (512) 555-0100.",
        "email": "Enter an email address like name@example.com.",
        "state": "Enter the 2-letter state code, like TX.",
        "zip_code": "We don't serve ZIP code 10001. Check the service address.",
    }
    for name in page.errors:
        assert f'aria-describedby="wb-error-{name}"' in page.text


@pytest.mark.dates
async def test_timeslot_needs_a_day_and_a_window(visitor: Visitor, today: date) -> None:
    await visitor.walk_to("Timeslot", today)
    page = await visitor.submit("Timeslot")
    assert page.errors == {"date": "Choose a day in the calendar."}
    day, _ = await visitor.first_open_window(today)
    page = await visitor.submit("Timeslot", date=day)
    assert page.errors == {"window": "Choose an arrival window."}


@pytest.mark.dates
async def test_calendar_pages_between_months(visitor: Visitor, today: date) -> None:
    await visitor.walk_to("Timeslot", today)
    this_month = today.strftime("%Y-%m")
    page = await visitor.view("Timeslot", month=this_month)
    assert 'aria-label="Previous month" disabled' in page.text
    assert "month=" in page.text  # a link to the next month
    page = await visitor.view("Timeslot", month="1999-01")
    assert page.status == 200 and page.contains(today.strftime("%B %Y"))


async def test_the_calendars_day_buttons_are_well_formed(visitor: Visitor, today: date) -> None:
    """Each attribute of a day's button stands apart from the one before it (an attribute
    glued to the last one's quote is a parse error browsers happen to forgive)."""
    await visitor.walk_to("Timeslot", today)
    page = await visitor.view("Timeslot", month=today.strftime("%Y-%m"), date=today.isoformat())
    buttons = re.findall(r'<button type="button" class="wb-day[^>]*>', page.text)
    assert buttons and any("hx-get=" in b for b in buttons) and any(" disabled" in b for b in buttons)
    for button in buttons:
        assert re.fullmatch(r'<button( [a-z-]+(="[^"]*")?)+>', " ".join(button.split())), button


async def test_summary_change_link_returns_to_that_step(visitor: Visitor, today: date) -> None:
    await visitor.walk_to("Summary", today)
    page = await visitor.edit("Customer")
    assert page.step == "Customer" and page.value_of("last_name") == "Lovelace"
    page = await visitor.submit("Customer", **(CUSTOMER | {"last_name": "Byron"}))
    assert page.step == "Summary" and page.contains("Ada Byron")


async def test_a_form_from_a_step_already_left_shows_the_current_step(visitor: Visitor) -> None:
    await visitor.start()
    await visitor.submit("ZipCode", zip_code="78701")
    page = await visitor.submit("ZipCode", zip_code="78702")
    assert page.status == 200 and page.step == "ServiceSelection"


async def test_double_confirm_makes_one_booking(visitor: Visitor, db: Database, today: date) -> None:
    await visitor.walk_to("Summary", today)
    first = await visitor.submit("Summary")
    second = await visitor.submit("Summary")
    assert first.step == second.step == "Confirmation"
    assert await db.bookings.count_documents({}) == 1
    reference = (await db.bookings.find_one({}))["_id"]
    assert first.contains(reference) and second.contains(reference)
    page = await visitor.back()
    assert page.step == "Confirmation"


async def test_prefilled_zip_and_contact(visitor: Visitor, today: date) -> None:
    page = await visitor.start(zip="78701", name="Grace Brewster Hopper", email="grace@example.com")
    assert page.value_of("zip_code") == "78701"
    page = await visitor.walk_to("Customer", today, first_page=page)
    assert page.value_of("first_name") == "Grace Brewster" and page.value_of("last_name") == "Hopper"
    assert page.value_of("email") == "grace@example.com"


async def test_route_rules_choose_the_flow(visitor: Visitor) -> None:
    page = await visitor.start(page_url="http://localhost:8000/commercial/quote")
    assert page.step == "ServiceSelection" and page.contains("What kind of work is it?")
    assert ">Back<" not in page.text


async def test_visitor_input_is_escaped(visitor: Visitor, today: date) -> None:
    await visitor.walk_to("Customer", today)
    page = await visitor.submit("Customer", **(CUSTOMER | {"first_name": "<script>alert(1)</script>"}))
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


@pytest.mark.dates
async def test_calendar_opens_on_the_first_month_with_a_free_window(visitor: Visitor, db: Database, today: date) -> None:
    config = await db.organizations.find_one({})
    this_month = today.replace(day=1)
    closed = [(this_month.replace(day=d)).isoformat() for d in range(1, 29)] + [
        (this_month.replace(day=28) + timedelta(days=n)).isoformat() for n in range(1, 5)
    ]
    config["vendor"]["calendar"]["closed_dates"] = closed
    await db.organizations.replace_one({"_id": config["_id"]}, config)
    page = await visitor.walk_to("Timeslot", today)
    next_month = this_month.replace(day=28) + timedelta(days=5)
    assert page.contains(next_month.strftime("%B %Y")) and page.open_days()


@pytest.mark.dates
async def test_with_no_free_window_the_visitor_can_leave_a_lead(client, db: Database, organization, today: date) -> None:  # type: ignore[no-untyped-def]
    from app.flows.repository import save_organization
    from tests.conftest import demo_config

    full = demo_config(windows=[{"id": "morning", "label": "8 – 11 am", "start": "08:00", "end": "11:00", "capacity": 0}])
    await save_organization(db, full)
    visitor = Visitor(quart_sender(client))
    page = await visitor.walk_to("Timeslot", today)
    assert page.contains("Can't find a time that works?") and not page.open_days()
    page = await visitor.submit("Timeslot", intent="lead", lead_phone="", lead_email="")
    assert page.errors == {"lead_phone": "Leave a phone number or an email address so we can reach you."}
    page = await visitor.submit("Timeslot", intent="lead", lead_phone="512 555 0100", lead_email="")
    assert page.step == "Timeslot" and page.contains("Thanks — we'll be in touch.")
    lead = await db.leads.find_one({})
    assert lead["reason"] == "no free arrival window" and lead["phone"] == "+15125550100" and lead["zip_code"] == "78701"


async def test_a_booking_stored_while_an_edit_was_saved_wins(visitor: Visitor, db: Database, today: date, monkeypatch: pytest.MonkeyPatch) -> None:
    """Confirm and "Change the time" at once: the edit is saved between the confirm's
    reading the session and saving it. Before, the confirm answered with Timeslot, the
    session stayed active beside its booking, and a second window showed the first."""
    from app.steps import summary

    await visitor.walk_to("Summary", today)
    confirm = summary.confirm_booking

    async def edit_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        assert (await visitor.edit("Timeslot")).step == "Timeslot"  # the other request, saved first
        return await confirm(*args, **kwargs)

    monkeypatch.setattr(summary, "confirm_booking", edit_meanwhile)
    page = await visitor.submit("Summary")
    monkeypatch.setattr(summary, "confirm_booking", confirm)
    booking = await db.bookings.find_one({})
    assert page.step == "Confirmation" and page.contains(booking["_id"])
    session = await db.sessions.find_one({})
    assert session["status"] == "booked" and session["booking_reference"] == booking["_id"]

    for refused in (await visitor.edit("Timeslot"), await visitor.submit("Timeslot", date="2027-01-01", window="morning")):
        assert refused.status == 409 and refused.step == "Confirmation"
        assert refused.notice == "This booking is already made, so it can't be changed here. To change it, please call us."
    page = await visitor.current()
    assert page.step == "Confirmation" and page.contains(booking["_id"]) and await db.bookings.count_documents({}) == 1


async def test_racing_confirm_and_edit_never_leave_a_booking_beside_an_active_session(client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    for _ in range(6):
        visitor = Visitor(quart_sender(client))
        await visitor.walk_to("Summary", today)
        confirmed, _ = await asyncio.gather(visitor.submit("Summary"), visitor.edit("Timeslot"))
        session = await db.sessions.find_one({}, sort=[("created_at", -1)])
        booking = await db.bookings.find_one({"session_id": session["_id"]})
        assert booking is not None and confirmed.step == "Confirmation"
        assert session["status"] == "booked" and session["booking_reference"] == booking["_id"]
        assert (await visitor.current()).step == "Confirmation"


async def test_a_booking_whose_session_was_not_saved_is_found_before_an_edit(visitor: Visitor, db: Database, today: date, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database went away after the booking was stored and before the session was."""
    from pymongo.errors import AutoReconnect

    from app.steps import engine as steps

    await visitor.walk_to("Summary", today)
    save = steps.save_session

    async def lost(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AutoReconnect("gone")

    monkeypatch.setattr(steps, "save_session", lost)
    assert (await visitor.submit("Summary")).status == 503
    monkeypatch.setattr(steps, "save_session", save)
    assert (await db.sessions.find_one({}))["status"] == "active" and await db.bookings.count_documents({}) == 1
    page = await visitor.edit("Timeslot")
    assert page.status == 409 and page.step == "Confirmation"
    assert (await db.sessions.find_one({}))["status"] == "booked"


@pytest.mark.dates
async def test_the_calendar_ends_with_the_companys_horizon(visitor: Visitor, today: date) -> None:
    """The demo books 60 days ahead: Next month stops there, and a month with nothing open
    says so once (no "try the next month" where there is none, no "choose a day")."""
    await visitor.walk_to("Timeslot", today)
    furthest = today + timedelta(days=60)
    page = await visitor.view("Timeslot", month=f"{furthest.year + 1}-{furthest.month:02d}")  # asked far beyond
    assert f'data-month="{furthest.year}-{furthest.month:02d}"' in page.text or furthest.strftime("%B %Y") in page.text
    assert re.search(r'aria-label="Next month"[^>]*disabled', page.text)
    assert all(date.fromisoformat(d) <= furthest for d in page.open_days())
    if not page.open_days():
        assert page.contains("No arrival windows are open this far ahead yet.")
        assert not page.contains("Try the next month") and not page.contains("Choose a day to see")


@pytest.mark.dates
async def test_a_lead_left_on_an_empty_month_answers_on_that_month(client, db: Database, today: date) -> None:  # type: ignore[no-untyped-def]
    """This month is full, the next is not: the visitor looks at this month, asks to be called
    back, and sees the error or the thanks there — not another month with no word (#18 item 4)."""
    from app.flows.repository import save_organization
    from tests.conftest import demo_config

    month_end = (today.replace(day=28) + timedelta(days=5)).replace(day=1) - timedelta(days=1)
    closed = [today + timedelta(days=n) for n in range((month_end - today).days + 1)]
    await save_organization(db, demo_config(closed_dates=closed))
    visitor = Visitor(quart_sender(client))
    await visitor.walk_to("Timeslot", today)
    this_month = f"{today.year}-{today.month:02d}"
    page = await visitor.view("Timeslot", month=this_month)
    assert page.contains("Can't find a time that works?") and not page.open_days()
    page = await visitor.submit("Timeslot", intent="lead", month=this_month, lead_phone="", lead_email="not-an-email")
    assert page.errors == {"lead_email": "Enter an email address like name@example.com."} or "lead_email" in page.errors
    assert page.contains(today.strftime("%B %Y")) and page.contains("Can't find a time that works?")
    page = await visitor.submit("Timeslot", intent="lead", month=this_month, lead_phone="", lead_email="ada@example.com")
    assert page.contains(today.strftime("%B %Y")) and page.contains("Thanks — we'll be in touch.")
    assert (await db.leads.find_one({}))["email"] == "ada@example.com"


async def test_the_address_is_checked_against_the_zip_and_the_phone_against_real_numbers(visitor: Visitor, today: date) -> None:
    """City and State come from the ZIP already given; a State that isn't one, or isn't the
    ZIP's, is refused; so is a phone number that can't exist (#18 item 7)."""
    from tests.visitor import CUSTOMER

    page = await visitor.walk_to("Customer", today)
    assert (page.value_of("city"), page.value_of("state"), page.value_of("zip_code")) == ("Austin", "TX", "78701")
    for state, says in (("Texas", "2-letter state code"), ("ZZ", "2-letter state code"), ("NY", "ZIP code 78701 is in TX.")):
        page = await visitor.submit("Customer", **CUSTOMER | {"state": state})
        assert page.errors.get("state") == says or says in page.errors.get("state", ""), (state, page.errors)
    for phone in ("555-0100", "(012) 555-0100", "+44 20 7946 0958", "(512) 555-01000", "512" + "5" * 40):
        page = await visitor.submit("Customer", **CUSTOMER | {"phone": phone})
        assert "phone" in page.errors, phone
    page = await visitor.submit("Customer", **CUSTOMER | {"state": "tx", "phone": "+1 512.555.0142"})
    assert page.step == "Summary"


async def test_change_service_starts_at_the_first_question(visitor: Visitor, today: date) -> None:
    """From the Summary, *Change service* shows the first question (its answer still chosen),
    not the last sub-question (#18 item 12)."""
    await visitor.walk_to("Summary", today)
    page = await visitor.edit("ServiceSelection")
    assert page.step == "ServiceSelection" and page.checked("answer") == "plumbing"
    page = await visitor.submit("ServiceSelection", answer="hvac")  # a different path
    assert page.step == "ServiceSelection" and not page.contains("Where is the leak?")


async def test_the_progress_bar_says_the_step_and_moves_through_the_service_questions(visitor: Visitor) -> None:
    """(#18 item 12) "Step 2 of 6", and the current segment fills as questions are answered."""
    await visitor.start()
    page = await visitor.submit("ZipCode", zip_code="78701")
    assert page.contains("Step 2 of 6") and "wb-progress__item--part" not in page.text
    page = await visitor.submit("ServiceSelection", answer="plumbing")
    assert "wb-progress__item--part-1" in page.text
    page = await visitor.submit("ServiceSelection", answer="leak")
    assert "wb-progress__item--part-2" in page.text and page.contains("Step 2 of 6")
    page = await visitor.submit("ServiceSelection", answer="inside")
    assert page.contains("Step 3 of 6") and "wb-progress__item--part" not in page.text


async def test_a_flow_without_a_zip_step_checks_the_service_address(visitor: Visitor, today: date) -> None:
    """The commercial flow asks no ZIP first: a New York address is refused at Customer
    (#18 item 10); an Austin one goes on."""
    from tests.visitor import CUSTOMER

    await visitor.start(page_url="http://localhost:8000/commercial/quote")
    page = await visitor.submit("ServiceSelection", answer="maintenance")
    assert page.step == "Timeslot"
    day, window = await visitor.first_open_window(today)
    page = await visitor.submit("Timeslot", date=day, window=window)
    assert page.step == "Customer"
    page = await visitor.submit("Customer", **CUSTOMER | {"zip_code": "10001", "city": "New York", "state": "NY"})
    assert page.step == "Customer" and "We don't serve ZIP code 10001" in page.errors.get("zip_code", "")
    page = await visitor.submit("Customer", **CUSTOMER)
    assert page.step == "Summary"


async def test_the_earliest_free_windows_are_one_tap_away(visitor: Visitor, today: date) -> None:
    """The Timeslot step opens with the next few free windows as choices above the calendar;
    one tap takes the window and goes on (#18: earliest available first)."""
    import re as re_

    page = await visitor.walk_to("Timeslot", today)
    picks = re_.findall(r'name="pick" value="([\d-]+)\|([\w-]+)"', page.text)
    assert page.contains("Earliest available") and 1 <= len(picks) <= 3
    days = [day for day, _ in picks]
    assert days == sorted(days) and days[0] == min(page.open_days())
    page = await visitor.submit("Timeslot", pick=f"{picks[0][0]}|{picks[0][1]}")
    assert page.step == "Customer"
    page = await visitor.back()
    assert page.step == "Timeslot" and page.value_of("date") == picks[0][0] and not page.contains("Earliest available")
    page = await visitor.submit("Timeslot", pick="2031-02-30|morning")  # no such day
    assert page.step == "Timeslot" and page.errors
