"""CloudFront invalidation, shared by publish and `python -m cdn invalidate`."""

from __future__ import annotations

import time
import uuid
from typing import Any

DEFAULT_PATHS = ("/*",)


def check_paths(paths: list[str] | tuple[str, ...]) -> list[str]:
    """Paths as CloudFront takes them: each starts with `/`; at most 3000 per request."""
    cleaned = [p.strip() for p in paths if p.strip()]
    if not cleaned:
        raise ValueError("give at least one path, such as /scheduler.js or /*")
    bad = [p for p in cleaned if not p.startswith("/")]
    if bad:
        raise ValueError(f"paths must start with '/': {', '.join(bad)}")
    if len(cleaned) > 3000:
        raise ValueError("CloudFront takes at most 3000 paths in one invalidation")
    return cleaned


async def create_invalidation(cloudfront: Any, distribution_id: str, paths: list[str] | tuple[str, ...]) -> str:
    """Start an invalidation; returns its id."""
    cleaned = check_paths(paths)
    response = await cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(cleaned), "Items": cleaned},
            "CallerReference": f"scheduler-{int(time.time())}-{uuid.uuid4().hex[:8]}",
        },
    )
    return str(response["Invalidation"]["Id"])
