"""Where events go from the web process: the SQS FIFO queue, or an in-process queue.

Both end in `store.store_events`: the worker runs it for SQS, a background task here
runs it for the in-process queue (development, tests, a single box).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from contextlib import AsyncExitStack, suppress
from typing import Any, Protocol

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

from app.db import DB_WORK, Database
from app.events.models import SessionEvent
from app.events.store import store_events
from app.metrics import EVENT_QUEUE_DEPTH, EVENTS_SHED

logger = logging.getLogger(__name__)
SQS_BATCH = 10  # SendMessageBatch takes at most ten entries
SEND_ATTEMPTS = 5
COALESCE_EVENTS = 2000  # the in-process queue stores at most this many events per call
# How long the in-process queue lets a batch gather after its first events arrive: the
# requests answered meanwhile join it, so storing costs its three round trips (insert,
# summaries read, summaries write) once per batch, not once per request. At a visitor's
# pace (40 requests a second) that was three more commands a step for the database.
LINGER_SECONDS = 0.2


# Events a web process keeps while they wait to be stored or sent; beyond it new events
# are refused (the widget's are not acknowledged, so it sends them again later).
MAX_WAITING_EVENTS = 50_000


class EventPublisher(Protocol):
    async def start(self) -> None: ...
    async def publish(self, events: list[SessionEvent]) -> bool:
        """Take the events (True), or refuse them all because too many wait already (False)."""
        ...
    async def stop(self) -> None: ...


def _shed(events: list[SessionEvent]) -> bool:
    for source in ("server", "client"):
        count = sum(1 for e in events if e.source == source)
        if count:
            EVENTS_SHED.labels(source).inc(count)
    logger.error("the event queue is full: %d events refused", len(events))
    return False


def message_for(index: int, event: SessionEvent) -> dict[str, str]:
    return {
        "Id": f"m{index}",  # unique within one SendMessageBatch call
        "MessageBody": event.model_dump_json(),
        "MessageGroupId": event.session_id,
        "MessageDeduplicationId": event.key,
    }


class SqsPublisher:
    """Sends events to the FIFO queue: grouped by session (ordered), deduplicated by identity.

    While the queue cannot be reached, events wait here in order (bounded) and a task
    sends them when it answers again; what waits is lost only if the process dies.
    """

    def __init__(
        self,
        queue_url: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        retry_delays: tuple[float, ...] = (1, 2, 5, 10, 30),
        max_waiting: int = MAX_WAITING_EVENTS,
    ) -> None:
        self.queue_url = queue_url
        self._endpoint_url = endpoint_url
        self._region = region
        self._retry_delays = retry_delays
        self._max_waiting = max_waiting
        self._waiting: deque[SessionEvent] = deque()
        self._retrying: asyncio.Task[None] | None = None
        self._stack = AsyncExitStack()
        self._client: Any = None

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def start(self) -> None:
        session = aioboto3.Session(region_name=self._region)
        # Short timeouts: a visitor's request waits on this only until we know the queue is away.
        config = AioConfig(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
        self._client = await self._stack.enter_async_context(
            session.client("sqs", endpoint_url=self._endpoint_url, config=config)
        )

    async def publish(self, events: list[SessionEvent]) -> bool:
        if self._waiting:
            return self._wait(events)  # behind what already waits: a session's events keep their order
        try:
            await self._send(events)
        except (BotoCoreError, ClientError, RuntimeError) as exc:
            logger.warning("the event queue is unreachable (%s): %d events wait", exc, len(events))
            return self._wait(events)
        return True

    def _wait(self, events: list[SessionEvent]) -> bool:
        """Keep the events until the queue answers; refuse them when too many wait already."""
        if len(self._waiting) + len(events) > self._max_waiting:
            return _shed(events)  # what waits was taken (acknowledged): it is never dropped
        self._waiting.extend(events)
        EVENT_QUEUE_DEPTH.set(len(self._waiting))
        if self._retrying is None or self._retrying.done():
            self._retrying = asyncio.create_task(self._send_waiting())
        return True

    async def _send_waiting(self) -> None:
        attempt = 0
        while self._waiting:
            chunk = [self._waiting[i] for i in range(min(len(self._waiting), SQS_BATCH * 10))]
            try:
                await self._send(chunk)
            except (BotoCoreError, ClientError, RuntimeError):
                await asyncio.sleep(self._retry_delays[min(attempt, len(self._retry_delays) - 1)])
                attempt += 1
                continue
            for _ in chunk:
                self._waiting.popleft()
            EVENT_QUEUE_DEPTH.set(len(self._waiting))
            attempt = 0
        logger.info("the event queue answers again: every waiting event was sent")

    async def _send(self, events: list[SessionEvent]) -> None:
        for start in range(0, len(events), SQS_BATCH):
            batch = events[start : start + SQS_BATCH]
            pending = {m["Id"]: m for m in (message_for(i, e) for i, e in enumerate(batch))}
            for attempt in range(SEND_ATTEMPTS):
                response = await self._client.send_message_batch(QueueUrl=self.queue_url, Entries=list(pending.values()))
                for failed in response.get("Failed", []):
                    logger.warning("SQS refused event %s: %s", failed["Id"], failed.get("Message"))
                pending = {f["Id"]: pending[f["Id"]] for f in response.get("Failed", []) if f["Id"] in pending}
                if not pending:
                    break
                await asyncio.sleep(0.1 * 2**attempt)
            if pending:
                raise RuntimeError(f"SQS refused {len(pending)} events after {SEND_ATTEMPTS} attempts")

    async def stop(self) -> None:
        if self._retrying is not None and not self._retrying.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._retrying), timeout=10)
            except TimeoutError:
                logger.error("stopping with %d events the queue never took", len(self._waiting))
            self._retrying.cancel()
        await self._stack.aclose()


class InProcessPublisher:
    """A queue in this process, drained by a task running the worker's handler.

    Bounded: past `max_waiting` events new ones are refused (counted in /metrics). A
    batch the database cannot take now is offered again after a pause; one holding an
    event the database refuses is stored without it (see store.store_events). A batch
    gathers for `linger_seconds` after its first events arrive, unless someone waits for
    the queue to empty (`drain`, `stop`).
    """

    def __init__(
        self, db: Database, max_waiting: int = MAX_WAITING_EVENTS, retry_seconds: float = 1.0, linger_seconds: float = LINGER_SECONDS,
    ) -> None:
        self._db = db
        self._max_waiting = max_waiting
        self._retry_seconds = retry_seconds
        self._linger_seconds = linger_seconds
        self._queue: asyncio.Queue[list[SessionEvent]] = asyncio.Queue()
        self._waiting = 0  # events in the queue and in the batch being stored
        self._task: asyncio.Task[None] | None = None
        self._draining = 0  # callers of drain() waiting: no batch lingers for them
        self._hurry = asyncio.Event()

    @property
    def waiting(self) -> int:
        return self._waiting

    async def start(self) -> None:
        self._task = asyncio.create_task(self._drain_forever())

    async def publish(self, events: list[SessionEvent]) -> bool:
        if not events:
            return True
        if self._waiting + len(events) > self._max_waiting:
            return _shed(events)
        self._waiting += len(events)
        self._queue.put_nowait(events)
        EVENT_QUEUE_DEPTH.set(self._waiting)
        return True

    async def _drain_forever(self) -> None:
        DB_WORK.set("events")  # this task's round trips are not any request's
        while True:
            batches = [await self._queue.get()]
            if self._linger_seconds > 0 and self._waiting < COALESCE_EVENTS:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.wait(), self._linger_seconds)
            # Whatever else is waiting goes in the same call: one insert, one summary per session.
            while not self._queue.empty() and sum(map(len, batches)) < COALESCE_EVENTS:
                batches.append(self._queue.get_nowait())
            events = [event for batch in batches for event in batch]
            try:
                await store_events(self._db, events)
                self._waiting -= len(events)
            except Exception:
                logger.exception("storing %d events failed; they are offered again", len(events))
                await asyncio.sleep(self._retry_seconds)
                self._queue.put_nowait(events)
            finally:
                for _ in batches:
                    self._queue.task_done()
                EVENT_QUEUE_DEPTH.set(self._waiting)

    async def drain(self) -> None:
        """Wait until everything published so far is stored (at once: no batch lingers)."""
        self._draining += 1
        self._hurry.set()
        try:
            await self._queue.join()
        finally:
            self._draining -= 1
            if not self._draining:
                self._hurry.clear()

    async def stop(self) -> None:
        await self.drain()
        if self._task is not None:
            self._task.cancel()


def publisher_for(db: Database, queue_url: str | None, endpoint_url: str | None) -> EventPublisher:
    return SqsPublisher(queue_url, endpoint_url) if queue_url else InProcessPublisher(db)

