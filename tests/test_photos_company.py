"""The company sees a booking's photos of the problem: in the email to its people (thumbnails
linking to each photo, and the links in the plain text) and on the booking's page in the
console; every link is signed and opens the photo from the private bucket."""

from __future__ import annotations

import asyncio
import re
from datetime import date

import pytest
from quart.typing import TestClientProtocol as Client

from app.demo.mailbox import Mailbox
from app.flows.models import OrganizationConfig
from app.photos.bucket import create_uploads_bucket
from tests.conftest import MotoServer, demo_config
from tests.photos import BUCKET, ORIGIN, Photos
from tests.test_console import OWNER, page, sign_in
from tests.visitor import Visitor


@pytest.fixture
def settings_overrides(aws: MotoServer, mailbox: Mailbox) -> dict[str, object]:
    create_uploads_bucket(BUCKET, aws.url, [ORIGIN])
    return {"uploads_bucket": BUCKET, "aws_endpoint_url": aws.url, "smtp_url": mailbox.url, "mail_poll_seconds": 0.2}


@pytest.fixture
def organization() -> OrganizationConfig:
    data = demo_config().model_dump()
    data["people"] = [{"email": OWNER, "role": "owner", "name": "Olive Owner"}]
    return OrganizationConfig.model_validate(data)


async def test_the_company_sees_the_photos_in_its_email_and_console(
    visitor: Visitor, client: Client, mailbox: Mailbox, aws: MotoServer, today: date,
) -> None:
    await visitor.walk_to("AdditionalDetails", today)
    await Photos(client, visitor).book_with(2, today)

    for _ in range(100):
        office = [m for m in mailbox.messages() if m.to == OWNER and "Photos of the problem" in m.text]
        if office:
            break
        await asyncio.sleep(0.1)
    assert office, [m.subject for m in mailbox.messages()]
    mail = office[0]
    assert "Photos of the problem (2)" in mail.html and mail.html.count('alt="Photo ') == 2
    links = re.findall(r"http://\S+/photos/[\w.-]+", mail.text)
    assert len(links) == 2
    assert (await client.get(links[0].split("127.0.0.1:5000", 1)[-1])).status_code == 302

    await sign_in(client, mailbox)
    reference = re.search(r"WB-[A-Z0-9]+", mail.subject + mail.text)
    assert reference is not None
    status, shown = await page(client, f"/console/bookings/{reference.group()}")
    assert status == 200
    thumbs = re.findall(r'<img src="(http://[^"]+/photos/[^"]+)"', shown)
    assert len(thumbs) == 2
    opened = await client.get(thumbs[0].split("localhost", 1)[-1])
    assert opened.status_code == 302 and opened.headers["Location"].startswith(aws.url)
    # The console's policy lets the photos load from the local S3 (make run's, here moto).
    policy = (await client.get(f"/console/bookings/{reference.group()}")).headers["Content-Security-Policy"]
    assert f"img-src 'self' https: {aws.url}" in policy
