"""The demo organizations that `make run` loads: Demo Plumbing & Air on the built-in
calendar, and the same company booking into each remote vendor (app/demo/vendors/)."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.flows.loading import load_organization_file
from app.flows.models import OrganizationConfig

DEMO_FILE = Path(__file__).with_name("demo-plumbing.yaml")
VENDOR_DEMOS = Path(__file__).with_name("vendors")
# Ports of the local vendor fakes the vendor demos point at (python -m app.demo.fakes).
FAKE_PORTS = {"servicetitan": 5101, "housecallpro": 5102, "jobber": 5103}


def vendor_demo(vendor_type: str, base_url: str | None = None) -> OrganizationConfig:
    """The demo company with its vendor replaced by app/demo/vendors/<type>.yaml.

    `base_url` points the vendor at a fake elsewhere (tests start them on free ports)."""
    base = load_organization_file(DEMO_FILE).model_dump()
    overlay = yaml.safe_load((VENDOR_DEMOS / f"{vendor_type}.yaml").read_text(encoding="utf-8"))
    if base_url is not None:
        for key in ("api_url", "auth_url"):
            if key in overlay["vendor"]:
                overlay["vendor"][key] = base_url
    return OrganizationConfig.model_validate(base | overlay)


def demo_organizations() -> list[OrganizationConfig]:
    return [load_organization_file(DEMO_FILE)] + [vendor_demo(t) for t in FAKE_PORTS]
