"""Real servers for the benchmarks: nx-27017, Hypercorn, moto and the worker, on free ports."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

import httpx

from app import ROOT
from app.embedded_db import free_port, start_embedded_mongo


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


@contextmanager
def web_process(env: dict[str, str], workers: int = 1) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "app:create_app()"],
        cwd=ROOT, env=os.environ | env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url + "/readyz", process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


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
