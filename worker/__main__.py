"""`python -m worker`: the Procfile's worker process. SIGTERM finishes the batch in hand."""

from __future__ import annotations

import asyncio
import signal

import aioboto3
import click

from app.db import Database
from app.logs import configure_logging
from app.settings import ConfigurationError, load_settings
from worker.consumer import ConsumerSettings, EventConsumer


async def consume(wait_seconds: int, visibility_timeout: int) -> None:
    settings = load_settings()
    if not settings.events_queue_url:
        raise ConfigurationError("EVENTS_QUEUE_URL is not set: without a queue the web process stores events itself")
    database = Database.connect(settings.require_database(), settings.mongodb_database)
    await database.ensure_indexes()
    session = aioboto3.Session()
    async with session.client("sqs", endpoint_url=settings.aws_endpoint_url) as sqs:
        consumer = EventConsumer(
            database, sqs, ConsumerSettings(settings.events_queue_url, wait_seconds, visibility_timeout)
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, consumer.stop)
        await consumer.run()
    await database.close()


@click.command()
@click.option("--wait-seconds", default=20, show_default=True, help="Long-poll time of each receive.")
@click.option("--visibility-timeout", default=60, show_default=True, help="Seconds a received batch stays hidden.")
def main(wait_seconds: int, visibility_timeout: int) -> None:
    """Store session events from the SQS FIFO queue in MongoDB."""
    configure_logging()
    try:
        asyncio.run(consume(wait_seconds, visibility_timeout))
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    main()
