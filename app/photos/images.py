"""What an upload must be to count as a photo, and the copies kept of it (Pillow).

An upload is a photo when Pillow decodes it as JPEG, PNG or WebP. Its size in pixels is
read from the header and bounded *before* anything is decoded, so a small file claiming
30,000 × 30,000 pixels (a decompression bomb) costs nothing. What is kept is re-encoded:
turned upright by its EXIF orientation, then written as JPEG with no EXIF at all (a
phone's photo carries where it was taken), as a copy at most 1,600 px on its long side and
a 320 px thumbnail. Nothing of the uploaded file reaches the company but its pixels: an SVG
with a script, a polyglot, a PDF named .jpg all fail to decode and are refused.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from app.i18n import N_

FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
# What the visitor's browser may say it sends (the presigned policy pins it).
CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
# A 48-megapixel phone camera is 8,000 × 6,000; nothing real is larger.
MAX_PIXELS = 50_000_000
LONG_SIDE = 1600
THUMB_SIDE = 320
QUALITY = 82

NOT_A_PHOTO = N_("This file isn't a photo we can read. Use a JPEG, PNG or WebP picture.")
TOO_MANY_PIXELS = N_("This picture is too large (over 50 megapixels). Take a new photo or send a smaller copy.")


class NotAPhoto(ValueError):
    """The upload is refused; `message` says why, for the visitor (to be translated)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Copies:
    """The resized copy (its size in pixels) and the thumbnail."""

    photo: bytes
    thumb: bytes
    width: int
    height: int


def _jpeg(image: Image.Image, side: int) -> tuple[bytes, tuple[int, int]]:
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=QUALITY, optimize=True)  # no exif= given: none is written
    return out.getvalue(), copy.size


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency over white, palettes and greys expanded."""
    if image.mode in {"RGBA", "LA", "P", "PA"}:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def make_copies(data: bytes) -> Copies:
    """The resized copy and thumbnail of an uploaded photo; NotAPhoto when it is not one."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=sorted(FORMATS)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise NotAPhoto(TOO_MANY_PIXELS)
                image.load()
                upright = ImageOps.exif_transpose(image)
                flat = _flatten(upright)
        except NotAPhoto:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise NotAPhoto(TOO_MANY_PIXELS) from None
        except (OSError, SyntaxError, ValueError, EOFError, UnidentifiedImageError, MemoryError):
            raise NotAPhoto(NOT_A_PHOTO) from None
    photo, (width, height) = _jpeg(flat, LONG_SIDE)
    thumb, _ = _jpeg(flat, THUMB_SIDE)
    return Copies(photo=photo, thumb=thumb, width=width, height=height)
