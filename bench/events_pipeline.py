"""Session events through the whole pipeline: widget socket → queue → database.

    .venv/bin/python -m bench.events_pipeline [--sessions 40] [--events 250] [--batch 50] [--queue inprocess|sqs]

Each simulated widget opens its session's WebSocket, sends its events in batches and
waits for each acknowledgement; the clock stops when every event is in MongoDB. Prints
events per second and the share lost (which must be zero).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime

import aiohttp
from pymongo import MongoClient

from bench.report import Targets, percentile
from bench.servers import embedded_mongo, moto_sqs, seed_demo, web_process, worker_process

KEY = "pk_test_demo"
ORIGIN = "http://localhost:8000"


async def one_widget(http: aiohttp.ClientSession, url: str, events: int, batch: int, ack_times: list[float]) -> int:
    async with http.post(f"{url}/sessions", data={"page_url": ORIGIN + "/"}, headers={"X-Scheduler-Key": KEY, "Origin": ORIGIN}) as response:
        token, session_id = response.headers["X-Scheduler-Session"], response.headers["X-Scheduler-Session-Id"]
    socket_url = url.replace("http", "ws", 1) + f"/ws/sessions/{session_id}?key={KEY}"
    sent = 0
    async with http.ws_connect(socket_url, headers={"Origin": ORIGIN}) as socket:
        await socket.send_str(json.dumps({"type": "hello", "token": token}))
        assert (await socket.receive_json())["type"] == "ready"
        for first in range(1, events + 1, batch):
            seqs = range(first, min(first + batch, events + 1))
            now = datetime.now(UTC).isoformat()
            message = {"type": "events", "events": [{"seq": s, "type": "step_time", "at": now, "step": "ZipCode", "data": {"ms": s}} for s in seqs]}
            started = time.perf_counter()
            await socket.send_str(json.dumps(message))
            reply = await socket.receive_json()
            ack_times.append(time.perf_counter() - started)
            assert reply == {"type": "ack", "seqs": list(seqs)}, reply
            sent += len(seqs)
    return sent


async def drive(url: str, uri: str, database: str, sessions: int, events: int, batch: int) -> dict[str, float]:
    ack_times: list[float] = []
    started = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        sent = sum(await asyncio.gather(*(one_widget(http, url, events, batch, ack_times) for _ in range(sessions))))
    acknowledged = time.perf_counter() - started
    with MongoClient(uri) as client:
        collection = client[database]["session_events"]
        deadline = time.monotonic() + 120
        stored = 0
        while time.monotonic() < deadline:
            stored = collection.count_documents({"source": "client"})
            if stored >= sent:
                break
            await asyncio.sleep(0.1)
    stored_after = time.perf_counter() - started
    return {
        "sent": sent,
        "stored": stored,
        "acknowledged_s": acknowledged,
        "stored_s": stored_after,
        "ack_p50_ms": statistics.median(ack_times) * 1000,
        "ack_p95_ms": percentile(ack_times, 0.95) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--events", type=int, default=250, help="events per session")
    parser.add_argument("--batch", type=int, default=50, help="events per socket message (at most 50)")
    parser.add_argument("--queue", choices=["inprocess", "sqs"], default="inprocess")
    args = parser.parse_args(argv)
    database = f"bench_{uuid.uuid4().hex[:8]}"
    with embedded_mongo() as uri:
        asyncio.run(seed_demo(uri, database))
        env = {"MONGODB_URI": uri, "MONGODB_DATABASE": database, "ENVIRONMENT": "test"}
        if args.queue == "sqs":
            with moto_sqs() as (endpoint, queue):
                env |= {"EVENTS_QUEUE_URL": queue, "AWS_ENDPOINT_URL": endpoint}
                with web_process(env) as url, worker_process(env):
                    figures = asyncio.run(drive(url, uri, database, args.sessions, args.events, args.batch))
        else:
            with web_process(env) as url:
                figures = asyncio.run(drive(url, uri, database, args.sessions, args.events, args.batch))
    lost = 1 - figures["stored"] / figures["sent"]
    print(f"command: python -m bench.events_pipeline {' '.join(sys.argv[1:] if argv is None else argv)}".rstrip())
    print(f"queue: {args.queue}; {args.sessions} sessions × {args.events} events in batches of {args.batch}")
    print(f"{'events sent':28}{figures['sent']:>12,}")
    print(f"{'events stored':28}{figures['stored']:>12,}")
    print(f"{'share lost':28}{lost:>12.2%}   (target 0)")
    print(f"{'acknowledged in':28}{figures['acknowledged_s']:>11.2f}s  ({figures['sent'] / figures['acknowledged_s']:,.0f} events/s)")
    print(f"{'stored in':28}{figures['stored_s']:>11.2f}s  ({figures['stored'] / figures['stored_s']:,.0f} events/s socket → database)")
    print(f"{'ack latency per batch':28}{figures['ack_p50_ms']:>9.1f} ms p50, {figures['ack_p95_ms']:.1f} ms p95")
    if args.queue == "sqs":
        print("note: here SQS is moto, whose FIFO send slows as the queue grows (0.5 s per 50 events empty, 1.5 s")
        print("      at 100 queued, measured on this machine): these figures are moto's; loss is what counts here.")
    targets = Targets()
    targets.check("share lost", lost == 0, f"no event lost: {lost:.2%} lost")
    return targets.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
