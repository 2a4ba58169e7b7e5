"""A photo of the problem, as a visitor's session and then their booking keep it.

The bytes live in the uploads bucket (`app/photos/`): a resized copy at `key`, a thumbnail
at `thumb_key`, both re-encoded as JPEG without EXIF. Stored shape:
`{id, key, thumb_key, width, height, bytes}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Photo:
    id: str
    key: str
    thumb_key: str
    width: int
    height: int
    bytes: int

    @property
    def filename(self) -> str:
        return f"photo-{self.id}.jpg"

    def to_document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Photo:
        return cls(
            id=str(doc["id"]), key=str(doc["key"]), thumb_key=str(doc["thumb_key"]),
            width=int(doc.get("width") or 0), height=int(doc.get("height") or 0), bytes=int(doc.get("bytes") or 0),
        )
