"""Vendor credentials: from the configuration or the environment, never logged or exported."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date

import pytest

from app.db import Database
from app.demo import vendor_demo
from app.flows.loading import ConfigFileError, dump_organization, parse_organization
from app.logs import json_formatter
from app.vendors.base import VendorUnauthorized
from app.vendors.factory import vendor_for
from app.vendors.remote import AvailabilityScope, VendorClients
from tests.fakes.servicetitan import FakeServiceTitan
from tests.vendors.conftest import local_now, servicetitan_vendor, with_vendor

NOW = local_now("2030-06-03T07:00")


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
