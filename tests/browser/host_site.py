"""A customer's website on another origin: a plain HTTP server in a thread, serving the
pages under hosts/ with the scheduler's address filled in."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGES = HERE / "hosts"
HTMX_2 = HERE / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"


def csp_for(scheduler: str, uploads: str | None = None) -> str:
    """The Content-Security-Policy the README tells hosts to allow (plus their own 'self');
    with `uploads` (the photo bucket's origin), what docs/PHOTOS.md adds for photos."""
    socket = scheduler.replace("http", "ws", 1)  # ws:// for http://, wss:// for https://
    images = f"'self' blob: {scheduler} {uploads}" if uploads else "'self'"
    return (
        f"default-src 'self'; script-src 'self' {scheduler}; connect-src 'self' {scheduler} {socket}{' ' + uploads if uploads else ''}; "
        f"style-src 'self'; img-src {images}; object-src 'none'; base-uri 'self'"
    )


@dataclass
class HostSite:
    url: str
    server: ThreadingHTTPServer
    hits: dict[str, int] = field(default_factory=dict)
    posted: list[tuple[str, bytes]] = field(default_factory=list)  # what the page's own analytics sent (POST)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_host_site(scheduler: str, host: str = "127.0.0.1", uploads: str | None = None) -> HostSite:
    hits: dict[str, int] = {}
    posted: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), 65536)
            posted.append((self.path, self.rfile.read(length)))
            self._send(204, b"", "text/plain")

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            hits[path] = hits.get(path, 0) + 1
            if path == "/host-fragment":
                self._send(200, b'<p id="host-loaded">Loaded by the host\'s own htmx</p>', "text/html")
            elif path == "/vendor/htmx2.js":
                self._send(200, HTMX_2.read_bytes(), "text/javascript")
            elif path == "/host.js":
                self._send(200, (PAGES / "host.js").read_bytes(), "text/javascript")
            elif path.endswith(".html") and (PAGES / path.lstrip("/")).is_file():
                page = (PAGES / path.lstrip("/")).read_text().replace("{{SCHEDULER}}", scheduler)
                headers = {"Content-Security-Policy": csp_for(scheduler, uploads)} if path.startswith("/csp") else {}
                self._send(200, page.encode(), "text/html; charset=utf-8", headers)
            else:
                self._send(404, b"not found", "text/plain")

    server = ThreadingHTTPServer((host, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return HostSite(url=f"http://{host}:{server.server_port}", server=server, hits=hits, posted=posted)
