"""Photos of the problem: the visitor's browser uploads straight to S3 (moto's server, over a
real socket) with a presigned POST; the server checks what arrived (a real image, bounded in
pixels, EXIF stripped), keeps a resized copy and a thumbnail, and the booking keeps them.
Every hostile upload is refused with a clear message and leaves nothing stored."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from datetime import date, timedelta
from typing import Any

import boto3
import httpx
import pytest
import time_machine
from PIL import Image
from quart import Quart
from quart.typing import TestClientProtocol as Client

from app.db import Database
from app.photos.bucket import create_uploads_bucket
from app.photos.uploads import MAX_UPLOAD_BYTES
from tests.conftest import MotoServer
from tests.photos import BUCKET, ORIGIN, Photos, jpeg_from_a_phone, objects, png
from tests.visitor import DETAILS, Visitor


@pytest.fixture
def settings_overrides(aws: MotoServer) -> dict[str, object]:
    create_uploads_bucket(BUCKET, aws.url, [ORIGIN])
    return {"uploads_bucket": BUCKET, "aws_endpoint_url": aws.url}


@pytest.fixture
def s3(aws: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=aws.url, region_name="us-east-1")


@pytest.fixture
def photos(client: Client, visitor: Visitor) -> Photos:
    return Photos(client, visitor)


async def test_a_phone_photo_is_kept_upright_without_its_location_and_the_booking_keeps_it(
    visitor: Visitor, photos: Photos, s3: Any, client: Client, db: Database, today: date,
) -> None:
    page = await visitor.walk_to("AdditionalDetails", today)
    assert "data-wrkbelt-photos" in page.text and 'capture="environment"' in page.text

    status, answer = await photos.ask("image/jpeg", 2_000_000)
    assert status == 201
    # The policy S3 enforces: this key only, this type, at most 15 MB, for minutes.
    policy = json.loads(base64.b64decode(answer["upload"]["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, MAX_UPLOAD_BYTES] in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert {"key": answer["upload"]["fields"]["key"]} in conditions
    assert answer["upload"]["fields"]["key"].startswith("uploads/demo-plumbing/")
    assert await photos.upload(answer, jpeg_from_a_phone()) in {200, 204}

    status, photo = await photos.check(answer["id"])
    assert status == 200, photo
    assert (photo["width"], photo["height"]) == (1200, 1600)  # turned upright, at most 1,600 px
    assert objects(s3, "uploads/") == []  # the upload itself is gone once checked
    kept = sorted(objects(s3, "photos/"))
    assert len(kept) == 2
    for key in kept:
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        image = Image.open(io.BytesIO(body))
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}  # no location, no camera: no EXIF at all
        assert s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"] == [{"Key": "kept", "Value": "no"}]

    # The link the widget shows redirects to a presigned GET of the private object.
    link = await client.get(photo["thumb_url"].removeprefix("http://localhost"))
    assert link.status_code == 302
    async with httpx.AsyncClient() as browser:
        thumb = await browser.get(link.headers["Location"])
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.content)).size) == 320

    # Back on the step, the photo is there; the booking keeps it.
    page = await visitor.current()
    assert photo["id"] in page.text and 'alt="Photo 1"' in page.text
    page = await visitor.submit("AdditionalDetails", **DETAILS)
    assert page.step == "Timeslot"
    page = await visitor.walk_to("Summary", today, first_page=page)
    page = await visitor.submit("Summary")
    assert page.step == "Confirmation"
    booking = await db.bookings.find_one({})
    assert booking is not None and [p["id"] for p in booking["photos"]] == [photo["id"]]
    record = await db.photos.find_one({"_id": photo["id"]})
    assert record is not None and record["booking_reference"] == booking["_id"] and "expires_at" not in record
    for key in kept:
        assert s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"] == [{"Key": "kept", "Value": "yes"}]


async def test_hostile_uploads_are_refused_with_a_clear_message_and_nothing_half_stored(
    visitor: Visitor, photos: Photos, s3: Any, db: Database, today: date,
) -> None:
    await visitor.walk_to("AdditionalDetails", today)

    # Refused before anything is uploaded.
    assert await photos.ask("image/svg+xml", 300) == (415, {"error": "not_a_photo", "message": "This file isn't a photo we can read. Use a JPEG, PNG or WebP picture."})
    status, answer = await photos.ask("image/jpeg", 40 * 1024 * 1024)
    assert status == 413 and "over 15 MB" in answer["message"]
    for size in ("abc", "", "1e9", "-5", "0"):
        status, answer = await photos.ask("image/jpeg", size)
        assert status == 400, (size, answer)
    assert (await photos.ask("image/jpeg\x00$where", 100))[0] == 415

    # Uploaded anyway, then refused at the check: nothing of them stays.
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script></svg>'
    status, answer = await photos.add(svg, "image/png")
    assert status == 422 and answer["message"] == "This file isn't a photo we can read. Use a JPEG, PNG or WebP picture."
    status, answer = await photos.add(png(30_000, 30_000, "1"), "image/png")  # ~100 kB, 900 megapixels
    assert status == 422 and "over 50 megapixels" in answer["message"]
    status, answer = await photos.add(b"%PDF-1.4\n" + b"0" * 5000, "image/jpeg")
    assert status == 422
    # Told 1 kB, sent 40 MB: S3's policy refuses it; a store that did not is caught by the check.
    status, answer = await photos.ask("image/jpeg", 1000)
    assert await photos.upload(answer, b"\xff" * (40 * 1024 * 1024)) in {200, 204, 400}
    status, refused = await photos.check(answer["id"])
    assert status == 413 and "over 15 MB" in refused["message"]
    # Checked before it was uploaded.
    status, answer = await photos.ask("image/jpeg", 1000)
    assert (await photos.check(answer["id"]))[0] == 409
    assert objects(s3) == []
    assert await db.photos.count_documents({}) == 0

    # A photo id from nowhere, or made up to reach something else.
    for photo_id in ("0123456789abcdef", "../../etc/passwd", "$where", "a" * 5000):
        assert (await photos.check(photo_id))[0] == 404
        assert await photos.remove(photo_id) in {404, 405}


async def test_a_replayed_upload_or_check_changes_nothing_that_was_kept(
    visitor: Visitor, photos: Photos, s3: Any, today: date,
) -> None:
    await visitor.walk_to("AdditionalDetails", today)
    status, answer = await photos.ask("image/jpeg", 5000)
    await photos.upload(answer, jpeg_from_a_phone(800, 600))
    status, _ = await photos.check(answer["id"])
    assert status == 200
    kept = {k: s3.get_object(Bucket=BUCKET, Key=k)["ETag"] for k in objects(s3, "photos/")}
    # The same presigned form posted again (within its minutes), with other bytes.
    await photos.upload(answer, jpeg_from_a_phone(600, 800))
    status, again = await photos.check(answer["id"])
    assert (status, again["error"]) == (409, "already_added")
    assert {k: s3.get_object(Bucket=BUCKET, Key=k)["ETag"] for k in objects(s3, "photos/")} == kept
    # What the replay left under uploads/ is never read; the lifecycle rule removes it in a day.
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert {"Prefix": "uploads/"} in [r["Filter"] for r in rules]


async def test_a_photo_of_another_session_is_not_found(
    app: Quart, visitor: Visitor, photos: Photos, client: Client, today: date,
) -> None:
    await visitor.walk_to("AdditionalDetails", today)
    status, photo = await photos.add(jpeg_from_a_phone(400, 300))
    assert status == 200
    stranger = Visitor(visitor._send)
    await stranger.walk_to("AdditionalDetails", today)
    theirs = Photos(client, stranger)
    assert (await theirs.check(photo["id"]))[0] == 404
    assert await theirs.remove(photo["id"]) == 404
    page = await stranger.current()
    assert photo["id"] not in page.text
    assert await photos.remove(photo["id"]) == 204
    assert photo["id"] not in (await visitor.current()).text


async def test_five_photos_at_most_even_asked_for_all_at_once(visitor: Visitor, photos: Photos, today: date) -> None:
    await visitor.walk_to("AdditionalDetails", today)
    answers = await asyncio.gather(*(photos.ask("image/jpeg", 1000) for _ in range(8)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 5 + [409] * 3
    assert {a["message"] for s, a in answers if s == 409} == {"You can add up to 5 photos."}
    removed = next(a for s, a in answers if s == 201)
    assert await photos.remove(removed["id"]) == 204
    assert (await photos.ask("image/jpeg", 1000))[0] == 201  # a slot freed is a slot again


async def test_photos_only_where_the_flow_asks_for_them(visitor: Visitor, photos: Photos, today: date) -> None:
    await visitor.start()
    assert (await photos.ask())[0] == 409  # not on the details step
    await visitor.submit("ZipCode", zip_code="78701")
    for answer in ("heating-cooling", "ac", "tune-up"):  # the tune-up asks for no photos
        page = await visitor.submit("ServiceSelection", answer=answer)
    assert page.step == "AdditionalDetails"
    assert "data-wrkbelt-photos" not in page.text
    status, answer = await photos.ask()
    assert (status, answer["error"]) == (409, "photos_not_asked")
    visitor.token = "not-a-session"
    assert (await photos.ask())[0] == 410  # no such session


async def test_photo_links_are_signed_and_lapse(
    visitor: Visitor, photos: Photos, client: Client, time_travel: time_machine.Coordinates, today: date,
) -> None:
    await visitor.walk_to("AdditionalDetails", today)
    _, photo = await photos.add(jpeg_from_a_phone(400, 300))
    path = photo["url"].removeprefix("http://localhost")
    assert (await client.get(path)).status_code == 302
    assert (await client.get(path[:-3] + "AAA")).status_code == 404
    assert (await client.get("/photos/" + "x" * 3000)).status_code == 404
    time_travel.shift(timedelta(days=181))
    assert (await client.get(path)).status_code == 404


async def test_asking_again_and_again_is_rate_limited(visitor: Visitor, photos: Photos, today: date) -> None:
    await visitor.walk_to("AdditionalDetails", today)
    statuses = [(await photos.ask("image/gif", 100))[0] for _ in range(41)]
    assert statuses[:40] == [415] * 40 and statuses[40] == 429
