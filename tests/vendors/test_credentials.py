"""Vendor credentials: from the configuration or the environment, never logged or exported."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date

import pytest

from app.db import Database
from app.demo import vendor_demo
from app.demo.fakes.servicetitan import FakeServiceTitan
from app.flows.loading import ConfigFileError, dump_organization, parse_organization
from app.logs import json_formatter
from app.vendors.base import AvailabilityScope, VendorUnauthorized
from app.vendors.registry import vendor_for
from app.vendors.remote import VendorClients
from tests.vendors.conftest import NOW, servicetitan_vendor, with_vendor


@pytest.fixture
def logged() -> Iterator[list[str]]:
    """Every log line (as the JSON the process writes) while the test runs."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lines
    root.removeHandler(handler)
    root.setLevel(previous)


async def test_env_references_are_read_from_the_environment(
    db: Database, servicetitan: FakeServiceTitan, clients: VendorClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ST_SECRET", servicetitan.client_secret)
    organization = with_vendor(servicetitan_vendor(servicetitan, client_secret="env:ST_SECRET")).organization
    vendor = vendor_for(db, organization, NOW, clients=clients, scope=AvailabilityScope(zip_code="78701"))
    assert await vendor.get_date_timeslots(date(2030, 6, 4), fresh=True)
    monkeypatch.delenv("ST_SECRET")
    clients.tokens.forget(vendor.account)  # type: ignore[attr-defined]
    with pytest.raises(VendorUnauthorized, match="vendor.client_secret names the environment variable ST_SECRET, which is not set"):
        await vendor.get_date_timeslots(date(2030, 6, 5), fresh=True)


async def test_secrets_and_tokens_never_reach_the_logs(
    db: Database, servicetitan: FakeServiceTitan, clients: VendorClients, logged: list[str]
) -> None:
    organization = with_vendor(servicetitan_vendor(servicetitan)).organization
    vendor = vendor_for(db, organization, NOW, clients=clients, scope=AvailabilityScope(zip_code="78701"))
    servicetitan.fail_next("/capacity", status=503)
    await vendor.get_month_availability(2030, 6)
    servicetitan.expire_tokens()
    await vendor.get_date_timeslots(date(2030, 6, 4), fresh=True)
    text = "\n".join(logged)
    assert "answered 503" in text  # the failure is logged...
    secrets = [servicetitan.client_secret, servicetitan.app_key, *servicetitan.tokens]
    assert not [s for s in secrets if s in text]  # ...without a secret or token in it
    assert servicetitan.client_secret not in repr(organization) and servicetitan.app_key not in str(organization.vendor)


def test_export_masks_secrets_written_in_the_configuration() -> None:
    config = vendor_demo("servicetitan").model_copy()
    text = dump_organization(config)
    assert "cs.fake" not in text and "client_secret: '**********'" in text
    assert "cs.fake" in dump_organization(config, include_secrets=True)
    import yaml

    with pytest.raises(ConfigFileError, match=r"vendor.client_secret: Value error, this secret was masked by `flows export`"):
        parse_organization(yaml.safe_load(text), "exported.yaml")
    data = json.loads(json.dumps(yaml.safe_load(dump_organization(config, include_secrets=True))))
    assert parse_organization(data, "exported.yaml") == config


async def test_vendors_check_says_where_each_credential_comes_from_and_whether_the_vendor_answers(
    servicetitan: FakeServiceTitan, mongo_uri: str, database_name: str, drop_database: None
) -> None:
    import subprocess
    import sys

    from app import ROOT
    from app.flows.repository import save_organization

    db = Database.connect(mongo_uri, database_name)
    await save_organization(db, with_vendor(servicetitan_vendor(servicetitan, client_secret="env:ST_SECRET")))
    await db.close()

    def check(*extra: str, secret: str | None) -> subprocess.CompletedProcess[str]:
        env = {"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": database_name, "PATH": "/usr/bin:/bin"}
        if secret is not None:
            env["ST_SECRET"] = secret
        return subprocess.run([sys.executable, "-m", "app", "vendors", "check", "demo-plumbing", *extra],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    missing = check(secret=None)
    assert missing.returncode == 1
    assert "vendor.client_secret: from $ST_SECRET (NOT SET)" in missing.stdout
    assert "vendor.app_key: written in the configuration" in missing.stdout
    answered = check("--connect", secret=servicetitan.client_secret)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert "servicetitan answered: 62 dispatch zones; " in answered.stdout
    assert servicetitan.client_secret not in answered.stdout + answered.stderr
    refused = check("--connect", secret="wrong")
    assert refused.returncode == 1 and "invalid_client" in refused.stdout
