"""Access tokens kept per vendor account in this process and renewed before they lapse."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Renew this long before the vendor's expiry, so a token never lapses mid-request.
RENEW_MARGIN_SECONDS = 60.0

# Fetches a new token: (access token, seconds it is valid for).
TokenFetch = Callable[[], Awaitable[tuple[str, float]]]


class AccessTokens:
    def __init__(self, renew_margin: float = RENEW_MARGIN_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._renew_margin = renew_margin
        self._clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, account: str, fetch: TokenFetch) -> str:
        """The account's token; one fetch at a time however many requests need it."""
        token = self._fresh(account)
        if token is not None:
            return token
        lock = self._locks.setdefault(account, asyncio.Lock())
        async with lock:
            token = self._fresh(account)
            if token is None:
                token, lifetime = await fetch()
                self._tokens[account] = (token, self._clock() + lifetime)
            return token

    def forget(self, account: str) -> None:
        """Drop a token the vendor refused (revoked, or its clock disagrees with ours)."""
        self._tokens.pop(account, None)

    def _fresh(self, account: str) -> str | None:
        found = self._tokens.get(account)
        if found is None or found[1] - self._renew_margin <= self._clock():
            return None
        return found[0]
