"""Consuming session events from the SQS FIFO queue and storing each exactly once.

- Long polls; a message is deleted only after its event is stored (a crash in between
  means a redelivery, which the store ignores).
- While a batch is being worked on, its messages are kept invisible (a heartbeat
  extends their visibility), so a slow batch is not handed to another worker.
- A message that cannot be read is left alone: after the queue's maxReceiveCount the
  queue's redrive policy moves it to the dead-letter queue.
- An event the database refuses is set aside in the dead-letter collection and the
  rest of its batch stored (store.store_events); a database that does not answer
  leaves the batch undeleted, to come back after its visibility timeout. Neither
  stops the consumer.
- stop() lets the batch in hand finish; a long poll in progress is abandoned (its
  messages, if any arrive, come back after their visibility timeout).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.db import Database
from app.events.models import SessionEvent
from app.events.store import store_events

logger = logging.getLogger("worker")


@dataclass(frozen=True)
class ConsumerSettings:
    queue_url: str
    wait_seconds: int = 20
    visibility_timeout: int = 60
    max_messages: int = 10

    @property
    def heartbeat_seconds(self) -> float:
        return max(self.visibility_timeout / 3, 1)


class EventConsumer:
    def __init__(self, db: Database, sqs: Any, settings: ConsumerSettings) -> None:
        self.db = db
        self.sqs = sqs
        self.settings = settings
        self.stopping = asyncio.Event()
        self.stored = 0

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        logger.info("consuming %s", self.settings.queue_url)
        while not self.stopping.is_set():
            receive = asyncio.ensure_future(self._receive())
            stop = asyncio.ensure_future(self.stopping.wait())
            done, _ = await asyncio.wait({receive, stop}, return_when=asyncio.FIRST_COMPLETED)
            if receive not in done:
                receive.cancel()
                break
            stop.cancel()
            messages = receive.result()
            if messages:
                await self.handle(messages)
        logger.info("stopped after storing %d events", self.stored)

    async def _receive(self) -> list[dict[str, Any]]:
        response = await self.sqs.receive_message(
            QueueUrl=self.settings.queue_url,
            MaxNumberOfMessages=self.settings.max_messages,
            WaitTimeSeconds=self.settings.wait_seconds,
            VisibilityTimeout=self.settings.visibility_timeout,
            MessageSystemAttributeNames=["ApproximateReceiveCount", "MessageGroupId"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    async def handle(self, messages: list[dict[str, Any]]) -> None:
        heartbeat = asyncio.create_task(self._keep_invisible(messages))
        try:
            events: list[SessionEvent] = []
            readable: list[dict[str, Any]] = []
            for message in messages:
                try:
                    events.append(SessionEvent.model_validate_json(message["Body"]))
                    readable.append(message)
                except ValidationError as exc:
                    receives = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
                    logger.error("unreadable message %s (received %s times): %s", message["MessageId"], receives, exc)
            if events:
                try:
                    new = await store_events(self.db, events)
                except Exception:
                    # The database is away (or something unforeseen): keep the messages;
                    # they come back after their visibility timeout, to the DLQ at worst.
                    logger.exception("storing %d events failed; their messages come back later", len(events))
                    return
                self.stored += new
                await self._delete(readable)
                logger.info(
                    "stored events",
                    extra={"received": len(events), "new": new, "request_ids": sorted({e.request_id for e in events if e.request_id})},
                )
        finally:
            heartbeat.cancel()

    async def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            response = await self.sqs.delete_message_batch(
                QueueUrl=self.settings.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            for failed in response.get("Failed", []):
                logger.warning("could not delete a stored message (it will be redelivered and ignored): %s", failed)

    async def _keep_invisible(self, messages: list[dict[str, Any]]) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            await self.sqs.change_message_visibility_batch(
                QueueUrl=self.settings.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.settings.visibility_timeout}
                    for i, m in enumerate(messages)
                ],
            )
