"""The uploads bucket (S3): presigned POSTs for the visitor's browser, and the copies kept.

The web process never carries an upload's bytes from the browser: the browser POSTs the
file to S3 with a form this module presigns, whose policy pins the object's key, its
Content-Type and its size range, and expires in minutes. The server then reads the object
once to check it (`app/photos/images.py`) and writes the copies it keeps.

Keys: `uploads/{organization}/{session}/{photo}` as the browser sent it (read once, then
deleted; a lifecycle rule removes any left behind after a day), and
`photos/{organization}/{session}/{photo}.jpg` and `…-thumb.jpg`, the copies, tagged
`kept=no` until a booking takes them (`keep`): the lifecycle rule removes unkept copies of
abandoned sessions after 30 days (cdn/infra.py's uploads bucket).
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

UPLOAD_SECONDS = 10 * 60
KEPT_TAG = "kept"


class StorageUnavailable(RuntimeError):
    """S3 did not answer, or refused: nothing was stored by the call that raised it."""


def upload_key(organization_id: str, session_id: str, photo_id: str) -> str:
    return f"uploads/{organization_id}/{session_id}/{photo_id}"


def photo_keys(organization_id: str, session_id: str, photo_id: str) -> tuple[str, str]:
    stem = f"photos/{organization_id}/{session_id}/{photo_id}"
    return f"{stem}.jpg", f"{stem}-thumb.jpg"


class PhotoStore:
    """One S3 client for the process (opened when the app starts serving)."""

    def __init__(self, bucket: str, endpoint_url: str | None = None, region: str | None = None) -> None:
        self.bucket = bucket
        self._endpoint_url = endpoint_url
        self._region = region
        self._stack = AsyncExitStack()
        self._client: Any = None

    async def start(self) -> None:
        session = aioboto3.Session(region_name=self._region)
        config = AioConfig(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"},
                           s3={"addressing_style": "path" if self._endpoint_url else "auto"})
        self._client = await self._stack.enter_async_context(session.client("s3", endpoint_url=self._endpoint_url, config=config))

    async def close(self) -> None:
        await self._stack.aclose()

    async def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return await getattr(self._client, operation)(Bucket=self.bucket, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"S3 {operation}: {exc}") from exc

    async def upload_form(self, key: str, content_type: str, max_bytes: int) -> dict[str, Any]:
        """What the browser POSTs the file with: {url, fields}; the policy allows this key,
        this Content-Type, 1 byte to `max_bytes`, for UPLOAD_SECONDS."""
        try:
            form: dict[str, Any] = await self._client.generate_presigned_post(
                Bucket=self.bucket, Key=key, Fields={"Content-Type": content_type},
                Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
                ExpiresIn=UPLOAD_SECONDS,
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"S3 presign: {exc}") from exc
        return form

    async def size_of(self, key: str) -> int | None:
        """The object's size, or None when there is none at `key`."""
        try:
            head = await self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise StorageUnavailable(f"S3 head: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"S3 head: {exc}") from exc
        return int(head["ContentLength"])

    async def read(self, key: str, limit: int) -> bytes:
        """At most `limit` bytes of the object (a caller checked its size first)."""
        answer = await self._call("get_object", Key=key, Range=f"bytes=0-{limit - 1}")
        async with answer["Body"] as body:
            data: bytes = await body.read()
        return data[:limit]

    async def put(self, key: str, data: bytes) -> None:
        await self._call("put_object", Key=key, Body=data, ContentType="image/jpeg", Tagging=f"{KEPT_TAG}=no",
                         ServerSideEncryption="AES256", CacheControl="private, max-age=86400")

    async def delete(self, *keys: str) -> None:
        if keys:
            await self._call("delete_objects", Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})

    async def keep(self, key: str) -> None:
        """The copy belongs to a booking now: the lifecycle rule for abandoned uploads leaves it."""
        await self._call("put_object_tagging", Key=key, Tagging={"TagSet": [{"Key": KEPT_TAG, "Value": "yes"}]})

    async def read_all(self, key: str) -> bytes:
        answer = await self._call("get_object", Key=key)
        async with answer["Body"] as body:
            data: bytes = await body.read()
        return data

    async def link(self, key: str, seconds: int = 15 * 60) -> str:
        """A presigned GET of the object, good for `seconds`."""
        try:
            url: str = await self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds,
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"S3 presign: {exc}") from exc
        return url
