"""The current time, in one place so tests can choose it.

Every request reads the application's clock (`app.web.services.now()`). In production it
is the wall clock. A test moves it in-process (time-machine); a server
a test starts in another process is given TEST_CLOCK_START, which settings accept only
when ENVIRONMENT=test, and its clock starts there and runs on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def clock_starting_at(start: datetime | None) -> Clock:
    """The wall clock, or (start given) a clock that reads `start` now and runs on at real speed."""
    if start is None:
        return utc_now
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)
