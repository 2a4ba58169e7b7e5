"""A local SMTP server (aiosmtpd) that keeps every message it receives, for `make run` and tests.

`python -m app dev` starts it and points SMTP_URL at it; `/_dev/mail` shows what arrived
(rendered, as source, attachments downloadable). Tests start one on a free port and read
the same files. Each message is a `.eml` file in the folder, written whole then renamed,
so a reader never sees half a message. `python -m app.demo.mailbox FOLDER PORT` runs one.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import signal
import sys
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from app.embedded_db import free_port

_COUNTER = itertools.count(1)


@dataclass(frozen=True)
class StoredMail:
    """One received message, parsed."""

    id: str
    raw: bytes
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def to(self) -> str:
        return str(self.message["To"] or "")

    @property
    def sender(self) -> str:
        return str(self.message["From"] or "")

    @property
    def date(self) -> str:
        return str(self.message["Date"] or "")

    def body(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        return "" if part is None else str(part.get_content())

    @property
    def html(self) -> str:
        return self.body("html")

    @property
    def text(self) -> str:
        return self.body("plain")

    def attachments(self) -> list[tuple[str, str, bytes]]:
        """(filename, content type, bytes) of each attachment."""
        found = []
        for part in self.message.iter_attachments():
            data = part.get_payload(decode=True)
            found.append((part.get_filename() or "attachment", part.get_content_type(), data if isinstance(data, bytes) else b""))
        return found


def read_folder(folder: Path) -> list[StoredMail]:
    """Every message in `folder`, newest first."""
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), reverse=True)
    return [_parse(path) for path in files]


def read_one(folder: Path, mail_id: str) -> StoredMail | None:
    if not mail_id.replace("-", "").isalnum():
        return None
    path = folder / f"{mail_id}.eml"
    return _parse(path) if path.is_file() else None


def _parse(path: Path) -> StoredMail:
    raw = path.read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return StoredMail(path.stem, raw, message)


class _Keeper:
    """aiosmtpd handler: writes each message to the folder (or refuses, when told to)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.refusals: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            if self.refusals:
                return self.refusals.pop(0)
        content = envelope.original_content or b""
        name = f"{time.time_ns():020d}-{next(_COUNTER):06d}"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(content)
        partial.rename(self.folder / f"{name}.eml")
        return "250 2.0.0 Kept"


class Mailbox:
    """The server: `start()` on 127.0.0.1 (a free port unless given), `stop()`, and what came."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self._keeper = _Keeper(folder)
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> Mailbox:
        self._controller = Controller(self._keeper, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse_next(self, times: int = 1, reply: str = "451 4.3.0 Try again later") -> None:
        """The next `times` messages get `reply` instead of being kept (a 4xx defers, a 5xx refuses)."""
        with self._keeper.lock:
            self._keeper.refusals.extend([reply] * times)

    def messages(self) -> list[StoredMail]:
        return read_folder(self.folder)

    async def wait_for(self, count: int, seconds: float = 15.0) -> list[StoredMail]:
        """The messages (newest first) once `count` have arrived, or what came within `seconds`
        (mail is sent in the background: a test waits for it here)."""
        for _ in range(int(seconds / 0.1)):
            if len(self.messages()) >= count:
                break
            await asyncio.sleep(0.1)
        return self.messages()

    def __enter__(self) -> Mailbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main(argv: list[str]) -> None:
    folder, port = Path(argv[0]), int(argv[1])
    mailbox = Mailbox(folder, port).start()
    print(f"local SMTP server at {mailbox.url}, keeping mail in {folder}/", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    mailbox.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
