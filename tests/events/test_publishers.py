"""With the queue unreachable, events wait, and are delivered when it answers again."""

from __future__ import annotations

import asyncio
import json

import boto3
from moto.server import ThreadedMotoServer

from app.embedded_db import free_port
from app.events.publishers import SqsPublisher
from tests.conftest import MotoServer
from tests.worker.test_consumer import events_of


async def test_events_wait_while_the_queue_is_away_and_go_when_it_answers(moto_server: MotoServer) -> None:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    publisher = SqsPublisher(f"{endpoint}/123456789012/away.fifo", endpoint_url=endpoint, retry_delays=(0.2,))
    await publisher.start()
    first, later = events_of("away", 12)[:7], events_of("away", 12)[7:]
    await publisher.publish(first)  # nothing listens on that port yet
    await publisher.publish(later)  # queued behind the first: the order holds
    assert publisher.waiting == 12

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        sqs = boto3.client("sqs", endpoint_url=endpoint)
        queue = sqs.create_queue(QueueName="away.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        for _ in range(100):
            if publisher.waiting == 0:
                break
            await asyncio.sleep(0.1)
        assert publisher.waiting == 0
        received = []
        while True:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            received += messages
            sqs.delete_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        assert [json.loads(m["Body"])["seq"] for m in received] == list(range(1, 13))  # all, once, in order
    finally:
        await publisher.stop()
        server.stop()
