"""One HTTP client for every field-service system: time-outs, pacing, retries.

Every call has a time-out. A 429 or 5xx answer (and, for reads, a time-out) is retried
with exponential backoff and jitter, waiting at least what `Retry-After` asks; a wait
longer than `longest_wait` is not sat out in a visitor's request but raised as
VendorUnavailable with the time to try again (the outbox uses it). Calls are paced per
vendor account so a burst of visitors stays under the vendor's rate limit.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from app.metrics import VENDOR_CALLS, VENDOR_LATENCY
from app.vendors.base import VendorRejected, VendorUnauthorized, VendorUnavailable

log = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
# Reads: a time-out or a 5xx means nothing changed, so they are safe to send again.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How an answer's body becomes a message for our logs (each vendor has its own shape).
ErrorReader = Callable[[httpx.Response], str]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 3.0
    longest_wait: float = 8.0  # a Retry-After beyond this goes back to the caller


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """`Retry-After` as seconds, whether given as a number or as an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


class Pacer:
    """At most `rate` calls a second on one vendor account (in this process), in bursts of
    up to `rate` calls: a token bucket, like the per-second windows vendors count in."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._burst = max(1.0, rate)
        self._tokens = self._burst
        self._updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            self._tokens -= 1  # taken now, or reserved: below zero the caller waits its turn
            delay = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if delay > 0:
            await asyncio.sleep(delay)


def body_text(response: httpx.Response, limit: int = 300) -> str:
    return response.text[:limit].strip() or response.reason_phrase


class VendorHttp:
    def __init__(self, client: httpx.AsyncClient, retry: RetryPolicy = RetryPolicy()) -> None:
        self.client = client
        self.retry = retry
        self._pacers: dict[str, Pacer] = {}

    @classmethod
    def create(cls, retry: RetryPolicy = RetryPolicy()) -> VendorHttp:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        return cls(httpx.AsyncClient(limits=limits, follow_redirects=False), retry)

    async def close(self) -> None:
        await self.client.aclose()

    def _pacer(self, account: str, rate: float) -> Pacer:
        pacer = self._pacers.get(account)
        if pacer is None:
            pacer = self._pacers[account] = Pacer(rate)
        return pacer

    async def send(
        self,
        vendor: str,
        account: str,
        method: str,
        url: str,
        *,
        timeout: float,
        rate: float,
        read_error: ErrorReader = body_text,
        safe_to_repeat: bool | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The vendor's 2xx answer; VendorRejected for a 4xx, VendorUnavailable when out of tries.

        `account` names the credentials (a fingerprint, never the secret) for pacing.
        `safe_to_repeat` marks a POST that only reads (ServiceTitan's capacity query).
        """
        repeatable = method in SAFE_METHODS if safe_to_repeat is None else safe_to_repeat
        path = httpx.URL(url).path
        last_problem = "no answer"
        for attempt in range(1, self.retry.attempts + 1):
            await self._pacer(account, rate).wait()
            started = time.monotonic()
            try:
                response = await self.client.request(method, url, timeout=timeout, **kwargs)
            except httpx.TimeoutException as exc:
                VENDOR_CALLS.labels(vendor, "timeout").inc()
                last_problem = f"{method} {path} timed out after {timeout:g} s"
                log.warning("vendor call failed", extra={"vendor": vendor, "problem": last_problem, "attempt": attempt})
                sent = not isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
                if sent and not repeatable:
                    raise VendorUnavailable(vendor, last_problem, ambiguous=True) from None
            except httpx.TransportError as exc:
                VENDOR_CALLS.labels(vendor, "unreachable").inc()
                last_problem = f"{method} {path} could not connect ({type(exc).__name__})"
                log.warning("vendor call failed", extra={"vendor": vendor, "problem": last_problem, "attempt": attempt})
            else:
                elapsed = time.monotonic() - started
                elapsed_ms = round(elapsed * 1000, 1)
                VENDOR_LATENCY.labels(vendor).observe(elapsed)
                code = response.status_code
                VENDOR_CALLS.labels(vendor, "429" if code == 429 else f"{code // 100}xx").inc()
                if response.is_success:
                    log.debug("vendor call", extra={"vendor": vendor, "path": path, "status": response.status_code, "ms": elapsed_ms})
                    return response
                message = f"{method} {path} answered {response.status_code}: {read_error(response)}"
                log.warning("vendor call failed", extra={"vendor": vendor, "problem": message, "attempt": attempt})
                if response.status_code not in RETRIED_STATUSES:
                    error = VendorUnauthorized if response.status_code in (401, 403) else VendorRejected
                    raise error(vendor, message, status=response.status_code)
                last_problem = message
                if response.status_code != 429 and not repeatable:
                    # A create that failed with a 5xx may still have been made.
                    raise VendorUnavailable(vendor, message, ambiguous=True)
                wait = retry_after_seconds(response)
                if wait is not None:
                    if wait > self.retry.longest_wait:
                        raise VendorUnavailable(vendor, message, retry_after=wait)
                    if attempt < self.retry.attempts:
                        await asyncio.sleep(wait + random.uniform(0, 0.1))
                        continue
            if attempt < self.retry.attempts:
                delay = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
                await asyncio.sleep(random.uniform(delay / 2, delay))
        raise VendorUnavailable(vendor, f"{last_problem} ({self.retry.attempts} tries)")
