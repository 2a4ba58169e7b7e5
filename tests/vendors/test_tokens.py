"""Access tokens: one fetch however many callers, renewed a minute before they lapse."""

from __future__ import annotations

import asyncio

from app.vendors.tokens import AccessTokens


async def test_a_token_is_fetched_once_and_renewed_before_it_lapses() -> None:
    clock = [1000.0]
    fetched: list[str] = []

    async def fetch() -> tuple[str, float]:
        await asyncio.sleep(0.01)
        fetched.append(f"token-{len(fetched) + 1}")
        return fetched[-1], 900.0  # ServiceTitan's 15 minutes

    cache = AccessTokens(clock=lambda: clock[0])
    assert set(await asyncio.gather(*(cache.get("tenant-1", fetch) for _ in range(10)))) == {"token-1"}
    clock[0] += 839  # 61 s left: still good
    assert await cache.get("tenant-1", fetch) == "token-1"
    clock[0] += 2  # 59 s left: renewed before it can lapse mid-request
    assert await cache.get("tenant-1", fetch) == "token-2"
    assert await cache.get("tenant-2", fetch) == "token-3"  # kept per tenant
    cache.forget("tenant-1")
    assert await cache.get("tenant-1", fetch) == "token-4"
