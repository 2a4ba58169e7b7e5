"""Photos of the problem as the widget's photo code sends them (tests/test_photos.py and the
vendors' photo tests use it): ask for an upload form, POST the file to S3 over a real
socket, ask the server to check it, remove it."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import httpx
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from quart.typing import TestClientProtocol as Client

from tests.visitor import DETAILS, Visitor

BUCKET = "test-uploads"
ORIGIN = "http://localhost:8000"


def objects(s3: Any, prefix: str = "") -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def jpeg_from_a_phone(width: int = 4000, height: int = 3000) -> bytes:
    """A photo as a phone takes it: sideways pixels with an EXIF orientation, and where it was taken."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° to show upright
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (IFDRational(30), IFDRational(16), IFDRational(2))
    out = io.BytesIO()
    Image.new("RGB", (width, height), (180, 40, 40)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, "PNG")
    return out.getvalue()


class Photos:
    """The widget's photo code, as requests: ask, upload to S3, check, remove."""

    def __init__(self, client: Client, visitor: Visitor) -> None:
        self.client = client
        self.visitor = visitor

    def headers(self) -> dict[str, str]:
        return self.visitor._headers() | {"Origin": ORIGIN}

    async def ask(self, content_type: str = "image/jpeg", size: int | str = 1000) -> tuple[int, dict[str, Any]]:
        response = await self.client.post("/session/photos", form={"content_type": content_type, "size": str(size)}, headers=self.headers())
        return response.status_code, await response.get_json()

    async def check(self, photo_id: str) -> tuple[int, dict[str, Any]]:
        response = await self.client.post(f"/session/photos/{photo_id}", headers=self.headers())
        return response.status_code, await response.get_json()

    async def remove(self, photo_id: str) -> int:
        response = await self.client.delete(f"/session/photos/{photo_id}", headers=self.headers())
        return response.status_code

    @staticmethod
    async def upload(answer: dict[str, Any], data: bytes, content_type: str = "image/jpeg") -> int:
        """The browser's POST to S3, over a real socket."""
        upload = answer["upload"]
        async with httpx.AsyncClient(timeout=30) as s3:
            response = await s3.post(upload["url"], data=upload["fields"], files={"file": ("photo", data, content_type)})
        return response.status_code

    async def add(self, data: bytes, content_type: str = "image/jpeg") -> tuple[int, dict[str, Any]]:
        status, answer = await self.ask(content_type, len(data))
        assert status == 201, answer
        assert await self.upload(answer, data, content_type) in {200, 201, 204}
        return await self.check(answer["id"])

    async def book_with(self, count: int, today: date, width: int = 1200, height: int = 900) -> list[dict[str, Any]]:
        """From the details step, `count` phone photos added and the booking confirmed; the photos' answers."""
        added = []
        for _ in range(count):
            status, photo = await self.add(jpeg_from_a_phone(width, height))
            assert status == 200, photo
            added.append(photo)
        page = await self.visitor.submit("AdditionalDetails", **DETAILS)
        page = await self.visitor.walk_to("Summary", today, first_page=page)
        assert (await self.visitor.submit("Summary")).step == "Confirmation"
        return added

