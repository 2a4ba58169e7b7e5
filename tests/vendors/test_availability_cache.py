"""Kept vendor answers: one fetch however many ask, and a booking forgets only its owner's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from app.vendors.availability_cache import AvailabilityCache


def loader(calls: list[str], name: str, gate: asyncio.Event | None = None) -> Callable[[], Awaitable[str]]:
    async def load() -> str:
        calls.append(name)
        if gate is not None:
            await gate.wait()
        return f"{name}#{calls.count(name)}"

    return load


async def test_an_answer_is_fetched_once_and_kept_for_its_seconds() -> None:
    clock = [100.0]
    cache = AvailabilityCache(clock=lambda: clock[0])
    calls: list[str] = []
    gate = asyncio.Event()
    waiting = [asyncio.ensure_future(cache.get(("local", "org-1", "month", 2027, 1), 30, loader(calls, "jan", gate))) for _ in range(20)]
    await asyncio.sleep(0)
    gate.set()
    assert set(await asyncio.gather(*waiting)) == {"jan#1"}
    clock[0] += 29
    assert await cache.get(("local", "org-1", "month", 2027, 1), 30, loader(calls, "jan")) == "jan#1"
    clock[0] += 2
    assert await cache.get(("local", "org-1", "month", 2027, 1), 30, loader(calls, "jan")) == "jan#2"
    assert calls == ["jan", "jan"]


async def test_forgetting_drops_only_the_prefix_of_that_owner() -> None:
    cache = AvailabilityCache(clock=lambda: 0.0)
    calls: list[str] = []
    keys = {
        "a-windows": ("acme", "servicetitan", "windows", "svc", "10001"),
        "a-zones": ("acme", "servicetitan", "zones"),
        "b-windows": ("bolt", "servicetitan", "windows", "svc", "10001"),
        "local-a": ("local", "org-a", "month", 2027, 1),
        "local-b": ("local", "org-b", "month", 2027, 1),
    }
    for name, key in keys.items():
        await cache.get(key, 60, loader(calls, name))
    cache.forget(("acme", "servicetitan", "windows"))
    cache.forget(("local", "org-a"))
    for name, key in keys.items():
        await cache.get(key, 60, loader(calls, name))
    assert sorted(calls) == sorted([*keys, "a-windows", "local-a"])  # only those two fetched again


async def test_a_fetch_across_a_forget_is_kept_only_when_another_owner_forgot() -> None:
    cache = AvailabilityCache(clock=lambda: 0.0)
    calls: list[str] = []
    gate = asyncio.Event()
    mine = asyncio.ensure_future(cache.get(("local", "org-a", "month", 2027, 1), 60, loader(calls, "a", gate)))
    theirs = asyncio.ensure_future(cache.get(("local", "org-b", "month", 2027, 1), 60, loader(calls, "b", gate)))
    await asyncio.sleep(0)
    cache.forget(("local", "org-a"))  # a booking at org-a while both months were being read
    gate.set()
    assert await mine == "a#1" and await theirs == "b#1"  # the callers who asked get the answer
    assert await cache.get(("local", "org-a", "month", 2027, 1), 60, loader(calls, "a")) == "a#2"  # stale: read again
    assert await cache.get(("local", "org-b", "month", 2027, 1), 60, loader(calls, "b")) == "b#1"  # still good: kept


async def test_evicted_answers_leave_no_trace_for_a_forget() -> None:
    cache = AvailabilityCache(max_entries=3, clock=lambda: 0.0)
    calls: list[str] = []
    for month in range(1, 7):
        await cache.get(("local", "org-a", "month", 2027, month), 60, loader(calls, f"m{month}"))
    cache.forget(("local", "org-a"))  # three were evicted already: nothing to trip on
    cache.forget(("local", "org-a"))
    await cache.get(("local", "org-a", "month", 2027, 6), 60, loader(calls, "m6"))
    assert calls[-1] == "m6" and calls.count("m6") == 2


def test_a_prefix_must_name_an_owner() -> None:
    with pytest.raises(ValueError):
        AvailabilityCache().forget(("local",))
