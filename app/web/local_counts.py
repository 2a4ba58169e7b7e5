"""This process's share of the rate limits' counts (app/web/rate_limits.py says how they
are shared): per limit, the current window's tally of each key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Tally:
    """One key's window in this process: the shared count as last read, and ours since."""

    shared: int = 0
    unshared: int = 0


class LocalCounts:
    """This process's counts of the current window of each limit (older windows dropped)."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, dict[str, Tally]]] = {}

    def tally(self, which: str, key: str, window: int) -> Tally:
        current, tallies = self._windows.get(which, (window, {}))
        if current != window:
            current, tallies = window, {}  # a new window: the old one's counts no longer matter
        self._windows[which] = (current, tallies)
        return tallies.setdefault(key, Tally())
