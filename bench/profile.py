"""Where a step request's web CPU goes: py-spy samples the server while wrk loads one route.

    .venv/bin/python -m bench.profile [--route zip|calendar] [--seconds 8] [--sessions 400] [--top 25]

The web process (Hypercorn, as `python -m app serve` runs it) serves the demo on the
embedded database; sessions are prepared as bench/capacity.py prepares them; then wrk
drives the route and py-spy (a sampling profiler: it reads the process's stacks from
outside, 250 times a second, without slowing it) records only while it does. It prints
the share of samples by what the code was doing (a stack counts for the first of these
it passes through, from the top: rendering a template, PyMongo and BSON, pydantic,
logging, metrics, the ASGI server, Quart and Werkzeug, the event loop, our own code) and
the functions most often on top of the stack.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app import ROOT
from bench.capacity import PRODUCTION_LIMITS, QUIET_POLLERS, Route, database, prepare_sessions, run_wrk
from bench.servers import seed_demo, web_process

# What a sample was doing: the first of these (in this order) a frame of its stack is in.
KINDS = [
    ("rendering (jinja2, markupsafe, templates/)", ("/jinja2/", "/markupsafe/", "/templates/")),
    ("database driver (pymongo, bson)", ("/pymongo/", "/bson/")),
    ("validation (pydantic)", ("/pydantic/", "/pydantic_core/")),
    ("logging", ("/logging/", "/pythonjsonlogger/")),
    ("metrics (prometheus_client)", ("/prometheus_client/",)),
    ("i18n (babel)", ("/babel/",)),
    ("our code (app/)", (f"{ROOT}/app/",)),
    ("framework (quart, werkzeug, quart_schema, flask)", ("/quart/", "/werkzeug/", "/quart_schema/", "/flask/", "/quart_auth/")),
    ("ASGI server (hypercorn, h11)", ("/hypercorn/", "/h11/", "/wsproto/", "/h2/")),
    ("event loop (asyncio)", ("/asyncio/",)),
]


def frames(stack: str) -> list[tuple[str, str]]:
    """(function, file) of each frame of one raw py-spy line's stack, outermost first."""
    found = []
    for frame in stack.split(";"):
        function, _, where = frame.partition(" (")
        found.append((function, where.rsplit(":", 1)[0]))
    return found


def kind_of(stack: list[tuple[str, str]]) -> str:
    for name, markers in KINDS:
        if any(marker in file for _, file in stack for marker in markers):
            return name
    return "other (stdlib, C)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--route", choices=["zip", "calendar"], default="zip")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=400)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--samples", type=Path, help="also keep py-spy's raw samples here (a flame graph's input)")
    args = parser.parse_args(argv)
    print(f"command: python -m bench.profile --route {args.route} --seconds {args.seconds} --connections {args.connections} "
          f"--sessions {args.sessions}")
    spy = shutil.which("py-spy", path=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    if spy is None:
        raise SystemExit("py-spy is not installed: `make install` installs the test extras, which hold it")
    day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()  # clock-ok: a benchmark, not a test
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as scratch, database() as (uri, _):
        folder = Path(scratch)
        name = f"bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(seed_demo(uri, name))
        env = {"MONGODB_URI": uri, "MONGODB_DATABASE": name} | QUIET_POLLERS | PRODUCTION_LIMITS
        with web_process(env) as url:
            zip_tokens, timeslot_tokens = asyncio.run(prepare_sessions(url, args.sessions, folder, day))
            route = (Route("zip", "POST", "/session/steps/ZipCode", zip_tokens, "zip_code=1", step=True) if args.route == "zip"
                     else Route("calendar", "GET", f"/session/steps/Timeslot?date={day}", timeslot_tokens, step=True))
            samples_file = folder / "samples.txt"
            recording = subprocess.Popen(
                [spy, "record", "--pid", str(url.pid), "--subprocesses", "--full-filenames", "--rate", "250", "--duration", str(args.seconds), "--format", "raw",
                 "--output", str(samples_file), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            found = run_wrk(url, route, args.seconds, args.connections, min(2, args.connections))
            recording.wait(timeout=args.seconds + 60)
        lines = samples_file.read_text().splitlines()
        if args.samples:
            shutil.copyfile(samples_file, args.samples)
    kinds: Counter[str] = Counter()
    tops: Counter[str] = Counter()
    ours: Counter[str] = Counter()  # the innermost of our functions on the stack
    total = 0
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n, parsed = int(count), frames(stack)
        total += n
        kinds[kind_of(parsed)] += n
        function, file = parsed[-1]
        tops[f"{function} ({Path(file).parent.name}/{Path(file).name})"] += n
        mine = [f"{f} ({Path(p).relative_to(ROOT)})" for f, p in parsed if p.startswith(f"{ROOT}/app/")]
        if mine:
            ours[mine[-1]] += n
    print(f"profiled: {route.method} {route.path}, {found['requests']} requests in {args.seconds} s; "
          f"{total} samples of the web process at 250 a second")
    print("what the process was doing (share of samples):")
    for name, n in kinds.most_common():
        print(f"  {n / max(total, 1):6.1%}  {name}")
    print("our innermost function on the stack (what it and what it called cost):")
    for function, n in ours.most_common(args.top):
        print(f"  {n / max(total, 1):6.1%}  {function}")
    print("on top of the stack most often:")
    for function, n in tops.most_common(args.top):
        print(f"  {n / max(total, 1):6.1%}  {function}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
