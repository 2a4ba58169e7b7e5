"""`python -m app.demo.fakes`: the three vendor fakes on the ports the demo organizations use.

`make run` starts it beside the web server, so the ServiceTitan, Housecall Pro and Jobber
versions of the demo company book into something that answers like the real systems.
"""

from __future__ import annotations

import signal
import threading

from app.demo import FAKE_PORTS
from app.demo.fakes.housecallpro import FakeHousecallPro
from app.demo.fakes.jobber import FakeJobber
from app.demo.fakes.servicetitan import FakeServiceTitan


def main() -> None:
    fakes = [
        FakeServiceTitan(port=FAKE_PORTS["servicetitan"]).start(),
        FakeHousecallPro(port=FAKE_PORTS["housecallpro"]).start(),
        FakeJobber(port=FAKE_PORTS["jobber"]).start(),
    ]
    for fake in fakes:
        print(f"fake {fake.name} at {fake.url}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    for fake in fakes:
        fake.stop()


if __name__ == "__main__":
    main()
