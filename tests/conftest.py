"""Shared fixtures: a real MongoDB-wire server, the app on a fresh database, a live Hypercorn.

How a test gets its time
------------------------
No test reads the wall clock. Every test runs at an instant the suite chooses
(`tests/instants.py`): the autouse `time_travel` fixture moves this process's clock
there with time-machine (it then runs on at real speed), so the app's `clock.now()`,
the vendor fakes and moto all agree. Ask for:

- `instant` — that moment (aware, UTC); `today` — the company's date at it;
- `time_travel` — to move on: `time_travel.shift(timedelta(hours=1))`;
- `web_processes` / `live_server` — servers in other processes get the same instant
  through TEST_CLOCK_START (honoured only with ENVIRONMENT=test).

Mark a test (or a module, with `pytestmark`) `dates` when what it checks depends on the
date or hour: it then runs at every instant of `tests/instants.py` — midnight, just
before the first window, the afternoon, a Saturday night before a closed Sunday, the
holidays, the year's roll, both daylight-saving switches and a leap day. Other tests run
at DEFAULT_INSTANT. `--instant NAME|ISO` (or TEST_INSTANT) runs the suite at another
instant; `--instants=default` runs the `dates` tests at that one instant only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
import time_machine
from pymongo import MongoClient
from quart import Quart
from quart.typing import TestClientProtocol

from app import ROOT, create_app
from app.db import Database
from app.demo import DEMO_FILE, vendor_demo
from app.demo.mailbox import Mailbox
from app.embedded_db import free_port, start_embedded_mongo
from app.flows.loading import load_organization_file
from app.flows.models import OrganizationConfig
from app.flows.repository import save_organization
from app.settings import Settings, load_settings
from app.web.services import services_of
from cdn.build import build
from tests.instants import DEFAULT_INSTANT, INSTANTS, company_date, instant_named
from tests.visitor import Visitor, quart_sender

# Credentials moto accepts; no real AWS is ever asked (no metadata service either).
AWS_TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--instant", default=os.environ.get("TEST_INSTANT", DEFAULT_INSTANT),
        help=f"the instant tests run at: one of {', '.join(INSTANTS)}, or ISO 8601 with an offset",
    )
    parser.addoption(
        "--instants", choices=["all", "default"], default=os.environ.get("TEST_INSTANTS", "all"),
        help="tests marked `dates` run at every instant (all) or only at --instant (default)",
    )


def pytest_configure(config: pytest.Config) -> None:
    instant_named(config.getoption("instant"))  # an unknown name stops the run at once


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "instant" not in metafunc.fixturenames or not metafunc.definition.get_closest_marker("dates"):
        return
    if metafunc.config.getoption("instants") == "all":
        names = list(INSTANTS)
    else:
        names = [metafunc.config.getoption("instant")]
    metafunc.parametrize("instant", names, indirect=True, ids=names)


@pytest.fixture
def instant(request: pytest.FixtureRequest) -> datetime:
    """The moment this test runs at (aware, UTC)."""
    return instant_named(getattr(request, "param", request.config.getoption("instant")))


@pytest.fixture(autouse=True)
def time_travel(instant: datetime) -> Iterator[time_machine.Coordinates]:
    """This process's clock at the test's instant, running on from there."""
    with time_machine.travel(instant, tick=True) as traveller:
        yield traveller


@pytest.fixture
def today(instant: datetime) -> date:
    """The company's date at the test's instant."""
    return company_date(instant)


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """MONGODB_URI when set (a real MongoDB), else an nx-27017 server of this test run."""
    if os.environ.get("MONGODB_URI"):
        yield os.environ["MONGODB_URI"]
        return
    server = start_embedded_mongo(tmp_path_factory.mktemp("mongo"))
    yield server.uri
    server.stop()


@pytest.fixture(scope="session")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The widget built once for the whole run, as `python -m cdn build` builds it."""
    out = tmp_path_factory.mktemp("cdn") / "dist"
    build(out, commit="testbuild")
    return out


@pytest.fixture
def database_name() -> Iterator[str]:
    yield f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def drop_database(mongo_uri: str, database_name: str) -> Iterator[None]:
    yield
    with MongoClient(mongo_uri) as client:
        client.drop_database(database_name)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module to change settings (rate limits, say) for its tests."""
    return {}


@pytest.fixture
def settings(
    mongo_uri: str, database_name: str, drop_database: None, dist_dir: Path, settings_overrides: dict[str, object]
) -> Settings:
    return load_settings(
        environment="test", mongodb_uri=mongo_uri, mongodb_database=database_name, cdn_dist_dir=dist_dir,
        **settings_overrides,
    )


def demo_config(**calendar_changes: object) -> OrganizationConfig:
    """The demo organization, with its calendar changed for a test. Without its people:
    their notices would be mixed into the visitor's mail a test counts (the console's
    tests list the people they need)."""
    data = load_organization_file(DEMO_FILE).model_dump()
    data["vendor"]["calendar"].update(calendar_changes)
    data["people"] = []
    return OrganizationConfig.model_validate(data)


def demo_booking_into(vendor_type: str, fake_url: str, **vendor_changes: object) -> OrganizationConfig:
    """The demo company booking into a vendor's fake at `fake_url`, under the demo page's key."""
    data = vendor_demo(vendor_type, fake_url).model_dump()
    data["publishable_key"] = "pk_test_demo"
    data["people"] = []  # as in demo_config()
    data["vendor"] |= vendor_changes
    return OrganizationConfig.model_validate(data)


@pytest.fixture
def organization() -> OrganizationConfig:
    """Override in a test module to run against another organization."""
    return demo_config()


@pytest.fixture
async def app(settings: Settings, organization: OrganizationConfig) -> AsyncIterator[Quart]:
    application = create_app(settings)
    async with application.test_app():
        await save_organization(services_of(application).db, organization)
        yield application


@pytest.fixture
def db(app: Quart) -> Database:
    return services_of(app).db


@pytest.fixture
def client(app: Quart) -> TestClientProtocol:
    return app.test_client()


@pytest.fixture
def visitor(client: TestClientProtocol) -> Visitor:
    """A visitor walking the flow over the test client, as the widget would."""
    return Visitor(quart_sender(client))


@dataclass
class MotoServer:
    """AWS as moto serves it over HTTP: what aioboto3 talks to in the tests."""

    url: str

    def reset(self) -> None:
        httpx.post(self.url + "/moto-api/reset")

    def start_recording(self) -> None:
        httpx.post(self.url + "/moto-api/recorder/reset-recording")
        httpx.post(self.url + "/moto-api/recorder/start-recording")

    def recorded_requests(self) -> list[tuple[str, str]]:
        """(method, path with query) of every request since start_recording, in order."""
        text = httpx.get(self.url + "/moto-api/recorder/download-recording").text
        entries = [json.loads(line) for line in text.splitlines() if line.strip()]
        return [(e["method"], e["url"].removeprefix(self.url)) for e in entries]


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    from moto.server import ThreadedMotoServer

    environment = AWS_TEST_ENVIRONMENT | {"MOTO_RECORDER_FILEPATH": str(tmp_path_factory.mktemp("moto") / "recording")}
    saved = {k: os.environ.get(k) for k in environment}
    os.environ.update(environment)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield MotoServer(url=f"http://{host}:{port}")
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def aws(moto_server: MotoServer) -> MotoServer:
    """A fresh, empty AWS for one test."""
    moto_server.reset()
    return moto_server


@dataclass
class LiveServer:
    url: str
    database: Database


class WebProcess:
    """The app served by Hypercorn in its own process, on a free port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{self.port}", "app:create_app()"],
                cwd=ROOT, env=os.environ | env, stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError("Hypercorn did not start:\n" + log.read_text())
            time.sleep(0.1)

    def stop(self) -> int:
        self.process.terminate()
        return self.process.wait(timeout=30)


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd, as `make run` starts) keeping what it receives."""
    with Mailbox(tmp_path / "mail") as box:
        yield box


@pytest.fixture
def web_env() -> dict[str, str]:
    """Override in a test module to add to the environment of its web processes."""
    return {}


@pytest.fixture
async def web_processes(
    web_env: dict[str, str],
    mongo_uri: str,
    database_name: str,
    drop_database: None,
    organization: OrganizationConfig,
    tmp_path: Path,
    dist_dir: Path,
    mailbox: Mailbox,
) -> AsyncIterator[tuple[Database, Callable[[], WebProcess]]]:
    """The test's database (the organization stored) and a way to start web processes on it
    (their mail goes to the test's `mailbox`)."""
    database = Database.connect(mongo_uri, database_name)
    await database.create_indexes()
    await save_organization(database, organization)
    env = {
        "ENVIRONMENT": "test", "MONGODB_URI": mongo_uri, "MONGODB_DATABASE": database_name, "CDN_DIST_DIR": str(dist_dir),
        "SMTP_URL": mailbox.url, "DEV_MAILBOX_DIR": str(mailbox.folder), "MAIL_POLL_SECONDS": "0.5",
    } | web_env
    started: list[WebProcess] = []

    def start() -> WebProcess:
        # The new process's clock starts where this test's clock is now.
        clock = {"TEST_CLOCK_START": datetime.now(UTC).isoformat()}  # clock-ok: time-machine holds the test's instant
        started.append(WebProcess(env | clock, tmp_path / f"hypercorn-{len(started)}.log"))
        return started[-1]

    yield database, start
    for process in started:
        if process.process.poll() is None:
            process.stop()
    await database.close()


@pytest.fixture
async def live_server(web_processes: tuple[Database, Callable[[], WebProcess]]) -> LiveServer:
    database, start = web_processes
    return LiveServer(url=start().url, database=database)
