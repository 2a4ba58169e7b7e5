"""`python -m worker` against moto's SQS in server mode and the MongoDB-wire server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from pymongo import MongoClient

from app import ROOT
from app.events.models import SessionEvent
from app.events.publishers import SqsPublisher
from tests.conftest import MotoServer

MAX_RECEIVES = 2
# When the events happened: any fixed instant does (the worker stores them as they are).
EVENTS_AT = datetime(2027, 6, 9, 18, 30, tzinfo=UTC)


@pytest.fixture
def queues(aws: MotoServer) -> dict[str, str]:
    sqs = boto3.client("sqs", endpoint_url=aws.url)
    dlq = sqs.create_queue(QueueName="session-events-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    main = sqs.create_queue(QueueName="session-events.fifo", Attributes={
        "FifoQueue": "true",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}),
    })["QueueUrl"]
    return {"main": main, "dlq": dlq}


def events_of(session: str, count: int, organization: str = "demo-plumbing") -> list[SessionEvent]:
    return [
        SessionEvent(session_id=session, organization_id=organization, flow_id="residential", source="client",
                     seq=i, type="step_time", at=EVENTS_AT, step="ZipCode", data={"ms": i})
        for i in range(1, count + 1)
    ]


async def publish(aws: MotoServer, queue: str, events: list[SessionEvent]) -> None:
    publisher = SqsPublisher(queue, endpoint_url=aws.url)
    await publisher.start()
    await publisher.publish(events)
    await publisher.stop()


def start_worker(aws: MotoServer, queue: str, mongo_uri: str, database: str, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "MONGODB_URI": mongo_uri, "MONGODB_DATABASE": database, "EVENTS_QUEUE_URL": queue, "AWS_ENDPOINT_URL": aws.url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "worker", "--wait-seconds", "1", "--visibility-timeout", "2"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )


def wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def queue_is_empty(aws: MotoServer, queue: str) -> bool:
    attributes = boto3.client("sqs", endpoint_url=aws.url).get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


@pytest.fixture
def stored(mongo_uri: str, database_name: str, drop_database: None):  # type: ignore[no-untyped-def]
    client = MongoClient(mongo_uri)
    yield client[database_name]["session_events"]
    client.close()


async def test_a_message_delivered_twice_is_stored_once_and_in_order(
    aws: MotoServer, queues: dict[str, str], mongo_uri: str, database_name: str, stored, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    first, second = events_of("session-a", 15), events_of("session-b", 15)
    await publish(aws, queues["main"], [e for pair in zip(first, second) for e in pair])
    # The same event again under another deduplication id: SQS delivers it a second time.
    sqs = boto3.client("sqs", endpoint_url=aws.url)
    sqs.send_message(QueueUrl=queues["main"], MessageBody=first[3].model_dump_json(), MessageGroupId="session-a", MessageDeduplicationId="again")
    worker = start_worker(aws, queues["main"], mongo_uri, database_name, tmp_path / "worker.log")
    try:
        wait_for(lambda: queue_is_empty(aws, queues["main"]) and stored.count_documents({}) == 30)
    finally:
        worker.terminate()
        assert worker.wait(timeout=20) == 0
    for session in ("session-a", "session-b"):
        seqs = [e["seq"] for e in stored.find({"session_id": session}).sort("stored_ns", 1)]
        assert seqs == list(range(1, 16))


async def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(
    aws: MotoServer, queues: dict[str, str], mongo_uri: str, database_name: str, stored, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    events = [e for n in range(8) for e in events_of(f"session-{n}", 40)]
    await publish(aws, queues["main"], events)
    log = tmp_path / "worker.log"
    kills = 0
    while kills < 3 and stored.count_documents({}) < len(events):
        worker = start_worker(aws, queues["main"], mongo_uri, database_name, log)
        wait_for(lambda: stored.count_documents({}) > 0 or worker.poll() is not None, timeout=30)  # noqa: B023 - called at once
        time.sleep(0.3 * (kills + 1))  # noqa: ASYNC251 - the worker runs in its own process
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
    worker = start_worker(aws, queues["main"], mongo_uri, database_name, log)
    try:
        wait_for(lambda: stored.count_documents({}) == len(events) and queue_is_empty(aws, queues["main"]), timeout=120)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    keys = [e["_id"] for e in stored.find({}, {"_id": 1})]
    assert len(keys) == len(set(keys)) == len(events)
    assert kills >= 1


async def test_a_poison_message_ends_in_the_dead_letter_queue(
    aws: MotoServer, queues: dict[str, str], mongo_uri: str, database_name: str, stored, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    sqs = boto3.client("sqs", endpoint_url=aws.url)
    sqs.send_message(QueueUrl=queues["main"], MessageBody="{not an event", MessageGroupId="poison", MessageDeduplicationId="poison-1")
    await publish(aws, queues["main"], events_of("healthy", 3))
    worker = start_worker(aws, queues["main"], mongo_uri, database_name, tmp_path / "worker.log")

    def in_dead_letter_queue() -> bool:
        attributes = sqs.get_queue_attributes(QueueUrl=queues["dlq"], AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return attributes["ApproximateNumberOfMessages"] == "1"

    try:
        wait_for(lambda: in_dead_letter_queue() and stored.count_documents({}) == 3, timeout=60)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    body = sqs.receive_message(QueueUrl=queues["dlq"])["Messages"][0]["Body"]
    assert body == "{not an event"
    assert "unreadable message" in (tmp_path / "worker.log").read_text()


async def test_an_event_the_database_refuses_is_set_aside_and_the_worker_goes_on(
    aws: MotoServer, queues: dict[str, str], mongo_uri: str, database_name: str, stored, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """Readable, but MongoDB will not take its key: before, the worker crash-looped on it."""
    poisoned = events_of("poisoned", 1)[0].model_copy(update={"data": {"a\u0000b": 1}})
    await publish(aws, queues["main"], [poisoned, *events_of("poisoned", 3)[1:], *events_of("healthy", 3)])
    worker = start_worker(aws, queues["main"], mongo_uri, database_name, tmp_path / "worker.log")
    dead = stored.database["session_events_dead"]
    try:
        wait_for(lambda: stored.count_documents({}) == 5 and dead.count_documents({}) == 1 and queue_is_empty(aws, queues["main"]))
        await publish(aws, queues["main"], events_of("later", 2))  # still consuming
        wait_for(lambda: stored.count_documents({"session_id": "later"}) == 2)
        assert worker.poll() is None
    finally:
        worker.terminate()
        assert worker.wait(timeout=20) == 0
    assert dead.find_one({"_id": "poisoned:c1"})["problem"].startswith("InvalidDocument")


async def test_a_database_that_does_not_answer_keeps_the_messages_and_the_worker(
    aws: MotoServer, queues: dict[str, str], tmp_path: Path
) -> None:
    """Nothing is deleted that was not stored; the worker does not crash, the messages end in the DLQ at worst."""
    from app.embedded_db import free_port

    await publish(aws, queues["main"], events_of("waiting", 2))
    nowhere = f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=300"
    worker = start_worker(aws, queues["main"], nowhere, "nowhere", tmp_path / "worker.log")
    sqs = boto3.client("sqs", endpoint_url=aws.url)

    def in_dead_letter_queue() -> int:
        attributes = sqs.get_queue_attributes(QueueUrl=queues["dlq"], AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    try:
        wait_for(lambda: in_dead_letter_queue() == 2, timeout=90)
        assert worker.poll() is None  # still consuming
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert "their messages come back later" in (tmp_path / "worker.log").read_text()


def test_sigterm_stops_an_idle_worker_at_once(aws: MotoServer, queues: dict[str, str], mongo_uri: str, database_name: str, tmp_path: Path) -> None:
    worker = start_worker(aws, queues["main"], mongo_uri, database_name, tmp_path / "worker.log")
    # Idle: consuming (its signal handlers set), not still starting, on a busy machine too.
    wait_for(lambda: "consuming" in (tmp_path / "worker.log").read_text())
    time.sleep(1)
    started = time.monotonic()
    worker.terminate()
    assert worker.wait(timeout=20) == 0
    assert time.monotonic() - started < 5
    assert "stopped after storing 0 events" in (tmp_path / "worker.log").read_text()


def test_worker_without_a_queue_says_so(mongo_uri: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "EVENTS_QUEUE_URL"} | {"MONGODB_URI": mongo_uri}
    result = subprocess.run([sys.executable, "-m", "worker"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "EVENTS_QUEUE_URL is not set" in result.stderr
