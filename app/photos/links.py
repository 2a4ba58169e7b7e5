"""Signed links to one photo's copy, for whoever was given them: the visitor's widget, the
company's console and email, a vendor's job note.

A link names the object's key and when it lapses, signed with LINK_SECRET (itsdangerous);
the route that answers it (`/photos/<token>`) redirects to a presigned S3 GET good for
minutes, so the bucket stays private and a link can be withdrawn by deleting the object.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

# Long enough for the company to look at a job's photos when the technician goes.
LINKS_LAST = timedelta(days=180)


class PhotoLinks:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="photo-link")

    def token(self, key: str, now: datetime) -> str:
        return str(self._serializer.dumps({"k": key, "x": int((now + LINKS_LAST).timestamp())}))

    def key_of(self, token: str, now: datetime) -> str | None:
        """The object's key, if the link is ours and still good at `now`."""
        try:
            data = self._serializer.loads(token[:1000])
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("k"), str) or not isinstance(data.get("x"), int):
            return None
        if now.timestamp() > data["x"] or not data["k"].startswith("photos/"):
            return None
        return str(data["k"])
