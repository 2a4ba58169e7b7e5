"""The notifier hands each notice to every channel (email today; text messages would be
another): one channel failing does not keep the others from the visitor."""

from __future__ import annotations

from datetime import datetime

from app.bookings.notices import Notice, Notifier
from app.db import Database
from app.demo import DEMO_FILE
from app.flows.loading import load_organization_file
from app.web.gallery import sample_booking, sample_session


class Recording:
    name = "recording"

    def __init__(self) -> None:
        self.notices: list[Notice] = []

    async def deliver(self, notice: Notice) -> None:
        self.notices.append(notice)


class Broken:
    name = "broken"

    async def deliver(self, notice: Notice) -> None:
        raise RuntimeError("the gateway is down")


async def test_every_channel_hears_each_notice_with_a_key_that_repeats_for_the_same_notice(db: Database, instant: datetime) -> None:
    config = load_organization_file(DEMO_FILE)
    organization, flow = config.organization, config.flows[0]
    booking = sample_booking(sample_session(organization, flow, instant, current_step=flow.step_ids[-1]), "confirmed", instant)
    recording = Recording()
    notifier = Notifier(db, [Broken(), recording])  # type: ignore[list-item]
    await notifier.booking_made(organization, booking, instant)
    await notifier.tell_visitor("rescheduled", organization, booking.rescheduled(booking.window, instant), instant)
    first, second = recording.notices
    assert (first.kind, second.kind) == ("confirmed", "rescheduled")
    assert first.key == f"booking:{booking.reference}:confirmed:1" and second.key.endswith(":rescheduled:2")
