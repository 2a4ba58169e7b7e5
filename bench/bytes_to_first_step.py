"""What a visitor downloads from the script tag to the first step on screen.

    .venv/bin/python -m bench.bytes_to_first_step

Builds the widget as `python -m cdn build` does, serves it with the app, and fetches
exactly what the browser fetches, in order: the entry, the manifest, the core, htmx,
the CSS, the flow and trigger look-ups, and the first step's fragment. Prints raw and
gzipped bytes per file (gzip -9, as the CDN compresses) against the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

from bench.report import Targets
from bench.servers import embedded_mongo, seed_demo, web_process
from cdn.build import build

ENTRY_TARGET = 2 * 1024
TOTAL_TARGET = 25 * 1024
ORIGIN = "http://localhost:8000"
KEY = {"X-Scheduler-Key": "pk_test_demo", "Origin": ORIGIN}


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def fetch_all(url: str) -> list[tuple[str, bytes]]:
    with httpx.Client(base_url=url, timeout=30) as http:
        entry = http.get("/cdn/scheduler.js").content
        manifest_response = http.get("/cdn/version-manifest.json?_=1")
        manifest = manifest_response.json()
        files = [
            ("entry (scheduler.js)", entry),
            ("manifest", manifest_response.content),
            ("core", http.get(f"/cdn/{manifest['core']}?v={manifest['buildTime']}").content),
            ("htmx (vendor)", http.get(f"/cdn/{manifest['vendor']}").content),
            ("CSS", http.get(f"/cdn/{manifest['css']}").content),
            ("flow look-up (JSON)", http.post("/booking-flow-routers/resolve", json={"url": ORIGIN + "/"}, headers=KEY).content),
            ("button triggers (JSON)", http.get("/booking-flow-routers/button-triggers", headers=KEY).content),
            ("first step fragment", http.post("/sessions", data={"page_url": ORIGIN + "/"}, headers=KEY).content),
        ]
    return files


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    database = f"bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder, embedded_mongo() as uri:
        dist = Path(folder) / "dist"
        build(dist, commit="bench")
        asyncio.run(seed_demo(uri, database))
        with web_process({"MONGODB_URI": uri, "MONGODB_DATABASE": database, "CDN_DIST_DIR": str(dist)}) as url:
            files = fetch_all(url)
    print("command: python -m bench.bytes_to_first_step")
    print(f"{'file':28}{'raw bytes':>12}{'gzip bytes':>12}")
    for name, data in files:
        print(f"{name:28}{len(data):>12,}{gzipped(data):>12,}")
    raw, packed = sum(len(d) for _, d in files), sum(gzipped(d) for _, d in files)
    print(f"{'total':28}{raw:>12,}{packed:>12,}")
    entry = gzipped(files[0][1])
    targets = Targets()
    targets.check("entry", entry <= ENTRY_TARGET, f"entry ≤ {ENTRY_TARGET:,} B gzip: {entry:,} B")
    targets.check("total", packed <= TOTAL_TARGET, f"everything to the first step ≤ {TOTAL_TARGET:,} B gzip: {packed:,} B")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
