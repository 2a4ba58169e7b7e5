"""A booking's photos of the problem at each vendor: ServiceTitan gets them as job
attachments (the Forms API), pushed in the background after the job is made, each once
however often the push is retried; Housecall Pro's job notes and Jobber's request
instructions carry signed links to them (neither API takes files), which open the photo."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image
from quart import Quart
from quart.typing import TestClientProtocol as Client

from app.db import Database
from app.demo.fakes.housecallpro import FakeHousecallPro
from app.demo.fakes.jobber import FakeJobber
from app.demo.fakes.server import FakeVendor
from app.demo.fakes.servicetitan import FakeServiceTitan
from app.flows.models import OrganizationConfig
from app.photos.bucket import create_uploads_bucket
from tests.conftest import MotoServer
from tests.photos import BUCKET, ORIGIN, Photos
from tests.vendors.conftest import booking_into_fake, drain_later
from tests.visitor import Visitor


@pytest.fixture
def settings_overrides(aws: MotoServer) -> dict[str, object]:
    create_uploads_bucket(BUCKET, aws.url, [ORIGIN])
    return {"uploads_bucket": BUCKET, "aws_endpoint_url": aws.url, "outbox_poll_seconds": 300}


@pytest.fixture
def organization(vendor_type: str, fake: FakeVendor) -> OrganizationConfig:
    return booking_into_fake(vendor_type, fake)


def what_the_office_reads(fake: FakeVendor) -> str:
    if isinstance(fake, FakeServiceTitan):
        return str(fake.jobs[-1]["summary"])
    if isinstance(fake, FakeHousecallPro):
        return str(fake.jobs[-1]["notes"])
    assert isinstance(fake, FakeJobber)
    return str(fake.requests[-1])


async def test_the_photos_reach_the_vendor(
    app: Quart, vendor_type: str, fake: FakeVendor, visitor: Visitor, client: Client, db: Database, today: date,
) -> None:
    await visitor.walk_to("AdditionalDetails", today)
    added = await Photos(client, visitor).book_with(2, today)
    booking = await db.bookings.find_one({})
    assert booking is not None and booking["status"] == "confirmed" and len(booking["photos"]) == 2

    # The job's notes link each photo; a link opens it (a redirect to the private bucket).
    notes = what_the_office_reads(fake)
    assert "Photos of the problem (2):" in notes
    links = [line.strip() for line in notes.replace("\\n", "\n").splitlines() if "/photos/" in line]
    assert len(links) == 2
    opened = await client.get("/photos/" + links[0].split("/photos/")[1].split("'")[0].split('"')[0])
    assert opened.status_code == 302

    if not isinstance(fake, FakeServiceTitan):
        assert await db.vendor_outbox.count_documents({"kind": "photos"}) == 0  # links are what their APIs take
        return
    # ServiceTitan: the files follow the job, in the background, each once.
    assert fake.attachments == []
    assert await drain_later(app, 1) == 1
    job_id = int(booking["vendor"]["external_id"])
    assert sorted(a["fileName"] for a in fake.attachments) == sorted(f"photo-{p['id']}.jpg" for p in added)
    assert all(a["jobId"] == job_id and a["contentType"] == "image/jpeg" for a in fake.attachments)
    assert Image.open(io.BytesIO(fake.attachments[0]["data"])).format == "JPEG"
    entry = await db.vendor_outbox.find_one({"kind": "photos"})
    assert entry is not None and entry["state"] == "done" and entry["last_error"] is None
    # A retried push (an answer that never came) attaches nothing twice.
    await db.vendor_outbox.update_one({"_id": entry["_id"]}, {"$set": {"state": "pending", "due_at": 0, "progress": {}, "claims": 1}})
    assert await drain_later(app, 60) == 1
    assert len(fake.attachments) == 2


@pytest.mark.parametrize("vendor_type", ["servicetitan"], indirect=True)
async def test_photos_wait_for_a_vendor_that_is_down_and_go_once_when_an_answer_was_lost(
    app: Quart, vendor_type: str, fake: FakeVendor, visitor: Visitor, client: Client, db: Database, today: date,
) -> None:
    assert isinstance(fake, FakeServiceTitan)  # the one whose API takes files
    await visitor.walk_to("AdditionalDetails", today)
    await Photos(client, visitor).book_with(3, today, 800, 600)

    fake.fail_next("/attachments", status=503, times=20)
    assert await drain_later(app, 1) == 1
    entry = await db.vendor_outbox.find_one({"kind": "photos"})
    assert entry is not None and entry["state"] == "pending" and fake.attachments == []
    fake.state.faults.clear()

    # The first file arrives but its answer does not: the next try finds it and sends the rest.
    fake.fail_next("/attachments", method="POST", hang_seconds=3, then_process=True)
    assert await drain_later(app, 3600) == 1
    assert len(fake.attachments) == 1
    assert await drain_later(app, 7200) == 1
    names = [a["fileName"] for a in fake.attachments]
    assert len(names) == 3 and len(set(names)) == 3
    entry = await db.vendor_outbox.find_one({"kind": "photos"})
    assert entry is not None and entry["state"] == "done"
