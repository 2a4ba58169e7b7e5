"""What the database driver costs a step: the client's CPU for loading a session and saving it.

    .venv/bin/python -m bench.driver_cost [--steps 3000] [--concurrency 20] [--rounds 3]

A step request sends two commands (issue #20's target, met): load the session by its
token, save it if nobody else did. This measures what those two cost the web process's CPU
on their own, away from the server, the framework and the templates, with the session
documents a real flow leaves at the Timeslot step (the demo walked with the app itself,
then copied, one per simulated visitor) on nx-27017 on this machine:

- **PyMongo (the app's)**: `session_for_token` and `save_session` on a `Database.connect`
  client, as the app runs them (its command listener counting round trips for /metrics);
- **PyMongo without the listener**: the same calls on a client without it;
- **the wire alone**: the same two commands (find by token hash, replace if the version
  is unchanged) written as OP_MSG by hand on asyncio streams, decoded and turned into the
  app's BookingSession and back exactly as the app does — no driver. A floor to measure
  against, not something to run the product on: it has no pool, no server selection, no
  retries, no timeouts, no errors;
- **mongojet** (a driver on MongoDB's Rust driver), only when it is importable: it is not
  a dependency; `pip install --target /tmp/mongojet mongojet` and PYTHONPATH=/tmp/mongojet
  measure it.

CPU is the process's own (getrusage: every thread of it, the Rust driver's too; nx-27017
is another process) over `--steps` load-and-save pairs run `--concurrency` at a time;
each kind runs once per round, the kinds taking turns, and the median round is reported
(the machine is shared and noisy: compare the kinds, measured side by side).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import resource
import statistics
import struct
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import bson
from bson.codec_options import CodecOptions
from pymongo import AsyncMongoClient

from app.db import Database, Document
from app.sessions.model import BookingSession
from app.sessions.repository import hash_token, save_session, session_for_token
from bench.capacity import QUIET_POLLERS, database, prepare_sessions
from bench.servers import seed_demo, web_process

TTL = timedelta(hours=2)
OP_MSG = 2013
CODEC = CodecOptions(tz_aware=True)


def cpu_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


async def timeslot_session(uri: str, name: str) -> Document:
    """The document the app stores for a session walked to the Timeslot step."""
    day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()  # clock-ok: a benchmark, not a test
    env = {"MONGODB_URI": uri, "MONGODB_DATABASE": name} | QUIET_POLLERS
    with tempfile.TemporaryDirectory(prefix="bench-driver-") as scratch, web_process(env) as url:
        _, at_timeslot = await prepare_sessions(url, 1, Path(scratch), day)
        token = at_timeslot.read_text().split()[0]
    db = Database.connect(uri, name)
    try:
        found = await db.sessions.find_one({"token_hash": hash_token(token)})
    finally:
        await db.client.close()
    assert found is not None and found["current_step"] == "Timeslot", found
    return found


async def store_copies(db: Database, template: Document, count: int) -> list[str]:
    """`count` sessions like the template, each with its own id and token; their tokens."""
    tokens, documents = [], []
    for _ in range(count):
        token = uuid.uuid4().hex
        document = copy.deepcopy(template) | {"_id": uuid.uuid4().hex, "token_hash": hash_token(token), "version": 0}
        tokens.append(token)
        documents.append(document)
    await db.sessions.insert_many(documents)
    return tokens


def versioned_save(session: BookingSession, now: datetime) -> tuple[Document, Document]:
    """What `save_session` sends for a loaded session (the filter, the document), for the
    clients measured beside PyMongo: the same write, not a lighter one."""
    expected = session.version
    session.version, session.updated_at, session.expires_at = expected + 1, now, now + TTL
    return {"_id": session.id, "version": expected}, session.to_document()


class Wire:
    """The two commands as OP_MSG on one asyncio stream each: the floor under any driver."""

    ids = itertools.count(1)

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str, sessions: str) -> None:
        self.reader, self.writer, self.name, self.sessions = reader, writer, name, sessions

    @classmethod
    async def open(cls, uri: str, name: str, sessions: str) -> Wire:
        where = urlparse(uri)
        return cls(*await asyncio.open_connection(where.hostname, where.port), name, sessions)

    async def command(self, body: Document) -> Document:
        payload = b"\x00\x00\x00\x00\x00" + bson.encode(body | {"$db": self.name})  # flags, section kind 0
        self.writer.write(struct.pack("<iiii", 16 + len(payload), next(self.ids), 0, OP_MSG) + payload)
        length, _, _, _ = struct.unpack("<iiii", await self.reader.readexactly(16))
        reply = await self.reader.readexactly(length - 16)
        answer: Document = bson.decode(reply[5:], codec_options=CODEC)
        return answer

    async def step(self, token: str, now: datetime) -> None:
        found = await self.command({"find": self.sessions, "filter": {"token_hash": hash_token(token)}, "limit": 1, "singleBatch": True})
        session = BookingSession.from_document(found["cursor"]["firstBatch"][0])
        where, document = versioned_save(session, now)
        answer = await self.command({"update": self.sessions, "updates": [{"q": where, "u": document}]})
        assert answer["n"] == 1, answer

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def run_steps(step: Callable[[str, int], Awaitable[None]], tokens: list[str], steps: int, concurrency: int) -> float:
    """Client CPU seconds for `steps` load-and-save pairs, `concurrency` at a time (a
    visitor each: their own session and, for the wire, their own connection)."""
    for index in range(concurrency):  # warm: connections open, code paths taken
        await step(tokens[index], index)
    started = cpu_seconds()
    for _ in range(steps // concurrency):
        await asyncio.gather(*(step(tokens[index], index) for index in range(concurrency)))
    return cpu_seconds() - started


async def measure(uri: str, name: str, template: Document, args: argparse.Namespace) -> dict[str, list[float]]:
    now = datetime.now(UTC)  # clock-ok: a benchmark, not a test
    app_db = Database.connect(uri, name)
    bare_client: AsyncMongoClient[Document] = AsyncMongoClient(uri, tz_aware=True)
    bare_db = Database(client=bare_client, db=bare_client[name])
    wires = [await Wire.open(uri, name, app_db.sessions.name) for _ in range(args.concurrency)]
    kinds: dict[str, Callable[[str, int], Awaitable[None]]] = {}

    def pymongo_step(db: Database) -> Callable[[str, int], Awaitable[None]]:
        async def step(token: str, _: int) -> None:
            session = await session_for_token(db, token, now)
            assert session is not None
            await save_session(db, session, now, TTL)
        return step

    kinds["PyMongo async, as the app connects (command listener)"] = pymongo_step(app_db)
    kinds["PyMongo async, no command listener"] = pymongo_step(bare_db)
    kinds["the wire alone (OP_MSG by hand; a floor)"] = lambda token, index: wires[index].step(token, now)
    jet: Any = None
    try:
        import mongojet  # type: ignore[import-not-found]  # optional: see the docstring
    except ImportError:
        print("mongojet: not importable, not measured (see the docstring)")
    else:
        jet = await mongojet.create_client(uri)
        sessions = jet.get_database(name).get_collection(app_db.sessions.name)

        async def jet_step(token: str, _: int) -> None:
            found = await sessions.find_one({"token_hash": hash_token(token)})
            session = BookingSession.from_document(found)
            result = await sessions.replace_one(*versioned_save(session, now))
            assert result["matched_count"] == 1, result

        kinds["mongojet (MongoDB's Rust driver)"] = jet_step
    seconds: dict[str, list[float]] = {kind: [] for kind in kinds}
    try:
        for _ in range(args.rounds):
            for kind, step in kinds.items():
                tokens = await store_copies(app_db, template, args.concurrency)
                seconds[kind].append(await run_steps(step, tokens, args.steps, args.concurrency))
    finally:
        for wire in wires:
            await wire.close()
        await app_db.client.close()
        await bare_client.close()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"command: python -m bench.driver_cost --steps {args.steps} --concurrency {args.concurrency} --rounds {args.rounds}")
    with database() as (uri, _):
        name = f"bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(seed_demo(uri, name))
        template = asyncio.run(timeslot_session(uri, name))
        seconds = asyncio.run(measure(uri, name, template, args))
    pairs = args.steps // args.concurrency * args.concurrency
    print(f"a session at the Timeslot step: {len(bson.encode(template)):,} bytes of BSON; {pairs:,} load-and-save pairs a round, "
          f"{args.concurrency} at a time, {args.rounds} rounds (median)")
    print(f"{'client':58}{'CPU ms/step':>12}{'÷ the wire':>12}")
    floor = statistics.median(seconds["the wire alone (OP_MSG by hand; a floor)"]) * 1000 / pairs
    for kind, rounds in seconds.items():
        per_step = statistics.median(rounds) * 1000 / pairs
        print(f"{kind:58}{per_step:>12.3f}{per_step / floor:>12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
