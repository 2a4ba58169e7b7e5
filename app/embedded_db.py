"""The embedded MongoDB-wire server (nx-27017 on SQLite), for development and tests.

Started as a child process on a loopback port; the application talks to it through
PyMongo exactly as it talks to MongoDB.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class EmbeddedMongo:
    """A running nx-27017 server; stop() ends it."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _server_command() -> list[str]:
    """nx-27017, deleting expired documents once a minute as MongoDB does (app/embedded_db_server.py)."""
    try:
        import nx_27017  # noqa: F401  (installed?)
    except ImportError:
        raise RuntimeError("nx-27017 is not installed: run `make install` (pip extra 'embedded')") from None
    # -P: the script's folder (app/) is not put on the path, where its modules (db, events,
    # settings…) would shadow any top-level module of the same name the server imports.
    return [sys.executable, "-P", str(Path(__file__).with_name("embedded_db_server.py"))]


def start_embedded_mongo(data_dir: Path, port: int | None = None, timeout: float = 20.0) -> EmbeddedMongo:
    """Start nx-27017 keeping its databases under data_dir; wait until it answers a ping."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = data_dir / f"nx-27017-{port}.log"
    command = _server_command() + [
        "--data-dir", str(data_dir),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--log-file", str(log_path),
        "--pid-file", str(data_dir / f"nx-27017-{port}.pid"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = EmbeddedMongo(process=process, port=port, log_path=log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nx-27017 exited with {process.returncode}; see {log_path}")
        try:
            client: MongoClient[dict[str, Any]]
            with MongoClient(server.uri, serverSelectionTimeoutMS=500) as client:
                client.admin.command("ping")
            return server
        except PyMongoError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"nx-27017 did not answer on port {port} within {timeout:.0f}s; see {log_path}")
