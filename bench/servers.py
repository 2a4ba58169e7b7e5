"""Real servers for the benchmarks: nx-27017, Hypercorn, moto and the worker, on free ports."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app import ROOT
from app.embedded_db import free_port, start_embedded_mongo


async def seed_demo(uri: str, database: str, **calendar_changes: object) -> None:
    """Store the demo organization (its calendar changed as asked) in a fresh database."""
    from app.db import Database
    from app.demo import DEMO_FILE
    from app.flows.loading import load_organization_file
    from app.flows.models import OrganizationConfig
    from app.flows.repository import save_organization

    config = load_organization_file(DEMO_FILE)
    if calendar_changes:
        data = config.model_dump()
        data["vendor"]["calendar"].update(calendar_changes)
        config = OrganizationConfig.model_validate(data)
    db = Database.connect(uri, database)
    await db.create_indexes()
    await save_organization(db, config)
    await db.close()


def flow_requests(day: str, email: str = "ada@example.com") -> list[tuple[str, str, str, dict[str, str] | None]]:
    """A visitor's requests after starting a session, to a confirmed booking in the demo flow
    on `day`'s morning window: (name, method, path, form)."""
    return [
        ("ZipCode", "POST", "/session/steps/ZipCode", {"zip_code": "78701"}),
        *[("ServiceSelection", "POST", "/session/steps/ServiceSelection", {"answer": a}) for a in ("plumbing", "leak", "inside")],
        ("AdditionalDetails", "POST", "/session/steps/AdditionalDetails", {"detail-description": "Drip", "detail-property-type": "House"}),
        ("Timeslot (calendar)", "GET", f"/session/steps/Timeslot?date={day}", None),
        ("Timeslot", "POST", "/session/steps/Timeslot", {"date": day, "window": "morning"}),
        ("Customer", "POST", "/session/steps/Customer", {
            "first_name": "Ada", "last_name": "Lovelace", "phone": "5125550142", "email": email,
            "street": "1 Main St", "city": "Austin", "state": "TX", "zip_code": "78701",
        }),
        ("Summary (confirm)", "POST", "/session/steps/Summary", None),
    ]


@contextmanager
def embedded_mongo() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-mongo-") as folder:
        server = start_embedded_mongo(Path(folder))
        try:
            yield server.uri
        finally:
            server.stop()


def wait_until_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


# As the Procfile serves: keep-alive past a load balancer's 60 s idle timeout, a deep backlog.
HYPERCORN_SETTINGS = ("--keep-alive", "75", "--backlog", "1024")
# The benchmarks are thousands of visitors from one address: rate limits out of the way.
UNLIMITED = {
    "RATE_LIMIT_SESSIONS_PER_IP": "1000000",
    "RATE_LIMIT_STEPS_PER_SESSION": "1000000",
    "RATE_LIMIT_STEPS_PER_IP": "1000000",
    "RATE_LIMIT_CONFIRMS_PER_SESSION": "1000000",
}


class ServerURL(str):
    """A server's base URL that also knows the server's process id."""

    pid: int = 0


def server_command(server: str, port: int, application: str) -> list[str]:
    """How `server` (hypercorn, as the Procfile runs; or granian, being evaluated) serves `application`."""
    if server == "granian":
        factory = application.endswith("()")
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--backlog", "1024", "--http1-header-read-timeout", "60000", "--no-access-log", "--log-level", "warning",
            *(["--factory"] if factory else []), application.removesuffix("()"),
        ]
    return [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", *HYPERCORN_SETTINGS, application]


@contextmanager
def web_process(
    env: dict[str, str], application: str = "app:create_app()", ready_path: str = "/readyz", server: str = "hypercorn",
) -> Iterator[ServerURL]:
    """`server` serving `application` in one process on a free port: yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        server_command(server, port, application),
        cwd=ROOT, env=os.environ | UNLIMITED | env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = ServerURL(f"http://127.0.0.1:{port}")
    url.pid = process.pid
    try:
        wait_until_ready(url + ready_path, process)
        yield url
    finally:
        process.terminate()
        # A graceful stop stores the events still queued in process: that can take a while.
        process.wait(timeout=120)


def process_tree(pid: int) -> list[int]:
    """A process and its children (a server's workers), from /proc."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    return pids


def resident_kib(pid: int) -> int:
    """Resident memory of a process and its children, in KiB (from /proc)."""
    total = 0
    for one in process_tree(pid):
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


@contextmanager
def moto_sqs() -> Iterator[tuple[str, str]]:
    """A moto server with a FIFO queue: (endpoint, queue URL)."""
    import boto3
    from moto.server import ThreadedMotoServer

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log would drown the figures
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    queue = boto3.client("sqs", endpoint_url=endpoint).create_queue(
        QueueName="bench-events.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    try:
        yield endpoint, queue
    finally:
        server.stop()


@contextmanager
def worker_process(env: dict[str, str]) -> Iterator[None]:
    process = subprocess.Popen(
        [sys.executable, "-m", "worker", "--wait-seconds", "1"], cwd=ROOT, env=os.environ | env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)
